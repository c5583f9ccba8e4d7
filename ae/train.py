"""Train any network of the zoo (a plain, variational or convolutional autoencoder) on MNIST held in memory:
`python -m ae.train --help`."""

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm import tqdm

from ae import noise
from ae.checkpoint import DEFAULT_PATH, NETWORK_CHECKPOINTS, Checkpoint, save_checkpoint
from ae.conv import ConvConfig
from ae.data import MNISTNotFound, Split, load_mnist
from ae.latent import code_stats
from ae.model import CODE_ACTIVATIONS, AEConfig
from ae.vae import VAEConfig, vae_loss

SCHEDULES = ("constant", "cosine", "onecycle")
DEVICES = ("auto", "cpu", "cuda")
# The network each kind trains by default (the plain autoencoder's code is linear); its config's type is its kind.
MODELS = {"autoencoder": AEConfig(code_activation="none"), "vae": VAEConfig(), "conv": ConvConfig()}


@dataclass(frozen=True)
class TrainConfig:
    model: AEConfig | VAEConfig | ConvConfig = MODELS["autoencoder"]  # the network, and so the kind, to train
    epochs: int = 60  # passes over the training set
    batch_size: int = 256  # digits per Adam step
    lr: float = 3e-3  # Adam learning rate (the peak one for "onecycle")
    schedule: str = "onecycle"  # "constant" (the tutorial), "cosine" decay, or "onecycle" warm-up + decay
    seed: int = 0  # seeds the weights and the shuffling: same seed, same result (on the CPU)
    limit: int | None = None  # train on the first N digits only, for smoke runs

    def __post_init__(self):
        if type(self.model) not in {type(m) for m in MODELS.values()}:
            raise ValueError(f"model must be the config of one of {list(MODELS)}, got a {type(self.model).__name__}")

    @property
    def kind(self) -> str:
        """The artifact kind the run makes: "autoencoder", "vae" or "conv"."""
        return next(kind for kind, m in MODELS.items() if type(m) is type(self.model))

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """The inverse of to_dict; a partial dict overrides the defaults (no "kind": a plain autoencoder)."""
        d = dict(d)
        kind = d.pop("kind", "autoencoder")
        if kind not in MODELS:
            raise ValueError(f"kind must be one of {list(MODELS)}, got {kind!r}")
        model = MODELS[kind]
        return cls(model=type(model)(**{**model.to_dict(), **d.pop("model", {})}), **d)


# The classic tutorial's recipe (a ReLU on the code, 10 epochs at a constant 1e-3), for comparison.
TUTORIAL = TrainConfig(model=AEConfig(code_activation="relu"), epochs=10, batch_size=128, lr=1e-3,
                       schedule="constant")
# What the app trains when weights/ has no usable checkpoint: tutorial quality in a few seconds.
FIRST_LAUNCH = TrainConfig(epochs=5, batch_size=128, lr=3e-3, schedule="onecycle")

# A loss takes the model and a batch (B, 784) of clean digits in [0, 1]. Another objective is another
# function of the same shape: a denoising one corrupts x before the model sees it and compares with x.
Loss = Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]


def reconstruction_loss(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The tutorial's objective: MSE between the reconstruction and the input."""
    return F.mse_loss(model(x).reshape(x.shape), x)


def denoising_loss(noise: Callable[[torch.Tensor], torch.Tensor]) -> Loss:
    """A denoising objective: the model sees noise(x) and is scored against the clean x."""
    def loss(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(model(noise(x)).reshape(x.shape), x)
    return loss


def gaussian_denoising_loss(sigma: float) -> Loss:
    """Denoising with Gaussian noise of standard deviation sigma (clipped to [0, 1]); sigma 0 is the plain loss.
    The noise is drawn from torch's global generator, which fit seeds: same seed, same noise."""
    if sigma == 0:
        return reconstruction_loss
    return denoising_loss(lambda x: noise.gaussian(x, sigma))


# Each kind's own objective: MSE for the autoencoders; for a VAE, binary cross-entropy summed over the pixels
# plus beta times the KL term (the standard MNIST VAE's; beta is in its config), per digit.
LOSSES: dict[str, Loss] = {"autoencoder": reconstruction_loss, "vae": vae_loss, "conv": reconstruction_loss}


def resolve_device(name: str) -> torch.device:
    """"auto" is the GPU when there is one, else the CPU; "cuda" without a GPU is an error that says so."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: PyTorch sees no CUDA GPU here (use --device cpu or auto)")
    return torch.device(name)


def make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, steps: int):
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.15)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    if cfg.schedule == "constant":
        return None
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {cfg.schedule!r}")


# Called after every step with the model and the step's loss (a 0-d tensor, still on the device: reading it
# is the callback's choice, since a GPU sync per step costs); returning True ends the training there.
StepCallback = Callable[[torch.nn.Module, torch.Tensor], bool]


def train_one_epoch(model, opt, sched, x: torch.Tensor, batch_size: int, gen: torch.Generator,
                    loss_fn: Loss = reconstruction_loss, bar=None, on_step: StepCallback | None = None) -> float:
    """One shuffled pass over x (N, 784) floats in [0, 1]; returns the mean batch loss (of the steps taken, if
    on_step stopped it early)."""
    model.train()
    order = torch.randperm(len(x), generator=gen).to(x.device)  # drawn on the CPU: same order on any device
    total = torch.zeros((), device=x.device)  # summed on the device: no GPU sync per step
    n = 0
    for i in range(0, len(x), batch_size):
        loss = loss_fn(model, x[order[i : i + batch_size]])  # a (B, 784) batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        total, n = total + loss.detach(), n + 1
        if bar is not None:
            bar.update(1)
        if on_step is not None:
            stop = on_step(model, loss.detach())
            model.train()  # the callback may have evaluated the model
            if stop:
                break
    return total.item() / n


@torch.inference_mode()
def evaluate(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 4096) -> float:
    """Mean squared error over every pixel of (N, 28, 28) uint8 images (on the model's device); a VAE's
    reconstruction is from its mean code, so its figure compares with the plain autoencoders'."""
    model.eval()
    device = next(model.parameters()).device
    se = 0.0
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device).reshape(-1, model.config.input_size).float().div_(255)
        se += F.mse_loss(model(x).reshape(x.shape), x, reduction="sum").item()
    return se / images.numel()


def fit(
    cfg: TrainConfig, train: Split, test: Split, log: Callable[[str], None] = print, progress: bool = True,
    loss_fn: Loss | None = None, device: str = "cpu", on_step: StepCallback | None = None,
) -> Checkpoint:
    """Train a fresh network of cfg's kind with loss_fn (default: the kind's own, LOSSES); returns its checkpoint
    (the model on the CPU) with its code statistics, test MSE and history: the mean training loss and the test
    MSE after each epoch. on_step is called after every step and may end the run early (metrics["stopped"] then
    says so; the model is kept as it is)."""
    dev = resolve_device(device)
    made = NETWORK_CHECKPOINTS[cfg.kind]
    loss_fn = loss_fn or LOSSES[cfg.kind]
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = made.network_type(cfg.model).to(dev)
    train = train.head(cfg.limit)
    x = train.images.reshape(len(train), -1).to(dev).float().div_(255)  # (N, 784), converted once, resident
    test_images = test.images.to(dev)
    steps_per_epoch = math.ceil(len(x) / cfg.batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)  # one kernel per step, not ~10 ops per tensor
    sched = make_scheduler(opt, cfg, cfg.epochs * steps_per_epoch)
    history = {"train_loss": [], "test_mse": []}
    stopped = False

    def step(model: torch.nn.Module, loss: torch.Tensor) -> bool:
        nonlocal stopped
        stopped = bool(on_step(model, loss))
        return stopped

    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        desc = f"epoch {epoch + 1}/{cfg.epochs}"
        with tqdm(total=steps_per_epoch, desc=desc, disable=not progress, leave=False) as bar:
            loss = train_one_epoch(model, opt, sched, x, cfg.batch_size, gen, loss_fn, bar,
                                   step if on_step is not None else None)
        if stopped:  # a part of an epoch is not an epoch: the history keeps whole ones only
            log(f"Stopped in epoch {epoch + 1}/{cfg.epochs}")
            break
        history["train_loss"].append(loss)
        history["test_mse"].append(evaluate(model, test_images))
        log(f"Epoch [{epoch + 1}/{cfg.epochs}], Loss: {loss:.6f}, test MSE: {history['test_mse'][-1]:.6f}")
    seconds = time.perf_counter() - start
    test_mse = evaluate(model, test_images) if stopped else history["test_mse"][-1]
    log(f"Test MSE: {test_mse:.6f} ({seconds:.1f} s training on {len(x)} digits, {dev.type})")
    model = model.cpu().eval()
    metrics = {"test_mse": test_mse, "final_train_loss": loss, "train_seconds": round(seconds, 2),
               "train_digits": len(x), "device": dev.type}
    if stopped:
        metrics["stopped"] = True
    return made(model, code_stats(model, train.images, train.labels), cfg.to_dict(), metrics, history=history)


def train_and_save(cfg: TrainConfig, data_dir=None, out: Path = DEFAULT_PATH, noise_sigma: float = 0.0,
                   **fit_kwargs) -> Checkpoint:
    """Load MNIST, fit, and write the checkpoint atomically to out (the app's first launch calls this).
    noise_sigma > 0 trains a denoising model on Gaussian noise of that standard deviation."""
    train, test = load_mnist(data_dir, train=True), load_mnist(data_dir, train=False)
    if noise_sigma:
        fit_kwargs["loss_fn"] = gaussian_denoising_loss(noise_sigma)
    ckpt = fit(cfg, train, test, **fit_kwargs)
    if noise_sigma:
        ckpt.train["noise"] = noise_sigma
    ckpt.path = save_checkpoint(out, ckpt)
    return ckpt


def _positive(kind):
    """An argparse type: a number of `kind` above zero, else a usage error that says so."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value
    return parse


def _at_least_zero(text: str) -> float:
    """An argparse type: a finite float of at least 0 (NaN and infinity refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a float") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0, got {text}")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    # The training flags default to None, meaning "not given": the recipe (a --preset, else TrainConfig's
    # defaults, shown in each help string) fills them in, so a flag typed explicitly always wins.
    d = TrainConfig()
    p = argparse.ArgumentParser(description="Train an MNIST autoencoder and write a checkpoint.")
    p.add_argument("--kind", choices=tuple(MODELS), default="autoencoder",
                   help="the network: a plain, variational (vae) or convolutional (conv) autoencoder "
                        "(default autoencoder)")
    p.add_argument("--code-size", type=_positive(int), help=f"numbers in the code (default {d.model.code_size})")
    p.add_argument("--hidden", type=_positive(int),
                   help=f"width of the hidden layers, autoencoder and vae (default {d.model.hidden})")
    p.add_argument("--code-activation", choices=CODE_ACTIVATIONS,
                   help=f"activation on the code, autoencoder only (default {d.model.code_activation})")
    p.add_argument("--beta", type=_at_least_zero,
                   help=f"weight of the KL term in the loss, vae only (default {MODELS['vae'].beta:g})")
    p.add_argument("--channels", type=_positive(int),
                   help=f"channels of the first convolution, conv only (default {MODELS['conv'].channels})")
    p.add_argument("--epochs", type=_positive(int), help=f"passes over the training set (default {d.epochs})")
    p.add_argument("--batch-size", type=_positive(int), help=f"digits per step (default {d.batch_size})")
    p.add_argument("--lr", type=_positive(float), help=f"(peak) learning rate (default {d.lr})")
    p.add_argument("--schedule", choices=SCHEDULES, help=f"learning-rate schedule (default {d.schedule})")
    p.add_argument("--seed", type=int, help=f"random seed (default {d.seed})")
    p.add_argument("--limit", type=_positive(int), help="train on the first N digits only (default: all)")
    p.add_argument("--noise", type=float, default=0.0,
                   help="denoising: Gaussian noise of this standard deviation on each batch (default 0: plain)")
    p.add_argument("--preset", choices=("tutorial", "first-launch"),
                   help="start from a named recipe; flags given explicitly still override it")
    p.add_argument("--data-dir", default=None, help="MNIST root directory (default: $AE_DATA_DIR, else ./data)")
    p.add_argument("--out", type=Path, default=DEFAULT_PATH, help=f"checkpoint to write (default {DEFAULT_PATH})")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where to train: the GPU when there is one (auto), or cpu/cuda (default auto)")
    p.add_argument("--threads", type=_positive(int), default=None,
                   help="CPU threads for torch; results on the CPU can depend on it (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown)")
    args = p.parse_args(argv)
    fitting = {f.name for f in fields(MODELS[args.kind])}
    for name in ("hidden", "code_activation", "beta", "channels"):
        if getattr(args, name) is not None and name not in fitting:
            p.error(f"--{name.replace('_', '-')} does not apply to --kind {args.kind}")
    if args.preset and args.kind != "autoencoder":
        p.error(f"--preset names a plain autoencoder's recipe, not one for --kind {args.kind}")
    if args.noise and args.kind == "vae":
        p.error("--noise: a vae trains on its own loss only (denoising is for autoencoder and conv)")
    return args


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig the parsed flags ask for: the preset (or the defaults), overridden by given flags."""
    base = {"tutorial": TUTORIAL, "first-launch": FIRST_LAUNCH}.get(args.preset, TrainConfig())
    base = replace(base, model=MODELS[args.kind]) if args.kind != "autoencoder" else base

    def given(names):
        return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}

    model = replace(base.model, **given(f.name for f in fields(base.model)))
    return replace(base, model=model, **given(f.name for f in fields(TrainConfig) if f.name != "model"))


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = config_from_args(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device).type
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None
    if not 0 <= args.noise <= 1:  # also refuses NaN
        raise SystemExit(f"error: --noise must be between 0 and 1, got {args.noise}")
    print(f"training a {cfg.kind}: {cfg} on {device}" + (f", noise {args.noise}" if args.noise else ""))
    try:
        ckpt = train_and_save(cfg, args.data_dir, args.out, noise_sigma=args.noise,
                              progress=not args.no_progress, device=device)
    except MNISTNotFound as e:  # a message for the person at the terminal, not a traceback
        raise SystemExit(f"error: {e}") from None
    print(f"wrote {ckpt.path}")


if __name__ == "__main__":
    main()

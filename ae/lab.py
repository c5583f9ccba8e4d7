"""The "train your own" lab: its settings and their checks, presets, the time estimate, the command that rebuilds
a run, and `run`, the training function every job backend calls (ae/jobs.py). Plain data in and out: no UI."""

import math
import numbers
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch

from ae.checkpoint import checkpoint_bytes
from ae.conv import ConvConfig
from ae.data import Split
from ae.model import AEConfig
from ae.preprocess import InputError
from ae.train import TrainConfig, evaluate, fit, gaussian_denoising_loss
from ae.vae import VAEConfig

KINDS = ("autoencoder", "vae", "conv")  # the model kinds the lab trains (a conv one with ae.conv's 16 channels)
SCHEDULES = ("constant", "onecycle")
CODE_ACTIVATIONS = {"linear": "none", "relu": "relu"}  # the lab's names -> AEConfig's

# Bounds on one run. Work is digits x epochs: 20 passes over all of MNIST, about a minute on one core of the
# 2-core machine (see estimate_seconds). A run still going at the wall-clock cap stops there and keeps its model.
MAX_WORK = 1_200_000
WALL_CLOCK_CAP = 120.0  # seconds

EVAL_DIGITS = 1000  # the fixed test subset (the first test digits) that the curve's test MSE is measured on
SHOWN_DIGITS = 8  # reconstructions of 8 fixed test digits: the first 0, 1, ..., 7 of the test set
CODE_DIGITS = 1000  # codes of up to this many test digits, for a 2-number code's scatter
EMIT_EVERY = 0.2  # seconds between progress messages (and one after the first step)


@dataclass(frozen=True)
class LabSettings:
    kind: str = "autoencoder"  # the model kind; one of KINDS
    code_size: int = 16  # 2-64: numbers in the code; 2 can be drawn as a plane, small ones lose detail
    hidden: int = 256  # 16-1024: width of the hidden layer on each side of the code (not for conv)
    digits: int = 10_000  # 100-60,000: training digits (the first N of MNIST's training set)
    epochs: int = 5  # 1-500: passes over the training digits (digits x epochs at most MAX_WORK)
    lr: float = 3e-3  # 1e-6-10, on a log scale: Adam's (peak) learning rate; too high sticks, too low crawls
    schedule: str = "onecycle"  # "constant" (the tutorial) or "onecycle" (warm up, then decay)
    noise: float = 0.0  # 0-1: Gaussian noise (std) added to each training batch; 0 = plain (not for vae)
    code_activation: str = "linear"  # "linear" code, or "relu" as the tutorial has it (autoencoder only)
    seed: int = 0  # 0-2^31-1: seeds the weights, the shuffling and the noise: same seed, same weights on the CPU
    batch_size: int = 128  # 16-1024: digits per Adam step
    beta: float = 1.0  # 0-10: weight of a VAE's KL term; 1 is the ELBO, more a smoother, blurrier code (vae only)

    def to_dict(self) -> dict:
        return asdict(self)

    def train_config(self) -> TrainConfig:
        """The ae.train configuration of this run."""
        if self.kind == "vae":
            model = VAEConfig(hidden=self.hidden, code_size=self.code_size, beta=self.beta)
        elif self.kind == "conv":
            model = ConvConfig(code_size=self.code_size)
        else:
            model = AEConfig(hidden=self.hidden, code_size=self.code_size,
                             code_activation=CODE_ACTIVATIONS[self.code_activation])
        return TrainConfig(model=model, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                           schedule=self.schedule, seed=self.seed, limit=self.digits)


# name -> (low, high) for numbers, or the allowed values for choices
RANGES: dict[str, tuple] = {
    "kind": KINDS,
    "code_size": (2, 64),
    "hidden": (16, 1024),
    "digits": (100, 60_000),
    "epochs": (1, 500),
    "lr": (1e-6, 10.0),
    "schedule": SCHEDULES,
    "noise": (0.0, 1.0),
    "code_activation": tuple(CODE_ACTIVATIONS),
    "seed": (0, 2**31 - 1),
    "batch_size": (16, 1024),
    "beta": (0.0, 10.0),
}
# The settings that only some kinds read: for another kind each must stay at its default, so what a run
# records is what trained it.
FOR_KINDS = {"hidden": ("autoencoder", "vae"), "code_activation": ("autoencoder",), "noise": ("autoencoder", "conv"),
             "beta": ("vae",)}
_TYPES = {f.name: f.type for f in fields(LabSettings)}


def _checked(name: str, value: object):
    kind, allowed = _TYPES[name], RANGES[name]
    if kind is str:
        if not isinstance(value, str) or value not in allowed:
            raise InputError(f"{name} must be one of {', '.join(allowed)}; got {_shown(value)}.")
        return value
    # bool is an int to Python, never a number here; strings are refused, not parsed
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy's numbers are Real, its bool not
        raise InputError(f"{name} must be a number; got {_shown(value)}.")
    if isinstance(value, numbers.Integral):
        value = int(value)  # exact, however large: compared with the range before any conversion to float
    else:
        value = float(value)
        if not math.isfinite(value):
            raise InputError(f"{name} must be a finite number; got {value}.")
        if kind is int:
            if not value.is_integer():
                raise InputError(f"{name} must be a whole number; got {value}.")
            value = int(value)  # a slider may send 16.0
    low, high = allowed
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}; got {_shown(value)}.")
    return float(value) if kind is float else value


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_settings(raw: Mapping) -> LabSettings:
    """The settings a client sent, checked on the server: every value in range and of its type, no unknown keys,
    the work within MAX_WORK; missing keys take the defaults. Anything else is an InputError with a sentence."""
    if not isinstance(raw, Mapping):
        raise InputError(f"The settings must be an object of names and values; got {type(raw).__name__}.")
    unknown = [str(k)[:40] for k in raw if k not in _TYPES]
    if unknown:
        raise InputError(f"Unknown settings: {', '.join(sorted(unknown))}. Known: {', '.join(_TYPES)}.")
    settings = LabSettings(**{name: _checked(name, value) for name, value in raw.items()})
    for name, kinds in FOR_KINDS.items():
        default = getattr(LabSettings(), name)
        if settings.kind not in kinds and getattr(settings, name) != default:
            raise InputError(f"{name} does not apply to the {settings.kind} kind, only to {' and '.join(kinds)}; "
                             f"leave it at {default}.")
    work = settings.digits * settings.epochs
    if work > MAX_WORK:
        raise InputError(f"{settings.digits:,} digits x {settings.epochs} epochs is {work:,} digit-passes, more "
                         f"than the {MAX_WORK:,} one run may take; use fewer digits or epochs.")
    return settings


# Measured on the 2-core machine (one torch thread, hidden 256, code 16, batch 128, fit on the 1,000 fixture
# digits, other work sharing the cores): seconds per digit per epoch, and the fixed cost of a run (building
# the model, the test subset after every epoch, the code statistics at the end). `python -m benchmarks.lab`
# prints each run's estimate beside its wall time (docs/benchmarks.md: within 30% on real MNIST).
SECONDS_PER_DIGIT_EPOCH = 65e-6
SECONDS_PER_EPOCH = 0.03
SECONDS_FIXED = 0.5
CONV_COST = 5.0  # a conv model's time per digit over the measured point's (the same fixture runs: 4.6-6x)


def estimate_seconds(settings: LabSettings) -> float:
    """About how long the run takes on one core of the 2-core machine; the cost per digit scales with the
    network's multiply-adds (hidden 256 and code 16 being the measured point; a conv one costs CONV_COST times
    that) and with smaller batches."""
    def macs(s):  # multiply-adds of one digit through encoder and decoder (a VAE's encoder has two heads)
        return 2 * (784 * s.hidden + s.hidden * s.code_size) + (s.hidden * s.code_size if s.kind == "vae" else 0)

    scale = CONV_COST if settings.kind == "conv" else macs(settings) / macs(LabSettings())
    per_digit = SECONDS_PER_DIGIT_EPOCH * scale
    per_digit *= max(1.0, (128 / settings.batch_size) ** 0.5)  # small batches pay a per-step overhead
    seconds = SECONDS_FIXED + settings.epochs * (settings.digits * per_digit + SECONDS_PER_EPOCH)
    return min(seconds, WALL_CLOCK_CAP)


@dataclass(frozen=True)
class Preset:
    settings: LabSettings
    meaning: str  # one line for people: what the run shows


PRESETS: dict[str, Preset] = {
    "over-compression": Preset(LabSettings(code_size=2, digits=10_000, epochs=5),
                               "a 2-number code: the digits come back blurred into a few typical shapes"),
    "overfitting": Preset(LabSettings(code_size=64, hidden=512, digits=200, epochs=300, lr=1e-3,
                                      schedule="constant", batch_size=50),
                          "200 digits, 300 epochs: the training loss keeps falling while the test MSE stalls "
                          "well above it"),
    "lr-too-high": Preset(LabSettings(lr=3.0, schedule="constant", digits=5_000, epochs=3),
                          "learning rate 3: the first steps throw the weights so far that the model is stuck"),
    "lr-too-low": Preset(LabSettings(lr=3e-5, schedule="constant", digits=5_000, epochs=3),
                         "learning rate 3e-5: the curve crawls down and the digits are still grey blobs at the end"),
    "tutorial": Preset(LabSettings(code_size=64, code_activation="relu", lr=1e-3, schedule="constant",
                                   digits=60_000, epochs=10, batch_size=128),
                       "the classic tutorial's recipe: ReLU code of 64, 10 epochs at a constant 1e-3"),
    "shipped": Preset(LabSettings(code_size=64, digits=60_000, epochs=5, lr=3e-3, schedule="onecycle"),
                      "how the app's first-launch model is trained: linear code of 64, one-cycle Adam, 5 epochs"),
}


def command_args(settings: LabSettings, out: str = "lab.safetensors", data_dir: str | None = None,
                 threads: int = 1) -> list[str]:
    """The argv of `python -m ae.train` that rebuilds the run's weights bit for bit on the CPU (with the same
    number of torch threads: the sums in a matrix product can round differently with another split)."""
    cfg = settings.train_config()
    if settings.kind == "vae":
        network = ["--hidden", str(cfg.model.hidden), "--beta", repr(cfg.model.beta)]
    elif settings.kind == "conv":
        network = ["--channels", str(cfg.model.channels)]
    else:
        network = ["--hidden", str(cfg.model.hidden), "--code-activation", cfg.model.code_activation]
    noise = ["--noise", repr(settings.noise)] if settings.kind != "vae" else []
    args = ["python", "-m", "ae.train", "--kind", settings.kind,
            "--code-size", str(cfg.model.code_size), *network, "--epochs", str(cfg.epochs),
            "--batch-size", str(cfg.batch_size), "--lr", repr(cfg.lr), "--schedule", cfg.schedule,
            "--seed", str(cfg.seed), "--limit", str(cfg.limit), *noise,
            "--threads", str(threads), "--device", "cpu", "--no-progress", "--out", out]
    return args + (["--data-dir", data_dir] if data_dir else [])


def command_for(settings: LabSettings, out: str = "lab.safetensors", data_dir: str | None = None,
                threads: int = 1) -> str:
    """command_args as one shell line."""
    return shlex.join(command_args(settings, out, data_dir, threads))


Emit = Callable[[dict], None]


def shown_indices(labels: torch.Tensor) -> torch.Tensor:
    """The first test digit of each class 0..7 (fewer classes present: the first digits instead)."""
    picked = [int((labels == c).nonzero()[0]) for c in range(SHOWN_DIGITS) if (labels == c).any()]
    return torch.tensor(picked if len(picked) == SHOWN_DIGITS else list(range(min(SHOWN_DIGITS, len(labels)))))


def _pixels(images: torch.Tensor) -> np.ndarray:
    """(B, 28, 28) floats in [0, 1] -> uint8 numpy."""
    return images.mul(255).round_().clamp_(0, 255).to(torch.uint8).numpy()


class _Reporter:
    """The step callback: every EMIT_EVERY seconds (and after the first step) one progress message."""

    def __init__(self, settings: LabSettings, test: Split, emit: Emit, should_stop: Callable[[], bool],
                 steps: int, deadline: float):
        self.emit, self.should_stop, self.steps, self.deadline = emit, should_stop, steps, deadline
        self.steps_per_epoch = math.ceil(settings.digits / settings.batch_size)
        self.eval_images = test.images[:EVAL_DIGITS]
        shown = shown_indices(test.labels)
        self.shown = test.images[shown].float().div(255)  # (8, 28, 28)
        self.code_images = test.images[:CODE_DIGITS].float().div(255) if settings.code_size == 2 else None
        self.code_labels = test.labels[:CODE_DIGITS].to(torch.uint8).numpy() if settings.code_size == 2 else None
        self.step, self.losses, self.start, self.last = 0, [], time.perf_counter(), None
        self.stop_reason: str | None = None
        self.start_message = {"kind": "start", "steps": steps, "epochs": settings.epochs,
                              "digits": settings.digits, "inputs": _pixels(self.shown),
                              "input_labels": test.labels[shown].to(torch.uint8).numpy(),
                              "estimate_seconds": round(estimate_seconds(settings), 1)}

    @torch.inference_mode()
    def progress(self, model: torch.nn.Module) -> dict:
        msg = {"kind": "progress", "step": self.step, "steps": self.steps,
               "epoch": round(self.step / self.steps_per_epoch, 3),
               "train_loss": float(torch.stack(self.losses).mean()) if self.losses else None,
               "test_mse": evaluate(model, self.eval_images),
               "seconds": round(time.perf_counter() - self.start, 3),
               "reconstructions": _pixels(model(self.shown.reshape(len(self.shown), -1))[:, 0])}
        if self.code_images is not None:
            msg["codes"] = model.encode(self.code_images).numpy().astype(np.float32)
            msg["labels"] = self.code_labels
        self.losses = []
        return msg

    def __call__(self, model: torch.nn.Module, loss: torch.Tensor) -> bool:
        self.step += 1
        self.losses.append(loss)
        now = time.perf_counter()
        if self.last is None or now - self.last >= EMIT_EVERY:
            self.emit(self.progress(model))
            self.last = time.perf_counter()
        if self.should_stop():
            self.stop_reason = "stopped"
        elif now > self.deadline:
            self.stop_reason = f"the {WALL_CLOCK_CAP:g} s limit"
        return self.stop_reason is not None


def run(settings: LabSettings, data: tuple[Split, Split], emit: Emit,
        should_stop: Callable[[], bool] = lambda: False) -> bytes:
    """Train a model by settings on data (train, test), emitting plain-data progress messages ("start", then
    "progress" every EMIT_EVERY seconds, then "end"); stops when should_stop() is true or at the wall-clock cap,
    keeping the model as it is. Returns the checkpoint as safetensors bytes (ae.checkpoint's format)."""
    settings = check_settings(settings.to_dict())  # a backend may get settings from anywhere: check again
    train, test = data
    if settings.digits > len(train):
        raise InputError(f"digits must be at most {len(train):,} here (the training digits available); "
                         f"got {settings.digits:,}.")
    cfg = settings.train_config()
    steps = settings.epochs * math.ceil(settings.digits / settings.batch_size)
    reporter = _Reporter(settings, test, emit, should_stop, steps, time.perf_counter() + WALL_CLOCK_CAP)
    emit(reporter.start_message)
    loss_fn = gaussian_denoising_loss(settings.noise) if settings.noise else None  # None: the kind's own loss
    ckpt = fit(cfg, train, Split(test.images[:EVAL_DIGITS], test.labels[:EVAL_DIGITS]), log=lambda _: None,
               progress=False, loss_fn=loss_fn, device="cpu", on_step=reporter)
    emit(reporter.progress(ckpt.model))  # the model as it ends, whatever the clock
    if settings.noise:
        ckpt.train["noise"] = settings.noise
    ckpt.train["lab"] = settings.to_dict()
    ckpt.metrics.update(test_digits=min(EVAL_DIGITS, len(test)), threads=torch.get_num_threads())
    if reporter.stop_reason:
        ckpt.metrics["stop_reason"] = reporter.stop_reason
    emit({"kind": "end", "stopped": reporter.stop_reason, "steps_done": reporter.step,
          "test_mse": ckpt.metrics["test_mse"], "final_train_loss": ckpt.metrics["final_train_loss"],
          "history": ckpt.history, "seconds": ckpt.metrics["train_seconds"]})
    return checkpoint_bytes(ckpt)


def with_changes(settings: LabSettings, **changes) -> LabSettings:
    """settings with some values changed, checked again."""
    return check_settings(replace(settings, **changes).to_dict())

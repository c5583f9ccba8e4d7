"""How likely are the test digits under each VAE? The negative ELBO beside the importance-sampled estimate.

    python -m benchmarks.likelihood --data-dir DIR --samples 1000

On the 10,000 test digits, in nats per digit (mean): the negative ELBO (beta 1: the reconstruction term from one
seeded draw per digit plus the closed-form KL) and -log p(x) estimated by importance sampling with K draws
(ae.vae.log_likelihood, the IWAE bound: it can only overstate -log p(x), less so as K grows). The decoder's
likelihood is Bernoulli per pixel. Three readings of the test digits: grey levels in [0, 1] taken as the
Bernoulli probabilities (what the models were trained on, as reconstruction_nll reads them), thresholded at 0.5
(static binarisation), and one seeded Bernoulli draw per pixel (dynamic binarisation). The VAEs were trained on
grey levels, never on binarised digits.
"""

import argparse
import time
from pathlib import Path

import torch

from ae.artifacts import load
from ae.checkpoint import WEIGHTS_DIR
from ae.data import load_mnist
from ae.vae import log_likelihood, negative_elbo


def readings(test, seed: int) -> dict[str, torch.Tensor]:
    grey = test.images.reshape(len(test), -1).float() / 255  # (N, 784)
    return {"grey levels": grey, "thresholded at 0.5": (grey > 0.5).float(),
            "Bernoulli draw (seeded)": torch.bernoulli(grey, generator=torch.Generator().manual_seed(seed))}


@torch.inference_mode()
def measure(vae, x: torch.Tensor, samples: int, seed: int, batch: int) -> tuple[float, float]:
    """(mean negative ELBO, mean -log p(x) by importance sampling) over x, in nats per digit."""
    gen = torch.Generator().manual_seed(seed)
    nelbo = torch.cat([negative_elbo(vae, x[i : i + batch], samples=1, generator=gen)
                       for i in range(0, len(x), batch)])
    nll = torch.cat([-log_likelihood(vae, x[i : i + batch], samples=samples, generator=gen, chunk=100)
                     for i in range(0, len(x), batch)])
    return float(nelbo.mean()), float(nll.mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root directory (default: $AE_DATA_DIR, else ./data)")
    p.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR, help=f"(default {WEIGHTS_DIR})")
    p.add_argument("--models", nargs="*", default=["vae-16", "vae-2"], help="VAE files, less .safetensors")
    p.add_argument("--samples", type=int, default=1000, help="importance samples K per digit (default 1000)")
    p.add_argument("--limit", type=int, default=None, help="the first N test digits only (default: all)")
    p.add_argument("--batch", type=int, default=200, help="digits per batch (default 200)")
    p.add_argument("--readings", nargs="*", default=None, help="which readings of the digits (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seeds the draws and the binarisation (default 0)")
    args = p.parse_args()
    test = load_mnist(args.data_dir, train=False).head(args.limit)
    print(f"{len(test)} test digits, K = {args.samples}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n")
    print(f"| model | test digits read as | -ELBO (nats) | -log p(x), IS K={args.samples} (nats) | gap | seconds |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        vae = load(args.weights_dir / f"{name}.safetensors").model
        for reading, x in readings(test, args.seed).items():
            if args.readings and reading not in args.readings:
                continue
            start = time.perf_counter()
            nelbo, nll = measure(vae, x, args.samples, args.seed, args.batch)
            print(f"| {name} | {reading} | {nelbo:.2f} | {nll:.2f} | {nelbo - nll:.2f} | "
                  f"{time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()

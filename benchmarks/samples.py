"""Do codes drawn from a standard normal decode to digits? The VAEs (each beta) against the plain autoencoders.

    python -m benchmarks.samples --data-dir DIR

A judge independent of every autoencoder (ae/judge.py: a small conv net trained on MNIST's pixels, seeded, kept
as weights/judge.safetensors; its test accuracy printed) labels 1,000 pictures per model, decoded from codes drawn
from N(0, I) with a generator seeded 0 (the same judge, draws and code path as the beta table that
`python -m ae.build` stores).
Reported: the share it labels with confidence >= 0.9, each digit's share of the 1,000, and, as a yardstick,
the same figures for 1,000 real test digits.
"""

import argparse
from pathlib import Path

import torch

from ae.artifacts import load
from ae.checkpoint import WEIGHTS_DIR
from ae.data import load_mnist
from ae.judge import CONFIDENT, prior_pictures, sample_quality

MODELS = ["vae-16-beta0.25", "vae-16", "vae-16-beta4", "vae-16-beta10", "vae-2", "ae-16", "ae"]


def row(name: str, quality: dict) -> str:
    shares = " ".join(f"{s:.1%}" for s in quality["class_shares"])
    return (f"| {name} | {quality['confident_share']:.1%} | {quality['min_class_share']:.1%} | "
            f"{quality['max_class_share']:.1%} | {shares} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root directory (default: $AE_DATA_DIR, else ./data)")
    p.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR, help=f"(default {WEIGHTS_DIR})")
    p.add_argument("--samples", type=int, default=1000, help="codes drawn per model (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seeds the draws (default 0)")
    p.add_argument("--judge", default="judge.safetensors", help="the judge's file in weights/ (default %(default)s)")
    p.add_argument("--models", nargs="*", default=MODELS, help=f"files in weights/, less .safetensors ({MODELS})")
    args = p.parse_args()
    test = load_mnist(args.data_dir, train=False)
    stored = load(args.weights_dir / args.judge)
    judge = stored.network
    print(f"judge {args.judge} ({stored.metrics['recipe']}): test accuracy {stored.metrics['test_accuracy']:.4f}\n")
    print(f"| model | labelled with confidence >= {CONFIDENT} | least common digit | most common digit | "
          "share of each digit 0-9 |\n|---|---|---|---|---|")
    real = test.images[torch.randperm(len(test), generator=torch.Generator().manual_seed(args.seed))[: args.samples]]
    print(row(f"{args.samples} real test digits", sample_quality(judge, real.float() / 255)), flush=True)
    for name in args.models:
        ckpt = load(args.weights_dir / f"{name}.safetensors")
        beta = getattr(ckpt.model.config, "beta", None)
        label = f"{name} ({ckpt.kind}, {ckpt.model.config.code_size} numbers" + (
            f", beta {beta:g})" if beta is not None else ")")
        print(row(label, sample_quality(judge, prior_pictures(ckpt.model, args.samples, args.seed))), flush=True)


if __name__ == "__main__":
    main()

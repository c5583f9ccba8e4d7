"""Score a checkpoint against PCA and draw the tutorial's figure: `python -m ae.evaluate --help`."""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ae.checkpoint import DEFAULT_PATH, CheckpointError, load_checkpoint
from ae.data import MNISTNotFound, load_mnist
from ae.model import Autoencoder
from ae.pca import fit_pca, pca_test_mse
from ae.train import evaluate


def pca_mse(train_images: torch.Tensor, test_images: torch.Tensor, k: int = 64) -> float:
    """Test MSE of the best rank-k linear reconstruction fitted on the training images (ae.pca)."""
    return pca_test_mse(fit_pca(train_images), test_images, k)


@torch.inference_mode()
def reconstruction_figure(model: Autoencoder, images: torch.Tensor, scale: int = 4) -> Image.Image:
    """The tutorial's figure: (n, 28, 28) uint8 originals in the top row, reconstructions below."""
    recon = model(images.float().div(255)).squeeze(1).mul(255).round().to(torch.uint8)  # (n, 28, 28)
    rows = [torch.cat(list(images), dim=1), torch.cat(list(recon), dim=1)]  # each (28, n*28)
    grid = torch.cat(rows, dim=0).numpy()  # (56, n*28)
    img = Image.fromarray(np.ascontiguousarray(grid), mode="L")
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Test MSE of a checkpoint, PCA's for comparison, and a figure.")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_PATH,
                   help=f"checkpoint to score (default {DEFAULT_PATH})")
    p.add_argument("--data-dir", default=None, help="MNIST root directory (default: $AE_DATA_DIR, else ./data)")
    p.add_argument("--pca", type=int, default=64, help="components of the PCA baseline (default 64)")
    p.add_argument("--figure", type=Path, default=Path("reconstructions.png"),
                   help="where to write the 10 originals over their reconstructions (default reconstructions.png)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON (default: text)")
    args = p.parse_args(argv)

    try:
        ckpt = load_checkpoint(args.checkpoint)
        train, test = load_mnist(args.data_dir, train=True), load_mnist(args.data_dir, train=False)
    except (CheckpointError, MNISTNotFound) as e:  # a message for the person at the terminal, not a traceback
        raise SystemExit(f"error: {e}") from None
    result = {
        "checkpoint": str(args.checkpoint),
        "test_digits": len(test),
        "test_mse": evaluate(ckpt.model, test.images),
        f"pca{args.pca}_test_mse": pca_mse(train.images, test.images, args.pca),
        "recorded_test_mse": ckpt.metrics.get("test_mse"),
        "figure": str(args.figure),
    }
    reconstruction_figure(ckpt.model, test.images[:10]).save(args.figure)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value:.6f}" if isinstance(value, float) else f"{key:>20}: {value}")


if __name__ == "__main__":
    main()

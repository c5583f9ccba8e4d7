"""Latent-space tools: what the codes of the training set look like, and how to steer them."""

from dataclasses import dataclass

import torch

from ae.model import Autoencoder

NUM_CLASSES = 10


@dataclass(frozen=True)
class CodeStats:
    """Per-dimension statistics of the training set's codes."""

    min: torch.Tensor  # (D,)
    max: torch.Tensor  # (D,)
    mean: torch.Tensor  # (D,)
    std: torch.Tensor  # (D,)
    class_mean: torch.Tensor  # (10, D) mean code of each digit class

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return {f"stats.{name}": getattr(self, name).contiguous() for name in self.__dataclass_fields__}

    @classmethod
    def expected_shapes(cls, code_size: int) -> dict[str, tuple[int, ...]]:
        return {
            f"stats.{name}": (NUM_CLASSES, code_size) if name == "class_mean" else (code_size,)
            for name in cls.__dataclass_fields__
        }

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> "CodeStats":
        return cls(**{name: tensors[f"stats.{name}"] for name in cls.__dataclass_fields__})


@torch.inference_mode()
def encode_all(model: Autoencoder, images: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """(N, 28, 28) uint8 images -> (N, D) float codes."""
    chunks = [model.encode(images[i : i + batch_size].float().div_(255)) for i in range(0, len(images), batch_size)]
    return torch.cat(chunks)


def code_stats(model: Autoencoder, images: torch.Tensor, labels: torch.Tensor) -> CodeStats:
    """Statistics of the codes of (N, 28, 28) uint8 images with their (N,) labels."""
    codes = encode_all(model, images)  # (N, D)
    class_mean = torch.stack([
        codes[labels == c].mean(0) if (labels == c).any() else codes.mean(0) for c in range(NUM_CLASSES)
    ])
    return CodeStats(
        min=codes.min(0).values, max=codes.max(0).values, mean=codes.mean(0), std=codes.std(0), class_mean=class_mean
    )


def plane_extent(codes: torch.Tensor, margin: float = 0.1) -> tuple[list[float], list[float]]:
    """The box of a 2-number code's plane worth showing: where 99% of the codes lie, plus a margin."""
    lo, hi = torch.quantile(codes, 0.005, dim=0), torch.quantile(codes, 0.995, dim=0)
    span = hi - lo
    return (lo - margin * span).tolist(), (hi + margin * span).tolist()


def plane_points(lo: list[float], hi: list[float], n: int) -> torch.Tensor:
    """(n*n, 2) codes on an n x n grid over the box, row by row from the top (the largest second number)."""
    xs = torch.linspace(lo[0], hi[0], n)
    ys = torch.linspace(hi[1], lo[1], n)
    return torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1).reshape(-1, 2)


@torch.inference_mode()
def decode_plane(model: Autoencoder, lo: list[float], hi: list[float], n: int = 15) -> torch.Tensor:
    """The classic latent-space figure: (n*28, n*28) pixels, a decoded digit per grid point of the plane."""
    if model.config.code_size != 2:
        raise ValueError(f"a plane needs a 2-number code, this model has {model.config.code_size}")
    digits = model.decode(plane_points(lo, hi, n)).reshape(n, n, 28, 28)  # (row, column, 28, 28)
    return digits.permute(0, 2, 1, 3).reshape(n * 28, n * 28)

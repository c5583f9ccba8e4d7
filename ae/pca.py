"""PCA of the training digits: the linear dimension reduction an autoencoder is compared with.

With k components, a digit is its mean plus its projection on the k directions along which the training
digits vary most; that is the best any linear code of k numbers can do in squared error. An autoencoder
with a non-linear decoder can do better with the same k.
"""

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class PCA:
    mean: torch.Tensor  # (784,) the mean training digit, pixels in [0, 1]
    components: torch.Tensor  # (K, 784) orthonormal directions, the most variance first
    variance: torch.Tensor  # (K,) the training digits' variance along each direction
    metrics: dict = field(default_factory=dict)  # e.g. {"test_mse": {"2": 0.0557, ...}}, as saved

    kind = "pca"

    def encode(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """(B, 784) pixels in [0, 1] -> (B, k) coordinates along the first k directions."""
        return (x.reshape(len(x), -1) - self.mean) @ self.components[:k].T

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, k) coordinates -> (B, 784) pixels (unclipped: the linear model's own output)."""
        return self.mean + z @ self.components[: z.shape[1]]

    def reconstruct(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """(B, 784) -> (B, 784) the best rank-k linear reconstruction."""
        return self.decode(self.encode(x, k))

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return {"mean": self.mean.contiguous(), "components": self.components.contiguous(),
                "variance": self.variance.contiguous()}


def fit_pca(images: torch.Tensor) -> PCA:
    """PCA of (N, 28, 28) uint8 images, every component kept (computed in float64, stored in float32)."""
    x = images.reshape(len(images), -1).double() / 255  # (N, 784)
    mean = x.mean(0)
    cov = (x - mean).T @ (x - mean) / len(x)  # (784, 784)
    variance, vectors = torch.linalg.eigh(cov)  # ascending
    order = torch.argsort(variance, descending=True)
    return PCA(mean.float(), vectors[:, order].T.contiguous().float(), variance[order].clamp_min(0).float())


@torch.inference_mode()
def pca_test_mse(pca: PCA, images: torch.Tensor, k: int, batch_size: int = 4096) -> float:
    """Mean squared error over every pixel of (N, 28, 28) uint8 images, reconstructed from k components."""
    se = 0.0
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].reshape(-1, pca.mean.numel()).float() / 255
        se += ((pca.reconstruct(x, k) - x) ** 2).sum().item()
    return se / images.numel()

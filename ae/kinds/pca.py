"""PCA as models: one per code size the PCA artifact was scored at ("pca-8" keeps 8 components)."""

from dataclasses import dataclass

import torch

from ae.latent import NUM_CLASSES, CodeStats
from ae.models import register_model
from ae.pca import PCA

SPREAD = 3.0  # PCA stores each direction's variance, not its range: the range shown is this many std each side


@dataclass(frozen=True, eq=False)
class PCAModel:
    """The first k principal directions behind the Model interface: a linear encoder and decoder."""

    name: str
    pca: PCA
    code_size: int
    source: str = ""
    kind = "pca"

    @property
    def stats(self) -> CodeStats:
        std = self.pca.variance[: self.code_size].sqrt()
        zero = torch.zeros(self.code_size)
        return CodeStats(min=-SPREAD * std, max=SPREAD * std, mean=zero, std=std,
                         class_mean=torch.zeros(NUM_CLASSES, self.code_size))

    @property
    def test_mse(self) -> float | None:
        mse = self.pca.metrics.get("test_mse", {}).get(str(self.code_size))
        return float(mse) if isinstance(mse, (int, float)) else None

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.pca.encode(x.float().reshape(len(x), -1), self.code_size)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        # Clipped: a linear decoder may step outside [0, 1], which no picture can show.
        return self.pca.decode(z.float()).clamp(0, 1).reshape(len(z), 28, 28)

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def describe(self) -> str:
        line = f"PCA, the first {self.code_size} principal directions of the training digits (linear code)"
        return line + (f", test MSE {self.test_mse:.5f}" if self.test_mse is not None else "")

    def decoder_layers(self) -> list[tuple[str, torch.Tensor, torch.Tensor, str]]:
        return [("components", self.pca.components[: self.code_size].T.contiguous(), self.pca.mean, "none")]


@register_model(PCA.kind)
def pca_models(file: str, pca: PCA, entry: dict) -> list[PCAModel]:
    """One model per code size the artifact was scored at (its "sizes"), so each has a stored test MSE."""
    sizes = sorted(int(k) for k in pca.metrics.get("test_mse", {}) if str(k).isdigit())
    return [PCAModel(f"pca-{k}", pca, k, file) for k in sizes if 0 < k <= len(pca.variance)]

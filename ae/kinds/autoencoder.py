"""Autoencoder checkpoints as models: the plain ones (named by code size, "ae-8") and the denoising one."""

from dataclasses import dataclass
from pathlib import Path

import torch

from ae.checkpoint import Checkpoint
from ae.export import decoder_layers
from ae.latent import CodeStats
from ae.models import register_model


@dataclass(frozen=True, eq=False)
class AutoencoderModel:
    """An autoencoder checkpoint behind the Model interface."""

    name: str
    checkpoint: Checkpoint
    source: str = ""
    kind = "autoencoder"

    @property
    def network(self):
        return self.checkpoint.model

    @property
    def code_size(self) -> int:
        return self.checkpoint.model.config.code_size

    @property
    def stats(self) -> CodeStats:
        return self.checkpoint.stats

    @property
    def test_mse(self) -> float | None:
        mse = self.checkpoint.metrics.get("test_mse")
        return float(mse) if isinstance(mse, (int, float)) else None

    @torch.inference_mode()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.network.encode(x.float().reshape(len(x), -1))

    @torch.inference_mode()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.network.decode(z.float())[:, 0]

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def describe(self) -> str:
        c = self.network.config
        code = "linear" if c.code_activation == "none" else c.code_activation
        trained = " trained to remove noise" if self.checkpoint.train.get("objective") == "denoise" else ""
        line = f"autoencoder{trained} 784 -> {c.hidden} -> {c.code_size} ({code} code)"
        return line + (f", test MSE {self.test_mse:.5f}" if self.test_mse is not None else "")

    def decoder_layers(self) -> list[tuple[str, torch.Tensor, torch.Tensor, str]]:
        state = self.network.state_dict()
        return [(layer["weight"].removesuffix(".weight"), state[layer["weight"]], state[layer["bias"]],
                 layer["activation"])
                for layer in decoder_layers(self.network)]


@register_model(Checkpoint.kind)
def autoencoder_models(file: str, ckpt: Checkpoint, entry: dict) -> list[AutoencoderModel]:
    """A plain autoencoder is named by its code size ("ae-8"); one with another objective by its file ("ae-denoise")."""
    objective = entry.get("objective") or ckpt.train.get("objective") or "reconstruct"
    stem = Path(file).stem if file else "autoencoder"
    name = f"ae-{ckpt.model.config.code_size}" if objective == "reconstruct" else stem
    return [AutoencoderModel(name, ckpt, file)]

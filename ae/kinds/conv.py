"""Convolutional autoencoder checkpoints as models ("conv-64"). The page cannot run their decoder (it runs dense
layers only): decoder_layers is empty, so the server decodes their codes (ae/ui/serve.py's decoder_url)."""

from dataclasses import dataclass
from pathlib import Path

import torch

from ae.checkpoint import ConvCheckpoint
from ae.kinds.autoencoder import AutoencoderModel
from ae.models import register_model


@dataclass(frozen=True, eq=False)
class ConvModel(AutoencoderModel):
    """A convolutional autoencoder checkpoint behind the Model interface."""

    kind = "conv"

    def describe(self) -> str:
        c = self.network.config
        side, grid = c.side, c.side // 4
        trained = " trained to remove noise" if self.checkpoint.train.get("objective") == "denoise" else ""
        line = (f"convolutional autoencoder{trained} {side}x{side} -> {c.channels}x{side // 2}x{side // 2} -> "
                f"{2 * c.channels}x{grid}x{grid} -> {c.code_size} (linear code)")
        return line + (f", test MSE {self.test_mse:.5f}" if self.test_mse is not None else "")

    def decoder_layers(self) -> list[tuple[str, torch.Tensor, torch.Tensor, str]]:
        """None: transposed convolutions are not dense layers, so the page leaves the decoding to the server."""
        return []


@register_model(ConvCheckpoint.kind)
def conv_models(file: str, ckpt: ConvCheckpoint, entry: dict) -> list[ConvModel]:
    """A plain one is named by its code size ("conv-64"); one with another objective by its file."""
    objective = entry.get("objective") or ckpt.train.get("objective") or "reconstruct"
    stem = Path(file).stem if file else "conv"
    return [ConvModel(f"conv-{ckpt.model.config.code_size}" if objective == "reconstruct" else stem, ckpt, file)]

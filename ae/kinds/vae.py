"""Variational autoencoder checkpoints as models ("vae-16"): the mean code is the code; codes can also be drawn
from the prior, and a digit scored by its -ELBO."""

from dataclasses import dataclass
from pathlib import Path

import torch

from ae.checkpoint import VAECheckpoint
from ae.kinds.autoencoder import AutoencoderModel
from ae.models import register_model
from ae.vae import negative_elbo


@dataclass(frozen=True, eq=False)
class VAEModel(AutoencoderModel):
    """A VAE checkpoint behind the Model interface: encode gives the mean code, decode and reconstruct are the
    plain autoencoder's, and its decoder is dense layers the page runs (decoder_layers, inherited)."""

    kind = "vae"

    @property
    def beta(self) -> float:
        return self.network.config.beta

    @torch.inference_mode()
    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, D) codes drawn from N(0, I), the prior the VAE was trained towards: decoded, new digits."""
        return self.network.sample_codes(n, generator)

    @torch.inference_mode()
    def spread(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) pixels in [0, 1] -> (B, D) standard deviation of each number of the code under q(z|x): how far
        around the mean code (what encode gives) the encoder says the digit's code may lie."""
        return (0.5 * self.network.posterior(x.float())[1]).exp()

    @torch.inference_mode()
    def negative_elbo(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) or (B, 784) pixels in [0, 1] -> (B,) -ELBO per digit in nats (reconstruction + KL at the
        mean code): the higher, the less like the training digits."""
        return negative_elbo(self.network, x.float())

    def describe(self) -> str:
        c = self.network.config
        line = f"variational autoencoder 784 -> {c.hidden} -> {c.code_size} (Gaussian code, beta {c.beta:g})"
        return line + (f", test MSE {self.test_mse:.5f}" if self.test_mse is not None else "")


@register_model(VAECheckpoint.kind)
def vae_models(file: str, ckpt: VAECheckpoint, entry: dict) -> list[VAEModel]:
    """A VAE of beta 1 is named by its code size ("vae-16"); one of another beta by its file ("vae-16-beta4")."""
    config = ckpt.model.config
    name = f"vae-{config.code_size}" if config.beta == 1 else (Path(file).stem if file else "vae")
    return [VAEModel(name, ckpt, file)]

"""The convolutional autoencoder: strided convolutions down to a 7x7 grid, a linear code, and back. No file or UI
code. Its decoder is not dense layers only, so the page cannot run it: the server decodes its codes."""

from dataclasses import dataclass

import torch
from torch import nn

from ae.model import NetworkConfig


@dataclass(frozen=True)
class ConvConfig(NetworkConfig):
    input_size: int = 784  # pixels of one flattened 28x28 MNIST digit (a square whose side 4 divides)
    channels: int = 16  # channels of the first convolution; the second has twice as many
    code_size: int = 64  # dimensions of the code (the bottleneck), a linear one

    SIZES = ("input_size", "channels", "code_size")

    def __post_init__(self):
        self.check_sizes()
        if self.side % 4:
            raise ValueError(f"input_size must be a square image's pixel count, its side a multiple of 4, "
                             f"got {self.input_size}")


class ConvAutoencoder(nn.Module):
    """Encoder 1x28x28 -> 16x14x14 -> 32x7x7 -> D (stride-2 convolutions, then a Linear); the decoder mirrors it
    with transposed convolutions and ends in a sigmoid."""

    def __init__(self, config: ConvConfig = ConvConfig()):
        super().__init__()
        self.config = config
        c, grid = config.channels, config.side // 4
        # kernel 4, stride 2, padding 1 halves the side exactly, and its transpose doubles it exactly
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, stride=2, padding=1), nn.ReLU(),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.ReLU(),  # (B, 2c, 7, 7)
            nn.Flatten(), nn.Linear(2 * c * grid * grid, config.code_size),  # (B, D)
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.code_size, 2 * c * grid * grid), nn.ReLU(), nn.Unflatten(1, (2 * c, grid, grid)),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.ReLU(),  # (B, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1), nn.Sigmoid(),  # (B, 1, 28, 28)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28), (B, 28, 28) or (B, 784) pixels in [0, 1] -> (B, code_size) codes."""
        side = self.config.side
        return self.encoder(x.reshape(x.shape[0], 1, side, side))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, code_size) codes -> (B, 1, 28, 28) pixels in [0, 1]."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

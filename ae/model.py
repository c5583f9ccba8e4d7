"""The network: the classic MNIST tutorial autoencoder, and nothing else."""

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

CODE_ACTIVATIONS = ("relu", "none")


class NetworkConfig:
    """What every network's config shares: its sizes (SIZES) are positive whole numbers, its input a square
    picture; also guards configs read back from checkpoint files."""

    SIZES = ("input_size", "hidden", "code_size")

    def check_sizes(self) -> None:
        for name in self.SIZES:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if math.isqrt(self.input_size) ** 2 != self.input_size:
            raise ValueError(f"input_size must be a square image's pixel count, got {self.input_size}")

    @property
    def side(self) -> int:
        """Edge length of the square image (28 for MNIST)."""
        return math.isqrt(self.input_size)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AEConfig(NetworkConfig):
    input_size: int = 784  # pixels of one flattened 28x28 MNIST digit
    hidden: int = 256  # width of the one hidden layer on each side
    code_size: int = 64  # dimensions of the code (the bottleneck)
    code_activation: str = "relu"  # "relu" as in the tutorial, or "none" for a linear code

    def __post_init__(self):
        self.check_sizes()
        if self.code_activation not in CODE_ACTIVATIONS:
            raise ValueError(f"code_activation must be one of {CODE_ACTIVATIONS}, got {self.code_activation!r}")


class Autoencoder(nn.Module):
    """Encoder 784->256->64, decoder 64->256->784 with a sigmoid output.

    Parameter names (`encoder.0.*`, `encoder.2.*`, `decoder.0.*`, `decoder.2.*`) and shapes are the
    tutorial's, so state_dicts move both ways between the two classes.
    """

    def __init__(self, config: AEConfig = AEConfig()):
        super().__init__()
        self.config = config
        # Identity keeps the Sequential indices (and so the parameter names) of the ReLU version.
        code_act = nn.ReLU() if config.code_activation == "relu" else nn.Identity()
        self.encoder = nn.Sequential(
            nn.Linear(config.input_size, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.code_size), code_act,
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.code_size, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.input_size), nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) or (B, 784) pixels in [0, 1] -> (B, code_size) codes."""
        return self.encoder(x.reshape(x.shape[0], -1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, code_size) codes -> (B, 1, 28, 28) pixels in [0, 1]."""
        side = self.config.side
        return self.decoder(z).reshape(z.shape[0], 1, side, side)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

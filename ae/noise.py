"""Ways to damage a digit, for the denoising autoencoder and the denoising view: pure functions on
(B, 784) or (28, 28) tensors of pixels in [0, 1], with an optional torch.Generator for repeatable noise."""

import torch

KINDS = ("gaussian", "salt_pepper", "occlusion")


def gaussian(x: torch.Tensor, sigma: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """Add Gaussian noise of standard deviation sigma, clipped to [0, 1]."""
    return (x + sigma * torch.randn(x.shape, generator=gen)).clamp(0, 1)


def salt_pepper(x: torch.Tensor, fraction: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """Set about `fraction` of the pixels to black or white, at random."""
    hit = torch.rand(x.shape, generator=gen) < fraction
    salt = (torch.rand(x.shape, generator=gen) < 0.5).to(x.dtype)
    return torch.where(hit, salt, x)


def occlusion(x: torch.Tensor, size: int, gen: torch.Generator | None = None) -> torch.Tensor:
    """Blot out a size x size block of each 28x28 digit (set it to the black background), at random."""
    images = x.reshape(-1, 28, 28).clone()
    size = int(min(max(size, 0), 28))
    if size == 0:
        return x.clone()
    corners = torch.randint(0, 28 - size + 1, (len(images), 2), generator=gen)
    for image, (top, left) in zip(images, corners.tolist(), strict=True):
        image[top : top + size, left : left + size] = 0
    return images.reshape(x.shape)


def corrupt(x: torch.Tensor, kind: str, strength: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """One kind of damage at a strength: sigma for gaussian, fraction for salt_pepper, block side for occlusion."""
    if kind == "gaussian":
        return gaussian(x, strength, gen)
    if kind == "salt_pepper":
        return salt_pepper(x, strength, gen)
    if kind == "occlusion":
        return occlusion(x, round(strength), gen)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def training_noise(x: torch.Tensor) -> torch.Tensor:
    """What the denoising autoencoder learns to undo: each batch gets one kind of damage at a random strength
    (Gaussian sigma up to 0.5, salt-and-pepper up to 30% of the pixels, a block up to 12 pixels wide)."""
    kind = KINDS[int(torch.randint(0, 3, ()))]
    strength = {"gaussian": 0.5, "salt_pepper": 0.3, "occlusion": 12}[kind] * float(torch.rand(()))
    return corrupt(x, kind, strength)


def median_filter(x: torch.Tensor, size: int = 3) -> torch.Tensor:
    """The classic denoiser to compare with: each pixel of a (28, 28) image becomes the median of its
    size x size neighbourhood (edges padded by repetition)."""
    pad = size // 2
    padded = torch.nn.functional.pad(x.reshape(1, 1, 28, 28), (pad, pad, pad, pad), mode="replicate")[0, 0]
    windows = padded.unfold(0, size, 1).unfold(1, size, 1)  # (28, 28, size, size)
    return windows.reshape(28, 28, -1).median(dim=-1).values

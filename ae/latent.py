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
def decode_plane(model, lo: list[float], hi: list[float], n: int = 15) -> torch.Tensor:
    """The classic latent-space figure: (n*28, n*28) pixels, a decoded digit per grid point of the plane, by a
    2-number model (ae.models.Model)."""
    if model.code_size != 2:
        raise ValueError(f"a plane needs a 2-number code, this model has {model.code_size}")
    digits = model.decode(plane_points(lo, hi, n)).reshape(n, n, 28, 28)  # (row, column, 28, 28)
    return digits.permute(0, 2, 1, 3).reshape(n * 28, n * 28)


@dataclass(frozen=True)
class ClassGaussians:
    """A Gaussian (mean and full covariance) fitted to the codes of each digit class, and one to all codes:
    a way to draw new codes that land where a class's codes do."""

    mean: torch.Tensor  # (11, D): rows 0-9 the digit classes, row 10 all digits
    chol: torch.Tensor  # (11, D, D) lower Cholesky factors of the covariances
    model: str = ""  # the file name of the model whose codes these are
    kind = "gaussians"
    ALL = NUM_CLASSES  # the row for all digits

    def sample(self, which: int, count: int, seed: int, temperature: float = 1.0) -> torch.Tensor:
        """(count, D) codes drawn from row `which`, their spread scaled by temperature; same seed, same codes."""
        gen = torch.Generator().manual_seed(seed)
        eps = torch.randn(count, self.mean.shape[1], generator=gen)
        return self.mean[which] + temperature * eps @ self.chol[which].T


def fit_gaussians(codes: torch.Tensor, labels: torch.Tensor, model: str = "") -> ClassGaussians:
    """Fit a Gaussian to (N, D) codes of each class in (N,) labels, and one to all of them."""
    groups = [codes[labels == c] for c in range(NUM_CLASSES)] + [codes]
    means, chols = [], []
    for group in groups:
        g = group.double()
        cov = torch.cov(g.T) + 1e-6 * torch.eye(g.shape[1], dtype=torch.float64)  # a little ridge: always PD
        means.append(g.mean(0))
        chols.append(torch.linalg.cholesky(cov))
    return ClassGaussians(torch.stack(means).float(), torch.stack(chols).float(), model)


def interpolate(a: torch.Tensor, b: torch.Tensor, frames: int) -> torch.Tensor:
    """(frames, D) codes evenly spaced on the straight line from code a to code b, both ends included."""
    t = torch.linspace(0, 1, frames)[:, None]
    return (1 - t) * a + t * b


MAX_SWEPT = 64  # dimensions swept at most (the widest first): 64 x 7 decodes bound one request's work


def sweep_offsets(steps: int = 7, span: float = 2.0) -> torch.Tensor:
    """(steps,) multiples of a standard deviation from -span to +span; the middle one (steps odd) exactly 0."""
    if steps < 3 or steps % 2 == 0:
        raise ValueError(f"steps must be odd and at least 3, got {steps}")
    half = steps // 2
    return span * (torch.arange(steps, dtype=torch.float32) - half) / half


@torch.inference_mode()
def sweep(model, code: torch.Tensor, std: torch.Tensor, steps: int = 7, span: float = 2.0,
          dims: list[int] | None = None, batch_size: int = 512) -> torch.Tensor:
    """(len(dims), steps, 28, 28): the decodes of a (D,) code with one dimension at a time moved from -span to
    +span of its (D,) std, the others held; row i sweeps dims[i] (default every dimension), its middle decode
    is the code's own. Decoded in batches of batch_size codes."""
    code, std = code.float().reshape(-1), std.float().reshape(-1)
    dims = list(range(len(code))) if dims is None else list(dims)
    offsets = sweep_offsets(steps, span)  # (S,)
    codes = code.repeat(len(dims), steps, 1)  # (K, S, D)
    rows = torch.arange(len(dims))
    index = torch.tensor(dims, dtype=torch.long)
    codes[rows, :, index] += offsets[None, :] * std[index][:, None]  # (K, S) moved entries
    flat = codes.reshape(-1, len(code))  # (K*S, D)
    decodes = [model.decode(flat[i : i + batch_size]) for i in range(0, len(flat), batch_size)]
    return torch.cat(decodes).reshape(len(dims), steps, 28, 28) if decodes else torch.zeros(0, steps, 28, 28)


def sweep_change(rows: torch.Tensor) -> torch.Tensor:
    """(K,) how much each (K, S, 28, 28) sweep changes the picture: the mean absolute pixel difference of its
    decodes from its middle one (the unmoved code's)."""
    middle = rows[:, rows.shape[1] // 2]  # (K, 28, 28)
    return (rows - middle[:, None]).abs().mean(dim=(1, 2, 3))


def sweep_heat(rows: torch.Tensor) -> torch.Tensor:
    """(K, 28, 28) where each sweep changes pixels: each pixel's range (max - min) over the sweep's decodes."""
    return rows.amax(dim=1) - rows.amin(dim=1)


def rank_dimensions(model, code: torch.Tensor, steps: int = 7, span: float = 2.0, limit: int = MAX_SWEPT):
    """A (D,) code's dimensions by how much sweeping each (±span of the model's std for it) changes the decoded
    picture, most first: (dims (K,) long, change (K,), rows (K, steps, 28, 28)). Sweeps at most `limit`
    dimensions, those of largest std, so a large code's request stays bounded."""
    std = model.stats.std.float()
    widest = torch.argsort(std, descending=True, stable=True)[:limit]
    rows = sweep(model, code, std, steps, span, dims=widest.tolist())
    change = sweep_change(rows)
    order = torch.argsort(change, descending=True, stable=True)
    return widest[order], change[order], rows[order]

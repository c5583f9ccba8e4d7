"""A map of the latent space: the codes of MNIST test digits projected to two dimensions, once linearly
(PCA of the codes) and once keeping neighbourhoods (t-SNE), computed when the artifacts are built; where a
new digit lands on each; and its nearest test digits by code and by pixels.

t-SNE has no formula for a new point: a new digit is placed at the mean map position of its nearest test
digits by code (NEIGHBOURS of them), which the page says.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

NEIGHBOURS = 5  # test digits whose t-SNE positions place a new code


@dataclass(frozen=True)
class LatentMap:
    codes: torch.Tensor  # (N, D) float32 codes of the test digits under `model`
    labels: torch.Tensor  # (N,) int64 their digit classes
    images: torch.Tensor  # (N, 28, 28) uint8 the test digits themselves
    index: torch.Tensor  # (N,) int64 their positions in MNIST's test set
    pca_mean: torch.Tensor  # (D,) the codes' mean
    pca_axes: torch.Tensor  # (2, D) the codes' two directions of most variance
    pca_xy: torch.Tensor  # (N, 2) each code on those two axes
    tsne_xy: torch.Tensor  # (N, 2) each code's t-SNE position
    model: str = ""  # the file name of the autoencoder whose codes these are
    metrics: dict = field(default_factory=dict)  # how it was made and what it shows, as saved
    kind = "map"
    TENSORS = ("codes", "labels", "images", "index", "pca_mean", "pca_axes", "pca_xy", "tsne_xy")

    def __post_init__(self):
        pixels = self.images.reshape(len(self.images), -1).float() / 255  # (N, 784) for pixel-space neighbours
        object.__setattr__(self, "_pixels", pixels)
        object.__setattr__(self, "_pixel_norms", (pixels**2).sum(1))
        object.__setattr__(self, "_code_norms", (self.codes.double() ** 2).sum(1))

    def __len__(self) -> int:
        return len(self.labels)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).contiguous() for k in self.TENSORS}

    def nearest_by_code(self, code: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k test digits whose codes lie nearest a (D,) code: (indices into the map, Euclidean distances)."""
        c = code.double().reshape(-1)
        return _smallest(self._code_norms - 2 * (self.codes.double() @ c) + (c @ c), self.codes.double(), c, k)

    def nearest_by_pixels(self, x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k test digits nearest a (28, 28) model input pixel by pixel: (indices, Euclidean distances)."""
        p = x.float().reshape(-1)
        return _smallest(self._pixel_norms - 2 * (self._pixels @ p) + (p @ p), self._pixels, p, k)

    def place(self, code: torch.Tensor) -> dict:
        """Where a (D,) code lands: its PCA position (exact) and t-SNE position (its neighbours' mean)."""
        pca = (code.reshape(-1) - self.pca_mean) @ self.pca_axes.T
        near, _ = self.nearest_by_code(code, NEIGHBOURS)
        return {"pca": pca.tolist(), "tsne": self.tsne_xy[near].mean(0).tolist(), "tsne_neighbours": near.tolist()}


def _smallest(d2: torch.Tensor, points: torch.Tensor, query: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k points nearest the query, by squared distances d2 computed the fast way (|a|² - 2ab + |b|², which
    loses the small ones to rounding), their distances then computed exactly, nearest first."""
    candidates = torch.topk(d2, min(k, len(d2)), largest=False).indices
    exact = (points[candidates] - query).double().norm(dim=1)
    order = torch.argsort(exact, stable=True)
    return candidates[order], exact[order].float()


def build_map(codes: torch.Tensor, labels: torch.Tensor, images: torch.Tensor, index: torch.Tensor, model: str = "",
              perplexity: float = 30.0, seed: int = 0) -> LatentMap:
    """Project (N, D) codes with PCA and with t-SNE (scikit-learn's, PCA-initialised, seeded)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = codes.double().numpy()
    pca = PCA(n_components=2).fit(x)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    metrics = {"points": len(x), "perplexity": perplexity, "seed": seed,
               "pca_explained_variance": [round(float(v), 4) for v in pca.explained_variance_ratio_]}
    return LatentMap(codes.float().contiguous(), labels.long(), images.contiguous(), index.long(), t(pca.mean_),
                     t(pca.components_), t(pca.transform(x)), t(tsne), model, metrics)


def neighbour_agreement(xy: torch.Tensor, labels: torch.Tensor, k: int = 10) -> float:
    """The share of each point's k nearest points on a map that have its class: how well the map keeps
    the classes together (1.0: every neighbourhood is one class)."""
    d2 = torch.cdist(xy.double(), xy.double())
    d2.fill_diagonal_(float("inf"))
    near = torch.topk(d2, k, largest=False).indices
    return float((labels[near] == labels[:, None]).double().mean())

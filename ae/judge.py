"""Do drawn codes decode to digits? A judge independent of every autoencoder labels the pictures.

The judge is a small convolutional classifier trained here on MNIST's pixels (seeded, so the same on the same
torch build); it never sees an autoencoder. Sample quality is read from its labels of pictures decoded from codes
drawn from a standard normal: the share it labels with confidence of at least 0.9, and each digit's share
(a generator that draws only a few kinds of digit scores well on the first and badly on the second).

The judge is also kept as an artifact (weights/judge.safetensors, `python -m ae.build`) with what the outlier
meter asks of it: how much it doubts every digit class (its energy) and how far the picture's features lie from
every class's training digits (the Mahalanobis distance of its last hidden layer). Both were fitted on training
digits only.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ae.checkpoint import CheckpointError, _json_objects, _shaped, save_artifact
from ae.data import Split

CONFIDENT = 0.9  # the judge's top probability at which a picture counts as a clear digit
RECIPE = "conv 1-16-32 (5x5, max-pool) -> 128 -> 10 on pixels, 3 epochs, batch 128, Adam 1e-3"


def make_judge() -> nn.Module:
    """(B, 784) or (B, 1, 28, 28) pixels in [0, 1] -> (B, 10) logits."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 14, 14)
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 7, 7)
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def train_judge(train: Split, test: Split, epochs: int = 3, seed: int = 0, make=None) -> tuple[nn.Module, float]:
    """Train the judge (or the network make() returns) on the training digits; returns it (in eval mode) and its
    accuracy on the test digits."""
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # the initial weights
        judge = (make or make_judge)()
    x, y = train.images.reshape(len(train), -1).float() / 255, train.labels
    opt = torch.optim.Adam(judge.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 128):
            batch = order[i : i + 128]
            loss = F.cross_entropy(judge(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    judge.eval()
    with torch.inference_mode():
        predicted = label(judge, test.images.reshape(len(test), -1).float() / 255)[0]
    return judge, float((predicted == test.labels).float().mean())


@torch.inference_mode()
def label(judge: nn.Module, pictures: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, ...) pictures of 784 pixels in [0, 1] -> (N,) labels and (N,) the judge's probability of each label."""
    flat = pictures.reshape(len(pictures), -1).float()
    probs = torch.cat([F.softmax(judge(flat[i : i + batch]), 1) for i in range(0, len(flat), batch)])
    confidence, labels = probs.max(1)
    return labels, confidence


def prior_pictures(network: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
    """(n, 784) pictures decoded from n codes drawn from N(0, I) with a generator seeded `seed`: the same codes
    for every network of one code size (a VAE's prior; for a plain autoencoder, a guess at where its codes lie)."""
    codes = torch.randn(n, network.config.code_size, generator=torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        return network.decode(codes).reshape(n, -1)


def sample_quality(judge: nn.Module, pictures: torch.Tensor, confident: float = CONFIDENT) -> dict:
    """The judge's reading of generated pictures: confident_share (labelled with probability >= `confident`),
    class_shares (each digit's share of the labels, 0-9) and their min_class_share and max_class_share."""
    labels, confidence = label(judge, pictures)
    shares = (torch.bincount(labels, minlength=10).double() / len(labels)).tolist()
    return {"confident_share": float((confidence >= confident).double().mean()), "class_shares": shares,
            "min_class_share": min(shares), "max_class_share": max(shares)}


FEATURES = 128  # width of the judge's last hidden layer, whose features the Mahalanobis distance reads
CLASSES = 10


@dataclass(frozen=True, eq=False)
class Judge:
    """A trained judge and its training digits' features: each class's mean and the inverse of the covariance
    they share (Lee et al., NeurIPS 2018: "A simple unified framework for detecting out-of-distribution samples")."""

    network: nn.Module  # make_judge()'s layers, trained, in eval mode
    means: torch.Tensor  # (10, FEATURES) float64: each class's mean feature over its training digits
    precision: torch.Tensor  # (FEATURES, FEATURES) float64: inverse of the within-class covariance
    metrics: dict = field(default_factory=dict)  # "test_accuracy", "recipe"
    kind = "judge"

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, ...) pictures of 784 pixels in [0, 1] -> (N, FEATURES) float64: the last hidden layer."""
        return features(self.network, x)

    @torch.inference_mode()
    def energy(self, f: torch.Tensor) -> torch.Tensor:
        """(N, FEATURES) features (from `features`) -> (N,) -log sum_c exp(logit_c): high when no digit class fits
        the picture (Liu et al., NeurIPS 2020)."""
        return -torch.logsumexp(self.network[-1](f.float()).double(), 1)

    def mahalanobis(self, f: torch.Tensor) -> torch.Tensor:
        """(N, FEATURES) features -> (N,) their squared Mahalanobis distance to the nearest class's mean."""
        return torch.stack([((f - m) @ self.precision * (f - m)).sum(1) for m in self.means], 1).min(1).values

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return {**{f"network.{k}": v.contiguous() for k, v in self.network.state_dict().items()},
                "means": self.means.contiguous(), "precision": self.precision.contiguous()}


@torch.inference_mode()
def features(network: nn.Module, x: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    """(N, ...) pictures of 784 pixels in [0, 1] -> (N, FEATURES) float64: the judge network's last hidden layer."""
    flat = x.reshape(len(x), -1).float()
    return torch.cat([network[:-1](flat[i : i + batch]) for i in range(0, len(flat), batch)]).double()


def fit_judge(network: nn.Module, train: Split, metrics: dict | None = None) -> Judge:
    """The Judge of a trained network: its features' class means and shared covariance on the training digits."""
    network.eval()
    f = features(network, train.images.float() / 255)
    means = torch.stack([f[train.labels == c].mean(0) for c in range(CLASSES)])
    centred = f - means[train.labels]
    covariance = centred.T @ centred / len(f) + 1e-6 * torch.eye(FEATURES, dtype=torch.float64)
    return Judge(network, means, torch.linalg.inv(covariance), metrics or {})


def save_judge(path: os.PathLike, judge: Judge) -> Path:
    return save_artifact(path, Judge.kind, judge.to_tensors(), {"metrics": judge.metrics})


def _load_judge(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> Judge:
    (metrics,) = _json_objects(path, metadata, "metrics")
    network = make_judge()
    own = {f"network.{k}": tuple(v.shape) for k, v in network.state_dict().items()}
    _shaped(path, tensors, {**own, "means": (CLASSES, FEATURES), "precision": (FEATURES, FEATURES)})
    if any(not t.is_floating_point() or not bool(torch.isfinite(t).all()) for t in tensors.values()):
        raise CheckpointError(path, "a judge's tensors must be finite floating-point numbers")
    network.load_state_dict({k.removeprefix("network."): tensors[k].float() for k in own})
    return Judge(network.eval(), tensors["means"].double(), tensors["precision"].double(), metrics)

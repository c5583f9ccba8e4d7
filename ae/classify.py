"""What the code knows about the digit: a linear classifier on codes, and the measurement that says why
learned features matter (a classifier on codes against one on pixels and one on PCA, with all 60,000
labels and with only a handful per class).

scikit-learn fits (its logistic regression is the well-kept one); the fitted classifier is stored as plain
tensors and applied with torch, so serving it needs no scikit-learn.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ae.latent import NUM_CLASSES
from ae.models import encode_one


@dataclass(frozen=True)
class Classifier:
    """Multinomial logistic regression on standardised features: softmax(((x - mean) / scale) W^T + b)."""

    mean: torch.Tensor  # (D,)
    scale: torch.Tensor  # (D,)
    weight: torch.Tensor  # (10, D)
    bias: torch.Tensor  # (10,)
    model: str = ""  # the file name of the autoencoder whose codes it reads
    metrics: dict = field(default_factory=dict)  # {"test_accuracy": ..., "table": [...]}, as saved
    kind = "classifier"

    def probabilities(self, features: torch.Tensor) -> torch.Tensor:
        """(N, D) features -> (N, 10) float64 class probabilities, each row summing to 1."""
        z = (features.double() - self.mean.double()) / self.scale.double()
        return torch.softmax(z @ self.weight.double().T + self.bias.double(), dim=1)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).contiguous() for k in ("mean", "scale", "weight", "bias")}


def _pipeline(max_iter: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=max_iter))


def fit_classifier(features: torch.Tensor, labels: torch.Tensor, model: str = "", max_iter: int = 2000) -> Classifier:
    """Fit the classifier on (N, D) features and their (N,) labels."""
    pipe = _pipeline(max_iter).fit(features.double().numpy(), labels.numpy())
    scaler, lr = pipe[0], pipe[1]
    if list(lr.classes_) != list(range(NUM_CLASSES)):
        raise ValueError(f"the labels must hold every digit 0-9, these hold {list(lr.classes_)}")
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))  # noqa: E731
    return Classifier(t(scaler.mean_), t(scaler.scale_), t(lr.coef_), t(lr.intercept_), model)


def few_labels(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `per_class` randomly drawn examples of each class."""
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
                           for c in range(NUM_CLASSES)])


def accuracy_table(features: dict[str, Callable[[torch.Tensor], torch.Tensor]], train_images: torch.Tensor,
                   train_labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor,
                   per_class: int = 10, draws: int = 10, seed: int = 0, log=print) -> list[dict]:
    """Test accuracy of the same classifier on each kind of features (name -> (N, 28, 28) uint8 images to
    (N, D) features), trained with every training label and with `per_class` labels of each class (averaged
    over `draws` draws of them; every kind sees the same draws). The features themselves may use every
    training image: the autoencoder and PCA learn from images without labels."""
    ytr, yte = train_labels.numpy(), test_labels.numpy()
    draws_idx = [few_labels(ytr, per_class, np.random.default_rng(seed + d)) for d in range(draws)]
    rows = []
    for name, featurize in features.items():
        xtr, xte = featurize(train_images).double().numpy(), featurize(test_images).double().numpy()
        full = _pipeline(2000).fit(xtr, ytr).score(xte, yte)
        few = [_pipeline(2000).fit(xtr[i], ytr[i]).score(xte, yte) for i in draws_idx]
        rows.append({"features": name, "dims": xtr.shape[1], "all_labels": round(float(full), 4),
                     "few_labels": round(float(np.mean(few)), 4), "few_labels_std": round(float(np.std(few)), 4),
                     "per_class": per_class, "draws": draws})
        log(f"  {name}: {rows[-1]}")
    return rows


def table_markdown(table: list[dict]) -> str:
    """The accuracy table as a Markdown table, for the page and docs/benchmarks.md."""
    per_class = table[0]["per_class"] if table else 10
    lines = [f"| the classifier reads | all 60,000 labels | {per_class} labels per class (mean ± spread) |",
             "|---|---|---|"]
    lines += [f"| {r['features']} | {r['all_labels']:.1%} | {r['few_labels']:.1%} ± {r['few_labels_std']:.1%} |"
              for r in table]
    return "\n".join(lines)


def classify(model, classifier: Classifier, x: np.ndarray) -> np.ndarray:
    """The (10,) class probabilities of a (28, 28) model input, read from its code under `model` (ae.models.Model)."""
    return classifier.probabilities(torch.from_numpy(encode_one(model, x))[None])[0].numpy()

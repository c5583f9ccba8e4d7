"""How unlike MNIST is a digit? The outlier meter: scores an autoencoder offers (reconstruction errors of
models of several code sizes, the code's likelihood under the class Gaussians, a VAE's negative ELBO, and that
ELBO less the input's own complexity) and scores of a digit classifier on pixels (its doubt, and the distance of
its features from every class), each turned into where it falls among the 10,000 MNIST test digits' own scores
(stored when the artifacts are built), and combined.

Each part's *tail* is -ln of the share of test digits scoring at least as high (+1 smoothing). The combined
score follows the meter's rule: "max", the largest tail (the rarest of the parts), or "sum", the tails added
(Fisher's method: the parts' shares multiplied, as if they were independent, so several parts that are each
somewhat unusual add up). A digit is flagged when its combined score is above the 99th percentile of the test
digits' combined scores, so 1% of MNIST's own test digits are flagged.
"""

import functools
import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch

from ae.latent import NUM_CLASSES, ClassGaussians

FLAG_PERCENTILE = 99.0
VERDICTS = {"usual": "looks like the MNIST digits it was trained on",  # below the 90th percentile
            "unusual": "unusual for an MNIST digit",  # from the 90th to the flag
            "flagged": "unlike the digits it was trained on: flagged as an outlier",
            "far": "unlike anything it was trained on: flagged as an outlier"}  # from the 99.9th


SCORE_KINDS = ("mse", "nll", "elbo", "elbo-complexity", "energy", "mahalanobis")
RULES = ("max", "sum")  # how a meter combines its parts' tails
JUDGE_SCORES = ("energy", "mahalanobis")  # the scores that read a digit classifier (ae.judge.Judge), not a model


@dataclass(frozen=True)
class Part:
    """One score (SCORE_KINDS) and the files it needs: "mse" (a model's reconstruction error), "nll" (the code's
    negative log-likelihood under the best-fitting class Gaussian), "elbo" (a VAE's negative ELBO, nats) or
    "elbo-complexity" (that less the input's complexity, the compressed length of its on/off picture, in nats:
    Serra et al. 2020), "energy" (how much a digit classifier on pixels doubts every class) or "mahalanobis" (how
    far that classifier's features lie from every class's training digits); those two name a judge file."""

    score: str
    model: str
    gaussians: str = ""

    @property
    def name(self) -> str:
        return f"{self.score}:{self.model}"


@dataclass(frozen=True)
class OutlierMeter:
    parts: tuple[Part, ...]
    reference: torch.Tensor  # (P, N) each part's scores of the N test digits, sorted
    combined: torch.Tensor  # (N,) the test digits' combined scores, sorted
    metrics: dict = field(default_factory=dict)
    rule: str = "max"  # how the parts' tails combine: one of RULES
    kind = "outliers"

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {self.rule!r}")

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return {"reference": self.reference.contiguous(), "combined": self.combined.contiguous()}

    @functools.cached_property
    def _reference(self) -> np.ndarray:  # (P, N) float64, made once rather than at every request
        return self.reference.double().numpy()

    def tails(self, scores: np.ndarray) -> np.ndarray:
        """(P, M) part scores -> (P, M) tails: -ln((test digits scoring >= it + 1) / (N + 1))."""
        ref = self._reference
        n = ref.shape[1]
        at_least = np.stack([n - np.searchsorted(r, s, side="left") for r, s in zip(ref, scores, strict=True)])
        return -np.log((at_least + 1) / (n + 1))

    def combine(self, scores: np.ndarray) -> np.ndarray:
        """(P, M) part scores -> (M,) combined scores: the largest tail, or their sum (the meter's rule)."""
        tails = self.tails(scores)
        return tails.max(0) if self.rule == "max" else tails.sum(0)

    @functools.cached_property
    def threshold(self) -> float:
        """The combined score above which an input is flagged."""
        return float(np.percentile(self.combined.double().numpy(), FLAG_PERCENTILE))

    def assess(self, scores: np.ndarray) -> dict:
        """(P,) part scores of one input -> its percentile among the test digits for each part and combined,
        whether it is flagged, and the verdict in words."""
        scores = np.asarray(scores, dtype=np.float64).reshape(len(self.parts), 1)
        combined = float(self.combine(scores)[0])
        percentile = percentile_of(self.combined, combined)
        flagged = combined > self.threshold
        if flagged:
            verdict = "far" if percentile >= 99.9 else "flagged"
        else:
            verdict = "unusual" if percentile >= 90 else "usual"
        return {"parts": [{"part": p.name, "score": float(s), "percentile": percentile_of(r, float(s))}
                          for p, s, r in zip(self.parts, scores[:, 0], self.reference, strict=True)],
                "combined": combined, "percentile": percentile, "flagged": flagged, "verdict": VERDICTS[verdict]}


def percentile_of(sorted_reference: torch.Tensor, value: float) -> float:
    """The share (in %) of a sorted reference below value, counting ties as half."""
    ref = sorted_reference.double().numpy()
    below, upto = np.searchsorted(ref, value, side="left"), np.searchsorted(ref, value, side="right")
    return float(100 * (below + upto) / 2 / len(ref))


@torch.inference_mode()
def part_scores(parts: tuple[Part, ...], models: dict, gaussians: dict[str, ClassGaussians],
                x: torch.Tensor) -> np.ndarray:
    """(N, 784) or (N, 28, 28) inputs in [0, 1] -> (P, N) float32 scores, larger meaning less like MNIST.
    models: by the file name each part names, an ae.models.Model (an ae.judge.Judge for JUDGE_SCORES)."""
    x = x.float().reshape(len(x), -1)
    out, judged = [], {}  # a judge's features, by its file: made once for its energy and its distance
    for p in parts:
        model = models[p.model]
        if p.score == "mse":
            out.append(((model.reconstruct(x).reshape(len(x), -1) - x) ** 2).mean(1))
        elif p.score == "nll":
            out.append(best_class_nll(gaussians[p.gaussians], model.encode(x)))
        elif p.score == "elbo":
            out.append(model.negative_elbo(x).double())
        elif p.score == "elbo-complexity":
            out.append(model.negative_elbo(x).double() - complexity_bits(x) * math.log(2))
        elif p.score in JUDGE_SCORES:
            if p.model not in judged:
                judged[p.model] = model.features(x)
            f = judged[p.model]
            out.append(model.energy(f) if p.score == "energy" else model.mahalanobis(f))
        else:
            raise ValueError(f"unknown score {p.score!r} (known: {', '.join(map(repr, SCORE_KINDS))})")
    return torch.stack(out).float().numpy()  # float32, as the reference is stored


def complexity_bits(x: torch.Tensor, depth: int = 1) -> torch.Tensor:
    """(N, 784) or (N, 28, 28) pixels in [0, 1] -> (N,) float64: each input's complexity, the length in bits of its
    picture compressed by zlib at level 9, row by row: depth 1, the on/off picture (pixels above 0.5, packed 8 to
    a byte), what the VAE's Bernoulli pixels model; depth 8, the 8-bit grey picture. A generic compressor's length
    bounds the input's information; subtracted from a likelihood score it removes the part of the score that only
    says "simple" or "busy" (Serra et al., ICLR 2020: input complexity and OOD detection). The "elbo-complexity"
    score uses depth 1: the 8-bit length (some 1,600 nats for a digit, against a negative ELBO of some 95) swamps
    the ELBO and ranks non-digits *below* digits (ROC AUC 0.30, docs/benchmarks.md)."""
    flat = x.detach().reshape(len(x), -1).double().cpu()
    if depth == 1:
        rows = np.packbits((flat > 0.5).numpy(), axis=1)
    elif depth == 8:
        rows = (flat.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    else:
        raise ValueError(f"depth must be 1 or 8, got {depth!r}")
    return torch.tensor([8.0 * len(zlib.compress(row.tobytes(), 9)) for row in rows], dtype=torch.float64)


def roc_auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """The area under the ROC curve of a score meant to be higher for positives (here non-digits) than for
    negatives (test digits): the chance a random positive scores above a random negative, ties counting half
    (the Mann-Whitney U statistic over both counts), as sklearn.metrics.roc_auc_score computes it."""
    neg, pos = np.asarray(negatives, np.float64).ravel(), np.asarray(positives, np.float64).ravel()
    if not len(neg) or not len(pos):
        raise ValueError("roc_auc needs at least one score of each class")
    neg = np.sort(neg)
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float((below.sum() + 0.5 * ties.sum()) / (len(neg) * len(pos)))


def best_class_nll(g: ClassGaussians, codes: torch.Tensor) -> torch.Tensor:
    """(N, D) codes -> (N,) negative log-likelihood under the best-fitting digit class's Gaussian (without the
    constant): 0.5 |L^-1 (z - mean)|^2 + ln det L."""
    z = codes.double()
    best = None
    for c in range(NUM_CLASSES):
        chol = g.chol[c].double()
        white = torch.linalg.solve_triangular(chol, (z - g.mean[c].double()).T, upper=False)
        nll = 0.5 * (white**2).sum(0) + torch.log(torch.diagonal(chol)).sum()
        best = nll if best is None else torch.minimum(best, nll)
    return best


def fit_meter(parts: tuple[Part, ...], scores: np.ndarray, metrics: dict | None = None,
              rule: str = "max") -> OutlierMeter:
    """The meter whose reference is (P, N) part scores of the test digits, combined by `rule` (RULES)."""
    ref = torch.from_numpy(np.sort(scores, axis=1)).float()
    combined = OutlierMeter(parts, ref, torch.zeros(0), rule=rule).combine(scores)  # the tails need the reference
    return OutlierMeter(parts, ref, torch.from_numpy(np.sort(combined)).float(), metrics or {}, rule)


def flag_rates(meter: OutlierMeter, models: dict, gaussians: dict, sets: dict[str, np.ndarray]) -> dict[str, dict]:
    """For each set of (N, 28, 28) inputs, the share flagged by the combined score and by each part alone (each
    at its own 99th percentile on the test digits): {set: {"combined": rate, part name: rate, ...}}."""
    return measure(meter, models, gaussians, sets)["flagged"]


def measure(meter: OutlierMeter, models: dict, gaussians: dict, sets: dict[str, np.ndarray],
            positives: tuple[str, ...] = ()) -> dict[str, dict]:
    """What the meter and each of its parts tell apart, with thresholds and reference from the test digits only:
    {"flagged": {set: {"count": N, "combined": share, part name: share, ...}}, "auroc": {set: {"combined": area,
    part name: area}}} where each area is the ROC AUC of that set against the 10,000 test digits. The sets named
    in `positives` are also pooled, as "non-digits", in the areas."""
    reference = meter.reference.double().numpy()
    part_thresholds = np.percentile(reference, FLAG_PERCENTILE, axis=1)
    test_combined = meter.combined.double().numpy()
    flagged, auroc, pooled = {}, {}, []
    for name, x in sets.items():
        scores = part_scores(meter.parts, models, gaussians, torch.from_numpy(np.asarray(x, dtype=np.float32)))
        combined = meter.combine(scores)
        row = {"count": int(scores.shape[1]), "combined": round(float(np.mean(combined > meter.threshold)), 4)}
        row.update({p.name: round(float(np.mean(s > t)), 4)
                    for p, s, t in zip(meter.parts, scores, part_thresholds, strict=True)})
        flagged[name] = row
        auroc[name] = _areas(meter, reference, test_combined, scores, combined)
        if name in positives:
            pooled.append((scores, combined))
    if pooled:
        auroc["non-digits"] = _areas(meter, reference, test_combined, np.concatenate([s for s, _ in pooled], 1),
                                     np.concatenate([c for _, c in pooled]))
    return {"flagged": flagged, "auroc": auroc}


def _areas(meter, reference, test_combined, scores, combined) -> dict[str, float]:
    areas = {"combined": round(roc_auc(test_combined, combined), 4)}
    areas.update({p.name: round(roc_auc(r, s), 4) for p, r, s in zip(meter.parts, reference, scores, strict=True)})
    return areas

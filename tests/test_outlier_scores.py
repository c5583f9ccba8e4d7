"""The outlier meter's newer scores (a VAE's negative ELBO, and that less the input's complexity; a digit
classifier's energy and Mahalanobis distance), the ROC AUC the benchmark reports, the rules that combine the
parts, and a meter holding every kind of part saved and loaded back."""

import math
import zlib

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ae.artifacts import load
from ae.build import meter_inputs
from ae.checkpoint import WEIGHTS_DIR, CheckpointError, read_artifact, save_artifact, save_outliers
from ae.judge import fit_judge, save_judge
from ae.outliers import RULES, SCORE_KINDS, OutlierMeter, Part, complexity_bits, fit_meter, part_scores, roc_auc

VAE, JUDGE = "vae-16.safetensors", "judge.safetensors"
EVERY_KIND = (Part("mse", "ae.safetensors"), Part("nll", "ae.safetensors", "gaussians.safetensors"),
              Part("elbo", VAE), Part("elbo-complexity", VAE), Part("energy", JUDGE), Part("mahalanobis", JUDGE))


@pytest.fixture(scope="module")
def inputs():
    return meter_inputs(EVERY_KIND, WEIGHTS_DIR)


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    neg, pos = rng.normal(size=200 + seed), rng.normal(0.7, 1.3, size=57)
    if seed % 2:  # with ties, within and across the classes
        neg, pos = np.round(neg, 1), np.round(pos, 1)
    expected = roc_auc_score(np.r_[np.zeros(len(neg)), np.ones(len(pos))], np.r_[neg, pos])
    assert roc_auc(neg, pos) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_of_separated_and_identical_scores():
    assert roc_auc([0, 1, 2], [3, 4]) == 1.0 and roc_auc([3, 4], [0, 1, 2]) == 0.0
    assert roc_auc([1, 1], [1, 1, 1]) == 0.5
    with pytest.raises(ValueError):
        roc_auc([], [1.0])


def test_complexity_is_the_compressed_length_in_bits(mnist_test):
    x = mnist_test.images[:20].float() / 255
    grey = [8 * len(zlib.compress(img.numpy().astype(np.uint8).tobytes(), 9)) for img in mnist_test.images[:20]]
    assert complexity_bits(x, depth=8).tolist() == grey  # the 8-bit picture back exactly: its own grey levels
    on = [8 * len(zlib.compress(np.packbits(img.numpy().reshape(-1) > 127).tobytes(), 9))
          for img in mnist_test.images[:20]]
    bits = complexity_bits(x)
    assert bits.tolist() == on  # the default: the on/off picture the VAE's Bernoulli pixels model
    for depth in (1, 8):
        assert (complexity_bits(torch.zeros(1, 784), depth)[0] < complexity_bits(x, depth).min()
                < complexity_bits(x, depth).max() < complexity_bits(torch.rand(1, 784), depth)[0])
    with pytest.raises(ValueError, match="depth"):
        complexity_bits(x, depth=4)


def test_the_new_scores_on_fixture_digits(inputs, mnist_test):
    models, gaussians = inputs
    x = mnist_test.images[:30].float() / 255
    scores = part_scores(EVERY_KIND, models, gaussians, x)
    assert scores.shape == (6, 30) and np.isfinite(scores).all()
    elbo = models[VAE].negative_elbo(x).numpy()
    assert scores[2] == pytest.approx(elbo, rel=1e-5)
    assert scores[3] == pytest.approx(elbo - complexity_bits(x).numpy() * math.log(2), rel=1e-5, abs=1e-2)
    judge = models[JUDGE]
    with torch.inference_mode():
        logits = judge.network(x.reshape(30, -1)).double()
    assert scores[4] == pytest.approx((-torch.logsumexp(logits, 1)).numpy(), rel=1e-4, abs=1e-4)
    f = judge.features(x)  # the squared Mahalanobis distance to the nearest class mean, written out
    nearest = [min(float((f[i] - m) @ judge.precision @ (f[i] - m)) for m in judge.means) for i in range(30)]
    assert scores[5] == pytest.approx(nearest, rel=1e-4)
    # one digit alone scores as it does among others
    alone = part_scores(EVERY_KIND, models, gaussians, x[3:4])
    assert alone[:, 0] == pytest.approx(scores[:, 3], rel=1e-4)


def test_a_busy_non_digit_scores_higher_than_digits(inputs, mnist_test):
    models, gaussians = inputs
    digits = part_scores(EVERY_KIND, models, gaussians, mnist_test.images[:50].float() / 255)
    blob = torch.zeros(1, 28, 28)
    blob[0, 4:24, 4:24] = 1.0  # a filled square: simple, unlike any digit
    square = part_scores(EVERY_KIND, models, gaussians, blob)
    assert square[3, 0] > np.percentile(digits[3], 99)
    assert square[5, 0] > np.percentile(digits[5], 99)  # far from every class in the classifier's features


def test_the_judges_class_means_are_its_training_digits_features(inputs, mnist_test):
    judge = inputs[0][JUDGE]
    fitted = fit_judge(judge.network, mnist_test)  # the fixture digits as if they were the training digits
    f = judge.features(mnist_test.images.float() / 255)
    for c in range(10):
        assert torch.allclose(fitted.means[c], f[mnist_test.labels == c].mean(0))
    centred = f - fitted.means[mnist_test.labels]
    covariance = centred.T @ centred / len(f) + 1e-6 * torch.eye(f.shape[1], dtype=torch.float64)
    assert torch.allclose(fitted.precision @ covariance, torch.eye(f.shape[1], dtype=torch.float64), atol=1e-6)


def test_a_judge_round_trips_and_a_damaged_one_is_refused(tmp_path, inputs, mnist_test):
    judge = inputs[0][JUDGE]
    back = load(save_judge(tmp_path / "judge.safetensors", judge))
    x = mnist_test.images[:10].float() / 255
    f, back_f = judge.features(x), back.features(x)
    assert torch.equal(back_f, f) and torch.equal(back.energy(back_f), judge.energy(f))
    assert torch.equal(back.mahalanobis(back_f), judge.mahalanobis(f))
    assert back.metrics == judge.metrics
    tensors = judge.to_tensors()
    for name, bad in (("means", torch.zeros(9, 128, dtype=torch.float64)),
                      ("precision", torch.full((128, 128), float("nan"), dtype=torch.float64)),
                      ("network.0.weight", torch.zeros(16, 1, 3, 3))):
        save_artifact(tmp_path / "bad.safetensors", "judge", {**tensors, name: bad}, {"metrics": {}})
        with pytest.raises(CheckpointError):
            load(tmp_path / "bad.safetensors")


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_combines_the_tails_as_it_says(rule):
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(3, 1000))
    meter = fit_meter(EVERY_KIND[:3], reference, rule=rule)
    probe = rng.normal(size=(3, 9)) * 2
    tails = meter.tails(probe)
    assert meter.combine(probe) == pytest.approx(tails.max(0) if rule == "max" else tails.sum(0))
    assert np.mean(meter.combine(reference) > meter.threshold) == pytest.approx(0.01, abs=0.002)


def test_a_meter_with_an_unknown_rule_is_refused(tmp_path):
    with pytest.raises(ValueError, match="rule"):
        OutlierMeter(EVERY_KIND[:1], torch.zeros(1, 5), torch.zeros(5), rule="mean")
    meter = fit_meter(EVERY_KIND[:1], np.zeros((1, 5)), rule="sum")
    path = save_outliers(tmp_path / "outliers.safetensors", meter)
    _, metadata, tensors = read_artifact(path)
    save_artifact(path, "outliers", tensors, {"parts": [vars(EVERY_KIND[0])], "metrics": {}, "rule": "mean"})
    with pytest.raises(CheckpointError, match="rule"):
        load(path)


def test_a_meter_of_every_kind_round_trips(tmp_path, inputs, mnist_test):
    assert {p.score for p in EVERY_KIND} == set(SCORE_KINDS)
    models, gaussians = inputs
    scores = part_scores(EVERY_KIND, models, gaussians, mnist_test.images[:200].float() / 255)
    meter = fit_meter(EVERY_KIND, scores, {"auroc": {"letters": {"combined": 0.9}}}, rule="sum")
    back = load(save_outliers(tmp_path / "outliers.safetensors", meter))
    assert back.parts == meter.parts and back.metrics == meter.metrics and back.rule == "sum"
    assert torch.equal(back.reference, meter.reference) and torch.equal(back.combined, meter.combined)
    probe = scores[:, :7]
    assert back.combine(probe) == pytest.approx(meter.combine(probe)) and back.threshold == meter.threshold
    assert [p["part"] for p in back.assess(probe[:, 0])["parts"]] == [p.name for p in EVERY_KIND]

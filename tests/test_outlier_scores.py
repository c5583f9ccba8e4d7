"""The outlier meter's newer scores (a VAE's negative ELBO, and that less the input's complexity), the ROC AUC the
benchmark reports, and a meter holding every kind of part saved and loaded back."""

import math
import zlib

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ae.artifacts import load
from ae.build import meter_inputs
from ae.checkpoint import WEIGHTS_DIR, save_outliers
from ae.outliers import SCORE_KINDS, Part, complexity_bits, fit_meter, part_scores, roc_auc

VAE = "vae-16.safetensors"
EVERY_KIND = (Part("mse", "ae.safetensors"), Part("nll", "ae.safetensors", "gaussians.safetensors"),
              Part("elbo", VAE), Part("elbo-complexity", VAE))


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
    assert scores.shape == (4, 30) and np.isfinite(scores).all()
    elbo = models[VAE].negative_elbo(x).numpy()
    assert scores[2] == pytest.approx(elbo, rel=1e-5)
    assert scores[3] == pytest.approx(elbo - complexity_bits(x).numpy() * math.log(2), rel=1e-5, abs=1e-2)
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


def test_a_meter_of_every_kind_round_trips(tmp_path, inputs, mnist_test):
    assert {p.score for p in EVERY_KIND} == set(SCORE_KINDS)
    models, gaussians = inputs
    scores = part_scores(EVERY_KIND, models, gaussians, mnist_test.images[:200].float() / 255)
    meter = fit_meter(EVERY_KIND, scores, {"auroc": {"letters": {"combined": 0.9}}})
    back = load(save_outliers(tmp_path / "outliers.safetensors", meter))
    assert back.parts == meter.parts and back.metrics == meter.metrics
    assert torch.equal(back.reference, meter.reference) and torch.equal(back.combined, meter.combined)
    probe = scores[:, :7]
    assert back.combine(probe) == pytest.approx(meter.combine(probe)) and back.threshold == meter.threshold
    assert [p["part"] for p in back.assess(probe[:, 0])["parts"]] == [p.name for p in EVERY_KIND]

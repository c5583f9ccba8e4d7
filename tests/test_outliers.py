"""The outlier meter (ae/outliers.py): its stored reference, its arithmetic, and what it flags, on the shipped
artifact with fixture digits and images made by ae/nondigits.py."""

import numpy as np
import pytest
import torch

from ae.artifacts import load
from ae.checkpoint import CheckpointError, save_artifact
from ae.nondigits import TRANSFORMS, scribbles, shapes
from ae.outliers import FLAG_PERCENTILE, OutlierMeter, Part, fit_meter, part_scores, percentile_of
from ae.preprocess import preprocess
from ae.zoo import load_zoo


@pytest.fixture(scope="module")
def shipped():
    """The shipped meter with the models it reads, by file name."""
    zoo = load_zoo()
    meter = zoo.outliers
    models, gaussians = zoo.meter_inputs()
    assert None not in models.values() and None not in gaussians.values()
    return meter, models, gaussians


def flagged_share(shipped, x: np.ndarray) -> float:
    meter, models, gaussians = shipped
    scores = part_scores(meter.parts, models, gaussians, torch.from_numpy(np.asarray(x, dtype=np.float32)))
    return float(np.mean(meter.combine(scores) > meter.threshold))


def test_the_stored_reference_covers_the_test_set(shipped):
    meter = shipped[0]
    assert meter.reference.shape == (len(meter.parts), 10_000) and meter.combined.shape == (10_000,)
    assert bool((meter.reference.diff(dim=1) >= 0).all()) and bool((meter.combined.diff() >= 0).all())
    assert [p.score for p in meter.parts].count("mse") >= 1 and meter.parts[0].model == "ae.safetensors"
    assert meter.threshold == pytest.approx(meter.metrics["threshold"], abs=1e-3)


def test_the_median_test_error_sits_at_the_50th_percentile(shipped):
    meter = shipped[0]
    for ref in meter.reference:
        median = float(ref[len(ref) // 2])  # an exact stored test score
        assert percentile_of(ref, median) == pytest.approx(50, abs=0.5)
    median_scores = meter.reference[:, meter.reference.shape[1] // 2].numpy()
    verdict = meter.assess(median_scores)
    assert not verdict["flagged"] and verdict["percentile"] < 90 and "looks like" in verdict["verdict"]
    assert [round(p["percentile"]) for p in verdict["parts"]] == [50] * len(meter.parts)


def test_a_score_beyond_every_test_digit_is_flagged(shipped):
    meter = shipped[0]
    top = meter.reference[:, -1].numpy()
    top = top + np.abs(top) + 1  # above the highest test digit's score of every part, whatever its sign
    verdict = meter.assess(top)
    assert verdict["flagged"] and verdict["percentile"] == 100 and "unlike anything" in verdict["verdict"]
    every_tail = np.log(10_001)  # -ln(1 / 10,001): no test digit scores as high, +1 smoothing
    assert verdict["combined"] == pytest.approx(every_tail * (len(meter.parts) if meter.rule == "sum" else 1))


def test_fixture_test_digits_are_rarely_flagged(shipped, mnist_test):
    assert flagged_share(shipped, mnist_test.images.numpy() / 255) < 0.04  # 1% of all test digits, by design


@pytest.mark.parametrize("name", ["enlarged", "paper+jpeg", "offc+paper+jpeg"])
def test_digits_sent_as_people_send_them_are_rarely_flagged(shipped, mnist_test, name):
    sent = TRANSFORMS[name](mnist_test.images[:100].numpy())
    assert flagged_share(shipped, np.stack([preprocess(img) for img in sent])) <= 0.05


def test_most_scribbles_and_shapes_are_flagged(shipped):
    made = scribbles(count=40)[0] + shapes(per_kind=5)[0]
    share = flagged_share(shipped, np.stack([preprocess(img) for img in made]))
    assert share > 0.5, share  # the stored figures: 71% of 400 scribbles, 53% of 400 shapes


def test_the_stored_flag_rates_name_every_set(shipped):
    flagged = shipped[0].metrics["flagged"]
    assert {"letters", "shapes", "scribbles", *TRANSFORMS} == set(flagged)
    for name, rates in flagged.items():
        assert rates["count"] >= 300 and 0 <= rates["combined"] <= 1, name
    assert max(flagged[name]["combined"] for name in TRANSFORMS) <= 0.05


def test_tails_and_the_combined_score():
    parts = (Part("mse", "a"), Part("mse", "b"))
    scores = np.stack([np.arange(100, dtype=np.float32), np.arange(100, dtype=np.float32)[::-1].copy()])
    meter = fit_meter(parts, scores)
    tails = meter.tails(np.array([[99.0, 1000.0, -1.0], [0.0, 0.0, 0.0]]))
    assert tails[0].tolist() == pytest.approx([-np.log(2 / 101), -np.log(1 / 101), 0.0])
    assert meter.combine(np.array([[99.0], [50.0]]))[0] == pytest.approx(-np.log(2 / 101))  # the rarer part
    assert np.mean(meter.combine(scores) > meter.threshold) == pytest.approx(1 - FLAG_PERCENTILE / 100, abs=0.02)


def test_a_meter_built_from_fixtures(weights):
    meter = load_zoo(weights).outliers
    assert [p.name for p in meter.parts] == ["mse:ae-4.safetensors", "mse:ae-2.safetensors", "nll:ae-4.safetensors"]
    assert meter.reference.shape == (3, 500) and meter.metrics["flagged"]["enlarged"]["count"] == 50


def test_damaged_meters_are_refused(tmp_path, shipped):
    meter = shipped[0]
    tensors = {"reference": meter.reference[:2], "combined": meter.combined}
    path = save_artifact(tmp_path / "m.safetensors", OutlierMeter.kind, tensors,
                         {"parts": [vars(p) for p in meter.parts], "metrics": {}})
    with pytest.raises(CheckpointError, match="reference has shape"):
        load(path)
    path = save_artifact(tmp_path / "n.safetensors", OutlierMeter.kind, meter.to_tensors(),
                         {"parts": [{"score": "mse"}], "metrics": {}})
    with pytest.raises(CheckpointError, match="bad metadata"):
        load(path)


def test_unknown_scores_are_refused(shipped):
    with pytest.raises(ValueError, match="unknown score"):
        part_scores((Part("psnr", "ae.safetensors"),), shipped[1], {}, torch.zeros(1, 784))


"""The zoo of models the views compare (ae/zoo.py), on a small weights folder built from the fixtures."""

import json

import numpy as np
import pytest

from ae.build import main as build
from ae.ui.render import mse_plot, sizes_table
from ae.zoo import load_zoo, reconstructions_by_size, size_figures
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    recipe = {"epochs": 2, "limit": 500, "batch_size": 64}
    (folder / "manifest.json").write_text(json.dumps({"serve": "ae-4.safetensors", "artifacts": {
        "ae-2.safetensors": {"kind": "autoencoder", "train": {**recipe, "model": {"code_size": 2}}},
        "ae-4.safetensors": {"kind": "autoencoder", "train": {**recipe, "model": {"code_size": 4}}},
        "pca.safetensors": {"kind": "pca", "sizes": [2, 4]},
        "gone.safetensors": {"kind": "autoencoder", "train": recipe},
    }}))
    build(["--data-dir", str(FIXTURES), "--weights-dir", str(folder), "--only", "ae-2.safetensors",
           "ae-4.safetensors", "pca.safetensors"])
    return folder


def test_the_zoo_sorts_what_the_manifest_names(weights):
    zoo = load_zoo(weights)
    assert zoo.sizes == [2, 4] and zoo.pca is not None
    assert len(zoo.missing) == 1 and "gone.safetensors: file not found" in zoo.missing[0]


def test_stored_figures_by_size(weights):
    figures = size_figures(load_zoo(weights))
    assert [f["code_size"] for f in figures] == [2, 4]
    for f in figures:
        assert 0 < f["autoencoder_test_mse"] < 0.2 and 0 < f["pca_test_mse"] < 0.2
        assert f["ratio"] == pytest.approx(f["autoencoder_test_mse"] / f["pca_test_mse"], abs=1e-3)
    assert mse_plot(figures).count("<circle") == 4


def test_a_digit_at_every_size(weights, mnist_test):
    zoo = load_zoo(weights)
    x = mnist_test.images[0].numpy().astype(np.float32) / 255
    rows = reconstructions_by_size(zoo, x)
    assert [r["code_size"] for r in rows] == [2, 4]
    for r in rows:
        assert r["autoencoder"].shape == r["pca"].shape == (28, 28)
        assert r["pca_mse"] == pytest.approx(float(np.mean((r["pca"] - x) ** 2)))
    assert rows[1]["pca_mse"] < rows[0]["pca_mse"]  # PCA with more components always loses less
    assert sizes_table(rows).count("<img") == 4

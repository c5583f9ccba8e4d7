"""The zoo of models the views compare (ae/zoo.py), on a small weights folder built from the fixtures."""

import numpy as np
import pytest
import torch

from ae.latent import decode_plane, plane_extent, plane_points
from ae.ui.render import line_plot, mse_plot, sizes_table
from ae.zoo import load_zoo, reconstructions_by_size, size_figures


def test_the_zoo_sorts_what_the_manifest_names(weights):
    zoo = load_zoo(weights)
    assert zoo.sizes == [2, 4] and zoo.pca is not None  # the denoising model is not one of the sizes
    assert zoo.denoiser.name == "ae-denoise" and zoo.denoiser.code_size == 4 and zoo.denoiser is not zoo.by_size[4]
    assert zoo.codes[zoo.by_size[2].source].codes.shape == (100, 2)
    assert zoo.catalogue.default == "ae-4"  # the manifest's "serve"
    assert zoo.model_for(zoo.classifier.model) is zoo.by_size[4]
    assert zoo.gaussians.mean.shape == (11, 4) and zoo.gaussians.model == "ae-4.safetensors"
    assert len(zoo.missing) == 1 and "gone.safetensors: file not found" in zoo.missing[0]


def test_stored_figures_by_size(weights):
    figures = size_figures(load_zoo(weights))
    assert [f["code_size"] for f in figures] == [2, 4]
    for f in figures:
        assert 0 < f["autoencoder_test_mse"] < 0.2 and 0 < f["pca_test_mse"] < 0.2 and f["ratio"] > 0
    assert mse_plot(figures).count("<circle") == 4


def test_the_shipped_figures_are_the_measured_ones():
    # benchmarks.sizes measured these on the 10,000 test digits (the README's table): what the page shows
    # comes from each model's own stored figure, so a model paired with the wrong size or method shows here.
    figures = {f["code_size"]: f for f in size_figures(load_zoo())}
    measured = {2: (0.03986, 0.05567, 0.716), 4: (0.02781, 0.04790, 0.581), 8: (0.01628, 0.03744, 0.435),
                16: (0.00853, 0.02686, 0.318), 32: (0.00441, 0.01683, 0.262), 64: (0.00222, 0.00905, 0.245)}
    assert sorted(figures) == sorted(measured)
    for k, (ae, pca, ratio) in measured.items():
        f = figures[k]
        assert (f["autoencoder_test_mse"], f["pca_test_mse"]) == pytest.approx((ae, pca), abs=6e-6), k
        assert f["ratio"] == pytest.approx(ratio, abs=1e-3), k


def test_a_digit_at_every_size(weights, mnist_test):
    zoo = load_zoo(weights)
    x = mnist_test.images[0].numpy().astype(np.float32) / 255
    rows = reconstructions_by_size(zoo, x)
    assert [r["code_size"] for r in rows] == [2, 4]
    for r in rows:  # PCA's picture against a reference: the least-squares fit of x - mean on k directions
        assert r["autoencoder"].shape == r["pca"].shape == (28, 28)
        directions = zoo.pca.components[: r["code_size"]].double().numpy().T  # (784, k)
        mean = zoo.pca.mean.double().numpy()
        fit = np.linalg.lstsq(directions, x.reshape(-1) - mean, rcond=None)[0]
        reference = np.clip(mean + directions @ fit, 0, 1)
        np.testing.assert_allclose(r["pca"].reshape(-1), reference, atol=1e-5)
        assert r["pca_mse"] == pytest.approx(float(np.mean((reference - x.reshape(-1)) ** 2)), rel=1e-4)
    assert rows[1]["pca_mse"] < rows[0]["pca_mse"]  # PCA with more components always loses less
    assert sizes_table(rows).count("<img") == 4


def test_a_run_keeps_its_curves_and_figures(weights):
    run = load_zoo(weights).runs["overfit"]  # by its manifest role, not its file
    assert run.train["limit"] == 100 and len(run.history["train_loss"]) == len(run.history["test_mse"]) == 3
    assert run.metrics["last_test_mse"] == pytest.approx(run.history["test_mse"][-1])
    assert run.metrics["best_test_mse"] == pytest.approx(min(run.history["test_mse"]))


def test_curves_leave_out_what_cannot_be_drawn():
    svg = line_plot([("a", "red", [0.1, 0.05, float("nan"), 0.02, 0.01]), ("b", "blue", [float("inf")] * 3)],
                    marks=[(5, "gap")])
    assert svg.count("<polyline") == 2  # a's line broken at the NaN; b has no finite point to draw
    assert "gap" in svg and line_plot([("b", "blue", [float("nan")])]).startswith("<p>")


def test_the_2d_plane_grid(weights):
    model = load_zoo(weights).by_size[2]
    grid = decode_plane(model, [-3.0, -2.0], [3.0, 2.0], n=5)
    assert grid.shape == (140, 140) and grid.min() >= 0 and grid.max() <= 1
    points = plane_points([-3.0, -2.0], [3.0, 2.0], 5)
    assert points[0].tolist() == [-3.0, 2.0] and points[-1].tolist() == [3.0, -2.0]  # top left, bottom right
    # the digit in row 1, column 3 is the point's decoding
    assert torch.allclose(grid[28:56, 84:112], model.decode(points[1 * 5 + 3][None])[0])
    with pytest.raises(ValueError, match="2-number code"):
        decode_plane(load_zoo(weights).by_size[4], [0, 0], [1, 1])


def test_the_plane_box_holds_most_codes():
    codes = torch.randn(5000, 2) * torch.tensor([3.0, 1.0])
    lo, hi = plane_extent(codes)
    inside = ((codes >= torch.tensor(lo)) & (codes <= torch.tensor(hi))).all(1).float().mean()
    assert inside > 0.99 and hi[0] - lo[0] > 2 * (hi[1] - lo[1])

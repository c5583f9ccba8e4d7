"""PCA of the training digits (ae/pca.py) and its artifact."""

import pytest
import torch

from ae.artifacts import load
from ae.checkpoint import CheckpointError, save_artifact, save_pca
from ae.pca import PCA, fit_pca, pca_test_mse


@pytest.fixture(scope="module")
def pca(mnist_train):
    return fit_pca(mnist_train.images)


def test_all_components_reconstruct_exactly(pca, mnist_test):
    x = mnist_test.images[:20].reshape(20, -1).float() / 255
    assert torch.allclose(pca.reconstruct(x, 784), x, atol=1e-4)


def test_more_components_lose_less(pca, mnist_test):
    errors = [pca_test_mse(pca, mnist_test.images, k) for k in (1, 2, 4, 8, 16, 32, 64, 128)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert pca_test_mse(pca, mnist_test.images, 784) < 1e-8


def test_directions_are_orthonormal_and_sorted(pca):
    c = pca.components[:50].double()
    assert torch.allclose(c @ c.T, torch.eye(50, dtype=torch.float64), atol=1e-4)
    assert (pca.variance[:-1] >= pca.variance[1:]).all()


def test_the_artifact_round_trips(tmp_path, pca):
    figures = {"test_mse": {"2": 0.05}}
    path = save_pca(tmp_path / "pca.safetensors", PCA(pca.mean, pca.components, pca.variance, figures))
    loaded = load(path)
    assert isinstance(loaded, PCA) and loaded.metrics == {"test_mse": {"2": 0.05}}
    assert torch.equal(loaded.components, pca.components)


def test_a_pca_file_with_shapes_that_do_not_fit_is_refused(tmp_path, pca):
    path = save_artifact(tmp_path / "bad.safetensors", "pca",
                         {"mean": pca.mean, "components": pca.components[:, :10].contiguous(),
                          "variance": pca.variance}, {"metrics": {}})
    with pytest.raises(CheckpointError, match="PCA shapes do not fit"):
        load(path)

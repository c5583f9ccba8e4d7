"""What the code knows: the classifier on codes and the latent map (ae/classify.py, ae/latent_map.py), on the
shipped artifacts and on a small weights folder built from the fixtures."""

import numpy as np
import pytest
import torch

from ae.artifacts import load
from ae.checkpoint import WEIGHTS_DIR, CheckpointError, load_checkpoint, save_artifact
from ae.classify import Classifier, accuracy_table, classify, few_labels, fit_classifier
from ae.latent import encode_all
from ae.latent_map import NEIGHBOURS, build_map, neighbour_agreement
from ae.models import as_model
from ae.zoo import load_zoo


@pytest.fixture(scope="module")
def shipped():
    """The shipped classifier and map with the autoencoder they read."""
    classifier, latent_map = load(WEIGHTS_DIR / "classifier.safetensors"), load(WEIGHTS_DIR / "map.safetensors")
    assert classifier.model == latent_map.model
    return classifier, latent_map, as_model(load_checkpoint(WEIGHTS_DIR / classifier.model))


def test_probabilities_sum_to_one_and_beat_chance_on_fixture_digits(shipped, mnist_test):
    classifier, _, model = shipped
    p = classifier.probabilities(model.encode(mnist_test.images.float() / 255))
    assert p.shape == (len(mnist_test), 10) and (p >= 0).all()
    assert torch.allclose(p.sum(1), torch.ones(len(p), dtype=torch.float64), atol=1e-9)
    accuracy = float((p.argmax(1) == mnist_test.labels).double().mean())
    assert accuracy > 0.85, accuracy  # chance is 0.10; the stored figure on all 10,000 is ~0.92
    one = classify(model, classifier, mnist_test.images[0].numpy() / 255)
    assert one.shape == (10,) and int(one.argmax()) == int(mnist_test.labels[0])


def test_the_stored_table_names_every_measurement(shipped):
    table = shipped[0].metrics["table"]
    kinds = [r["features"] for r in table]
    assert "pixels (784 numbers)" in kinds and "autoencoder code (64 numbers)" in kinds and "PCA (64 numbers)" in kinds
    for r in table:
        assert 0.1 < r["few_labels"] < r["all_labels"] < 1 and r["per_class"] == 10 and r["draws"] >= 5


def test_a_classifier_fitted_on_fixture_codes(weights, mnist_train, mnist_test):
    zoo = load_zoo(weights)
    c, model = zoo.classifier, zoo.model_for("ae-4.safetensors").network
    assert c.model == "ae-4.safetensors" and c.weight.shape == (10, 4)
    predicted = c.probabilities(encode_all(model, mnist_test.images)).argmax(1)
    accuracy = float((predicted == mnist_test.labels).double().mean())
    assert accuracy > 0.2  # chance is 0.1; this is a 4-number model trained 2 epochs on 500 digits
    assert c.metrics["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert [r["features"] for r in c.metrics["table"]] == [
        "pixels (784 numbers)", "autoencoder code (4 numbers)", "PCA (4 numbers)", "autoencoder code (2 numbers)",
        "PCA (2 numbers)"]


def test_few_labels_draws_the_same_count_of_each_class(mnist_train):
    labels = mnist_train.labels.numpy()
    a, b = (few_labels(labels, 3, np.random.default_rng(7)) for _ in range(2))
    assert np.array_equal(a, b) and np.bincount(labels[a], minlength=10).tolist() == [3] * 10
    assert not np.array_equal(a, few_labels(labels, 3, np.random.default_rng(8)))


def test_the_accuracy_table_measures_each_feature_on_the_same_draws(mnist_train, mnist_test):
    seen = []

    def pixels(images):
        return images.reshape(len(images), -1).float() / 255

    def noise(images):  # features that know nothing: near chance
        seen.append(len(images))
        return torch.randn(len(images), 8, generator=torch.Generator().manual_seed(len(images)))

    rows = accuracy_table({"pixels": pixels, "noise": noise}, mnist_train.images, mnist_train.labels,
                          mnist_test.images, mnist_test.labels, per_class=5, draws=2, log=lambda line: None)
    assert [r["features"] for r in rows] == ["pixels", "noise"] and seen == [1000, 500]
    assert rows[0]["all_labels"] > 0.8 and rows[0]["few_labels"] > 0.4
    assert rows[1]["all_labels"] < 0.25 and rows[1]["few_labels"] < 0.25


def test_fitting_needs_every_class(mnist_train):
    keep = mnist_train.labels < 9
    with pytest.raises(ValueError, match="every digit"):
        fit_classifier(torch.randn(int(keep.sum()), 3), mnist_train.labels[keep])


def test_the_shipped_map_holds_its_points_and_classes(shipped):
    m = shipped[1]
    n = len(m)
    assert n >= 5000 and m.codes.shape == (n, 64) and m.images.shape == (n, 28, 28)
    assert m.pca_xy.shape == m.tsne_xy.shape == (n, 2) and torch.isfinite(m.tsne_xy).all()
    assert sorted(set(m.labels.tolist())) == list(range(10)) and m.index.tolist() == list(range(n))
    # t-SNE keeps classes together far better than the flat PCA view; both figures are stored
    assert m.metrics["tsne_neighbour_agreement"] > 0.8 > 0.5 > m.metrics["pca_neighbour_agreement"]


def test_a_test_digit_is_its_own_nearest_neighbour(shipped, mnist_test):
    _, m, model = shipped
    for i in (0, 7, 123, 499):  # the fixture's test digits are the map's first ones
        x = mnist_test.images[i].float() / 255
        assert torch.equal(m.images[i], mnist_test.images[i])
        near, dist = m.nearest_by_pixels(x, 3)
        assert int(near[0]) == i and float(dist[0]) == pytest.approx(0, abs=1e-3) and dist[1] > 1
        code = model.encode(mnist_test.images[i : i + 1].float() / 255)[0]
        near, dist = m.nearest_by_code(code, 3)
        assert int(near[0]) == i and float(dist[0]) < 1e-3 and bool((dist[1:] >= dist[0]).all())


def test_a_new_code_is_placed_by_pca_exactly_and_by_its_tsne_neighbours(shipped):
    m = shipped[1]
    placed = m.place(m.codes[42])
    assert placed["pca"] == pytest.approx(m.pca_xy[42].tolist(), abs=1e-3)
    near = placed["tsne_neighbours"]
    assert len(near) == NEIGHBOURS and near[0] == 42
    assert placed["tsne"] == pytest.approx(m.tsne_xy[near].mean(0).tolist(), abs=1e-5)


def test_build_map_and_its_figures():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 2
    codes = torch.randn(200, 6, generator=g) + 6 * labels[:, None].float()  # two well-separated clusters
    m = build_map(codes, labels, torch.zeros(200, 28, 28, dtype=torch.uint8), torch.arange(200), perplexity=10)
    assert m.tsne_xy.shape == m.pca_xy.shape == (200, 2) and len(m.metrics["pca_explained_variance"]) == 2
    assert neighbour_agreement(m.tsne_xy, labels) > 0.95 and neighbour_agreement(m.pca_xy, labels) > 0.95
    assert neighbour_agreement(torch.randn(200, 2, generator=g), labels) < 0.7


def test_damaged_classifier_and_map_files_are_refused(tmp_path, shipped):
    c = shipped[0]
    path = save_artifact(tmp_path / "c.safetensors", Classifier.kind,
                         {**c.to_tensors(), "weight": torch.zeros(9, 64)}, {"model": c.model, "metrics": {}})
    with pytest.raises(CheckpointError, match="weight has shape"):
        load(path)
    tensors = shipped[1].to_tensors()
    del tensors["tsne_xy"]
    path = save_artifact(tmp_path / "m.safetensors", "map", tensors, {"model": "ae.safetensors", "metrics": {}})
    with pytest.raises(CheckpointError, match="expected tensors"):
        load(path)

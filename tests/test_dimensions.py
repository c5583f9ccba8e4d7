"""Explaining a code's dimensions (ae.latent.sweep / rank_dimensions) and the view's /dimensions endpoint, in
process: a toy linear decoder whose order is known, and one shipped model of each kind."""

from dataclasses import dataclass

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

from ae.inference import Engines
from ae.latent import MAX_SWEPT, CodeStats, rank_dimensions, sweep, sweep_change, sweep_heat, sweep_offsets
from ae.models import encode_one
from ae.ui.dimensions import SHOWN, explain_rows, explained, rows_html
from ae.ui.render import heat_image
from ae.zoo import load_zoo


@dataclass
class Linear:
    """A decoder that draws each dimension's own pattern, weighted by its number: z (B, D) -> (B, 28, 28)."""

    patterns: torch.Tensor  # (D, 28, 28)
    stats: CodeStats

    @property
    def code_size(self) -> int:
        return len(self.patterns)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bd,dhw->bhw", z, self.patterns)


def linear(weights: list[float], std: list[float]) -> Linear:
    """Dimension d lights a block of pixels of its own, weights[d] bright per unit of code."""
    patterns = torch.zeros(len(weights), 28, 28)
    for d, w in enumerate(weights):
        patterns[d, 2 * d : 2 * d + 2, 4:24] = w
    s = torch.tensor(std)
    zeros = torch.zeros(len(weights))
    return Linear(patterns, CodeStats(zeros, zeros, zeros, s, torch.zeros(10, len(weights))))


@pytest.fixture(scope="module")
def zoo():
    return load_zoo()


def test_offsets_run_from_minus_to_plus_span_through_zero():
    assert sweep_offsets(7, 2.0).tolist() == pytest.approx([-2, -4 / 3, -2 / 3, 0, 2 / 3, 4 / 3, 2])
    assert sweep_offsets(7, 2.0)[3].item() == 0.0
    with pytest.raises(ValueError):
        sweep_offsets(6)


def test_the_ranking_follows_the_measured_change():
    # change of dimension d is proportional to weight * std: 0.1*1, 0.5*1, 0.2*4 (=0.8), 0.3*0 (never moves)
    model = linear([0.1, 0.5, 0.2, 0.3], std=[1.0, 1.0, 4.0, 0.0])
    dims, change, rows = rank_dimensions(model, torch.zeros(4))
    assert dims.tolist() == [2, 1, 0, 3]
    assert bool((change[:-1] > change[1:]).all()) and change[-1].item() == 0.0
    np.testing.assert_allclose(change, sweep_change(rows))  # the order is the measured change's
    assert change[0].item() / change[1].item() == pytest.approx(0.8 / 0.5)  # linear in weight x std


def test_a_row_moves_only_its_dimension_around_the_code():
    model = linear([0.1, 0.5, 0.2], std=[1.0, 2.0, 1.0])
    code = torch.tensor([0.3, -0.2, 0.7])
    rows = sweep(model, code, model.stats.std)
    assert rows.shape == (3, 7, 28, 28)
    for d in range(3):
        torch.testing.assert_close(rows[d, 3], model.decode(code[None])[0])
        moved = code.clone()
        moved[d] += 2.0 * model.stats.std[d]
        torch.testing.assert_close(rows[d, -1], model.decode(moved[None])[0])
    heat = sweep_heat(rows)
    assert heat.shape == (3, 28, 28)
    assert heat[1, 2:4, 4:24].mean().item() == pytest.approx(0.5 * 2 * 2 * 2)  # weight x (4 stds of 2)
    assert heat[1, 10:].abs().max().item() == 0.0  # the other dimensions' pixels stay put


def test_batches_decode_the_same_pictures():
    model = linear([0.1, 0.5, 0.2], std=[1.0, 2.0, 1.0])
    code = torch.tensor([0.3, -0.2, 0.7])
    torch.testing.assert_close(sweep(model, code, model.stats.std, batch_size=5), sweep(model, code, model.stats.std))


def test_at_most_the_widest_dimensions_are_swept():
    model = linear([0.1] * 10, std=[float(d) for d in range(10)])
    dims, change, rows = rank_dimensions(model, torch.zeros(10), limit=4)
    assert sorted(dims.tolist()) == [6, 7, 8, 9] and rows.shape == (4, 7, 28, 28) and change.shape == (4,)
    assert MAX_SWEPT == 64


@pytest.mark.parametrize("name", ["ae-8", "pca-8", "vae-16", "conv-16", "ae-64"])
def test_every_kind_sweeps_around_the_digits_own_decode(zoo, name, mnist_test):
    model = zoo.catalogue.get(name)
    x = mnist_test.images[0].numpy() / 255
    code = torch.from_numpy(encode_one(model, x))
    dims, change, rows = rank_dimensions(model, code)
    assert rows.shape == (model.code_size, 7, 28, 28) and sorted(dims.tolist()) == list(range(model.code_size))
    own = model.decode(code[None])[0]
    for row in rows:
        torch.testing.assert_close(row[3], own, atol=1e-5, rtol=0)
    assert bool((change[:-1] >= change[1:]).all()) and change[0].item() > 0.01  # the top one visibly changes it


@pytest.fixture
def seven(tmp_path, mnist_test):
    path = tmp_path / "seven.png"
    Image.fromarray(mnist_test.images[0].numpy()).resize((280, 280)).save(path)
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}, (tmp_path,)


def test_the_endpoint_ranks_every_dimension_with_a_row_of_pictures(zoo, seven):
    image, trusted = seven
    engines = Engines(zoo.catalogue)
    for name, size in (("pca-8", 8), (None, engines.default.code_size)):
        rows = explained(engines, trusted, image, name)
        assert [r["dimension"] for r in rows] != [] and len(rows) == size
        assert sorted(r["dimension"] for r in rows) == list(range(size))
        changes = [r["change"] for r in rows]
        assert changes == sorted(changes, reverse=True) and all(isinstance(c, float) for c in changes)
        picture = Image.open(rows[0]["row"].path)
        assert picture.size == (7 * 30 - 2, 28)  # seven decodes side by side


def test_the_endpoint_refuses_an_unknown_model_and_junk_with_a_sentence(zoo, seven):
    image, trusted = seven
    engines = Engines(zoo.catalogue)
    with pytest.raises(gr.Error, match="Unknown model"):
        explained(engines, trusted, image, "nope")
    with pytest.raises(gr.Error, match="file"):
        explained(engines, trusted, "junk", None)


@pytest.mark.parametrize("name", ["ae-64", "pca-4"])
def test_the_page_shows_the_most_telling_rows_with_their_heat_maps(zoo, name, mnist_test):
    engine = Engines(zoo.catalogue).get(name)
    shown = explain_rows(engine, mnist_test.images[0].numpy() / 255, SHOWN)
    assert len(shown) == min(SHOWN, engine.code_size)
    html = rows_html(engine, shown)
    assert html.count('class="dimension-row"') == len(shown) and html.count('class="heat"') == len(shown)
    assert html.count('class="digit"') == 7 * len(shown) and "your code" in html


def test_a_heat_map_is_black_where_nothing_changes_and_pale_where_most():
    h = np.zeros((28, 28), np.float32)
    h[5, 5], h[6, 6] = 1.0, 0.5
    img = np.asarray(heat_image(h, scale=1))
    assert img.shape == (28, 28, 3) and img[0, 0].tolist() == [0, 0, 0] and img[5, 5].tolist() == [255, 255, 224]
    assert 0 < img[6, 6].sum() < img[5, 5].sum()

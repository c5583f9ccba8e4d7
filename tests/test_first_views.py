"""The first three views as first painted (a digit shown before any input), the VAE's spread in the main view, and
the 2-number VAE's plane; in-process, with the shipped weights."""

from pathlib import Path

import numpy as np
import pytest

from ae.i18n import CHINESE, TABLE, L, t
from ae.inference import Engines
from ae.ui.context import first_digit
from ae.ui.explore import DRAWS, FIRST, Handlers
from ae.ui.interpolate import another_example
from ae.ui.plane import SPREAD, WAITING, Plane, placed, vae_plane
from ae.zoo import load_zoo

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def zoo():
    return load_zoo()


@pytest.fixture(scope="module")
def engines(zoo):
    return Engines(zoo.catalogue)


@pytest.fixture(scope="module")
def digit():
    x, name = first_digit(EXAMPLES, seed=1)
    return x, name


def test_the_first_paint_shows_the_digit_its_code_and_its_reconstruction(engines, digit):
    h = Handlers(engines)
    model_input, recon, chart, numbers, status, code, sliders, current = h.show_input(digit[0], L(FIRST), say=L)
    assert model_input and recon  # the two pictures, as files
    assert chart.count("<title>dimension") == 2 * engines.default.code_size and numbers.startswith("[")
    assert len(code) == engines.default.code_size and sliders == pytest.approx(h.slider_values(np.array(code)))
    assert type(status) is not str and np.array_equal(current, digit[0])  # L's: the page shows it translated


def test_the_first_status_says_what_the_digit_is_in_both_languages(engines, digit):
    status = Handlers(engines).show_input(digit[0], t(FIRST), say=t)[4]
    assert "MSE" in status and "picked at random" in status
    assert t(FIRST, CHINESE) == TABLE[FIRST] and "随机" in TABLE[FIRST]


def test_a_vae_gives_each_code_number_a_spread_around_the_code(engines, digit):
    vae, plain = engines.get("vae-16"), engines.get("ae-16")
    sd = vae.spread(digit[0])
    assert sd.shape == (16,) and (sd > 0).all()
    assert sd.mean() < 1  # a real digit pins its code down more than the prior N(0, I) does
    assert plain.spread(digit[0]) is None  # a plain autoencoder's code is one point


def test_the_main_view_shows_a_vaes_spread_and_draws_from_it(engines, digit):
    h = Handlers(engines)
    chart = h.show_input(digit[0], name="vae-16")[2]
    assert 'id="code-spread"' in chart and chart.count("<circle") == 16 and chart.count('class="digit"') == DRAWS
    assert "spread" in chart and "code-spread" not in h.show_input(digit[0], name="ae-16")[2]


@pytest.fixture(scope="module")
def planes(zoo, engines):
    model = zoo.by_size[2]
    sample = zoo.codes[model.source]
    vae = engines.get("vae-2").model
    return Plane(model, sample.codes, sample.labels), vae_plane(vae, zoo.latent_map.images, zoo.latent_map.labels)


def test_the_vaes_codes_fill_a_round_cloud_and_its_grid_has_no_empty_cell(planes, zoo, engines):
    _, theirs = planes
    codes = engines.get("vae-2").model.encode(zoo.latent_map.images[:2000].float() / 255)
    assert theirs.lo == [-SPREAD, -SPREAD] and theirs.hi == [SPREAD, SPREAD]
    assert codes.mean(0).abs().max() < 0.5 and ((codes.std(0) > 0.5) & (codes.std(0) < 2)).all()
    assert (codes.abs() < SPREAD).all(1).float().mean() > 0.95
    cells = np.asarray(theirs.grid.convert("L"), dtype=np.float32).reshape(15, 28, 15, 28) / 255
    assert (cells.max(axis=(1, 3)) > 0.5).all()  # every decoded point draws strokes


def test_the_plane_places_the_visitors_digit_with_the_sliders_there(planes, digit):
    plane, theirs = planes
    grid, dots, note, picked, a, b, vae_grid, vae_dots, vae_note = placed(plane, theirs, digit[0])
    code = plane.encode(digit[0])
    assert [a, b] == plane.inside(code) and picked.size == (280, 280)
    assert f"({code[0]:.2f}, {code[1]:.2f})" in note and "variational autoencoder" in vae_note
    assert grid.tobytes() != plane.grid.tobytes() and vae_grid.tobytes() != theirs.grid.tobytes()  # the rings
    waiting = placed(plane, theirs, None)
    assert waiting[2] == t(WAITING) and waiting[3] is None


def test_interpolation_starts_with_another_digit(digit):
    start = another_example(EXAMPLES, digit[1])
    assert start.name.split("-")[1] != digit[1].split("-")[1]

import math

import numpy as np
import pytest
from PIL import Image

from ae.checkpoint import DEFAULT_PATH, load_checkpoint
from ae.inference import Engine
from ae.models import as_model
from ae.preprocess import InputError
from ae.ui.render import chart_scale, code_chart, code_text, to_image


@pytest.fixture(scope="module")
def engine():
    return Engine(as_model(load_checkpoint(DEFAULT_PATH)))


def test_run_reconstructs_a_real_digit(engine, mnist_test):
    img = Image.fromarray(mnist_test.images[0].numpy()).resize((280, 280))
    result = engine.run(img)
    assert result.model_input.shape == result.reconstruction.shape == (28, 28)
    assert result.code.shape == (64,)
    assert result.mse < 0.02


def test_the_first_sliders_change_the_picture_most(engine):
    # What the order is for: moved as far as digits usually move it (one standard deviation each way), a
    # slider shown first redraws more of the digit than one shown last. The ranking is by the spread of the
    # training codes alone, so this checks that the spread says what matters to the picture.
    mean, std = engine.stats.mean.numpy(), engine.stats.std.numpy()

    def effect(dim: int) -> float:
        low, high = mean.copy(), mean.copy()
        low[dim], high[dim] = mean[dim] - std[dim], mean[dim] + std[dim]
        return float(np.abs(engine.decode(high) - engine.decode(low)).mean())

    first = [effect(d) for d in engine.by_importance[:8]]
    last = [effect(d) for d in engine.by_importance[-8:]]
    assert sorted(engine.by_importance) == list(range(64))
    assert np.mean(first) > 1.2 * np.mean(last), (first, last)  # 1.33 for the shipped model


def test_range_ends_are_exact_two_decimal_numbers(engine):
    # Gradio compares slider values as Python floats: an end stored as float32(-12.67) = -12.670000076 would
    # put the slider's own minimum below the minimum it declares, and Gradio would refuse it.
    for end in (*engine.low.tolist(), *engine.high.tolist()):
        assert end == round(end, 2)
    assert (engine.low < engine.stats.min.numpy()).all() and (engine.high > engine.stats.max.numpy()).all()


def test_check_code_accepts_the_slider_range(engine):
    assert engine.check_code(engine.low.tolist()).shape == (64,)
    assert engine.check_code({"code": engine.high.tolist()}).shape == (64,)
    assert engine.check_code([0] * 64).dtype == np.float32  # integers are numbers too


@pytest.mark.parametrize(("values", "words"), [
    ([0.0] * 10, "got 10"),
    ([math.nan] + [0.0] * 63, "non-finite"),
    ([math.inf] + [0.0] * 63, "non-finite"),
    ([True] * 64, "list of 64 numbers"),
    (None, "list of 64 numbers"),
    ([[0.0]] * 64, "list of 64 numbers"),
])
def test_check_code_refuses(engine, values, words):
    with pytest.raises(InputError, match=words):
        engine.check_code(values)


def test_out_of_range_names_the_dimension(engine):
    values = engine.high.tolist()
    values[5] = float(engine.high[5] + 10 * (engine.high[5] - engine.low[5]))
    with pytest.raises(InputError, match="first dimension 5"):
        engine.check_code(values)


def test_renderings(engine):
    x = np.zeros((28, 28), np.float32)
    x[10, 12] = 1.0
    img = to_image(x)
    assert img.size == (280, 280) and img.getpixel((125, 105)) == 255 and img.getpixel((115, 105)) == 0
    code = engine.stats.mean.numpy()
    scale = chart_scale(engine.stats.mean.numpy(), engine.stats.std.numpy())
    assert scale < max(np.abs(engine.low).max(), np.abs(engine.high).max()) / 1.5  # ordinary codes fill the chart
    html = code_chart(code, scale)
    assert html.count("<title>dimension") == 2 * 64
    assert "+" + f"{scale:.1f}" in html and "-" + f"{scale:.1f}" in html  # the axis and the grid's key
    assert code_text(code).count(",") == 63
    far = code_chart(np.full(64, 10 * scale, dtype=np.float32), scale)
    assert 'y="-' not in far  # a value past the scale stops at the chart's edge

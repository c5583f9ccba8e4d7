"""The main view's handlers, called in-process as Gradio calls them (no server, no browser)."""

import io
import logging

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ae.checkpoint import DEFAULT_PATH, load_checkpoint
from ae.inference import Engine
from ae.ui.errors import UNFORESEEN
from ae.ui.explore import Handlers
from ae.ui.inputs import EMPTY_CANVAS


@pytest.fixture(scope="module")
def handlers():
    return Handlers(Engine(load_checkpoint(DEFAULT_PATH)))


@pytest.fixture
def seven(tmp_path, mnist_test, handlers):
    path = tmp_path / "seven.png"
    Image.fromarray(mnist_test.images[0].numpy()).resize((280, 280)).save(path)
    handlers.trusted = (tmp_path,)  # as Gradio's upload cache is, for the handlers
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def test_upload_shows_every_output(handlers, seven):
    model_input, recon, chart, numbers, message, encoded, sliders, current = handlers.on_upload(seven)
    assert Image.open(model_input).size == Image.open(recon).size == (280, 280)  # files in Gradio's cache
    assert current.shape == (28, 28) and current.max() > 0.9  # for the other views
    assert "MSE" in message and len(encoded) == 64 and chart.count("<title>dimension") == 128
    assert sliders == pytest.approx(np.clip(encoded, handlers.engine.low, handlers.engine.high), abs=1e-3)


def test_a_file_outside_the_trusted_folders_is_refused_on_the_page(handlers, tmp_path, mnist_test):
    outside = tmp_path.parent / "elsewhere.png"
    Image.fromarray(mnist_test.images[0].numpy()).save(outside)
    model_input, recon, chart, numbers, message, encoded, _, current = handlers.on_upload({"path": str(outside)})
    assert model_input is None and recon is None and encoded is None and current is None
    assert "not uploaded" in message


def test_draw_reads_the_drawing_the_page_sent_ahead(handlers):
    img = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(200, 60), (200, 340)], fill=(0, 0, 0, 255), width=30)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    handlers.blobs.put("visitor", "abc", buf.getvalue())
    model_input, _, _, _, message, _, _, _ = handlers.on_draw({"composite": None, "id": "abc"})
    assert "MSE" in message and "abc" not in handlers.blobs  # consumed
    assert np.asarray(Image.open(model_input)).max() > 200


@pytest.mark.parametrize("sketch", [None, {"composite": None, "id": "never-sent"}, {"id": ["x"]}, "canvas"])
def test_an_empty_canvas_says_so(handlers, sketch):
    *_, message, encoded, _, _ = handlers.on_draw(sketch)
    assert EMPTY_CANVAS in message and encoded is None


def test_slide_and_reset(handlers, seven):
    encoded = handlers.on_upload(seven)[5]  # the code
    edited = list(encoded)
    dim = handlers.engine.by_importance[0]
    edited[dim] = float(handlers.engine.high[dim])
    recon, chart, numbers, note = handlers.on_slide(encoded, edited)
    assert Image.open(recon).size == (280, 280) and "distance from the encoded code" in note
    assert float(note.rsplit(" ", 1)[1]) == pytest.approx(abs(edited[dim] - encoded[dim]), abs=0.01)
    *_, note, sliders = handlers.on_reset(encoded)
    assert note.endswith("0.00") and sliders == pytest.approx(handlers.slider_values(np.array(encoded)), abs=1e-6)


def test_a_bad_code_is_a_message_not_an_error(handlers):
    recon, chart, numbers, note = handlers.on_slide(None, [0.0] * 3)
    assert recon is None and "64 numbers, got 3" in note


def test_a_bug_gets_a_plain_message_and_a_logged_traceback(handlers, seven, monkeypatch, caplog):
    def broken(*_):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(handlers.engine, "run_file", broken)
    with caplog.at_level(logging.INFO, logger="ae.app"):
        *_, message, encoded, _, _ = handlers.on_upload(seven)
    assert UNFORESEEN in message and "internal detail" not in message
    assert caplog.records[-1].exc_info is not None  # the traceback went to the log

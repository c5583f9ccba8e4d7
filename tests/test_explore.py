"""The main view's handlers, called in-process as Gradio calls them (no server, no browser)."""

import io
import logging

import gradio as gr
import numpy as np
import pytest
from PIL import Image, ImageDraw

from ae.inference import Engines
from ae.ui.errors import UNFORESEEN
from ae.ui.explore import Handlers
from ae.ui.inputs import EMPTY_CANVAS
from ae.zoo import load_zoo


@pytest.fixture(scope="module")
def handlers():
    return Handlers(Engines(load_zoo().catalogue))


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


def test_picking_the_8_number_model_gives_8_sliders_with_its_decoder(handlers, seven):
    x = handlers.on_upload(seven)[7]  # the visitor's current input
    chosen, steer, sliders, model_input, recon, chart, numbers, message, encoded = handlers.on_choose("ae-8", x)
    assert chosen == "ae-8" and "8 numbers" in steer and len(encoded) == 8
    assert len(sliders["value"]) == 8 and sorted(sliders["order"]) == list(range(8)) and sliders["shown"] == 8
    assert sliders["decoder_url"] == handlers.decoders.get("ae-8", "") and chart.count("<title>dimension") == 16
    assert "ae-8 averages" in message  # the stored figure is the chosen model's
    recon_8, *_ = handlers.on_slide(encoded, sliders["value"], "ae-8")  # its sliders decode with it
    assert Image.open(recon_8).size == (280, 280)
    *_, note = handlers.on_slide(encoded, sliders["value"], None)  # the served model wants 64 numbers
    assert "64 numbers, got 8" in note
    assert handlers.on_upload(seven, "ae-8")[5] == pytest.approx(encoded, abs=1e-5)  # the next digit, same model
    *_, note, back = handlers.on_reset(encoded, "ae-8")
    assert note.endswith("0.00") and len(back) == 8
    assert len(handlers.show_input(x, "a digit another view picked", "ae-8")[5]) == 8  # e.g. a click on the map


def test_picking_before_any_digit_sets_the_sliders_and_says_so(handlers):
    chosen, _, sliders, model_input, *_, message, encoded = handlers.on_choose("pca-16", None)
    assert chosen == "pca-16" and len(sliders["value"]) == 16 and model_input is None and encoded is None
    assert "pca-16" in message and "PCA" in message


@pytest.mark.parametrize("name", ["ae-7", "AE-8", "../../etc/passwd", 8, {"name": "ae-8"}])
def test_an_unknown_pick_changes_nothing_and_lists_the_models(handlers, name):
    out = handlers.on_choose(name, None)
    assert out[-2].startswith("⚠️") and "ae-64" in out[-2] and "pca-2" in out[-2], out[-2]
    assert all(isinstance(v, type(gr.skip())) for i, v in enumerate(out) if i != len(out) - 2)


def test_a_model_whose_decoder_the_page_cannot_run_gets_no_url():
    from ae.ui.serve import decoder_url
    from tests.test_models import _Negative

    assert decoder_url(_Negative("neg-3", 3)) == ""  # no layers: the sliders send every move to the server


def test_a_model_the_page_cannot_decode_says_it_decodes_on_the_server(handlers, seven, monkeypatch):
    x = handlers.on_upload(seven)[7]
    # as build sets them: the conv models have no decoder the page can run
    monkeypatch.setattr(handlers, "decoders", {"ae-8": "/decoders/ae-8.safetensors"})
    assert "server" not in handlers.on_choose("ae-8", x)[1]
    chosen, steer, *_ = handlers.on_choose("conv-16", x)
    assert chosen == "conv-16" and "16 numbers" in steer and "decoded on the server" in steer

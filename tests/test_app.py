"""The app as users and programmers reach it: `python app.py` on a local port, driven by gradio_client."""

import json

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageDraw

from ae.checkpoint import DEFAULT_PATH, load_checkpoint
from ae.inference import Engine
from ae.models import as_model
from ae.ui.app_server import CallError, http_call

CODE_SIZE = 64
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(server):
    # httpx's default 5 s read timeout: on a loaded CI machine the app's first config fetch took longer
    return Client(server.url, verbose=False, httpx_kwargs={"timeout": 300})


@pytest.fixture(scope="module")
def engine():
    return Engine(as_model(load_checkpoint(DEFAULT_PATH)))  # the server's checkpoint, for its slider ranges


@pytest.fixture
def seven(tmp_path, mnist_test):
    path = tmp_path / "seven.png"
    Image.fromarray(mnist_test.images[0].numpy()).resize((280, 280)).save(path)  # the first test digit is a 7
    return path


def grey(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255


def test_encode_returns_64_floats(client, seven):
    code = client.predict(handle_file(seven), api_name="/encode")
    assert len(code) == CODE_SIZE and all(isinstance(v, float) for v in code)


def test_reconstruct_and_decode_agree(client, seven):
    model_input, recon, code = client.predict(handle_file(seven), api_name="/reconstruct")
    x, y = grey(model_input), grey(recon)
    assert x.shape == y.shape == (28, 28)
    assert np.mean((x - y) ** 2) < 0.03  # a real 7 is rebuilt recognisably
    assert code == pytest.approx(client.predict(handle_file(seven), api_name="/encode"), abs=1e-5)
    decoded = grey(client.predict(code, api_name="/decode"))
    np.testing.assert_allclose(decoded, y, atol=1 / 255)


def test_decode_accepts_the_copyable_text(client, seven):
    _, recon, _, text, *_ = client.predict(handle_file(seven), api_name="/upload")  # the page's number box
    decoded = grey(client.predict(json.loads(text), api_name="/decode"))
    shown = np.asarray(Image.open(recon).convert("L").resize((28, 28), Image.Resampling.BOX), np.float32) / 255
    assert np.abs(decoded - shown).max() < 0.05  # the copied numbers (4 decimals) decode to the picture shown


def test_upload_fills_the_page_and_sets_the_sliders(client, seven):
    out = client.predict(handle_file(seven), api_name="/upload")
    model_input, recon, chart, numbers, message, sliders = out
    assert model_input and recon
    assert Image.open(model_input).size == (280, 280)  # shown enlarged
    assert chart.count("<rect") >= 2 * CODE_SIZE
    assert len(json.loads(numbers)) == CODE_SIZE
    assert "MSE" in message
    assert sliders == pytest.approx(json.loads(numbers), abs=1e-3)  # the sliders jump to the new code


def test_slider_path_decodes_the_edited_code(client, seven, engine):
    code = client.predict(handle_file(seven), api_name="/encode")
    recon_a, _, numbers, message = client.predict(code, api_name="/slide")
    dim = engine.by_importance[0]
    edited = list(code)
    edited[dim] = float(engine.low[dim] + 0.9 * (engine.high[dim] - engine.low[dim]))  # far along its slider
    recon_b, _, numbers_b, _ = client.predict(edited, api_name="/slide")
    assert json.loads(numbers_b)[dim] == pytest.approx(edited[dim], abs=1e-4)
    assert np.abs(grey(recon_a) - grey(recon_b)).max() > 0.05  # the picture follows the slider
    assert "distance" in message


def test_reset_returns_the_sliders_to_the_encoded_code(client, seven, engine):
    code = client.predict(handle_file(seven), api_name="/upload")[5]  # this session's slider positions
    client.predict(engine.low.tolist(), api_name="/slide")
    recon, chart, numbers, message, sliders = client.predict(api_name="/reset")
    assert sliders == pytest.approx(code, abs=1e-5)
    assert json.loads(numbers) == pytest.approx(code, abs=1e-3)
    assert recon is not None and "distance from the encoded code: 0.00" in message


def test_draw_path_with_a_canvas_image(client, tmp_path):
    img = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(200, 60), (200, 340)], fill=(0, 0, 0, 255), width=28)  # a "1"
    img.save(tmp_path / "one.png")
    canvas = {"background": None, "layers": [], "composite": handle_file(tmp_path / "one.png")}
    model_input, recon, *_ = client.predict(canvas, api_name="/draw")
    assert grey(model_input).max() > 0.9 and grey(recon).max() > 0.5


# ---- bad input: a clear message, nothing stale on screen, and the server keeps serving -------------

def save(tmp_path, name, img, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def bad_files(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture at all")
    return {
        "1x1": (save(tmp_path, "one.png", Image.new("L", (1, 1), 0)), "blank"),
        "huge": (save(tmp_path, "huge.png", Image.new("1", (10000, 10000), 0)), "10000x10000"),
        "not an image": (text, "not an image"),
        "all white": (save(tmp_path, "white.png", Image.new("RGB", (300, 300), "white")), "blank"),
        "all black": (save(tmp_path, "black.png", Image.new("RGB", (300, 300), "black")), "blank"),
    }


def good_files(tmp_path):
    stroke = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(stroke).line([(100, 30), (100, 170)], fill=0, width=16)
    arr16 = (np.asarray(stroke, dtype=np.uint16) * 257).astype(np.uint16)
    rgba = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).line([(100, 30), (100, 170)], fill=(0, 0, 0, 255), width=16)
    anim = tmp_path / "anim.gif"
    stroke.save(anim, save_all=True, append_images=[Image.new("L", (200, 200), 255)], duration=100)
    return {
        "16-bit png": (save(tmp_path, "deep.png", Image.fromarray(arr16)), None),
        "cmyk jpeg": (save(tmp_path, "cmyk.jpg", stroke.convert("CMYK")), None),
        "transparent png": (save(tmp_path, "clear.png", rgba), None),
        "animated gif": (anim, "first"),
    }


def test_bad_files_get_messages_and_clear_the_page(client, tmp_path, seven):
    for name, (path, words) in bad_files(tmp_path).items():
        client.predict(handle_file(seven), api_name="/upload")  # something on screen first
        model_input, recon, chart, numbers, message, *_ = client.predict(handle_file(path), api_name="/upload")
        assert words in message, name
        assert model_input is None and recon is None and chart == "" and numbers == "", name
        with pytest.raises(AppError, match=words):
            client.predict(handle_file(path), api_name="/encode")


def test_odd_but_usable_files_work(client, tmp_path):
    for name, (path, note) in good_files(tmp_path).items():
        model_input, recon, chart, numbers, message, *_ = client.predict(handle_file(path), api_name="/upload")
        assert model_input is not None and grey(model_input).max() > 0.9, name
        assert "MSE" in message and (note is None or note in message), name


def test_blank_and_cleared_canvas(client, tmp_path):
    blank = save(tmp_path, "blank.png", Image.new("RGBA", (400, 400), (0, 0, 0, 0)))
    for canvas in ({"background": None, "layers": [], "composite": handle_file(blank)}, None):
        model_input, recon, chart, numbers, message, *_ = client.predict(canvas, api_name="/draw")
        assert "canvas is empty" in message
        assert model_input is None and recon is None


@pytest.mark.parametrize(("code", "words"), [
    ([0.0] * 63, "64 numbers, got 63"),
    ([0.0] * 65, "64 numbers, got 65"),
    ([1e6] + [0.0] * 63, "outside the range"),
    (["a"] * 64, "list of 64 numbers"),
    ("not a list", "list of 64 numbers"),
])
def test_bad_codes_are_refused(client, code, words):
    with pytest.raises(AppError, match=words):
        client.predict(code, api_name="/decode")


def test_api_page_lists_the_three_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/encode", "/decode", "/reconstruct"} <= set(endpoints)
    assert not {"/draw", "/upload", "/slide", "/reset"} & set(endpoints)  # page plumbing stays out of the docs


def test_the_code_size_endpoints(client, seven):
    figures = client.predict(api_name="/test_figures")
    sizes = [f["code_size"] for f in figures]
    assert 64 in sizes and len(sizes) >= 2
    for f in figures:  # the shipped recipe beats the best linear code at every size
        assert f["autoencoder_test_mse"] < f["pca_test_mse"], f
    for size in (min(sizes), 64):
        for method in ("autoencoder", "pca"):
            picture, mse = client.predict(handle_file(seven), size, method, api_name="/reconstruct_at_size")
            assert grey(picture).shape == (28, 28) and 0 <= mse < 0.2
    _, small = client.predict(handle_file(seven), min(sizes), "autoencoder", api_name="/reconstruct_at_size")
    _, large = client.predict(handle_file(seven), 64, "autoencoder", api_name="/reconstruct_at_size")
    assert large < small  # a real 7 loses more through the smallest code
    for f in figures:  # the convolutional autoencoder where it was trained (16 and 64 numbers), nothing elsewhere
        assert (f["conv_test_mse"] is not None) == (f["code_size"] in (16, 64)), f
    for size in (16, 64):
        picture, mse = client.predict(handle_file(seven), size, "conv", api_name="/reconstruct_at_size")
        assert grey(picture).shape == (28, 28) and 0 <= mse < 0.2


@pytest.mark.parametrize(("size", "method", "words"), [
    (3, "autoencoder", "code_size must be one of"),
    ("64", "pca", "code_size must be one of"),
    (True, "pca", "code_size must be one of"),
    (64, "tsne", "method must be 'autoencoder', 'conv' or 'pca'"),
    (8, "conv", r"no convolutional autoencoder with 8 numbers; its sizes are \[16, 64\]"),
    (2, "conv", "no convolutional autoencoder with 2 numbers"),
])
def test_the_code_size_endpoint_refuses_what_it_cannot_do(client, seven, size, method, words):
    with pytest.raises(AppError, match=words):
        client.predict(handle_file(seven), size, method, api_name="/reconstruct_at_size")


def test_interpolate_gives_frames_that_end_at_the_two_reconstructions(client, seven, tmp_path, mnist_test):
    one = tmp_path / "one.png"
    Image.fromarray(mnist_test.images[2].numpy()).resize((280, 280)).save(one)  # test digit 2 is a 1
    frames = client.predict(handle_file(seven), handle_file(one), 9, api_name="/interpolate")
    assert len(frames) == 9
    for path, image in ((frames[0], seven), (frames[-1], one)):
        _, recon, _ = client.predict(handle_file(image), api_name="/reconstruct")
        np.testing.assert_allclose(grey(path), grey(recon), atol=1 / 255)


def test_generate_is_repeatable_per_seed(client):
    a = [grey(p) for p in client.predict("3", 4, 11, 1.0, api_name="/generate")]
    b = [grey(p) for p in client.predict("3", 4, 11, 1.0, api_name="/generate")]
    c = [grey(p) for p in client.predict("3", 4, 12, 1.0, api_name="/generate")]
    assert len(a) == 4 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert all(0 <= x.min() and x.max() <= 1 and x.max() > 0.5 for x in a)
    assert len(client.predict("any", 2, 0, 0.5, api_name="/generate")) == 2


def test_denoise_answers_four_pictures(client, seven):
    noisy, plain, dae, median = client.predict(handle_file(seven), "salt_pepper", 0.3, 1, api_name="/denoise")
    _, clean, _ = client.predict(handle_file(seven), api_name="/reconstruct")
    assert all(grey(p).shape == (28, 28) for p in (noisy, plain, dae, median))
    assert np.mean((grey(dae) - grey(clean)) ** 2) < np.mean((grey(noisy) - grey(clean)) ** 2)


@pytest.mark.parametrize(("name", "args", "words"), [
    ("/generate", ("7", 0, 0, 1.0), "count must be a whole number from 1 to 64"),
    ("/generate", ("7", 10000, 0, 1.0), "count must be a whole number from 1 to 64"),
    ("/generate", ("11", 4, 0, 1.0), "digit must be one of"),
    ("/generate", ("7", 4, -1, 1.0), "seed must be"),
    ("/generate", ("7", 4, 0, 5.0), "temperature must be a number from 0 to 3"),
    ("/denoise", (None, "gaussian", -1, 0), "strength must be a number from 0 to 1"),
    ("/denoise", (None, "fire", 0.1, 0), "kind must be one of"),
    ("/interpolate", (None, None, 100), "frame_count must be a whole number from 2 to 32"),
])
def test_the_new_endpoints_refuse_out_of_range_arguments(client, seven, name, args, words):
    args = tuple(handle_file(seven) if a is None else a for a in args)
    with pytest.raises(AppError, match=words):
        client.predict(*args, api_name=name)


def test_classify_reads_the_digit_from_its_code(client, seven):
    answer = client.predict(handle_file(seven), api_name="/classify")
    assert answer["digit"] == 7 and len(answer["probabilities"]) == 10
    assert sum(answer["probabilities"]) == pytest.approx(1, abs=1e-4) and max(answer["probabilities"]) > 0.5


def test_the_latent_map_places_a_test_digit_among_its_own_kind(client, seven):
    answer = client.predict(handle_file(seven), api_name="/latent_map")
    assert len(answer["pca"]) == len(answer["tsne"]) == 2
    for key in ("nearest_by_code", "nearest_by_pixels"):
        near = answer[key]
        assert len(near) == 8 and [n["distance"] for n in near] == sorted(n["distance"] for n in near)
        assert 0 in [n["test_index"] for n in near[:3]], near  # the upload is test digit 0, enlarged
        assert sum(n["label"] == 7 for n in near) >= 6, near


def test_the_outlier_meter_tells_a_digit_from_a_block(client, seven, tmp_path):
    digit = client.predict(handle_file(seven), api_name="/outlier")
    assert not digit["flagged"] and digit["percentile"] < 90 and "looks like" in digit["verdict"]
    assert len(digit["parts"]) >= 2 and digit["parts"][0]["description"].startswith("reconstruction error")
    block = tmp_path / "block.png"
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).rectangle((40, 60, 160, 140), fill=0)  # a filled black box, nothing like a digit
    img.save(block)
    box = client.predict(handle_file(block), api_name="/outlier")
    assert box["flagged"] and box["percentile"] > 99 and "unlike" in box["verdict"]


@pytest.mark.parametrize("name", ["/classify", "/latent_map", "/outlier"])
def test_the_image_endpoints_refuse_what_is_not_an_image(client, tmp_path, name):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(AppError, match="not an image this demo can read"):
        client.predict(handle_file(text), api_name=name)
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    with pytest.raises(AppError, match="No digit found"):
        client.predict(handle_file(blank), api_name=name)


def test_a_click_on_the_map_loads_that_test_digit_and_bad_clicks_are_refused(client):
    out = client.predict({"pick": {"map": "tsne", "x": 0.5, "y": 0.5}}, api_name="/map_click")
    model_input, recon, _, _, message, code, *_ = out
    assert "picked on the latent map" in message and grey(model_input).max() > 0.5 and len(code) == CODE_SIZE
    for value in ({"pick": {"map": "umap", "x": 0.5, "y": 0.5}}, {"pick": {"map": "pca", "x": 2, "y": 0}},
                  {"pick": "here"}, [1, 2], None):
        model_input, recon, _, _, message, *_ = client.predict(value, api_name="/map_click")
        assert model_input is None and recon is None and message.startswith("⚠️"), (value, message)


def test_models_lists_the_autoencoders_and_pca(client):
    listed = {m["name"]: m for m in client.predict(api_name="/models")}
    assert {"ae-2", "ae-4", "ae-8", "ae-16", "ae-32", "ae-64", "ae-denoise"} <= set(listed)
    assert {"pca-2", "pca-8", "pca-64"} <= set(listed)
    assert listed["ae-8"]["code_size"] == 8 and listed["ae-64"]["default"] and 0 < listed["ae-8"]["test_mse"] < 0.1


def test_the_endpoints_serve_the_model_named(client, seven):
    code = client.predict(handle_file(seven), "ae-8", api_name="/encode")
    assert len(code) == 8
    _, recon, same = client.predict(handle_file(seven), "ae-8", api_name="/reconstruct")
    assert same == pytest.approx(code, abs=1e-5)
    np.testing.assert_allclose(grey(client.predict(code, "ae-8", api_name="/decode")), grey(recon), atol=1 / 255)
    assert len(client.predict(handle_file(seven), handle_file(seven), 3, "pca-8", api_name="/interpolate")) == 3
    with pytest.raises(AppError, match="Unknown model 'ae-9'; this server has: ae-2, ae-4, ae-8"):
        client.predict(code, "ae-9", api_name="/decode")
    with pytest.raises(AppError, match="The code must have 8 numbers, got 64"):
        client.predict([0.0] * 64, "ae-8", api_name="/decode")


def test_each_visitor_keeps_their_own_model(server, seven):
    one, other = (Client(server.url, verbose=False, httpx_kwargs={"timeout": 300}) for _ in range(2))
    out = one.predict("ae-8", api_name="/choose_model")
    assert "8 numbers" in out[0]  # the text above the sliders (states stay on the server)
    assert len(one.predict(handle_file(seven), api_name="/upload")[5]) == 8  # this visitor's digits: 8 numbers
    assert len(other.predict(handle_file(seven), api_name="/upload")[5]) == CODE_SIZE  # the other's: still 64
    assert "decoding" in one.predict([0.0] * 8, api_name="/slide")[-1].lower()
    assert "64 numbers, got 8" in other.predict([0.0] * 8, api_name="/slide")[-1]


def test_the_first_launch_page_answers_every_endpoint_the_app_registers():
    import app
    from ae.ui import api
    from ae.ui.serve import endpoint_names

    declared = set(endpoint_names([api] + [view for _, _, view, _ in app.VIEWS]))
    named = {fn.api_name for fn in app.demo.fns.values() if fn.api_name in declared}
    documented = {fn.api_name for fn in app.demo.fns.values() if fn.api_visibility == "public"}
    assert named == declared and documented <= declared, documented - declared


def test_calls_without_the_model_argument_still_work_over_plain_http(server, seven):
    with httpx.Client(base_url=server.url, timeout=120) as http:
        code = http_call(http, "decode", [[0.0] * CODE_SIZE])  # one argument, as before `model` existed
        assert code[0]["url"]
        small = http_call(http, "decode", [[0.0] * 8, "ae-8"])
        assert small[0]["url"]
        with pytest.raises(CallError, match="Unknown model"):
            http_call(http, "decode", [[0.0] * 8, "ae-9"])

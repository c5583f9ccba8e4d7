"""A person at the page: Playwright drives Debian's chromium, draws a digit with the mouse, moves a slider.

Timeouts are generous (WAIT) because a loaded 2-core CI machine can take many seconds per request; the
latency itself is measured by benchmarks/latency.py, not here. On a failure the page's screenshot is
saved (to $AE_SCREENSHOTS, else the test's tmp dir) and its path is in the failure message.
"""

import base64
import io
import os
import re

import numpy as np
import pytest
from PIL import Image

from ae.checkpoint import read_manifest
from ae.outliers import JUDGE_SCORES
from ae.ui.app_server import CHROMIUM, AppServer, ProgressPageRun, http_call
from tests.conftest import FIXTURES

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"chromium not found at {CHROMIUM}; .ci/run installs it")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

import gradio as gr  # noqa: E402
import httpx  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("AE_SCREENSHOTS")  # a directory to keep screenshots in, to look at
WAIT = 180_000  # ms; see the module docstring


@pytest.fixture
def page(browser, server):
    """A fresh page (a new Gradio session) for each test, so no test depends on what another left on screen."""
    page = open_app(browser, server.url)
    expect(page.get_by_text("select the draw tool")).to_have_count(0, timeout=WAIT)  # ready to draw
    yield page
    page.close()


def open_app(browser, url: str, block_weights: bool = False):
    """The app in a 1280x800 page, its in-page decoder loaded (or its weights blocked, to force the fallback)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    if block_weights:
        page.route("**/decoder.safetensors", lambda route: route.abort())
    page.goto(url)
    page.locator("#sketch canvas").first.wait_for(timeout=WAIT)
    if not block_weights:
        page.wait_for_function(f"() => {DECODE_HERE}([0]) !== undefined", timeout=WAIT)
        page.wait_for_function(f"() => {DECODE_HERE}(Array(document.querySelectorAll('#sliders input').length)"
                               f".fill(0)) !== null", timeout=WAIT)
    return page


# The sliders' element exposes decodeHere(code): the picture the page itself computes for a code.
DECODE_HERE = "[...document.querySelectorAll('#sliders *')].find((e) => e.decodeHere).decodeHere"


@pytest.fixture
def shot(page, tmp_path, request):
    """shot(name) saves a full-page screenshot when AE_SCREENSHOTS is set; a failure always saves one."""
    folder = SHOTS or str(tmp_path)

    def take(name):
        path = os.path.join(folder, name)
        page.screenshot(path=path, full_page=True)
        return path

    yield (lambda name: take(name) if SHOTS else None)
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:  # see conftest
        print(f"screenshot of the failed page: {take('failed.png')}")


def brightness(page, locator) -> np.ndarray:
    """The picture an <img> shows, fetched from its src (independent of scrolling and lazy loading)."""
    body = page.request.get(locator.get_attribute("src")).body()
    return np.asarray(Image.open(io.BytesIO(body)).convert("L"), dtype=np.float32) / 255


def data_picture(src: str) -> np.ndarray:
    """An inline (data: URI) picture's pixels, grey, in [0, 1]."""
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L"), np.float32) / 255


def draw_seven(page):
    """A 7 drawn with the mouse, or on a touch screen with a finger (touch events, as a phone's screen sends them).

    The sketchpad joins the points it is given with straight lines, so two moves a stroke draw the same 7 as
    many; each move costs headless chromium's software canvas about 0.3 s (48 moves took 11 s, these 6 take 2 s).
    """
    box = page.locator("#sketch canvas").first.bounding_box()
    stroke = [(0.3, 0.25), (0.5, 0.25), (0.7, 0.25), (0.625, 0.375), (0.55, 0.5), (0.5, 0.64), (0.45, 0.78)]
    path = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke]
    if page.evaluate("() => navigator.maxTouchPoints > 0"):
        cdp = page.context.new_cdp_session(page)
        kinds = ["touchStart"] + ["touchMove"] * (len(path) - 1)
        for kind, (x, y) in zip(kinds, path, strict=True):
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    else:
        page.mouse.move(*path[0])
        page.mouse.down()
        for x, y in path[1:]:
            page.mouse.move(x, y)
        page.mouse.up()


def test_draw_then_steer(page, shot):
    shot("1-start.png")
    model_input = page.locator("#model-input img")
    recon = page.locator("#recon img")
    first = model_input.get_attribute("src")  # the first digit, shown before any input
    draw_seven(page)
    expect(model_input).not_to_have_attribute("src", first, timeout=WAIT)  # the drawing's own pictures
    expect(model_input).to_have_attribute("src", re.compile("/gradio_api/file="), timeout=WAIT)
    expect(recon).to_have_attribute("src", re.compile("/gradio_api/file="), timeout=WAIT)
    expect(page.locator("#message")).to_contain_text("MSE", timeout=WAIT)
    seen = brightness(page, model_input)
    assert seen.max() > 0.9 and seen.mean() < 0.5  # white ink on black, as MNIST
    rebuilt = brightness(page, recon)
    assert rebuilt.max() > 0.5 and rebuilt.std() > 0.1  # a picture, not a blank
    numbers = page.locator("#code-numbers textarea").input_value()
    assert len(numbers.strip("[]").split(",")) == 64
    shot("2-drawn.png")

    before = recon.get_attribute("src")
    slider = page.locator("[id^=dim-] input[type=range]").first  # the most variable dimension's slider
    encoded_value = slider.input_value()  # as the page shows the encoded code
    assert in_viewport(page, "#recon") and in_viewport(page, "[id^=dim-] input[type=range]")  # no scrolling
    drag(page, slider, 0.5, 0.92)  # towards its right end
    drawn_here = page.locator("#recon canvas.in-page-decode")
    expect(drawn_here).to_be_visible(timeout=WAIT)  # the page drew the new picture itself, over the old one
    expect(recon).not_to_have_attribute("src", before, timeout=WAIT)  # and the server followed once it stopped
    assert np.abs(brightness(page, recon) - rebuilt).max() > 0.1
    expect(page.locator("#message")).to_contain_text("edited code", timeout=WAIT)
    assert float(slider.input_value()) > float(encoded_value) + 1  # dragged right
    codes_match(page)  # the server's copy of the code is the sliders' code
    shot("3-steered.png")

    page.locator("#reset").click()  # the server sets the sliders back; the page must show it
    expect(page.locator("#message")).to_contain_text("distance from the encoded code: 0.00", timeout=WAIT)
    expect(slider).to_have_value(encoded_value, timeout=WAIT)


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800 and box["x"] + box["width"] <= 1280


def drag(page, slider, start: float, end: float, steps: int = 8) -> None:
    """Drag a slider's thumb with the mouse from `start` to `end` (fractions of its width)."""
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + start * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + end * box["width"], y, steps=steps)
    page.mouse.up()


def codes_match(page) -> None:
    """Wait until the code the server shows (#code-numbers) is the code the sliders hold."""
    page.wait_for_function("""() => {
      const shown = JSON.parse(document.querySelector('#code-numbers textarea').value || '[]');
      const inputs = [...document.querySelectorAll('#sliders input[data-dim]')];
      return shown.length === inputs.length && inputs.every(
        (i) => Math.abs(shown[Number(i.dataset.dim)] - Number(i.value)) < 1e-3);
    }""", timeout=WAIT)


def test_the_page_decodes_as_the_model_does(page, server):
    """The picture the page computes equals /decode's within 1/255 a pixel, for 100 random codes in the
    sliders' ranges (an 8-number checkpoint's: the test after this one)."""
    assert_page_decodes_like_server(page, server.url)


def assert_page_decodes_like_server(page, url: str, name: str | None = None, count: int = 100, worst: int = 1) -> None:
    """The page's pictures of `count` random codes in the sliders' ranges against /decode's, within `worst` grey
    levels a pixel (float16 weights: the small models' extreme codes reach 3-4 levels on a pixel in 1,000s)."""
    inputs = page.locator("#sliders input[data-dim]")
    ranges = sorted((int(i.get_attribute("data-dim")), float(i.get_attribute("min")), float(i.get_attribute("max")))
                    for i in inputs.all())
    low, high = np.array([r[1] for r in ranges]), np.array([r[2] for r in ranges])
    codes = low + (high - low) * np.random.default_rng(0).random((count, len(ranges)))
    here = np.array(page.evaluate(f"(codes) => codes.map((c) => {DECODE_HERE}(c))", codes.tolist()))
    with httpx.Client(base_url=url, timeout=120) as http:
        for code, pixels in zip(codes, here, strict=True):
            served = http.get(http_call(http, "decode", [code.tolist(), name])[0]["url"]).content
            model = np.asarray(Image.open(io.BytesIO(served)).convert("L"), dtype=np.float32).reshape(-1)
            assert np.abs(np.round(np.clip(pixels, 0, 1) * 255) - model).max() <= worst


def test_a_checkpoint_of_another_code_size_is_served_and_decoded_in_the_page(browser, tmp_path):
    """AE_CHECKPOINT=an 8-number model: the API takes 8 numbers and says so to 64, the page has 8 sliders and its
    own decoder agrees with the server's."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from ae.train import main as train

    path = tmp_path / "x.safetensors"
    train(["--code-size", "8", "--epochs", "1", "--limit", "500", "--data-dir", str(FIXTURES), "--out", str(path),
           "--no-progress"])
    with AppServer(AE_CHECKPOINT=str(path)) as small:
        client = Client(small.url, verbose=False, httpx_kwargs={"timeout": 300})
        assert client.predict([0.0] * 8, api_name="/decode")
        with pytest.raises(AppError, match="must have 8 numbers, got 64"):
            client.predict([0.0] * 64, api_name="/decode")
        page = open_app(browser, small.url)
        try:
            assert page.locator("#sliders input[data-dim]").count() == 8
            assert_page_decodes_like_server(page, small.url)
        finally:
            page.close()
    assert f"Serving {path}: autoencoder 784 -> 256 -> 8" in small.output()


def pick_model(page, name: str) -> None:
    """Choose a model in the main view's picker, as a person does: open it, click the entry."""
    page.locator("#model-picker input").click()
    page.get_by_role("option", name=re.compile(f"^{re.escape(name)}:")).click()


def test_picking_the_8_number_model_gives_its_sliders_and_decoder_to_this_visitor_only(browser, server):
    mine, theirs = open_app(browser, server.url), open_app(browser, server.url)
    try:
        draw_a_digit(mine)
        pick_model(mine, "ae-8")
        expect(mine.locator("#sliders input[data-dim]")).to_have_count(8, timeout=WAIT)
        expect(mine.locator("#message")).to_contain_text("ae-8 averages", timeout=WAIT)  # the digit, re-encoded
        mine.wait_for_function(f"() => {DECODE_HERE}(Array(8).fill(0)) !== null", timeout=WAIT)  # its weights
        assert len(mine.locator("#code-numbers textarea").input_value().strip("[]").split(",")) == 8
        assert_page_decodes_like_server(mine, server.url, name="ae-8", count=10, worst=4)
        before = mine.locator("#recon img").get_attribute("src")
        drag(mine, mine.locator("[id^=dim-] input[type=range]").first, 0.5, 0.9)
        expect(mine.locator("#recon canvas.in-page-decode")).to_be_visible(timeout=WAIT)  # drawn in the page
        expect(mine.locator("#recon img")).not_to_have_attribute("src", before, timeout=WAIT)  # then the server's
        codes_match(mine)
        assert theirs.locator("#sliders input[data-dim]").count() == 64  # the other visitor's model is unchanged
        draw_a_digit(theirs)
        expect(theirs.locator("#message")).to_contain_text("ae-64 averages", timeout=WAIT)
        assert len(theirs.locator("#code-numbers textarea").input_value().strip("[]").split(",")) == 64
        pick_model(mine, "pca-16")  # a linear model decodes in the page as well
        expect(mine.locator("#sliders input[data-dim]")).to_have_count(16, timeout=WAIT)
        mine.wait_for_function(f"() => ({DECODE_HERE}(Array(16).fill(0)) || []).length === 784", timeout=WAIT)
        assert_page_decodes_like_server(mine, server.url, name="pca-16", count=10)
    finally:
        mine.close()
        theirs.close()


def test_without_the_weights_the_server_decodes_every_move(browser, server):
    page = open_app(browser, server.url, block_weights=True)
    try:
        recon = page.locator("#recon img")
        slider = page.locator("[id^=dim-] input[type=range]").first
        drag(page, slider, 0.5, 0.8, steps=3)
        expect(recon).to_have_attribute("src", re.compile("/gradio_api/file="), timeout=WAIT)
        expect(page.locator("#message")).to_contain_text("edited code", timeout=WAIT)
        expect(page.locator("#recon canvas.in-page-decode")).to_have_count(0)
        codes_match(page)
    finally:
        page.close()


def draw_a_digit(page) -> None:
    """Draw a 7 and wait until the server has answered with its reconstruction: the encoder's input is no longer
    the picture shown before (whose message has an MSE too)."""
    seen = page.locator("#model-input img")
    before = seen.get_attribute("src")
    draw_seven(page)
    expect(seen).not_to_have_attribute("src", before, timeout=WAIT)
    expect(page.locator("#message")).to_contain_text("MSE", timeout=WAIT)


def test_the_code_sizes_view_shows_the_digit_at_every_size(page):
    """The second tab rebuilds the drawn digit at every size, by both methods."""
    draw_a_digit(page)
    open_tab(page, "Code sizes")
    pictures = page.locator("#sizes-table img")
    expect(pictures.first).to_be_visible(timeout=WAIT)
    assert pictures.count() >= 4 and pictures.count() % 2 == 0
    for i in range(pictures.count()):
        seen = data_picture(pictures.nth(i).get_attribute("src"))
        assert seen.max() > 0.3 and seen.std() > 0.05, i  # a picture, not a blank
    assert page.locator("#sizes-plot circle").count() == pictures.count()


def test_the_plane_and_the_curves_show_something(page):
    """The 2-number plane: pictures, the visitor's digit marked, a click decodes a point; the curves: plots."""
    draw_a_digit(page)
    open_tab(page, "2-number plane")
    expect(page.locator("#plane-note")).to_contain_text("Your digit encodes to", timeout=WAIT)
    grid = page.locator("#plane-grid img")
    seen = brightness(page, grid)
    assert seen.shape == (420, 420) and seen.std() > 0.1
    box = grid.bounding_box()
    page.wait_for_function("() => [...document.querySelectorAll('#plane-live *')].find((e) => e.decodeHere)"
                           "?.decodeHere([0, 0]) != null", timeout=WAIT)  # the 2-number weights are in
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"])  # decoded live, in the page
    expect(page.locator("#plane-live .coords")).to_contain_text("under the pointer", timeout=WAIT)
    live = page.evaluate("() => { const c = document.querySelector('#plane-live canvas');"
                         " return Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data); }")
    assert max(live[0::4]) > 80  # ink on the canvas
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"])
    picked = page.locator("#plane-picked img")
    expect(picked).to_have_attribute("src", re.compile("/gradio_api/file="), timeout=WAIT)
    assert brightness(page, picked).max() > 0.3
    open_tab(page, "Curves")
    for plot in ("#curves-served", "#curves-overfit", "#curves-lr"):
        expect(page.locator(f"{plot} polyline").first).to_be_visible(timeout=WAIT)


def test_interpolate_generate_and_denoise_show_pictures(page):
    draw_a_digit(page)
    open_tab(page, "Interpolate")
    page.locator("#interp-second").locator("..").locator(".gallery-item, button.gallery-item").nth(2).click()
    expect(page.locator("#interp-code img")).to_have_count(10, timeout=WAIT)
    expect(page.locator("#interp-pixels img")).to_have_count(10, timeout=WAIT)
    expect(page.locator("#interp-morphed img")).to_have_attribute("src", re.compile("/gradio_api/file="),
                                                                  timeout=WAIT)
    ink = ("() => Math.max(...Array.from(document.querySelector('#interp-live canvas').getContext('2d')"
           ".getImageData(0, 0, 28, 28).data).filter((_, i) => i % 4 === 0))")
    page.wait_for_function(f"() => ({ink})() > 80", timeout=WAIT)  # the page drew the morph itself
    before = page.evaluate("() => document.querySelector('#interp-live canvas').toDataURL()")
    page.locator("#interp-morph input[type=range]").focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("(before) => document.querySelector('#interp-live canvas').toDataURL() !== before",
                           arg=before, timeout=WAIT)  # the page redraws the morph on its next frame
    open_tab(page, "Generate")
    assert brightness(page, page.locator("#gen-grid img")).std() > 0.1
    before = page.locator("#gen-vae img").get_attribute("src")  # the VAE's draws from the standard normal
    assert brightness(page, page.locator("#gen-vae img")).std() > 0.1
    page.locator("#gen-seed input").fill("7")
    page.locator("#gen-seed input").press("Enter")
    expect(page.locator("#gen-vae img")).not_to_have_attribute("src", before, timeout=WAIT)  # a new seed, new draws
    open_tab(page, "Denoise")
    expect(page.locator("#denoise-strip img")).to_have_count(5, timeout=WAIT)
    for i in range(5):
        assert data_picture(page.locator("#denoise-strip img").nth(i).get_attribute("src")).max() > 80 / 255, i


def test_the_classifier_and_the_latent_map(page, shot):
    """The classifier names the drawn digit with ten bars; the maps show dots and the digit's rings; a click on
    a dot makes that test digit the current one, in the first tab too."""
    draw_a_digit(page)
    open_tab(page, "Classify")
    expect(page.locator("#classify-result .digit-guess")).to_be_visible(timeout=WAIT)
    expect(page.locator("#classify-result .probabilities rect")).to_have_count(10, timeout=WAIT)
    assert page.locator("#classify-table table tr").count() >= 4  # the stored accuracy table
    shot("classify.png")
    open_tab(page, "Latent map")
    expect(page.locator("#latent-maps circle")).to_have_count(2, timeout=WAIT)  # a ring on each map
    for i in range(2):
        dots = data_picture(page.locator("#latent-maps .map-box img").nth(i).get_attribute("src"))
        assert dots.shape == (360, 360) and (dots < 0.9).mean() > 0.05  # coloured dots on white
    near = page.locator("#latent-neighbours img")
    expect(near).to_have_count(16, timeout=WAIT)
    assert all(data_picture(near.nth(i).get_attribute("src")).max() > 0.5 for i in range(16))
    shot("latent-map.png")
    box = page.locator('#latent-maps .map-box[data-map="tsne"]').bounding_box()
    before = page.locator("#latent-neighbours").inner_html()
    page.mouse.click(box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"])
    expect(page.locator("#message")).to_contain_text("picked on the latent map", timeout=WAIT)
    picked = re.search(r"Test digit #(\d+), a (\d)", page.locator("#message").text_content())
    expect(page.locator("#latent-neighbours figcaption").first).to_contain_text(f"a {picked[2]} · 0.00",
                                                                               timeout=WAIT)  # itself, nearest
    assert page.locator("#latent-neighbours").inner_html() != before
    open_tab(page, "Draw and steer")
    expect(page.locator("#message")).to_contain_text(f"Test digit #{picked[1]}", timeout=WAIT)


def test_the_outlier_meter_shows_a_verdict(page, shot):
    draw_a_digit(page)
    open_tab(page, "Outliers")
    verdict = page.locator("#outlier-meter .verdict")
    expect(verdict).to_be_visible(timeout=WAIT)
    assert verdict.inner_text() and page.locator("#outlier-meter table.parts tr").count() >= 3
    width = page.locator("#outlier-meter .gauge .fill").evaluate("(e) => e.getBoundingClientRect().width")
    assert width > 0  # the gauge shows the percentile
    parts = read_manifest()["artifacts"]["outliers.safetensors"]["parts"]
    rebuilders = {p["model"] for p in parts if p["score"] not in ("nll", *JUDGE_SCORES)}  # ae-64, ae-2, vae-16
    rebuilt = page.locator("#outlier-meter .strip img")  # the input, and what each of them rebuilds of it
    assert rebuilt.count() == 1 + len(rebuilders) >= 3
    assert all(data_picture(rebuilt.nth(i).get_attribute("src")).max() > 0.3 for i in range(rebuilt.count()))
    shot("outliers.png")


def test_the_dimensions_view_sweeps_the_eight_most_telling_numbers(page, shot):
    """The drawn digit's code: 8 rows of 7 decodes, the middle one its own reconstruction, each with a heat map."""
    draw_a_digit(page)
    open_tab(page, "Dimensions")
    rows = page.locator("#dimensions-rows tr.dimension-row")
    expect(rows).to_have_count(8, timeout=WAIT)
    for i in range(8):
        pictures = rows.nth(i).locator("img.digit")
        assert pictures.count() == 7
        assert data_picture(pictures.nth(3).get_attribute("src")).max() > 0.3, i  # a digit, not a blank
        assert rows.nth(i).locator("img.heat").count() == 1
    changes = [float(t.split()[-1]) for t in rows.locator(".change").all_inner_texts() if t.startswith("change")]
    assert len(changes) == 8 and changes == sorted(changes, reverse=True)  # most telling first
    shot("dimensions.png")


def test_the_other_dimensions_open_and_steer(page):
    """The 56 less variable dimensions sit in a folded section; opened, they stay open while they steer."""
    draw_a_digit(page)
    more = page.locator("#sliders details")
    more.locator("summary").click()
    expect(more).to_have_attribute("open", "", timeout=WAIT)
    recon = page.locator("#recon img")
    before = recon.get_attribute("src")
    hidden_slider = more.locator("input[type=range]").last
    hidden_slider.focus()
    for _ in range(40):  # the keyboard is a slider's other input device
        page.keyboard.press("ArrowRight")
    expect(recon).not_to_have_attribute("src", before, timeout=WAIT)
    expect(more).to_have_attribute("open", "", timeout=WAIT)
    codes_match(page)


def open_tab(page, name: str) -> None:
    """Open a view's tab; on a narrow screen the tabs that do not fit sit under "More tabs"."""
    tab = page.get_by_role("tab", name=name)
    if tab.is_visible():
        tab.click()
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text=name).click()


def curve_points(page) -> int:
    """How many points the lab's curves have, both lines together (0 before the first)."""
    return page.locator("#lab-curve polyline").evaluate_all(
        "(lines) => lines.reduce((n, l) => n + l.getAttribute('points').trim().split(' ').length, 0)")


def test_train_your_own_learns_in_front_of_you_and_becomes_your_model(page, shot):
    open_tab(page, "Train your own")
    page.locator("#preset-over-compression").click()  # a 2-number code
    expect(page.locator("#lab-estimate")).to_contain_text(re.compile("over-compression", re.I), timeout=WAIT)
    expect(page.locator("#lab-code-size input[type=number]")).to_have_value("2", timeout=WAIT)
    epochs = page.locator("#lab-epochs input[type=number]")
    epochs.fill("200")  # a few seconds on the fixtures' 1,000 digits: long enough to watch
    epochs.press("Tab")
    expect(page.locator("#lab-estimate")).to_contain_text("200,000 digit-passes", timeout=WAIT)
    page.locator("#lab-train").click()
    expect(page.locator("#lab-curve polyline").first).to_be_attached(timeout=WAIT)
    first_points, first_recon = curve_points(page), page.locator("#lab-recon img").get_attribute("src")
    shot("lab-training.png")
    expect(page.locator("#lab-status")).to_contain_text("Done", timeout=WAIT)
    assert curve_points(page) > first_points  # the curve grew while it learned
    expect(page.locator("#lab-recon img")).not_to_have_attribute("src", first_recon, timeout=WAIT)
    assert page.locator("#lab-scatter circle").count() == 500  # the fixtures' test digits, by their code
    assert "python -m ae.train" in page.locator("#lab-command textarea").input_value()
    expect(page.locator("#lab-download a").first).to_be_attached(timeout=WAIT)
    shot("lab-done.png")
    open_tab(page, "Draw and steer")
    pick_model(page, "your model")
    expect(page.locator("#sliders input[data-dim]")).to_have_count(2, timeout=WAIT)
    expect(page.locator("#message")).to_contain_text("your-model", timeout=WAIT)
    draw_a_digit(page)
    assert len(page.locator("#code-numbers textarea").input_value().strip("[]").split(",")) == 2
    # the other views take it too
    open_tab(page, "Code sizes")
    expect(page.locator("#sizes-table")).to_contain_text("Your model (2 numbers) rebuilds it", timeout=WAIT)
    open_tab(page, "Generate")
    expect(page.locator("#gen-whose")).to_contain_text("your model", timeout=WAIT)
    open_tab(page, "Outliers")
    expect(page.locator("#outlier-meter .strip")).to_contain_text("by your model", timeout=WAIT)
    open_tab(page, "Interpolate")
    shot("lab-your-model-everywhere.png")


def test_first_launch_progress_page_turns_into_the_app(browser):
    """A visitor who opens the address while the first checkpoint trains sees the training log, and then
    the app without reloading by hand (ae/ui/serve.py; app.py serves in the same way)."""
    page = browser.new_page()
    try:
        with ProgressPageRun("Epoch [1/5], Loss: 0.031") as run:
            page.goto(run.url)
            expect(page.locator("#training-progress textarea")).to_have_value(re.compile(r"Epoch \[1/5\]"),
                                                                             timeout=WAIT)
            run.finish()
            with gr.Blocks(title="the app") as app:
                gr.Markdown("The app is here.", elem_id="app-marker")
            app.launch(server_name="127.0.0.1", server_port=run.port, prevent_thread_lock=True, quiet=True)
            try:
                expect(page.locator("#app-marker")).to_contain_text("The app is here.", timeout=WAIT)
            finally:
                app.close(verbose=False)
    finally:
        page.close()


def test_the_first_view_shows_a_digit_its_code_and_its_reconstruction_before_any_input(page):
    """Nothing drawn: a real test digit is on screen with its reconstruction, its code (chart, numbers) and the
    sliders at that code, and the status says what it is."""
    for picture in ("#model-input img", "#recon img"):
        seen = brightness(page, page.locator(picture))
        assert seen.max() > 0.5 and seen.mean() < 0.5, picture  # white strokes on black
    expect(page.locator("#message")).to_contain_text("picked at random")
    assert page.locator("#code-chart svg title").count() > 0
    codes_match(page)  # the sliders sit at the digit's code


def test_the_plane_shows_the_digit_placed_and_the_vaes_cloud(page):
    """Nothing drawn: the plane's sliders at the first digit's code and the picture decoded there; beside the
    autoencoder's plane, the 2-number VAE's dots and decoded grid."""
    open_tab(page, "2-number plane")
    note = page.locator("#plane-note")
    expect(note).to_contain_text("Your digit encodes to", timeout=WAIT)
    a, b = (float(v) for v in re.search(r"\((-?[\d.]+), (-?[\d.]+)\)", note.inner_text()).groups())
    for slider, code in (("#plane-x", a), ("#plane-y", b)):
        at = page.locator(f"{slider} input[type=range]")
        low, high = float(at.get_attribute("min")), float(at.get_attribute("max"))
        assert float(at.input_value()) == pytest.approx(min(max(code, low), high), abs=0.011)  # stopped at an end
    assert brightness(page, page.locator("#plane-picked img")).max() > 0.3
    dots = brightness(page, page.locator("#plane-vae-dots img"))
    assert dots.shape == (420, 420) and (dots < 0.9).mean() > 0.05  # coloured dots on white
    grid = brightness(page, page.locator("#plane-vae-grid img")).reshape(15, 28, 15, 28)
    assert (grid.max(axis=(1, 3)) > 0.5).all()  # no empty region
    expect(page.locator("#plane-vae-note")).to_contain_text("variational autoencoder")

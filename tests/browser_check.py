"""A person at the page: Playwright drives Debian's chromium, draws a digit with the mouse, moves a slider.

Not yet collected by the suite: on the contended first-session machine its draw step timed out (see the
closing note). Run it by name: `python -m pytest tests/browser_check.py`.
"""

import io
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"chromium not found at {CHROMIUM}; .ci/run installs it")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

SHOTS = os.environ.get("AE_SCREENSHOTS")  # a directory to keep screenshots in, to look at


@pytest.fixture(scope="module")
def page(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(server.url)
        page.locator("#sketch canvas").first.wait_for(timeout=120_000)
        expect(page.get_by_text("select the draw tool")).to_have_count(0, timeout=30_000)  # ready to draw
        yield page
        browser.close()


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def brightness(page, locator) -> np.ndarray:
    """The picture an <img> shows, fetched from its src (independent of scrolling and lazy loading)."""
    body = page.request.get(locator.get_attribute("src")).body()
    return np.asarray(Image.open(io.BytesIO(body)).convert("L"), dtype=np.float32) / 255


def draw_seven(page):
    box = page.locator("#sketch canvas").first.bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    points = [(0.3, 0.25), (0.7, 0.25), (0.55, 0.5), (0.45, 0.78)]  # a 7, as a mouse would draw it
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        for t in np.linspace(0, 1, 12)[1:]:
            page.mouse.move(x0 + (ax + t * (bx - ax)) * w, y0 + (ay + t * (by - ay)) * h)
    page.mouse.up()


def test_draw_then_steer(page):
    shot(page, "1-start.png")
    draw_seven(page)
    model_input = page.locator("#model-input img")
    recon = page.locator("#recon img")
    expect(model_input).to_have_attribute("src", re.compile("/gradio_api/file="), timeout=30_000)
    expect(recon).to_have_attribute("src", re.compile("/gradio_api/file="), timeout=30_000)
    expect(page.locator("#message")).to_contain_text("MSE", timeout=30_000)
    seen = brightness(page, model_input)
    assert seen.max() > 0.9 and seen.mean() < 0.5  # white ink on black, as MNIST
    rebuilt = brightness(page, recon)
    assert rebuilt.max() > 0.5 and rebuilt.std() > 0.1  # a picture, not a blank
    numbers = page.locator("#code-numbers textarea").input_value()
    assert len(numbers.strip("[]").split(",")) == 64
    shot(page, "2-drawn.png")

    before = recon.get_attribute("src")
    slider = page.locator("[id^=dim-] input[type=range]").first  # the most variable dimension's slider
    slider.scroll_into_view_if_needed()  # the mouse only reaches what is on screen
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.5 * box["width"], y)  # drag the slider towards its right end
    page.mouse.down()
    page.mouse.move(box["x"] + 0.92 * box["width"], y, steps=8)
    page.mouse.up()
    expect(recon).not_to_have_attribute("src", before, timeout=30_000)
    assert np.abs(brightness(page, recon) - rebuilt).max() > 0.1
    expect(page.locator("#message")).to_contain_text("edited code")
    shot(page, "3-steered.png")

"""Accessibility in the browser: axe-core on every tab at a desktop and a phone size, the sliders by keyboard, and
a digit drawn with a finger on a phone whose reconstruction shows on the same screen.

axe-core comes from npm (tests/axe/package.json, pinned in its package-lock.json; `npm ci --prefix tests/axe`,
which .ci/run does) and is injected into the page from node_modules: nothing is fetched while the tests run.
"""

import os
from pathlib import Path

import pytest

from ae.ui.app_server import CHROMIUM, open_view
from ae.ui.lesson import VIEWS
from tests.test_browser import DECODE_HERE, WAIT, draw_a_digit

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"chromium not found at {CHROMIUM}; .ci/run installs it")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
if not AXE.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{AXE} is missing; .ci/run installs it with `npm ci --prefix tests/axe`")
    pytest.skip("axe-core is not installed (npm ci --prefix tests/axe)", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
TABS = [key for _, key, _, _ in VIEWS]  # the twelve views' tabs, by id, in the lesson's order
SERIOUS = ("serious", "critical")
# Nodes inside Gradio's own components that neither the theme, the components' options nor the page's CSS can
# fix, as (CSS selector, axe rule, why). Each is left out of that rule's check only.
GRADIO_OWN: list[tuple[str, str, str]] = []


def open_page(browser, url: str, viewport: dict, locale: str = "en", touch: bool = False):
    """The app at a screen size and in a language, ready to draw, its in-page decoder loaded."""
    context = browser.new_context(viewport=viewport, locale=locale, has_touch=touch, is_mobile=touch)
    page = context.new_page()
    page.goto(url)
    page.locator("#sketch canvas").first.wait_for(timeout=WAIT)
    expect(page.get_by_text("select the draw tool")).to_have_count(0, timeout=WAIT)
    page.wait_for_function(f"() => {DECODE_HERE}([0]) !== undefined", timeout=WAIT)
    return page


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now (hidden tabs are not checked)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    rules = {}
    for selector, rule, _ in GRADIO_OWN:
        rules.setdefault(rule, []).append(selector)
    found = page.evaluate("""async (excluded) => {
      const result = await axe.run(document, {resultTypes: ['violations']});
      return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.filter((n) => !(excluded[v.id] || []).some(
          (s) => document.querySelector(n.target.join(' '))?.closest(s))).map((n) => n.target.join(' ')),
      })).filter((v) => v.nodes.length);
    }""", rules)
    return [v for v in found if v["impact"] in SERIOUS]


def report(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
            lines += [f"    {target}" for target in v["nodes"][:12]]
    return "\n".join(lines)


def draw_seven(page) -> None:
    """A 7 drawn with the mouse (on a touch screen: with a finger), then the server's reconstruction awaited."""
    page.locator("#sketch canvas").first.scroll_into_view_if_needed()
    draw_a_digit(page)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_axe_finds_nothing_serious_on_any_tab(browser, server, locale):
    """Every tab at 1280x800 and then at 390x844 (the same page, resized: the layout follows the width), before and
    after a digit is drawn, has no serious or critical axe-core violation."""
    page = open_page(browser, server.url, DESKTOP, locale)
    try:
        found = {"before drawing": axe_violations(page)}
        draw_seven(page)
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            for tab in TABS:
                open_view(page, tab)
                expect(page.locator(f"[role=tab][data-tab-id={tab}]")).to_have_attribute("aria-selected", "true")
                found[f"{tab} at {viewport['width']}x{viewport['height']}"] = axe_violations(page)
        found = {where: v for where, v in found.items() if v}
        assert not found, f"axe-core, {locale}:\n{report(found)}"
    finally:
        page.context.close()


def test_a_finger_draws_on_a_phone_and_the_reconstruction_shows_on_the_same_screen(browser, server):
    """390x844 with touch: a 7 drawn with a finger; the drawing and the two pictures fit one screen, and nothing
    scrolls sideways."""
    page = open_page(browser, server.url, PHONE, touch=True)
    try:
        page.locator("#sketch").evaluate("(e) => e.scrollIntoView({block: 'start'})")  # a person scrolls to it
        scrolled = page.evaluate("() => window.scrollY")
        draw_seven(page)
        assert page.evaluate("() => window.scrollY") == scrolled  # drawing did not scroll the page
        for selector in ("#sketch canvas", "#model-input img", "#recon img"):
            box = page.locator(selector).first.bounding_box()
            # 1 px for the sub-pixel offsets that scrolling to an element leaves
            assert box["y"] >= -1 and box["y"] + box["height"] <= PHONE["height"] + 1, (selector, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        page.context.close()


def test_the_sliders_move_by_keyboard_and_change_the_decode(browser, server):
    """Tab to the first latent slider, ArrowRight five times: it moves 5% of its range, and the page's picture and
    then the server's follow."""
    page = open_page(browser, server.url, DESKTOP)
    try:
        draw_seven(page)
        recon = page.locator("#recon img")
        before_src = recon.get_attribute("src")
        slider = page.locator("#sliders input[data-dim]").first
        low, high, start = (float(slider.get_attribute("min")), float(slider.get_attribute("max")),
                            float(slider.input_value()))
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        moved = float(slider.input_value()) - start
        assert abs(moved - min(0.05 * (high - low), high - start)) < 1e-3, moved
        expect(page.locator("#recon canvas.in-page-decode")).to_be_visible(timeout=WAIT)
        expect(recon).not_to_have_attribute("src", before_src, timeout=WAIT)
        expect(page.locator("#message")).to_contain_text("edited code", timeout=WAIT)
        page.keyboard.press("PageDown")
        assert float(slider.input_value()) < start + moved - 0.09 * (high - low)
    finally:
        page.context.close()

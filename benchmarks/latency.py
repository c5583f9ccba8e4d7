"""Latency of the running app, the way its users feel it.

    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.latency --calls 200 --moves 40

Starts `python app.py` on a free local port (timing start-up to the first page served), then measures:
  1. the HTTP API round trip: POST /gradio_api/call/<name>, then reading the result stream, on one
     keep-alive connection, for /decode and for /reconstruct of a 280x280 drawing;
  2. the server-side handler time alone (the same handlers called in this process);
  3. the same calls through gradio_client, for reference;
  4. in chromium (Playwright), at 1280x800: from moving a latent slider to the frame that shows the picture
     the page decodes itself, and (its weights blocked) to the server's picture loaded; how many events a
     continuous 2-second mouse drag sends to the server; the size of the decoder's weights; and, for a new
     visitor, the seconds from opening the page to a digit and its reconstruction on screen before any input.
The size of the page's config (what each new visitor's browser fetches to build the page) is reported too.
--root DIR runs DIR's app.py (another checkout: the same measurements before and after a change).
Prints each measurement's p50/p95/max as soon as it is taken, or all of them as JSON at the end with --json.
--model NAME measures one of /models instead of the served one: the HTTP calls name it, the page picks it in the
Model menu (#model-picker) before the slider moves, the in-process handlers are given it. A model whose decoder
the page cannot run (a convolutional one, conv-16 or conv-64) has no in-page figure: every slider move is decoded
by the server, so the server path is its slider latency, and its 2-second drag is counted on that path.
--no-client skips 3 (on a slow, contended 2-core machine 200 gradio_client /decode calls took over 10 minutes).
--phases runs the app with Gradio's own request profiling (GRADIO_PROFILING=1) and adds, for each HTTP
measurement, the server's p50 per phase (over those calls and their 5 warm-ups): queue wait, preprocess,
the function, postprocess, and its total.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageDraw

from ae.ui.app_server import AppServer, http_call

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def summary(ms: list[float]) -> dict:
    q = np.percentile(ms, [50, 95])
    return {"n": len(ms), "p50_ms": round(float(q[0]), 2), "p95_ms": round(float(q[1]), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2)}


def drawing(path: Path) -> Path:
    """A 280x280 mouse-style drawing of a 7, black on transparent, as the sketchpad sends it."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(80, 70), (200, 70), (150, 150), (120, 230)], fill=(0, 0, 0, 255), width=18)
    img.save(path)
    return path


class Results(dict):
    """The figures so far, each printed as soon as it is measured (a slow run still shows what it got)."""

    def __init__(self, as_json: bool):
        super().__init__()
        self.as_json = as_json
        if not as_json:
            print(f"{'measurement':<40} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}", flush=True)

    def __setitem__(self, name: str, r) -> None:
        super().__setitem__(name, r)
        if self.as_json:
            return
        if isinstance(r, dict) and "n" in r:
            print(f"{name:<40} {r['n']:>5} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['max_ms']:>8}", flush=True)
        elif isinstance(r, dict):
            print(f"{name:<40} " + ", ".join(f"{k} {v}" for k, v in r.items()), flush=True)
        else:
            print(f"{name:<40} {r}", flush=True)  # the name carries the unit

    def done(self) -> None:
        if self.as_json:
            print(json.dumps(self, indent=2))


PHASES = ("queue_wait", "preprocess", "fn_call", "postprocess", "total")


def server_phases(http: httpx.Client, fn_name: str) -> dict:
    """p50 ms of each phase of the server's requests to fn_name since the last call (GRADIO_PROFILING=1)."""
    traces = [t for t in http.get("/gradio_api/profiling/traces").json() if t["fn_name"] == fn_name]
    http.post("/gradio_api/profiling/clear")
    return {phase: round(float(np.percentile([t[f"{phase}_ms"] for t in traces], 50)), 2) for phase in PHASES}


def timed(fn, n: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


# Moves one slider the way a drag does (set the value, fire `input`) and resolves when the reconstruction
# <img> has loaded a new picture from the server: a MutationObserver and the image's load event, not a
# polling loop, so the figure is not rounded up to the next animation frame. (The path without the
# in-page decoder, whose weights the benchmark blocks for it.)
SLIDE_JS_SERVER = """
async ([dim, value]) => {
  const recon = document.querySelector('#recon');
  const before = recon.querySelector('img')?.src;
  const input = document.querySelector(`#dim-${dim} input[type=range]`);
  const shown = new Promise((resolve) => {
    const check = () => {
      const img = recon.querySelector('img');
      if (!img || img.src === before) return;
      observer.disconnect();
      if (img.complete && img.naturalWidth > 0) resolve();
      else img.addEventListener('load', resolve, {once: true});
    };
    const observer = new MutationObserver(check);
    observer.observe(recon, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  });
  const t0 = performance.now();
  input.value = value;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  await shown;
  return performance.now() - t0;
}
"""

# The same move with the in-page decoder: the time to the animation frame that shows the redrawn canvas
# (requestAnimationFrame after the event: that frame paints it), checking that its pixels did change.
SLIDE_JS_PAGE = """
async ([dim, value]) => {
  const input = document.querySelector(`#dim-${dim} input[type=range]`);
  const pixels = () => {
    const c = document.querySelector('#recon canvas.in-page-decode');
    if (!c || c.style.display === 'none') return '';
    return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.join();
  };
  const before = pixels();
  const t0 = performance.now();
  input.value = value;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const t = performance.now() - t0;
  return pixels() !== before ? t : -1;
}
"""
DECODER_READY = """() => {
  const e = [...document.querySelectorAll('#sliders *')].find((e) => e.decodeHere);
  return !!e && e.decodeHere([...document.querySelectorAll('#sliders input')].map(() => 0)) !== null;
}"""


def pick_model(page, name: str) -> None:
    """Choose a model in the main view's picker as a person does, by its label, and wait for the digit redrawn
    through it."""
    import re

    page.locator("#model-picker input").click()
    page.get_by_role("option", name=re.compile(f"^{re.escape(name)}:")).click()
    page.locator("#message").filter(has_text=f"{name} averages").wait_for(timeout=60_000)


def browser_figures(url: str, moves: int, drawing_path: Path, model: str | None = None,
                    in_page_decoder: bool = True) -> dict:
    """Slider move to picture, with the page's own decoder (if the model has one) and with the server's; requests
    in a 2 s drag (on the in-page path, or the server's for a model without an in-page decoder)."""
    from playwright.sync_api import sync_playwright

    from ae.ui.app_server import CHROMIUM, FLAGS

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for in_page in (True, False) if in_page_decoder else (False,):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            weights = []
            page.on("response",
                    lambda r, w=weights: w.append(len(r.body())) if "decoder.safetensors" in r.url else None)
            if not in_page:
                page.route("**/decoder.safetensors", lambda route: route.abort())
            start = time.perf_counter()
            page.goto(url)
            if in_page:  # a new visitor's first look: is a digit, rebuilt, there before any input?
                try:
                    page.locator("#recon img").wait_for(timeout=20_000)
                    out["first_digit_rebuilt_on_screen_s"] = round(time.perf_counter() - start, 2)
                except Exception:
                    out["first_digit_rebuilt_on_screen_s"] = None  # nothing shown until the visitor gives a digit
            page.locator("#sketch canvas").first.wait_for(timeout=60_000)
            page.get_by_role("tab", name="Upload").click()
            page.locator("#upload input[type=file]").set_input_files(str(drawing_path))
            page.locator("#recon img").wait_for(timeout=60_000)
            if model:
                pick_model(page, model)
            if in_page:
                page.wait_for_function(DECODER_READY, timeout=60_000)
                page.wait_for_timeout(500)  # the picked model's decoder replaces the served one's
                out["decoder_download_kb"] = round(weights[-1] / 1024, 1)
            dim = int(page.locator("[id^=dim-]").first.get_attribute("id").split("-")[1])
            slider = page.locator(f"#dim-{dim} input[type=range]")
            low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
            values = np.linspace(low, high, moves + 5)
            script = SLIDE_JS_PAGE if in_page else SLIDE_JS_SERVER
            ms = [page.evaluate(script, [dim, float(v)]) for v in values][5:]  # the first moves warm up
            if in_page and min(ms) < 0:
                raise RuntimeError("a move did not change the page's picture")
            out["browser_slider_to_new_picture_" + ("in_page" if in_page else "server")] = summary(ms)
            if in_page or not in_page_decoder:
                out["requests_in_a_2s_drag"] = requests_in_drag(page, slider)
            page.close()
        browser.close()
    return out


def requests_in_drag(page, slider, seconds: float = 2.0) -> int:
    """Drag the slider with the mouse at 60 moves a second for `seconds`; count the events sent to the server."""
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/queue/join" in r.url else None)
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.1 * box["width"], y)
    page.mouse.down()
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        page.mouse.move(box["x"] + (0.1 + 0.8 * elapsed / seconds) * box["width"], y)
        time.sleep(1 / 60)
    page.mouse.up()
    page.wait_for_timeout(1000)  # the code sent when the drag stops counts too
    return len(sent)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=200, help="calls per API measurement (default 200)")
    p.add_argument("--moves", type=int, default=40, help="slider moves in the browser (default 40)")
    p.add_argument("--no-browser", action="store_true", help="skip the chromium measurement")
    p.add_argument("--no-client", action="store_true", help="skip the gradio_client measurements")
    p.add_argument("--phases", action="store_true", help="also report the server's time per phase (GRADIO_PROFILING)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--model", default=None, help="one of /models to measure (default: the served one)")
    p.add_argument("--root", type=Path, default=None, help="the checkout whose app.py to run (default: this one)")
    args = p.parse_args()
    named = [args.model] if args.model else []  # the optional last argument of /encode, /decode, /reconstruct

    work = Path(os.environ.get("TMPDIR", "/tmp")) / "ae-latency"
    work.mkdir(exist_ok=True)
    seven = drawing(work / "seven.png")
    results = Results(as_json=args.json)
    from ae.inference import Engines
    from ae.zoo import load_zoo

    engines = Engines(load_zoo().catalogue)
    model = engines.get(args.model).model  # an unknown name stops here, before the app starts
    try:
        in_page_decoder = bool(model.decoder_layers())
    except ValueError:
        in_page_decoder = False
    results["model"] = f"{model.name} ({model.kind}, {model.code_size} numbers, in-page decoder: " + \
        ("yes)" if in_page_decoder else "no, the server decodes every move)")
    with AppServer(**({"root": args.root} if args.root else {}),
                   **({"GRADIO_PROFILING": "1"} if args.phases else {})) as server:
        results["startup_to_first_page_s"] = round(server.startup_seconds, 2)
        results["page_config_kb"] = round(len(httpx.get(server.url + "config", timeout=60).content) / 1024, 1)
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=30) as http:
            with seven.open("rb") as f:
                uploaded = http.post("/gradio_api/upload", files={"files": ("seven.png", f, "image/png")}).json()[0]
            image = {"path": uploaded, "meta": {"_type": "gradio.FileData"}}
            code = http_call(http, "encode", [image, *named])[0]
            if args.phases:
                http.post("/gradio_api/profiling/clear")  # only measured calls from here; server_phases clears too
            for name, data in (("decode", [code, *named]), ("reconstruct", [image, *named])):
                results[f"http_{name}"] = summary(timed(lambda n=name, d=data: http_call(http, n, d), args.calls))
                if args.phases:
                    results[f"server_phases_{name}_p50_ms"] = server_phases(http, name)

        from gradio_client import Client, handle_file

        if not args.no_client:
            client = Client(server.url, verbose=False)
            results["client_decode"] = summary(
                timed(lambda: client.predict(code, *named, api_name="/decode"), args.calls))
            results["client_reconstruct"] = summary(
                timed(lambda: client.predict(handle_file(seven), *named, api_name="/reconstruct"), args.calls))
        if not args.no_browser:
            for name, figure in browser_figures(server.url, args.moves, seven, args.model, in_page_decoder).items():
                results[name] = figure

    # The same handlers, in this process: what the server spends per call.
    from ae.ui import api
    from ae.ui.explore import Handlers

    fns, page = api.endpoints(engines, trusted=(work,)), Handlers(engines)
    results["handler_decode"] = summary(timed(lambda: fns["decode"](code, *named), args.calls))
    results["handler_reconstruct"] = summary(
        timed(lambda: fns["reconstruct"]({"path": str(seven)}, *named), args.calls))
    results["handler_slide"] = summary(timed(lambda: page.on_slide(None, code, *named), args.calls))

    results.done()


if __name__ == "__main__":
    main()

"""The Gradio app: draw or upload a digit, see its 64-number code and reconstruction, steer the code.

`python app.py` serves it (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply, as on Hugging Face Spaces).
All logic lives in the `ae` package; this file builds the page and wires events.
"""

import io
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home unless the user opts in
# Gradio rebuilds a pandas table of the last 10,000 events after every event, for a /monitoring page this
# app does not serve (session 5, 3,000 HTTP /decode calls: 19-22 ms a call with it, 15 ms without).
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(10**9))

import gradio as gr
import numpy as np
import torch
from gradio import utils as gradio_utils
from PIL import Image

from ae.checkpoint import DEFAULT_PATH, CheckpointError, load_checkpoint
from ae.data import MNISTNotFound
from ae.inference import Engine, Result
from ae.preprocess import BRUSH_SIZE, CANVAS_SIDE, InputError, open_image
from ae.render import code_chart, code_text, to_image
from ae.serve import BodyLimit, RecentBlobs, launch, while_showing_progress
from ae.sliders import LatentSliders
from ae.startup import ensure_checkpoint
from ae.uploads import MAX_FILE_BYTES, read_upload

HERE = Path(__file__).resolve().parent
EXAMPLES_DIR = HERE / "examples"
EXAMPLES = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
MAX_FILE_SIZE = f"{MAX_FILE_BYTES // 2**20}mb"
TOP_SLIDERS = 8  # shown open; the other dimensions sit in a closed section
ENDPOINTS = ("encode", "decode", "reconstruct", "draw", "upload", "slide", "reset")  # every api_name below

CHECKPOINT = Path(os.environ.get("AE_CHECKPOINT", DEFAULT_PATH))  # another checkpoint to serve, if set

try:
    ENGINE = Engine(load_checkpoint(CHECKPOINT))
except CheckpointError:  # train one first, showing its progress at the app's address meanwhile
    try:
        ENGINE = Engine(while_showing_progress(lambda log: ensure_checkpoint(CHECKPOINT, log=log), endpoints=ENDPOINTS))
    except MNISTNotFound as e:
        sys.exit(f"Cannot start: there is no usable checkpoint at {CHECKPOINT} and no MNIST to train one.\n{e}\n"
                 f"For the app, name the MNIST directory in the environment: AE_DATA_DIR=DIR python app.py")
torch.set_num_threads(1)  # each request is tiny; serving several at once is where the cores go
MEAN_CODE = ENGINE.stats.mean.numpy()
TYPICAL = ((ENGINE.stats.mean - ENGINE.stats.std).numpy(), (ENGINE.stats.mean + ENGINE.stats.std).numpy())
RECORDED_MSE = ENGINE.metrics.get("test_mse")


def uploaded(payload) -> io.BytesIO:
    """The bytes of the file behind an image input. Image events run with preprocess=False, so Gradio hands
    over the request's file object unopened; only files Gradio received as uploads (its cache) and the shipped
    examples are read, whatever path the request names (`ae.uploads`)."""
    if payload is None:
        raise InputError("No image yet. Upload, paste or drop a picture of a digit, or pick an example.")
    if not isinstance(payload, dict):
        raise InputError("An image must be sent as a file (with gradio_client: handle_file('digit.png')).")
    return read_upload(payload.get("path"), (gradio_utils.get_upload_folder(), EXAMPLES_DIR))


def chart(code: np.ndarray) -> str:
    return code_chart(code, ENGINE.low, ENGINE.high, typical=TYPICAL)


def status(result: Result) -> str:
    line = f"**Reconstruction error (MSE): {result.mse:.4f}**"
    if RECORDED_MSE is not None:
        line += f" · this model averages {RECORDED_MSE:.4f} on MNIST's 10,000 test digits"
    return line + (f"\n\n{result.note}" if result.note else "")


# ---- UI handlers: each returns every output, so nothing stale stays on screen -----------------------

def slider_values(code: np.ndarray) -> list[float]:
    """A code as slider positions: an unusual drawing can encode past a slider's end, where it must stop."""
    return [round(v, 3) for v in np.clip(code, ENGINE.low, ENGINE.high).tolist()]


def shown(result: Result) -> tuple:
    return (to_image(result.model_input), to_image(result.reconstruction), chart(result.code), code_text(result.code),
            status(result), result.code.tolist(), slider_values(result.code))


def cleared(message: str) -> tuple:
    """Outputs for a refused input: the message, no pictures or code, and the sliders back at the average code."""
    return (None, None, "", "", f"⚠️ {message}", None, slider_values(MEAN_CODE))


LOG = logging.getLogger("ae.app")
UNFORESEEN = "Something went wrong with that input. Please try another one."


def refusal(event: str, e: Exception) -> str:
    """The one error policy, for the page and the API: the message for the person who sent the input.
    An expected refusal (InputError) logs one line; anything else is a bug and logs its traceback."""
    if isinstance(e, InputError):
        LOG.info("refused %s: %s", event, e)
        return str(e)
    LOG.exception("%s failed", event)
    return UNFORESEEN


def guarded(event: str, run, *args) -> tuple:
    try:
        return shown(run(*args))
    except Exception as e:  # refused or unforeseen: a message on the page, nothing stale, keep serving
        return cleared(refusal(event, e))


SKETCH_BLOBS = RecentBlobs()
EMPTY_CANVAS = "The canvas is empty. Draw a digit (0-9) with your mouse or finger."


def drawn(sketch) -> Result:
    """The sketchpad's picture -> Result. The page sends the drawing ahead of the event, as PNG bytes kept by
    the sketchpad under the event's id; an API client sends it as an uploaded file, read like uploads."""
    if not isinstance(sketch, dict):
        raise InputError(EMPTY_CANVAS)
    key = sketch.get("id")
    blobs = SKETCH_BLOBS.pop(key, None) if isinstance(key, str) else None
    if blobs is not None and blobs.composite:
        source = io.BytesIO(blobs.composite)
    elif sketch.get("composite") is not None:
        source = uploaded(sketch["composite"])
    else:
        raise InputError(EMPTY_CANVAS)
    img, _ = open_image(source)  # the same formats and decoding budget as any upload
    if np.ptp(np.asarray(img)) == 0:
        raise InputError(EMPTY_CANVAS)
    return ENGINE.run(img)


def on_draw(sketch: dict | None) -> tuple:
    return guarded("draw", drawn, sketch)


def on_upload(image: dict | None) -> tuple:
    return guarded("upload", lambda p: ENGINE.run_file(uploaded(p)), image)


def on_slide(encoded: list | None, values: list[float]) -> tuple:
    try:
        code = ENGINE.check_code(values)
    except InputError as e:
        return None, "", "", f"⚠️ {e}"
    recon = ENGINE.decode(code)
    base = MEAN_CODE if encoded is None else np.asarray(encoded, dtype=np.float32)
    moved = float(np.linalg.norm(code - base))
    what = "the encoded code" if encoded is not None else "the average code"
    note = f"Decoding your edited code · distance from {what}: {moved:.2f}"
    return to_image(recon), chart(code), code_text(code), note


def on_reset(encoded: list | None) -> tuple:
    code = slider_values(MEAN_CODE if encoded is None else np.asarray(encoded, dtype=np.float32))
    return (*on_slide(encoded, code), code)


# ---- API handlers: a refused input raises gr.Error, which clients receive as the error message ---------

def api_call(event: str, fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # the caller gets the message as gr.Error; the log gets one line (or a bug's traceback)
        raise gr.Error(refusal(event, e), print_exception=False) from None


def encode(image: dict) -> list[float]:
    """One image of a digit -> its 64-number code."""
    return api_call("encode", lambda p: ENGINE.run_file(uploaded(p)), image).code.tolist()


def decode(code: list[float]) -> Image.Image:
    """64 numbers as one list -> the decoded 28x28 image (grayscale PNG, white ink on black)."""
    return to_image(api_call("decode", lambda c: ENGINE.decode(ENGINE.check_code(c)), code), scale=1)


def reconstruct(image: dict) -> tuple[Image.Image, Image.Image, list[float]]:
    """One image -> (the 28x28 model input, the 28x28 reconstruction, the 64-number code)."""
    result = api_call("reconstruct", lambda p: ENGINE.run_file(uploaded(p)), image)
    return to_image(result.model_input, scale=1), to_image(result.reconstruction, scale=1), result.code.tolist()


# ---- The page ---------------------------------------------------------------------------------------

INTRO = """
# What does an autoencoder do with your digit?

An **autoencoder** learns to squeeze a picture through a narrow bottleneck and rebuild it.
The **encoder** turns the 784 pixels of a 28×28 digit into just **64 numbers, the code**;
the **decoder** turns those 64 numbers back into 784 pixels. It was trained on 60,000 handwritten
MNIST digits only to make its rebuilt pictures match the originals, so the code has to capture
what makes a digit look the way it does.

**Draw** a digit, **upload** a picture of one, or **pick** a real MNIST digit; then move the sliders
to change the code and watch the decoder draw something new.
"""

# The canvas should take strokes at once: pick the brush as soon as the editor has drawn its toolbar.
SELECT_BRUSH = """
() => {
  let tries = 0;
  const pick = () => {
    const brush = document.querySelector('#sketch button[aria-label="Brush"], #sketch button[title="Brush"]');
    if (brush) brush.click();
    else if (tries++ < 150) setTimeout(pick, 200);
  };
  pick();
}
"""

# System fonts only: the default Google-hosted ones would make every visitor's browser call out.
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])

CSS = """
.pixelated img { image-rendering: pixelated; }
.status { min-height: 3em; }
.code-chart svg { width: 100%; height: auto; }
"""

with gr.Blocks(title="Autoencoder playground", delete_cache=(600, 3600)) as demo:
    gr.Markdown(INTRO)
    encoded = gr.State(None)  # this visitor's last encoded code, for the reset button
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            with gr.Tabs():
                with gr.Tab("Draw"):
                    sketch = gr.Sketchpad(
                        label="Draw one digit, large, in the middle", elem_id="sketch",
                        canvas_size=(CANVAS_SIDE, CANVAS_SIDE), fixed_canvas=True, image_mode="RGBA", type="numpy",
                        format="png", layers=False, transforms=(),
                        brush=gr.Brush(default_size=BRUSH_SIZE, colors=["#000000"], color_mode="fixed"),
                    )
                    sketch.blob_storage = SKETCH_BLOBS  # bounded: see RecentBlobs
                with gr.Tab("Upload"):
                    upload = gr.Image(
                        label=f"Upload, drop or paste an image of a digit (up to {MAX_FILE_SIZE})",
                        type="filepath", image_mode=None, sources=["upload", "clipboard"], height=320, elem_id="upload",
                    )
                    gr.Examples(EXAMPLES, inputs=upload, label="Or pick a real MNIST test digit",
                                examples_per_page=20)
        with gr.Column(scale=1, min_width=320):
            with gr.Row():
                model_input = gr.Image(label="What the encoder sees", format="png",
                                       interactive=False, elem_classes="pixelated", buttons=["download"],
                                       elem_id="model-input")
                recon = gr.Image(label="What the decoder rebuilds", format="png",
                                 interactive=False, elem_classes="pixelated", buttons=["download"], elem_id="recon")
            gr.Markdown("Left: your digit made MNIST-like (28×28 pixels, white ink on black, centred), which is "
                        "what the encoder reads. Right: the picture the decoder draws from the 64 numbers alone.")
            message = gr.Markdown("Draw a digit to begin.", elem_classes="status", elem_id="message")
    gr.Markdown("### The code: 64 numbers\nEach bar is one number of the code (blue above zero, orange below); "
                "the grey band is where that number usually lies for MNIST digits. The square shows the "
                "same 64 numbers as an 8×8 grid.")
    code_html = gr.HTML(elem_id="code-chart")
    code_numbers = gr.Textbox(label="The code as numbers (copy them, or send them to /decode)", lines=2,
                              max_lines=6, buttons=["copy"], interactive=False, elem_id="code-numbers")

    gr.Markdown("### Steer the code\nMove a slider to change one number of the code; the decoder redraws at "
                "once. The dimensions that vary most across MNIST come first.")
    reset = gr.Button("Reset sliders to the encoded code", variant="secondary", elem_id="reset")
    sliders = LatentSliders(slider_values(MEAN_CODE), low=ENGINE.low.tolist(), high=ENGINE.high.tolist(),
                            order=ENGINE.by_importance, shown=TOP_SLIDERS, label="code", elem_id="sliders")

    gr.Markdown("Programmers: this page is also an API (`/encode`, `/decode`, `/reconstruct`); see "
                "*Use via API* at the bottom of the page.")

    # Hidden components that give the API endpoints plain signatures.
    with gr.Row(visible=False):
        api_image = gr.Image(type="filepath", image_mode=None, label="image")
        api_code = gr.JSON(label="code")
        api_input = gr.Image(format="png", label="model input")
        api_recon = gr.Image(format="png", label="reconstruction")
        api_btn = gr.Button()

    shown_outputs = [model_input, recon, code_html, code_numbers, message, encoded, sliders]
    # The page's own events: callable by clients (the tests use them) but left out of the API docs.
    ui = dict(api_visibility="undocumented", show_progress="hidden", trigger_mode="always_last")
    sketch.change(on_draw, sketch, shown_outputs, api_name="draw", preprocess=False, **ui)
    upload.change(on_upload, upload, shown_outputs, api_name="upload", preprocess=False, **ui)
    sliders.input(on_slide, [encoded, sliders], [recon, code_html, code_numbers, message], api_name="slide",
                  concurrency_limit=None, **ui)
    reset.click(on_reset, encoded, [recon, code_html, code_numbers, message, sliders], api_name="reset", **ui)

    api_btn.click(encode, api_image, api_code, api_name="encode", preprocess=False)
    api_btn.click(decode, api_code, api_recon, api_name="decode")
    api_btn.click(reconstruct, api_image, [api_input, api_recon, api_code], api_name="reconstruct", preprocess=False)

if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    LOG.setLevel(logging.INFO)  # one line per refused input
    # show_error: Gradio's own refusals (a path it did not receive, missing inputs) reach API clients with
    # their message instead of {"error": null}; the app's handlers never let an exception's text through.
    launch(demo, max_file_size=MAX_FILE_SIZE, css=CSS, theme=THEME, js=SELECT_BRUSH, show_error=True,
           app_kwargs={"middleware": [BodyLimit.middleware()]})

"""The Gradio app: draw or upload a digit, see its 64-number code and reconstruction, steer the code.

`python app.py` serves it (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply, as on Hugging Face Spaces).
All logic lives in the `ae` package; this file builds the page and wires events.
"""

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
from PIL import Image

from ae.checkpoint import DEFAULT_PATH, CheckpointError, load_checkpoint
from ae.data import MNISTNotFound
from ae.inference import Engine, Result
from ae.preprocess import BRUSH_SIZE, CANVAS_SIDE, InputError
from ae.render import code_chart, code_text, to_image
from ae.serve import launch, while_showing_progress
from ae.sliders import LatentSliders
from ae.startup import ensure_checkpoint

HERE = Path(__file__).resolve().parent
EXAMPLES = sorted(str(p) for p in (HERE / "examples").glob("*.png"))
MAX_FILE_SIZE = "10mb"
TOP_SLIDERS = 8  # shown open; the other dimensions sit in a closed section

CHECKPOINT = Path(os.environ.get("AE_CHECKPOINT", DEFAULT_PATH))  # another checkpoint to serve, if set

try:
    ENGINE = Engine(load_checkpoint(CHECKPOINT))
except CheckpointError:  # train one first, showing its progress at the app's address meanwhile
    try:
        ENGINE = Engine(while_showing_progress(lambda log: ensure_checkpoint(CHECKPOINT, log=log)))
    except MNISTNotFound as e:
        sys.exit(f"Cannot start: there is no usable checkpoint at {CHECKPOINT} and no MNIST to train one.\n{e}\n"
                 f"For the app, name the MNIST directory in the environment: AE_DATA_DIR=DIR python app.py")
torch.set_num_threads(1)  # each request is tiny; serving several at once is where the cores go
MEAN_CODE = ENGINE.stats.mean.numpy()
TYPICAL = ((ENGINE.stats.mean - ENGINE.stats.std).numpy(), (ENGINE.stats.mean + ENGINE.stats.std).numpy())
RECORDED_MSE = ENGINE.metrics.get("test_mse")


def uploaded_path(payload: dict | None) -> str | None:
    """The file behind an image input. Image events run with preprocess=False, so Gradio hands over the
    uploaded file unopened and `ae.preprocess.open_image` alone decides what to refuse and says why."""
    return None if payload is None else payload.get("path")


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


def guarded(run, *args) -> tuple:
    try:
        return shown(run(*args))
    except InputError as e:
        return cleared(str(e))
    except Exception:  # a bug or an input nobody foresaw: say so, log it, keep serving
        logging.exception("could not process an input")
        return cleared("Something went wrong with that image. Please try another one.")


def on_draw(sketch: dict | None) -> tuple:
    composite = None if sketch is None else sketch.get("composite")
    if composite is None or np.ptp(composite) == 0:
        return cleared("The canvas is empty. Draw a digit (0-9) with your mouse or finger.")
    return guarded(ENGINE.run, composite)


def on_upload(image: dict | None) -> tuple:
    if image is None:
        return cleared("No image yet. Upload, paste or drop a picture of a digit, or pick an example.")
    return guarded(ENGINE.run_file, uploaded_path(image))


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

def api_call(fn, *args):
    try:
        return fn(*args)
    except InputError as e:
        raise gr.Error(str(e)) from None
    except Exception:  # a bug or an input nobody foresaw: a plain message for the caller, the details in the log
        logging.exception("API call failed")
        raise gr.Error("Could not process that input.") from None


def encode(image: dict) -> list[float]:
    """One image of a digit -> its 64-number code."""
    return api_call(ENGINE.run_file, uploaded_path(image)).code.tolist()


def decode(code: list[float]) -> Image.Image:
    """64 numbers as one list -> the decoded 28x28 image (grayscale PNG, white ink on black)."""
    return to_image(api_call(lambda c: ENGINE.decode(ENGINE.check_code(c)), code), scale=1)


def reconstruct(image: dict) -> tuple[Image.Image, Image.Image, list[float]]:
    """One image -> (the 28x28 model input, the 28x28 reconstruction, the 64-number code)."""
    result = api_call(ENGINE.run_file, uploaded_path(image))
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
    sketch.change(on_draw, sketch, shown_outputs, api_name="draw", **ui)
    upload.change(on_upload, upload, shown_outputs, api_name="upload", preprocess=False, **ui)
    sliders.input(on_slide, [encoded, sliders], [recon, code_html, code_numbers, message], api_name="slide",
                  concurrency_limit=None, **ui)
    reset.click(on_reset, encoded, [recon, code_html, code_numbers, message, sliders], api_name="reset", **ui)

    api_btn.click(encode, api_image, api_code, api_name="encode", preprocess=False)
    api_btn.click(decode, api_code, api_recon, api_name="decode")
    api_btn.click(reconstruct, api_image, [api_input, api_recon, api_code], api_name="reconstruct", preprocess=False)

if __name__ == "__main__":
    launch(demo, max_file_size=MAX_FILE_SIZE, css=CSS, theme=THEME, js=SELECT_BRUSH)

"""The main view: draw, upload or pick a digit; see what the encoder sees, the code and the reconstruction;
steer the code with sliders. `build(engine, examples)` adds it to the page being built."""

from pathlib import Path

import gradio as gr
import numpy as np

from ae.inference import Engine, Result
from ae.preprocess import BRUSH_SIZE, CANVAS_SIDE
from ae.ui.api import saved_png
from ae.ui.components import Sketchpad
from ae.ui.errors import on_page
from ae.ui.inputs import PendingDrawings, drawing, uploaded
from ae.ui.render import chart_scale, code_chart, code_text, to_image
from ae.ui.serve import decoder_url
from ae.ui.sliders import LatentSliders
from ae.uploads import MAX_FILE_BYTES

TOP_SLIDERS = 8  # shown open; the other dimensions sit in a folded section
START = "Draw, upload or pick a digit to begin."
IMAGE_CONCURRENCY = 4  # image events at once (up to ~0.3 s each for the largest uploads); decodes: no limit


class Handlers:
    """The view's event handlers for one model. Each returns every output, so nothing stale stays on screen;
    per-visitor state (the last encoded code) comes in and goes out through gr.State."""

    def __init__(self, engine: Engine, trusted: tuple = ()):
        self.engine, self.trusted = engine, trusted  # trusted: folders besides Gradio's cache (the examples)
        self.mean_code = engine.stats.mean.numpy()
        self.typical = ((engine.stats.mean - engine.stats.std).numpy(), (engine.stats.mean + engine.stats.std).numpy())
        self.recorded_mse = engine.metrics.get("test_mse")
        self.scale = chart_scale(engine.stats.mean.numpy(), engine.stats.std.numpy())
        self.blobs = PendingDrawings()  # the sketchpad's drawings sent ahead of their events
        self.outputs: list = []  # the components show_input fills, in its order (set by build)
        self.on_draw = on_page("draw", self.cleared)(self._draw)
        self.on_upload = on_page("upload", self.cleared)(self._upload)
        self.on_slide = on_page("slide", lambda message: (None, "", "", f"⚠️ {message}"))(self._slide)

    def slider_values(self, code: np.ndarray) -> list[float]:
        """A code as slider positions: an unusual drawing can encode past a slider's end, where it must stop."""
        return [round(v, 3) for v in np.clip(code, self.engine.low, self.engine.high).tolist()]

    def chart(self, code: np.ndarray) -> str:
        return code_chart(code, self.scale, typical=self.typical)

    def status(self, result: Result) -> str:
        line = f"**Reconstruction error (MSE): {result.mse:.4f}**"
        if self.recorded_mse is not None:
            line += f" · this model averages {self.recorded_mse:.4f} on MNIST's 10,000 test digits"
        return line + (f"\n\n{result.note}" if result.note else "")

    def shown(self, result: Result) -> tuple:
        return (saved_png(to_image(result.model_input)), saved_png(to_image(result.reconstruction)),
                self.chart(result.code), code_text(result.code), self.status(result), result.code.tolist(),
                self.slider_values(result.code), result.model_input)

    def cleared(self, message: str) -> tuple:
        """Outputs for a refused input: the message, no pictures or code, the sliders at the average code."""
        return (None, None, "", "", f"⚠️ {message}", None, self.slider_values(self.mean_code), None)

    def show_input(self, x: np.ndarray, note: str | None = None) -> tuple:
        """Every output (self.outputs, set by build) for a ready (28, 28) model input, e.g. a stored test digit
        another view picked."""
        return self.shown(self.engine.run_input(x, note))

    def _draw(self, sketch) -> tuple:
        return self.shown(self.engine.run(drawing(sketch, self.blobs)))

    def _upload(self, image) -> tuple:
        return self.shown(self.engine.run_file(uploaded(image, self.trusted)))

    def _slide(self, encoded: list | None, values) -> tuple:
        code = self.engine.check_code(values)
        base = self.mean_code if encoded is None else np.asarray(encoded, dtype=np.float32)
        moved = float(np.linalg.norm(code - base))
        what = "the encoded code" if encoded is not None else "the average code"
        note = f"Decoding your edited code · distance from {what}: {moved:.2f}"
        return saved_png(to_image(self.engine.decode(code))), self.chart(code), code_text(code), note

    def on_reset(self, encoded: list | None) -> tuple:
        code = self.slider_values(self.mean_code if encoded is None else np.asarray(encoded, dtype=np.float32))
        return (*self.on_slide(encoded, code), code)


def build(engine: Engine, examples: Path) -> tuple[Handlers, gr.State]:
    """Add the view to the Blocks being built; returns its handlers (tests call them in-process) and the
    state holding the visitor's current model input, (28, 28) (None while there is none), for other views."""
    h = Handlers(engine, trusted=(examples,))
    d = engine.code_size
    encoded = gr.State(None)  # this visitor's last encoded code, for the reset button
    current = gr.State(None)  # this visitor's current model input
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            with gr.Tabs():
                with gr.Tab("Draw"):
                    sketch = Sketchpad(
                        label="Draw one digit, large, in the middle", elem_id="sketch",
                        canvas_size=(CANVAS_SIDE, CANVAS_SIDE), fixed_canvas=True, image_mode="RGBA", type="numpy",
                        format="png", layers=False, transforms=(),
                        brush=gr.Brush(default_size=BRUSH_SIZE, colors=["#000000"], color_mode="fixed"),
                    )
                    sketch.pending = h.blobs  # bounded: see PendingDrawings
                with gr.Tab("Upload"):
                    upload = gr.Image(
                        label=f"Upload, drop or paste an image of a digit (up to {MAX_FILE_BYTES // 2**20} MB)",
                        type="filepath", image_mode=None, sources=["upload", "clipboard"], height=320, elem_id="upload",
                    )
                    gr.Examples(sorted(str(p) for p in examples.glob("*.png")), inputs=upload,
                                label="Or pick a real MNIST test digit", examples_per_page=20)
        with gr.Column(scale=1, min_width=320):  # the pictures with the sliders right under them
            with gr.Row():  # captions above the pictures: a label drawn on a picture would hide its top rows
                gr.Markdown("**What the encoder sees**", elem_classes="caption")
                gr.Markdown("**What the decoder rebuilds**", elem_classes="caption")
            with gr.Row():
                model_input = gr.Image(label="What the encoder sees", show_label=False, format="png",
                                       interactive=False, elem_classes="pixelated", buttons=["download"],
                                       elem_id="model-input")
                recon = gr.Image(label="What the decoder rebuilds", show_label=False, format="png",
                                 interactive=False, elem_classes="pixelated", buttons=["download"], elem_id="recon")
            message = gr.Markdown(START, elem_classes="status", elem_id="message")
            with gr.Row(equal_height=True):
                gr.Markdown(f"**Steer the code:** each slider is one of the {d} numbers, the most variable "
                            f"first; the decoder redraws as you move it.", elem_classes="steer")
                reset = gr.Button("Reset to the encoded code", variant="secondary", size="sm", elem_id="reset",
                                  scale=0, min_width=200)
            sliders = LatentSliders(h.slider_values(h.mean_code), low=engine.low.tolist(), high=engine.high.tolist(),
                                    order=engine.by_importance, shown=min(TOP_SLIDERS, d), label="code",
                                    elem_id="sliders", decoder_url=decoder_url(engine.model), target="recon")
    gr.Markdown(f"Left picture: your digit made MNIST-like (28×28 pixels, white ink on black, centred), which is "
                f"what the encoder reads. Right: the picture the decoder draws from the {d} numbers alone.\n\n"
                f"### The code: {d} numbers\nEach bar is one number of the code (blue above zero, orange below); "
                f"the grey band is where that number usually lies for MNIST digits (mean ± one standard "
                f"deviation). The square shows the same {d} numbers as a grid, coloured by the key below it.")
    code_html = gr.HTML(elem_id="code-chart")
    code_numbers = gr.Textbox(label="The code as numbers (copy them, or send them to /decode)", lines=2,
                              max_lines=6, buttons=["copy"], interactive=False, elem_id="code-numbers")

    shown_outputs = [model_input, recon, code_html, code_numbers, message, encoded, sliders, current]
    h.outputs = shown_outputs  # for views that load a digit into this one
    # The page's own events: callable by clients (the tests use them) but left out of the API docs. Image
    # events take Gradio's payload unopened (preprocess=False): ae.ui.inputs decides what may be read.
    ui = dict(api_visibility="undocumented", show_progress="hidden", trigger_mode="always_last")
    images = dict(preprocess=False, concurrency_limit=IMAGE_CONCURRENCY)
    sketch.change(h.on_draw, sketch, shown_outputs, api_name="draw", **images, **ui)
    upload.change(h.on_upload, upload, shown_outputs, api_name="upload", **images, **ui)
    sliders.input(h.on_slide, [encoded, sliders], [recon, code_html, code_numbers, message], api_name="slide",
                  concurrency_limit=None, **ui)
    reset.click(h.on_reset, encoded, [recon, code_html, code_numbers, message, sliders], api_name="reset",
                concurrency_limit=None, **ui)
    return h, current


EVENTS = ("draw", "upload", "slide", "reset")  # the api_names above

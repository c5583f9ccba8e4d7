"""The main view: draw, upload or pick a digit; see what the encoder sees, the code and the reconstruction;
steer the code with sliders; pick the model (each visitor their own). `build(ctx)` adds it to the page."""

from dataclasses import replace

import gradio as gr
import numpy as np

from ae.inference import Engine, Engines, Result
from ae.preprocess import BRUSH_SIZE, CANVAS_SIDE
from ae.ui.api import saved_png
from ae.ui.components import Sketchpad
from ae.ui.context import Context
from ae.ui.errors import on_page
from ae.ui.inputs import PendingDrawings, drawing, uploaded
from ae.ui.render import chart_scale, code_chart, code_text, to_image
from ae.ui.serve import decoder_url
from ae.ui.sliders import LatentSliders
from ae.uploads import MAX_FILE_BYTES
from ae.visitors import YOURS

TOP_SLIDERS = 8  # shown open; the other dimensions sit in a folded section
START = "Draw, upload or pick a digit to begin."
IMAGE_CONCURRENCY = 4  # image events at once (up to ~0.3 s each for the largest uploads); decodes: no limit


def encoded_or_mean(encoded: list | None, engine: Engine) -> np.ndarray:
    """The visitor's encoded code, or the model's average code while there is none."""
    return engine.stats.mean.numpy() if encoded is None else np.asarray(encoded, dtype=np.float32)


class Handlers:
    """The view's event handlers. Each returns every output, so nothing stale stays on screen; per-visitor state
    (the last encoded code, the name of the visitor's model) comes in and goes out through gr.State."""

    def __init__(self, engines: Engines, trusted: tuple = ()):
        self.engines, self.trusted = engines, trusted  # trusted: folders besides Gradio's cache (the examples)
        self.scales = {e.name: chart_scale(e.stats.mean.numpy(), e.stats.std.numpy()) for e in engines}
        self.decoders: dict[str, str] = {}  # each model's decoder URL for the page (set by build)
        self.blobs = PendingDrawings()  # the sketchpad's drawings sent ahead of their events
        self.outputs: list = []  # the components show_input fills, in its order (set by build)
        self.choose_outputs: list = []  # the components on_choose fills (set by build)
        self.on_draw = on_page("draw", self.cleared)(self._draw)
        self.on_upload = on_page("upload", self.cleared)(self._upload)
        self.on_slide = on_page("slide", lambda message: (None, "", "", f"⚠️ {message}"))(self._slide)
        self.on_choose = on_page("choose model", self.not_chosen)(self._choose)

    @property
    def engine(self) -> Engine:
        """The served model's engine, every visitor's first."""
        return self.engines.default

    def slider_values(self, code: np.ndarray, engine: Engine | None = None) -> list[float]:
        """A code as slider positions: an unusual drawing can encode past a slider's end, where it must stop."""
        engine = engine or self.engine
        return [round(v, 3) for v in np.clip(code, engine.low, engine.high).tolist()]

    def chart(self, code: np.ndarray, engine: Engine) -> str:
        stats = engine.stats
        scale = self.scales.get(engine.name)  # a visitor's own model has none made ahead
        if scale is None:
            scale = chart_scale(stats.mean.numpy(), stats.std.numpy())
        return code_chart(code, scale,
                          typical=((stats.mean - stats.std).numpy(), (stats.mean + stats.std).numpy()))

    def status(self, result: Result, engine: Engine) -> str:
        line = f"**Reconstruction error (MSE): {result.mse:.4f}**"
        if engine.model.test_mse is not None:
            line += f" · {engine.name} averages {engine.model.test_mse:.4f} on MNIST's 10,000 test digits"
        return line + (f"\n\n{result.note}" if result.note else "")

    def shown(self, result: Result, engine: Engine) -> tuple:
        return (saved_png(to_image(result.model_input)), saved_png(to_image(result.reconstruction)),
                self.chart(result.code, engine), code_text(result.code), self.status(result, engine),
                result.code.tolist(), self.slider_values(result.code, engine), result.model_input)

    def cleared(self, message: str) -> tuple:
        """Outputs for a refused input: the message, no pictures or code; the sliders stay where they are."""
        return (None, None, "", "", f"⚠️ {message}", None, gr.skip(), None)

    def show_input(self, x: np.ndarray, note: str | None = None, name: str | None = None) -> tuple:
        """Every output (self.outputs, set by build) for a ready (28, 28) model input, e.g. a stored test digit
        another view picked, under the visitor's model."""
        engine = self.engines.get(name)
        return self.shown(engine.run_input(x, note), engine)

    def _draw(self, sketch, name: str | None = None) -> tuple:
        engine = self.engines.get(name)
        return self.shown(engine.run(drawing(sketch, self.blobs)), engine)

    def _upload(self, image, name: str | None = None) -> tuple:
        engine = self.engines.get(name)
        return self.shown(engine.run_file(uploaded(image, self.trusted)), engine)

    def _slide(self, encoded: list | None, values, name: str | None = None) -> tuple:
        engine = self.engines.get(name)
        code = engine.check_code(values)
        base = encoded_or_mean(encoded, engine)
        moved = float(np.linalg.norm(code - base)) if base.shape == code.shape else 0.0
        what = "the encoded code" if encoded is not None else "the average code"
        note = f"Decoding your edited code · distance from {what}: {moved:.2f}"
        return saved_png(to_image(engine.decode(code))), self.chart(code, engine), code_text(code), note

    def on_reset(self, encoded: list | None, name: str | None = None) -> tuple:
        engine = self.engines.get(name)
        code = self.slider_values(encoded_or_mean(encoded, engine), engine)
        return (*self.on_slide(encoded, code, name), code)

    def sliders(self, engine: Engine, code: np.ndarray | None = None) -> dict:
        """The sliders for a model: its ranges, order and decoder, at a code (its average code without one)."""
        code = engine.stats.mean.numpy() if code is None else code
        return gr.update(value=self.slider_values(code, engine), low=engine.low.tolist(), high=engine.high.tolist(),
                         order=engine.by_importance, shown=min(TOP_SLIDERS, engine.code_size),
                         decoder_url=self.decoders.get(engine.name, ""))

    def _choose(self, name, x) -> tuple:
        """The visitor picked a model: its sliders, and the current digit (if any) through it."""
        engine = self.engines.get(name)
        if x is None:
            outputs = (None, None, "", "", f"Now using **{engine.name}**: {engine.describe()}. {START}", None)
            return (engine.name, steer(engine.code_size), self.sliders(engine), *outputs)
        shown = self.shown(engine.run_input(np.asarray(x, dtype=np.float32)), engine)
        return (engine.name, steer(engine.code_size), self.sliders(engine, np.asarray(shown[5])), *shown[:6])

    def on_rechoose(self, name, x) -> tuple:
        """The visitor's own model changed (a new run, a loaded checkpoint): if it is the one they picked, show it
        as picking it anew does; otherwise nothing changes."""
        return self.on_choose(name, x) if name == YOURS else (gr.skip(),) * 9

    def not_chosen(self, message: str) -> tuple:
        return (gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), f"⚠️ {message}",
                gr.skip())


def steer(d: int) -> str:
    return (f"**Steer the code:** each slider is one of the {d} numbers, the most variable first; the decoder "
            f"redraws as you move it.")


KIND_NAMES = {"pca": "PCA", "vae": "variational autoencoder", "conv": "convolutional autoencoder"}


def choice_label(e: Engine) -> str:
    """How the model picker names a model: its name, kind, code size and test MSE."""
    mse = e.model.test_mse
    kind = KIND_NAMES.get(e.model.kind, e.model.kind)
    return f"{e.name}: {kind}, {e.code_size} numbers" + (f", test MSE {mse:.4f}" if mse else "")


def choices(engines: Engines) -> list[tuple[str, str]]:
    """The model picker's entries: (label, name)."""
    return [(choice_label(e), e.name) for e in engines]


def build(ctx: Context) -> Context:
    """Add the view to the Blocks being built; returns the context with what the other views share: the
    visitor's current model input, (28, 28) (None while there is none), the name of the visitor's model, and
    the handlers (tests call them in-process)."""
    h = Handlers(ctx.engines, trusted=ctx.trusted)
    h.decoders = {e.name: decoder_url(e.model) for e in ctx.engines}  # exported once, at start-up
    engine, examples = ctx.served, ctx.examples
    d = engine.code_size
    encoded = gr.State(None)  # this visitor's last encoded code, for the reset button
    current = gr.State(None)  # this visitor's current model input
    chosen = gr.State(engine.name)  # this visitor's model: the served one until the visitor picks another
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
            picker = gr.Dropdown(choices(ctx.engines), value=engine.name, label="Model", elem_id="model-picker",
                                 info="Its code, sliders and pictures are yours alone: other visitors keep theirs.")
        with gr.Column(scale=1, min_width=320):  # the pictures with the sliders right under them
            with gr.Row():  # captions above the pictures: a label drawn on a picture would hide its top rows
                gr.Markdown("**What the encoder sees**", elem_classes="caption")
                gr.Markdown("**What the decoder rebuilds**", elem_classes="caption")
            with gr.Row():
                model_input = gr.Image(label="What the encoder sees", show_label=False, format="png",
                                       interactive=False, elem_classes="pixelated", buttons=["download"],
                                       elem_id="model-input", alt_text="your digit as the encoder sees it, 28×28")
                recon = gr.Image(label="What the decoder rebuilds", show_label=False, format="png",
                                 interactive=False, elem_classes="pixelated", buttons=["download"], elem_id="recon",
                                 alt_text="the digit the decoder rebuilds from the code")
            message = gr.Markdown(START, elem_classes="status", elem_id="message")
            with gr.Row(equal_height=True):
                steering = gr.Markdown(steer(d), elem_classes="steer")
                reset = gr.Button("Reset to the encoded code", variant="secondary", size="sm", elem_id="reset",
                                  scale=0, min_width=200)
            sliders = LatentSliders(h.slider_values(engine.stats.mean.numpy()), low=engine.low.tolist(),
                                    high=engine.high.tolist(), order=engine.by_importance,
                                    shown=min(TOP_SLIDERS, d), label="code",
                                    elem_id="sliders", decoder_url=h.decoders[engine.name], target="recon")
    gr.Markdown("Left picture: your digit made MNIST-like (28×28 pixels, white ink on black, centred), which is "
                "what the encoder reads. Right: the picture the decoder draws from the code's numbers alone.\n\n"
                "### The code\nEach bar is one number of the code (blue above zero, orange below); the grey band "
                "is where that number usually lies for MNIST digits (mean ± one standard deviation). The square "
                "shows the same numbers as a grid, coloured by the key below it.")
    code_html = gr.HTML(elem_id="code-chart")
    code_numbers = gr.Textbox(label="The code as numbers (copy them, or send them to /decode)", lines=2,
                              max_lines=6, buttons=["copy"], interactive=False, elem_id="code-numbers")

    shown_outputs = [model_input, recon, code_html, code_numbers, message, encoded, sliders, current]
    h.outputs = shown_outputs  # for views that load a digit into this one
    h.choose_outputs = [chosen, steering, sliders, *shown_outputs[:6]]  # for the lab, when the visitor's model changes
    # The page's own events: callable by clients (the tests use them) but left out of the API docs. Image
    # events take Gradio's payload unopened (preprocess=False): ae.ui.inputs decides what may be read.
    ui = dict(api_visibility="undocumented", show_progress="hidden", trigger_mode="always_last")
    images = dict(preprocess=False, concurrency_limit=IMAGE_CONCURRENCY)
    sketch.change(h.on_draw, [sketch, chosen], shown_outputs, api_name="draw", **images, **ui)
    upload.change(h.on_upload, [upload, chosen], shown_outputs, api_name="upload", **images, **ui)
    sliders.input(h.on_slide, [encoded, sliders, chosen], [recon, code_html, code_numbers, message],
                  api_name="slide", concurrency_limit=None, **ui)
    reset.click(h.on_reset, [encoded, chosen], [recon, code_html, code_numbers, message, sliders], api_name="reset",
                concurrency_limit=None, **ui)
    picker.input(h.on_choose, [picker, current], h.choose_outputs,
                 api_name="choose_model", concurrency_limit=IMAGE_CONCURRENCY, **ui)
    return replace(ctx, current=current, chosen=chosen, loader=h, picker=picker)


ENDPOINTS = ("draw", "upload", "slide", "reset", "choose_model")  # the api_names build registers

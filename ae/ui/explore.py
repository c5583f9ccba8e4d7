"""The main view: draw, upload or pick a digit; see what the encoder sees, the code and the reconstruction;
steer the code with sliders; pick the model (each visitor their own). `build(ctx)` adds it to the page."""

import re
from dataclasses import replace

import gradio as gr
import numpy as np

from ae.i18n import L, t, translate
from ae.inference import Engine, Engines, Result
from ae.preprocess import BRUSH_SIZE, CANVAS_SIDE
from ae.ui.api import saved_png
from ae.ui.components import Sketchpad
from ae.ui.context import Context
from ae.ui.errors import on_page
from ae.ui.inputs import PendingDrawings, drawing, uploaded
from ae.ui.render import chart_scale, code_chart, code_text, data_uri, to_image
from ae.ui.serve import decoder_url
from ae.ui.sliders import LatentSliders
from ae.uploads import MAX_FILE_BYTES
from ae.visitors import YOURS

EXPLAIN = ("Left picture: your digit made MNIST-like (28×28 pixels, white ink on black, centred), which is what the "
           "encoder reads. Right: the picture the decoder draws from the code's numbers alone.\n\n### The code\nEach "
           "bar is one number of the code (blue above zero, orange below); the grey band is where that number usually "
           "lies for MNIST digits (mean ± one standard deviation). The square shows the same numbers as a grid, "
           "coloured by the key below it.")
TOP_SLIDERS = 8  # shown open; the other dimensions sit in a folded section
START = "Draw, upload or pick a digit to begin."
FIRST = "A real MNIST test digit, picked at random: draw your own on the canvas, upload one or pick another."
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

    def status(self, result: Result, engine: Engine, say=t) -> str:
        """The line under the pictures (say: t while serving, L for the page as built)."""
        mse, note = f"{result.mse:.4f}", result.note and translate(result.note)  # open_image's note is English
        if engine.model.test_mse is None:
            if note:
                return say("**Reconstruction error (MSE): {mse}**\n\n{note}", mse=mse, note=note)
            return say("**Reconstruction error (MSE): {mse}**", mse=mse)
        average = dict(name=engine.name, average=f"{engine.model.test_mse:.4f}")
        if note:
            return say("**Reconstruction error (MSE): {mse}** · {name} averages {average} on MNIST's 10,000 test "
                       "digits\n\n{note}", mse=mse, note=note, **average)
        return say("**Reconstruction error (MSE): {mse}** · {name} averages {average} on MNIST's 10,000 test digits",
                   mse=mse, **average)

    def shown(self, result: Result, engine: Engine, say=t) -> tuple:
        chart = self.chart(result.code, engine)
        sd = engine.spread(result.model_input)  # a VAE's: the code is a Gaussian, result.code its mean
        if sd is not None:
            chart += spread_html(engine, result.code, sd)
        return (saved_png(to_image(result.model_input)), saved_png(to_image(result.reconstruction)),
                chart, code_text(result.code), self.status(result, engine, say),
                result.code.tolist(), self.slider_values(result.code, engine), result.model_input)

    def cleared(self, message: str) -> tuple:
        """Outputs for a refused input: the message, no pictures or code; the sliders stay where they are."""
        return (None, None, "", "", f"⚠️ {message}", None, gr.skip(), None)

    def show_input(self, x: np.ndarray, note: str | None = None, name: str | None = None, say=t) -> tuple:
        """Every output (self.outputs, set by build) for a ready (28, 28) model input, e.g. a stored test digit
        another view picked, under the visitor's model (say=L: as the page is first built)."""
        engine = self.engines.get(name)
        return self.shown(engine.run_input(x, note), engine, say)

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
        note = (t("Decoding your edited code · distance from the encoded code: {distance}", distance=f"{moved:.2f}")
                if encoded is not None else
                t("Decoding your edited code · distance from the average code: {distance}", distance=f"{moved:.2f}"))
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
            said = t("Now using **{name}**: {kind}. {start}", name=engine.name, kind=choice_label(engine),
                     start=t(START))
            outputs = (None, None, "", "", said, None)
            return (engine.name, self.steer(engine), self.sliders(engine), *outputs)
        shown = self.shown(engine.run_input(np.asarray(x, dtype=np.float32)), engine)
        return (engine.name, self.steer(engine), self.sliders(engine, np.asarray(shown[5])), *shown[:6])

    def steer(self, engine: Engine) -> str:
        return steer(engine.code_size, in_page=bool(self.decoders.get(engine.name)))

    def on_rechoose(self, name, x) -> tuple:
        """The visitor's own model changed (a new run, a loaded checkpoint): if it is the one they picked, show it
        as picking it anew does; otherwise nothing changes."""
        return self.on_choose(name, x) if name == YOURS else (gr.skip(),) * 9

    def not_chosen(self, message: str) -> tuple:
        return (gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), f"⚠️ {message}",
                gr.skip())


STEER = ("**Steer the code:** each slider is one of the {d} numbers, the most variable first; the decoder redraws "
         "as you move it.")


SPREAD = ("**A variational autoencoder's code is a cloud, not a point.** For your digit the encoder gives each number "
          "a mean (the dot) and a spread (the line: mean ± one standard deviation, on average {sd} here). The sliders "
          "and the picture above use the means; any code within the spread rebuilds much the same digit. Below: "
          "pictures decoded from {n} codes drawn at random from that cloud, what the VAE could also rebuild.")
DRAWS = 4  # codes drawn from q(z|x) and decoded


def spread_html(engine: Engine, mean: np.ndarray, sd: np.ndarray) -> str:
    """HTML: a VAE's code for one digit as mean ± one standard deviation per number (an SVG, in the order of the
    bars above), a sentence, and DRAWS pictures decoded from codes drawn from N(mean, sd²) (the same draws for the
    same digit), in the language of the event served (English as the page is built)."""
    d = len(mean)
    top = float(max(3.0, np.max(np.abs(mean) + sd) * 1.1))
    w, h, step = 40 + 24 * d, 150, 24

    def y(v: float) -> float:
        return 75 - 65 * v / top

    marks = []
    for i, (m, s) in enumerate(zip(mean.tolist(), sd.tolist(), strict=True)):
        x = 30 + step * i + step / 2
        tip = t("number {i}: mean {mean}, spread ± {sd}", i=i, mean=f"{m:.2f}", sd=f"{s:.2f}")
        marks.append(f'<g><title>{tip}</title><line x1="{x}" x2="{x}" y1="{y(m - s):.1f}" y2="{y(m + s):.1f}" '
                     f'stroke="#7c3aed" stroke-width="3"/><circle cx="{x}" cy="{y(m):.1f}" r="3.5" fill="#111827"/>'
                     f'<text x="{x}" y="{h - 2}" font-size="10" text-anchor="middle" fill="#6b7280">{i}</text></g>')
    axis = (f'<line x1="30" x2="{w - 10}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#9ca3af"/>'
            f'<text x="26" y="{y(top) + 4:.1f}" font-size="10" text-anchor="end">+{top:.1f}</text>'
            f'<text x="26" y="{y(0) + 4:.1f}" font-size="10" text-anchor="end">0</text>'
            f'<text x="26" y="{y(-top) + 4:.1f}" font-size="10" text-anchor="end">-{top:.1f}</text>')
    label = t("each number of the code: its mean and its spread")
    svg = (f'<svg class="code-spread" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" '
           f'style="width:100%;max-width:{int(w * 1.5)}px;height:auto">{axis}{"".join(marks)}</svg>')
    draws = mean + sd * np.random.default_rng(0).standard_normal((DRAWS, d)).astype(np.float32)  # (DRAWS, D)
    alt = t("decoded from a code drawn from the cloud")
    pictures = "".join(f'<img class="digit" src="{data_uri(engine.decode(z), 4)}" alt="{alt}">' for z in draws)
    text = markdown_html(t(SPREAD, sd=f"{float(sd.mean()):.2f}", n=DRAWS))
    return (f'<div class="code-spread-box" id="code-spread">{text}{svg}'
            f'<div class="strip interp-strip">{pictures}</div></div>')


def markdown_html(text: str) -> str:
    """The few Markdown marks SPREAD uses (**bold**) as HTML, in a paragraph."""
    return "<p>" + re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text) + "</p>"


ON_SERVER = (" This model's decoder does not run in the page: each move is decoded on the server, which takes about "
             "a sixth of a second here.")  # docs/benchmarks.md, "The convolutional autoencoder": p50 0.16-0.17 s


def steer(d: int, say=t, in_page: bool = True) -> str:
    """What the sliders do; in_page: whether the page decodes this model's codes itself."""
    return say(STEER, d=d) + ("" if in_page else say(ON_SERVER))


KIND_NAMES = {"vae": "variational autoencoder", "conv": "convolutional autoencoder", "ae": "autoencoder",
              "autoencoder": "autoencoder"}


def choice_label(e: Engine, say=t) -> str:
    """How the model picker names a model: its name, kind, code size and test MSE (say=L for the page as built)."""
    mse = e.model.test_mse
    kind = say(KIND_NAMES[e.model.kind]) if e.model.kind in KIND_NAMES else e.model.kind.upper()  # PCA: a name
    if mse:
        return say("{name}: {kind}, {d} numbers, test MSE {mse}", name=e.name, kind=kind, d=e.code_size,
                   mse=f"{mse:.4f}")
    return say("{name}: {kind}, {d} numbers", name=e.name, kind=kind, d=e.code_size)


def choices(engines: Engines) -> list[tuple[str, str]]:
    """The model picker's entries: (label, name), as the page is built."""
    return [(choice_label(e, L), e.name) for e in engines]


def build(ctx: Context) -> Context:
    """Add the view to the Blocks being built; returns the context with what the other views share: the
    visitor's current model input, (28, 28) (None while there is none), the name of the visitor's model, and
    the handlers (tests call them in-process)."""
    h = Handlers(ctx.engines, trusted=ctx.trusted)
    h.decoders = {e.name: decoder_url(e.model) for e in ctx.engines}  # exported once, at start-up
    engine, examples = ctx.served, ctx.examples
    d = engine.code_size
    # The first paint shows a real digit (ctx.first), its code and its reconstruction, made by the handlers'
    # own code: (input picture, reconstruction, chart, numbers, status, code, slider values, model input).
    first = (None, None, "", "", L(START), None, h.slider_values(engine.stats.mean.numpy()), None)
    if ctx.first is not None:
        first = h.show_input(np.asarray(ctx.first, dtype=np.float32), L(FIRST), say=L)
    encoded = gr.State(first[5])  # this visitor's last encoded code, for the reset button
    current = gr.State(first[7])  # this visitor's current model input
    chosen = gr.State(engine.name)  # this visitor's model: the served one until the visitor picks another
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            with gr.Tabs():
                with gr.Tab(L("Draw")):
                    sketch = Sketchpad(
                        label=L("Draw one digit, large, in the middle"), elem_id="sketch",
                        canvas_size=(CANVAS_SIDE, CANVAS_SIDE), fixed_canvas=True, image_mode="RGBA", type="numpy",
                        format="png", layers=False, transforms=(),
                        brush=gr.Brush(default_size=BRUSH_SIZE, colors=["#000000"], color_mode="fixed"),
                    )
                    sketch.pending = h.blobs  # bounded: see PendingDrawings
                with gr.Tab(L("Upload")):
                    upload = gr.Image(
                        label=L("Upload, drop or paste an image of a digit (up to {size} MB)",
                                size=MAX_FILE_BYTES // 2**20),
                        type="filepath", image_mode=None, sources=["upload", "clipboard"], height=320, elem_id="upload",
                    )
                    gr.Examples(sorted(str(p) for p in examples.glob("*.png")), inputs=upload,
                                label=L("Or pick a real MNIST test digit"), examples_per_page=20)
            picker = gr.Dropdown(choices(ctx.engines), value=engine.name, label=L("Model"), elem_id="model-picker",
                                 info=L("Its code, sliders and pictures are yours alone: other visitors keep theirs."))
        with gr.Column(scale=1, min_width=320):  # the pictures with the sliders right under them
            with gr.Row():  # captions above the pictures: a label drawn on a picture would hide its top rows
                gr.Markdown(L("**What the encoder sees**"), elem_classes="caption")
                gr.Markdown(L("**What the decoder rebuilds**"), elem_classes="caption")
            with gr.Row():
                model_input = gr.Image(first[0], label=L("What the encoder sees"), show_label=False, format="png",
                                       interactive=False, elem_classes="pixelated", buttons=["download"],
                                       elem_id="model-input",
                                       alt_text=L("your digit as the encoder sees it, 28×28"))
                recon = gr.Image(first[1], label=L("What the decoder rebuilds"), show_label=False, format="png",
                                 interactive=False, elem_classes="pixelated", buttons=["download"], elem_id="recon",
                                 alt_text=L("the digit the decoder rebuilds from the code"))
            message = gr.Markdown(first[4], elem_classes="status", elem_id="message")
            with gr.Row(equal_height=True):
                steering = gr.Markdown(steer(d, L), elem_classes="steer")
                reset = gr.Button(L("Reset to the encoded code"), variant="secondary", size="sm", elem_id="reset",
                                  scale=0, min_width=200)
            sliders = LatentSliders(first[6], low=engine.low.tolist(),
                                    high=engine.high.tolist(), order=engine.by_importance,
                                    shown=min(TOP_SLIDERS, d), label=L("code"),
                                    elem_id="sliders", decoder_url=h.decoders[engine.name], target="recon")
    gr.Markdown(L(EXPLAIN))
    code_html = gr.HTML(first[2], elem_id="code-chart")
    code_numbers = gr.Textbox(first[3], label=L("The code as numbers (copy them to decode them elsewhere)"), lines=2,
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

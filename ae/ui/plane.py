"""The 2-number code's plane: with a code of two numbers the whole latent space is a plane. Decoded digits
over a grid of it, the codes of 5,000 training digits as dots coloured by class, the visitor's digit
marked where it encodes; the point under the pointer decoded live in the page (static/plane.js, the same
routine as the sliders'), and any point decoded by the server on a click or with two sliders.
`build(ctx)`."""

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from ae.checkpoint import Codes
from ae.latent import decode_plane, plane_extent
from ae.models import Model, decode_one, encode_one
from ae.ui import static
from ae.ui.checks import number
from ae.ui.context import Context
from ae.ui.errors import for_api, on_page
from ae.ui.render import CLASSES, legend, to_image
from ae.ui.serve import decoder_url

GRID = 15  # digits across and down
CELL = 28  # pixels per digit


class Plane:
    """The pictures of the plane, drawn once at start-up; a visitor's digit is marked on copies."""

    def __init__(self, model: Model, sample: Codes):
        self.model = model
        self.lo, self.hi = plane_extent(sample.codes)
        self.side = GRID * CELL
        self.grid = to_image(decode_plane(self.model, self.lo, self.hi, GRID).numpy(), scale=1).convert("RGB")
        self.dots = Image.new("RGB", (self.side, self.side), "white")
        draw = ImageDraw.Draw(self.dots)
        for (x, y), label in zip(self.pixels(sample.codes.numpy()), sample.labels.tolist(), strict=True):
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=CLASSES[label])

    def pixels(self, codes: np.ndarray) -> list[tuple[float, float]]:
        """(N, 2) codes -> pixel positions on the pictures (the second number grows upwards)."""
        x = (codes[:, 0] - self.lo[0]) / (self.hi[0] - self.lo[0]) * self.side
        y = (self.hi[1] - codes[:, 1]) / (self.hi[1] - self.lo[1]) * self.side
        return list(zip(x.tolist(), y.tolist(), strict=True))

    def code_at(self, x: float, y: float) -> list[float]:
        """The code under a pixel of the pictures."""
        return [self.lo[0] + x / self.side * (self.hi[0] - self.lo[0]),
                self.hi[1] - y / self.side * (self.hi[1] - self.lo[1])]

    def decode(self, code: list[float]) -> Image.Image:
        return to_image(decode_one(self.model, np.array(code, dtype=np.float32)))

    def encode(self, x: np.ndarray) -> list[float]:
        return encode_one(self.model, x).tolist()

    def marked(self, code: list[float] | None, colour: str = "#dc2626") -> tuple[Image.Image, Image.Image]:
        """Both pictures with a ring where `code` lies (as they are when code is None)."""
        pictures = (self.grid.copy(), self.dots.copy())
        if code is not None:
            (x, y), = self.pixels(np.array([code]))
            for picture in pictures:
                ImageDraw.Draw(picture).ellipse((x - 9, y - 9, x + 9, y + 9), outline=colour, width=3)
        return pictures


ENDPOINTS = ()  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built); says so instead when the 2-number model is not there."""
    model = ctx.zoo.by_size.get(2)
    sample = None if model is None else ctx.zoo.codes.get(model.source)
    if sample is None:
        gr.Markdown("The 2-number model or its codes are not in weights/ (`python -m ae.build` makes them).")
        return
    plane = Plane(model, sample)
    current = ctx.current
    gr.Markdown(f"### The whole latent space of a 2-number code (model {model.name})\nLeft: what the decoder "
                "draws at each point of the plane. Right: where 5,000 training digits land, coloured by what digit "
                "they are. Your digit is the red ring. **Move the pointer over the left picture** to decode the point "
                "under it, **click** (or use the two sliders) to keep one. "
                "Digits of a class cluster, and between clusters the decoder draws blends.")
    gr.HTML(f"<p>{legend()}</p>")
    with gr.Row():
        grid = gr.Image(plane.grid, label="decoded plane", show_label=False, interactive=False, format="png",
                        elem_id="plane-grid", elem_classes="pixelated", buttons=[],
                        alt_text="digits decoded on a grid of points of the 2-number plane")
        dots = gr.Image(plane.dots, label="training codes", show_label=False, interactive=False, format="png",
                        elem_id="plane-dots", buttons=[], alt_text="training digits' codes as dots on the plane")
        with gr.Column(min_width=200):
            gr.HTML("", html_template='<canvas width="28" height="28" class="plane-live"></canvas>'
                    '<div class="coords">Move the pointer over the left picture.</div>',
                    js_on_load=static("decoder.js") + static("plane.js"), elem_id="plane-live",
                    decoder_url=decoder_url(plane.model), lo=plane.lo, hi=plane.hi)
            gr.Markdown("**Decoded at the chosen point**", elem_classes="caption")
            picked = gr.Image(label="decoded at the chosen point", show_label=False, interactive=False, format="png",
                              elem_id="plane-picked", elem_classes="pixelated", buttons=[],
                              alt_text="the digit decoded at the chosen point")
            first = gr.Slider(round(plane.lo[0], 2), round(plane.hi[0], 2), value=0.0, step=0.01,
                              label="first number", elem_id="plane-x")
            second = gr.Slider(round(plane.lo[1], 2), round(plane.hi[1], 2), value=0.0, step=0.01,
                               label="second number", elem_id="plane-y")
    said = gr.Markdown(elem_id="plane-note")

    def show_current(x):
        code = None if x is None else plane.encode(x)
        note = "Draw, upload or pick a digit in the first tab to see where it lands." if code is None else \
            f"Your digit encodes to ({code[0]:.2f}, {code[1]:.2f})."
        return (*plane.marked(code), note)

    def choose(a: float, b: float):
        a = number("first number", a, round(plane.lo[0], 2), round(plane.hi[0], 2))
        return plane.decode([a, number("second number", b, round(plane.lo[1], 2), round(plane.hi[1], 2))])

    def clicked(evt: gr.SelectData):
        where = getattr(evt, "index", None)  # a call without the click's event data has none
        x, y = where if isinstance(where, (list, tuple)) and len(where) == 2 else (None, None)
        x, y = number("x", x, 0, plane.side), number("y", y, 0, plane.side)  # a click on the picture, or refused
        a, b = plane.code_at(x, y)
        return plane.decode([a, b]), round(a, 2), round(b, 2)

    ui = dict(api_visibility="undocumented", show_progress="hidden")
    current.change(on_page("plane view", lambda message: (gr.skip(), gr.skip(), f"⚠️ {message}"))(show_current),
                   current, [grid, dots, said], **ui)
    grid.select(for_api("plane click")(clicked), None, [picked, first, second], **ui)
    gr.on([first.release, second.release], for_api("plane sliders")(choose), [first, second], picked, **ui)

"""The 2-number code's plane: with a code of two numbers the whole latent space is a plane. Decoded digits
over a grid of it, the codes of 5,000 training digits as dots coloured by class, the visitor's digit
marked where it encodes; the point under the pointer decoded live in the page (static/plane.js, the same
routine as the sliders'), and any point decoded by the server on a click or with two sliders. Beside it the
2-number variational autoencoder's plane: its codes of the same test digits fill a round cloud around zero, and its
decoded grid over ±3 standard deviations has no empty regions. `build(ctx)`."""

import gradio as gr
import numpy as np
import torch
from PIL import Image, ImageDraw

from ae.i18n import LANGUAGES, L, t
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
SPREAD = 3.0  # the VAE's plane reaches this many standard deviations of its prior N(0, I) each way


class Plane:
    """The pictures of a 2-number model's plane, drawn once at start-up; a visitor's digit is marked on copies."""

    def __init__(self, model: Model, codes: torch.Tensor, labels: torch.Tensor,
                 box: tuple[list[float], list[float]] | None = None):
        """codes (N, 2), labels (N,): the digits drawn as dots; box: (low, high) corners of the plane shown (where
        99% of the codes lie, without one)."""
        self.model = model
        self.lo, self.hi = box if box is not None else plane_extent(codes)
        self.side = GRID * CELL
        self.grid = to_image(decode_plane(self.model, self.lo, self.hi, GRID).numpy(), scale=1).convert("RGB")
        self.dots = Image.new("RGB", (self.side, self.side), "white")
        draw = ImageDraw.Draw(self.dots)
        for (x, y), label in zip(self.pixels(codes.numpy()), labels.tolist(), strict=True):
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

    def inside(self, code: list[float]) -> list[float]:
        """A code moved onto the plane shown (an unusual digit can encode past its edge), rounded as the sliders."""
        ends = zip(self.lo, self.hi, strict=True)
        return [round(min(max(v, round(lo, 2)), round(hi, 2)), 2) for v, (lo, hi) in zip(code, ends, strict=True)]

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


def vae_plane(model: Model, images: torch.Tensor, labels: torch.Tensor) -> Plane:
    """The 2-number VAE's plane: the mean codes of images (N, 28, 28) uint8 under it, over ±SPREAD standard
    deviations of its prior (the box its codes were pulled towards)."""
    codes = model.encode(images.float() / 255)  # (N, 2) mean codes
    return Plane(model, codes, labels, ([-SPREAD, -SPREAD], [SPREAD, SPREAD]))


def two_number_vae(ctx: Context) -> Model | None:
    """The 2-number variational autoencoder of the catalogue, if there is one."""
    return next((e.model for e in ctx.engines if e.model.kind == "vae" and e.code_size == 2), None)


HINT = "Move the pointer over the left picture."
UNDER = "under the pointer:"
WAITING = "Draw, upload or pick a digit in the first tab to see where it lands."
LANDS = "Your digit encodes to ({a}, {b}); the sliders are set there and the picture above is decoded there."
VAE_LANDS = "The variational autoencoder puts your digit at ({a}, {b})."
INTRO = ("### The whole latent space of a 2-number code (model {name})\nLeft: what the decoder draws at each point of "
         "the plane. Right: where 5,000 training digits land, coloured by what digit they are. Your digit is the red "
         "ring. **Move the pointer over the left picture** to decode the point under it, **click** (or use the two "
         "sliders) to keep one. Digits of a class cluster, and between clusters the decoder draws blends.")
VAE_INTRO = ("### The same plane for a variational autoencoder (model {name})\nThe variational autoencoder was trained "
             "to rebuild digits *and* to keep its codes close to a round cloud around zero (a standard Gaussian). "
             "So its codes of 5,000 test digits (right) fill one round cloud, with no wide gaps between the classes, "
             "and every point of its decoded plane (left, three standard deviations each way) draws something like "
             "a digit: there are no empty regions, which is what lets it make new digits from random codes. The "
             "plain autoencoder above leaves gaps and far corners where its decoder draws smudges. Your digit is "
             "the red ring here too.")
ENDPOINTS = ()  # the api_names build registers: the first-launch page answers them


def placed(plane: Plane, other: Plane | None, x: np.ndarray | None, say=t) -> tuple:
    """What the view shows for the visitor's digit x (None: none yet): the plane's two pictures marked where x
    lands, a sentence, the picture decoded there and the sliders there; then the VAE's two pictures and a sentence
    (when there is a VAE plane). say: t while serving, L for the page as built."""
    theirs = () if other is None else (*other.marked(None), "")
    if x is None:
        return (*plane.marked(None), say(WAITING), None, gr.skip(), gr.skip(), *theirs)
    x = np.asarray(x, dtype=np.float32)
    code = plane.encode(x)
    a, b = plane.inside(code)
    note = say(LANDS, a=f"{code[0]:.2f}", b=f"{code[1]:.2f}")
    if other is not None:
        at = other.encode(x)
        theirs = (*other.marked(at), say(VAE_LANDS, a=f"{at[0]:.2f}", b=f"{at[1]:.2f}"))
    return (*plane.marked(code), note, plane.decode([a, b]), a, b, *theirs)


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built); says so instead when the 2-number model is not there."""
    model = ctx.zoo.by_size.get(2)
    sample = None if model is None else ctx.zoo.codes.get(model.source)
    if sample is None:
        gr.Markdown(L("The 2-number model or its codes are not in weights/ (`python -m ae.build` makes them)."))
        return
    plane = Plane(model, sample.codes, sample.labels)
    vae, digits = two_number_vae(ctx), ctx.zoo.latent_map
    other = None if vae is None or digits is None else vae_plane(vae, digits.images, digits.labels)
    current = ctx.current

    # The first paint: the first digit (ctx.first) already placed, as a change of the visitor's digit places it.
    first = placed(plane, other, ctx.first, say=L)
    at = first[4:6] if ctx.first is not None else (0.0, 0.0)  # the sliders: where it lands

    gr.Markdown(L(INTRO, name=model.name))
    gr.HTML(f"<p>{legend()}</p>")
    with gr.Row():
        grid = gr.Image(first[0], label=L("what the decoder draws over the plane"), show_label=False,
                        interactive=False, format="png", elem_id="plane-grid", elem_classes="pixelated", buttons=[],
                        alt_text=L("digits decoded on a grid of points of the 2-number plane"))
        dots = gr.Image(first[1], label=L("where the training digits land"), show_label=False, interactive=False,
                        format="png", elem_id="plane-dots", buttons=[],
                        alt_text=L("training digits' codes as dots on the plane"))
        with gr.Column(min_width=200):
            gr.HTML("", html_template='<canvas width="28" height="28" class="plane-live"></canvas>'
                    '<div class="coords">${words[navigator.language]?.hint ?? ""}</div>',
                    js_on_load=static("decoder.js") + static("plane.js"), elem_id="plane-live",
                    decoder_url=decoder_url(plane.model), lo=plane.lo, hi=plane.hi,
                    words={lang: {"hint": t(HINT, lang), "under": t(UNDER, lang)} for lang in LANGUAGES})
            gr.Markdown(L("**Decoded at the chosen point**"), elem_classes="caption")
            picked = gr.Image(first[3], label=L("decoded at the chosen point"), show_label=False, interactive=False,
                              format="png", elem_id="plane-picked", elem_classes=["pixelated", "digit-large"],
                              buttons=[], alt_text=L("the digit decoded at the chosen point"))
            first_number = gr.Slider(round(plane.lo[0], 2), round(plane.hi[0], 2), value=at[0], step=0.01,
                                     label=L("first number"), elem_id="plane-x")
            second_number = gr.Slider(round(plane.lo[1], 2), round(plane.hi[1], 2), value=at[1], step=0.01,
                                      label=L("second number"), elem_id="plane-y")
    said = gr.Markdown(first[2], elem_id="plane-note")
    vae_outputs = []
    if other is not None:
        gr.Markdown(L(VAE_INTRO, name=vae.name))
        with gr.Row():
            vae_grid = gr.Image(first[6], label=L("what the variational autoencoder's decoder draws over the plane"),
                                show_label=False, interactive=False, format="png", elem_id="plane-vae-grid",
                                elem_classes="pixelated", buttons=[],
                                alt_text=L("digits the variational autoencoder decodes on a grid of the plane"))
            vae_dots = gr.Image(first[7], label=L("where the variational autoencoder puts the test digits"),
                                show_label=False, interactive=False, format="png", elem_id="plane-vae-dots",
                                buttons=[], alt_text=L("test digits' codes by the variational autoencoder, as dots"))
        vae_said = gr.Markdown(first[8], elem_id="plane-vae-note")
        vae_outputs = [vae_grid, vae_dots, vae_said]

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
    outputs = [grid, dots, said, picked, first_number, second_number, *vae_outputs]
    refused = (gr.skip(),) * 2 + (None,) + (gr.skip(),) * (len(outputs) - 3)
    show = on_page("plane view", lambda message: (*refused[:2], f"⚠️ {message}", *refused[3:]))(
        lambda x: placed(plane, other, x))
    current.change(show, current, outputs, **ui)
    grid.select(for_api("plane click")(clicked), None, [picked, first_number, second_number], **ui)
    gr.on([first_number.release, second_number.release], for_api("plane sliders")(choose),
          [first_number, second_number], picked, **ui)

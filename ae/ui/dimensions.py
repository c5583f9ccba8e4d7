"""Explain a dimension: which numbers of the current digit's code change its picture most, each swept from -2 to
+2 standard deviations around the digit's own code, with a heat map of the pixels it moves. `build(ctx)`."""


import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.i18n import L, both, in_both_languages, t
from ae.inference import Engine, Engines
from ae.latent import rank_dimensions, sweep_heat, sweep_offsets
from ae.ui.api import as_file
from ae.ui.context import Context
from ae.ui.errors import for_api, on_page
from ae.ui.inputs import model_input
from ae.ui.render import data_uri, grid_image, heat_image, png_uri

SHOWN = 8  # rows on the page: the dimensions that change the picture most
STEPS, SPAN = 7, 2.0  # decodes a row, from -SPAN to +SPAN standard deviations of the dimension
SCALE = 4  # each decode and heat map 112 px wide (28 x 4)
WAITING = "Draw, upload or pick a digit in the first tab; its code's most telling numbers are swept here."
EXPLAIN = """### What does one number of the code do?
Each row takes **your digit's code** (the middle picture) and moves **one** of its numbers from
−{span} to +{span} of that number's usual spread (its standard deviation over MNIST's codes), the others
held; the heat map on the right shows *where* the picture changes (black: not at all, pale yellow: the
most). The rows are the {shown} numbers that change your digit's picture most, **measured** (the mean change
of the pixels across the row), so the order is different for every digit.

- A plain **autoencoder** is trained only to rebuild its input, so nothing asks its numbers to mean one thing
  each: a dimension is usually **entangled**, changing thickness, slant and shape at once, and what it does
  depends on the digit you start from.
- **PCA**'s numbers are coordinates along **orthogonal** directions, fixed pictures called the
  **"eigen-digits"**: moving one number adds or removes the same pattern of pixels whatever the digit, so its
  heat map barely changes from digit to digit. The first components vary most over MNIST.
- A **variational autoencoder** (VAE) is trained to keep its codes close to a smooth Gaussian cloud, so its
  rows tend to change **smoothly** and stay digit-like all the way along; the dimensions it does not need
  stay almost flat.
- A **convolutional** autoencoder's decoder draws with local strokes: its heat maps are often more local.

Pick another model in the first tab to compare them on the same digit."""


def explain_rows(engine: Engine, x: np.ndarray, limit: int | None = None) -> list[dict]:
    """The dimensions of a (28, 28) model input's code by how much sweeping each changes its picture, most first:
    each {dimension, change, row (STEPS, 28, 28), heat (28, 28)}; at most `limit` of them."""
    code = torch.from_numpy(engine.encode(np.asarray(x, dtype=np.float32)))
    dims, change, rows = rank_dimensions(engine.model, code, STEPS, SPAN)
    dims, change, rows = dims[:limit], change[:limit], rows[:limit]
    heat = sweep_heat(rows)
    return [{"dimension": int(d), "change": float(c), "row": r.numpy(), "heat": h.numpy()}
            for d, c, r, h in zip(dims, change, rows, heat, strict=True)]


def rows_html(engine: Engine, explained: list[dict]) -> str:
    """HTML: a table row per explained dimension, its decodes across the sweep and its heat map (words in the
    visitor's language)."""
    offsets = sweep_offsets(STEPS, SPAN).tolist()
    head = "".join(f"<th>{t('your code') if o == 0 else f'{o:+.2g} σ'}</th>" for o in offsets)
    body = []
    for e in explained:
        d, change, most = e["dimension"], f"{e['change']:.4f}", f"{float(e['heat'].max()):.2f}"
        cells = "".join(f'<td><img class="digit" src="{data_uri(x, SCALE)}" alt="'
                        f'{t("number {d} at {offset} standard deviations", d=d, offset=f"{o:+.2g}")}"></td>'
                        for x, o in zip(e["row"], offsets, strict=True))
        heat = png_uri(heat_image(e["heat"], SCALE))
        body.append(f'<tr class="dimension-row"><th>{t("number {d}", d=d)}<div class="change">'
                    f'{t("change {change}", change=change)}</div></th>{cells}<td><img class="heat" '
                    f'src="{heat}" alt="{t("where number {d} changes the picture", d=d)}"><div class="change">'
                    f'{t("up to {most}", most=most)}</div></td></tr>')
    note = t("{model}: {shown} of its {size} numbers, the most telling first (change: the mean pixel change across "
             "the row, pixels 0-1).", model=engine.name, shown=min(len(explained), SHOWN), size=engine.code_size)
    return (f"<p>{note}</p>" + f'<table class="dimensions"><tr><th>{t("number of the code")}</th>{head}'
            f'<th>{t("where it changes")}</th></tr>' + "".join(body) + "</table>")


def explained_for_api(engines: Engines, trusted: tuple, image, model: str | None = None) -> list[dict]:
    """/dimensions: every swept dimension of the image's code, most telling first, each with its change and a PNG
    of its STEPS decodes side by side."""
    engine = engines.get(model)
    return [{"dimension": e["dimension"], "change": e["change"], "row": as_file(grid_image(e["row"], STEPS, 1))}
            for e in explain_rows(engine, model_input(image, trusted))]


API = ("One image of a digit (and a model name) -> each number of its code (at most the 64 widest), ranked by how "
       "much moving it from -{span} to +{span} standard deviations changes the decoded picture: dimension, change "
       "(mean absolute pixel change, 0-1), row (a PNG of the {steps} decodes side by side, the middle one the "
       "image's own code's). model: the name of one of /models (default: the served one).")
API = ("One image of a digit (and a model name) -> each number of its code (at most the 64 widest), ranked by how "
       "much moving it from -{span} to +{span} standard deviations changes the decoded picture: dimension, change "
       "(mean absolute pixel change, 0-1), row (a PNG of the {steps} decodes side by side, the middle one the "
       "image's own code's). model: the name of one of /models (default: the served one).")
explained = for_api("dimensions")(explained_for_api)
ENDPOINTS = ("dimensions",)  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /dimensions endpoint."""
    engines, trusted = ctx.engines, ctx.trusted
    gr.Markdown(L(EXPLAIN, span=f"{SPAN:g}", shown=SHOWN))

    def show(x, name=None) -> str:
        if x is None:
            return f"<p>{t(WAITING)}</p>"
        engine = engines.get(name)
        return rows_html(engine, explain_rows(engine, x, SHOWN))

    # the rows of the first digit under the served model, made as the page is built: there before any input
    first = in_both_languages(lambda: show(ctx.first)) if ctx.first is not None else L(WAITING)
    shown = gr.HTML(first, elem_id="dimensions-rows")

    gr.on([ctx.current.change, ctx.chosen.change],
          on_page("dimensions view", lambda message: f"<p>⚠️ {message}</p>")(show), [ctx.current, ctx.chosen], shown,
          api_visibility="undocumented", show_progress="hidden", concurrency_limit=4)

    def dimensions(image: FileData, model: str | None = None) -> list[dict]:
        return explained(engines, trusted, image, model)

    gr.api(dimensions, api_name="dimensions", concurrency_limit=4,
           api_description=both(API, span=f"{SPAN:g}", steps=STEPS))

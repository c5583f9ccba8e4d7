"""How much can a code hold? The current digit rebuilt from codes of 2 to 64 numbers, by an autoencoder of
each size and by PCA with as many components, and the test-set error of each. `build(ctx)`."""

import gradio as gr
import numpy as np
from gradio import FileData

from ae.i18n import L, both, in_both_languages, t
from ae.inference import Engine
from ae.models import reconstruct_one
from ae.preprocess import InputError
from ae.ui.api import as_file
from ae.ui.context import Context
from ae.ui.errors import for_api, on_page
from ae.ui.inputs import model_input
from ae.ui.render import _log_y_axis, data_uri, strip, to_image
from ae.visitors import YOURS
from ae.zoo import reconstructions_by_size, size_figures

EXPLAIN = """### How much can a code hold?
The same digit squeezed through codes of different sizes. With **too small a code the autoencoder loses
information** (over-compression): a 2-number code keeps only a rough idea of the digit. **PCA** is the best
*linear* code of the same size; the autoencoder's decoder is non-linear, so it can rebuild more from the
same number of numbers (compare the rows, and the lines below). The **convolutional autoencoder** reads the
digit through small filters that slide over the picture, the way its strokes are made; it was trained at two
sizes, 16 and 64 numbers."""
ROWS = (("autoencoder", "autoencoder"), ("conv", "convolutional autoencoder"), ("pca", "PCA"))  # key, row name
COLOURS = {"autoencoder": "rgb(37,99,235)", "conv": "rgb(21,128,61)", "pca": "rgb(194,65,12)"}
WAITING = "Draw, upload or pick a digit in the first tab; it is rebuilt here at every code size."


def yours_beside(engine: Engine, x: np.ndarray) -> str:
    """HTML: what the visitor's own model rebuilds from the digit, for comparing with the shipped sizes."""
    rebuilt = engine.decode(engine.encode(x))
    mse = float(np.mean((rebuilt - x) ** 2))
    return ("<p>" + t("<b>Your model</b> ({d} numbers) rebuilds it with MSE {mse}:", d=engine.code_size,
                      mse=f"{mse:.4f}") + "</p>"
            + strip([rebuilt], [t("your model, {d} numbers", d=engine.code_size)], scale=4))


def with_conv(zoo, rows: list[dict], x: np.ndarray) -> list[dict]:
    """rows (ae.zoo.reconstructions_by_size) with the convolutional autoencoder's reconstruction at each size it
    was trained at."""
    for row in rows:
        conv = zoo.catalogue.find("conv", row["code_size"])
        if conv is not None:
            pictures = reconstruct_one(conv, x)
            row.update(conv=pictures, conv_mse=float(np.mean((pictures - x) ** 2)))
    return rows


def figures_with_conv(zoo, figures: list[dict]) -> list[dict]:
    """ae.zoo.size_figures with the convolutional autoencoder's stored test MSE at each size it has (else None)."""
    out = []
    for f in figures:
        conv = zoo.catalogue.find("conv", f["code_size"])
        out.append({**f, "conv_test_mse": conv.test_mse if conv is not None else None})
    return out


def table_html(rows: list[dict]) -> str:
    """HTML: each model's reconstruction at each code size, with its MSE; a size a model lacks shows a dash."""
    head = "".join(f"<th>{r['code_size']}</th>" for r in rows)

    def cells(kind: str, name: str) -> str:
        return "".join(
            f'<td><img class="digit" src="{data_uri(r[kind], 4)}" alt="{name}, {r["code_size"]}">'
            f'<div class="mse">MSE {r[kind + "_mse"]:.4f}</div></td>' if kind in r else "<td>—</td>" for r in rows)

    body = "".join(f"<tr><th>{t(name)}</th>{cells(kind, t(name))}</tr>" for kind, name in ROWS
                   if any(kind in r for r in rows))
    return f'<table class="sizes views2-big"><tr><th>{t("numbers in the code")}</th>{head}</tr>{body}</table>'


def plot(figures: list[dict]) -> str:
    """SVG: test MSE against code size, log-log, a line a kind of model (its name in the legend beside)."""
    w, h, left, bottom, pad = 720, 300, 56, 34, 14
    keys = [(kind, kind + "_test_mse") for kind, _ in ROWS]
    points = [(f["code_size"], f[key]) for f in figures for _, key in keys if f.get(key)]
    if not points:
        return ""
    xs = np.log2([p[0] for p in points])
    x0, x1 = xs.min(), xs.max()

    def px(k: float) -> float:
        return left + (np.log2(k) - x0) / max(x1 - x0, 1e-9) * (w - left - pad)

    py, grid = _log_y_axis([p[1] for p in points], pad, h - bottom, left, w - pad)
    parts = [f'<svg viewBox="0 0 {w} {h}" class="mse-plot" role="img" '
             f'aria-label="{t("test MSE against code size")}" style="width:100%;height:auto">', *grid]
    for f in figures:
        parts.append(f'<text x="{px(f["code_size"]):.1f}" y="{h - bottom + 16}" font-size="11" '
                     f'text-anchor="middle" fill="#6b7280">{f["code_size"]}</text>')
    for kind, key in keys:
        line = [(px(f["code_size"]), py(f[key]), f) for f in figures if f.get(key)]
        if not line:
            continue
        parts.append(f'<polyline fill="none" stroke="{COLOURS[kind]}" stroke-width="2" points="'
                     + " ".join(f"{a:.1f},{b:.1f}" for a, b, _ in line) + '"/>')
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{COLOURS[kind]}"><title>{f["code_size"]}: '
                  f'{f[key]:.4f}</title></circle>' for a, b, f in line]
    return "".join(parts) + "</svg>"


LEGEND = ("Test MSE (log scale) against the numbers in the code (log scale): "
          '<span style="color:rgb(37,99,235)">■ autoencoder</span> · '
          '<span style="color:rgb(21,128,61)">■ convolutional autoencoder</span> · '
          '<span style="color:rgb(194,65,12)">■ PCA</span>')


ENDPOINTS = ("reconstruct_at_size", "test_figures")  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its API endpoints."""
    zoo, trusted = ctx.zoo, ctx.trusted
    figures = figures_with_conv(zoo, size_figures(zoo))

    def show(x, name=None) -> str:
        if x is None:
            return f"<p>{t(WAITING)}</p>"
        x = np.asarray(x, dtype=np.float32)
        return table_html(with_conv(zoo, reconstructions_by_size(zoo, x), x)) + (
            yours_beside(ctx.engines.get(YOURS), x) if name == YOURS else "")

    gr.Markdown(L(EXPLAIN))
    # the first digit at every size, before any input
    table = gr.HTML(in_both_languages(lambda: show(ctx.first)), elem_id="sizes-table")
    gr.Markdown(L("**Test-set error** (all 10,000 MNIST test digits, the stored figures of each model):"))
    gr.HTML(in_both_languages(lambda: plot(figures)), elem_id="sizes-plot")
    gr.Markdown(L(LEGEND), elem_id="sizes-legend")
    gr.Markdown(L("| code size | autoencoder | convolutional autoencoder | PCA | autoencoder ÷ PCA |\n"
                  "|---|---|---|---|---|\n{rows}", rows="\n".join(
                      f"| {f['code_size']} | {f['autoencoder_test_mse']:.4f} | "
                      + (f"{f['conv_test_mse']:.4f} | " if f["conv_test_mse"] else "— | ")
                      + (f"{f['pca_test_mse']:.4f} | {f['ratio']:.2f} |" if f["pca_test_mse"] else "— | — |")
                      for f in figures)))

    current = ctx.current
    gr.on([current.change, ctx.chosen.change], on_page("sizes view", lambda message: f"<p>⚠️ {message}</p>")(show),
          [current, ctx.chosen], table, api_visibility="undocumented", show_progress="hidden")

    @for_api("reconstruct_at_size")
    def reconstruct_at_size(image: FileData, code_size: int, method: str) -> tuple[FileData, float]:
        if method not in ("autoencoder", "conv", "pca"):
            raise InputError(f"method must be 'autoencoder', 'conv' or 'pca', got {str(method)[:40]!r}.")
        if not isinstance(code_size, int) or isinstance(code_size, bool) or code_size not in zoo.by_size:
            raise InputError(f"code_size must be one of {zoo.sizes}, got {str(code_size)[:40]!r}.")
        if method == "pca" and zoo.catalogue.find("pca", code_size) is None:
            raise InputError(f"This server has no PCA model with {code_size} components loaded.")
        if method == "conv" and zoo.catalogue.find("conv", code_size) is None:
            sizes = [k for k in zoo.sizes if zoo.catalogue.find("conv", k) is not None]
            raise InputError(f"This server has no convolutional autoencoder with {code_size} numbers; "
                             f"its sizes are {sizes}.")
        x = model_input(image, trusted)
        row = next(r for r in with_conv(zoo, reconstructions_by_size(zoo, x), x) if r["code_size"] == code_size)
        return as_file(to_image(row[method], scale=1)), row[f"{method}_mse"]

    def figures_table() -> list[dict]:
        return figures

    gr.api(reconstruct_at_size, api_name="reconstruct_at_size", concurrency_limit=4,
           api_description=both("One image, a code size (one of the served sizes) and 'autoencoder', 'conv' (the "
                                "convolutional autoencoder, where it has that size) or 'pca' -> the 28x28 "
                                "reconstruction at that size and its MSE against the model input."))
    gr.api(figures_table, api_name="test_figures", concurrency_limit=None,
           api_description=both("The test-set MSE of the autoencoder, of the convolutional autoencoder (None where it "
                                "has no such size) and of PCA at each code size, with the autoencoder's ratio to "
                                "PCA's."))

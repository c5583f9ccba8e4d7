"""How much can a code hold? The current digit rebuilt from codes of 2 to 64 numbers, by an autoencoder of
each size and by PCA with as many components, and the test-set error of each. `build(ctx)`."""

import gradio as gr
import numpy as np
from gradio import FileData

from ae.inference import Engine
from ae.preprocess import InputError
from ae.ui.api import as_file
from ae.ui.context import Context
from ae.ui.errors import for_api, on_page
from ae.ui.inputs import model_input
from ae.ui.render import mse_plot, sizes_table, strip, to_image
from ae.visitors import YOURS
from ae.zoo import reconstructions_by_size, size_figures

EXPLAIN = """### How much can a code hold?
The same digit squeezed through codes of different sizes. With **too small a code the autoencoder loses
information** (over-compression): a 2-number code keeps only a rough idea of the digit. **PCA** is the best
*linear* code of the same size; the autoencoder's decoder is non-linear, so it can rebuild more from the
same number of numbers (compare the rows, and the lines below)."""
WAITING = "Draw, upload or pick a digit in the first tab; it is rebuilt here at every code size."


def yours_beside(engine: Engine, x: np.ndarray) -> str:
    """HTML: what the visitor's own model rebuilds from the digit, for comparing with the shipped sizes."""
    rebuilt = engine.decode(engine.encode(x))
    mse = float(np.mean((rebuilt - x) ** 2))
    return (f"<p><b>Your model</b> ({engine.code_size} numbers) rebuilds it with MSE {mse:.4f}:</p>"
            + strip([rebuilt], [f"your model, {engine.code_size} numbers"]))


ENDPOINTS = ("reconstruct_at_size", "test_figures")  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its API endpoints."""
    zoo, trusted = ctx.zoo, ctx.trusted
    figures = size_figures(zoo)
    gr.Markdown(EXPLAIN)
    table = gr.HTML(f"<p>{WAITING}</p>", elem_id="sizes-table")
    gr.Markdown("**Test-set error** (all 10,000 MNIST test digits, the stored figures of each model):")
    gr.HTML(mse_plot(figures), elem_id="sizes-plot")
    gr.Markdown("| code size | autoencoder | PCA | autoencoder ÷ PCA |\n|---|---|---|---|\n" + "\n".join(
        f"| {f['code_size']} | {f['autoencoder_test_mse']:.4f} | "
        + (f"{f['pca_test_mse']:.4f} | {f['ratio']:.2f} |" if f["pca_test_mse"] else "- | - |") for f in figures))

    def show(x, name=None) -> str:
        if x is None:
            return f"<p>{WAITING}</p>"
        x = np.asarray(x, dtype=np.float32)
        return sizes_table(reconstructions_by_size(zoo, x)) + (yours_beside(ctx.engines.get(YOURS), x)
                                                                if name == YOURS else "")

    current = ctx.current
    gr.on([current.change, ctx.chosen.change], on_page("sizes view", lambda message: f"<p>⚠️ {message}</p>")(show),
          [current, ctx.chosen], table, api_visibility="undocumented", show_progress="hidden")

    @for_api("reconstruct_at_size")
    def reconstruct_at_size(image: FileData, code_size: int, method: str) -> tuple[FileData, float]:
        if method not in ("autoencoder", "pca"):
            raise InputError(f"method must be 'autoencoder' or 'pca', got {str(method)[:40]!r}.")
        if not isinstance(code_size, int) or isinstance(code_size, bool) or code_size not in zoo.by_size:
            raise InputError(f"code_size must be one of {zoo.sizes}, got {str(code_size)[:40]!r}.")
        if method == "pca" and zoo.catalogue.find("pca", code_size) is None:
            raise InputError(f"This server has no PCA model with {code_size} components loaded.")
        row = next(r for r in reconstructions_by_size(zoo, model_input(image, trusted)) if r["code_size"] == code_size)
        return as_file(to_image(row[method], scale=1)), row[f"{method}_mse"]

    def figures_table() -> list[dict]:
        return figures

    gr.api(reconstruct_at_size, api_name="reconstruct_at_size", concurrency_limit=4,
           api_description="One image, a code size (one of the served sizes) and 'autoencoder' or 'pca' -> the 28x28 "
                           "reconstruction at that size and its MSE against the model input.")
    gr.api(figures_table, api_name="test_figures", concurrency_limit=None,
           api_description="The test-set MSE of the autoencoder and of PCA at each code size, with their ratio.")

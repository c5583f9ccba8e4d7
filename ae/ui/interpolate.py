"""Moving between two codes: frames decoded along the straight line between two digits' codes, over a plain
cross-fade of their pixels; the morph slider decodes in the page as it moves (static/morph.js), with the
sliders' routine. `build(engine, current, examples)`."""

import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.inference import Engine
from ae.latent import interpolate
from ae.ui import static
from ae.ui.api import as_file
from ae.ui.checks import number, whole
from ae.ui.components import PageObject
from ae.ui.errors import for_api
from ae.ui.inputs import model_input
from ae.ui.render import strip, to_image
from ae.ui.serve import decoder_url

EXPLAIN = """### From one digit to another
Your digit (from the first tab) and a second one. Top row: the codes on the straight line between the two
digits' codes, decoded; bottom row: the two pictures simply blended, pixel by pixel. Moving in the code
changes the *shape* of the digit; blending pictures only fades one set of strokes into the other."""


@torch.inference_mode()
def frames(engine: Engine, a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) decoded frames between model inputs a and b, and (n, 28, 28) pixel cross-fades."""
    codes = interpolate(torch.from_numpy(engine.encode(a)), torch.from_numpy(engine.encode(b)), n)
    decoded = engine.model.decode(codes)[:, 0].numpy()
    t = np.linspace(0, 1, n, dtype=np.float32)[:, None, None]
    return decoded, (1 - t) * a + t * b


class CodePair(PageObject):
    """A canvas the page draws the morph on, live (static/morph.js); its value is the two codes {a, b}."""

    DESCRIPTION = "the two digits' codes, a and b"

    def __init__(self, value: dict | None = None, *, decoder_url: str, code_size: int, **kwargs):
        super().__init__(value=value, html_template='<canvas width="28" height="28" class="plane-live"></canvas>',
                         js_on_load=static("decoder.js") + static("morph.js"), decoder_url=decoder_url,
                         code_size=code_size, **kwargs)


def build(engine: Engine, current: gr.State, examples, trusted: tuple = ()) -> None:
    """Add the view (inside the tab being built) and its /interpolate endpoint."""
    gr.Markdown(EXPLAIN)
    second = gr.State(None)  # the second digit's model input
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            other = gr.Image(label="the second digit: upload, paste, or pick one below", type="filepath",
                             image_mode=None, sources=["upload", "clipboard"], height=220, elem_id="interp-second")
            gr.Examples(sorted(str(p) for p in examples.glob("*.png")), inputs=other, examples_per_page=20,
                        label="real MNIST test digits")
        with gr.Column(scale=2):
            count = gr.Slider(8, 16, value=10, step=1, label="frames", elem_id="interp-frames")
            gr.Markdown("**Moving in the code**")
            coded = gr.HTML("<p>Needs your digit (first tab) and a second one.</p>", elem_id="interp-code")
            gr.Markdown("**Blending the pictures**")
            blended = gr.HTML(elem_id="interp-pixels")
            morph = gr.Slider(0, 1, value=0.5, step=0.01, label="morph: from your digit (0) to the second (1)",
                              elem_id="interp-morph")
            gr.Markdown("**Decoded in this page as the slider moves** (and below, the server's picture when it "
                        "stops)", elem_classes="caption")
            live = CodePair(decoder_url=decoder_url(engine.model), code_size=engine.code_size, elem_id="interp-live")
            morphed = gr.Image(label="decoded at that point of the line", show_label=False, interactive=False,
                               format="png",
                               elem_classes="pixelated", height=200, elem_id="interp-morphed")

    def read_second(image):
        return model_input(image, trusted)

    def show(a, b, n):
        if a is None or b is None:
            return "<p>Needs your digit (first tab) and a second one.</p>", ""
        decoded, faded = frames(engine, np.asarray(a), np.asarray(b), int(n))
        captions = [f"{t:.2f}" for t in np.linspace(0, 1, int(n))]
        return strip(list(decoded), captions), strip(list(faded), captions)

    def at(a, b, t):
        if a is None or b is None:
            return None
        t = number("morph", t, 0, 1)
        return to_image(engine.decode((1 - t) * engine.encode(np.asarray(a)) + t * engine.encode(np.asarray(b))))

    def pair(a, b):
        if a is None or b is None:
            return None
        return {"a": engine.encode(np.asarray(a)).tolist(), "b": engine.encode(np.asarray(b)).tolist()}

    ui = dict(api_visibility="undocumented", show_progress="hidden")
    gr.on([current.change, second.change], pair, [current, second], live, **ui)
    other.change(for_api("second digit")(read_second), other, second, preprocess=False, **ui)
    gr.on([current.change, second.change, count.release], show, [current, second, count], [coded, blended], **ui)
    gr.on([current.change, second.change, morph.change], for_api("morph")(at), [current, second, morph], morphed,
          **ui)

    @for_api("interpolate")
    def interpolate_endpoint(image_a: FileData, image_b: FileData, frame_count: int) -> list[FileData]:
        n = whole("frame_count", frame_count, 2, 32)
        decoded, _ = frames(engine, model_input(image_a, trusted), model_input(image_b, trusted), n)
        return [as_file(to_image(x, scale=1)) for x in decoded]

    gr.api(interpolate_endpoint, api_name="interpolate", concurrency_limit=4,
           api_description="Two images and a frame count (2-32) -> that many 28x28 frames decoded along the straight "
                           "line between their codes; the first and last are the two digits' reconstructions.")

"""Moving between two codes: frames decoded along the straight line between two digits' codes, over a plain
cross-fade of their pixels; the morph slider decodes in the page as it moves (static/morph.js), with the
sliders' routine. `build(ctx)`."""

import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.i18n import L, both, t
from ae.latent import interpolate
from ae.models import Model
from ae.ui import static
from ae.ui.api import as_file
from ae.ui.checks import number, whole
from ae.ui.components import PageObject
from ae.ui.context import Context
from ae.ui.errors import for_api, on_page
from ae.ui.inputs import model_input
from ae.ui.render import data_uri, to_image
from ae.ui.serve import decoder_url

EXPLAIN = """### From one digit to another
Your digit (from the first tab) and a second one. Top row: the codes on the straight line between the two
digits' codes, decoded; bottom row: the two pictures simply blended, pixel by pixel. Moving in the code
changes the *shape* of the digit; blending pictures only fades one set of strokes into the other. The codes are
those of the model you picked in the first tab."""
WAITING = "Needs your digit (first tab) and a second one."
FRAMES = 10  # frames shown at first


def strip(images: list[np.ndarray], captions: list[str], alt: str) -> str:
    """HTML: (28, 28) images in [0, 1] in a row, 112 px each (app.css), captioned with where on the way they are;
    alt: a template with {where} for each picture's text alternative."""
    cells = "".join(f'<figure><img class="digit" src="{data_uri(x, 4)}" alt="{t(alt, where=c)}">'
                    f"<figcaption>{c}</figcaption></figure>" for x, c in zip(images, captions, strict=True))
    return f'<div class="strip interp-strip">{cells}</div>'


def another_example(examples, first_name: str):
    """A shipped example of another digit than first_name's (files are named digit-<class>-...), to start with."""
    files = sorted(examples.glob("*.png"))
    label = first_name.split("-")[1] if first_name.count("-") >= 2 else None
    return next((p for p in files if p.name.split("-")[1:2] != [label]), files[0] if files else None)


def frames(model: Model, a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) frames decoded between model inputs a and b under a model, and (n, 28, 28) pixel cross-fades."""
    ends = model.encode(torch.from_numpy(np.stack([a, b]).astype(np.float32)))  # (2, D)
    decoded = model.decode(interpolate(ends[0], ends[1], n)).numpy()
    t = np.linspace(0, 1, n, dtype=np.float32)[:, None, None]
    return decoded, (1 - t) * a + t * b


class CodePair(PageObject):
    """A canvas the page draws the morph on, live (static/morph.js); its value is the two codes {a, b}."""

    DESCRIPTION = "the two digits' codes, a and b"

    def __init__(self, value: dict | None = None, *, decoder_url: str, code_size: int, **kwargs):
        super().__init__(value=value, html_template='<canvas width="28" height="28" class="plane-live"></canvas>',
                         js_on_load=static("decoder.js") + static("morph.js"), decoder_url=decoder_url,
                         code_size=code_size, **kwargs)


ENDPOINTS = ("interpolate",)  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /interpolate endpoint; both use the visitor's model."""
    engines, current, chosen, trusted = ctx.engines, ctx.current, ctx.chosen, ctx.trusted
    gr.Markdown(L(EXPLAIN))

    def read_second(image):
        return model_input(image, trusted)

    def show(a, b, n, name):
        if a is None or b is None:
            return f"<p>{t(WAITING)}</p>", ""
        decoded, faded = frames(engines.get(name).model, np.asarray(a), np.asarray(b), int(n))
        captions = [f"{w:.2f}" for w in np.linspace(0, 1, int(n))]
        return (strip(list(decoded), captions, "decoded from the code {where} of the way to the second digit"),
                strip(list(faded), captions, "the two pictures blended, {where} of the way to the second"))

    def at(a, b, w, name):
        if a is None or b is None:
            return None
        w = number("morph", w, 0, 1)
        engine = engines.get(name)
        return to_image(engine.decode((1 - w) * engine.encode(np.asarray(a)) + w * engine.encode(np.asarray(b))))

    def pair(a, b, name):  # the two codes, with the weights of the model they belong to
        engine = engines.get(name)
        value = None if a is None or b is None else {"a": engine.encode(np.asarray(a)).tolist(),
                                                     "b": engine.encode(np.asarray(b)).tolist()}
        return gr.update(value=value, decoder_url=decoder_url(engine.model), code_size=engine.code_size)

    # The first paint: the first digit (ctx.first) and another example, their frames shown.
    start = another_example(ctx.examples, ctx.first_name) if ctx.first is not None else None
    b0 = None if start is None else read_second({"path": str(start), "meta": {"_type": "gradio.FileData"}})
    a0, name0 = ctx.first, ctx.served.name
    coded0, blended0 = show(a0, b0, FRAMES, name0)
    if b0 is None:
        coded0 = L(WAITING)
    second = gr.State(b0)  # the second digit's model input
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            other = gr.Image(None if start is None else str(start),
                             label=L("the second digit: upload, paste, or pick one below"), type="filepath",
                             image_mode=None, sources=["upload", "clipboard"], height=220, elem_id="interp-second")
            gr.Examples(sorted(str(p) for p in ctx.examples.glob("*.png")), inputs=other, examples_per_page=20,
                        label=L("real MNIST test digits"))
        with gr.Column(scale=2):
            count = gr.Slider(8, 16, value=FRAMES, step=1, label=L("frames"), elem_id="interp-frames")
            gr.Markdown(L("**Moving in the code**"))
            coded = gr.HTML(coded0, elem_id="interp-code")
            gr.Markdown(L("**Blending the pictures**"))
            blended = gr.HTML(blended0, elem_id="interp-pixels")
            morph = gr.Slider(0, 1, value=0.5, step=0.01, label=L("morph: from your digit (0) to the second (1)"),
                              elem_id="interp-morph")
            gr.Markdown(L("**Decoded in this page as the slider moves** (and below, the server's picture when it "
                          "stops)"), elem_classes="caption")
            live = CodePair(pair(a0, b0, name0)["value"], decoder_url=decoder_url(ctx.served.model),
                            code_size=ctx.served.code_size, elem_id="interp-live")
            morphed = gr.Image(at(a0, b0, 0.5, name0), label=L("decoded at that point of the line"), show_label=False,
                               interactive=False, format="png",
                               elem_classes="pixelated", height=200, elem_id="interp-morphed",
                               alt_text=L("the digit decoded at the chosen point of the line"))

    ui = dict(api_visibility="undocumented", show_progress="hidden")
    picked = [current.change, second.change, chosen.change]
    gr.on(picked, for_api("morph codes")(pair), [current, second, chosen], live, **ui)
    other.change(for_api("second digit")(read_second), other, second, preprocess=False, **ui)
    gr.on([*picked, count.release], on_page("interpolate view", lambda message: (f"<p>⚠️ {message}</p>", ""))(show),
          [current, second, count, chosen], [coded, blended], **ui)
    gr.on([*picked, morph.change], for_api("morph")(at), [current, second, morph, chosen], morphed, **ui)

    @for_api("interpolate")
    def interpolate_endpoint(image_a: FileData, image_b: FileData, frame_count: int,
                             model: str | None = None) -> list[FileData]:
        n = whole("frame_count", frame_count, 2, 32)
        chosen_model = engines.get(model).model
        decoded, _ = frames(chosen_model, model_input(image_a, trusted), model_input(image_b, trusted), n)
        return [as_file(to_image(x, scale=1)) for x in decoded]

    gr.api(interpolate_endpoint, api_name="interpolate", concurrency_limit=4,
           api_description=both("Two images, a frame count (2-32) and a model name (default: the served one) -> "
                                "that many 28x28 frames decoded along the straight line between their codes; the first "
                                "and last are the two digits' reconstructions."))

"""The documented API: /encode, /decode, /reconstruct (each for any model /models lists), as plain function
endpoints (gr.api), with no components behind them. gradio_client sends images with handle_file(...) and
receives images as files."""

import functools
import hashlib
import inspect
import io
import os
import tempfile

import gradio as gr
from gradio import FileData
from gradio import utils as gradio_utils
from PIL import Image

from ae.inference import Engines
from ae.ui.context import Context
from ae.ui.errors import LOG, for_api
from ae.ui.inputs import uploaded
from ae.ui.render import to_image

ENDPOINTS = ("encode", "decode", "reconstruct", "models")  # the api_names build registers
# How many calls of each endpoint run at once. A decode is ~2 ms of CPU: any number may run together. An
# image endpoint can take up to ~0.3 s on the largest accepted upload: a few at a time, so one such call
# holds a slot, not the queue (Gradio's default is one at a time per event).
CONCURRENCY = {"encode": 4, "decode": None, "reconstruct": 4, "models": None}


def as_file(img: Image.Image) -> FileData:
    """A picture saved as PNG in Gradio's cache (see saved_png), as an endpoint returns it."""
    return FileData(path=saved_png(img), mime_type="image/png")


def saved_png(img: Image.Image) -> str:
    """A picture saved as PNG in Gradio's cache (see saved_file): 0.23 ms a new 28x28 picture against Gradio's
    own save_pil_to_cache's 0.30 ms, 0.07 ms a repeated one; a 280x280 one is encoded in 0.24 ms against 0.73 ms."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return saved_file(buf.getvalue(), "image.png")


def saved_file(data: bytes, name: str) -> str:
    """Bytes saved in Gradio's cache under name; its path. In a folder named by the hash of the bytes, as Gradio's
    own save_pil_to_cache does, written only when it is not there yet (its time renewed otherwise, so the cache's
    cleaner keeps it), atomically, and without resolving the cache's path at each call. Gradio's components take
    the path as it is."""
    folder = os.path.join(_cache_folder(), hashlib.sha256(data).hexdigest())
    path = os.path.join(folder, os.path.basename(name) or "file")
    try:
        os.utime(path)  # renewed: the cache's keeper leaves a file alone that changed since it looked
    except FileNotFoundError:
        for attempt in (1, 2):  # the keeper may remove the folder, left empty, between the two calls
            os.makedirs(folder, exist_ok=True)
            try:
                fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")  # a reader never sees a half-written one
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    return path


@functools.cache
def _cache_folder() -> str:
    return os.path.realpath(gradio_utils.get_upload_folder())


def accept_omitted_defaults(demo: gr.Blocks) -> bool:
    """Let a call leave out the trailing arguments that have defaults (the optional `model`), as before they
    existed: gradio_client fills them in, but Gradio refuses a raw HTTP call that sends fewer inputs than the
    function has. The defaults are read once from each function's signature; a call is only ever padded.

    Gradio calls `validate_inputs(block_fn, inputs)` in `preprocess_data` and then reads the same list; where it
    does not (another Gradio), nothing is changed and such a call is refused with its count of inputs.
    Returns whether it was applied."""
    if not padding_reaches_gradio(demo):
        LOG.warning("Gradio's Blocks.validate_inputs is not as ae/ui/api.py expects; calls must send every input")
        return False
    defaults = {}
    for block_fn in demo.fns.values():
        if block_fn.fn is None:
            continue
        params = list(inspect.signature(block_fn.fn).parameters.values())
        trailing = []
        for p in reversed(params):
            if p.default is inspect.Parameter.empty or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            trailing.insert(0, p.default)
        if trailing and len(params) == len(block_fn.inputs):
            defaults[id(block_fn)] = trailing
    check = demo.validate_inputs

    def validate_inputs(block_fn, inputs: list) -> None:
        trailing = defaults.get(id(block_fn), ())
        missing = len(block_fn.inputs) - len(inputs)
        if 0 < missing <= len(trailing):
            inputs.extend(trailing[len(trailing) - missing:])  # in place: Gradio reads this list next
        return check(block_fn, inputs)

    demo.validate_inputs = validate_inputs
    return True


def padding_reaches_gradio(demo: gr.Blocks) -> bool:
    """Whether Gradio checks a call's inputs with validate_inputs(block_fn, inputs) and then uses that list."""
    try:
        params = list(inspect.signature(demo.validate_inputs).parameters)
        source = inspect.getsource(type(demo).preprocess_data)
    except (OSError, TypeError, ValueError):
        return False
    return params[:2] == ["block_fn", "inputs"] and "self.validate_inputs(block_fn, inputs)" in source


MODEL_HELP = "model: the name of one of /models (default: the served one)."


def endpoints(engines: Engines, trusted: tuple = ()) -> dict:
    """The endpoint functions by name, as Gradio calls them; `trusted` folders may be read besides Gradio's
    cache (the examples). Each takes an optional model name, checked against the catalogue."""

    @for_api("encode")
    def encode(image: FileData, model: str | None = None) -> list[float]:
        engine = engines.get(model)
        return engine.run_file(uploaded(image, trusted)).code.tolist()

    @for_api("decode")
    def decode(code: list[float], model: str | None = None) -> FileData:
        engine = engines.get(model)
        return as_file(to_image(engine.decode(engine.check_code(code)), scale=1))

    @for_api("reconstruct")
    def reconstruct(image: FileData, model: str | None = None) -> tuple[FileData, FileData, list[float]]:
        result = engines.get(model).run_file(uploaded(image, trusted))
        return (as_file(to_image(result.model_input, scale=1)), as_file(to_image(result.reconstruction, scale=1)),
                result.code.tolist())

    @for_api("models")
    def models() -> list[dict]:
        return engines.catalogue.listed()

    return {"encode": encode, "decode": decode, "reconstruct": reconstruct, "models": models}


def build(ctx: Context) -> dict:
    """Register the endpoints in the Blocks being built; returns their functions."""
    d = ctx.served.code_size
    described = {
        "encode": f"One image of a digit (and a model name) -> its code (D numbers; {d} for the served model). "
                  + MODEL_HELP,
        "decode": f"The code (D numbers, one list; {d} for the served model) and a model name -> the decoded 28x28 "
                  "grayscale PNG, white ink on black. " + MODEL_HELP,
        "reconstruct": "One image (and a model name) -> the 28x28 model input, the 28x28 reconstruction, and the "
                       "code. " + MODEL_HELP,
        "models": "Every model this server offers: name, kind, code size, stored test MSE, which is the default.",
    }
    fns = endpoints(ctx.engines, ctx.trusted)
    for name, fn in fns.items():
        gr.api(fn, api_name=name, api_description=described[name], concurrency_limit=CONCURRENCY[name])
    return fns

"""Serving: a progress page while the first checkpoint trains, a launch that survives Gradio's start-up
self-check on a busy machine, and the in-page decoders' files."""

import atexit
import functools
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from ae.checkpoint import Checkpoint, CheckpointError
from ae.data import MNISTNotFound
from ae.export import export_decoder
from ae.models import Model
from ae.startup import ensure_checkpoint
from ae.ui import static
from ae.ui.guard import RequestGuard

TRAINING_TITLE = "Autoencoder playground: training a model first"


def launch(demo: gr.Blocks, attempts: int = 3, **kwargs) -> None:
    """demo.launch(**kwargs), retried when Gradio's own reachability check of the new server fails.

    Gradio gives up with "When localhost is not accessible, a shareable link must be created" when one
    HEAD request to its own, already running server takes over 3 s, which happens on a loaded machine.
    """
    for attempt in range(1, attempts + 1):
        try:
            return demo.launch(**kwargs)
        except ValueError as e:
            if "localhost is not accessible" not in str(e) or attempt == attempts:
                raise
            demo.close()
            print(f"Gradio's check could not reach this server in time (attempt {attempt}/{attempts}); retrying.")
            time.sleep(1)


def load_or_train(path: Path, endpoints: tuple[str, ...] = ()) -> Checkpoint:
    """The checkpoint at path; if it is missing or unusable, train one first (ae.startup), showing the
    progress at the app's address meanwhile. With no MNIST to train on, exit with directions."""
    try:
        return ensure_checkpoint(path, train=False)
    except CheckpointError:
        pass
    try:
        return while_showing_progress(lambda log: ensure_checkpoint(path, log=log), endpoints=endpoints)
    except MNISTNotFound as e:
        sys.exit(f"Cannot start: there is no usable checkpoint at {path} and no MNIST to train one.\n{e}\n"
                 f"For the app, name the MNIST directory in the environment: AE_DATA_DIR=DIR python app.py")


def decoder_url(model: Model) -> str:
    """A model's decoder as a file the page fetches from this app (ae.export), and its URL ("" for a decoder the
    page cannot run: the server then decodes every move). Each model is
    exported once, and all into one folder: Gradio checks every file an endpoint returns against each static
    folder (resolving both paths), so each folder more made every /decode slower."""
    if model not in _EXPORTED:
        try:
            layers = model.decoder_layers()
        except ValueError:  # a layer the page cannot run: the server decodes every move, as it always can
            layers = []
        if not layers:
            _EXPORTED[model] = ""
            return ""
        folder = _decoder_folder() / str(len(_EXPORTED))
        folder.mkdir()
        path = export_decoder(model, folder / "decoder.safetensors")
        _EXPORTED[model] = f"gradio_api/file={path}"  # relative: the page may sit under a proxy's prefix
    return _EXPORTED[model]


_EXPORTED: dict[Model, str] = {}  # filled at start-up, by the views that show each model


@functools.cache
def _decoder_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ae-decoder-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    gr.set_static_paths([folder])  # Gradio serves this folder's files, and no other of this process's temp files
    return folder


def endpoint_names(views) -> tuple[str, ...]:
    """The api_names the view modules register (each declares its own ENDPOINTS beside its build)."""
    return tuple(name for view in views for name in view.ENDPOINTS)


def seconds_left(lines: list[str], elapsed: float) -> float | None:
    """From the trainer's "Epoch [k/E]" lines and the seconds since it started: about how long it still needs."""
    done = [re.search(r"Epoch \[(\d+)/(\d+)\]", line) for line in lines]
    done = [m for m in done if m]
    if not done:
        return None
    k, total = int(done[-1][1]), int(done[-1][2])
    return elapsed / k * max(total - k, 0)


def still_training(lines: list[str], started: float) -> str:
    """What a call gets while the model trains."""
    left = seconds_left(lines, time.monotonic() - started)
    when = "in a minute" if left is None else f"in about {max(5, round(left + 5))} s"
    return f"The model is still training (first launch); try again {when}."


def progress_page(lines: list[str], endpoints: tuple[str, ...] = ()) -> gr.Blocks:
    """A page that shows lines (appended to by the trainer) and turns into the app once it serves.

    Calls to the app's endpoints (named in `endpoints`) meanwhile get a message saying when to come back,
    not Gradio's error for an unknown endpoint.
    """
    started = time.monotonic()

    def busy():
        raise gr.Error(still_training(lines, started), print_exception=False)

    with gr.Blocks(title=TRAINING_TITLE) as page:
        gr.Markdown("# Autoencoder playground\n\nThere was no usable model checkpoint, so the app is training "
                    "one now. This page turns into the app by itself when it is done.")
        shown = gr.Textbox(label="Training progress", lines=8, max_lines=20, interactive=False,
                           elem_id="training-progress")
        gr.on([page.load, gr.Timer(1.0).tick], lambda: "\n".join(lines), None, shown, api_name="progress",
              show_progress="hidden")
        reload = static("reload_when_app_serves.js").replace("__TITLE__", json.dumps(TRAINING_TITLE))
        page.load(None, None, None, js=reload)
        for name in endpoints:  # no inputs: Gradio ignores the extra arguments a call brings
            gr.api(busy, api_name=name, api_visibility="undocumented", concurrency_limit=None)
    return page


def while_showing_progress(work: Callable[[Callable[[str], None]], object], log=print,
                           endpoints: tuple[str, ...] = (), **launch_kwargs):
    """work(log) with its log lines also shown on a progress page at the app's address; returns its result.

    The page stops before this returns, so the app can take the address. If the page cannot start, the
    work runs all the same, logging to the console only. Calls to `endpoints` meanwhile are told to wait.
    """
    lines: list[str] = []

    def log_both(line: str) -> None:
        log(line)
        lines.append(line)

    page = progress_page(lines, endpoints)
    try:
        launch(page, prevent_thread_lock=True, quiet=True, app_kwargs={"middleware": [RequestGuard.middleware()]},
               **launch_kwargs)
    except Exception as e:  # the progress page is a courtesy; training must go on without it
        log(f"(No progress page: {e})")
        page = None
    try:
        return work(log_both)
    finally:
        if page is not None:
            page.close(verbose=False)

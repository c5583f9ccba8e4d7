"""Serving helpers for app.py: a progress page while the first checkpoint trains, and a launch that
survives Gradio's start-up self-check on a busy machine."""

import json
import time
from collections.abc import Callable

import gradio as gr

TRAINING_TITLE = "Autoencoder playground: training a model first"

# Poll the address; once it serves a page with another title (the app), load it.
RELOAD_WHEN_APP_SERVES = """
() => {
  setInterval(async () => {
    try {
      const r = await fetch("config", {cache: "no-store"});
      if (r.ok && (await r.json()).title !== %s) location.reload();
    } catch (e) {}  // between the two servers nothing answers for a moment
  }, 1000);
}
"""


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


def progress_page(lines: list[str]) -> gr.Blocks:
    """A page that shows lines (appended to by the trainer) and turns into the app once it serves."""
    with gr.Blocks(title=TRAINING_TITLE) as page:
        gr.Markdown("# Autoencoder playground\n\nThere was no usable model checkpoint, so the app is training "
                    "one now. This page turns into the app by itself when it is done.")
        shown = gr.Textbox(label="Training progress", lines=8, max_lines=20, interactive=False,
                           elem_id="training-progress")
        gr.on([page.load, gr.Timer(1.0).tick], lambda: "\n".join(lines), None, shown, api_name="progress",
              show_progress="hidden")
        page.load(None, None, None, js=RELOAD_WHEN_APP_SERVES % json.dumps(TRAINING_TITLE))
    return page


def while_showing_progress(work: Callable[[Callable[[str], None]], object], log=print, **launch_kwargs):
    """work(log) with its log lines also shown on a progress page at the app's address; returns its result.

    The page stops before this returns, so the app can take the address. If the page cannot start, the
    work runs all the same, logging to the console only.
    """
    lines: list[str] = []

    def log_both(line: str) -> None:
        log(line)
        lines.append(line)

    page = progress_page(lines)
    try:
        launch(page, prevent_thread_lock=True, quiet=True, **launch_kwargs)
    except Exception as e:  # the progress page is a courtesy; training must go on without it
        log(f"(No progress page: {e})")
        page = None
    try:
        return work(log_both)
    finally:
        if page is not None:
            page.close(verbose=False)

"""The page around the views: its title, introduction, theme, CSS and start-up JS, and how it is served."""

import json
import logging
import os
import re
import signal

import gradio as gr
from gradio import utils as gradio_utils

from ae import i18n
from ae.cache import Keeper
from ae.i18n import L
from ae.inference import Engine
from ae.ui import api, sessions, static
from ae.ui.errors import LOG, guard_events
from ae.ui.guard import RequestGuard, header_deadline
from ae.ui.language import LanguageScript
from ae.ui.serve import launch
from ae.uploads import MAX_FILE_BYTES

TITLE = "Autoencoder playground · 自编码器实验室"
# Gradio's cache of uploads and pictures: at most this much on disk (oldest removed first), nothing older than an
# hour, the remains of aborted uploads removed after a minute (ae/cache.py). AE_CACHE_MB sets the budget.
CACHE_BYTES = int(os.environ.get("AE_CACHE_MB", "512")) * 2**20
# Gradio keeps a session for each visitor and for each API call that sends no session_hash, up to this many,
# dropping the least recently used. A session rendered every component's config (~220 KB with seven views) until
# ae/ui/sessions.py made that lazy: 10,000 mixed API calls now grow the server by ~56 MB. The cap still bounds
# sessions whatever they hold. A visitor's session is used again at each of its events, so it is dropped only
# after 800 other sessions were used since (its views then start over from the next digit it draws).
SESSIONS = 800
# System fonts only: the default Google-hosted ones would make every visitor's browser call out. Soft's text colours
# fall short of WCAG AA's 4.5:1 on its own backgrounds (axe-core, tests/test_a11y.py): grey-400 text on grey-50 is
# 2.4:1, indigo-500 on indigo-100 labels 3.6:1, white on indigo-500 buttons 4.47:1. One shade or two darker passes:
# grey-600 on grey-50 7.2:1, indigo-700 on indigo-100 6.4:1, white on indigo-600 6.3:1.
THEME = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]).set(
    body_text_color_subdued="*neutral_600",
    block_label_text_color="*primary_700",
    block_title_text_color="*primary_700",
    color_accent="*primary_600",
    button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700",
    button_primary_border_color="*primary_600",
    button_primary_border_color_hover="*primary_700",
    checkbox_label_background_fill_selected="*primary_600",
)

# The page's start-up JS: Gradio runs one function, so each file's function is called in turn.
PAGE_JS = "() => {" + "".join(f"({static(name).strip()})();" for name in ("select_brush.js", "names.js")) + "}"


INTRO = """
# What does an autoencoder do with your digit?

An **autoencoder** learns to squeeze a picture through a narrow bottleneck and rebuild it.
The **encoder** turns the 784 pixels of a 28×28 digit into just **{d} numbers, the code**;
the **decoder** turns those {d} numbers back into 784 pixels. It was trained on 60,000 handwritten
MNIST digits only to make its rebuilt pictures match the originals, so the code has to capture
what makes a digit look the way it does.

**Draw** a digit, **upload** a picture of one, or **pick** a real MNIST digit; then move the sliders
to change the code and watch the decoder draw something new. The **Model** menu under the drawing swaps
in another model (a smaller code, the denoising autoencoder, PCA, or one you train yourself in *Train your own*)
for you alone.
"""


def intro(engine: Engine):
    return L(INTRO, d=engine.code_size)


API_NOTE = ("Programmers: this page is also an API (`/encode`, `/decode`, `/reconstruct`, each for any model "
            "`/models` lists, and one endpoint per view: `/classify`, `/latent_map`, `/outlier`, ...); see *Use via "
            "API* at the bottom of the page.")


def language_switch() -> str:
    """Links that open the page in the other language (ae/i18n.py reads ?lang= on both sides of the page)."""
    return ('<nav class="language-switch" aria-label="Language / 语言">'
            '<a href="?lang=en" lang="en" hreflang="en">English</a> · '
            '<a href="?lang=zh-CN" lang="zh-CN" hreflang="zh-CN">中文</a></nav>')


def serve(demo: gr.Blocks, lab=None) -> None:
    """Launch the page (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply, as on Hugging Face Spaces); lab: the training
    jobs (ae.jobs.OnDemand) to start now, so that the first run finds its worker warm."""
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    LOG.setLevel(logging.INFO)  # one line per refused input
    sessions.install()  # a new session no longer renders every component's config (ae/ui/sessions.py)
    api.accept_omitted_defaults(demo)  # calls that predate the optional `model` argument keep working
    guard_events(demo)  # Gradio's own refusals reach their sender as a sentence, and the log as one line
    header_deadline()  # a connection whose headers dawdle is closed (ae/ui/guard.py)
    keeper = keep_cache(demo)
    if lab is not None:
        lab.start()
    # SIGTERM (a container or a process manager stopping the app) ends Python at once by default, with no exit
    # handlers run: the training workers would be left to notice alone. As Ctrl-C, it closes the server cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    # show_error=False: every event's errors are gr.Error after guard_events, and are shown all the same; anything
    # else Gradio raises outside an event reaches the client without its text. No "settings" in the footer: its
    # language menu would change the page's language and leave the server's (ae/i18n.py) behind.
    launch(demo, max_file_size=f"{MAX_FILE_BYTES // 2**20}mb", css=static("app.css"), theme=THEME,
           js=PAGE_JS, i18n=gr.I18n(**i18n.tables()), show_error=False,
           footer_links=["api", "gradio"], state_session_capacity=SESSIONS,
           app_kwargs={"middleware": [RequestGuard.middleware(blocks=demo, on_upload=keeper.nudge),
                                      LanguageScript.middleware()]})


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def keep_cache(demo: gr.Blocks) -> Keeper:
    """Start keeping Gradio's cache within its budget; the files the page itself names (its examples) stay."""
    folder = gradio_utils.get_upload_folder()
    named = named_in(json.dumps(demo.config, default=str), folder)
    return Keeper(os.path.realpath(folder), budget_bytes=CACHE_BYTES, pinned=named).start()


def named_in(text: str, folder) -> frozenset:
    """The files below folder that text names, by the folder's path or its real one, as real paths (the keeper
    walks the real folder)."""
    roots = {str(folder), os.path.realpath(folder)}
    return frozenset(os.path.realpath(path) for root in roots for path in re.findall(re.escape(root) + r'/[^"\\]+',
                                                                                       text))

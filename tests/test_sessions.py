"""Cheap Gradio sessions (ae/ui/sessions.py) and the endpoints' picture files (ae/ui/api.as_file)."""

import os

import gradio as gr
import numpy as np
from gradio.state_holder import SessionState
from PIL import Image

from ae.ui import sessions
from ae.ui.api import as_file
from ae.ui.render import to_image


def small_page() -> gr.Blocks:
    with gr.Blocks() as demo:
        state = gr.State([1, 2])
        shown = gr.Textbox("hello", label="words")
        gr.Slider(0, 10, value=3)
        shown.change(lambda s: s, state, state)
    return demo


def test_a_lazy_session_renders_configs_only_when_asked_and_renders_the_same():
    demo = small_page()
    eager, lazy = SessionState(demo), sessions.LazySessionState(demo)
    assert dict.__len__(lazy.config_values) == 0  # nothing rendered yet
    assert list(lazy.components) == list(eager.components)  # a deep link still sees every component
    textbox = next(k for k, b in demo.blocks.items() if isinstance(b, gr.Textbox))
    lazy._update_value_in_config(textbox, "changed")
    assert lazy.config_values[textbox]["props"]["value"] == "changed"
    state = next(k for k, b in demo.blocks.items() if isinstance(b, gr.State))
    assert lazy[state] == [1, 2]
    lazy[state] = [3]
    assert lazy[state] == [3] and eager[state] == [1, 2]


def test_install_swaps_the_session_class_gradio_uses():
    from gradio import state_holder

    original = state_holder.SessionState
    try:
        assert sessions.install() and state_holder.SessionState is sessions.LazySessionState
    finally:
        state_holder.SessionState = original


def test_pictures_are_written_once_and_read_back_whole():
    x = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    first = as_file(to_image(x, scale=1))
    os.utime(first.path, (0, 0))  # as if written long ago: the cache's cleaner would delete it
    again = as_file(to_image(x, scale=1))
    assert again.path == first.path and os.stat(again.path).st_mtime > 0  # the same file, its time renewed
    assert np.array_equal(np.asarray(Image.open(again.path)), np.asarray(to_image(x, scale=1)))
    assert not [f for f in os.listdir(os.path.dirname(again.path)) if f.endswith(".tmp")]
    other = as_file(to_image(1 - x, scale=1))
    assert other.path != first.path

"""Every event of the page, sent what a hostile client might, answers through the one error policy: a gr.Error
with a sentence, and never a bug's traceback in the log (a refusal logs one line)."""

import asyncio
import logging

import gradio as gr
import pytest
from gradio.state_holder import SessionState

from ae.ui.errors import LOG, UNFORESEEN, guard_events

JUNK = ("junk", None, 1e308, -1, {"path": "/etc/passwd"}, [[0.0] * 3], {"id": ["x"]})


@pytest.fixture(scope="module")
def demo():
    import app

    assert guard_events(app.demo)
    return app.demo


def test_every_event_refuses_junk_with_a_sentence(demo, caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)
    events = [fn for fn in demo.fns.values() if fn.fn is not None]
    assert len(events) > 30
    answered = {}

    async def send(fn, value):
        try:
            await demo.process_api(fn, [value] * len(fn.inputs), state=SessionState(demo))
            return "answered"
        except gr.Error as e:
            return e.message

    for fn in events:
        for value in JUNK:
            said = asyncio.run(send(fn, value))
            assert said != UNFORESEEN, (fn.api_name, value)
            answered[fn.api_name] = said
    bugs = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bugs, bugs
    assert any(said.startswith("Input") or "must" in said for said in answered.values())

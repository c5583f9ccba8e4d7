"""The one error policy, shared by the page's events and the API endpoints.

A refused input (ae's InputError) is expected: its message goes to the person who sent it, and the log gets
one line. Anything else is a bug: the log gets its traceback, and the person a plain message, never the
exception's own text. The page shows the message in place of the result; an API client gets it as the
error of its call (gr.Error, whose traceback Gradio is told not to print).
"""

import functools
import logging
from collections.abc import Callable

import gradio as gr

from ae.preprocess import InputError

LOG = logging.getLogger("ae.app")
UNFORESEEN = "Something went wrong with that input. Please try another one."


def message_for(event: str, e: Exception) -> str:
    """Log e once, as policy says, and return what the sender is told."""
    if isinstance(e, InputError):
        LOG.info("refused %s: %s", event, e)
        return str(e)
    LOG.error("%s failed", event, exc_info=e)
    return UNFORESEEN


def on_page(event: str, refused: Callable[[str], tuple]):
    """Decorate a page handler: on any exception, return refused(message) (the outputs that show it)."""
    def wrap(fn):
        @functools.wraps(fn)
        def handler(*args):
            try:
                return fn(*args)
            except Exception as e:  # refused or unforeseen: a message on the page, nothing stale, keep serving
                return refused(message_for(event, e))
        return handler
    return wrap


def for_api(event: str):
    """Decorate an API endpoint: on any exception, raise gr.Error(message) for the caller."""
    def wrap(fn):
        @functools.wraps(fn)
        def endpoint(*args):
            try:
                return fn(*args)
            except Exception as e:
                raise gr.Error(message_for(event, e), print_exception=False) from None
        return endpoint
    return wrap

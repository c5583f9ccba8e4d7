"""The one error policy, shared by the page's events and the API endpoints.

A refused input (ae's InputError) is expected: its message goes to the person who sent it, and the log gets
one line. Anything else is a bug: the log gets its traceback, and the person a plain message, never the
exception's own text. The page shows the message in place of the result; an API client gets it as the
error of its call (gr.Error, whose traceback Gradio is told not to print).
"""

import functools
import inspect
import logging
import re
from collections.abc import Callable

import gradio as gr
import pydantic
from gradio.exceptions import ComponentProcessingError, InvalidComponentError, InvalidPathError

from ae.i18n import language_of, speaking, translate
from ae.preprocess import InputError
from ae.uploads import NOT_UPLOADED
from ae.visitors import as_owner

LOG = logging.getLogger("ae.app")
UNFORESEEN = "Something went wrong with that input. Please try another one."


def message_for(event: str, e: Exception) -> str:
    """Log e once, as policy says, and return what the sender is told."""
    if isinstance(e, InputError):
        LOG.info("refused %s: %s", event, e)
        return translate(str(e))
    LOG.error("%s failed", event, exc_info=e)
    return translate(UNFORESEEN)


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


# Gradio's own refusals of a call, before any handler runs, each as what its sender is told. Their texts name
# Gradio's internals (component classes, handler names, pydantic's documentation); the sender gets a sentence.
_PREPROCESS = re.compile(r"Could not preprocess input component at index (\d+) \(a `([^`]+)` component\)")
_TOO_FEW = re.compile(r"didn't receive enough input values \(needed: (\d+), got: (\d+)\)")
FILE_OBJECT = ('A file must be sent as a file object whose "meta" holds "_type": "gradio.FileData" '
               "(gradio_client's handle_file('digit.png') makes one).")  # no braces: a template's braces are fields
NOT_IN_FORM = "The data sent is not in the form this call takes (see the API page for its parameters)."
_ELSEWHERE = re.compile(r"Hostname .* failed validation")  # a URL for Gradio to fetch, to a host it does not fetch from


def refusal_by_gradio(e: Exception) -> str | None:
    """What the sender of a call Gradio refused before its handler is told, or None if e is not such a refusal."""
    text = str(e)
    if isinstance(e, ComponentProcessingError) and (m := _PREPROCESS.search(text)):
        return f"Input {int(m[1]) + 1} of this call is not a valid {m[2]} value."
    if isinstance(e, ValueError) and (m := _TOO_FEW.search(text)):
        return f"This call takes {m[1]} input values; it sent {m[2]}."
    if isinstance(e, InvalidPathError):  # a path in the request that Gradio did not receive
        return NOT_UPLOADED
    if isinstance(e, ValueError) and _ELSEWHERE.search(text):
        return "This app does not fetch images from other addresses. " + NOT_UPLOADED
    if isinstance(e, pydantic.ValidationError) and "'meta' field must be explicitly provided" in text:
        return FILE_OBJECT
    if isinstance(e, (pydantic.ValidationError, InvalidComponentError)):
        return NOT_IN_FORM
    return None


def guard_events(blocks: gr.Blocks) -> bool:
    """Pass every event of blocks through the policy, Gradio's own refusals included: each becomes a gr.Error
    with a sentence for its sender and one log line; anything else that escapes a handler is logged with its
    traceback and its sender told UNFORESEEN. Each event runs as its session's visitor (ae.visitors.OWNER: whose
    model "your-model" names; the handler's thread inherits it) and in its visitor's language (ae.i18n.LANGUAGE: what
    every message is told in). Returns False (and changes nothing) if this
    Gradio's Blocks has no process_api to wrap."""
    original = getattr(blocks, "process_api", None)
    if not inspect.iscoroutinefunction(original):
        LOG.warning("Gradio's Blocks.process_api is not as ae/ui/errors.py expects; its refusals keep their text")
        return False

    @functools.wraps(original)
    async def process_api(block_fn, *args, **kwargs):
        session = kwargs.get("session_hash")
        with as_owner(session if isinstance(session, str) else ""), speaking(language_of(kwargs.get("request"))):
            try:
                return await original(block_fn, *args, **kwargs)
            except gr.Error as e:
                if not e.print_exception:  # ours, logged already
                    raise
                # Gradio's own refusal of a value (a slider's range, a choice not offered): one log line, no traceback
                LOG.info("refused %s: %s", event_name(block_fn), e.message)
                raise gr.Error(translate(e.message), print_exception=False) from None
            except Exception as e:
                event = event_name(block_fn)
                fn = blocks.fns.get(block_fn) if isinstance(block_fn, int) else block_fn
                message = refusal_by_gradio(e)
                if message is None and getattr(getattr(fn, "fn", None), "__module__", "").startswith("gradio."):
                    message = NOT_IN_FORM  # Gradio's own handlers (an example's loader) given what they cannot use
                if message is None:
                    message = message_for(str(event), e)
                else:
                    LOG.info("refused %s: %s", event, message)
                    message = translate(message)
                raise gr.Error(message, print_exception=False) from None

    def event_name(block_fn) -> str:
        fn = blocks.fns.get(block_fn) if isinstance(block_fn, int) else block_fn
        return str(getattr(fn, "api_name", None) or getattr(fn, "name", None) or "an event")

    blocks.process_api = process_api
    return True

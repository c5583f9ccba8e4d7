"""The app's own components: a page object whose value is a JSON object that its own JavaScript reads and writes
(gr.HTML with html_template and js_on_load: the value goes to and from the server as it is, and the handler that
receives it checks it), and a sketchpad with a bounded store for its drawings."""

import re

import gradio as gr
from fastapi import HTTPException
from gradio.components.base import server

from ae.ui.guard import TOKEN
from ae.ui.inputs import PendingDrawings


class PageObject(gr.HTML):
    DESCRIPTION = "an object the page's script reads and writes"  # subclasses say what theirs holds

    def preprocess(self, payload):
        return payload

    def postprocess(self, value):
        return value

    def api_info(self) -> dict:
        return {"type": "object", "description": self.DESCRIPTION}

    def example_payload(self):
        return None

    def example_value(self):
        return None


class Sketchpad(gr.Sketchpad):
    """gr.Sketchpad whose page-sent drawings wait in a bounded store (ae.ui.inputs.PendingDrawings), and whose
    route takes only what this page's sketchpad sends: the composite picture, under a short id.

    Gradio's own route also takes layers by an index from the request and grows a list to that index (a 700-byte
    request with index 5e7 kept 390 MB); this sketchpad has no layers, so their blobs are refused.
    """

    pending: PendingDrawings | None = None  # set after construction: Gradio reads the page's props off __init__

    def get_block_name(self) -> str:
        return "imageeditor"  # the page's component for gr.Sketchpad, whose subclass this is

    def get_block_class(self) -> str:
        return "imageeditor"

    @server
    def accept_blobs(self, data) -> None:
        if self.pending is None:
            raise HTTPException(503, "This sketchpad keeps no drawings.")
        fields = getattr(data, "data", None)
        files = getattr(data, "files", None)
        if not isinstance(fields, dict) or not isinstance(files, list) or len(files) != 1:
            raise HTTPException(400, "A drawing is one PNG file with its id and type.")
        kind, key, session = fields.get("type"), fields.get("id"), fields.get("session_hash")
        if kind in ("background", "layer"):
            return  # the page sends these too; only the composite is read
        if kind != "composite" or not isinstance(key, str) or not DRAWING_ID.fullmatch(key) \
                or not isinstance(session, str) or not TOKEN.fullmatch(session.encode()):
            raise HTTPException(400, "A drawing's type must be 'composite' and its id 1-32 letters and digits.")
        self.pending.put(session, key, files[0][1])


DRAWING_ID = re.compile(r"[A-Za-z0-9]{1,32}")

"""A page component whose value is a JSON object that its own JavaScript reads and writes (gr.HTML with
html_template and js_on_load): the value goes to and from the server as it is, and the handler that
receives it checks it."""

import gradio as gr


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

"""The page's language on the browser's side: a script put into the page's HTML, ahead of Gradio's own.

Gradio picks the language it shows gr.I18n texts in from navigator.language once, when it starts, and runs a
page's `head` only afterwards. So the script that makes the browser decide as ae/i18n.py decides on the server
(?lang= in the address, else the browser's languages) goes into the HTML itself, by this ASGI middleware.
"""

from starlette.middleware import Middleware

from ae.ui import static

SCRIPT = b"<script>" + static("language.js").encode() + b"</script>"


class LanguageScript:
    """ASGI middleware: an HTML answer to a GET gets SCRIPT at the start of its <head>."""

    def __init__(self, app):
        self.app = app

    @classmethod
    def middleware(cls) -> Middleware:
        return Middleware(cls)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        start, body = None, []

        async def send_with_script(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    return await send(message)
                start = message  # held until the whole body is here: its length changes
                return None
            if start is None:
                return await send(message)
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return None
            html = with_script(b"".join(body))
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(html)).encode())]})
            return await send({"type": "http.response.body", "body": html})

        return await self.app(scope, receive, send_with_script)


def with_script(html: bytes) -> bytes:
    """html with SCRIPT right after its <head> tag (unchanged if it has none)."""
    at = html.find(b"<head>")
    return html if at < 0 else html[:at + 6] + SCRIPT + html[at + 6:]

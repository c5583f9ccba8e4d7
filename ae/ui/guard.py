"""The door every HTTP request passes before Gradio sees it (ASGI middleware): what a body may be, what an upload
may hold, which events exist, and the headers every response carries.

- Bodies are counted as they arrive, whatever the headers claim: a request with both Content-Length and
  Transfer-Encoding is refused (the two disagree on where the body ends), and a body that outgrows its route's
  limit is refused when it does. Small bodies (API calls, page events, the sketchpad's drawings) are read whole
  before Gradio starts, so a client that disconnects half-way leaves nothing behind.
- Uploads stream through (up to 10 MB) and are inspected on the way: at most one file, named as an image the app
  reads. A refused or cut-off upload is ended inside Gradio's own parser, which then deletes its temporary file.
- `fn_index` must name one of the page's events (Gradio answers anything else with HTTP 500 and a traceback).
- Every response says `X-Content-Type-Options: nosniff`; the files Gradio serves also get a sandboxing
  Content-Security-Policy, so nothing fetched from the app's address runs as a page.
"""

import asyncio
import json
import logging
import re
from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.middleware import Middleware

from ae.i18n import ENGLISH, choose, translate
from ae.uploads import MAX_FILE_BYTES

try:  # Gradio's upload parser deletes its temporary files when its stream raises this
    from gradio.route_utils import MultiPartException as _GradioRefusal
except ImportError:  # another Gradio: the request is still refused; the cache's keeper removes what it left
    _GradioRefusal = Exception

LOG = logging.getLogger("ae.app")

JSON_LIMIT = 64 * 1024  # the bodies of API calls and page events: a code of 64 numbers is ~1.5 KB
SKETCH_LIMIT = 512 * 1024  # the sketchpad sends its 400x400 drawing as PNG blobs (tens of KB) here
UPLOAD_LIMIT = MAX_FILE_BYTES + 16 * 1024  # one image and the multipart headers around it
UPLOAD_ROUTE = "/gradio_api/upload"
ROUTE_LIMITS = {UPLOAD_ROUTE: UPLOAD_LIMIT, "/gradio_api/component_server": SKETCH_LIMIT}  # the rest: JSON_LIMIT
STREAMED = (UPLOAD_ROUTE,)  # passed on as they arrive; every other body is read whole first
FILES_PER_UPLOAD = 1  # the page and gradio_client upload one file per request
# What the app's image reader opens (ae.preprocess.FORMATS), and the training lab's checkpoints (read by ae.artifacts'
# strict loader when an event names them, as images are by the image reader); anything else would only make the app
# a file host.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
UPLOAD_SUFFIXES = IMAGE_SUFFIXES | {".safetensors"}
BODY_SECONDS = 120  # a whole body must arrive within this (10 MB at under 1 Mbit/s); slower clients are cut off
FILE_ROUTE = "/gradio_api/file="
COMPONENT_ROUTE = "/gradio_api/component_server"
# Ids a client names itself. Gradio keeps an entry under each (its sessions, its events per session, the progress
# of each upload) until the client reads it back, so an id's length is memory the client chooses: the page's ids
# are ~11 letters and digits, gradio_client's session ids 36-character UUIDs.
TOKEN = re.compile(rb"[A-Za-z0-9_-]{1,64}")
CLIENT_IDS = (b"session_hash", b"upload_id")
FILE_POLICY = b"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


class Refused(_GradioRefusal):
    """A request the guard answered itself; raised into the app when it is part-way through reading it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class UploadCheck:
    """Watches a multipart upload stream by: counts its files and checks their names, raising Refused."""

    def __init__(self, content_type: bytes):
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary:
            raise Refused(400, "An upload must be sent as multipart/form-data with a boundary.")
        self.files, self.disposition = 0, b""
        self.header, self.value = b"", b""
        self.parser = MultipartParser(boundary, {
            "on_header_field": self.on_field, "on_header_value": self.on_value,
            "on_header_end": self.on_header_end, "on_headers_finished": self.on_headers_finished,
            "on_part_begin": self.on_part_begin})

    def write(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except Refused:
            raise
        except Exception as e:  # python_multipart's parse errors: the upload is malformed
            raise Refused(400, f"The upload is not well-formed multipart data ({type(e).__name__}).") from None

    def on_part_begin(self) -> None:
        self.disposition, self.header, self.value = b"", b"", b""

    def on_field(self, data: bytes, start: int, end: int) -> None:
        self.header += data[start:end]

    def on_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        if self.header.lower() == b"content-disposition":
            self.disposition = self.value
        self.header, self.value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if options.get(b"name") != b"files" or b"filename" not in options:
            raise Refused(400, "An upload holds one part, the file, as the field 'files' with its file name.")
        self.files += 1
        if self.files > FILES_PER_UPLOAD:
            raise Refused(400, f"Upload one file per request (this one holds more than {FILES_PER_UPLOAD}).")
        name = options[b"filename"].decode("utf-8", "replace")
        if PurePosixPath(name.replace("\\", "/")).suffix.lower() not in UPLOAD_SUFFIXES:
            raise Refused(400, f"Only images ({', '.join(sorted(IMAGE_SUFFIXES))}) and .safetensors checkpoints can "
                               f"be uploaded here; {name[:60]!r} is not named as either.")


class RequestGuard:
    """ASGI middleware; see the module's docstring. `blocks`: the Blocks served (for its events); `on_upload`:
    called after each upload the app accepted (the cache's keeper counts them)."""

    def __init__(self, app, blocks=None, limit: int = JSON_LIMIT, routes: dict = ROUTE_LIMITS,
                 on_upload: Callable[[], None] | None = None, body_seconds: float = BODY_SECONDS):
        self.app, self.blocks, self.limit, self.routes = app, blocks, limit, routes
        self.on_upload, self.body_seconds = on_upload, body_seconds

    @classmethod
    def middleware(cls, **kwargs) -> Middleware:
        """For launch(app_kwargs={"middleware": [...]}): Gradio hands these to its FastAPI app."""
        return Middleware(cls, **kwargs)

    def route_of(self, path: str) -> tuple[str | None, int]:
        path = path.rstrip("/")
        return next(((route, limit) for route, limit in self.routes.items() if path.endswith(route)),
                    (None, self.limit))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = self.secured(scope, send)
        headers = dict(scope["headers"])
        language = language_of(headers)
        if b"content-length" in headers and b"transfer-encoding" in headers:
            return await respond(send, 400, "A request may give a Content-Length or a Transfer-Encoding, not both.",
                                 language)
        problem = bad_ids(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if problem:
            return await respond(send, 400, problem, language)
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        route, limit = self.route_of(scope["path"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await respond(send, 413, too_large(limit), language)
        if route in STREAMED:
            return await self.streamed(scope, receive, send, limit, headers.get(b"content-type", b""), language)
        try:
            body = await asyncio.wait_for(read_body(receive, limit), self.body_seconds)
        except asyncio.TimeoutError:
            return await respond(send, 408, f"The request's body did not arrive within {self.body_seconds} s.",
                                 language)
        except Refused as e:
            return await respond(send, e.status, e.message, language)
        if body is None:  # the client left before its body was whole
            return
        problem = self.check_body(body, route)
        if problem:
            LOG.info("refused %s: %s", scope["path"], problem)
            return await respond(send, 400, problem, language)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()  # after the body: only a disconnect can come
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        if route != COMPONENT_ROUTE:
            return await self.app(scope, replay, send)
        started = False

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:  # every field of the components' route names something (a component, a function): all the client's
            return await self.app(scope, replay, watched)
        except (KeyError, ValueError, TypeError, AttributeError) as e:
            if started:
                raise
            LOG.info("refused %s: %s", scope["path"], type(e).__name__)
            return await respond(send, 400, "That component or function does not exist on this page.", language)

    async def streamed(self, scope, receive, send, limit: int, content_type: bytes, language: str = ENGLISH):
        """An upload passed on as it arrives, counted and inspected; refused inside Gradio's parser."""
        answered = False

        async def answer(message):
            nonlocal answered
            if answered:
                return  # the app's own answer to a request already refused
            await send(message)

        try:
            check = UploadCheck(content_type) if content_type.startswith(b"multipart/form-data") else None
        except Refused as e:
            return await respond(send, e.status, e.message, language)
        size = 0
        deadline = asyncio.get_running_loop().time() + self.body_seconds

        async def counted():
            nonlocal size, answered
            left = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(left, 0.001))
            except asyncio.TimeoutError:
                message = None
            try:
                if message is None:
                    raise Refused(408, f"The upload did not arrive within {self.body_seconds} s.")
                if message["type"] == "http.disconnect":
                    raise Refused(499, "The client left during its upload.")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise Refused(413, too_large(limit))
                if check is not None:
                    check.write(chunk)
            except Refused as e:
                if not answered and e.status != 499:
                    await respond(send, e.status, e.message, language)
                answered = True
                LOG.info("refused upload: %s", e.message)
                raise
            return message

        try:
            await self.app(scope, counted, answer)
        except Refused:
            return  # answered already; Gradio's parser let it through without cleaning up
        if not answered and self.on_upload is not None:
            self.on_upload()

    def check_body(self, body: bytes, route: str | None) -> str | None:
        """Why a small body names an event or a component that does not exist, or an id no client makes; or None."""
        if route == COMPONENT_ROUTE and not body.lstrip().startswith(b"{"):
            return None  # the sketchpad's multipart form: the Sketchpad's route checks its fields
        try:
            data = json.loads(body)
        except ValueError:
            return None  # not JSON: Gradio refuses it with its own message
        if not isinstance(data, dict):
            return None
        problem = bad_ids((k.encode(), v) for k, v in data.items() if isinstance(k, str))
        if problem or self.blocks is None:
            return problem
        index = data.get("fn_index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or index not in self.blocks.fns):
            return f"fn_index must name one of this page's events, got {str(index)[:20]!r}."
        component = data.get("component_id")
        if route == COMPONENT_ROUTE and (isinstance(component, bool) or not isinstance(component, int)
                                         or component not in self.blocks.blocks):
            return "That component or function does not exist on this page."
        return None

    @staticmethod
    def secured(scope, send):
        """send, with nosniff on every response and a sandbox around every file served."""
        extra = [(b"x-content-type-options", b"nosniff")]
        if FILE_ROUTE in scope["path"]:
            extra.append((b"content-security-policy", FILE_POLICY))

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return with_headers


def bad_ids(pairs) -> str | None:
    """Why one of the client-made ids among (name, value) pairs is not a short token, or None."""
    for name, value in pairs:
        name = name.encode("latin-1") if isinstance(name, str) else name
        if name in CLIENT_IDS and value is not None:
            raw = value.encode("utf-8", "replace") if isinstance(value, str) else b"\x00"
            if not TOKEN.fullmatch(raw):
                return f"{name.decode()} must be 1-64 letters, digits, '-' or '_'."
    return None


async def read_body(receive, limit: int) -> bytes | None:
    """The whole body, or None if the client disconnected first; Refused(413) once it outgrows limit."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, too_large(limit))
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def too_large(limit: int) -> str:
    return (f"The request is too large: this app takes at most {limit // 1024} KB of data per call here "
            f"(images go through the upload route, up to {MAX_FILE_BYTES // 2**20} MB).")


def language_of(headers: dict) -> str:
    """The language of a request's sender, from its raw headers: the page's address (the Referer of the page's
    calls) and the browser's preferred languages, as ae.i18n.choose reads them."""
    return choose(headers.get(b"referer", b"").decode("latin-1"),
                  headers.get(b"accept-language", b"").decode("latin-1"))


async def respond(send, status: int, message: str, language: str = ENGLISH) -> None:
    """Answer with status and message (in language) as JSON's "error"."""
    body = json.dumps({"error": translate(message, language)}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


HEADER_SECONDS = 10.0  # a request's line and headers must be whole this long after its connection opens or idles


def header_deadline(seconds: float = HEADER_SECONDS) -> bool:
    """Make uvicorn close a connection whose request line and headers are not whole within `seconds` of the
    connection opening (or of the last response on it): a slow client otherwise holds its connection forever.

    Uvicorn has no such setting and Gradio makes uvicorn's Config itself, so the protocol that Config's "auto"
    setting names is replaced by a subclass of uvicorn's h11 protocol. Returns False, changing nothing, where
    uvicorn is not as this expects (connections then stay open as long as their clients like).
    """
    try:
        import h11
        from uvicorn.protocols.http import auto, h11_impl
    except ImportError:
        return False
    base = h11_impl.H11Protocol
    if not all(hasattr(base, name) for name in ("connection_made", "connection_lost", "handle_events",
                                                "on_response_complete")) or not hasattr(auto, "AutoHTTPProtocol"):
        LOG.warning("uvicorn is not as ae/ui/guard.py expects; connections have no deadline for their headers")
        return False
    if getattr(auto.AutoHTTPProtocol, "header_seconds", None) is not None:
        auto.AutoHTTPProtocol.header_seconds = seconds
        return True

    class HeaderDeadline(base):
        header_seconds = seconds
        _deadline = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the request's headers are whole
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm()  # the next request on this connection gets its own deadline

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(self.header_seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    auto.AutoHTTPProtocol = HeaderDeadline
    return True

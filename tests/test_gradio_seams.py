"""Every place the app reaches into Gradio, Starlette or uvicorn: each test here fails loudly when the library
changes under it, and each fallback (the app still correct, only slower or less convenient) is tested too.
pyproject.toml names the Gradio range these passed on."""

import asyncio
import inspect

import gradio as gr
import httpx
import pytest
from gradio import state_holder
from gradio import utils as gradio_utils

from ae.ui import api, errors, guard, sessions
from ae.ui.components import Sketchpad
from ae.ui.inputs import PendingDrawings


def tiny_page() -> gr.Blocks:
    with gr.Blocks() as demo:
        number, other = gr.Number(1), gr.Number(2)
        out = gr.Number()
        number.change(lambda x, y=2: x + y, [number, other], out, api_name="add")
    return demo


# Lazy sessions (ae/ui/sessions.py)

def test_sessionstate_is_as_lazy_sessions_expect():
    source = inspect.getsource(state_holder.SessionState.__init__)
    assert "self.config_values = {" in source and "if k in blocks.blocks" in source


def test_lazy_sessions_stand_down_when_gradio_cannot_be_read(monkeypatch):
    def unreadable(_):
        raise OSError("no source")

    monkeypatch.setattr(sessions.inspect, "getsource", unreadable)
    monkeypatch.setattr(state_holder, "SessionState", state_holder.SessionState)  # restored after the test
    assert sessions.install() is False and state_holder.SessionState is not sessions.LazySessionState


# The sketchpad's route (ae/ui/components.py)

def test_the_sketchpad_is_gradios_image_editor_with_its_blob_route():
    assert gr.Sketchpad.__mro__[1] is gr.ImageEditor and getattr(gr.Sketchpad, "is_template", False)
    assert getattr(gr.ImageEditor.accept_blobs, "_is_server_fn", False)
    pad = Sketchpad(canvas_size=(40, 40))
    pad.pending = PendingDrawings()
    assert pad.get_block_name() == "imageeditor" and "accept_blobs" in [f.__name__ for f in pad.server_fns]
    assert pad.get_config()["canvas_size"] == [40, 40]  # the page still gets Gradio's props


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A small page with the app's sketchpad, launched by Gradio on a free local port with its own cache."""
    import os

    from ae.ui.app_server import free_port

    cache = tmp_path_factory.mktemp("cache")
    os.environ["GRADIO_TEMP_DIR"], before = str(cache), os.environ.get("GRADIO_TEMP_DIR")
    try:
        with gr.Blocks() as demo:
            pad = Sketchpad(canvas_size=(40, 40))
            pad.pending = PendingDrawings()
            number = gr.Number(1)
            number.change(lambda x: x, number, number, api_name="same")
        port = free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client, pad, cache
        demo.close(verbose=False)
    finally:
        if before is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = before


def test_the_sketchpad_route_reaches_our_store_through_gradio(served):
    client, pad, _ = served
    r = client.post("/gradio_api/component_server", files={"files": ("composite.png", b"PNG", "image/png")},
                    data={"session_hash": "s", "component_id": str(pad._id), "fn_name": "accept_blobs",
                          "id": "abc123", "type": "composite", "index": "null"})
    assert r.status_code == 200, r.text
    assert pad.pending.pop("abc123") == b"PNG"


def test_the_routes_the_guard_names_are_gradios_and_uploads_land_in_get_upload_folder(served):
    client, _, cache = served
    r = client.post(guard.UPLOAD_ROUTE, files={"files": ("digit.png", b"\x89PNG", "image/png")})
    assert r.status_code == 200 and r.json()[0].startswith(str(cache))
    assert gradio_utils.get_upload_folder() == str(cache)
    assert client.get(guard.FILE_ROUTE + r.json()[0]).content == b"\x89PNG"
    r = client.post("/gradio_api/queue/join", json={"data": [1], "fn_index": 0, "session_hash": "s"})
    assert r.status_code == 200 and "event_id" in r.json()


def test_gradios_upload_parser_cleans_up_on_the_guards_refusal():
    from gradio.route_utils import GradioMultiPartParser, MultiPartException

    assert issubclass(guard.Refused, MultiPartException)
    assert "except (MultiPartException" in inspect.getsource(GradioMultiPartParser.parse)


def test_a_refusal_gradio_does_not_catch_still_ends_quietly():
    """If Gradio's parser stops catching the guard's refusal, the guard answers and the request ends."""
    sent = []

    async def careless_app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass

    body = b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.html\"\r\n\r\nx\r\n--b--\r\n"
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": guard.UPLOAD_ROUTE,
             "headers": [(b"content-type", b"multipart/form-data; boundary=b")]}
    asyncio.run(guard.RequestGuard(careless_app)(scope, receive, send))
    assert sent[0]["status"] == 400


# Every event through the error policy (ae/ui/errors.py)

def test_process_api_is_as_the_policy_expects():
    params = list(inspect.signature(gr.Blocks.process_api).parameters)
    assert inspect.iscoroutinefunction(gr.Blocks.process_api) and params[:3] == ["self", "block_fn", "inputs"]


def test_the_policy_stands_down_where_there_is_no_process_api():
    class Other:
        fns = {}
        process_api = None

    assert errors.guard_events(Other()) is False


# Omitted trailing defaults (ae/ui/api.py)

def test_padding_omitted_defaults_reaches_gradio():
    demo = tiny_page()
    assert api.padding_reaches_gradio(demo) and api.accept_omitted_defaults(demo)
    fn = next(iter(demo.fns.values()))
    inputs = [5]
    demo.validate_inputs(fn, inputs)
    assert inputs == [5, 2]  # the trailing default filled in, in the list Gradio reads next
    inputs = [5, 7]
    demo.validate_inputs(fn, inputs)
    assert inputs == [5, 7]


def test_padding_stands_down_when_gradio_differs(monkeypatch):
    demo = tiny_page()
    monkeypatch.setattr(api.inspect, "getsource", lambda _: "def preprocess_data(self): pass")
    before = demo.validate_inputs
    assert api.accept_omitted_defaults(demo) is False and demo.validate_inputs == before


# uvicorn's connections (ae/ui/guard.py: header_deadline)

@pytest.fixture
def uvicorn_auto(monkeypatch):
    from uvicorn.protocols.http import auto

    monkeypatch.setattr(auto, "AutoHTTPProtocol", auto.AutoHTTPProtocol)  # restored after the test
    return auto


def test_uvicorn_is_as_the_header_deadline_expects(uvicorn_auto):
    import h11
    from uvicorn.config import HTTP_PROTOCOLS
    from uvicorn.protocols.http import h11_impl

    assert HTTP_PROTOCOLS["auto"] == "uvicorn.protocols.http.auto:AutoHTTPProtocol"
    assert "self.conn = h11.Connection" in inspect.getsource(h11_impl.H11Protocol.__init__)
    assert h11.IDLE and guard.header_deadline(5.0)
    assert issubclass(uvicorn_auto.AutoHTTPProtocol, h11_impl.H11Protocol)
    assert uvicorn_auto.AutoHTTPProtocol.header_seconds == 5.0


def test_the_header_deadline_stands_down_when_uvicorn_differs(uvicorn_auto, monkeypatch):
    from uvicorn.protocols.http import h11_impl

    monkeypatch.delattr(h11_impl.H11Protocol, "on_response_complete")
    before = uvicorn_auto.AutoHTTPProtocol
    assert guard.header_deadline() is False and uvicorn_auto.AutoHTTPProtocol is before


"""Hostile requests over HTTP against `python app.py`: each is refused with a message, never reads a file
the app was not sent, never blocks or swells the server, and the server keeps serving everyone else."""

import io
import os
import threading

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from ae.checkpoint import DEFAULT_PATH
from ae.ui.app_server import CallError, ProgressPageRun, free_port, http_call
from ae.ui.inputs import RecentBlobs
from ae.ui.serve import progress_page, seconds_left

pytestmark = pytest.mark.slow

FILE_SHAPES = {  # how a request can name a file; only the last one is checked by Gradio itself
    "no meta": lambda path: {"path": path},
    "empty meta": lambda path: {"path": path, "meta": {}},
    "other _type": lambda path: {"path": path, "meta": {"_type": "gradio.Something"}},
    "FileData": lambda path: {"path": path, "meta": {"_type": "gradio.FileData"}},
}
IMAGE_EVENTS = ("encode", "reconstruct", "upload", "draw", "classify", "latent_map", "outlier")


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=120) as h:
        yield h


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False, httpx_kwargs={"timeout": 300})


@pytest.fixture(scope="module")
def secret(tmp_path_factory, mnist_test) -> str:
    """A real digit stored on the server but never uploaded: a model would read it happily."""
    path = tmp_path_factory.mktemp("private") / "secret.png"
    Image.fromarray(mnist_test.images[0].numpy()).resize((280, 280)).save(path)
    return str(path)


def refusal(http, event: str, file: dict) -> str:
    """Send file to an image event; assert it was refused without a picture; return the message."""
    data = [{"background": None, "layers": [], "composite": file}] if event == "draw" else [file]
    try:
        out = http_call(http, event, data)
    except CallError as e:
        assert e.message, f"{event} refused {file} without a message"
        return e.message
    assert event in ("upload", "draw"), f"{event} answered {str(out)[:300]} for {file}"
    model_input, recon, _, _, message, *_ = out  # the page's events clear the pictures and say why
    assert model_input is None and recon is None and message.startswith("⚠️"), (event, file, out)
    return message


def works(http, seven_upload) -> None:
    """The server still answers a good request correctly."""
    code = http_call(http, "encode", [seven_upload])[0]
    assert len(code) == 64 and all(np.isfinite(code))


@pytest.fixture(scope="module")
def seven_upload(http, secret) -> dict:
    """The secret digit uploaded the proper way: a file object Gradio received, in its cache."""
    with open(secret, "rb") as f:
        r = http.post("/gradio_api/upload", files={"files": ("seven.png", f, "image/png")})
    r.raise_for_status()
    return FILE_SHAPES["FileData"](r.json()[0])


@pytest.mark.parametrize("shape", FILE_SHAPES)
@pytest.mark.parametrize("event", IMAGE_EVENTS)
def test_files_the_app_was_not_sent_are_never_opened(http, secret, seven_upload, event, shape):
    for target in (secret, "/etc/passwd", str(DEFAULT_PATH), "../../../../etc/hostname"):
        message = refusal(http, event, FILE_SHAPES[shape](target))
        assert "not uploaded" in message or "'meta' field must be explicitly provided" in message, message
    works(http, seven_upload)


def test_the_same_digit_uploaded_properly_is_read(http, seven_upload):
    model_input, recon, code = http_call(http, "reconstruct", [seven_upload])
    assert model_input["path"] and recon["path"] and len(code) == 64


def test_fifos_and_devices_never_block_the_server(http, tmp_path, seven_upload):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for target in (str(fifo), "/dev/stdin", "/dev/zero", "/proc/self/environ"):
        for shape in ("no meta", "FileData"):
            assert refusal(http, "reconstruct", FILE_SHAPES[shape](target))  # an answer, not a hang
    works(http, seven_upload)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("route", ["/gradio_api/call/decode", "/gradio_api/queue/join"])
def test_a_huge_json_body_is_refused_before_it_is_parsed(http, seven_upload, route, chunked):
    body = b'{"data": [[' + b"0.0," * 3_999_999 + b'0.0]], "fn_index": 0, "session_hash": "x"}'  # 16 MB
    content = (body[i : i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    r = http.post(route, content=content, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    works(http, seven_upload)


def test_a_code_of_the_right_size_still_fits(http):
    assert http_call(http, "decode", [[0.0] * 64])[0]["path"]


def test_the_largest_images_are_refused_with_their_size(client, tmp_path):
    path = tmp_path / "poster.png"  # 39.7 megapixels of RGBA, 160 MB to decode, 160 KB on disk
    Image.new("RGBA", (7300, 5438), (0, 0, 0, 0)).save(path)
    with pytest.raises(Exception, match="7300x5438 pixels, too many"):
        client.predict(handle_file(path), api_name="/reconstruct")


def test_a_damaged_file_is_called_damaged(client, tmp_path, mnist_test):
    buf = io.BytesIO()
    Image.fromarray(mnist_test.images[1].numpy()).save(buf, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buf.getvalue()[:120])  # the header and a little of the pixels
    with pytest.raises(Exception, match="damaged or cut short"):
        client.predict(handle_file(path), api_name="/encode")


def test_gradios_own_refusals_carry_a_message(http):
    with pytest.raises(CallError, match="enough input values"):
        http_call(http, "decode", [])
    with pytest.raises(CallError) as e:  # a URL is fetched by Gradio only from public hosts
        http_call(http, "encode", [FILE_SHAPES["FileData"]("http://127.0.0.1:9/digit.png")])
    assert e.value.message


def test_refusals_log_one_line_and_no_traceback(server, http, secret):
    before = server.output().count("Traceback")
    for event in ("encode", "upload"):
        refusal(http, event, FILE_SHAPES["no meta"](secret))
    with pytest.raises(CallError, match="64 numbers"):
        http_call(http, "decode", [[0.0] * 3])
    log = server.output()
    assert log.count("Traceback") == before
    assert "refused encode: That file was not uploaded" in log and "refused decode: The code must have" in log


def test_calls_during_first_launch_training_are_told_when_to_come_back():
    lines = ["Epoch [2/5], Loss: 0.02"]
    page = progress_page(lines, endpoints=("decode", "encode"))
    port = free_port()
    page.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=120) as h:
            for name, data in (("decode", [[0.0] * 64]), ("encode", [{"path": "/etc/passwd"}])):
                with pytest.raises(CallError, match=r"still training .*try again in about \d+ s"):
                    http_call(h, name, data)
    finally:
        page.close(verbose=False)


def test_seconds_left_follows_the_epochs():
    assert seconds_left([], 10.0) is None
    assert seconds_left(["Epoch [1/5], Loss: 0.1", "Epoch [2/5], Loss: 0.05"], 10.0) == pytest.approx(15.0)
    assert seconds_left(["Epoch [5/5], Loss: 0.01"], 20.0) == 0


def test_many_refusals_at_once_leave_the_server_serving(http, server, secret, seven_upload):
    errors = []

    def attack():
        with httpx.Client(base_url=server.url, timeout=120) as h:
            for _ in range(5):
                try:
                    refusal(h, "reconstruct", FILE_SHAPES["no meta"](secret))
                except AssertionError as e:
                    errors.append(e)

    threads = [threading.Thread(target=attack) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    works(http, seven_upload)


def test_sketch_blobs_are_bounded_in_size(http, seven_upload):
    blob = b"\x89PNG" + b"\x00" * (1024 * 1024)  # a "drawing" of 1 MB
    r = http.post("/gradio_api/component_server", files={"files": ("blob", blob, "image/png")},
                  data={"session_hash": "x", "component_id": "1", "fn_name": "accept_blobs", "data": "{}"})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    works(http, seven_upload)


def test_sketch_blobs_without_an_event_do_not_pile_up():
    blobs = RecentBlobs(limit=3)
    for i in range(10):
        blobs[f"id{i}"] = b"drawing"
    assert list(blobs) == ["id7", "id8", "id9"]
    blobs["id8"] = b"again"  # set again: newest
    blobs["id10"] = b"new"
    assert list(blobs) == ["id9", "id8", "id10"]


def test_the_first_launch_page_bounds_bodies_too():
    with ProgressPageRun("Epoch [1/5], Loss: 0.031") as run:
        r = httpx.post(run.url + "gradio_api/call/progress", content=b'{"data": [' + b"0," * 100_000 + b'0]}',
                       headers={"content-type": "application/json"}, timeout=120)
        assert r.status_code == 413


@pytest.mark.parametrize("data", [[1e9, 0.0], ["x", 0.0], [None, None]])
def test_the_planes_sliders_refuse_what_is_off_the_plane(http, data):
    with pytest.raises(CallError) as e:
        http_call(http, "choose", data)
    assert e.value.message

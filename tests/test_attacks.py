"""Hostile requests over HTTP against `python app.py`: each is refused with a message, never reads a file
the app was not sent, never blocks or swells the server, and the server keeps serving everyone else."""

import contextlib
import io
import os
import socket
import threading
import time

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

from ae.checkpoint import DEFAULT_PATH
from ae.ui.app_server import CallError, ProgressPageRun, free_port, http_call, raw_request, rss_mb
from ae.ui.errors import FILE_OBJECT
from ae.ui.guard import HEADER_SECONDS
from ae.ui.serve import progress_page

pytestmark = pytest.mark.slow

FILE_SHAPES = {  # how a request can name a file; only the last one is checked by Gradio itself
    "no meta": lambda path: {"path": path},
    "empty meta": lambda path: {"path": path, "meta": {}},
    "other _type": lambda path: {"path": path, "meta": {"_type": "gradio.Something"}},
    "FileData": lambda path: {"path": path, "meta": {"_type": "gradio.FileData"}},
}
IMAGE_EVENTS = ("encode", "reconstruct", "upload", "draw", "classify", "latent_map", "outlier", "dimensions")


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
        assert "not uploaded" in message or message == FILE_OBJECT, message
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
    with pytest.raises(CallError, match=r"takes 2 input values; it sent 0"):  # the code, and the optional model
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


# The second pass: attacks under the first pass's defences, each sent over HTTP as a hostile client would.

def sketchpad_id(http) -> int:
    return next(c["id"] for c in http.get("/config").json()["components"] if c["type"] == "imageeditor")


def test_a_chunked_body_behind_a_small_content_length_is_refused(server, http, seven_upload):
    body = b'{"data": [[' + b"0.0," * 999_999 + b'0.0]]}'  # 4 MB of JSON
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    before = rss_mb(server.proc.pid)
    for route in (b"/gradio_api/call/decode", b"/gradio_api/queue/join", b"/gradio_api/component_server"):
        status, answer = raw_request(server.port, b"POST " + route + b" HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                     b"application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n",
                                     chunked)
        assert status == 400 and b"not both" in answer, answer[:300]
    assert rss_mb(server.proc.pid) - before < 30
    works(http, seven_upload)


def sketch_blob(http, sketch: int, session: str, key: str, png: bytes, kind: str = "composite", index: str = "null"):
    return http.post("/gradio_api/component_server", files={"files": (f"{kind}.png", png, "image/png")},
                     data={"session_hash": session, "component_id": str(sketch), "fn_name": "accept_blobs",
                           "id": key, "type": kind, "index": index})


@pytest.fixture(scope="module")
def drawn_png() -> bytes:
    img = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(200, 60), (200, 340)], fill=(0, 0, 0, 255), width=30)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_the_sketchpad_route_takes_no_layer_index_from_the_request(server, http, seven_upload, drawn_png):
    sketch = sketchpad_id(http)
    before = rss_mb(server.proc.pid)
    for index in ("50000000", "100000000", "-5", "1e9"):
        r = sketch_blob(http, sketch, "attacker", "abc", drawn_png, kind="layer", index=index)
        assert r.status_code in (200, 400), r.text
    assert rss_mb(server.proc.pid) - before < 30  # an index of 5e7 kept 390 MB, 1e8 800 MB
    for key, kind in (("x" * 200, "composite"), ("../etc", "composite"), ("abc", "something")):
        assert sketch_blob(http, sketch, "attacker", key, drawn_png, kind=kind).status_code == 400
    works(http, seven_upload)


def test_one_client_cannot_push_out_another_visitors_drawing(http, drawn_png):
    sketch = sketchpad_id(http)
    assert sketch_blob(http, sketch, "visitor", "mydrawing7", drawn_png).status_code == 200
    for i in range(300):
        sketch_blob(http, sketch, "attacker", f"flood{i}", drawn_png)
    model_input, recon, *_, message, _, _, _ = http_call(http, "draw", [{"id": "mydrawing7", "composite": None}],
                                                          session="visitor")
    assert model_input and recon and "MSE" in message, message


@pytest.fixture(scope="module")
def cache_server(tmp_path_factory):
    """A server of its own, with its own cache folder and a 30 MB budget for it."""
    from ae.ui.app_server import AppServer

    cache = tmp_path_factory.mktemp("gradio-cache")
    with AppServer(GRADIO_TEMP_DIR=str(cache), AE_CACHE_MB="30") as s:
        s.cache = cache
        yield s


def upload_head(server, length: int) -> bytes:
    return (b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b0undary\r\n"
            b"Content-Length: %d\r\n\r\n" % length)


def upload_part(name: bytes, data: bytes) -> bytes:
    return (b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="' + name +
            b'"\r\nContent-Type: image/png\r\n\r\n' + data + b"\r\n")


def cached_files(server) -> set:
    return {p for p in server.cache.rglob("*") if p.is_file()}


def test_an_aborted_upload_leaves_no_file_and_no_traceback(cache_server):
    body = upload_part(b"digit.png", os.urandom(9 * 2**20)) + b"--b0undary--\r\n"
    before = cached_files(cache_server)  # the page's examples
    for _ in range(5):
        raw_request(cache_server.port, upload_head(cache_server, len(body)), body, close_after=3 * 2**20)
    time.sleep(1)
    left = cached_files(cache_server) - before
    assert not left, left  # 5 x 9 MB sent and dropped left 46 MB before
    assert "Traceback" not in cache_server.output()


def test_an_upload_holds_one_image(cache_server):
    with httpx.Client(base_url=cache_server.url, timeout=60) as h:
        many = [("files", (f"d{i}.png", b"\x89PNG" + os.urandom(1000), "image/png")) for i in range(100)]
        r = h.post("/gradio_api/upload", files=many)
        assert r.status_code == 400 and "one file per request" in r.text
        r = h.post("/gradio_api/upload", files={"files": ("page.html", b"<script>alert(1)</script>", "text/html")})
        assert r.status_code == 400 and "Only images" in r.text
        r = h.post("/gradio_api/upload", files={"files": ("digit.png", b"\x89PNG" + os.urandom(1000), "image/png")})
        assert r.status_code == 200
        served = h.get(f"/gradio_api/file={r.json()[0]}")
        assert served.status_code == 200 and served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
    assert not [p for p in cache_server.cache.iterdir() if p.name.startswith("tmp")]


def test_the_cache_stays_within_its_budget(cache_server):
    with httpx.Client(base_url=cache_server.url, timeout=60) as h:
        for i in range(60):  # 60 MB into a 30 MB budget
            r = h.post("/gradio_api/upload", files={"files": (f"{i}.png", os.urandom(2**20), "image/png")})
            assert r.status_code == 200
    end = time.monotonic() + 30
    while time.monotonic() < end:
        held = sum(p.stat().st_size for p in cache_server.cache.rglob("*") if p.is_file())
        if held <= 30 * 2**20:
            break
        time.sleep(0.2)
    assert held <= 30 * 2**20, held / 2**20


def test_a_gif_of_600000_frames_is_read_as_its_first(http, tmp_path):
    from tests.test_preprocess import many_frame_gif

    path = tmp_path / "frames.gif"
    path.write_bytes(many_frame_gif(600_000))
    with open(path, "rb") as f:
        r = http.post("/gradio_api/upload", files={"files": ("frames.gif", f, "image/gif")})
    message = http_call(http, "upload", [FILE_SHAPES["FileData"](r.json()[0])])[4]
    assert "several frames" in message or "blank" in message, message


def test_a_huge_progressive_jpeg_is_refused(http, server):
    buf = io.BytesIO()
    Image.new("CMYK", (7300, 5438)).save(buf, "JPEG", progressive=True)
    r = http.post("/gradio_api/upload", files={"files": ("poster.jpg", buf.getvalue(), "image/jpeg")})
    before = rss_mb(server.proc.pid)
    with pytest.raises(CallError, match="progressive JPEG"):
        http_call(http, "encode", [FILE_SHAPES["FileData"](r.json()[0])])
    assert rss_mb(server.proc.pid) - before < 50  # it peaked at +316 MB


def an_event_reading_a_number(http) -> tuple[str, list, int]:
    """A page event with a number among its inputs: its name, its inputs' page values, the number's place."""
    config = http.get("/config").json()
    components = {c["id"]: c for c in config["components"]}
    for dep in config["dependencies"]:
        kinds = [components[i]["type"] for i in dep["inputs"]]
        if "number" in kinds and dep.get("api_name"):
            return dep["api_name"], [components[i]["props"].get("value") for i in dep["inputs"]], kinds.index("number")
    raise AssertionError("no event reads a number")


def test_gradios_own_refusals_speak_the_apps_words(server, http):
    name, data, place = an_event_reading_a_number(http)
    data[place] = "many"
    for args, said in ((data, f"Input {place + 1} of this call is not a valid number value."),
                       ([], f"This call takes {len(data)} input values; it sent 0.")):
        with pytest.raises(CallError) as e:
            http_call(http, name, args)
        assert e.value.message == said
        for leak in ("preprocess", "component", "pydantic", "NoneType", "named"):
            assert leak not in e.value.message


@pytest.mark.parametrize("index", [999, -1])
def test_an_event_that_does_not_exist_is_a_400_and_one_log_line(server, http, index):
    before = server.output()
    r = http.post("/gradio_api/queue/join", json={"data": [], "fn_index": index, "session_hash": "x"})
    assert r.status_code == 400 and "fn_index" in r.json()["error"]
    time.sleep(0.2)
    new = server.output()[len(before):]
    assert "Traceback" not in new and new.count("\n") <= 1, new


def test_ids_a_client_makes_up_are_short(server, http, seven_upload):
    """Gradio keeps an entry under each session and upload id until the client reads it back: 5,000 calls with
    60 KB session ids grew the server by 310 MB, 1,000 uploads with 50 KB upload ids by 62 MB."""
    before = rss_mb(server.proc.pid)
    long = "x" * 60_000
    for _ in range(200):
        r = http.post("/gradio_api/call/decode", json={"data": [[0.0] * 64], "session_hash": long})
        assert r.status_code == 400 and "session_hash must be" in r.text
        r = http.post(f"/gradio_api/upload?upload_id={long[:50_000]}",
                      files={"files": ("d.png", b"\x89PNG", "image/png")})
        assert r.status_code == 400 and "upload_id must be" in r.text
    assert rss_mb(server.proc.pid) - before < 20
    r = http.post("/gradio_api/upload?upload_id=k3ub9x2a1q", files={"files": ("d.png", b"\x89PNG", "image/png")})
    assert r.status_code == 200
    works(http, seven_upload)


def test_connections_that_never_finish_their_headers_are_closed(server, http):
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(50)]
    try:
        for s in sockets:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line that ends the headers
        time.sleep(HEADER_SECONDS + 3)
        closed = 0
        for s in sockets:
            s.settimeout(1)
            with contextlib.suppress(OSError):
                closed += s.recv(1) == b""
        assert closed == len(sockets)
        assert http_call(http, "decode", [[0.0] * 64])[0]["path"]
    finally:
        for s in sockets:
            s.close()

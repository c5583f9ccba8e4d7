"""The request guard, the sketchpad's drawing store, the cache's keeper and the refusal policy, in-process."""

import asyncio
import json
import os
import time

import gradio as gr
import pydantic
import pytest
from gradio.exceptions import ComponentProcessingError, InvalidPathError

from ae.cache import Keeper
from ae.ui.errors import UNFORESEEN, guard_events, refusal_by_gradio
from ae.ui.guard import JSON_LIMIT, UPLOAD_LIMIT, Refused, RequestGuard, UploadCheck
from ae.ui.inputs import PendingDrawings

BOUNDARY = b"xyz"


def multipart(*files: tuple[str, bytes]) -> bytes:
    parts = [b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="files"; filename="%s"\r\n'
              b"Content-Type: application/octet-stream\r\n\r\n%s\r\n" % (name.encode(), data) for name, data in files]
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


class Recorder:
    """An ASGI app that reads the whole body (raising what its receive raises) and answers 200."""

    def __init__(self):
        self.body, self.raised, self.called = b"", None, False

    async def __call__(self, scope, receive, send):
        self.called = True
        try:
            while True:
                message = await receive()
                self.body += message.get("body", b"")
                if not message.get("more_body"):
                    break
        except Exception as e:
            self.raised = e
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"app's own answer"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call(guard, path: str, body: bytes, headers: dict, chunks: int = 1, disconnect_after: int | None = None,
         method: str = "POST", query: bytes = b""):
    """Send one request through guard; returns (status, headers, body) of what it answered (status None: nothing)."""
    pieces = [body[k * len(body) // chunks:(k + 1) * len(body) // chunks] for k in range(chunks)]
    messages = [{"type": "http.request", "body": p, "more_body": k < len(pieces) - 1} for k, p in enumerate(pieces)]
    if disconnect_after is not None:
        messages = messages[:disconnect_after] + [{"type": "http.disconnect"}]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": query,
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(guard(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) <= 1, "answered twice"
    if not starts:
        return None, {}, b""
    return starts[0]["status"], dict(starts[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_both_length_and_chunking_are_refused():
    app = Recorder()
    status, _, body = call(RequestGuard(app), "/gradio_api/call/decode", b"0" * 100,
                           {"content-length": "10", "transfer-encoding": "chunked"})
    assert status == 400 and b"not both" in body and not app.called


@pytest.mark.parametrize("declared", [None, "10"])
def test_a_body_is_counted_as_it_arrives_whatever_its_length_says(declared):
    app = Recorder()
    headers = {"content-type": "application/json"} | ({"content-length": declared} if declared else {})
    status, _, body = call(RequestGuard(app), "/gradio_api/call/decode", b"1" * (JSON_LIMIT + 1), headers, chunks=8)
    assert status == 413 and b"too large" in body and not app.called


def test_a_small_body_reaches_the_app_whole_and_a_cut_one_not_at_all():
    app = Recorder()
    body = json.dumps({"data": [[0.0] * 64]}).encode()
    assert call(RequestGuard(app), "/gradio_api/call/decode", body, {}, chunks=5)[0] == 200 and app.body == body
    app = Recorder()
    assert call(RequestGuard(app), "/gradio_api/call/decode", body, {}, chunks=5, disconnect_after=2)[0] is None
    assert not app.called


class Events:
    fns = {0: None, 1: None, 7: None}
    blocks = {3: None}


@pytest.mark.parametrize("index", [999, -1, "0", 1.5, True, [0]])
def test_fn_index_must_name_an_event(index):
    app = Recorder()
    body = json.dumps({"data": [], "fn_index": index, "session_hash": "x"}).encode()
    status, _, said = call(RequestGuard(app, blocks=Events()), "/gradio_api/queue/join", body,
                           {"content-type": "application/json"})
    assert status == 400 and b"fn_index must name" in said and not app.called


def test_an_escaped_fn_index_is_read_as_json_reads_it():
    app = Recorder()
    body = b'{"data": [], "fn\\u005findex": 99, "session_hash": "x"}'
    status, _, said = call(RequestGuard(app, blocks=Events()), "/gradio_api/queue/join", body, {})
    assert status == 400 and b"fn_index must name" in said and not app.called


@pytest.mark.parametrize(("where", "name"), [("body", "session_hash"), ("query", "session_hash"),
                                             ("query", "upload_id"), ("body", "upload_id")])
def test_ids_a_client_makes_are_short_tokens(where, name):
    app = Recorder()
    long = "x" * 60_000
    body = json.dumps({"data": [], name: long} if where == "body" else {"data": []}).encode()
    headers = {"content-type": "application/json"}
    path = "/gradio_api/queue/join"
    status, _, said = call(RequestGuard(app, blocks=Events()), path, body, headers,
                           query=f"{name}={long}".encode() if where == "query" else b"")
    assert status == 400 and b"must be 1-64 letters" in said and not app.called
    assert call(RequestGuard(Recorder(), blocks=Events()), path,
                json.dumps({"data": [], name: "k3ub9x2a1q"}).encode(), headers)[0] == 200


def test_a_component_the_page_lacks_is_a_400():
    app = Recorder()
    body = json.dumps({"data": {}, "component_id": 999, "session_hash": "s", "fn_name": "x"}).encode()
    status, _, said = call(RequestGuard(app, blocks=Events()), "/gradio_api/component_server", body, {})
    assert status == 400 and b"does not exist" in said and not app.called


def test_a_components_route_that_raises_before_answering_is_a_400():
    async def lookup(scope, receive, send):
        await receive()
        raise KeyError(12345)

    status, _, said = call(RequestGuard(lookup), "/gradio_api/component_server", b"--b\r\n", {})
    assert status == 400 and b"does not exist" in said


def test_an_existing_fn_index_passes():
    app = Recorder()
    body = json.dumps({"data": [], "fn_index": 7, "session_hash": "x"}).encode()
    assert call(RequestGuard(app, blocks=Events()), "/gradio_api/queue/join", body, {})[0] == 200


def test_every_answer_says_nosniff_and_files_are_sandboxed():
    status, headers, _ = call(RequestGuard(Recorder()), "/gradio_api/file=/tmp/x.png", b"", {}, method="GET")
    assert headers[b"x-content-type-options"] == b"nosniff" and b"sandbox" in headers[b"content-security-policy"]
    _, headers, _ = call(RequestGuard(Recorder()), "/config", b"", {}, method="GET")
    assert headers[b"x-content-type-options"] == b"nosniff" and b"content-security-policy" not in headers


UPLOAD = {"content-type": "multipart/form-data; boundary=xyz"}


def test_one_image_uploads():
    app, nudged = Recorder(), []
    body = multipart(("digit.png", b"\x89PNG" + b"x" * 5000))
    status, _, _ = call(RequestGuard(app, on_upload=lambda: nudged.append(1)), "/gradio_api/upload", body, UPLOAD,
                        chunks=7)
    assert status == 200 and app.body == body and nudged == [1]


@pytest.mark.parametrize(("files", "words"), [
    ((("a.png", b"1"), ("b.png", b"2")), b"one file per request"),
    ((("page.html", b"<script>alert(1)</script>"),), b"Only images"),
    ((("digit.svg", b"<svg/>"),), b"Only images"),
    ((("noname", b"1"),), b"Only images"),
    ((), b"as the field 'files'"),
])
def test_uploads_other_than_one_image_are_refused_inside_the_apps_parser(files, words):
    app = Recorder()
    body = multipart(*files)
    if not files:  # a plain form field beside nothing: Gradio's parser failed on it with a 500
        body = b'--xyz\r\nContent-Disposition: form-data; name="other"\r\n\r\nvalue\r\n' + body
    status, _, said = call(RequestGuard(app), "/gradio_api/upload", body, UPLOAD)
    assert status == 400 and words in said
    assert isinstance(app.raised, Refused)  # raised inside the app's reading, whose parser then deletes its files


def test_an_upload_over_its_limit_is_refused_as_it_streams():
    app = Recorder()
    body = multipart(("big.png", b"x" * UPLOAD_LIMIT))
    status, _, said = call(RequestGuard(app), "/gradio_api/upload", body, UPLOAD, chunks=40)
    assert status == 413 and isinstance(app.raised, Refused) and len(app.body) < UPLOAD_LIMIT


def test_a_cut_off_upload_ends_inside_the_apps_parser_without_an_answer():
    app, nudged = Recorder(), []
    status, _, _ = call(RequestGuard(app, on_upload=lambda: nudged.append(1)), "/gradio_api/upload",
                        multipart(("digit.png", b"x" * 100_000)), UPLOAD, chunks=10, disconnect_after=3)
    assert status is None and isinstance(app.raised, Refused) and not nudged


def test_a_slow_body_is_cut_off():
    async def receive():
        await asyncio.sleep(5)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/gradio_api/call/decode", "headers": []}
    asyncio.run(RequestGuard(Recorder(), body_seconds=0.2)(scope, receive, send))
    assert sent[0]["status"] == 408


def test_upload_check_reads_names_split_across_chunks():
    check = UploadCheck(UPLOAD["content-type"].encode())
    body = multipart(("digit.png", b"1"), ("two.png", b"2"))
    with pytest.raises(Refused, match="one file per request"):
        for i in range(len(body)):
            check.write(body[i:i + 1])


def test_pending_drawings_are_bounded_per_session_and_in_all():
    store = PendingDrawings(limit=6, per_session=2, limit_bytes=100)
    store.put("visitor", "mine", b"drawing")
    for i in range(50):
        store.put("attacker", f"a{i}", b"x")
    assert "mine" in store and len(store) == 3  # one session keeps its newest 2, whatever it sends
    for i in range(4):
        store.put(f"minted{i}", f"m{i}", b"x")  # sessions made up to push others out
    assert len(store) == 6 and "mine" in store and "a48" not in store  # the fullest session gave up its oldest
    store.put("minted4", "m4", b"x")  # now all hold one: the oldest session's goes
    assert len(store) == 6 and "mine" not in store and "m4" in store
    store.put("big", "b", b"x" * 96)  # the bytes bound
    assert len(store) <= 5 and "b" in store
    assert store.pop("b") == b"x" * 96 and "b" not in store and store.pop("b") is None


def test_pending_drawings_survive_gradios_copies():
    import copy

    store = PendingDrawings()
    assert copy.deepcopy({"s": store})["s"] is store


def make_files(root, names, age: float, size: int = 1000):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, (time.time() - age, time.time() - age))


def test_the_keeper_removes_orphans_expired_files_and_empty_folders(tmp_path):
    make_files(tmp_path, ["tmpabc123", "tmpfresh"], age=0)
    os.utime(tmp_path / "tmpabc123", (time.time() - 120, time.time() - 120))
    make_files(tmp_path, ["old/image.png"], age=7200)
    make_files(tmp_path, ["new/image.png", "sub/tmp-not-an-upload"], age=10)
    (tmp_path / "empty").mkdir()
    os.utime(tmp_path / "empty", (time.time() - 120, time.time() - 120))
    swept = Keeper(tmp_path, max_age=3600, orphan_seconds=60).sweep()
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert swept.orphans == 1 and swept.expired == 1
    assert left == ["new", "new/image.png", "old", "sub", "sub/tmp-not-an-upload", "tmpfresh"]  # "old" is fresh
    swept = Keeper(tmp_path, orphan_seconds=60).sweep(now=time.time() + 7200)  # an hour on: folders idle too
    assert not list(tmp_path.rglob("*"))


def test_the_keeper_keeps_the_budget_oldest_first_and_never_the_pinned(tmp_path):
    make_files(tmp_path, [f"f{i}/image.png" for i in range(10)], age=0)
    for i in range(10):
        os.utime(tmp_path / f"f{i}/image.png", (time.time() - 100 + i, time.time() - 100 + i))
    pinned = str(tmp_path / "f0/image.png")
    swept = Keeper(tmp_path, budget_bytes=4500, pinned=frozenset({pinned})).sweep()
    kept = sorted(p.parent.name for p in tmp_path.rglob("image.png"))
    assert kept == ["f0", "f7", "f8", "f9"] and swept.evicted == 6 and swept.bytes_left == 4000  # pinned count too
    swept = Keeper(tmp_path, budget_files=2, pinned=frozenset({pinned})).sweep()
    assert sorted(p.parent.name for p in tmp_path.rglob("image.png")) == ["f0", "f9"]


def test_the_keeper_leaves_a_file_that_changed_since_it_looked(tmp_path, monkeypatch):
    from ae import cache

    make_files(tmp_path, ["a/image.png"], age=7200)
    real_walk = cache._walk

    def walk_then_touch(root, folders, done):  # an endpoint returns this picture again during the sweep
        for entry in real_walk(root, folders, done):
            entry.stat(follow_symlinks=False)
            yield entry
        os.utime(tmp_path / "a/image.png")

    monkeypatch.setattr(cache, "_walk", walk_then_touch)
    swept = Keeper(tmp_path, max_age=3600).sweep()
    assert swept.expired == 0 and (tmp_path / "a/image.png").exists()


def test_the_page_pins_its_examples_through_a_linked_cache_folder(tmp_path):
    from ae.ui.page import named_in

    real = tmp_path / "real"
    (real / "abc").mkdir(parents=True)
    (real / "abc" / "digit.png").write_bytes(b"x")
    link = tmp_path / "link"
    link.symlink_to(real)
    config = json.dumps({"components": [{"value": {"path": f"{link}/abc/digit.png"}}]})
    assert named_in(config, link) == {str(real / "abc" / "digit.png")}


def test_the_keeper_sweeps_in_its_thread_when_nudged(tmp_path):
    keeper = Keeper(tmp_path, budget_files=1, interval=3600).start()
    try:
        make_files(tmp_path, ["a/x.png", "b/y.png", "c/z.png"], age=0)
        keeper.nudge()
        end = time.monotonic() + 10
        while len(list(tmp_path.rglob("*.png"))) > 1 and time.monotonic() < end:
            time.sleep(0.05)
        assert len(list(tmp_path.rglob("*.png"))) == 1
    finally:
        keeper.stop()


def test_gradios_refusals_become_sentences():
    assert refusal_by_gradio(ComponentProcessingError(
        'Could not preprocess input component at index 1 (a `number` component) of the event handler (named "show")'
    )) == "Input 2 of this call is not a valid number value."
    assert refusal_by_gradio(ValueError(
        "An event handler (decode) didn't receive enough input values (needed: 1, got: 0).\nCheck if ..."
    )) == "This call takes 1 input values; it sent 0."
    try:
        pydantic.TypeAdapter(int).validate_python("x")
    except pydantic.ValidationError as e:
        assert "not in the form" in refusal_by_gradio(e)
    assert "not uploaded" in refusal_by_gradio(InvalidPathError("Cannot move /etc/passwd to the gradio cache dir"))
    assert "other addresses" in refusal_by_gradio(ValueError("Hostname 127.0.0.1 failed validation"))
    assert refusal_by_gradio(KeyError("x")) is None


def test_every_event_goes_through_the_policy(caplog):
    with gr.Blocks() as demo:
        number = gr.Number()
        out = gr.Textbox()
        number.change(lambda x: 1 / 0, number, out, api_name="broken")
    assert guard_events(demo)

    async def run(block_fn, inputs):
        return await demo.process_api(block_fn, inputs, state=None)

    fn = next(iter(demo.fns.values()))
    with pytest.raises(gr.Error) as e:
        asyncio.run(run(fn, [3]))
    assert e.value.message == UNFORESEEN and not e.value.print_exception
    assert "broken failed" in caplog.text and "ZeroDivisionError" in caplog.text
    with pytest.raises(gr.Error) as e:
        asyncio.run(run(fn, []))
    assert e.value.message == "This call takes 1 input values; it sent 0."


CHINESE_PAGE = {"referer": "http://localhost:7860/?lang=zh-CN"}
CHINESE_BROWSER = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}
ENGLISH_PAGE_IN_A_CHINESE_BROWSER = {**CHINESE_BROWSER, "referer": "http://localhost:7860/?lang=en"}


@pytest.mark.parametrize(("path", "body", "headers", "english", "chinese"), [
    ("/gradio_api/call/decode", b"0" * 100, {"content-length": "10", "transfer-encoding": "chunked"},
     "not both", "不能两者都给"),
    ("/gradio_api/call/decode", b"0" * (JSON_LIMIT + 1), {}, f"at most {JSON_LIMIT // 1024} KB",
     f"最多接受 {JSON_LIMIT // 1024} KB"),
    ("/gradio_api/component_server", json.dumps({"data": {}, "component_id": 999, "fn_name": "x"}).encode(), {},
     "does not exist on this page", "这个页面上没有该组件或函数"),
    ("/gradio_api/queue/join", json.dumps({"data": [], "fn_index": 999}).encode(), {},
     "fn_index must name one of this page's events, got '999'.",
     "fn_index 必须指明这个页面的一个事件，收到的是 '999'。"),
    ("/gradio_api/upload", multipart(("a.png", b"1"), ("b.png", b"2")), UPLOAD, "Upload one file per request",
     "每个请求请只上传一个文件"),
])
def test_the_guards_answers_are_in_the_senders_language(path, body, headers, english, chinese):
    def answer(language_headers):
        status, _, said = call(RequestGuard(Recorder(), blocks=Events()), path, body, {**headers, **language_headers})
        assert status in (400, 413)
        return json.loads(said)["error"]

    for asked in (CHINESE_PAGE, CHINESE_BROWSER):
        assert chinese in answer(asked) and english not in answer(asked)
    for asked in ({}, ENGLISH_PAGE_IN_A_CHINESE_BROWSER):
        assert english in answer(asked) and chinese not in answer(asked)

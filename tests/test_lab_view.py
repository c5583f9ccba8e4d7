"""The "Train your own" view's handlers, in process, against real training workers on the fixtures' digits: the
settings a page (or anyone) sends, a run that streams and becomes the visitor's model, Stop, the checkpoint that
downloads and loads back, and the command that rebuilds it."""

import math
import os
import shutil
import subprocess
import sys
import time

import pytest
from gradio import utils as gradio_utils
from safetensors.torch import load_file

from ae import lab
from ae.checkpoint import load_checkpoint
from ae.inference import Engines
from ae.jobs import Jobs, LocalBackend, OnDemand
from ae.lab import PRESETS, LabSettings
from ae.preprocess import InputError
from ae.ui.explore import choices
from ae.ui.lab import FIELDS, Handlers, page_values, settings_from_page
from ae.visitors import YOURS, as_owner
from ae.zoo import load_zoo
from tests.conftest import FIXTURES

AVAILABLE = 1000  # training digits in the fixtures


def values(**changes) -> list:
    """The page's inputs for a small run on the fixtures, with some changed."""
    page = page_values(LabSettings(code_size=2, digits=1000, epochs=30, batch_size=64))
    for name, value in changes.items():
        page[FIELDS.index(name)] = value
    return page


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 10**9}, "epochs must be between 1 and 500"),
    ({"epochs": 2.5}, "whole number"),
    ({"lr_power": math.nan}, "power of ten must be a number"),
    ({"lr_power": math.inf}, "power of ten must be a number"),
    ({"lr_power": 400}, "power of ten must be a number from -6 to 1"),
    ({"digits": -1}, "digits must be between 100"),
    ({"digits": 2000}, "at most 1,000 here"),
    ({"code_size": "2; rm -rf /"}, "code_size must be a number"),
    ({"code_size": True}, "code_size must be a number"),
    ({"schedule": "exponential"}, "schedule must be one of"),
    ({"kind": ["autoencoder"]}, "kind must be one of"),
    ({"seed": -5}, "seed must be between"),
    ({"noise": 1e308}, "noise must be between"),
    ({"batch_size": None}, "batch_size must be a number"),
])
def test_hostile_settings_are_refused_with_a_sentence(changes, message):
    with pytest.raises(InputError, match=message):
        settings_from_page(values(**changes), AVAILABLE)


def test_a_wrong_number_of_settings_is_refused():
    for sent in ([], values()[:-1], [*values(), 1], "code_size=2", None):
        with pytest.raises(InputError, match="Training takes 12 settings"):
            settings_from_page(sent, AVAILABLE)


def test_presets_survive_the_page_unchanged():
    """The page shows the learning rate as a power of ten; each preset's rate comes back as it was."""
    for preset in PRESETS.values():
        assert settings_from_page(page_values(preset.settings), 60_000) == preset.settings


def test_a_preset_on_a_server_with_fewer_digits_takes_what_it_has(lab_view):
    h, _ = lab_view
    shown = h.on_preset("tutorial")
    assert shown[FIELDS.index("digits")] == AVAILABLE and shown[FIELDS.index("code_size")] == 64
    assert "tutorial" in shown[-1] and "About" in shown[-1]
    assert "⚠️" in h.on_preset("../../etc/passwd")[-1]


@pytest.fixture(scope="module")
def lab_view(weights):
    backend = LocalBackend(workers=1, data_dir=FIXTURES)
    backend.wait_ready()
    jobs = OnDemand(lambda: Jobs(backend, max_per_owner=1))
    zoo = load_zoo(weights)
    engines = Engines(zoo.catalogue)
    yield Handlers(engines, jobs, AVAILABLE, choices(engines)), engines
    jobs.close()


def poll_to_end(h, timeout=120.0):
    """Poll as the page's timer does until the timer is switched off; returns every poll's outputs."""
    polls, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = h.on_poll()
        polls.append(out)
        if out[4].active is False:
            return polls
        time.sleep(0.1)
    raise TimeoutError("the run did not end")


@pytest.mark.slow
def test_a_run_streams_and_ends_as_the_visitors_model(lab_view, tmp_path):
    h, engines = lab_view
    with as_owner("visitor-a"):
        started = h.on_train(*values())
        assert "queue" in started[0] or "Starting" in started[0], started[0]
        polls = poll_to_end(h)
        progress = h.runs.get("visitor-a")
        assert len(progress.epochs) >= 3, "at least three updates before the end"
        assert progress.test[-1] < progress.test[0] and progress.epochs[-1] == 30
        pictures = [out[2] for out in polls if isinstance(out[2], str)]
        assert len(set(pictures)) >= 2  # the reconstructions changed as it learned
        assert any(isinstance(out[3], str) and "<circle" in out[3] for out in polls)  # the 2-number scatter
        status, picker, download, command, revision = polls[-1][0], *polls[-1][5:]
        assert "Done" in status and "your model" in status and isinstance(revision, int)
        assert (picker["choices"][-1][1] == YOURS and "2 numbers" in picker["choices"][-1][0]
                and len(picker["choices"]) == len(engines.catalogue.names()) + 1)
        mine = engines.get(YOURS)
        assert mine.code_size == 2 and mine.model.test_mse == pytest.approx(progress.test[-1])
        again = h.on_poll()  # one more tick (or a call by hand): told, not adopted a second time
        assert "Done" in again[0] and again[4].active is False and all(o is not None for o in again[5:])
        assert engines.get(YOURS) is mine and "Nothing to stop" in h.on_stop()
    with as_owner("visitor-b"), pytest.raises(InputError, match="no model of your own"):
        engines.get(YOURS)

    ckpt = load_checkpoint(download)  # the download is a checkpoint the app serves (AE_CHECKPOINT=it)
    assert ckpt.train["lab"]["code_size"] == 2
    # the command rebuilds the same weights, bit for bit
    assert command.startswith("python -m ae.train ") and command.endswith("--data-dir DIR_WITH_MNIST")
    argv = command.replace("DIR_WITH_MNIST", str(FIXTURES)).split()[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "rebuilt.safetensors")
    subprocess.run([sys.executable, *argv], check=True, cwd=tmp_path, capture_output=True, timeout=300)
    ours, rebuilt = load_file(download), load_file(tmp_path / "rebuilt.safetensors")
    weights = [k for k in ours if k.startswith(("encoder.", "decoder."))]
    assert weights and all((ours[k] == rebuilt[k]).all() for k in weights)


@pytest.mark.slow
def test_stop_ends_the_run_and_keeps_the_model(lab_view):
    """How soon it ends is measured by benchmarks/lab.py, not timed here."""
    h, engines = lab_view
    with as_owner("visitor-c"):
        h.on_train(*values(epochs=500, code_size=16))
        deadline = time.monotonic() + 120
        while not h.runs.get("visitor-c").epochs and time.monotonic() < deadline:  # until it learns
            h.on_poll()
            time.sleep(0.05)
        assert "Stopping" in h.on_stop()
        last = poll_to_end(h)[-1]
        assert "You stopped it" in last[0]
        assert engines.get(YOURS).code_size == 16 and engines.get(YOURS).model.checkpoint.metrics.get("stopped")


@pytest.mark.slow
def test_one_run_per_visitor_and_a_new_one_replaces_it(lab_view):
    h, _ = lab_view
    with as_owner("visitor-d"):
        h.on_train(*values(epochs=500))
        first = h.runs.get("visitor-d")
        jobs = h.jobs.get()
        deadline = time.monotonic() + 120
        while jobs.status(first.job).state != "running" and time.monotonic() < deadline:
            time.sleep(0.02)
        second = h.on_train(*values(epochs=1))  # Train again: the running one is stopped for this one
        assert "⚠️" not in second[0], second[0]
        assert h.runs.get("visitor-d").job != first.job
        assert jobs.status(first.job).state in ("stopped", "done")
        assert "Done" in poll_to_end(h)[-1][0]


@pytest.mark.slow
def test_a_tick_that_overlaps_a_new_train_never_brings_the_old_run_back(lab_view):
    """The run lives on the server, not in the page's state: a tick that began before Train and ends after it
    reads whichever run is the visitor's when it looks, and the new run is the one watched and adopted."""
    h, engines = lab_view
    with as_owner("visitor-f"):
        h.on_train(*values(epochs=2, code_size=4))
        poll_to_end(h)
        assert engines.get(YOURS).code_size == 4
        h.on_train(*values(epochs=2, code_size=8))
        poll_to_end(h)
        assert engines.get(YOURS).code_size == 8 and h.runs.get("visitor-f").settings["code_size"] == 8


def test_a_visitor_without_a_run_gets_a_quiet_timer(lab_view):
    h, _ = lab_view
    with as_owner("visitor-never-trained"):
        out = h.on_poll()
        assert out[4].active is False and "Press **Train**" in out[0]
        assert h.on_stop() == "No run to stop."


def test_a_server_without_mnist_says_so_at_train(weights):
    from ae.ui.lab import NO_DATA

    h = Handlers(Engines(load_zoo(weights).catalogue), OnDemand(lambda: None), 0, [])
    with as_owner("visitor-g"):
        assert h.on_train(*values())[0] == f"⚠️ {NO_DATA}"
        assert h.on_estimate(*values(digits=60_000, epochs=5)).startswith("**About")


def uploaded_payload(path) -> dict:
    """A file as Gradio hands an upload to an event run with preprocess=False: its path in Gradio's cache."""
    folder = gradio_utils.get_upload_folder()
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, f"test-{os.getpid()}-{os.path.basename(path)}")
    shutil.copy(path, target)
    return {"path": target, "orig_name": os.path.basename(path), "meta": {"_type": "gradio.FileData"}}


def test_a_checkpoint_loads_back_as_your_model_and_anything_else_is_refused(lab_view, weights, tmp_path):
    h, engines = lab_view
    with as_owner("visitor-e"):
        status, picker, _ = h.on_load(uploaded_payload(weights / "ae-4.safetensors"))
        assert "Loaded" in status and picker["choices"][-1][1] == YOURS
        assert engines.get(YOURS).code_size == 4
        (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 100)
        for bad in (weights / "pca.safetensors", tmp_path / "junk.safetensors"):
            status, picker, _ = h.on_load(uploaded_payload(bad))
            assert status.startswith("⚠️") and ("not one model" in status or "not a checkpoint" in status), status
        assert h.on_load({"path": "/etc/passwd"})[0].startswith("⚠️")
        assert h.on_load(None)[0].startswith("⚠️")
        assert engines.get(YOURS).code_size == 4  # a refused file leaves the model as it was


def test_the_settings_a_kind_does_not_read_are_reset_and_greyed_out(lab_view):
    h, _ = lab_view
    hidden, activation, noise, beta = h.on_kind("conv")  # lab.FOR_KINDS's order
    assert hidden == {"__type__": "update", "interactive": False, "value": 256}
    assert noise["interactive"] and activation["value"] == "linear" and not beta["interactive"]
    assert h.on_kind("vae")[3]["interactive"] and not h.on_kind("vae")[2]["interactive"]  # beta yes, noise no
    with pytest.raises(InputError, match="hidden does not apply to the conv kind"):
        settings_from_page(values(kind="conv", hidden=512), AVAILABLE)
    assert settings_from_page(values(kind="vae", beta=4.0), AVAILABLE).beta == 4.0


def test_the_estimate_follows_the_settings(lab_view):
    h, _ = lab_view
    small, large = h.on_estimate(*values(epochs=1)), h.on_estimate(*values(epochs=100))
    assert small.startswith("**About") and large.startswith("**About") and small != large
    assert f"{lab.MAX_WORK:,}" in large
    assert h.on_estimate(*values(epochs=10**9)).startswith("⚠️")


def test_the_estimate_names_the_preset_the_page_holds(lab_view):
    """A preset answers with its name, and sets values whose own estimate follows: both must name it, whichever
    reaches the page last; once a value moves away from the preset, the name goes."""
    h, _ = lab_view
    for name in PRESETS:
        answer = h.on_preset(name)
        assert h.on_estimate(*answer[:-1]) == answer[-1] and answer[-1].startswith("**")
    moved = list(h.on_preset("over-compression")[:-1])
    moved[FIELDS.index("epochs")] += 1
    assert h.on_estimate(*moved).startswith("**About")


# Over HTTP, against the shared `python app.py` (tests/conftest.py: its lab trains on the fixtures).

@pytest.fixture
def http(server):
    import httpx

    with httpx.Client(base_url=server.url, timeout=120) as client:
        yield client


def train_over_http(http, session: str, **changes) -> str:
    """Start a run as the page does; returns the status line the page shows."""
    from ae.ui.app_server import http_call

    return http_call(http, "lab_train", values(**changes), session=session)[0]


def poll_over_http(http, session: str, timeout: float = 120.0) -> list:
    from ae.ui.app_server import http_call

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = http_call(http, "lab_poll", [], session=session)
        if not str(out[0]).startswith(("⏳", "🏃", "⚙️")):
            return out
        time.sleep(0.2)
    raise TimeoutError("the run did not end")


@pytest.mark.slow
@pytest.mark.parametrize("changes", [{"epochs": 10**9}, {"epochs": -3}, {"lr_power": math.nan},
                                     {"lr_power": -math.inf}, {"digits": -1}, {"digits": 10**12},
                                     {"code_size": 10**6}, {"hidden": 2**40}, {"batch_size": 0},
                                     {"kind": "gan"}, {"schedule": None}, {"seed": "0; rm -rf /"}])
def test_hostile_settings_are_refused_over_http(http, server, changes):
    from ae.ui.app_server import CallError

    try:
        answer = train_over_http(http, f"hostile{abs(hash(str(changes))) % 10**8}", **changes)
    except CallError as e:  # refused by the component (a slider's range, a choice), before the handler
        answer = e.message
    assert answer and ("must" in answer or "not a valid" in answer or "not in the list" in answer
                       or "greater than" in answer or "less than" in answer), answer
    assert "Traceback" not in server.output()


@pytest.mark.slow
def test_a_visitors_model_is_theirs_alone_over_http(http):
    from ae.ui.app_server import CallError, http_call

    train_over_http(http, "visitoraaaa1", epochs=3)
    done = poll_over_http(http, "visitoraaaa1")
    assert "Done" in done[0] and done[5]["choices"][-1][1] == YOURS
    picture = http_call(http, "decode", [[0.0, 0.0], YOURS], session="visitoraaaa1")[0]
    assert picture["path"].endswith(".png")
    for stranger in ("visitorbbbb2", None):  # another visitor, and a call with no session of its own
        with pytest.raises(CallError, match="no model of your own"):
            http_call(http, "decode", [[0.0, 0.0], YOURS], session=stranger)
    with pytest.raises(CallError, match="not in the list of choices"):
        http_call(http, "choose_model", [YOURS, None], session="visitorbbbb2")


@pytest.mark.slow
def test_the_queue_serves_visitors_in_order_over_http(http):
    sessions = [f"queue{i}visitor" for i in range(3)]
    lines = [train_over_http(http, s, epochs=50, code_size=16) for s in sessions]  # the first runs, the others queue
    ended = {}
    deadline = time.monotonic() + 300
    while len(ended) < len(sessions) and time.monotonic() < deadline:
        for s in sessions:
            if s not in ended:
                from ae.ui.app_server import http_call

                line = http_call(http, "lab_poll", [], session=s)[0]
                if "Done" in str(line):
                    ended[s] = time.monotonic()
        time.sleep(0.1)
    assert "number 2 in the queue" in lines[1] or "number 1" in lines[1], lines
    assert "number 2 in the queue" in lines[2] or "number 3 in the queue" in lines[2], lines
    assert sorted(ended, key=ended.get) == sessions


@pytest.mark.slow
def test_a_checkpoint_uploaded_over_http_becomes_your_model_and_a_forged_one_is_refused(http, weights, tmp_path):
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    from ae.ui.app_server import http_call

    def upload(path) -> dict:
        with open(path, "rb") as f:
            r = http.post("/gradio_api/upload", files={"files": (path.name, f, "application/octet-stream")})
        assert r.status_code == 200, r.text
        return {"path": r.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    status = http_call(http, "lab_load", [upload(weights / "ae-4.safetensors")], session="loaderaaaa1")[0]
    assert "Loaded" in status and "784 -> 256 -> 4" in status
    with safe_open(str(weights / "ae-4.safetensors"), framework="pt") as f:  # same tensors, a config of 10^9 units
        tensors, meta = {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    meta["config"] = json.dumps({**json.loads(meta["config"]), "hidden": 10**9})
    save_file(tensors, str(tmp_path / "forged.safetensors"), metadata=meta)
    status = http_call(http, "lab_load", [upload(tmp_path / "forged.safetensors")], session="loaderaaaa1")[0]
    assert status.startswith("⚠️") and "shape mismatch" in status, status
    chosen = http_call(http, "choose_model", [YOURS, None], session="loaderaaaa1")
    assert "4 numbers" in chosen[1] and "your-model averages" in chosen[7]  # its sliders, its figure


def children(pid: int) -> set[int]:
    """The processes pid started (Linux's /proc)."""
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found |= {int(c) for c in f.read().split()}
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("how", ["terminate", "kill"])
def test_the_training_worker_ends_with_the_server(how):
    """Stopped (SIGTERM) the server ends its worker on the way out; killed (SIGKILL), the worker sees it is
    orphaned and ends by itself. Either way no worker is left holding MNIST and torch."""
    from ae.ui.app_server import AppServer, wait_for

    server = AppServer(AE_DATA_DIR=str(FIXTURES)).start()
    try:
        wait_for(lambda: children(server.proc.pid), timeout=120)
        workers = children(server.proc.pid)
        getattr(server.proc, how)()
        server.proc.wait(timeout=60)
        wait_for(lambda: not any(alive(w) for w in workers), timeout=60)
    finally:
        server.stop()

"""First launch: no usable checkpoint in weights/ -> train one (once), save it, serve it."""

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from ae.checkpoint import DEFAULT_PATH, CheckpointError, load_checkpoint
from ae.startup import ensure_checkpoint
from ae.ui.app_server import ROOT, AppServer, wait_for
from ae.ui.page import TITLE
from tests.conftest import FIXTURES

# No network: torchvision's download goes through this closed local port and fails at once.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}


def test_trains_when_missing_and_loads_after(tmp_path, monkeypatch):
    monkeypatch.setenv("AE_DATA_DIR", str(FIXTURES))
    path = tmp_path / "weights" / "ae.safetensors"
    lines = []
    ckpt = ensure_checkpoint(path, log=lines.append, progress=False)
    assert path.is_file() and any("file not found" in line for line in lines)
    assert any(line.startswith("Training one") for line in lines)
    assert load_checkpoint(path).metrics == ckpt.metrics
    lines.clear()
    ensure_checkpoint(path, log=lines.append, progress=False)
    assert lines == []  # a good checkpoint is just loaded


def test_retrains_over_a_corrupt_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("AE_DATA_DIR", str(FIXTURES))
    path = tmp_path / "ae.safetensors"
    path.write_bytes(b"half a checkpoint")
    lines = []
    ensure_checkpoint(path, log=lines.append, progress=False)
    assert any("truncated or corrupt" in line for line in lines)
    load_checkpoint(path)


@pytest.mark.slow
def test_two_apps_started_together_on_an_empty_weights_dir_train_once_and_both_serve(tmp_path):
    """The first launch, twice at once: no weights folder yet; one app trains, saves and serves, the other waits
    for that checkpoint and serves it. (A checkpoint of another code size: tests/test_browser.py.)"""
    path = tmp_path / "weights" / "ae.safetensors"
    servers = [AppServer(AE_CHECKPOINT=str(path), AE_DATA_DIR=str(FIXTURES), OMP_NUM_THREADS="1") for _ in range(2)]
    errors = []

    def start(server):
        try:
            server.start()
        except Exception as e:  # reported below, with both servers' output
            errors.append(e)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outputs = [s.output() for s in servers]
        assert not errors, (errors, outputs)
        assert all(s.serving_title() == TITLE for s in servers)  # the app, on each port
    finally:
        outputs = [s.stop() for s in servers]
    assert sum("Training one with the first-launch settings" in out for out in outputs) == 1, outputs
    load_checkpoint(path)


@pytest.mark.slow
def test_app_without_checkpoint_data_or_network_exits_with_directions(tmp_path):
    env = {**os.environ, **OFFLINE, "AE_CHECKPOINT": str(tmp_path / "none.safetensors"),
           "AE_DATA_DIR": str(tmp_path / "no-mnist-here"), "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode != 0
    assert "no-mnist-here" in done.stderr and "AE_DATA_DIR=DIR python app.py" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_second_process_says_it_waits_for_the_one_training(tmp_path, monkeypatch):
    from filelock import FileLock

    monkeypatch.setenv("AE_DATA_DIR", str(FIXTURES))
    path = tmp_path / "ae.safetensors"
    lines = []
    with FileLock(str(path) + ".lock"):  # held by "another process" (another thread: FileLock is per-object)
        waiting = threading.Thread(target=lambda: ensure_checkpoint(path, log=lines.append, progress=False))
        waiting.start()
        wait_for(lambda: any("waiting for that one to finish" in line for line in lines), timeout=600)
        assert waiting.is_alive()  # still waiting: the lock is held
    waiting.join(600)
    assert any(line.startswith("Training one") for line in lines)  # the lock's holder left no checkpoint


def test_a_start_removes_what_a_killed_write_left_and_nothing_younger(tmp_path):
    path = tmp_path / "ae.safetensors"
    shutil.copy(DEFAULT_PATH, path)
    stale, fresh = tmp_path / ".ae.safetensors.k1ll3d.tmp", tmp_path / ".ae.safetensors.wr1t1ng.tmp"
    stale.write_bytes(b"half a checkpoint")
    fresh.write_bytes(b"another process's write in progress")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    lines = []
    ensure_checkpoint(path, log=lines.append, train=False)
    assert not stale.exists() and fresh.exists()
    assert lines == ["Removed .ae.safetensors.k1ll3d.tmp, left by a write that did not finish."]
    with pytest.raises(CheckpointError):
        ensure_checkpoint(tmp_path / "missing.safetensors", train=False)

"""First launch: no usable checkpoint in weights/ -> train one (once), save it, serve it."""

import os
import subprocess
import sys

from ae.checkpoint import load_checkpoint
from ae.startup import ensure_checkpoint
from tests.app_server import ROOT, AppServer
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


def test_two_processes_on_an_empty_weights_dir_train_once(tmp_path):
    path = tmp_path / "ae.safetensors"
    code = (f"from ae.startup import ensure_checkpoint; "
            f"ensure_checkpoint({str(path)!r}, progress=False)")
    env = {**os.environ, "AE_DATA_DIR": str(FIXTURES), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=1200)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("Training one" in out for out in outputs) == 1, outputs
    load_checkpoint(path)


def test_app_without_checkpoint_data_or_network_exits_with_directions(tmp_path):
    env = {**os.environ, **OFFLINE, "AE_CHECKPOINT": str(tmp_path / "none.safetensors"),
           "AE_DATA_DIR": str(tmp_path / "no-mnist-here"), "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode != 0
    assert "no-mnist-here" in done.stderr and "AE_DATA_DIR=DIR python app.py" in done.stderr
    assert "Traceback" not in done.stderr


def test_app_trains_on_first_launch_then_serves(tmp_path):
    path = tmp_path / "ae.safetensors"
    with AppServer(AE_CHECKPOINT=str(path), AE_DATA_DIR=str(FIXTURES)) as server:
        assert path.is_file()
    assert "Training one with the first-launch settings" in server.output()

import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ae import lab
from ae.artifacts import load
from ae.lab import LabSettings, check_settings
from ae.models import as_model
from ae.preprocess import InputError

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"code_size": 2, "digits": 300, "epochs": 4, "batch_size": 50, "seed": 3}


@pytest.fixture(scope="module")
def data(mnist_train, mnist_test):
    return mnist_train, mnist_test


@pytest.fixture(autouse=True)
def one_thread():
    """As in a job's worker process: one torch thread (two contend with the other work on a 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_defaults_and_every_preset_pass_the_checks():
    assert check_settings({}) == LabSettings()
    for name, preset in lab.PRESETS.items():
        assert check_settings(preset.settings.to_dict()) == preset.settings, name
        assert preset.meaning and "\n" not in preset.meaning
        assert 0 < lab.estimate_seconds(preset.settings) <= lab.WALL_CLOCK_CAP


@pytest.mark.parametrize("raw, words", [
    ({"epochs": 10**9}, "epochs must be between 1 and 500"),
    ({"lr": 10**400}, "lr must be between"),
    ({"digits": -(10**400)}, "digits must be between"),
    ({"noise": 1e308 * 10}, "noise must be a finite number"),
    ({"lr": math.nan}, "lr must be a finite number"),
    ({"lr": math.inf}, "lr must be a finite number"),
    ({"digits": -1}, "digits must be between 100 and 60000"),
    ({"digits": 60_001}, "digits must be between"),
    ({"code_size": True}, "code_size must be a number"),
    ({"code_size": "16"}, "code_size must be a number"),
    ({"code_size": 16.5}, "code_size must be a whole number"),
    ({"code_size": 65}, "code_size must be between 2 and 64"),
    ({"lr": 0.0}, "lr must be between"),
    ({"noise": -0.1}, "noise must be between 0 and 1"),
    ({"schedule": "cosine"}, "schedule must be one of constant, onecycle"),
    ({"kind": "gan"}, "kind must be one of autoencoder, vae, conv"),
    ({"beta": 10.5}, "beta must be between 0 and 10"),
    ({"kind": "vae", "beta": -0.1}, "beta must be between 0 and 10"),
    ({"beta": 2.0}, "beta does not apply to the autoencoder kind, only to vae; leave it at 1.0"),
    ({"kind": "conv", "hidden": 64}, "hidden does not apply to the conv kind, only to autoencoder and vae"),
    ({"kind": "vae", "noise": 0.2}, "noise does not apply to the vae kind"),
    ({"kind": "vae", "code_activation": "relu"}, "code_activation does not apply to the vae kind"),
    ({"code_activation": None}, "code_activation must be one of linear, relu"),
    ({"seed": -1}, "seed must be between"),
    ({"batch_size": [128]}, "batch_size must be a number"),
    ({"epochs_": 5}, "Unknown settings: epochs_"),
    ({"digits": 60_000, "epochs": 21}, "more than the 1,200,000 one run may take"),
])
def test_hostile_settings_are_refused_with_a_sentence(raw, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(")):
        check_settings(raw)


def test_not_a_mapping_is_refused():
    with pytest.raises(InputError, match="must be an object"):
        check_settings([("epochs", 5)])


def test_a_slider_float_is_taken_as_a_whole_number():
    assert check_settings({"epochs": 5.0, "lr": 1}).epochs == 5
    settings = check_settings({"code_size": np.int64(8), "lr": np.float32(0.5)})
    assert (settings.code_size, settings.lr) == (8, 0.5) and type(settings.code_size) is int
    with pytest.raises(InputError, match="must be a number"):
        check_settings({"epochs": np.bool_(True)})


def test_estimate_grows_with_the_work():
    small, big = LabSettings(digits=1000), LabSettings(digits=20_000)
    assert lab.estimate_seconds(small) < lab.estimate_seconds(big)
    assert lab.estimate_seconds(LabSettings(hidden=64)) < lab.estimate_seconds(LabSettings(hidden=1024))
    assert lab.estimate_seconds(small) < lab.estimate_seconds(LabSettings(kind="vae", digits=1000)) < \
        lab.estimate_seconds(LabSettings(kind="conv", digits=1000))


@pytest.mark.parametrize("kind", ["vae", "conv"])
def test_the_other_kinds_train_in_the_lab(data, kind):
    messages = []
    settings = check_settings({**SMALL, "kind": kind, **({"beta": 0.5} if kind == "vae" else {})})
    ckpt = _load(lab.run(settings, data, messages.append))
    progress = [m for m in messages if m["kind"] == "progress"]
    assert ckpt.kind == kind and ckpt.model.config.code_size == 2 and ckpt.train["lab"] == settings.to_dict()
    assert progress[-1]["test_mse"] < progress[0]["test_mse"] and progress[-1]["codes"].shape == (500, 2)
    assert progress[-1]["reconstructions"].shape == (8, 28, 28)
    if kind == "vae":
        assert ckpt.model.config.beta == 0.5 and "--beta" in lab.command_args(settings)
    assert as_model(ckpt).kind == kind


def test_a_run_streams_progress_and_ends_better_than_it_began(data):
    messages = []
    blob = lab.run(check_settings(SMALL), data, messages.append)
    kinds = [m["kind"] for m in messages]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("progress") >= 2
    start, progress, end = messages[0], [m for m in messages if m["kind"] == "progress"], messages[-1]
    assert start["inputs"].shape == (8, 28, 28) and start["inputs"].dtype.name == "uint8"
    assert list(start["input_labels"]) == list(range(8))
    first, last = progress[0], progress[-1]
    assert first["step"] == 1 and last["step"] == start["steps"] == 4 * 6
    assert last["test_mse"] < first["test_mse"]
    for m in progress:
        assert m["reconstructions"].shape == (8, 28, 28) and m["reconstructions"].dtype.name == "uint8"
        assert m["codes"].shape == (500, 2) and m["labels"].shape == (500,)  # the fixtures hold 500 test digits
    assert end["stopped"] is None and len(end["history"]["test_mse"]) == 4
    assert isinstance(blob, bytes)


def test_more_than_three_updates_when_the_run_lasts(data, monkeypatch):
    monkeypatch.setattr(lab, "EMIT_EVERY", 0.0)  # one message per step: the count no longer depends on speed
    messages = []
    lab.run(check_settings({**SMALL, "epochs": 1}), data, messages.append)
    progress = [m for m in messages if m["kind"] == "progress"]
    assert len(progress) >= 3 and progress[-1]["test_mse"] < progress[0]["test_mse"]
    assert "codes" in progress[0]


def test_stop_keeps_the_model_as_it_is(data):
    messages = []
    blob = lab.run(check_settings({**SMALL, "code_size": 8, "epochs": 50}), data, messages.append,
                   should_stop=lambda: len(messages) >= 2)
    end = messages[-1]
    assert end["stopped"] == "stopped" and end["steps_done"] == 1
    assert "codes" not in messages[1]  # no scatter for an 8-number code
    ckpt = _load(blob)
    assert ckpt.metrics["stopped"] is True and ckpt.metrics["stop_reason"] == "stopped"


def test_the_wall_clock_cap_stops_a_run(data, monkeypatch):
    monkeypatch.setattr(lab, "WALL_CLOCK_CAP", 0.0)
    messages = []
    lab.run(check_settings({**SMALL, "epochs": 50}), data, messages.append)
    assert messages[-1]["stopped"] == "the 0 s limit"


def test_more_digits_than_the_data_holds_is_refused(data):
    with pytest.raises(InputError, match="at most 1,000 here"):
        lab.run(check_settings({"digits": 2000}), data, lambda m: None)


def _load(blob: bytes):
    """A checkpoint of any kind from its bytes."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "lab.safetensors"
        path.write_bytes(blob)
        return load(path)


@pytest.mark.slow
@pytest.mark.parametrize("changes", [
    {"noise": 0.2, "code_activation": "relu", "schedule": "constant"},
    {"kind": "vae", "beta": 0.5, "hidden": 64},
    {"kind": "conv", "noise": 0.2, "epochs": 2},
], ids=["autoencoder", "vae", "conv"])
def test_the_checkpoint_loads_serves_and_its_command_rebuilds_the_same_weights(data, tmp_path, changes):
    settings = check_settings({**SMALL, **changes})
    blob = lab.run(settings, data, lambda m: None)  # on one thread, as the command says: the same sums
    (tmp_path / "lab.safetensors").write_bytes(blob)
    ckpt = load(tmp_path / "lab.safetensors")
    model = as_model(ckpt, "lab.safetensors")
    assert model.code_size == 2 and model.encode(data[1].images[:3].float() / 255).shape == (3, 2)
    assert ckpt.kind == settings.kind and ckpt.train["lab"] == settings.to_dict()
    assert ckpt.train.get("noise", 0.0) == settings.noise

    out = tmp_path / "cli.safetensors"
    args = lab.command_args(settings, out=str(out), data_dir=str(ROOT / "tests" / "fixtures"))
    assert args[:3] == ["python", "-m", "ae.train"] and lab.command_for(settings).startswith("python -m ae.train ")
    subprocess.run([sys.executable, *args[1:]], cwd=ROOT, check=True, capture_output=True, timeout=120)
    rebuilt = load(out)
    assert rebuilt.model.config == ckpt.model.config
    for (name, a), b in zip(ckpt.model.state_dict().items(), rebuilt.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name

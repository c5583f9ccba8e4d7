import json
import os

import pytest
import torch
from safetensors.torch import save_file

from ae.artifacts import KINDS, load
from ae.checkpoint import (
    FORMAT,
    WEIGHTS_DIR,
    Checkpoint,
    CheckpointError,
    _digest,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
    served_path,
)
from ae.latent import CodeStats, code_stats
from ae.model import AEConfig, Autoencoder


@pytest.fixture
def ckpt(mnist_train) -> Checkpoint:
    torch.manual_seed(0)
    model = Autoencoder(AEConfig(code_activation="none")).eval()
    stats = code_stats(model, mnist_train.images, mnist_train.labels)
    return Checkpoint(model, stats, train={"epochs": 3, "lr": 0.002}, metrics={"test_mse": 0.0123},
                      history={"train_loss": [0.05, 0.03, 0.02], "test_mse": [0.04, 0.02, 0.0123]})


@pytest.fixture
def saved(tmp_path, ckpt):
    return save_checkpoint(tmp_path / "ae.safetensors", ckpt)


def test_round_trip_keeps_weights_config_metadata_and_stats(saved, ckpt):
    loaded = load_checkpoint(saved)
    assert loaded.model.config == ckpt.model.config
    assert loaded.train == ckpt.train and loaded.metrics == ckpt.metrics and loaded.history == ckpt.history
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(loaded.model(x), ckpt.model(x))
    for name in CodeStats.__dataclass_fields__:
        assert torch.equal(getattr(loaded.stats, name), getattr(ckpt.stats, name))
    assert loaded.stats.class_mean.shape == (10, 64)
    assert not loaded.model.training


def test_code_stats_describe_the_codes(ckpt, mnist_train):
    s = ckpt.stats
    assert (s.min <= s.mean).all() and (s.mean <= s.max).all() and (s.std > 0).all()
    codes = ckpt.model.encode(mnist_train.images[mnist_train.labels == 3].float() / 255)
    assert torch.allclose(s.class_mean[3], codes.mean(0), atol=1e-5)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match=r"nope\.safetensors: file not found"):
        load_checkpoint(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="truncated or corrupt") as e:
        load_checkpoint(saved)
    assert str(saved) in str(e.value)


def test_garbage_and_pickles_are_refused(tmp_path, ckpt):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01 this is not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(garbage)
    pickled = tmp_path / "pickled.safetensors"
    torch.save(ckpt.model.state_dict(), pickled)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(pickled)


def test_flipped_byte_in_weights_is_caught(saved):
    data = bytearray(saved.read_bytes())
    data[-100] ^= 0xFF  # inside the last tensor's data; the header stays valid
    saved.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its recorded sha256"):
        load_checkpoint(saved)


def _write_raw(path, tensors, config=None, **meta):
    metadata = {"format": FORMAT, "kind": "autoencoder", "config": json.dumps(config or AEConfig().to_dict()),
                "train": "{}", "metrics": "{}", "history": "{}", "sha256": _digest(tensors)}
    metadata.update(meta)
    save_file(tensors, str(path), metadata=metadata)


def _tensors(ckpt):
    t = dict(ckpt.model.state_dict())
    t.update(ckpt.stats.to_tensors())
    return {k: v.contiguous() for k, v in t.items()}


def test_shape_mismatch_names_the_tensor(tmp_path, ckpt):
    tensors = _tensors(ckpt)
    tensors["encoder.2.weight"] = torch.zeros(32, 256)
    path = tmp_path / "shape.safetensors"
    _write_raw(path, tensors)
    with pytest.raises(CheckpointError, match=r"shape mismatch for encoder\.2\.weight: file has \(32, 256\)"):
        load_checkpoint(path)


def test_config_that_disagrees_with_the_weights(tmp_path, ckpt):
    path = tmp_path / "cfg.safetensors"
    _write_raw(path, _tensors(ckpt), config=AEConfig(code_size=32).to_dict())
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_checkpoint(path)


def test_a_config_naming_a_huge_network_is_refused_before_anything_is_allocated(tmp_path, ckpt):
    """A visitor may upload a checkpoint (the training lab loads one back): a 4 KB file whose config asks for a
    hidden layer of 10^9 units (3 TB of weights) must be refused by its shapes, not built first."""
    path = tmp_path / "huge.safetensors"
    _write_raw(path, _tensors(ckpt), config=AEConfig(hidden=10**9, code_size=64).to_dict())
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_checkpoint(path)


def test_missing_tensor_and_missing_stats(tmp_path, ckpt):
    tensors = _tensors(ckpt)
    del tensors["decoder.0.bias"], tensors["stats.std"]
    path = tmp_path / "missing.safetensors"
    _write_raw(path, tensors)
    with pytest.raises(CheckpointError, match=r"missing \['decoder.0.bias', 'stats.std'\]"):
        load_checkpoint(path)


def test_wrong_format_and_bad_metadata(tmp_path, ckpt):
    path = tmp_path / "meta.safetensors"
    _write_raw(path, _tensors(ckpt), format="something-else")
    with pytest.raises(CheckpointError, match="format is 'something-else'"):
        load_checkpoint(path)
    _write_raw(path, _tensors(ckpt), config={"code_size": 64, "colour": "red"})
    with pytest.raises(CheckpointError, match="bad metadata"):
        load_checkpoint(path)


@pytest.mark.parametrize(("config", "meta", "words"), [
    ({"hidden": -1}, {}, "hidden must be a positive integer"),
    ({"input_size": "784"}, {}, "input_size must be a positive integer"),
    ({"input_size": 780}, {}, "square image"),
    ({}, {"metrics": "[]"}, "metrics must be a JSON object"),
    ({}, {"train": "not json"}, "Expecting value"),
])
def test_metadata_that_cannot_describe_a_model(tmp_path, ckpt, config, meta, words):
    # The weights are intact (their digest matches), but the metadata would build a broken model or app.
    path = tmp_path / "meta.safetensors"
    _write_raw(path, _tensors(ckpt), config={**AEConfig().to_dict(), **config}, **meta)
    with pytest.raises(CheckpointError, match=f"meta.safetensors: bad metadata.*{words}"):
        load_checkpoint(path)


def test_failed_write_leaves_the_old_checkpoint_and_no_temp_file(saved, ckpt, monkeypatch):
    before = saved.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt  # a kill between writing and renaming

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(saved, ckpt)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


def test_kind_decides_the_loader(tmp_path, saved, ckpt):
    assert isinstance(load(saved), Checkpoint)
    other = tmp_path / "other.safetensors"
    _write_raw(other, _tensors(ckpt), kind="umap")
    with pytest.raises(CheckpointError, match="unknown kind 'umap'"):
        load(other)
    with pytest.raises(CheckpointError, match="holds a 'umap', not an autoencoder"):
        load_checkpoint(other)


def test_files_of_the_first_format_still_load(tmp_path, ckpt):
    path = tmp_path / "v1.safetensors"
    tensors = _tensors(ckpt)
    save_file(tensors, str(path), metadata={"format": "ae-mnist/1", "config": json.dumps(ckpt.model.config.to_dict()),
                                            "train": "{}", "metrics": "{}", "sha256": _digest(tensors)})
    loaded = load_checkpoint(path)
    assert loaded.history == {} and loaded.model.config == ckpt.model.config


def test_manifest(tmp_path):
    with pytest.raises(CheckpointError, match="not a usable manifest"):
        read_manifest(tmp_path)
    assert served_path(tmp_path) == tmp_path / "ae.safetensors"  # no manifest: the plain name
    (tmp_path / "manifest.json").write_text('{"serve": "ae-8.safetensors", "artifacts": {}}')
    assert served_path(tmp_path) == tmp_path / "ae-8.safetensors"
    (tmp_path / "manifest.json").write_text('{"serve": 3}')
    with pytest.raises(CheckpointError, match="needs"):
        read_manifest(tmp_path)


def test_the_shipped_manifest_names_the_shipped_checkpoint():
    manifest = read_manifest(WEIGHTS_DIR)
    assert manifest["serve"] in manifest["artifacts"] and (WEIGHTS_DIR / manifest["serve"]).is_file()
    for name, entry in manifest["artifacts"].items():
        assert entry["kind"] in KINDS, name


def test_the_shipped_manifest_builds_what_an_artifact_reads_before_it():
    """`python -m ae.build` builds in the manifest's order, so a file an entry reads (its model, the VAEs of a
    beta table, the judge, a meter part's model) must come earlier, or a build from nothing would fail."""
    names = list(read_manifest(WEIGHTS_DIR)["artifacts"])

    def files(value):
        if isinstance(value, str):
            return [value] if value in names else []
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        return [f for item in items for f in files(item)]

    for at, name in enumerate(names):
        entry = read_manifest(WEIGHTS_DIR)["artifacts"][name]
        for read in files({k: v for k, v in entry.items() if k != "kind"}):
            assert names.index(read) < at, f"{name} reads {read}, which the manifest builds after it"


def test_every_kind_is_declared_once_with_its_loader_builder_and_place_in_the_app():
    from ae.artifacts import builder
    from ae.zoo import Zoo

    assert set(KINDS) == {"autoencoder", "vae", "conv", "pca", "run", "codes", "gaussians", "classifier", "map",
                          "outliers", "betas", "judge"}
    for name, kind in KINDS.items():
        assert kind.type.kind == name  # the metadata's kind is the loaded type's
        assert callable(builder(name)) and builder(name).__name__.startswith("build_")
        assert kind.role == "models" or kind.role in Zoo.__dataclass_fields__, kind.role


def test_a_file_of_an_unknown_kind_is_refused_unread(tmp_path):
    from ae.checkpoint import save_artifact

    path = save_artifact(tmp_path / "x.safetensors", "gan", {"w": torch.zeros(2)}, {})
    with pytest.raises(CheckpointError,
                       match=r"unknown kind 'gan' \(this version loads \['autoencoder', 'betas', 'classifier'"):
        load(path)

"""The model interface (ae/models.py) and its kinds (ae/kinds/): every model encodes, decodes and reconstructs
the same way, the catalogue names them, and a name that is not there is refused with the list."""

import numpy as np
import pytest
import torch

from ae.checkpoint import Checkpoint
from ae.inference import Engines
from ae.latent import code_stats
from ae.model import AEConfig, Autoencoder
from ae.models import Catalogue, Model, as_model, list_kinds, models_from, register_model
from ae.preprocess import InputError
from ae.zoo import load_zoo


@pytest.fixture(scope="module")
def shipped():
    return load_zoo().catalogue


def test_the_shipped_catalogue_serves_every_autoencoder_and_pca(shipped):
    assert shipped.default == "ae-64"
    assert {"ae-2", "ae-4", "ae-8", "ae-16", "ae-32", "ae-64", "ae-denoise"} <= set(shipped.names())
    assert {f"pca-{k}" for k in (2, 4, 8, 16, 32, 64)} <= set(shipped.names())
    rows = {r["name"]: r for r in shipped.listed()}
    assert rows["ae-8"]["code_size"] == 8 and rows["ae-8"]["kind"] == "autoencoder"
    assert rows["pca-8"]["kind"] == "pca" and rows["ae-8"]["test_mse"] < rows["pca-8"]["test_mse"]  # the README's table
    assert [r["name"] for r in rows.values() if r["default"]] == ["ae-64"]


@pytest.mark.parametrize("name", ["ae-2", "ae-8", "ae-64", "ae-denoise", "pca-2", "pca-16", "vae-16", "conv-64"])
def test_every_model_keeps_the_interface(shipped, mnist_test, name):
    model = shipped.get(name)
    assert isinstance(model, Model) and model.name == name
    x = mnist_test.images[:5].float() / 255  # (5, 28, 28)
    codes = model.encode(x)
    assert codes.shape == (5, model.code_size) and codes.dtype == torch.float32
    pictures = model.decode(codes)
    assert pictures.shape == (5, 28, 28) and pictures.min() >= 0 and pictures.max() <= 1
    assert torch.equal(model.reconstruct(x), pictures)  # reconstruct is decode after encode
    assert torch.equal(model.encode(x.reshape(5, -1)), codes)  # flat pixels are the same input
    assert model.stats.std.shape == (model.code_size,) and name in shipped.get(name).name
    # On real test digits, each model's error is near the figure it stores for all 10,000 test digits.
    mse = float(((pictures - x) ** 2).mean())
    assert 0.3 * model.test_mse < mse < 3 * model.test_mse, (mse, model.test_mse)


def test_a_model_errs_less_with_a_bigger_code(shipped, mnist_test):
    x = mnist_test.images[:200].float() / 255

    def error(name: str) -> float:
        return float(((shipped.get(name).reconstruct(x) - x) ** 2).mean())

    assert error("ae-2") > error("ae-8") > error("ae-64") and error("pca-2") > error("pca-8") > error("pca-64")
    assert error("ae-8") < error("pca-8")  # the non-linear decoder wins at the same size


@pytest.mark.parametrize("name", ["nope", "ae-7", "../weights/ae.safetensors", "x" * 10_000, 8, None, ["ae-8"]])
def test_an_unknown_name_is_refused_with_the_known_ones(shipped, name):
    if name is None:  # no name: the default
        assert shipped.get(name).name == "ae-64"
        return
    with pytest.raises(InputError, match="Unknown model") as e:
        shipped.get(name)
    assert "ae-2, ae-4, ae-8" in str(e.value) and len(str(e.value)) < 400  # the names, not the 10,000 x's


def test_the_served_checkpoint_from_elsewhere_is_the_default_and_the_shipped_ones_stay(tmp_path):
    model = Autoencoder(AEConfig(code_size=8, hidden=16, code_activation="none")).eval()
    images = torch.zeros(3, 28, 28, dtype=torch.uint8)
    served = Checkpoint(model, code_stats(model, images, torch.zeros(3, dtype=torch.long)), path=tmp_path / "a.bin")
    catalogue = load_zoo(served=served).catalogue
    assert catalogue.get().network is model and catalogue.default == "a"  # its name taken: its file's name
    assert catalogue.get("ae-8").network is not model and catalogue.get("ae-8").source == "ae-8.safetensors"


@pytest.fixture
def registry(monkeypatch):
    """The registry of model kinds, restored after the test (a toy kind must not outlive it)."""
    from ae import models

    monkeypatch.setattr(models, "_KINDS", dict(models._KINDS))
    return models._KINDS


def test_a_new_kind_is_one_registered_function(registry):
    @register_model("negative")  # a toy kind, as a module in ae/kinds/ would register one
    def negatives(file, artifact, entry):
        return [_Negative(f"neg-{artifact.size}", artifact.size)]

    artifact = type("Artifact", (), {"kind": "negative", "size": 3})()
    assert "negative" in list_kinds() and as_model(artifact).name == "neg-3"
    catalogue = Catalogue.of(models_from("n.safetensors", artifact) * 2, "neg-3")  # twice: named apart
    assert catalogue.names() == ["neg-3", "n"]
    engine = Engines(catalogue).get("neg-3")
    assert engine.code_size == 3 and engine.decode(np.zeros(3)).shape == (28, 28)
    with pytest.raises(ValueError, match="registered already"):
        register_model("negative")(negatives)


class _Negative:
    """A toy model: the code is the first pixels; decoding draws them back."""

    kind, source, test_mse = "negative", "n.safetensors", None

    def __init__(self, name, size):
        from ae.latent import CodeStats

        self.name, self.code_size = name, size
        ones = torch.ones(size)
        self.stats = CodeStats(0 * ones, ones, 0.5 * ones, 0.2 * ones, torch.zeros(10, size))

    def encode(self, x):
        return x.reshape(len(x), -1)[:, : self.code_size]

    def decode(self, z):
        out = torch.zeros(len(z), 784)
        out[:, : self.code_size] = z
        return out.reshape(len(z), 28, 28)

    def reconstruct(self, x):
        return self.decode(self.encode(x))

    def describe(self):
        return "a toy"

    def decoder_layers(self):
        return []

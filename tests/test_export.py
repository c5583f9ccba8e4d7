"""The decoder exported for the page: its layer list, its size, and how close its pictures are."""

import json
from dataclasses import replace

import pytest
import torch
from safetensors import safe_open

from ae.checkpoint import DEFAULT_PATH, Checkpoint, load_checkpoint
from ae.export import decoder_layers, export_decoder, run_exported
from ae.latent import code_stats
from ae.model import AEConfig, Autoencoder
from ae.models import as_model
from ae.pca import fit_pca


def random_codes(ckpt, n=100, seed=0):
    """Codes spread over the sliders' ranges (the training range with a 25% margin each side)."""
    lo, hi = ckpt.stats.min, ckpt.stats.max
    lo, hi = lo - 0.25 * (hi - lo), hi + 0.25 * (hi - lo)
    return lo + (hi - lo) * torch.rand(n, len(lo), generator=torch.Generator().manual_seed(seed))


def test_the_exported_decoder_draws_within_one_level_of_the_model(tmp_path):
    ckpt = load_checkpoint(DEFAULT_PATH)
    path = export_decoder(as_model(ckpt), tmp_path / "decoder.safetensors")
    codes = random_codes(ckpt)
    with torch.inference_mode():
        model = ckpt.model.decode(codes).reshape(len(codes), -1)
    page = run_exported(path, codes)
    assert (page - model).abs().max() < 1 / 255
    assert path.stat().st_size < 450_000  # float16: half of float32's 872 KB


def test_the_layer_list_follows_the_model():
    model = Autoencoder(AEConfig(code_size=8, hidden=32, code_activation="none"))
    assert decoder_layers(model) == [
        {"weight": "decoder.0.weight", "bias": "decoder.0.bias", "activation": "relu"},
        {"weight": "decoder.2.weight", "bias": "decoder.2.bias", "activation": "sigmoid"},
    ]


def test_any_code_size_exports(tmp_path):
    model = Autoencoder(AEConfig(code_size=8, hidden=32)).eval()
    path = export_decoder(as_model(Checkpoint(model, code_stats(model, torch.zeros(3, 28, 28), torch.zeros(3)))),
                          tmp_path / "d.safetensors")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        assert f.get_tensor("decoder.0.weight").shape == (32, 8)
    assert meta["code_size"] == "8" and meta["side"] == "28" and len(json.loads(meta["layers"])) == 2
    codes = torch.randn(5, 8)
    with torch.inference_mode():
        assert torch.allclose(run_exported(path, codes), model.decode(codes).reshape(5, -1), atol=2e-3)


def test_a_layer_the_page_cannot_run_is_refused():
    model = Autoencoder(AEConfig(code_size=8, hidden=32))
    model.decoder[1] = torch.nn.Tanh()
    with pytest.raises(ValueError, match="cannot run a Tanh after decoder.0"):
        decoder_layers(model)


def test_pca_exports_as_one_linear_layer_that_the_page_clips(tmp_path, mnist_train):
    pca = replace(fit_pca(mnist_train.images[:300]), metrics={"test_mse": {"8": 0.04}})  # one model: 8 components
    model = as_model(pca)
    path = export_decoder(model, tmp_path / "pca.safetensors")
    with safe_open(str(path), framework="pt") as f:
        layers = json.loads(f.metadata()["layers"])
    assert layers == [{"weight": "components.weight", "bias": "components.bias", "activation": "none"}]
    codes = torch.randn(20, 8) * model.stats.std
    page = run_exported(path, codes).clamp(0, 1)  # the page's paint clips to [0, 1], as the model's decode does
    assert (page - model.decode(codes).reshape(20, -1)).abs().max() < 2 / 255

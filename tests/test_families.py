"""The model families beyond the plain autoencoder: the variational one (ae/vae.py) and the convolutional one
(ae/conv.py). Each saves and loads strictly, serves as a Model, trains through ae.train, and builds from the
manifest; the VAE's loss terms are checked against their definitions."""

import json

import pytest
import torch

from ae.artifacts import load
from ae.checkpoint import (
    CheckpointError,
    ConvCheckpoint,
    VAECheckpoint,
    load_checkpoint,
    read_manifest,
    save_artifact,
    save_checkpoint,
)
from ae.conv import ConvAutoencoder, ConvConfig
from ae.export import export_decoder, run_exported
from ae.models import Model, as_model
from ae.train import TrainConfig, evaluate, fit, main, parse_args
from ae.vae import VAE, VAEConfig, kl_divergence, negative_elbo, reconstruction_nll, vae_loss
from ae.zoo import load_zoo
from tests.conftest import FIXTURES

KINDS = ("vae", "conv")
SMALL = {"vae": {"code_size": 4, "hidden": 64}, "conv": {"code_size": 4, "channels": 4}}
TYPES = {"vae": (VAECheckpoint, VAE), "conv": (ConvCheckpoint, ConvAutoencoder)}


def _config(kind: str, **train) -> TrainConfig:
    return TrainConfig.from_dict({"kind": kind, "epochs": 4, "batch_size": 50, "limit": 300, "seed": 1,
                                  "schedule": "constant", "model": SMALL[kind], **train})


@pytest.fixture(scope="module")
def trained(mnist_train, mnist_test) -> dict:
    """A small trained checkpoint of each kind, from the fixture digits."""
    return {kind: fit(_config(kind), mnist_train, mnist_test, log=lambda _: None, progress=False) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_training_lowers_the_loss_and_the_test_error(trained, kind):
    ckpt = trained[kind]
    checkpoint_type, network_type = TYPES[kind]
    assert type(ckpt) is checkpoint_type and type(ckpt.model) is network_type and ckpt.kind == kind
    h = ckpt.history
    assert len(h["train_loss"]) == 4 and h["train_loss"][-1] < 0.8 * h["train_loss"][0]
    assert h["test_mse"][-1] < h["test_mse"][0]
    assert ckpt.train["kind"] == kind and ckpt.train["model"] == ckpt.model.config.to_dict()


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_through_the_file_keeps_weights_config_and_figures(trained, kind, tmp_path, mnist_test):
    ckpt = trained[kind]
    path = save_checkpoint(tmp_path / f"{kind}.safetensors", ckpt)
    loaded = load(path)
    assert type(loaded) is type(ckpt) and loaded.model.config == ckpt.model.config and not loaded.model.training
    assert (loaded.train, loaded.metrics, loaded.history) == (ckpt.train, ckpt.metrics, ckpt.history)
    for (name, a), b in zip(ckpt.model.state_dict().items(), loaded.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert loaded.metrics["test_mse"] == pytest.approx(evaluate(loaded.model, mnist_test.images), rel=1e-5)
    with pytest.raises(CheckpointError, match=f"holds a '{kind}', not an autoencoder"):
        load_checkpoint(path)  # the plain autoencoders' loader takes plain autoencoders only


def _raw(ckpt, **changes) -> dict[str, torch.Tensor]:
    tensors = {k: v.contiguous() for k, v in ckpt.model.state_dict().items()} | ckpt.stats.to_tensors()
    return tensors | changes


@pytest.mark.parametrize(("kind", "tensor"), [("vae", "logvar.weight"), ("conv", "encoder.2.weight")])
def test_a_wrong_shape_is_refused_by_name(trained, kind, tensor, tmp_path):
    ckpt = trained[kind]
    meta = {"config": ckpt.model.config.to_dict(), "train": {}, "metrics": {}, "history": {}}
    wrong = torch.zeros(ckpt.model.state_dict()[tensor].shape[0] + 1, *ckpt.model.state_dict()[tensor].shape[1:])
    path = save_artifact(tmp_path / "wrong.safetensors", kind, _raw(ckpt, **{tensor: wrong}), meta)
    with pytest.raises(CheckpointError, match=rf"shape mismatch for {tensor}: file has \({wrong.shape[0]},"):
        load(path)
    bigger = {**meta, "config": {**meta["config"], "code_size": 5}}  # a config the weights do not fit
    path = save_artifact(tmp_path / "config.safetensors", kind, _raw(ckpt), bigger)
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load(path)
    tensors = _raw(ckpt)
    del tensors["decoder.0.bias"]
    path = save_artifact(tmp_path / "missing.safetensors", kind, tensors, meta)
    with pytest.raises(CheckpointError, match=r"missing \['decoder.0.bias'\]"):
        load(path)


@pytest.mark.parametrize(("kind", "config", "words"), [
    ("vae", {"beta": -1}, "beta must be a number of at least 0"),
    ("vae", {"beta": "1"}, "beta must be a number"),
    ("vae", {"code_activation": "relu"}, "unexpected keyword"),
    ("conv", {"input_size": 36}, "its side a multiple of 4"),
    ("conv", {"channels": 0}, "channels must be a positive integer"),
])
def test_metadata_that_cannot_describe_the_network_is_refused(trained, kind, config, words, tmp_path):
    ckpt = trained[kind]
    meta = {"config": {**ckpt.model.config.to_dict(), **config}, "train": {}, "metrics": {}, "history": {}}
    path = save_artifact(tmp_path / "meta.safetensors", kind, _raw(ckpt), meta)
    with pytest.raises(CheckpointError, match=f"bad metadata.*{words}"):
        load(path)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_serves_as_a_model(trained, kind, mnist_test):
    model = as_model(trained[kind], f"{kind}-4.safetensors")
    assert isinstance(model, Model) and model.kind == kind and model.name == f"{kind}-4" and model.code_size == 4
    x = mnist_test.images[:6].float() / 255  # (6, 28, 28)
    codes = model.encode(x)
    assert codes.shape == (6, 4) and codes.dtype == torch.float32
    assert torch.equal(model.encode(x.reshape(6, -1)), codes)  # flat pixels are the same input
    pictures = model.decode(codes)
    assert pictures.shape == (6, 28, 28) and pictures.min() >= 0 and pictures.max() <= 1
    assert torch.equal(model.reconstruct(x), pictures)
    assert model.stats.std.shape == (4,) and model.stats.class_mean.shape == (10, 4)
    assert model.test_mse == trained[kind].metrics["test_mse"]
    assert {"vae": "variational autoencoder", "conv": "convolutional autoencoder"}[kind] in model.describe()


def test_the_vae_decoder_runs_in_the_page_and_the_conv_one_on_the_server(trained, tmp_path, mnist_test):
    from ae.ui.serve import decoder_url

    vae = as_model(trained["vae"], "vae-4.safetensors")
    codes = vae.encode(mnist_test.images[:5].float() / 255)
    path = export_decoder(vae, tmp_path / "vae.safetensors")
    assert (run_exported(path, codes).reshape(5, 28, 28) - vae.decode(codes)).abs().max() < 1 / 255
    conv = as_model(trained["conv"], "conv-4.safetensors")
    assert conv.decoder_layers() == [] and decoder_url(conv) == ""  # "": the page asks the server to decode
    with pytest.raises(ValueError, match="no dense layers"):
        export_decoder(conv, tmp_path / "conv.safetensors")


@pytest.mark.parametrize(("code_size", "parameters"), [(16, 68_721), (64, 219_297)])
def test_the_conv_layers_halve_the_side_twice_with_fewer_weights_than_the_dense_autoencoder(code_size, parameters):
    from ae.model import AEConfig, Autoencoder

    conv = ConvAutoencoder(ConvConfig(code_size=code_size, channels=16))
    x = torch.rand(3, 1, 28, 28)
    shapes = []
    for layer in conv.encoder:
        x = layer(x)
        shapes.append(tuple(x.shape))
    assert shapes == [(3, 16, 14, 14), (3, 16, 14, 14), (3, 32, 7, 7), (3, 32, 7, 7), (3, 32 * 7 * 7),
                      (3, code_size)]
    assert conv.decode(x).shape == (3, 1, 28, 28)
    count = sum(p.numel() for p in conv.parameters())
    dense = sum(p.numel() for p in Autoencoder(AEConfig(code_size=code_size)).parameters())
    assert count == parameters and count < dense  # the figures docs/benchmarks.md gives


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    gen = torch.Generator().manual_seed(0)
    mean, logvar = torch.randn(50, 8, generator=gen), torch.randn(50, 8, generator=gen)
    kl = kl_divergence(mean, logvar)
    assert kl.shape == (50,) and (kl > 0).all()
    assert torch.equal(kl_divergence(torch.zeros(3, 8), torch.zeros(3, 8)), torch.zeros(3))
    # One dimension by the closed form's pieces: log(1/sigma) + (sigma^2 + mu^2) / 2 - 1/2.
    mu, sigma = 0.7, 1.5
    expected = -torch.log(torch.tensor(sigma)) + (sigma**2 + mu**2) / 2 - 0.5
    assert kl_divergence(torch.tensor([[mu]]), torch.tensor([[2 * torch.log(torch.tensor(sigma))]])) == \
        pytest.approx(float(expected), rel=1e-6)


def test_the_negative_elbo_is_per_digit_reconstruction_plus_kl(trained, mnist_test):
    model = trained["vae"].model
    x = mnist_test.images[:20].float() / 255
    with torch.no_grad():
        score = negative_elbo(model, x)
        assert score.shape == (20,)
        flat = x.reshape(20, -1)
        mean, logvar = model.posterior(flat)
        assert torch.allclose(score, reconstruction_nll(model, flat, mean) + kl_divergence(mean, logvar))
        assert torch.allclose(negative_elbo(model, x[7:8]), score[7:8])  # a digit's score is its own
        # Drawn codes: reproducible with a generator, and near the mean code's score.
        drawn = negative_elbo(model, x, samples=8, generator=torch.Generator().manual_seed(3))
        again = negative_elbo(model, x, samples=8, generator=torch.Generator().manual_seed(3))
        assert torch.equal(drawn, again) and ((drawn - score).abs() < 0.5 * score).all()
        # Noise is less like a digit than a digit is.
        noise = torch.rand(20, 28, 28, generator=torch.Generator().manual_seed(4))
        assert negative_elbo(model, noise).min() > score.max()
    # The loss the trainer minimises is the same two terms, beta-weighted, averaged over the batch.
    beta2 = VAE(VAEConfig(code_size=4, hidden=64, beta=2.0))
    beta2.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.manual_seed(5)
        loss1 = vae_loss(model, flat)
        torch.manual_seed(5)
        loss2 = vae_loss(beta2, flat)
    assert float(loss2 - loss1) == pytest.approx(float(kl_divergence(mean, logvar).mean()), rel=1e-4)


def test_vae_codes_drawn_from_the_prior_decode_to_pictures(trained):
    model = as_model(trained["vae"], "vae-4.safetensors")
    codes = model.sample_codes(16, torch.Generator().manual_seed(0))
    assert codes.shape == (16, 4) and torch.equal(codes, model.sample_codes(16, torch.Generator().manual_seed(0)))
    assert abs(float(codes.mean())) < 0.6 and 0.5 < float(codes.std()) < 1.5
    pictures = model.decode(codes)
    assert pictures.shape == (16, 28, 28) and 0 <= pictures.min() and pictures.max() <= 1
    assert model.negative_elbo(pictures.clamp(0, 1)).shape == (16,)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_weights(mnist_train, mnist_test, kind):
    cfg = _config(kind, epochs=1)
    a, b = (fit(cfg, mnist_train, mnist_test, log=lambda _: None, progress=False) for _ in range(2))
    for (name, wa), wb in zip(a.model.state_dict().items(), b.model.state_dict().values(), strict=True):
        assert torch.equal(wa, wb), name  # the VAE's drawn codes come from the seeded generator too


@pytest.mark.parametrize("kind", ["autoencoder", *KINDS])
def test_the_recipe_round_trips_through_a_dict_with_its_kind(kind):
    cfg = TrainConfig.from_dict({"kind": kind, "epochs": 3})
    assert cfg.kind == kind and cfg.to_dict()["kind"] == kind and TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="kind must be one of"):
        TrainConfig.from_dict({"kind": "gan"})


def test_the_command_line_trains_each_kind(tmp_path, capsys):
    for kind, flags in (("vae", ["--beta", "0.5", "--hidden", "32"]), ("conv", ["--channels", "4"])):
        out = tmp_path / f"{kind}.safetensors"
        main(["--kind", kind, "--code-size", "3", *flags, "--epochs", "1", "--limit", "200", "--batch-size", "50",
              "--data-dir", str(FIXTURES), "--out", str(out), "--no-progress", "--threads", "1"])
        ckpt = load(out)
        assert ckpt.kind == kind and ckpt.model.config.code_size == 3 and ckpt.train["limit"] == 200
    assert load(tmp_path / "vae.safetensors").model.config == VAEConfig(code_size=3, hidden=32, beta=0.5)
    assert load(tmp_path / "conv.safetensors").model.config == ConvConfig(code_size=3, channels=4)
    assert "Test MSE:" in capsys.readouterr().out


@pytest.mark.parametrize(("flags", "words"), [
    (["--kind", "conv", "--beta", "2"], "--beta does not apply to --kind conv"),
    (["--kind", "vae", "--channels", "8"], "--channels does not apply to --kind vae"),
    (["--kind", "vae", "--code-activation", "relu"], "--code-activation does not apply"),
    (["--beta", "1"], "--beta does not apply to --kind autoencoder"),
    (["--kind", "vae", "--preset", "tutorial"], "--preset names a plain autoencoder's recipe"),
    (["--kind", "vae", "--noise", "0.3"], "a vae trains on its own loss only"),
    (["--kind", "vae", "--beta", "-1"], "at least 0"),
    (["--kind", "vae", "--beta", "nan"], "at least 0"),
])
def test_flags_that_do_not_fit_the_kind_are_usage_errors(flags, words, capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(flags)
    assert e.value.code == 2 and words in capsys.readouterr().err


def test_the_builder_makes_each_kind_from_the_manifest(tmp_path, capsys):
    from ae.build import main as build

    recipe = {"epochs": 2, "limit": 200, "batch_size": 50}
    (tmp_path / "manifest.json").write_text(json.dumps({"serve": "vae-2.safetensors", "artifacts": {
        "vae-2.safetensors": {"kind": "vae", "train": {**recipe, "model": {"code_size": 2, "hidden": 32}}},
        "conv-8.safetensors": {"kind": "conv", "train": {**recipe, "model": {"code_size": 8, "channels": 4}}},
        "vae-noisy.safetensors": {"kind": "vae", "objective": "denoise", "train": recipe},
    }}))
    build(["--data-dir", str(FIXTURES), "--weights-dir", str(tmp_path), "--threads", "1",
           "--only", "vae-2.safetensors", "conv-8.safetensors"])
    zoo = load_zoo(tmp_path)
    assert zoo.catalogue.names() == ["conv-8", "vae-2"]  # the kinds in the catalogue's order
    assert zoo.missing == [f"checkpoint {tmp_path / 'vae-noisy.safetensors'}: file not found"]  # not built
    vae = zoo.catalogue.get("vae-2")
    assert vae.checkpoint.metrics["test_negative_elbo"] > vae.checkpoint.metrics["test_kl"] > 0
    assert zoo.by_size == {}  # the views that compare sizes take plain autoencoders only
    with pytest.raises(SystemExit, match="objective must be one of \\['reconstruct'\\]"):
        build(["--data-dir", str(FIXTURES), "--weights-dir", str(tmp_path), "--only", "vae-noisy.safetensors"])


SHIPPED = {"vae-2": ("vae", 2), "vae-16": ("vae", 16), "conv-16": ("conv", 16), "conv-64": ("conv", 64)}


def test_the_shipped_families_load_and_keep_their_figures(mnist_test):
    manifest = read_manifest()
    assert {f"{name}.safetensors" for name in SHIPPED} <= set(manifest["artifacts"])
    zoo = load_zoo()
    assert not [m for m in zoo.missing if any(name in m for name in SHIPPED)]
    x = mnist_test.images[:200].float() / 255
    for name, (kind, size) in SHIPPED.items():
        model = zoo.catalogue.get(name)
        assert (model.kind, model.code_size, model.source) == (kind, size, f"{name}.safetensors")
        mse = float(((model.reconstruct(x) - x) ** 2).mean())
        assert 0.5 * model.test_mse < mse < 2 * model.test_mse, (name, mse, model.test_mse)
    assert zoo.catalogue.get("vae-16").checkpoint.model.config.beta == 1
    # More numbers in the code, less error, in each family.
    assert zoo.catalogue.get("vae-2").test_mse > zoo.catalogue.get("vae-16").test_mse
    assert zoo.catalogue.get("conv-16").test_mse > zoo.catalogue.get("conv-64").test_mse

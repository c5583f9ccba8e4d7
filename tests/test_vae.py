"""The VAE's maths against references: the KL term against torch.distributions, the importance-sampled
log-likelihood against the ELBO and against an exact value; seeded sampling; the loss falling; the judge's
sample-quality figures; and the beta table's file, built from a manifest and refused when malformed."""

import json
import math

import pytest
import torch
from torch import nn
from torch.distributions import Normal
from torch.distributions import kl_divergence as torch_kl

from ae.artifacts import load
from ae.beta import COLUMNS, FILE, BetaTable, beta_table, load_beta_table, save_beta_table
from ae.checkpoint import CheckpointError, save_artifact
from ae.judge import prior_pictures, sample_quality
from ae.kinds.vae import VAEModel
from ae.models import as_model
from ae.train import TrainConfig, fit
from ae.vae import VAE, VAEConfig, kl_divergence, log_likelihood, negative_elbo, reconstruction_nll, vae_loss
from ae.zoo import load_zoo
from tests.conftest import FIXTURES

SMALL = {"code_size": 4, "hidden": 64}


def _fit(mnist_train, mnist_test, **model):
    cfg = TrainConfig.from_dict({"kind": "vae", "epochs": 4, "batch_size": 50, "limit": 300, "seed": 1,
                                 "schedule": "constant", "model": model})
    return fit(cfg, mnist_train, mnist_test, log=lambda _: None, progress=False)


@pytest.fixture(scope="module")
def trained(mnist_train, mnist_test):
    """A small VAE trained a few epochs on the fixture digits (a trained one: its posteriors are not the prior)."""
    return _fit(mnist_train, mnist_test, **SMALL)


@pytest.fixture(scope="module")
def vae(trained) -> VAE:
    return trained.model


@pytest.fixture
def digits(mnist_test) -> torch.Tensor:
    return mnist_test.images[:64].float().reshape(64, -1) / 255  # (64, 784)


def test_the_kl_term_is_torch_distributions_kl_summed_over_dimensions():
    gen = torch.Generator().manual_seed(0)
    mean, logvar = 2 * torch.randn(40, 6, generator=gen), 3 * torch.randn(40, 6, generator=gen)
    q, prior = Normal(mean, (0.5 * logvar).exp()), Normal(torch.zeros(6), torch.ones(6))
    assert torch.allclose(kl_divergence(mean, logvar), torch_kl(q, prior).sum(1), rtol=1e-5, atol=1e-5)


def test_the_kl_term_is_the_mean_log_ratio_of_drawn_codes():
    gen = torch.Generator().manual_seed(1)
    mean, logvar = torch.randn(3, 5, generator=gen), torch.randn(3, 5, generator=gen)
    q = Normal(mean, (0.5 * logvar).exp())
    torch.manual_seed(2)
    z = q.sample((200_000,))  # (N, 3, 5), drawn with torch's global generator
    monte_carlo = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(kl_divergence(mean, logvar), monte_carlo, rtol=0.02, atol=0.02)


def test_a_seed_repeats_its_draws_and_another_seed_does_not(trained, vae):
    model = as_model(trained, "vae-4.safetensors")
    assert isinstance(model, VAEModel) and model.name == "vae-4"
    draws = [model.sample_codes(8, torch.Generator().manual_seed(s)) for s in (5, 5, 6)]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])
    assert torch.equal(model.decode(draws[0]), model.decode(draws[1]))
    assert not torch.equal(model.decode(draws[0]), model.decode(draws[2]))
    assert torch.equal(prior_pictures(vae, 8, seed=5), prior_pictures(vae, 8, seed=5))
    assert torch.equal(prior_pictures(vae, 8, seed=5), model.decode(draws[0]).reshape(8, -1))  # the same codes
    assert not torch.equal(prior_pictures(vae, 8, seed=5), prior_pictures(vae, 8, seed=6))


def test_the_loss_falls_in_a_few_steps(digits):
    torch.manual_seed(0)
    model = VAE(VAEConfig(**SMALL))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = vae_loss(model, digits)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5, losses


def test_importance_sampling_lies_above_the_elbo_on_average(vae, digits):
    with torch.no_grad():
        elbo = -negative_elbo(vae, digits, samples=64, generator=torch.Generator().manual_seed(0))
        ll = log_likelihood(vae, digits, samples=64, generator=torch.Generator().manual_seed(1), chunk=16)
    assert ll.shape == (64,) and torch.isfinite(ll).all() and (ll < 0).all()
    assert ll.mean() > elbo.mean() + 0.1  # the gap (the posterior's mismatch) is positive and visible
    # More draws, a tighter bound: K=1 is one draw of the ELBO, so its mean over many draws is the ELBO.
    with torch.no_grad():
        ones = log_likelihood(vae, digits.repeat(100, 1), samples=1, generator=torch.Generator().manual_seed(2))
    assert float(ones.reshape(100, 64).mean(0).mean()) == pytest.approx(float(elbo.mean()), abs=0.5)
    assert ll.mean() > ones.mean() + 0.1


def test_importance_sampling_is_exact_when_the_proposal_is_the_posterior(vae, digits):
    """A decoder that ignores its code: p(x | z) = p(x) for every z, the posterior is the prior, and an encoder
    that proposes the prior makes every importance weight p(x): the estimate is exact for any K."""
    blind = VAE(vae.config)
    blind.load_state_dict(vae.state_dict())
    with torch.no_grad():
        for layer in (blind.mean, blind.logvar):
            layer.weight.zero_(), layer.bias.zero_()
        blind.decoder[0].weight.zero_()
        exact = -reconstruction_nll(blind, digits, torch.zeros(64, 4))
        for k in (1, 7):
            ll = log_likelihood(blind, digits, samples=k, generator=torch.Generator().manual_seed(k), chunk=3)
            assert torch.allclose(ll, exact, atol=1e-3)
        assert torch.allclose(-negative_elbo(blind, digits), exact, atol=1e-3)  # the KL is 0 too


def test_importance_sampling_converges_to_the_integral_over_a_one_number_code(mnist_test):
    """With a 1-number code, log p(x) = log of the integral of p(x | z) N(z; 0, 1) dz, done on a fine grid. The
    decoder's weights are shrunk so that the posterior is broad and the grid and the draws both cover it."""
    torch.manual_seed(3)
    model = VAE(VAEConfig(code_size=1, hidden=16))
    x = mnist_test.images[:4].float().reshape(4, -1) / 255
    with torch.no_grad():
        model.decoder[0].weight.mul_(0.1)
        for layer in (model.mean, model.logvar):  # every digit's proposal: N(0.3, exp(-0.5))
            layer.weight.zero_(), layer.bias.zero_()
        model.mean.bias.fill_(0.3), model.logvar.bias.fill_(-0.5)
        grid = torch.linspace(-10, 10, 2001)
        log_px_z = torch.stack([-reconstruction_nll(model, x, z.expand(4, 1)) for z in grid.unsqueeze(1)])  # (G, 4)
        log_prior = Normal(0.0, 1.0).log_prob(grid).unsqueeze(1)
        exact = torch.logsumexp(log_px_z + log_prior, 0) + math.log(float(grid[1] - grid[0]))
        ll = log_likelihood(model, x, samples=2000, generator=torch.Generator().manual_seed(0), chunk=500)
        elbo = -negative_elbo(model, x, samples=2000, generator=torch.Generator().manual_seed(0))
    assert (exact - elbo > 0.2).all()  # the proposal is not the posterior: the ELBO falls visibly short
    assert ((ll - exact).abs() < 0.15).all(), (ll, exact)  # and the importance-sampled estimate does not


def test_a_log_likelihood_needs_a_draw(vae, digits):
    with pytest.raises(ValueError, match="at least 1"):
        log_likelihood(vae, digits, samples=0)


class _Fixed(nn.Module):
    """A judge that gives every picture the same probabilities, whatever it shows."""

    def __init__(self, probabilities):
        super().__init__()
        self.logits = torch.tensor(probabilities).log()

    def forward(self, x):
        return self.logits.expand(len(x), 10)


def test_sample_quality_counts_confident_labels_and_class_shares():
    sure = [0.01] * 10
    sure[3] = 0.91
    unsure = [0.1] * 10
    unsure[7] = 0.1 + 1e-3
    pictures = torch.zeros(20, 784)
    q = sample_quality(_Fixed(sure), pictures)
    assert q["confident_share"] == pytest.approx(1.0) and q["class_shares"][3] == 1.0
    assert (q["min_class_share"], q["max_class_share"]) == (0.0, 1.0)
    q = sample_quality(_Fixed(unsure), pictures)
    assert q["confident_share"] == 0.0 and q["class_shares"][7] == 1.0 and sum(q["class_shares"]) == 1.0


def _row(beta: float, name: str) -> dict:
    return {"beta": beta, "mse": 0.01, "kl": 20.0, "elbo": 100.0, "confident_share": 0.8,
            "min_class_share": 0.05, "max_class_share": 0.15, "class_shares": [0.1] * 10,
            "model": f"{name}.safetensors", "name": name}


def test_the_beta_table_round_trips_in_order_of_beta(tmp_path):
    rows = [_row(4.0, "vae-16-beta4"), _row(1.0, "vae-16")]
    save_beta_table(tmp_path / FILE, BetaTable(rows, {"test_accuracy": 0.99}))
    loaded = load(tmp_path / FILE)
    assert isinstance(loaded, BetaTable) and loaded.judge == {"test_accuracy": 0.99}
    assert beta_table(tmp_path) == [rows[1], rows[0]]
    assert set(COLUMNS) < set(beta_table(tmp_path)[0])


@pytest.mark.parametrize(("tensors", "meta", "words"), [
    ({"table": torch.zeros(2, 6), "class_shares": torch.zeros(2, 10)}, {}, "holds \\(R, 7\\) numbers"),
    ({"table": torch.zeros(2, 7), "class_shares": torch.zeros(2, 9)}, {}, "holds \\(R, 7\\) numbers"),
    ({"table": None}, {}, "holds \\(R, 7\\) numbers"),
    ({}, {"columns": ["beta", "mse"]}, "has the columns"),
    ({}, {"names": ["vae-16"]}, "names the model file and name of each of its 2 rows"),
    ({"table": torch.full((2, 7), math.nan), "class_shares": torch.zeros(2, 10)}, {}, "must be finite"),
    ({"table": -torch.ones(2, 7), "class_shares": torch.zeros(2, 10)}, {}, "betas at least 0"),
    ({}, {"judge": [1]}, "judge must be an object"),
])
def test_a_malformed_beta_table_is_refused_by_what_is_off(tmp_path, tensors, meta, words):
    good_tensors = {"table": torch.ones(2, 7, dtype=torch.float64), "class_shares": torch.zeros(2, 10)}
    good_meta = {"columns": list(COLUMNS), "models": ["a.safetensors", "b.safetensors"], "names": ["a", "b"],
                 "judge": {}}
    tensors = {k: v for k, v in (good_tensors | tensors).items() if v is not None}  # None: left out
    path = save_artifact(tmp_path / FILE, "betas", tensors, good_meta | meta)
    with pytest.raises(CheckpointError, match=words):
        beta_table(tmp_path)
    with pytest.raises(CheckpointError, match=words):
        load(path)


def test_a_beta_table_that_is_not_one_or_not_there_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="file not found"):
        beta_table(tmp_path)
    save_artifact(tmp_path / FILE, "codes", {"codes": torch.zeros(2, 2), "labels": torch.zeros(2)}, {"model": "x"})
    with pytest.raises(CheckpointError, match="kind is 'codes', expected 'betas'"):
        load_beta_table(tmp_path / FILE)
    (tmp_path / FILE).write_bytes(b"not a table")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        beta_table(tmp_path)


def test_the_builder_makes_the_beta_table_from_the_manifest(tmp_path, capsys):
    from ae.build import main as build

    recipe = {"epochs": 2, "limit": 200, "batch_size": 50}
    vaes = {f"vae-{name}.safetensors": {"kind": "vae", "train": {**recipe, "model": {**SMALL, "beta": beta}}}
            for name, beta in (("4", 1.0), ("4-beta8", 8.0))}
    (tmp_path / "manifest.json").write_text(json.dumps({"serve": "vae-4.safetensors", "artifacts": {
        **vaes, "judge.safetensors": {"kind": "judge", "seed": 0},
        FILE: {"kind": "betas", "models": list(vaes), "samples": 50, "seed": 0, "judge": "judge.safetensors"}}}))
    build(["--data-dir", str(FIXTURES), "--weights-dir", str(tmp_path), "--threads", "1"])
    rows = beta_table(tmp_path)
    assert [(r["beta"], r["name"], r["model"]) for r in rows] == [
        (1.0, "vae-4", "vae-4.safetensors"), (8.0, "vae-4-beta8", "vae-4-beta8.safetensors")]
    zoo = load_zoo(tmp_path)
    assert not zoo.missing and zoo.beta_table.rows == rows and zoo.beta_table.judge["samples"] == 50
    for row in rows:
        model = zoo.catalogue.get(row["name"])
        assert model.source == row["model"] and model.checkpoint.model.config.beta == row["beta"]
        assert row["mse"] == pytest.approx(model.test_mse, rel=1e-4)
        assert 0 < row["kl"] < row["elbo"] and 0 <= row["confident_share"] <= 1
        assert row["min_class_share"] <= 0.1 <= row["max_class_share"]
        assert sum(row["class_shares"]) == pytest.approx(1.0)
    assert rows[1]["kl"] < rows[0]["kl"]  # a heavier KL weight, a smaller KL
    assert "judge: test accuracy" in capsys.readouterr().out
    assert zoo.judge is not None and zoo.beta_table.judge["test_accuracy"] == zoo.judge.metrics["test_accuracy"]
    # A table of something that is not a VAE is refused by name.
    save_artifact(tmp_path / "codes.safetensors", "codes", {"codes": torch.zeros(2, 2), "labels": torch.zeros(2)},
                  {"model": "x"})
    (tmp_path / "manifest.json").write_text(json.dumps({"serve": "vae-4.safetensors", "artifacts": {
        FILE: {"kind": "betas", "models": ["codes.safetensors"], "judge": "judge.safetensors"}}}))
    with pytest.raises(SystemExit, match="codes.safetensors is a codes, not a vae"):
        build(["--data-dir", str(FIXTURES), "--weights-dir", str(tmp_path), "--threads", "1"])


def test_the_shipped_beta_table_names_shipped_vaes_and_shows_the_trade_off():
    rows = beta_table()
    assert [r["beta"] for r in rows] == [0.25, 1.0, 4.0, 10.0]
    zoo = load_zoo()
    for row in rows:
        model = zoo.catalogue.get(row["name"])
        assert (model.kind, model.code_size, model.source) == ("vae", 16, row["model"])
        assert model.checkpoint.model.config.beta == row["beta"]
    # A heavier KL weight: less information in the code (KL), more reconstruction error.
    assert [r["kl"] for r in rows] == sorted((r["kl"] for r in rows), reverse=True)
    assert [r["mse"] for r in rows] == sorted(r["mse"] for r in rows)
    assert zoo.beta_table.judge["test_accuracy"] > 0.98

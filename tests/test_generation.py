"""Noise, class Gaussians, interpolation and denoising (ae/noise.py, ae/latent.py, the denoising objective)."""

import pytest
import torch

from ae.latent import fit_gaussians, interpolate
from ae.model import AEConfig
from ae.noise import corrupt, gaussian, median_filter, occlusion, salt_pepper, training_noise
from ae.train import TrainConfig, denoising_loss, fit


@pytest.fixture(scope="module")
def digits(mnist_test):
    return mnist_test.images[:200].reshape(200, -1).float() / 255


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_noise_of_strength_zero_is_the_identity(digits):
    for kind in ("gaussian", "salt_pepper", "occlusion"):
        assert torch.equal(corrupt(digits, kind, 0, gen()), digits), kind


def test_salt_and_pepper_touches_about_the_asked_share(digits):
    grey = torch.full((100, 784), 0.5)  # every hit pixel changes (to 0 or 1)
    assert (salt_pepper(grey, 0.2, gen()) != grey).float().mean().item() == pytest.approx(0.2, abs=0.01)
    noisy = salt_pepper(digits, 1.0, gen())
    assert set(noisy.unique().tolist()) == {0.0, 1.0}


def test_gaussian_noise_has_its_spread_and_stays_in_range(digits):
    noisy = gaussian(torch.full((100, 784), 0.5), 0.1, gen())
    assert noisy.std().item() == pytest.approx(0.1, rel=0.05) and 0 <= noisy.min() and noisy.max() <= 1
    assert (gaussian(digits, 0.3, gen()) - gaussian(digits, 0.3, gen())).abs().max() == 0  # a seed repeats


def test_occlusion_blots_one_block_per_digit():
    blotted = occlusion(torch.ones(5, 784), 6, gen())
    assert ((blotted == 0).sum(1) == 36).all()


def test_median_filter_removes_a_lone_speck_and_keeps_flat_areas():
    x = torch.zeros(28, 28)
    x[10, 10] = 1.0
    assert median_filter(x).max() == 0
    assert torch.equal(median_filter(torch.full((28, 28), 0.4)), torch.full((28, 28), 0.4))


def test_gaussians_fit_each_class_and_sample_by_seed(mnist_train):
    codes = torch.randn(len(mnist_train), 6) + mnist_train.labels[:, None].float()  # class c centred on c
    g = fit_gaussians(codes, mnist_train.labels, "model.safetensors")
    assert g.mean.shape == (11, 6) and g.chol.shape == (11, 6, 6)
    assert g.mean[3] == pytest.approx(torch.full((6,), 3.0), abs=0.3)
    assert torch.equal(g.sample(3, 50, seed=1), g.sample(3, 50, seed=1))
    assert not torch.equal(g.sample(3, 50, seed=1), g.sample(3, 50, seed=2))
    assert torch.equal(g.sample(3, 4, seed=1, temperature=0), g.mean[3].expand(4, 6))
    spread = g.sample(g.ALL, 5000, seed=0).std(0)
    assert spread == pytest.approx(codes.std(0), rel=0.1)


def test_interpolation_runs_from_one_code_to_the_other():
    a, b = torch.zeros(4), torch.arange(4.0)
    path = interpolate(a, b, 9)
    assert path.shape == (9, 4) and torch.equal(path[0], a) and torch.equal(path[-1], b)
    assert torch.allclose(path[4], (a + b) / 2)


def test_a_short_denoising_run_learns_to_undo_noise(mnist_train, mnist_test):
    cfg = TrainConfig(model=AEConfig(code_size=32, code_activation="none"), epochs=20, batch_size=50)
    quiet = dict(log=lambda _: None, progress=False)
    plain = fit(cfg, mnist_train, mnist_test, **quiet)
    dae = fit(cfg, mnist_train, mnist_test, loss_fn=denoising_loss(lambda x: salt_pepper(x, 0.3)), **quiet)
    clean = mnist_test.images.reshape(len(mnist_test), -1).float() / 255
    noisy = salt_pepper(clean, 0.3, gen())
    with torch.inference_mode():
        plain_mse = (plain.model(noisy).reshape(clean.shape) - clean).square().mean()
        dae_mse = (dae.model(noisy).reshape(clean.shape) - clean).square().mean()
    assert dae_mse < 0.8 * plain_mse  # measured on the fixtures: 0.69 of the plain model's


def test_training_noise_varies_from_batch_to_batch(digits):
    torch.manual_seed(0)
    outs = [training_noise(digits) for _ in range(6)]
    assert len({round((o - digits).abs().sum().item(), 3) for o in outs}) == 6
    assert all(0 <= o.min() and o.max() <= 1 for o in outs)

import json
import os
from pathlib import Path

import pytest

from ae.data import Split, load_mnist
from ae.torch_builds import check_torch_builds

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # MNIST/raw with 1000 train + 500 test real digits


def pytest_configure(config):
    """Before collection: a torchvision built for another torch would stop it with a cryptic error; name the fix."""
    try:
        check_torch_builds()
    except SystemExit as e:
        pytest.exit(str(e), returncode=4)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def server():
    """`python app.py` with the shipped checkpoint on a free local port, shared by the app and browser tests; its
    training lab trains on the fixtures' 1,000 digits."""
    from ae.ui.app_server import AppServer

    with AppServer(AE_DATA_DIR=str(FIXTURES)) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright, for a module's browser tests."""
    from playwright.sync_api import sync_playwright

    from ae.ui.app_server import CHROMIUM, FLAGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def mnist_train() -> Split:
    return load_mnist(FIXTURES, train=True, download=False)


@pytest.fixture(scope="session")
def mnist_test() -> Split:
    return load_mnist(FIXTURES, train=False, download=False)


@pytest.fixture(scope="session")
def weights(tmp_path_factory):
    """A small weights folder built from the fixtures by `ae.build`, one artifact of each kind."""
    from ae.build import main as build

    folder = tmp_path_factory.mktemp("weights")
    recipe = {"epochs": 2, "limit": 500, "batch_size": 64}
    (folder / "manifest.json").write_text(json.dumps({"serve": "ae-4.safetensors", "artifacts": {
        "ae-2.safetensors": {"kind": "autoencoder", "train": {**recipe, "model": {"code_size": 2}}},
        "ae-4.safetensors": {"kind": "autoencoder", "train": {**recipe, "model": {"code_size": 4}}},
        "pca.safetensors": {"kind": "pca", "sizes": [2, 4]},
        "run-overfit.safetensors": {"kind": "run", "role": "overfit",
                                    "train": {"epochs": 3, "limit": 100, "batch_size": 20}},
        "codes-2.safetensors": {"kind": "codes", "model": "ae-2.safetensors", "count": 100},
        "gaussians.safetensors": {"kind": "gaussians", "model": "ae-4.safetensors"},
        "ae-denoise.safetensors": {"kind": "autoencoder", "objective": "denoise",
                                   "train": {**recipe, "model": {"code_size": 4}}},
        "classifier.safetensors": {"kind": "classifier", "model": "ae-4.safetensors", "pca": "pca.safetensors",
                                   "compare": ["ae-4.safetensors", "ae-2.safetensors"], "per_class": 5, "draws": 2},
        "map.safetensors": {"kind": "map", "model": "ae-4.safetensors", "count": 300, "perplexity": 10},
        "outliers.safetensors": {"kind": "outliers", "transformed": 50, "parts": [
            {"score": "mse", "model": "ae-4.safetensors"}, {"score": "mse", "model": "ae-2.safetensors"},
            {"score": "nll", "model": "ae-4.safetensors", "gaussians": "gaussians.safetensors"}]},
        "gone.safetensors": {"kind": "autoencoder", "train": recipe},
    }}))
    build(["--data-dir", str(FIXTURES), "--weights-dir", str(folder), "--only", "ae-2.safetensors",
           "ae-4.safetensors", "pca.safetensors", "run-overfit.safetensors", "codes-2.safetensors",
           "gaussians.safetensors", "ae-denoise.safetensors", "classifier.safetensors", "map.safetensors",
           "outliers.safetensors"])
    return folder

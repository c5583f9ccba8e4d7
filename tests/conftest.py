import os
from pathlib import Path

import pytest

from ae.data import Split, load_mnist

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # MNIST/raw with 1000 train + 500 test real digits


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def server():
    """`python app.py` with the shipped checkpoint on a free local port, shared by the app and browser tests."""
    from tests.app_server import AppServer

    with AppServer() as s:
        yield s


@pytest.fixture(scope="session")
def mnist_train() -> Split:
    return load_mnist(FIXTURES, train=True, download=False)


@pytest.fixture(scope="session")
def mnist_test() -> Split:
    return load_mnist(FIXTURES, train=False, download=False)

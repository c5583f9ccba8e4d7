from urllib.error import URLError

import pytest
import torch

from ae import data
from ae.data import MNISTNotFound, load_mnist, resolve_data_dir


def test_fixture_loads_as_uint8_tensors(mnist_train, mnist_test):
    assert mnist_train.images.shape == (1000, 28, 28) and mnist_test.images.shape == (500, 28, 28)
    assert mnist_train.images.dtype == torch.uint8 and mnist_train.labels.dtype == torch.int64
    assert set(mnist_train.labels.tolist()) == set(range(10))
    assert mnist_train.images.max() == 255 and mnist_train.images.float().mean() < 60  # white ink on black


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    assert resolve_data_dir() == data.Path("data")
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert resolve_data_dir("elsewhere") == data.Path("elsewhere")


def test_missing_data_without_download_names_the_directory(tmp_path):
    with pytest.raises(MNISTNotFound) as e:
        load_mnist(tmp_path, download=False)
    msg = str(e.value)
    assert str(tmp_path) in msg and "AE_DATA_DIR" in msg and "--data-dir" in msg


def test_failed_download_says_so(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    def offline(self):
        raise URLError("no network")

    monkeypatch.setattr(MNIST, "download", offline)
    with pytest.raises(MNISTNotFound, match="the download failed") as e:
        load_mnist(tmp_path, download=True)
    assert str(tmp_path) in str(e.value)


def test_damaged_files_are_reported_as_damaged_not_missing(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\x00\x00\x08\x03 cut short")  # an idx header, then nothing usable
    with pytest.raises(MNISTNotFound, match="could not be read") as e:
        load_mnist(tmp_path, download=True)  # present files: no download is tried
    assert str(raw) in str(e.value) and "AE_DATA_DIR" in str(e.value)

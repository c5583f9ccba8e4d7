import json

import numpy as np
import pytest
import torch
from PIL import Image

from ae.checkpoint import DEFAULT_PATH, load_checkpoint
from ae.evaluate import main, pca_mse, reconstruction_figure
from tests.conftest import FIXTURES


def test_pca_error_falls_with_components_and_vanishes_at_full_rank(mnist_train, mnist_test):
    errors = [pca_mse(mnist_train.images, mnist_train.images, k) for k in (8, 32, 64)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert pca_mse(mnist_train.images, mnist_train.images, 784) == pytest.approx(0, abs=1e-10)
    assert pca_mse(mnist_train.images, mnist_test.images, 64) > errors[2]  # unseen digits are harder


def test_figure_has_originals_over_reconstructions(mnist_test):
    model = load_checkpoint(DEFAULT_PATH).model
    img = reconstruction_figure(model, mnist_test.images[:10], scale=1)
    assert img.size == (280, 56) and img.mode == "L"
    top = torch.from_numpy(np.array(img))[:28]
    assert torch.equal(top, torch.cat(list(mnist_test.images[:10]), dim=1))


def test_cli_json(tmp_path, capsys):
    figure = tmp_path / "fig.png"
    main(["--data-dir", str(FIXTURES), "--figure", str(figure), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["test_digits"] == 500
    assert result["test_mse"] < result["pca64_test_mse"]
    assert Image.open(figure).size == (280 * 4, 56 * 4)


def test_cli_errors_are_messages_not_tracebacks(tmp_path, monkeypatch):
    from urllib.error import URLError

    from torchvision.datasets import MNIST

    from ae.train import main as train_main

    def offline(self):
        raise URLError("no network")

    monkeypatch.setattr(MNIST, "download", offline)
    with pytest.raises(SystemExit, match=r"error: checkpoint .*nope\.safetensors: file not found"):
        main(["--checkpoint", str(tmp_path / "nope.safetensors"), "--data-dir", str(FIXTURES)])
    with pytest.raises(SystemExit, match=r"error: MNIST not found in .*empty"):
        main(["--data-dir", str(tmp_path / "empty")])
    with pytest.raises(SystemExit, match=r"error: MNIST not found in .*empty"):
        train_main(["--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "w.safetensors")])

"""The documented endpoints' handlers (ae/ui/api.py), called in-process as Gradio calls them: each takes an
optional model name; /models lists what the names may be."""

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from ae.inference import Engines
from ae.ui import api
from ae.zoo import load_zoo


@pytest.fixture(scope="module")
def engines():
    return Engines(load_zoo().catalogue)


@pytest.fixture
def endpoints(engines, tmp_path):
    return api.endpoints(engines, trusted=(tmp_path,))


@pytest.fixture
def seven(tmp_path, mnist_test):
    path = tmp_path / "seven.png"
    Image.fromarray(mnist_test.images[0].numpy()).resize((280, 280)).save(path)
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def grey(out) -> np.ndarray:
    return np.asarray(Image.open(out.path if hasattr(out, "path") else out), dtype=np.float32) / 255


def test_models_lists_each_model_with_its_figures(endpoints):
    listed = endpoints["models"]()
    names = [m["name"] for m in listed]
    assert {"ae-2", "ae-4", "ae-8", "ae-16", "ae-32", "ae-64", "ae-denoise", "pca-8"} <= set(names)
    assert all({"kind", "code_size", "test_mse", "default"} <= m.keys() for m in listed)
    assert [m["name"] for m in listed if m["default"]] == ["ae-64"]


def test_the_8_number_model_encodes_to_8_and_decodes_8(endpoints, seven):
    code = endpoints["encode"](seven, "ae-8")
    assert len(code) == 8 and len(endpoints["encode"](seven)) == 64  # no name: the served model
    _, recon, same = endpoints["reconstruct"](seven, "ae-8")
    assert same == pytest.approx(code, abs=1e-5)
    np.testing.assert_allclose(grey(endpoints["decode"](code, "ae-8")), grey(recon), atol=1 / 255)
    with pytest.raises(gr.Error, match="8 numbers, got 64"):
        endpoints["decode"]([0.0] * 64, "ae-8")


def test_pca_serves_through_the_same_endpoints(endpoints, seven):
    code = endpoints["encode"](seven, "pca-16")
    assert len(code) == 16
    rebuilt = grey(endpoints["decode"](code, "pca-16"))
    model_input, _, _ = endpoints["reconstruct"](seven, "pca-16")
    error_16 = np.mean((rebuilt - grey(model_input)) ** 2)
    rebuilt_64 = grey(endpoints["decode"](endpoints["encode"](seven, "pca-64"), "pca-64"))
    error_64 = np.mean((rebuilt_64 - grey(model_input)) ** 2)
    assert error_64 < error_16 < 0.1


@pytest.mark.parametrize("model", ["ae-7", "ae.safetensors", "/etc/passwd", "x" * 5000, 64, ["ae-8"], {"a": 1}])
def test_an_unknown_model_is_refused_with_the_list(endpoints, seven, model):
    for name, args in (("encode", (seven,)), ("decode", ([0.0] * 8,)), ("reconstruct", (seven,))):
        with pytest.raises(gr.Error) as e:
            endpoints[name](*args, model)
        assert "Unknown model" in e.value.message and "ae-2, ae-4, ae-8" in e.value.message, name
        assert len(e.value.message) < 400

"""A torchvision built for another torch is named, with the command that fixes it, instead of a cryptic error."""

import sys

import pytest

from ae.torch_builds import FIX, check_torch_builds


class RefuseTorchvision:
    """An import hook that fails torchvision's import the way a torch/torchvision build mismatch does."""

    def find_spec(self, name, path=None, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            raise RuntimeError("operator torchvision::nms does not exist")
        return None


@pytest.fixture
def mismatched(monkeypatch):
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [RefuseTorchvision(), *sys.meta_path])


def test_a_build_mismatch_exits_with_both_versions_and_the_fix(mismatched):
    with pytest.raises(SystemExit) as exit_:
        check_torch_builds()
    message = str(exit_.value.code)
    assert "torch 2." in message and "torchvision 0." in message and "do not work together" in message
    assert "operator torchvision::nms does not exist" in message
    assert message.rstrip().endswith(FIX) and "--extra-index-url https://download.pytorch.org/whl/cpu" in FIX


def test_loading_mnist_with_a_mismatch_names_the_fix(mismatched, tmp_path):
    from ae.data import load_mnist

    with pytest.raises(SystemExit, match="force-reinstall torch torchvision"):
        load_mnist(tmp_path, download=False)


def test_matching_builds_pass_and_other_errors_are_not_taken_for_a_mismatch():
    check_torch_builds()  # this environment's builds match

    def broken():
        raise RuntimeError("something else went wrong")

    with pytest.raises(RuntimeError, match="something else"):
        check_torch_builds(broken)

"""Whether torch and torchvision are builds that work together, checked where torchvision is first needed.

Installing them from different indexes (PyTorch's CPU index for one, PyPI's CUDA build for the other) leaves
a torchvision whose compiled operators do not load into this torch; importing it then fails with
"operator torchvision::nms does not exist", which names neither package's build nor the fix.
"""

import importlib
from importlib import metadata

FIX = "pip install --force-reinstall torch torchvision --extra-index-url https://download.pytorch.org/whl/cpu"
# What torchvision's import raises when its compiled operators and this torch do not fit together.
SIGNS = ("torchvision::", "Couldn't load custom C++ ops", "compiled with different CUDA")


def _import_torchvision_ops() -> None:
    importlib.import_module("torchvision.ops")


def check_torch_builds(load=_import_torchvision_ops) -> None:
    """Import torchvision's operators; if they do not fit this torch, exit with the one command that fixes it."""
    try:
        load()
    except RuntimeError as e:
        if not any(sign in str(e) for sign in SIGNS):
            raise
        raise SystemExit(mismatch_message(e)) from None


def mismatch_message(error: Exception) -> str:
    """The sentence for a torch/torchvision mismatch: both versions, the error, the command that fixes it."""
    return (f"torch {_version('torch')} and torchvision {_version('torchvision')} are builds that do not work "
            f"together (torchvision's compiled operators did not load: {error}). Install matching builds of both "
            f"(PyTorch's CPU build where its index answers, PyPI's otherwise) with:\n    {FIX}")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "(not installed)"

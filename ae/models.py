"""One interface for every model that maps digits to codes and back, and the registry of model kinds.

A model kind is one module in ae/kinds/ that implements `Model` and registers, with `@register_model(kind)`,
a function from a loaded artifact of that kind to the models it serves (torchvision's register_model /
get_model / list_models are the pattern). `Catalogue` holds the models one server offers, by name.
"""

import copy
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from ae.latent import CodeStats
from ae.preprocess import InputError

MAX_NAME = 64  # a model name a request may send, in characters


@runtime_checkable
class Model(Protocol):
    """Digits to codes and back. Every method takes and returns batches under torch.inference_mode()."""

    name: str  # how people and API calls pick it, e.g. "ae-8"
    kind: str  # "autoencoder", "pca", ...
    code_size: int  # D, the numbers in a code
    test_mse: float | None  # the stored mean squared error on MNIST's 10,000 test digits
    stats: CodeStats  # per-dimension range, mean and spread of its codes (sliders, chart, ranges)
    source: str  # the artifact file it comes from: other artifacts name their model by it

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) or (B, 784) pixels in [0, 1] -> (B, D) codes."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) codes -> (B, 28, 28) pixels in [0, 1]."""

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) or (B, 784) pixels -> (B, 28, 28) pixels in [0, 1]."""

    def describe(self) -> str:
        """One line about the model, for people."""

    def decoder_layers(self) -> list[tuple[str, torch.Tensor, torch.Tensor, str]]:
        """The decoder as (name, weight (out, in), bias (out,), activation) layers, for the page to run."""


_KINDS: dict[str, Callable[[str, object, dict], list[Model]]] = {}


def register_model(artifact_kind: str):
    """Decorate fn(file name, loaded artifact, manifest entry) -> the models an artifact of this kind serves."""
    def wrap(fn):
        if artifact_kind in _KINDS:
            raise ValueError(f"a model kind for {artifact_kind!r} artifacts is registered already")
        _KINDS[artifact_kind] = fn
        return fn
    return wrap


def list_kinds() -> list[str]:
    """The artifact kinds that serve models."""
    _discover()
    return sorted(_KINDS)


def models_from(file: str, artifact, entry: Mapping | None = None) -> list[Model]:
    """The models one loaded artifact serves (none for an artifact of a kind that serves no model)."""
    _discover()
    make = _KINDS.get(getattr(artifact, "kind", None))
    return [] if make is None else make(file, artifact, dict(entry or {}))


def as_model(artifact, file: str = "") -> Model:
    """The one model an artifact serves (an autoencoder checkpoint, say)."""
    found = models_from(file, artifact)
    if len(found) != 1:
        raise ValueError(f"{type(artifact).__name__} serves {len(found)} models, not one")
    return found[0]


def _discover() -> None:
    import ae.kinds  # every module in ae/kinds/ registers its kind when imported

    for info in pkgutil.iter_modules(ae.kinds.__path__):
        importlib.import_module(f"ae.kinds.{info.name}")


@dataclass(frozen=True)
class Catalogue:
    """The models a server offers, by name, and the one it serves by default; fixed after start-up."""

    models: Mapping[str, Model] = field(default_factory=dict)
    default: str = ""

    @classmethod
    def of(cls, models: list[Model], default: Model | str) -> "Catalogue":
        """The models in order, each name once: a later model whose name is taken (a checkpoint served from
        elsewhere, say) goes by its file's name, else by its name and a number."""
        byname: dict[str, Model] = {}
        for m in models:
            stem = Path(m.source).stem if m.source else ""
            candidates = [m.name, stem, *(f"{m.name}-{n}" for n in range(2, len(models) + 2))]
            name = next(c for c in candidates if c and c not in byname)
            byname[name] = m if name == m.name else renamed(m, name)
            if m is default:
                default = name
        if default not in byname:
            raise ValueError(f"the default model {default!r} is not among {list(byname)}")
        return cls(MappingProxyType(byname), default)  # read-only: every visitor shares it

    def names(self) -> list[str]:
        return list(self.models)

    def get(self, name: str | None = None) -> Model:
        """The named model (None or "": the default), else InputError listing the known names."""
        if name is None or name == "":
            return self.models[self.default]
        if not isinstance(name, str) or len(name) > MAX_NAME or name not in self.models:
            shown = repr(name[:MAX_NAME]) if isinstance(name, str) else f"a {type(name).__name__}"
            raise InputError(f"Unknown model {shown}; this server has: {', '.join(self.models)}.")
        return self.models[name]

    def find(self, kind: str, code_size: int) -> Model | None:
        """The first model of a kind and code size (e.g. the 2-number autoencoder), or None."""
        return next((m for m in self.models.values() if m.kind == kind and m.code_size == code_size), None)

    def from_source(self, file: str) -> Model | None:
        """The model an artifact names by its file (a classifier's "model", say), or None."""
        return next((m for m in self.models.values() if m.source == file), None)

    def listed(self) -> list[dict]:
        """Each model with its kind, code size and stored test MSE, the default marked."""
        return [{"name": m.name, "kind": m.kind, "code_size": m.code_size, "test_mse": m.test_mse,
                 "default": m.name == self.default, "description": m.describe()} for m in self.models.values()]


def renamed(model: Model, name: str) -> Model:
    """A copy of a model under another name (it may be a frozen dataclass or any object)."""
    twin = copy.copy(model)
    object.__setattr__(twin, "name", name)
    return twin


def encode_one(model: Model, x: np.ndarray) -> np.ndarray:
    """(28, 28) model input -> (D,) float32 code."""
    return model.encode(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None])[0].numpy()


def decode_one(model: Model, code: np.ndarray) -> np.ndarray:
    """(D,) code -> (28, 28) float32 picture in [0, 1]."""
    return model.decode(torch.from_numpy(np.ascontiguousarray(code, dtype=np.float32))[None])[0].numpy()


def reconstruct_one(model: Model, x: np.ndarray) -> np.ndarray:
    """(28, 28) model input -> (28, 28) reconstruction in [0, 1]."""
    return model.reconstruct(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None])[0].numpy()

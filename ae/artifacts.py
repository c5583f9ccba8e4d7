"""Every kind of artifact weights/ holds, declared in one place: the type it loads as, its loader (which checks
the file's tensors and metadata and never unpickles), the recipe that rebuilds it (`python -m ae.build`), and
where the app keeps it (its role, a field of ae.zoo.Zoo).

A new kind is one `Kind` below, its loader beside its save function (ae/checkpoint.py) and its builder in
ae/build.py; a kind whose artifacts serve models registers them with ae.models (one module in ae/kinds/).
"""

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ae import checkpoint as files
from ae.beta import BetaTable, _load_beta_table
from ae.checkpoint import Checkpoint, CheckpointError, Codes, ConvCheckpoint, Run, VAECheckpoint, read_artifact
from ae.classify import Classifier
from ae.judge import Judge, _load_judge
from ae.latent import ClassGaussians
from ae.latent_map import LatentMap
from ae.outliers import OutlierMeter
from ae.pca import PCA


@dataclass(frozen=True)
class Kind:
    name: str  # the "kind" in the file's metadata and in the manifest
    type: type  # what it loads as
    load: Callable  # (path, raw metadata, tensors) -> the object, or CheckpointError naming what is off
    build: str  # "module:function" (manifest entry, output path, train split, test split, device) -> figures
    role: str  # the Zoo field it fills: one artifact ("pca"), or a dict of them ("runs", "codes"), or "models"


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("autoencoder", Checkpoint, files._load_autoencoder, "ae.build:build_autoencoder", "models"),
    Kind("vae", VAECheckpoint, files._load_vae, "ae.build:build_vae", "models"),
    Kind("conv", ConvCheckpoint, files._load_conv, "ae.build:build_conv", "models"),
    Kind("pca", PCA, files._load_pca, "ae.build:build_pca", "pca"),
    Kind("run", Run, files._load_run, "ae.build:build_run", "runs"),
    Kind("codes", Codes, files._load_codes, "ae.build:build_codes", "codes"),
    Kind("gaussians", ClassGaussians, files._load_gaussians, "ae.build:build_gaussians", "gaussians"),
    Kind("classifier", Classifier, files._load_classifier, "ae.build:build_classifier", "classifier"),
    Kind("map", LatentMap, files._load_map, "ae.build:build_latent_map", "latent_map"),
    Kind("outliers", OutlierMeter, files._load_outliers, "ae.build:build_outliers", "outliers"),
    Kind("betas", BetaTable, _load_beta_table, "ae.build:build_betas", "beta_table"),
    Kind("judge", Judge, _load_judge, "ae.build:build_judge", "judge"),
)}


def load(path: os.PathLike):
    """Any artifact, by the kind its metadata names; raises CheckpointError for anything off."""
    kind, metadata, tensors = read_artifact(path)
    if kind not in KINDS:
        raise CheckpointError(path, f"unknown kind {kind!r} (this version loads {sorted(KINDS)})")
    return KINDS[kind].load(Path(path), metadata, tensors)


def builder(kind: str) -> Callable[..., dict]:
    """The function that builds artifacts of a kind (imported only when building: it trains, with MNIST)."""
    module, function = KINDS[kind].build.split(":")
    return getattr(importlib.import_module(module), function)

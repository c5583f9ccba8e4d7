"""The models the app compares: every artifact weights/manifest.json names, loaded, and sorted by role."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ae.checkpoint import WEIGHTS_DIR, Checkpoint, CheckpointError, Codes, Run, load, read_manifest
from ae.classify import Classifier
from ae.latent import ClassGaussians
from ae.latent_map import LatentMap
from ae.outliers import OutlierMeter
from ae.pca import PCA


@dataclass
class Zoo:
    by_size: dict[int, Checkpoint] = field(default_factory=dict)  # autoencoders with a linear code, by code size
    pca: PCA | None = None
    runs: dict[str, Run] = field(default_factory=dict)  # curves-only runs, by file name without ".safetensors"
    codes: dict[str, Codes] = field(default_factory=dict)  # sampled training codes, by their model's file name
    gaussians: ClassGaussians | None = None  # class Gaussians of the served model's codes
    denoiser: Checkpoint | None = None  # the autoencoder trained to undo noise
    classifier: Classifier | None = None  # digit classes from the served model's codes
    latent_map: LatentMap | None = None  # test digits' codes mapped to 2-d
    outliers: OutlierMeter | None = None  # how unlike MNIST's test digits an input is
    loaded: dict[str, object] = field(default_factory=dict)  # every artifact loaded, by its file name
    models: dict[str, Checkpoint] = field(default_factory=dict)  # every autoencoder, by its file name
    missing: list[str] = field(default_factory=list)  # what the manifest names that could not be loaded, and why

    @property
    def sizes(self) -> list[int]:
        return sorted(self.by_size)


def load_zoo(weights_dir: Path = WEIGHTS_DIR, served: Checkpoint | None = None) -> Zoo:
    """Load what the manifest names; an artifact that cannot be loaded is listed in `missing`, not fatal
    (the app serves its main view without it). `served` stands in for the served checkpoint's own file."""
    zoo = Zoo()
    try:
        manifest = read_manifest(weights_dir)
    except CheckpointError as e:
        zoo.missing.append(str(e))
        return zoo
    for name, entry in manifest["artifacts"].items():
        try:
            loaded = served if served is not None and name == manifest["serve"] else load(Path(weights_dir) / name)
        except CheckpointError as e:
            zoo.missing.append(str(e))
            continue
        zoo.loaded[name] = loaded
        if isinstance(loaded, Checkpoint):
            zoo.models[name] = loaded
        if isinstance(loaded, PCA):
            zoo.pca = loaded
        elif isinstance(loaded, Run):
            zoo.runs[name.removesuffix(".safetensors")] = loaded
        elif isinstance(loaded, Codes):
            zoo.codes[loaded.model] = loaded
        elif isinstance(loaded, ClassGaussians):
            zoo.gaussians = loaded
        elif isinstance(loaded, Classifier):
            zoo.classifier = loaded
        elif isinstance(loaded, LatentMap):
            zoo.latent_map = loaded
        elif isinstance(loaded, OutlierMeter):
            zoo.outliers = loaded
        elif isinstance(loaded, Checkpoint) and entry.get("objective") == "denoise":
            zoo.denoiser = loaded
        elif isinstance(loaded, Checkpoint) and loaded.model.config.code_activation == "none" \
                and not entry.get("objective"):
            zoo.by_size.setdefault(loaded.model.config.code_size, loaded)
    return zoo


def size_figures(zoo: Zoo) -> list[dict]:
    """The stored test-set MSE of each code size: the autoencoder's (from its checkpoint) and PCA's."""
    pca_mse = (zoo.pca.metrics.get("test_mse", {}) if zoo.pca is not None else {})
    rows = []
    for k in zoo.sizes:
        ae, linear = zoo.by_size[k].metrics.get("test_mse"), pca_mse.get(str(k))
        rows.append({"code_size": k, "autoencoder_test_mse": ae, "pca_test_mse": linear,
                     "ratio": round(ae / linear, 3) if ae and linear else None})
    return rows


@torch.inference_mode()
def reconstructions_by_size(zoo: Zoo, x: np.ndarray) -> list[dict]:
    """One (28, 28) model input rebuilt at every code size, by each autoencoder and by PCA, with each MSE."""
    flat = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).reshape(1, -1)
    rows = []
    for k in zoo.sizes:
        ae = zoo.by_size[k].model(flat).reshape(28, 28).numpy()
        row = {"code_size": k, "autoencoder": ae, "autoencoder_mse": float(np.mean((ae - x) ** 2))}
        if zoo.pca is not None:
            linear = zoo.pca.reconstruct(flat, k).reshape(28, 28).numpy()
            row.update(pca=linear, pca_mse=float(np.mean((linear - x) ** 2)))
        rows.append(row)
    return rows

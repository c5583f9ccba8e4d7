"""The models and artifacts the app serves: every artifact weights/manifest.json names, loaded, the models they
offer in one catalogue (ae.models), and the other artifacts sorted by role."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ae.artifacts import KINDS, load
from ae.beta import BetaTable
from ae.checkpoint import WEIGHTS_DIR, Checkpoint, CheckpointError, Codes, Run, read_manifest
from ae.classify import Classifier
from ae.judge import Judge
from ae.latent import ClassGaussians
from ae.latent_map import LatentMap
from ae.models import Catalogue, Model, models_from, reconstruct_one
from ae.outliers import JUDGE_SCORES, OutlierMeter
from ae.pca import PCA


@dataclass
class Zoo:
    catalogue: Catalogue = field(default_factory=Catalogue)  # every model, by name; the served one the default
    by_size: dict[int, Model] = field(default_factory=dict)  # autoencoders with a linear code, by code size
    denoiser: Model | None = None  # the autoencoder trained to undo noise
    pca: PCA | None = None
    runs: dict[str, Run] = field(default_factory=dict)  # curves-only runs, by their manifest "role"
    codes: dict[str, Codes] = field(default_factory=dict)  # sampled training codes, by their model's file name
    gaussians: ClassGaussians | None = None  # class Gaussians of the served model's codes
    classifier: Classifier | None = None  # digit classes from the served model's codes
    latent_map: LatentMap | None = None  # test digits' codes mapped to 2-d
    outliers: OutlierMeter | None = None  # how unlike MNIST's test digits an input is
    beta_table: BetaTable | None = None  # 16-number VAEs of several betas: their figures and sample quality
    judge: Judge | None = None  # a digit classifier on pixels, independent of every autoencoder
    loaded: dict[str, object] = field(default_factory=dict)  # every artifact loaded, by its file name
    missing: list[str] = field(default_factory=list)  # what the manifest names that could not be loaded, and why

    @property
    def sizes(self) -> list[int]:
        return sorted(self.by_size)

    def model_for(self, file: str) -> Model | None:
        """The model an artifact was made from (it names the model's file), if it is loaded."""
        return self.catalogue.from_source(file)

    def meter_inputs(self) -> tuple[dict, dict]:
        """What the outlier meter's parts read, by file name: the models (a judge for JUDGE_SCORES) and the
        class Gaussians; None stands for one that is not loaded. Both empty without a meter."""
        parts = self.outliers.parts if self.outliers is not None else ()
        models = {p.model: self.loaded.get(p.model) if p.score in JUDGE_SCORES else self.model_for(p.model)
                  for p in parts}
        return models, {p.gaussians: self.loaded.get(p.gaussians) for p in parts if p.gaussians}


KIND_ORDER = ("autoencoder", "conv", "vae", "pca")  # how the catalogue lists the kinds; any other comes last


def _order(model: Model) -> tuple:
    plain = model.kind == "autoencoder" and model.name == f"ae-{model.code_size}"
    rank = KIND_ORDER.index(model.kind) if model.kind in KIND_ORDER else len(KIND_ORDER)
    return rank, not plain, model.code_size


def load_zoo(weights_dir: Path = WEIGHTS_DIR, served: Checkpoint | None = None) -> Zoo:
    """Load what the manifest names; an artifact that cannot be loaded is listed in `missing`, not fatal
    (the app serves its main view without it). `served`: the checkpoint the app serves, the catalogue's
    default; it stands in for the manifest's served file when it was loaded from that very file."""
    zoo, models = Zoo(), []
    try:
        manifest = read_manifest(weights_dir)
    except CheckpointError as e:
        zoo.missing.append(str(e))
        manifest = {"serve": "", "artifacts": {}}
    own = Path(weights_dir) / manifest["serve"]
    same = served is not None and served.path is not None and Path(served.path).resolve() == own.resolve()
    if served is not None and not same:  # another file (AE_CHECKPOINT): named by its path, no artifact's model
        models += models_from(str(served.path or "served"), served, {})
    for name, entry in manifest["artifacts"].items():
        try:
            loaded = served if same and name == manifest["serve"] else load(Path(weights_dir) / name)
        except CheckpointError as e:
            zoo.missing.append(str(e))
            continue
        zoo.loaded[name] = loaded
        offered = models_from(name, loaded, entry)
        models += offered
        role = KINDS[loaded.kind].role
        if role == "models":
            if loaded.kind != "autoencoder" or not offered:  # the views that compare by size take plain autoencoders
                continue
            model = offered[0]
            if entry.get("objective") == "denoise":
                zoo.denoiser = model
            elif loaded.model.config.code_activation == "none" and not entry.get("objective"):
                zoo.by_size.setdefault(model.code_size, model)
        elif role == "runs":
            zoo.runs[entry.get("role", Path(name).stem)] = loaded
        elif role == "codes":
            zoo.codes[loaded.model] = loaded
        else:
            setattr(zoo, role, loaded)
    if models:
        first = models[0] if served is not None and not same else None  # served from another file: the default
        ordered = sorted((m for m in models if m is not first), key=_order) + ([first] if first else [])
        default = first or next((m for m in ordered if m.source == manifest["serve"]), ordered[0])
        zoo.catalogue = Catalogue.of(ordered, default)  # the shipped models keep their names
    return zoo


def size_figures(zoo: Zoo) -> list[dict]:
    """The stored test-set MSE of each code size: the autoencoder's and PCA's (each model's own figure)."""
    rows = []
    for k in zoo.sizes:
        linear = zoo.catalogue.find("pca", k)
        ae, pca = zoo.by_size[k].test_mse, linear.test_mse if linear is not None else None
        rows.append({"code_size": k, "autoencoder_test_mse": ae, "pca_test_mse": pca,
                     "ratio": round(ae / pca, 3) if ae and pca else None})
    return rows


def reconstructions_by_size(zoo: Zoo, x: np.ndarray) -> list[dict]:
    """One (28, 28) model input rebuilt at every code size, by each autoencoder and by PCA, with each MSE."""
    rows = []
    for k in zoo.sizes:
        ae = reconstruct_one(zoo.by_size[k], x)
        row = {"code_size": k, "autoencoder": ae, "autoencoder_mse": float(np.mean((ae - x) ** 2))}
        linear = zoo.catalogue.find("pca", k)
        if linear is not None:
            pictures = reconstruct_one(linear, x)
            row.update(pca=pictures, pca_mse=float(np.mean((pictures - x) ** 2)))
        rows.append(row)
    return rows

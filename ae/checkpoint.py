"""Save and load weights/: one safetensors file per artifact, its metadata naming its kind and carrying what
rebuilds it from the file alone: config, training settings, metrics, the history of the run. Each kind's
loader is here; ae/artifacts.py declares the kinds and loads any file by its kind. Never unpickles.

weights/manifest.json names the artifacts and which one the app serves; `python -m ae.build` rebuilds them.
The folder is the repository's weights/ (next to the package), or $AE_WEIGHTS_DIR.
"""

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

from ae.classify import Classifier
from ae.conv import ConvAutoencoder, ConvConfig
from ae.latent import ClassGaussians, CodeStats
from ae.latent_map import LatentMap
from ae.model import AEConfig, Autoencoder
from ae.outliers import OutlierMeter, Part
from ae.pca import PCA
from ae.vae import VAE, VAEConfig

FORMAT = "ae-mnist/2"
OLD_FORMATS = ("ae-mnist/1",)  # autoencoders saved before the metadata named a kind and kept a history
WEIGHTS_DIR = Path(os.environ.get("AE_WEIGHTS_DIR") or Path(__file__).resolve().parent.parent / "weights")
MANIFEST = "manifest.json"



class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: os.PathLike, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"checkpoint {self.path}: {problem}")


def read_manifest(weights_dir: Path = WEIGHTS_DIR) -> dict:
    """weights/manifest.json: {"serve": file name, "artifacts": {file name: {"kind": ..., "train": {...}}}}."""
    path = Path(weights_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest.get("serve"), str) or not isinstance(manifest.get("artifacts"), dict):
            raise ValueError('needs "serve" (a file name) and "artifacts" (an object)')
    except (OSError, ValueError, AttributeError) as e:
        raise CheckpointError(path, f"not a usable manifest ({e})") from None
    return manifest


def served_path(weights_dir: Path = WEIGHTS_DIR) -> Path:
    """The checkpoint the app serves: the manifest's "serve" entry, else weights/ae.safetensors."""
    try:
        return Path(weights_dir) / read_manifest(weights_dir)["serve"]
    except CheckpointError:
        return Path(weights_dir) / "ae.safetensors"


DEFAULT_PATH = served_path()


@dataclass
class Checkpoint:
    """An autoencoder artifact: the model, its code statistics, and how it was made."""

    model: Autoencoder
    stats: CodeStats
    train: dict = field(default_factory=dict)  # training settings that made it (TrainConfig.to_dict())
    metrics: dict = field(default_factory=dict)  # e.g. {"test_mse": 0.0028}
    history: dict = field(default_factory=dict)  # per epoch: {"train_loss": [...], "test_mse": [...]}
    path: Path | None = None
    kind = "autoencoder"
    config_type, network_type = AEConfig, Autoencoder  # what its "config" metadata and its weights rebuild


@dataclass
class VAECheckpoint(Checkpoint):
    """A variational autoencoder artifact (model: an ae.vae.VAE); saved and checked as an autoencoder is."""

    kind = "vae"
    config_type, network_type = VAEConfig, VAE


@dataclass
class ConvCheckpoint(Checkpoint):
    """A convolutional autoencoder artifact (model: an ae.conv.ConvAutoencoder); saved and checked as an
    autoencoder is."""

    kind = "conv"
    config_type, network_type = ConvConfig, ConvAutoencoder


# The artifacts that hold one trained network, by kind: ae.train makes each from its config.
NETWORK_CHECKPOINTS: dict[str, type[Checkpoint]] = {c.kind: c for c in (Checkpoint, VAECheckpoint, ConvCheckpoint)}


def _digest(tensors: dict[str, torch.Tensor]) -> str:
    # safetensors checks the header, not the data; the digest catches flipped bytes in the weights.
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(name.encode())
        h.update(tensors[name].contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _checkpoint_parts(ckpt: Checkpoint) -> tuple[dict[str, torch.Tensor], dict[str, object]]:
    tensors = {k: v.detach().contiguous() for k, v in ckpt.model.state_dict().items()}
    tensors.update(ckpt.stats.to_tensors())
    meta = {"config": ckpt.model.config.to_dict(), "train": ckpt.train, "metrics": ckpt.metrics,
            "history": ckpt.history}
    return tensors, meta


def save_checkpoint(path: os.PathLike, ckpt: Checkpoint) -> Path:
    """Write a network's checkpoint (an autoencoder, a VAE, a convolutional one) atomically (see save_artifact)."""
    return save_artifact(path, ckpt.kind, *_checkpoint_parts(ckpt))


def checkpoint_bytes(ckpt: Checkpoint) -> bytes:
    """The file save_checkpoint writes, as bytes (to send to a page, or back from a worker)."""
    return artifact_bytes(ckpt.kind, *_checkpoint_parts(ckpt))


def artifact_bytes(kind: str, tensors: dict[str, torch.Tensor], meta: dict[str, object]) -> bytes:
    """Tensors and JSON metadata as one safetensors file's bytes, with the format, kind and checksum."""
    metadata = {"format": FORMAT, "kind": kind, "sha256": _digest(tensors)}
    metadata.update({k: json.dumps(v) for k, v in meta.items()})
    return safetensors_bytes(tensors, metadata=metadata)


def save_artifact(path: os.PathLike, kind: str, tensors: dict[str, torch.Tensor], meta: dict[str, object]) -> Path:
    """Write tensors and JSON metadata to path atomically: readers see the old file or the complete new one."""
    path = Path(path)
    blob = artifact_bytes(kind, tensors, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it private; a checkpoint is for everyone to read
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)  # make the rename itself durable
    return path


def remove_stale_temporaries(path: os.PathLike, older_than: float = 60.0) -> list[Path]:
    """Delete the temporary files that writes of path left behind (a write killed before its rename leaves
    `.NAME.*.tmp`), if older than `older_than` seconds: a younger one may be another process's write in
    progress. Returns what was deleted."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # gone already, or not ours to delete: nothing to clean
            pass
    return removed


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_artifact(path: os.PathLike) -> tuple[str, dict[str, str], dict[str, torch.Tensor]]:
    """(kind, raw metadata, tensors) of an artifact file, its format and checksum verified."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error type for truncated or garbled files
        raise CheckpointError(path, f"not a readable safetensors file, truncated or corrupt ({e})") from None

    if metadata.get("format") in OLD_FORMATS:
        metadata = {**metadata, "kind": "autoencoder", "history": "{}"}
    elif metadata.get("format") != FORMAT:
        raise CheckpointError(path, f"format is {metadata.get('format')!r}, expected {FORMAT!r}")
    if metadata.get("sha256") != _digest(tensors):
        raise CheckpointError(path, "tensor data does not match its recorded sha256 (corrupt file)")
    return metadata.get("kind"), metadata, tensors


def _json_objects(path: Path, metadata: dict[str, str], *names: str) -> list[dict]:
    """The named metadata entries, each parsed as a JSON object."""
    try:
        values = [json.loads(metadata[name]) for name in names]
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(path, f"bad metadata ({type(e).__name__}: {e})") from None
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, dict):
            raise CheckpointError(path, f"bad metadata ({name} must be a JSON object)")
    return values


def load_checkpoint(path: os.PathLike = DEFAULT_PATH) -> Checkpoint:
    """An autoencoder checkpoint; raises CheckpointError for anything off, another kind included."""
    kind, metadata, tensors = read_artifact(path)
    if kind != Checkpoint.kind:
        raise CheckpointError(path, f"holds a {kind!r}, not an autoencoder")
    return _load_autoencoder(Path(path), metadata, tensors)


def _load_autoencoder(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> Checkpoint:
    return _load_network(Checkpoint, path, metadata, tensors)


def _load_vae(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> VAECheckpoint:
    return _load_network(VAECheckpoint, path, metadata, tensors)


def _load_conv(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> ConvCheckpoint:
    return _load_network(ConvCheckpoint, path, metadata, tensors)


def _load_network(cls: type[Checkpoint], path: Path, metadata: dict[str, str],
                  tensors: dict[str, torch.Tensor]) -> Checkpoint:
    """A checkpoint of cls: the network its config describes, every tensor's name and shape checked first."""
    config, train, metrics, history = _json_objects(path, metadata, "config", "train", "metrics", "history")
    try:
        config = cls.config_type(**config)
    except (TypeError, ValueError) as e:
        raise CheckpointError(path, f"bad metadata ({e})") from None

    with torch.device("meta"):  # shapes only: a config that names a huge network allocates nothing before the check
        expected = {k: tuple(v.shape) for k, v in cls.network_type(config).state_dict().items()}
    expected.update(CodeStats.expected_shapes(config.code_size))
    missing = sorted(expected.keys() - tensors.keys())
    unexpected = sorted(tensors.keys() - expected.keys())
    if missing or unexpected:
        raise CheckpointError(path, f"tensor names do not match the model: missing {missing}, unexpected {unexpected}")
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise CheckpointError(
                path, f"shape mismatch for {name}: file has {tuple(tensors[name].shape)}, model expects {shape}"
            )
    model = cls.network_type(config)  # as large as the tensors the file holds, checked above
    model.load_state_dict({k: tensors[k] for k in model.state_dict()}, strict=True)
    model.eval()
    return cls(model, CodeStats.from_tensors(tensors), train, metrics, history, path)


def save_pca(path: os.PathLike, pca: PCA) -> Path:
    """Write a PCA basis (see ae.pca) with its figures, atomically."""
    return save_artifact(path, PCA.kind, pca.to_tensors(), {"metrics": pca.metrics})


def _load_pca(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> PCA:
    (metrics,) = _json_objects(path, metadata, "metrics")
    try:
        mean, components, variance = tensors["mean"], tensors["components"], tensors["variance"]
    except KeyError as e:
        raise CheckpointError(path, f"missing tensor {e}") from None
    d = mean.shape[0] if mean.ndim == 1 else -1
    if components.ndim != 2 or components.shape[1] != d or variance.shape != (components.shape[0],):
        raise CheckpointError(path, f"PCA shapes do not fit: mean {tuple(mean.shape)}, components "
                                    f"{tuple(components.shape)}, variance {tuple(variance.shape)}")
    return PCA(mean, components, variance, metrics)


@dataclass
class Run:
    """A training run kept for its curves only: how it was trained and its history, no weights."""

    train: dict  # TrainConfig.to_dict()
    history: dict  # {"train_loss": [...], "test_mse": [...]}, one entry per epoch
    metrics: dict = field(default_factory=dict)
    kind = "run"


def save_run(path: os.PathLike, run: Run) -> Path:
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in run.history.items()}
    return save_artifact(path, Run.kind, tensors, {"train": run.train, "metrics": run.metrics})


def _load_run(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> Run:
    train, metrics = _json_objects(path, metadata, "train", "metrics")
    if set(tensors) != {"train_loss", "test_mse"} or any(t.ndim != 1 for t in tensors.values()):
        raise CheckpointError(path, f"a run holds two curves, train_loss and test_mse; found {sorted(tensors)}")
    return Run(train, {k: v.tolist() for k, v in tensors.items()}, metrics)


@dataclass
class Codes:
    """The codes of a sample of training digits under one model (for the 2-d model's plane), with labels."""

    codes: torch.Tensor  # (N, D) float32
    labels: torch.Tensor  # (N,) int64 digit classes
    model: str  # the model's file name in weights/
    kind = "codes"


def _model_name(path: Path, metadata: dict[str, str]) -> str:
    """The file name of the model an artifact was made from (its metadata's "model")."""
    try:
        model = json.loads(metadata["model"])
    except (KeyError, ValueError) as e:
        raise CheckpointError(path, f"bad metadata ({e})") from None
    if not isinstance(model, str):
        raise CheckpointError(path, "bad metadata (model must be a file name)")
    return model


def save_codes(path: os.PathLike, codes: Codes) -> Path:
    return save_artifact(path, Codes.kind, {"codes": codes.codes.contiguous(), "labels": codes.labels.contiguous()},
                         {"model": codes.model})


def _load_codes(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> Codes:
    codes, labels = tensors.get("codes"), tensors.get("labels")
    if codes is None or labels is None or codes.ndim != 2 or labels.shape != (codes.shape[0],):
        raise CheckpointError(path, "codes needs (N, D) codes and (N,) labels")
    return Codes(codes, labels, _model_name(path, metadata))


def save_gaussians(path: os.PathLike, g: ClassGaussians) -> Path:
    return save_artifact(path, ClassGaussians.kind, {"mean": g.mean.contiguous(), "chol": g.chol.contiguous()},
                         {"model": g.model})


def _load_gaussians(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> ClassGaussians:
    mean, chol = tensors.get("mean"), tensors.get("chol")
    if mean is None or chol is None or mean.ndim != 2 or chol.shape != (*mean.shape, mean.shape[1]):
        raise CheckpointError(path, "gaussians needs (11, D) means and (11, D, D) Cholesky factors")
    return ClassGaussians(mean, chol, _model_name(path, metadata))


def _shaped(path: Path, tensors: dict[str, torch.Tensor], shapes: dict[str, tuple[int, ...]]) -> None:
    """Check that the artifact holds exactly the named tensors, each of its shape."""
    if set(tensors) != set(shapes):
        raise CheckpointError(path, f"expected tensors {sorted(shapes)}, found {sorted(tensors)}")
    for name, shape in shapes.items():
        if tuple(tensors[name].shape) != shape:
            raise CheckpointError(path, f"{name} has shape {tuple(tensors[name].shape)}, expected {shape}")


def save_classifier(path: os.PathLike, c: Classifier) -> Path:
    return save_artifact(path, Classifier.kind, c.to_tensors(), {"model": c.model, "metrics": c.metrics})


def _load_classifier(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> Classifier:
    (metrics,) = _json_objects(path, metadata, "metrics")
    d = tensors["mean"].shape[0] if "mean" in tensors and tensors["mean"].ndim == 1 else -1
    _shaped(path, tensors, {"mean": (d,), "scale": (d,), "weight": (10, d), "bias": (10,)})
    return Classifier(**tensors, model=_model_name(path, metadata), metrics=metrics)


def save_map(path: os.PathLike, m: LatentMap) -> Path:
    return save_artifact(path, LatentMap.kind, m.to_tensors(), {"model": m.model, "metrics": m.metrics})


def _load_map(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> LatentMap:
    (metrics,) = _json_objects(path, metadata, "metrics")
    n, d = tensors["codes"].shape if "codes" in tensors and tensors["codes"].ndim == 2 else (-1, -1)
    _shaped(path, tensors, {"codes": (n, d), "labels": (n,), "images": (n, 28, 28), "index": (n,),
                            "pca_mean": (d,), "pca_axes": (2, d), "pca_xy": (n, 2), "tsne_xy": (n, 2)})
    return LatentMap(**tensors, model=_model_name(path, metadata), metrics=metrics)


def save_outliers(path: os.PathLike, m: OutlierMeter) -> Path:
    return save_artifact(path, OutlierMeter.kind, m.to_tensors(),
                         {"parts": [vars(p) for p in m.parts], "metrics": m.metrics, "rule": m.rule})


def _load_outliers(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> OutlierMeter:
    (metrics,) = _json_objects(path, metadata, "metrics")
    try:
        parts = tuple(Part(**p) for p in json.loads(metadata["parts"]))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(path, f"bad metadata (parts: {e})") from None
    n = tensors["combined"].shape[0] if "combined" in tensors and tensors["combined"].ndim == 1 else -1
    _shaped(path, tensors, {"reference": (len(parts), n), "combined": (n,)})
    try:  # a meter saved before meters had a rule combined by the largest tail
        rule = json.loads(metadata.get("rule", '"max"'))
        return OutlierMeter(parts, tensors["reference"], tensors["combined"], metrics, rule)
    except ValueError as e:
        raise CheckpointError(path, f"bad metadata ({e})") from None

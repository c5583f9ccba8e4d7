"""Save and load weights/: one safetensors file per model, carrying its config, training settings,
metrics and code statistics, so the model is rebuilt from the file alone. Never unpickles."""

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

from ae.latent import CodeStats
from ae.model import AEConfig, Autoencoder

FORMAT = "ae-mnist/1"
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_PATH = WEIGHTS_DIR / "ae.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: os.PathLike, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"checkpoint {self.path}: {problem}")


@dataclass
class Checkpoint:
    model: Autoencoder
    stats: CodeStats
    train: dict = field(default_factory=dict)  # training settings that made it
    metrics: dict = field(default_factory=dict)  # e.g. {"test_mse": 0.0028}
    path: Path | None = None


def _digest(tensors: dict[str, torch.Tensor]) -> str:
    # safetensors checks the header, not the data; the digest catches flipped bytes in the weights.
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(name.encode())
        h.update(tensors[name].contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def save_checkpoint(path: os.PathLike, ckpt: Checkpoint) -> Path:
    """Write ckpt to path atomically: readers see the old file or the complete new one, never a part."""
    path = Path(path)
    tensors = {k: v.detach().contiguous() for k, v in ckpt.model.state_dict().items()}
    tensors.update(ckpt.stats.to_tensors())
    metadata = {
        "format": FORMAT,
        "config": json.dumps(ckpt.model.config.to_dict()),
        "train": json.dumps(ckpt.train),
        "metrics": json.dumps(ckpt.metrics),
        "sha256": _digest(tensors),
    }
    blob = safetensors_bytes(tensors, metadata=metadata)
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


def load_checkpoint(path: os.PathLike = DEFAULT_PATH) -> Checkpoint:
    """Rebuild the model from a checkpoint file; raises CheckpointError for anything off."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error type for truncated or garbled files
        raise CheckpointError(path, f"not a readable safetensors file, truncated or corrupt ({e})") from None

    if metadata.get("format") != FORMAT:
        raise CheckpointError(path, f"format is {metadata.get('format')!r}, expected {FORMAT!r}")
    if metadata.get("sha256") != _digest(tensors):
        raise CheckpointError(path, "tensor data does not match its recorded sha256 (corrupt file)")
    try:
        config = AEConfig(**json.loads(metadata["config"]))
        train, metrics = json.loads(metadata["train"]), json.loads(metadata["metrics"])
        if not isinstance(train, dict) or not isinstance(metrics, dict):
            raise ValueError("train and metrics must be JSON objects")
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(path, f"bad metadata ({e})") from None

    model = Autoencoder(config)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
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
    model.load_state_dict({k: tensors[k] for k in model.state_dict()}, strict=True)
    model.eval()
    return Checkpoint(model, CodeStats.from_tensors(tensors), train, metrics, path)

"""MNIST in, uint8 tensors out: read once through torchvision, no PIL work per sample."""

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ae.torch_builds import check_torch_builds

ENV_VAR = "AE_DATA_DIR"
DEFAULT_DIR = "data"


class MNISTNotFound(RuntimeError):
    """MNIST is neither on disk nor downloadable."""


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # (N, 28, 28) uint8, ink is 255 on a 0 background
    labels: torch.Tensor  # (N,) int64 digit classes

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int | None) -> "Split":
        """The first n samples (all of them when n is None)."""
        return self if n is None else Split(self.images[:n], self.labels[:n])


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The directory to use: the argument, else $AE_DATA_DIR, else ./data."""
    return Path(data_dir or os.environ.get(ENV_VAR) or DEFAULT_DIR)


def load_mnist(data_dir: str | os.PathLike | None = None, train: bool = True, download: bool = True) -> Split:
    """One MNIST split as in-memory uint8 tensors; downloads into data_dir when the files are missing."""
    check_torch_builds()  # a torchvision built for another torch fails here with a cryptic error; name the fix
    from torchvision.datasets import MNIST  # torchvision's import is slow; only pay for it here

    root = resolve_data_dir(data_dir)
    try:
        ds = MNIST(root=str(root), train=train, download=False)
    except Exception as e:  # missing files: RuntimeError; damaged ones: whatever the idx reader hits
        raw = root / "MNIST" / "raw"
        if all((raw / Path(name).stem).is_file() for name, _ in MNIST.resources):  # present, so damaged
            raise MNISTNotFound(
                f"The MNIST files in {raw.resolve()} could not be read ({type(e).__name__}: {e}). Replace them "
                f"with intact copies, or point at another directory with --data-dir DIR or {ENV_VAR}."
            ) from e
        if not download:
            raise MNISTNotFound(_missing_message(root, "downloading is off")) from None
        try:
            ds = MNIST(root=str(root), train=train, download=True)
        except Exception as e:  # torchvision raises RuntimeError/URLError/OSError depending on the failure
            raise MNISTNotFound(_missing_message(root, f"the download failed ({e})")) from e
    return Split(images=ds.data.contiguous(), labels=ds.targets.long())


def _missing_message(root: Path, why: str) -> str:
    return (
        f"MNIST not found in {root.resolve()}/MNIST/raw and {why}. "
        f"Put the four MNIST files (train-images-idx3-ubyte, ...) there, or point at a directory that has "
        f"them with --data-dir DIR or the {ENV_VAR} environment variable."
    )


def _idx_path(data_dir, train: bool, what: str) -> Path:
    prefix = "train" if train else "t10k"
    return resolve_data_dir(data_dir) / "MNIST" / "raw" / f"{prefix}-{what}-idx{3 if what == 'images' else 1}-ubyte"


def count_digits(data_dir: str | os.PathLike | None = None, train: bool = True) -> int:
    """How many digits a split's MNIST file in data_dir holds (its header's count), without loading it; 0 when
    the file is missing or is not an MNIST image file."""
    path = _idx_path(data_dir, train, "images")
    try:
        with open(path, "rb") as f:
            header = f.read(16)
        size = path.stat().st_size
    except OSError:
        return 0
    if len(header) < 16 or int.from_bytes(header[:4], "big") != 2051:  # idx3, unsigned bytes
        return 0
    count = int.from_bytes(header[4:8], "big")
    return count if size == 16 + count * 28 * 28 else 0


def read_digits(data_dir: str | os.PathLike | None = None, n: int = 5000, train: bool = True) -> Split:
    """The first n digits of a split (fewer if it has fewer), read straight from MNIST's files: no torchvision,
    and only the bytes of those n (the app fits things to a visitor's model on them)."""
    count = min(n, count_digits(data_dir, train))
    if not count:
        raise MNISTNotFound(_missing_message(resolve_data_dir(data_dir), "the app does not download it"))
    with open(_idx_path(data_dir, train, "images"), "rb") as f:
        f.seek(16)
        images = torch.frombuffer(bytearray(f.read(count * 784)), dtype=torch.uint8).reshape(count, 28, 28)
    with open(_idx_path(data_dir, train, "labels"), "rb") as f:
        header = f.read(8)
        if int.from_bytes(header[:4], "big") != 2049 or int.from_bytes(header[4:8], "big") < count:
            raise MNISTNotFound(f"The MNIST label file in {resolve_data_dir(data_dir)} does not match its images.")
        labels = torch.frombuffer(bytearray(f.read(count)), dtype=torch.uint8).long()
    return Split(images, labels)

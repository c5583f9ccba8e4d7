"""A usable checkpoint at start-up: the one in weights/, or a freshly trained one (trained once, even
when several processes start together on an empty weights/)."""

from pathlib import Path

from filelock import FileLock, Timeout

from ae.checkpoint import DEFAULT_PATH, Checkpoint, CheckpointError, load_checkpoint
from ae.train import FIRST_LAUNCH, train_and_save


def ensure_checkpoint(path: Path = DEFAULT_PATH, data_dir=None, log=print, progress: bool = True) -> Checkpoint:
    """Load path, or train it with the first-launch settings when it is missing or unreadable."""
    path = Path(path)
    try:
        return load_checkpoint(path)
    except CheckpointError as e:
        log(f"No usable checkpoint ({e}).")
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log("Another process is training it; waiting for that one to finish.")
        lock.acquire()
    try:
        try:  # another process may have trained it while this one waited for the lock
            return load_checkpoint(path)
        except CheckpointError:
            pass
        log(f"Training one with the first-launch settings ({FIRST_LAUNCH.epochs} epochs).")
        ckpt = train_and_save(FIRST_LAUNCH, data_dir, path, log=log, progress=progress)
        log(f"Saved {path} (test MSE {ckpt.metrics['test_mse']:.4f}).")
        return ckpt
    finally:
        lock.release()

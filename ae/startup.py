"""A usable checkpoint at start-up: the one in weights/, or a freshly trained one (trained once, even
when several processes start together on an empty weights/)."""

from pathlib import Path

from filelock import FileLock, Timeout

from ae.checkpoint import DEFAULT_PATH, Checkpoint, CheckpointError, load_checkpoint, remove_stale_temporaries
from ae.train import FIRST_LAUNCH, train_and_save


def ensure_checkpoint(path: Path = DEFAULT_PATH, data_dir=None, log=print, progress: bool = True,
                      train: bool = True) -> Checkpoint:
    """Load path, first removing what killed writes of it left; when it is missing or unreadable, train it with
    the first-launch settings (or, with train=False, raise the CheckpointError)."""
    path = Path(path)
    for tmp in remove_stale_temporaries(path):
        log(f"Removed {tmp.name}, left by a write that did not finish.")
    try:
        return load_checkpoint(path)
    except CheckpointError as e:
        if not train:
            raise
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

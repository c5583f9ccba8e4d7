"""The folder of uploads and pictures a web app writes, kept within a budget on disk.

Gradio's own cleaner deletes the files it listed (and forgets its list at a restart), never their folders, and
never the temporary files of uploads whose client left half-way. `Keeper.sweep` looks at what is on disk instead:

- temporary files of uploads (Gradio's parser names them tmp*, at the folder's top) idle for `orphan_seconds`
  (longer than an upload may take) are the remains of aborted uploads;
- files older than `max_age` go;
- while the folder holds more than `budget_bytes` or `budget_files`, the oldest go first;
- folders left empty (and idle for `orphan_seconds`, so that one just made for a new file stays) go.

A file is looked at again right before it is removed, and kept if it changed since the walk (a picture an
endpoint has just returned again has its time renewed).

`pinned` files (the page's examples, cached at start) are never removed. A sweep runs at start, then every
`interval` seconds in a thread, and sooner when `nudge()` says that uploads arrived.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

LOG = logging.getLogger("ae.app")


@dataclass
class Swept:
    """What one sweep removed and what it left."""

    orphans: int = 0
    expired: int = 0
    evicted: int = 0
    folders: int = 0
    freed_bytes: int = 0
    files_left: int = 0
    bytes_left: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Keeper:
    root: Path
    budget_bytes: int = 512 * 2**20
    budget_files: int = 20_000
    max_age: float = 3600.0
    orphan_seconds: float = 150.0  # longer than a body may take to arrive (ae.ui.guard.BODY_SECONDS, 120 s)
    interval: float = 30.0
    pinned: frozenset = frozenset()

    def __post_init__(self):
        self.root = Path(self.root)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def sweep(self, now: float | None = None) -> Swept:
        """Remove what the rules above say; returns the counts."""
        with self._lock:
            return self._sweep(time.time() if now is None else now)

    def _sweep(self, now: float) -> Swept:
        done = Swept()
        files, folders = [], []  # (mtime, size, path); folders below the root
        for entry in _walk(self.root, folders, done):
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed meanwhile
            files.append((info.st_mtime, info.st_size, entry.path, entry.name, os.path.dirname(entry.path)))
        kept, pinned_bytes, pinned_count = [], 0, 0
        root = str(self.root)
        for mtime, size, path, name, parent in files:
            if path in self.pinned:  # kept, and counted in the budget
                pinned_bytes, pinned_count = pinned_bytes + size, pinned_count + 1
                continue
            if parent == root and name.startswith("tmp") and now - mtime > self.orphan_seconds:
                done.orphans += _remove(path, size, mtime, done)
            elif now - mtime > self.max_age:
                done.expired += _remove(path, size, mtime, done)
            else:
                kept.append((mtime, size, path))
        kept.sort()  # oldest first
        total = pinned_bytes + sum(size for _, size, _ in kept)
        count = pinned_count + len(kept)
        for mtime, size, path in kept:
            if total <= self.budget_bytes and count <= self.budget_files:
                break
            if _remove(path, size, mtime, done):
                done.evicted += 1
                total -= size
                count -= 1
        for folder in sorted(folders, key=len, reverse=True):  # the deepest first
            try:
                if now - os.stat(folder).st_mtime > self.orphan_seconds:
                    os.rmdir(folder)  # fails unless empty
                    done.folders += 1
            except OSError:
                pass
        done.files_left, done.bytes_left = count, total
        if done.orphans or done.expired or done.evicted:
            LOG.info("cache %s: removed %d orphaned, %d expired, %d over budget (%.1f MB); %d files, %.1f MB left",
                     self.root, done.orphans, done.expired, done.evicted, done.freed_bytes / 2**20,
                     done.files_left, done.bytes_left / 2**20)
        return done

    def nudge(self) -> None:
        """Sweep soon (uploads arrived)."""
        self._wake.set()

    def start(self) -> "Keeper":
        """Sweep now, then keep sweeping in a daemon thread."""
        self.sweep()
        self._thread = threading.Thread(target=self._run, name="cache-keeper", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.sweep()
            except Exception:  # a sweep that fails must not end the keeping
                LOG.exception("cache sweep of %s failed", self.root)
            time.sleep(1.0)  # at most one sweep a second, however many uploads nudge


def _walk(root: Path, folders: list, done: Swept):
    """The files below root (not following links), collecting its folders."""
    stack = [str(root)]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                        stack.append(entry.path)
                    else:
                        yield entry
        except OSError as e:
            if top == str(root) and not root.exists():
                return
            done.errors.append(f"{top}: {e}")


def _remove(path: str, size: int, mtime: float, done: Swept) -> int:
    """Remove path unless it changed since it was seen (mtime); 1 if removed."""
    try:
        if os.lstat(path).st_mtime != mtime:
            return 0
        os.unlink(path)
    except FileNotFoundError:
        return 0
    except OSError as e:
        done.errors.append(f"{path}: {e}")
        return 0
    done.freed_bytes += size
    return 1

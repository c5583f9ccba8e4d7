"""Each visitor's own model: the one they trained in the lab or loaded from a checkpoint, kept in memory within
a bound on the whole server, and the visitor an event comes from.

The app serves one page to many visitors; a visitor's model goes by the name YOURS in every view's model
picker and API call, and resolves to that visitor's model only. Who "that visitor" is comes from `OWNER`, a
context variable the server sets for each event (to Gradio's session id, ae/ui/errors.py: guard_events);
code outside an event (a script, a test) sets it with `as_owner`.
"""

import collections
import contextlib
import contextvars
import threading
import time

from ae.preprocess import InputError

YOURS = "your-model"  # the name a visitor's own model goes by, in the picker and in API calls
OWNER: contextvars.ContextVar[str] = contextvars.ContextVar("ae_owner", default="")
REMEMBERED = 4096  # owners whose model was dropped, remembered so that they are told why it is gone


def owner() -> str:
    """Who the running event comes from ("" outside an event)."""
    return OWNER.get()


@contextlib.contextmanager
def as_owner(name: str):
    """Run the body as the visitor `name` (what the server does for each event)."""
    token = OWNER.set(name)
    try:
        yield
    finally:
        OWNER.reset(token)


class VisitorModels:
    """One model per visitor, at most `max_models` and `max_bytes` (their checkpoints' sizes) on the server; when
    a new one would pass either bound, the models unused longest are dropped first. Thread-safe."""

    def __init__(self, max_models: int = 40, max_bytes: int = 160 * 2**20):
        self.max_models, self.max_bytes = max_models, max_bytes
        self._models: collections.OrderedDict[str, tuple[object, int]] = collections.OrderedDict()  # oldest use first
        self._dropped: collections.OrderedDict[str, float] = collections.OrderedDict()  # owner -> when
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._models)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(n for _, n in self._models.values())

    def put(self, who: str, model: object, nbytes: int) -> list[str]:
        """Keep `model` as who's model (replacing theirs); returns the owners whose models were dropped for it."""
        if not who:
            raise InputError("A model of your own needs a visitor: this call came with no session.")
        if nbytes > self.max_bytes:
            raise InputError(f"This model takes {nbytes / 2**20:.1f} MB; a visitor's model may take at most "
                             f"{self.max_bytes / 2**20:.0f} MB here.")
        with self._lock:
            self._models.pop(who, None)
            self._dropped.pop(who, None)
            dropped = []
            while self._models and (len(self._models) >= self.max_models
                                    or sum(n for _, n in self._models.values()) + nbytes > self.max_bytes):
                gone, _ = self._models.popitem(last=False)
                self._dropped[gone] = time.time()
                dropped.append(gone)
            while len(self._dropped) > REMEMBERED:
                self._dropped.popitem(last=False)
            self._models[who] = (model, nbytes)
            return dropped

    def peek(self, who: str) -> object | None:
        """who's model, or None; does not count as a use."""
        with self._lock:
            kept = self._models.get(who)
            return None if kept is None else kept[0]

    def get(self, who: str) -> object:
        """who's model (a use: it is dropped last), else InputError saying why there is none."""
        with self._lock:
            kept = self._models.get(who)
            if kept is not None:
                self._models.move_to_end(who)
                return kept[0]
            if who in self._dropped:
                raise InputError(
                    f"Your model is gone: this server keeps the models of {self.max_models} visitors at most and "
                    "dropped yours, the one unused longest, to make room. Train it again (same settings, same "
                    "seed: the same model), or load the checkpoint you downloaded.")
        raise InputError("You have no model of your own yet: train one in the \"Train your own\" tab, or load a "
                         "checkpoint there.")

    def drop(self, who: str) -> None:
        with self._lock:
            self._models.pop(who, None)

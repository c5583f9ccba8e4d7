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

import torch

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

    def get(self, who: str) -> object:
        """who's model (a use: it is dropped last), else InputError saying why there is none."""
        with self._lock:
            kept = self._models.get(who)
            if kept is not None:
                self._models.move_to_end(who)
                return kept[0]
            if who in self._dropped:
                raise InputError(
                    f"Your model is gone: this server keeps at most {self.max_models} visitors' models and "
                    f"{self.max_bytes / 2**20:.0f} MB of them, and dropped yours, the one unused longest, to make "
                    "room. Train it again (same settings, same seed: the same model), or load the checkpoint you "
                    "downloaded.")
        raise InputError("You have no model of your own yet: train one in the \"Train your own\" tab, or load a "
                         "checkpoint there.")


# What a visitor's model may be, so that it costs the server what the lab's own models do: the sizes the lab
# trains at most, on MNIST's 28x28 digits.
LIMITS = {"code_size": 64, "hidden": 1024, "channels": 32}


def check_servable(model) -> None:
    """InputError unless model (an ae.models.Model from a visitor's checkpoint) reads and draws 28x28 digits,
    within LIMITS: a checkpoint may describe any network its file's tensors fit (a 10 MB file can hold a
    convolutional network costing ~40 s per 5,000 digits, or one drawing 3000x3000 pictures)."""
    config = getattr(getattr(model, "network", None), "config", None)
    input_size = getattr(config, "input_size", 784)
    if input_size != 784:
        raise InputError(f"That model reads {input_size} pixels; this app's models read MNIST's 28x28 = 784.")
    for name, most in LIMITS.items():
        value = model.code_size if name == "code_size" else getattr(config, name, None)
        if value is not None and value > most:
            raise InputError(f"That model's {name.replace('_', ' ')} is {value}; a model of your own may have at "
                             f"most {most} (the lab's largest).")
    try:
        code = model.encode(torch.zeros(1, 28, 28))
        picture = model.decode(code)
    except Exception as e:  # a network whose layers do not fit together
        raise InputError(f"That model cannot run on a 28x28 digit ({type(e).__name__}).") from None
    if tuple(code.shape) != (1, model.code_size) or tuple(picture.shape) != (1, 28, 28):
        raise InputError("That model does not turn a 28x28 digit into its code and back.")

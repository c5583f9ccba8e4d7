"""What the app does with one image or one code, free of any UI: encode, decode, check inputs."""

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ae import visitors
from ae.models import Catalogue, Model, decode_one, encode_one, renamed
from ae.preprocess import InputError, open_image, preprocess
from ae.visitors import YOURS, VisitorModels

RANGE_MARGIN = 0.25  # sliders and /decode reach this fraction of the training range beyond each end


@dataclass(frozen=True)
class Result:
    model_input: np.ndarray  # (28, 28) float32 in [0, 1], what the encoder sees
    code: np.ndarray  # (D,) float32
    reconstruction: np.ndarray  # (28, 28) float32 in [0, 1]
    note: str | None = None  # something the user should know (e.g. only a GIF's first frame was used)

    @property
    def mse(self) -> float:
        return float(np.mean((self.reconstruction - self.model_input) ** 2))


class Engine:
    """A model (ae.models.Model) with its slider ranges and the checks of user input; stateless per request, so
    one instance serves everyone."""

    def __init__(self, model: Model):
        self.model = model
        self.stats = stats = model.stats
        span = np.maximum((stats.max - stats.min).numpy(), 1e-3)  # a dead dimension still gets a range
        # (D,) float64 ends rounded outward to 2 decimals, so the sliders' labels stay readable. Not float32:
        # float32(-12.67) is -12.670000076, below a slider whose minimum is -12.67, which Gradio refuses.
        lo, hi = stats.min.double().numpy(), stats.max.double().numpy()
        self.low = np.floor((lo - RANGE_MARGIN * span) * 100) / 100
        self.high = np.ceil((hi + RANGE_MARGIN * span) * 100) / 100
        # Dimensions by how much they vary over the training set: the first ones matter most.
        self.by_importance = [int(i) for i in torch.argsort(stats.std, descending=True, stable=True)]

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def code_size(self) -> int:
        return self.model.code_size

    def describe(self) -> str:
        """One line about the model, for people: its shape and its recorded test error."""
        return self.model.describe()

    def encode(self, x: np.ndarray) -> np.ndarray:
        """(28, 28) model input -> (D,) code."""
        return encode_one(self.model, x)

    def spread(self, x: np.ndarray) -> np.ndarray | None:
        """(28, 28) model input -> (D,) standard deviation of its code under a variational autoencoder's q(z|x) (the
        code `encode` gives is its mean); None for a model whose code is one point."""
        spread = getattr(self.model, "spread", None)
        if spread is None:
            return None
        return spread(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None])[0].numpy()

    def decode(self, code: np.ndarray) -> np.ndarray:
        """(D,) code -> (28, 28) reconstruction in [0, 1]."""
        return decode_one(self.model, code)

    def run(self, img: Image.Image | np.ndarray, note: str | None = None) -> Result:
        """Any image -> what the model sees, its code and its reconstruction (InputError if unusable)."""
        return self.run_input(preprocess(img), note)

    def run_input(self, x: np.ndarray, note: str | None = None) -> Result:
        """A ready (28, 28) model input (a stored MNIST digit) -> its code and reconstruction."""
        code = self.encode(x)
        return Result(x, code, self.decode(code), note)

    def run_file(self, source) -> Result:
        """An image file (a path or file object the caller vetted, e.g. by ae.uploads) -> Result, refusing
        files that are not usable images."""
        if source is None:
            raise InputError("No image: upload a picture of a digit.")
        img, note = open_image(source)
        return self.run(img, note)

    def check_code(self, values) -> np.ndarray:
        """A code sent by a user -> (D,) float32, or InputError saying what is wrong with it."""
        if isinstance(values, dict) and "code" in values:  # accept {"code": [...]} as /encode-style JSON
            values = values["code"]
        if not isinstance(values, (list, tuple)) or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
        ):
            raise InputError(f"The code must be a list of {self.code_size} numbers.")
        if len(values) != self.code_size:
            raise InputError(f"The code must have {self.code_size} numbers, got {len(values)}.")
        code = np.array([float(v) if abs(v) < 1e30 else math.inf for v in values], dtype=np.float32)
        bad = np.nonzero(~np.isfinite(code))[0].tolist()
        if bad:
            raise InputError(f"The code has non-finite or huge values at dimensions {bad[:8]}.")
        slack = 1e-3 * (self.high - self.low)  # slider steps may land a rounding error past either end
        out = np.nonzero((code < self.low - slack) | (code > self.high + slack))[0]
        if len(out):
            i = int(out[0])
            raise InputError(
                f"{len(out)} value(s) are outside the range the model knows, first dimension {i}: "
                f"{code[i]:.4g} not in [{self.low[i]:.4g}, {self.high[i]:.4g}] (the training set's range "
                f"with a {RANGE_MARGIN:.0%} margin)."
            )
        return code


class Engines:
    """An Engine for each model of a catalogue, made once at start-up and shared by every visitor, and each
    visitor's own model (ae.visitors: the name YOURS); `get` takes a name a visitor or an API call sent and checks
    it against the catalogue (InputError listing the names)."""

    def __init__(self, catalogue: Catalogue, yours: VisitorModels | None = None):
        if YOURS in catalogue.models:
            raise ValueError(f"{YOURS!r} names each visitor's own model; a served model may not take that name")
        self.catalogue = catalogue
        self.yours = yours if yours is not None else VisitorModels()
        self._engines = {name: Engine(model) for name, model in catalogue.models.items()}

    @property
    def default(self) -> Engine:
        return self._engines[self.catalogue.default]

    def get(self, name: str | None = None) -> Engine:
        if name == YOURS:
            return self.yours.get(visitors.owner())
        return self._engines[self.catalogue.get(name).name]

    def adopt(self, model: Model, nbytes: int) -> Engine:
        """Make model the running event's visitor's own (YOURS); nbytes: its checkpoint's size, for the bound."""
        engine = Engine(renamed(model, YOURS))
        self.yours.put(visitors.owner(), engine, nbytes)
        return engine

    def __iter__(self):
        return iter(self._engines.values())

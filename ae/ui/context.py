"""What every view's `build(ctx)` gets: the models and artifacts the server loaded, and the page's shared
per-visitor state (gr.State), filled in by the first view."""

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np

from ae.inference import Engine, Engines
from ae.zoo import Zoo


@dataclass(frozen=True)
class Context:
    zoo: Zoo  # every artifact by role, and the catalogue of models
    engines: Engines  # one Engine per model of the catalogue, by name
    examples: Path  # the shipped example digits
    current: gr.State | None = None  # the visitor's current (28, 28) model input (None while there is none)
    chosen: gr.State | None = None  # the name of the visitor's model
    loader: object = None  # the first view's handlers: show_input(x, note) fills its outputs (loader.outputs)
    picker: gr.Dropdown | None = None  # the first view's model picker: the lab adds the visitor's model to it
    lab: object = None  # ae.jobs.OnDemand: the training jobs (None: this server does not train)
    lab_digits: int = 0  # MNIST training digits the training workers can read (0: none, so no training)
    labelled: object = None  # () -> the first 5,000 training digits (ae.data.Split), to fit to a visitor's model
    first: np.ndarray | None = None  # (28, 28) model input every view shows before the visitor gives one
    first_name: str = ""  # the file (in examples) it was read from

    @property
    def trusted(self) -> tuple[Path, ...]:
        """Folders besides Gradio's upload cache that requests may name files in."""
        return (self.examples,)

    @property
    def served(self) -> Engine:
        return self.engines.default


def first_digit(examples: Path, seed: int | str | None = None) -> tuple[np.ndarray, str]:
    """A real test digit picked at random from the shipped examples, as the model reads it (28, 28), and its file's
    name: what the page shows before the visitor draws (a new one each time the server starts)."""
    from ae.preprocess import open_image, preprocess

    path = np.random.default_rng(None if seed is None else int(seed)).choice(sorted(examples.glob("*.png")))
    image, _ = open_image(path)
    return preprocess(image), path.name

"""What every view's `build(ctx)` gets: the models and artifacts the server loaded, and the page's shared
per-visitor state (gr.State), filled in by the first view."""

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

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

    @property
    def trusted(self) -> tuple[Path, ...]:
        """Folders besides Gradio's upload cache that requests may name files in."""
        return (self.examples,)

    @property
    def served(self) -> Engine:
        return self.engines.default

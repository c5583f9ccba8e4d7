"""The decoder alone, for a web page to run: its layers as a small safetensors file.

The page computes a picture for every slider movement itself (ae/ui/static/sliders.js); this file is all
it needs: each Linear layer's weight and bias, in float16 (about 430 KB for the 64-number model) and, in
the metadata, the layer list with each layer's activation, read off the model itself, so any code size
and hidden width work. float16 keeps a decoded pixel within 1/255 of the model's own float32 result
(tests/test_export.py measures it).
"""

import json
import math
import os
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from ae.model import Autoencoder

ACTIVATIONS = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Identity: "none"}


def decoder_layers(model: Autoencoder) -> list[dict]:
    """The decoder as [{"weight": name, "bias": name, "activation": ...}], in order."""
    layers, modules = [], list(model.decoder.named_children())
    for i, (name, module) in enumerate(modules):
        if isinstance(module, nn.Linear):
            after = modules[i + 1][1] if i + 1 < len(modules) else nn.Identity()
            if type(after) not in ACTIVATIONS:
                raise ValueError(f"the page cannot run a {type(after).__name__} after decoder.{name}")
            layers.append({"weight": f"decoder.{name}.weight", "bias": f"decoder.{name}.bias",
                           "activation": ACTIVATIONS[type(after)]})
        elif type(module) not in ACTIVATIONS:
            raise ValueError(f"the page cannot run decoder.{name} ({type(module).__name__})")
    return layers


def export_decoder(model, path: os.PathLike, dtype: torch.dtype = torch.float16) -> Path:
    """Write a model's decoder (ae.models.Model.decoder_layers) to path: safetensors, weights in dtype, the layer
    list in the metadata. A linear decoder (PCA's) is one layer with no activation; the page clips to [0, 1].
    A model with no dense decoder (a convolutional one: decoder_layers is empty) is a ValueError: the server
    decodes its codes."""
    tensors, layers = {}, []
    for name, weight, bias, activation in model.decoder_layers():
        tensors[f"{name}.weight"], tensors[f"{name}.bias"] = weight.to(dtype).contiguous(), bias.to(dtype).contiguous()
        layers.append({"weight": f"{name}.weight", "bias": f"{name}.bias", "activation": activation})
    if not layers:
        raise ValueError(f"{getattr(model, 'name', 'the model')}'s decoder has no dense layers the page can run")
    side = math.isqrt(tensors[layers[-1]["bias"]].numel())
    metadata = {"layers": json.dumps(layers), "side": str(side), "code_size": str(model.code_size)}
    save_file(tensors, str(path), metadata=metadata)
    return Path(path)


def run_exported(path: os.PathLike, codes: torch.Tensor) -> torch.Tensor:
    """What the page computes from the exported file, in float32: (B, D) codes -> (B, side*side) pixels."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        x = codes.float()
        for layer in json.loads(meta["layers"]):
            x = x @ f.get_tensor(layer["weight"]).float().T + f.get_tensor(layer["bias"]).float()
            x = {"relu": torch.relu, "sigmoid": torch.sigmoid, "none": lambda t: t}[layer["activation"]](x)
    return x

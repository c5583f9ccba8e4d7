"""Removing noise by reconstructing: the current digit damaged three ways, rebuilt by the plain autoencoder,
by one trained as a denoising autoencoder (noisy input, clean target), and by a median filter.
`build(ctx)`."""

import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.models import Model
from ae.noise import KINDS, corrupt, median_filter
from ae.ui.api import as_file
from ae.ui.checks import choice, number, whole
from ae.ui.context import Context
from ae.ui.errors import for_api
from ae.ui.inputs import model_input
from ae.ui.render import strip, to_image

LIMITS = {"gaussian": 1.0, "salt_pepper": 1.0, "occlusion": 28}  # the largest strength of each kind
LABELS = {"gaussian": "Gaussian noise (its standard deviation)", "salt_pepper": "salt and pepper (share of pixels)",
          "occlusion": "a blotted-out block (its side, pixels)"}
EXPLAIN = """### Removing noise
**Denoising by reconstructing**: damage your digit (first tab), then see it rebuilt by the plain
autoencoder, by a **denoising autoencoder** (the same network trained to turn damaged digits back into clean
ones: noisy input, clean target), and by a classic 3×3 median filter. Each MSE is against the clean digit."""


def denoised(plain: Model, denoiser: Model, x: np.ndarray, kind: str, strength: float,
             seed: int) -> dict[str, np.ndarray]:
    """The clean (28, 28) model input x, damaged, and three repairs of it."""
    clean = torch.from_numpy(np.asarray(x, dtype=np.float32))
    noisy = corrupt(clean[None].reshape(1, -1), kind, strength, torch.Generator().manual_seed(seed)).reshape(28, 28)
    return {"clean": clean.numpy(), "noisy": noisy.numpy(),
            "plain autoencoder": plain.reconstruct(noisy[None])[0].numpy(),
            "denoising autoencoder": denoiser.reconstruct(noisy[None])[0].numpy(),
            "median filter": median_filter(noisy).numpy()}


ENDPOINTS = ("denoise",)  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /denoise endpoint: the denoising autoencoder beside
    the plain one of the same code size."""
    denoiser, current, trusted = ctx.zoo.denoiser, ctx.current, ctx.trusted
    plain = None if denoiser is None else ctx.zoo.by_size.get(denoiser.code_size)
    if denoiser is None or plain is None:
        gr.Markdown("The denoising autoencoder or its plain twin is not in weights/ (`python -m ae.build`).")
        return
    gr.Markdown(EXPLAIN + f" The models: **{plain.name}** and **{denoiser.name}**.")
    with gr.Row():
        kind = gr.Radio(list(KINDS), value="gaussian", label="damage", elem_id="noise-kind")
        strength = gr.Slider(0, 1, value=0.3, step=0.01, label=LABELS["gaussian"], elem_id="noise-strength")
        seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label="seed", elem_id="noise-seed")
    pictures = gr.HTML("<p>Draw, upload or pick a digit in the first tab.</p>", elem_id="denoise-strip")

    def show(x, k, s, seed_):
        if x is None:
            return "<p>Draw, upload or pick a digit in the first tab.</p>"
        k = choice("damage", k, KINDS)
        out = denoised(plain, denoiser, x, k, number("strength", s, 0, LIMITS[k]), whole("seed", seed_, 0, 2**31 - 1))
        captions = [name if name == "clean" else f"{name}<br>MSE {np.mean((v - out['clean']) ** 2):.4f}"
                    for name, v in out.items()]
        return strip(list(out.values()), captions)

    def rescale(k):  # each damage has its own range of strength
        k = choice("damage", k, KINDS)
        return gr.Slider(0, LIMITS[k], value={"gaussian": 0.3, "salt_pepper": 0.2, "occlusion": 10}[k],
                         step=1 if k == "occlusion" else 0.01, label=LABELS[k])

    ui = dict(api_visibility="undocumented", show_progress="hidden")
    kind.change(for_api("damage")(rescale), kind, strength, **ui)
    gr.on([current.change, kind.change, strength.release, seed.change], for_api("denoise view")(show),
          [current, kind, strength, seed], pictures, **ui)

    @for_api("denoise")
    def denoise_endpoint(image: FileData, kind: str, strength: float, seed: int) -> tuple[FileData, FileData,
                                                                                         FileData, FileData]:
        kind = choice("kind", kind, KINDS)
        strength = number("strength", strength, 0, LIMITS[kind])
        out = denoised(plain, denoiser, model_input(image, trusted), kind, strength, whole("seed", seed, 0, 2**31 - 1))
        return tuple(as_file(to_image(out[k], scale=1)) for k in ("noisy", "plain autoencoder",
                                                                   "denoising autoencoder", "median filter"))

    gr.api(denoise_endpoint, api_name="denoise", concurrency_limit=4,
           api_description="An image, a kind of damage ('gaussian' sigma 0-1, 'salt_pepper' fraction 0-1, 'occlusion' "
                           "block side 0-28), its strength and a seed -> the damaged 28x28 input, the plain "
                           "autoencoder's reconstruction of it, the denoising autoencoder's, and a median filter's.")

"""Removing noise by reconstructing: the current digit damaged three ways, rebuilt by the plain autoencoder,
by one trained as a denoising autoencoder (noisy input, clean target), and by a median filter.
`build(ctx)`."""

import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.i18n import L, both, in_both_languages, t
from ae.models import Model
from ae.noise import KINDS, corrupt, median_filter
from ae.ui.api import as_file
from ae.ui.checks import choice, number, whole
from ae.ui.context import Context
from ae.ui.errors import for_api
from ae.ui.inputs import model_input
from ae.ui.render import strip, to_image

LIMITS = {"gaussian": 1.0, "salt_pepper": 1.0, "occlusion": 28}  # the largest strength of each kind
LABELS = {"gaussian": "Strength: the noise's standard deviation", "salt_pepper": "Strength: share of pixels flipped",
          "occlusion": "Strength: the patch's side, in pixels"}
NAMES = {"gaussian": "Grain (Gaussian noise)", "salt_pepper": "Salt and pepper", "occlusion": "A covered patch"}
START = {"gaussian": 0.3, "salt_pepper": 0.2, "occlusion": 10}  # the strength each kind starts at
CAPTIONS = {"clean": "clean", "noisy": "damaged", "plain autoencoder": "plain autoencoder",
            "denoising autoencoder": "denoising autoencoder", "median filter": "median filter"}
WAITING = "Draw, upload or pick a digit in the first tab."
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
        gr.Markdown(L("The denoising autoencoder or its plain twin is not on this server."))
        return
    gr.Markdown(L(EXPLAIN))
    gr.Markdown(L("The models: **{plain}** and **{denoiser}**.", plain=plain.name, denoiser=denoiser.name))
    with gr.Row():
        labels = {k: L(v) for k, v in LABELS.items()}  # made while the page is built: the browser has each one
        kind = gr.Radio([(L(NAMES[k]), k) for k in KINDS], value="gaussian", label=L("Damage"),
                        elem_id="noise-kind")
        strength = gr.Slider(0, 1, value=START["gaussian"], step=0.01, label=labels["gaussian"],
                             elem_id="noise-strength")
        seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label=L("Seed"), elem_id="noise-seed")

    def show(x, k, s, seed_):
        if x is None:
            return f"<p>{t(WAITING)}</p>"
        k = choice("damage", k, KINDS)
        out = denoised(plain, denoiser, x, k, number("strength", s, 0, LIMITS[k]), whole("seed", seed_, 0, 2**31 - 1))
        captions = [t(CAPTIONS[name]) if name == "clean" else
                    t("{name}<br>MSE {mse}", name=t(CAPTIONS[name]), mse=f"{np.mean((v - out['clean']) ** 2):.4f}")
                    for name, v in out.items()]
        return f'<div class="views2-big">{strip(list(out.values()), captions, scale=4)}</div>'

    first = in_both_languages(lambda: show(ctx.first, "gaussian", START["gaussian"], 0) if ctx.first is not None
                              else f"<p>{t(WAITING)}</p>")
    pictures = gr.HTML(first, elem_id="denoise-strip")  # the first digit, damaged and repaired, before any input

    def rescale(k):  # each damage has its own range of strength
        k = choice("damage", k, KINDS)
        return gr.Slider(0, LIMITS[k], value=START[k], step=1 if k == "occlusion" else 0.01, label=labels[k])

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
           api_description=both("An image, a kind of damage ('gaussian' sigma 0-1, 'salt_pepper' fraction 0-1, "
                                "'occlusion' block side 0-28), its strength and a seed -> the damaged 28x28 input, "
                                "the plain autoencoder's reconstruction of it, the denoising autoencoder's, and a "
                                "median filter's."))

"""New digits from codes: codes drawn from a Gaussian fitted to each class's training codes, decoded; beside
them, codes drawn from a plain standard normal. `build(ctx)`."""

import threading
import weakref

import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.i18n import L, both, in_both_languages, t
from ae.inference import Engine
from ae.latent import ClassGaussians, fit_gaussians
from ae.preprocess import InputError
from ae.ui.api import as_file
from ae.ui.checks import choice, number, whole
from ae.ui.context import Context
from ae.ui.errors import for_api
from ae.ui.render import grid_image, png_uri, to_image
from ae.visitors import YOURS

CLASSES = [str(d) for d in range(10)] + ["any"]
VAE_SIZE = 16  # the VAE shown beside (the 2-number one can only draw blurred digits)
EXPLAIN = """### Draw me a 7: new digits from codes
**Generating new data by sampling the code**: each picture below is decoded from a code drawn at random from
a Gaussian fitted to the codes of one class of training digits (or of all of them). The **seed** makes a
grid repeatable; the **temperature** scales the spread: 0 gives the class's average code, above 1 stranger
digits. In the middle, codes drawn from a plain standard normal decode mostly to noise-like blobs: this
autoencoder's codes do not fill the space around zero, they lie in their own regions. Making the codes
fill a simple, known distribution is what **variational autoencoders** were made for."""


def generate(engine: Engine, gaussians: ClassGaussians, digit: str, count: int, seed: int,
             temperature: float) -> np.ndarray:
    """(count, 28, 28) new digits of a class ("0"-"9") or of "any"."""
    which = gaussians.ALL if digit == "any" else int(digit)
    codes = gaussians.sample(which, count, seed, temperature)
    return engine.model.decode(codes).numpy()


def standard_normal(engine: Engine, count: int, seed: int) -> np.ndarray:
    """(count, 28, 28) digits decoded from codes drawn from a standard normal."""
    codes = torch.randn(count, engine.code_size, generator=torch.Generator().manual_seed(seed))
    return engine.model.decode(codes).numpy()


WHOSE = ("The codes are **{name}**'s ({d} numbers), the model the Gaussians were fitted to; pick **your model** "
         "in the first tab to generate with a model you trained.")


def whose_codes(engine: Engine) -> str:
    if engine.name == YOURS:
        return t("The codes are **your model**'s ({d} numbers): its Gaussians were fitted to its codes of the first "
                 "5,000 training digits when you picked it.", d=engine.code_size)
    return t(WHOSE, name=engine.name, d=engine.code_size)


class OwnGaussians:
    """Class Gaussians fitted to the visitor's own model's codes of labelled training digits, once per model."""

    def __init__(self, engines, labelled):
        self.engines, self.labelled = engines, labelled
        self._fitted: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # gone with the model
        self._lock = threading.Lock()

    def get(self) -> tuple[Engine, ClassGaussians]:
        engine = self.engines.get(YOURS)
        with self._lock:
            fitted = self._fitted.get(engine)
        if fitted is None:  # fitted outside the lock: one visitor's fit never waits for another's
            if self.labelled is None:
                raise InputError("Generating with your model needs MNIST's training digits on the server, and it "
                                 "has none.")
            digits = self.labelled()
            codes = torch.cat([engine.model.encode(digits.images[i:i + 500].float().div(255))
                               for i in range(0, len(digits), 500)])  # in batches: bounded memory
            fitted = fit_gaussians(codes, digits.labels)
            with self._lock:
                self._fitted[engine] = fitted
        return engine, fitted


ENDPOINTS = ("generate",)  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /generate endpoint: the class Gaussians, with the
    model whose codes they were fitted to (the only one whose codes they describe)."""
    gaussians = ctx.zoo.gaussians
    model = None if gaussians is None else ctx.zoo.model_for(gaussians.model)
    if model is None:
        gr.Markdown(L("The class Gaussians or their model are not on this server."))
        return
    engine = ctx.engines.get(model.name)
    own = OwnGaussians(ctx.engines, ctx.labelled)
    gr.Markdown(L(EXPLAIN))
    whose = gr.Markdown(L(WHOSE, name=engine.name, d=engine.code_size), elem_id="gen-whose")
    with gr.Row():
        digit = gr.Dropdown([(L("any digit") if c == "any" else c, c) for c in CLASSES], value="7", label=L("Digit"),
                            elem_id="gen-digit")
        seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label=L("Seed"), elem_id="gen-seed")
        temperature = gr.Slider(0, 2, value=1, step=0.05, label=L("Temperature"), elem_id="gen-temperature")

    vae = next((ctx.engines.get(m.name) for m in ctx.zoo.catalogue.models.values() if m.kind == "vae"
                and m.code_size == VAE_SIZE), None)  # the VAE whose standard normal draws go beside

    def show(d, s, t, name=None):
        s = whole("seed", s, 0, 2**31 - 1)
        used, fitted = own.get() if name == YOURS else (engine, gaussians)
        return (grid_image(generate(used, fitted, choice("digit", d, CLASSES), 16, s, t), 4),
                grid_image(standard_normal(used, 16, s), 4), whose_codes(used),
                grid_image(standard_normal(vae, 16, s), 4) if vae is not None else None)

    first, first_normal, _, first_vae = show("7", 0, 1.0)
    with gr.Row():
        gr.Markdown(L("**From the class's Gaussian**"), elem_classes="caption")
        gr.Markdown(L("**From a standard normal**"), elem_classes="caption")
        if vae is not None:
            gr.Markdown(L("**From a standard normal, by the VAE {name}**", name=vae.name), elem_classes="caption")
    with gr.Row():
        sampled = gr.Image(first, label=L("From the class's Gaussian"), show_label=False, interactive=False,
                           format="png", elem_id="gen-grid", elem_classes="pixelated", buttons=["download"],
                           alt_text=L("digits decoded from codes drawn from the class's Gaussian"))
        normal = gr.Image(first_normal, label=L("From a standard normal"), show_label=False, interactive=False,
                          format="png",
                          elem_id="gen-normal", elem_classes="pixelated", buttons=["download"],
                          alt_text=L("what the autoencoder decodes from codes drawn from a standard normal"))
        from_vae = gr.Image(first_vae, label=L("From a standard normal, by the VAE"), show_label=False,
                            interactive=False, format="png", elem_id="gen-vae", elem_classes="pixelated",
                            buttons=["download"], visible=vae is not None,
                            alt_text=L("what the VAE decodes from codes drawn from a standard normal"))
    if vae is not None:
        gr.Markdown(L("On the right, the same standard normal codes (same seed) decoded by **{name}**, a variational "
                      "autoencoder of {d} numbers: it was trained to make its codes fill that very Gaussian, so most "
                      "draws come out as digits.", name=vae.name, d=vae.code_size))
    if (table := beta_rows(ctx)) is not None:
        gr.Markdown(L(BETA))
        gr.HTML(in_both_languages(lambda: beta_html(table)), elem_id="gen-betas")
    gr.on([digit.change, seed.change, temperature.release, ctx.chosen.change], for_api("generate view")(show),
          [digit, seed, temperature, ctx.chosen], [sampled, normal, whose, from_vae], api_visibility="undocumented",
          show_progress="hidden")

    @for_api("generate")
    def generate_endpoint(digit: str, count: int, seed: int, temperature: float) -> list[FileData]:
        digit = choice("digit", str(digit) if isinstance(digit, int) and not isinstance(digit, bool) else digit,
                       CLASSES)
        pictures = generate(engine, gaussians, digit, whole("count", count, 1, 64), whole("seed", seed, 0, 2**31 - 1),
                            number("temperature", temperature, 0, 3))
        return [as_file(to_image(x, scale=1)) for x in pictures]

    gr.api(generate_endpoint, api_name="generate", concurrency_limit=4,
           api_description=both("A digit ('0'-'9' or 'any'), a count (1-64), a seed and a temperature (0-3) -> that "
                           "many new 28x28 digits decoded from codes drawn from the class's Gaussian; same seed, "
                           "same digits."))


BETA = ("### The price of a smooth code: beta\n"
        "A VAE's loss adds beta × KL, how far each digit's Gaussian code lies from the standard normal. These four "
        "16-number VAEs differ only in beta. A larger beta packs the codes closer to the standard normal, so more "
        "draws from it decode to clear digits; the price is detail: the rebuilt digits get blurrier (higher MSE). "
        "Each row decodes the same 8 standard normal draws.")


def beta_rows(ctx: Context) -> list[dict] | None:
    """The stored beta table's rows whose models this server has, each with its 8 decoded draws (None without)."""
    if ctx.zoo.beta_table is None:
        return None
    rows = [dict(row) for row in ctx.zoo.beta_table.rows if row["name"] in ctx.zoo.catalogue.names()]
    codes = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))  # (8, 16): the same draws for each row
    for row in rows:
        with torch.inference_mode():
            row["pictures"] = ctx.engines.get(row["name"]).model.decode(codes).numpy().reshape(-1, 28, 28)
    return rows or None


def beta_html(rows: list[dict]) -> str:
    """The beta table: each row's figures and its 8 decoded draws."""
    head = "<th>β</th>" + "".join(f"<th>{t(h)}</th>" for h in (
        "test MSE", "KL (nats)", "-ELBO (nats)", "clear digits among 1,000 draws", "8 draws"))

    def draws(row) -> str:
        alt = t("8 digits drawn by the VAE with beta {beta}", beta=f"{row['beta']:g}")
        return f'<img class="beta-draws" src="{png_uri(grid_image(row["pictures"], 8, scale=2))}" alt="{alt}">'

    body = "".join(f"<tr><td>{row['beta']:g}</td><td>{row['mse']:.4f}</td><td>{row['kl']:.1f}</td>"
                   f"<td>{row['elbo']:.1f}</td><td>{row['confident_share']:.0%}</td><td>{draws(row)}</td></tr>"
                   for row in rows)
    return f'<table class="betas"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

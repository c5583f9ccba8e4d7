"""What digit does the code say it is? A linear classifier reads the served model's code of the current
digit; below it, the measured reason to learn features at all: the same classifier on codes, pixels and PCA,
with every label and with ten labels a class. `build(ctx)`."""

import gradio as gr
import numpy as np
from gradio import FileData

from ae.classify import classify
from ae.i18n import L, both, in_both_languages, t
from ae.ui.context import Context
from ae.ui.errors import for_api
from ae.ui.inputs import model_input
from ae.ui.render import probability_bars

WAITING = "Draw, upload or pick a digit in the first tab; its code is classified here."


INTRO = """### What the code knows: a classifier on the code
The autoencoder never saw a label, yet its code keeps what tells digits apart: a plain **linear classifier**
(logistic regression) reading only the {d}-number code of your digit under **{name}** (the model it was fitted
to, whichever you picked in the first tab) names it below. The code is a
**learned feature**; the table says what it is worth."""


def explain(metrics: dict) -> str:
    """The view's text around the stored accuracy table; what it says about the table comes from its figures."""
    table = metrics.get("table", [])
    if not table:
        return L("(No accuracy table is stored with this classifier.)")
    few = table[0]
    best = max(table, key=lambda r: r["few_labels"])
    pixels = next((r for r in table if r["features"].startswith("pixels")), None)

    def say() -> str:
        finding = "" if pixels is None else t(
            " With only {n} labels per class, the **{best}** does best: {score}, against {pixels} from the pixels "
            "themselves.", n=few["per_class"], best=features(best["features"]), score=f"{best['few_labels']:.1%}",
            pixels=f"{pixels['few_labels']:.1%}")
        return t(ACCURACY, n=few["per_class"], draws=few["draws"], finding=finding, table=table_text(table))

    return in_both_languages(say)


def features(name: str) -> str:
    """A row's features ("autoencoder code (64 numbers)") in the page's language."""
    kind, _, rest = name.partition(" (")
    return t("{kind} ({n} numbers)", kind=t(kind), n=rest.split()[0]) if rest else t(kind)


def table_text(table: list[dict]) -> str:
    """ae.classify.table_markdown's table, in the page's language."""
    lines = [f"| {t('the classifier reads')} | {t('all 60,000 labels')} | "
             f"{t('{n} labels per class (mean ± spread)', n=table[0]['per_class'])} |", "|---|---|---|"]
    lines += [f"| {features(r['features'])} | {r['all_labels']:.1%} | {r['few_labels']:.1%} ± "
              f"{r['few_labels_std']:.1%} |" for r in table]
    return "\n".join(lines)


ACCURACY = """**Accuracy on MNIST's 10,000 test digits**, the same classifier (standardised inputs, logistic
regression) on each kind of input. With {n} labelled digits per class, each figure is the mean ± spread
over {draws} random draws of them; the autoencoders and PCA still learned from all 60,000 training
images, without labels.{finding}

{table}"""


ENDPOINTS = ("classify",)  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /classify endpoint."""
    c, current, trusted = ctx.zoo.classifier, ctx.current, ctx.trusted
    model = ctx.zoo.model_for(c.model) if c is not None else None
    if model is None:
        gr.Markdown(L("The classifier or its autoencoder is not on this server."))
        return
    gr.Markdown(L(INTRO, d=model.code_size, name=model.name))

    def show(x) -> str:
        if x is None:
            return f"<p>{t(WAITING)}</p>"
        p = classify(model, c, x)
        d = int(np.argmax(p))
        said = t("The code says: {digit} ({sure} sure)", digit=f'<b class="digit-guess">{d}</b>', sure=f"{p[d]:.0%}")
        return f'<div class="prediction"><p>{said}</p>{probability_bars(p)}</div>'

    # its prediction for the first digit, before any input
    result = gr.HTML(in_both_languages(lambda: show(ctx.first) if ctx.first is not None else f"<p>{t(WAITING)}</p>"),
                     elem_id="classify-result")

    gr.Markdown(explain(c.metrics), elem_id="classify-table")
    current.change(for_api("classify view")(show), current, result, api_visibility="undocumented",
                   show_progress="hidden")

    @for_api("classify")
    def classify_endpoint(image: FileData) -> dict:
        p = classify(model, c, model_input(image, trusted))
        return {"digit": int(np.argmax(p)), "probabilities": [round(float(v), 6) for v in p]}

    gr.api(classify_endpoint, api_name="classify", concurrency_limit=4,
           api_description=both("An image of a digit -> the digit a logistic regression reads from the served "
                                "model's code, and the probability of each digit 0-9 (they sum to 1)."))

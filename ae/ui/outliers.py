"""The outlier meter: how unlike MNIST the current input is, by its reconstruction error and the other scores
the meter combines, each placed among the 10,000 test digits' own; and how well that works, measured on
letters, shapes and scribbles. `build(ctx)`."""

import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.models import reconstruct_one
from ae.nondigits import NON_DIGITS
from ae.outliers import FLAG_PERCENTILE, OutlierMeter, part_scores
from ae.ui.context import Context
from ae.ui.errors import for_api
from ae.ui.inputs import model_input
from ae.ui.render import strip
from ae.visitors import YOURS

WAITING = "<p>Draw, upload or pick a digit in the first tab (or draw a letter, a face, a scribble) to measure it.</p>"
SCORES = {"mse": "reconstruction error (MSE), {d}-number autoencoder ({name})",
          "nll": "how unlikely the {d}-number code ({name}) is for any digit class (Gaussian fit)",
          "elbo": "how unlikely the input is under the {d}-number variational autoencoder ({name}): its negative ELBO",
          "elbo-complexity": "the {d}-number VAE's ({name}) negative ELBO less the input's own complexity (its "
                             "compressed length): unlikely for its simplicity or busyness alone does not count"}
TARGETS = {"letters": 0.70, "shapes": 0.90, "scribbles": 0.90}  # shares of non-digits the meter should flag


def describe(part, model) -> str:
    """A part of the meter in words, naming the model it reads (the meter's own, whichever a visitor picked)."""
    return SCORES[part.score].format(d=model.code_size, name=model.name)


def measured_table(meter: OutlierMeter) -> str:
    """The figures stored with the meter as a markdown table: per set of non-digits (and all of them), the ROC AUC
    of the combined score against the test digits and the share flagged when 1% of test digits are; and the
    worst share of test digits sent as people send them. Empty for a meter built without them."""
    flagged, auroc = meter.metrics.get("flagged", {}), meter.metrics.get("auroc", {})
    kinds = [k for k in NON_DIGITS if k in flagged]
    people = [r["combined"] for k, r in flagged.items() if k not in NON_DIGITS]
    if not kinds or not people:
        return ""
    count = sum(flagged[k]["count"] for k in kinds)
    share = sum(flagged[k]["combined"] * flagged[k]["count"] for k in kinds) / count

    def area(k):
        return f"{auroc[k]['combined']:.3f}" if k in auroc else "-"

    rows = [f"| {k} | {flagged[k]['count']:,} | {area(k)} | {flagged[k]['combined']:.0%} |" for k in kinds]
    rows.append(f"| all non-digits | {count:,} | {area('non-digits')} | {share:.0%} |")
    rows.append(f"| MNIST test digits sent as people send them, worst of {len(people)} ways | "
                f"{flagged[[k for k in flagged if k not in NON_DIGITS][0]]['count']:,} each | | {max(people):.1%} |")
    return ("| set | images | ROC AUC against the test digits | flagged (1% of test digits flagged) |\n"
            "|---|---|---|---|\n" + "\n".join(rows))


def misses(meter: OutlierMeter) -> str:
    """What the meter still misses, in words, from its stored figures."""
    flagged = meter.metrics.get("flagged", {})
    short = [f"{k} ({flagged[k]['combined']:.0%} flagged, {t:.0%} wanted)" for k, t in TARGETS.items()
             if k in flagged and flagged[k]["combined"] < t]
    below = ("Short of what it should flag: " + "; ".join(short) + ". ") if short else ""
    return (below + "What it misses mostly *looks* like a digit: an O or a ring is a zero, an l or an I a one, "
            "an S a five, a Z a two; and a digit it flags may only be written in a way MNIST rarely shows.")


def explain(meter: OutlierMeter, names: list[str]) -> str:
    table = measured_table(meter)
    measured = ("\n\n**How well it works** (measured when the meter was built, on non-digits made to test it; "
                "nothing was fitted on them):\n\n" + table + "\n\n" + misses(meter)) if table else ""
    return f"""### Does it look like anything the model was trained on?
An autoencoder rebuilds well only what looks like its training data, so a **large reconstruction error says
"this is not like MNIST"**: this is how autoencoders are used for **anomaly detection**. The meter places your
input's scores among those of MNIST's 10,000 test digits and combines them: {", ".join(names)}. Above the
{FLAG_PERCENTILE:g}th percentile of the test digits it flags the input. The same weakness is why an *unusual
digit*, written in a way MNIST rarely shows, reconstructs poorly too. Under the meter: what each of its
autoencoders rebuilds from your input; the smaller the code, the more it can only draw digits.{measured}"""


def meter_html(result: dict, names: list[str]) -> str:
    p = result["percentile"]
    colour = "#dc2626" if result["flagged"] else "#d97706" if p >= 90 else "#16a34a"
    rows = "".join(f"<tr><td>{n}</td><td>{r['score']:.4g}</td><td>{r['percentile']:.1f}</td></tr>"
                   for n, r in zip(names, result["parts"], strict=True))
    return (f'<div class="outlier-meter"><p class="verdict" style="color:{colour}">{result["verdict"]}</p>'
            f'<div class="gauge" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="{p:.1f}" '
            f'aria-label="percentile among MNIST test digits"><div class="fill" style="width:{p:.1f}%;'
            f'background:{colour}"></div><div class="mark" style="left:{FLAG_PERCENTILE}%"></div></div>'
            f'<p>More unusual than <b>{p:.1f}%</b> of MNIST test digits (combined score {result["combined"]:.2f}; '
            f"flagged above the {FLAG_PERCENTILE:g}th percentile, the line).</p>"
            f'<table class="parts"><tr><th>score</th><th>value</th><th>percentile among test digits</th></tr>'
            f"{rows}</table></div>")


ENDPOINTS = ("outlier",)  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /outlier endpoint."""
    zoo, meter, current, trusted = ctx.zoo, ctx.zoo.outliers, ctx.current, ctx.trusted
    models = {} if meter is None else {p.model: zoo.model_for(p.model) for p in meter.parts}
    gaussians = {} if meter is None else {p.gaussians: zoo.loaded.get(p.gaussians) for p in meter.parts if p.gaussians}
    if meter is None or None in models.values() or None in gaussians.values():
        gr.Markdown("The outlier meter or a model it reads is not in weights/ (`python -m ae.build` makes them).")
        return
    names = [describe(p, models[p.model]) for p in meter.parts]
    gr.Markdown(explain(meter, names))
    shown = gr.HTML(WAITING, elem_id="outlier-meter")

    def assess(x) -> dict:
        scores = part_scores(meter.parts, models, gaussians, torch.from_numpy(np.asarray(x, np.float32))[None])
        return meter.assess(scores[:, 0])

    # each autoencoder or VAE the meter reads, once (a VAE rebuilds from its mean code)
    rebuilders = list({p.model: models[p.model] for p in meter.parts if p.score != "nll"}.values())

    def rebuilt(x, name=None) -> str:  # the input beside what each autoencoder of the meter (and yours) makes of it
        x = np.asarray(x, np.float32)
        used = [*rebuilders, *([ctx.engines.get(YOURS).model] if name == YOURS else [])]
        pictures = [reconstruct_one(m, x) for m in used]
        return strip([x, *pictures], ["what the encoders see"] + [
            f"rebuilt from {m.code_size} numbers by {'your model' if m.name == YOURS else m.name}<br>"
            f"MSE {np.mean((r - x) ** 2):.4f}" for m, r in zip(used, pictures, strict=True)])

    def show(x, name=None) -> str:
        return WAITING if x is None else meter_html(assess(x), names) + rebuilt(x, name)

    gr.on([current.change, ctx.chosen.change], for_api("outlier view")(show), [current, ctx.chosen], shown,
          api_visibility="undocumented", show_progress="hidden")

    @for_api("outlier")
    def outlier_endpoint(image: FileData) -> dict:
        result = assess(model_input(image, trusted))
        for name, part in zip(names, result["parts"], strict=True):
            part["description"] = name
        return result

    gr.api(outlier_endpoint, api_name="outlier", concurrency_limit=4,
           api_description="An image -> how unlike MNIST's test digits it is: each score (reconstruction errors, the "
                           "code's likelihood) with its percentile among the 10,000 test digits, the combined score "
                           "and its percentile, whether it is flagged (above the 99th), and a verdict in words.")

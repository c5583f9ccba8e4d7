"""The outlier meter: how unlike MNIST the current input is, by its reconstruction error and the other scores
the meter combines, each placed among the 10,000 test digits' own; and how well that works, measured on
letters, shapes and scribbles. `build(ctx)`."""

import gradio as gr
import numpy as np
import torch
from gradio import FileData

from ae.i18n import L, both, in_both_languages, t
from ae.models import reconstruct_one
from ae.nondigits import NON_DIGITS
from ae.outliers import FLAG_PERCENTILE, JUDGE_SCORES, OutlierMeter, part_scores
from ae.ui.context import Context
from ae.ui.errors import for_api
from ae.ui.inputs import model_input
from ae.ui.render import strip
from ae.visitors import YOURS

WAITING = "Draw, upload or pick a digit in the first tab (or draw a letter, a face, a scribble) to measure it."
SCORES = {"mse": "reconstruction error (MSE), {d}-number autoencoder ({name})",
          "nll": "how unlikely the {d}-number code ({name}) is for any digit class (Gaussian fit)",
          "elbo": "how unlikely the input is under the {d}-number variational autoencoder ({name}): its negative ELBO",
          "elbo-complexity": "the {d}-number VAE's ({name}) negative ELBO less the input's own complexity (its "
                             "compressed length): unlikely for its simplicity or busyness alone does not count",
          "energy": "how much a digit classifier on pixels ({name}) doubts every digit class (its energy)",
          "mahalanobis": "how far the digit classifier's ({name}) features of the input lie from those of every "
                         "class's training digits (Mahalanobis distance)"}
SHORT = {"mse": "reconstruction error", "nll": "unlikely code", "elbo": "negative ELBO",
         "elbo-complexity": "ELBO less complexity", "energy": "classifier's doubt",
         "mahalanobis": "classifier's distance"}  # each score's name in the measured table
SETS = {"letters": "letters", "shapes": "shapes", "scribbles": "scribbles"}  # each set's name, to translate
TARGETS = {"letters": 0.70, "shapes": 0.90, "scribbles": 0.90}  # shares of non-digits the meter should flag
VERDICTS = {v: v for v in ("looks like the MNIST digits it was trained on", "unusual for an MNIST digit",
                           "unlike the digits it was trained on: flagged as an outlier",
                           "unlike anything it was trained on: flagged as an outlier")}  # ae.outliers' words


def describe(part, model) -> str:
    """A part of the meter in words, naming the model (or judge) it reads (the meter's own, whichever a visitor
    picked)."""
    if part.score in JUDGE_SCORES:
        return t(SCORES[part.score], name=part.model.removesuffix(".safetensors"))
    return t(SCORES[part.score], d=model.code_size, name=model.name)


def measured_table(meter: OutlierMeter, shown: dict[str, str] | None = None) -> str:
    """The figures stored with the meter as a markdown table: a row per score (named with the model it reads:
    shown[file], else the file's name) and one for the combination, and per set of non-digits the ROC AUC against
    the test digits and the share flagged when 1% of test digits are; then the worst share of test digits sent as
    people send them. Empty for a meter built without them."""
    flagged, auroc = meter.metrics.get("flagged", {}), meter.metrics.get("auroc", {})
    kinds = [k for k in NON_DIGITS if k in flagged]
    people = [r["combined"] for k, r in flagged.items() if k not in NON_DIGITS]
    if not kinds or not people:
        return ""
    shown = shown or {}
    scores = [(f"{t(SHORT.get(p.score, p.score))} ({shown.get(p.model, p.model.removesuffix('.safetensors'))})",
               f"{p.score}:{p.model}") for p in meter.parts]
    scores.append((t("**combined** (what the meter flags by)"), "combined"))

    def cell(k, column):
        area = auroc.get(k, {}).get(column)
        share = flagged[k].get(column)
        return (f"{area:.3f}" if area is not None else "-") + " · " + (f"{share:.0%}" if share is not None else "-")

    head = " | ".join(t("{set} ({count} images)", set=t(SETS.get(k, k)), count=f"{flagged[k]['count']:,}")
                      for k in kinds)
    rows = [f"| {name} | " + " | ".join(cell(k, column) for k in kinds) + " |" for name, column in scores]
    sent = [k for k in flagged if k not in NON_DIGITS]
    people_line = t("MNIST test digits sent as people send them (enlarged, off centre, on paper, as JPEG; "
                    "{count} each, {ways} ways): at most {share} flagged.", count=f"{flagged[sent[0]]['count']:,}",
                    ways=len(people), share=f"{max(people):.1%}")
    return (f"| {t('score')} | {head} |\n|---|" + "---|" * len(kinds) + "\n" + "\n".join(rows) + "\n\n"
            + t("Each cell: ROC AUC against the 10,000 test digits (1 separates them perfectly, 0.5 not at all) · "
                "the share of the set flagged when 1% of test digits are.") + "\n\n" + people_line)


def misses(meter: OutlierMeter) -> str:
    """What the meter still misses, in words, from its stored figures."""
    flagged = meter.metrics.get("flagged", {})
    short = [t("{set} ({flagged} flagged, {wanted} wanted)", set=t(SETS[k]), flagged=f"{flagged[k]['combined']:.0%}",
               wanted=f"{target:.0%}")
             for k, target in TARGETS.items() if k in flagged and flagged[k]["combined"] < target]
    below = t("Short of what it should flag: {sets}. ", sets=t("; ").join(short)) if short else ""
    return below + t("What it misses mostly *looks* like a digit: an O or a ring is a zero, an l or an I a one, an S "
                     "a five, a Z a two; and a digit it flags may only be written in a way MNIST rarely shows.")


EXPLAIN = """### Does it look like anything the model was trained on?
An autoencoder rebuilds well only what looks like its training data, so a **large reconstruction error says
"this is not like MNIST"**: this is how autoencoders are used for **anomaly detection**. The meter places your
input's scores among those of MNIST's 10,000 test digits and combines them, {rule}: {scores}. Above the
{flag}th percentile of the test digits it flags the input. The same weakness is why an *unusual
digit*, written in a way MNIST rarely shows, reconstructs poorly too. Under the meter: what each of its
autoencoders rebuilds from your input; the smaller the code, the more it can only draw digits."""
MEASURED = ("**How well it works** (measured when the meter was built, on non-digits made to test it; nothing was "
            "fitted on them):")


RULES = {"max": "by the rarest of them", "sum": "adding up how rare each one is"}  # ae.outliers.RULES in words


def explain(meter: OutlierMeter, names: list[str], shown: dict[str, str] | None = None) -> str:
    table = measured_table(meter, shown)
    measured = f"\n\n{t(MEASURED)}\n\n{table}\n\n{misses(meter)}" if table else ""
    return t(EXPLAIN, scores=t("; ").join(names), flag=f"{FLAG_PERCENTILE:g}", rule=t(RULES[meter.rule])) + measured


def meter_html(result: dict, names: list[str]) -> str:
    p = result["percentile"]
    colour = "#dc2626" if result["flagged"] else "#d97706" if p >= 90 else "#16a34a"
    rows = "".join(f"<tr><td>{n}</td><td>{r['score']:.4g}</td><td>{r['percentile']:.1f}</td></tr>"
                   for n, r in zip(names, result["parts"], strict=True))
    verdict = t(VERDICTS.get(result["verdict"], result["verdict"]))
    where = t("More unusual than <b>{share}%</b> of MNIST test digits (combined score {combined}; flagged above the "
              "{flag}th percentile, the line).", share=f"{p:.1f}", combined=f"{result['combined']:.2f}",
              flag=f"{FLAG_PERCENTILE:g}")
    return (f'<div class="outlier-meter"><p class="verdict" style="color:{colour}">{verdict}</p>'
            f'<div class="gauge" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="{p:.1f}" '
            f'aria-label="{t("percentile among MNIST test digits")}"><div class="fill" style="width:{p:.1f}%;'
            f'background:{colour}"></div><div class="mark" style="left:{FLAG_PERCENTILE}%"></div></div>'
            f"<p>{where}</p>"
            f'<table class="parts"><tr><th>{t("score")}</th><th>{t("value")}</th>'
            f'<th>{t("percentile among test digits")}</th></tr>{rows}</table></div>')


API = ("An image -> how unlike MNIST's test digits it is: each score (reconstruction errors, the code's likelihood, "
       "a VAE's negative ELBO, a digit classifier's doubt and distance) "
       "with its percentile among the 10,000 test digits, the combined score and its percentile, whether it is "
       "flagged (above the 99th), and a verdict in words.")
ENDPOINTS = ("outlier",)  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /outlier endpoint."""
    zoo, meter, current, trusted = ctx.zoo, ctx.zoo.outliers, ctx.current, ctx.trusted
    models, gaussians = zoo.meter_inputs()
    if meter is None or None in models.values() or None in gaussians.values():
        gr.Markdown(L("The outlier meter or a model it reads is not in weights/ (`python -m ae.build` makes them)."))
        return
    shown = {file: getattr(model, "name", file.removesuffix(".safetensors")) for file, model in models.items()}
    gr.Markdown(in_both_languages(lambda: explain(meter, [describe(p, models[p.model]) for p in meter.parts], shown)))

    def assess(x) -> dict:
        scores = part_scores(meter.parts, models, gaussians, torch.from_numpy(np.asarray(x, np.float32))[None])
        return meter.assess(scores[:, 0])

    # each autoencoder or VAE the meter reads, once (a VAE rebuilds from its mean code)
    rebuilders = list({p.model: models[p.model] for p in meter.parts
                       if p.score != "nll" and p.score not in JUDGE_SCORES}.values())

    def rebuilt(x, name=None) -> str:  # the input beside what each autoencoder of the meter (and yours) makes of it
        x = np.asarray(x, np.float32)
        used = [*rebuilders, *([ctx.engines.get(YOURS).model] if name == YOURS else [])]
        pictures = [reconstruct_one(m, x) for m in used]
        return strip([x, *pictures], [t("what the encoders see")] + [
            t("rebuilt from {d} numbers by {model}", d=m.code_size,
              model=t("your model") if m.name == YOURS else m.name)
            + f"<br>MSE {np.mean((r - x) ** 2):.4f}" for m, r in zip(used, pictures, strict=True)], scale=4)

    def show(x, name=None) -> str:
        if x is None:
            return f"<p>{t(WAITING)}</p>"
        names = [describe(p, models[p.model]) for p in meter.parts]
        return meter_html(assess(x), names) + rebuilt(x, name)

    # the meter on the first digit, made as the page is built: there before any input
    first = in_both_languages(lambda: show(ctx.first)) if ctx.first is not None else L(WAITING)
    shown = gr.HTML(first, elem_id="outlier-meter")

    gr.on([current.change, ctx.chosen.change], for_api("outlier view")(show), [current, ctx.chosen], shown,
          api_visibility="undocumented", show_progress="hidden")

    @for_api("outlier")
    def outlier_endpoint(image: FileData) -> dict:
        result = assess(model_input(image, trusted))
        for p, part in zip(meter.parts, result["parts"], strict=True):
            part["description"] = describe(p, models[p.model])
        return result

    gr.api(outlier_endpoint, api_name="outlier", concurrency_limit=4,
           api_description=both(API))

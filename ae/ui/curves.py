"""Training curves: how the served model learned, and real runs that show two of the tutorial's warnings,
overfitting and hard training. Curves only, from the histories stored with the artifacts. `build(ctx)`."""

import gradio as gr

from ae.i18n import L, in_both_languages, t
from ae.ui.context import Context
from ae.ui.render import line_plot

TRAIN, TEST, OTHER = "rgb(37,99,235)", "rgb(234,88,12)", "rgb(22,163,74)"
SERVED = """### How the served model ({model}) learned
The training loss (on the digits it learns from) and the test MSE (on 10,000 digits it never sees) after each of
its {epochs} epochs. They fall together: this model generalises."""
OVERFIT = """### Overfitting
The same network trained on only {digits} digits for {epochs} epochs. Its training loss keeps falling (to
{train}) while its test MSE stalls at {test}, {gap} times higher: it has learned *those* digits, not digits. (The
test MSE does not turn up here: its best epoch is {best_epoch}, {best}.)"""
HARD = """### Hard to train
The same network and data, three learning rates, the test MSE after each epoch. Far too high and it is stuck from
the first epoch (its steps throw the units out of the range where they learn); far too low and it barely moves in
the same time: {last}."""
RATES = (("one-cycle, peak 3e-3 (the recipe)", "lr-onecycle"), ("constant 0.05 (far too high)", "lr-high"),
         ("constant 1e-5 (far too low)", "lr-low"))


def plot(series, y_label: str = "MSE (log scale)", **options) -> str:
    """line_plot with its words (each line's name, the axes) in the visitor's language."""
    return line_plot([(t(name), colour, values) for name, colour, values in series], x_label=t("epoch"),
                     y_label=t(y_label), **options)


def story(text, chart, elem_id: str) -> None:
    """A story's words beside its chart (one above the other on a phone): the chart takes half the width."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            gr.Markdown(text)
        with gr.Column(scale=1, min_width=320):
            gr.HTML(in_both_languages(chart), elem_id=elem_id, elem_classes="curves-chart")


ENDPOINTS = ()  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built): one plot per story, each with one line that tells it."""
    zoo, served = ctx.zoo, ctx.served.model
    h = getattr(getattr(served, "checkpoint", None), "history", {})  # a model kind that trains keeps a history
    if h.get("train_loss"):
        story(L(SERVED, model=served.name, epochs=len(h["train_loss"])),
              lambda: plot([("training loss", TRAIN, h["train_loss"]), ("test MSE", TEST, h["test_mse"])]),
              "curves-served")
    run = zoo.runs.get("overfit")
    if run is not None:
        m, digits = run.metrics, run.train.get("limit")
        gap = m["last_test_mse"] / m["last_train_loss"]
        story(L(OVERFIT, digits=digits, epochs=len(run.history["train_loss"]), train=f"{m['last_train_loss']:.4f}",
                test=f"{m['last_test_mse']:.4f}", gap=f"{gap:.0f}", best_epoch=m["best_epoch"],
                best=f"{m['best_test_mse']:.4f}"),
              lambda: plot([("training loss", TRAIN, run.history["train_loss"]),
                            ("test MSE", TEST, run.history["test_mse"])],
                           marks=[(len(run.history["test_mse"]), t("gap ×{gap}", gap=f"{gap:.0f}"))]),
              "curves-overfit")
    lr = [(name, zoo.runs.get(key)) for name, key in RATES]
    if all(r is not None for _, r in lr):
        last = {name: r.metrics["last_test_mse"] for name, r in lr}
        story(in_both_languages(lambda: t(HARD, last=t(", ").join(f"{t(name)}: {v:.4f}" for name, v in last.items()))),
              lambda: plot([(name, colour, r.history["test_mse"]) for (name, r), colour in
                            zip(lr, (TRAIN, TEST, OTHER), strict=True)], y_label="test MSE (log scale)"),
              "curves-lr")

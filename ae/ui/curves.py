"""Training curves: how the served model learned, and real runs that show two of the tutorial's warnings,
overfitting and hard training. Curves only, from the histories stored with the artifacts. `build(ctx)`."""

import gradio as gr

from ae.ui.context import Context
from ae.ui.render import line_plot

TRAIN, TEST, OTHER = "rgb(37,99,235)", "rgb(234,88,12)", "rgb(22,163,74)"


ENDPOINTS = ()  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built): one plot per story, each with one line that tells it."""
    zoo, served = ctx.zoo, ctx.served.model
    h = getattr(getattr(served, "checkpoint", None), "history", {})  # a model kind that trains keeps a history
    if h.get("train_loss"):
        gr.Markdown(f"### How the served model ({served.name}) learned\nThe training loss (on the digits it learns "
                    f"from) and the "
                    f"test MSE (on 10,000 digits it never sees) after each of its {len(h['train_loss'])} epochs. "
                    f"They fall together: this model generalises.")
        gr.HTML(line_plot([("training loss", TRAIN, h["train_loss"]), ("test MSE", TEST, h["test_mse"])]),
                elem_id="curves-served")
    run = zoo.runs.get("overfit")
    if run is not None:
        m, digits = run.metrics, run.train.get("limit")
        gap = m["last_test_mse"] / m["last_train_loss"]
        gr.Markdown(f"### Overfitting\nThe same network trained on only {digits} digits for "
                    f"{len(run.history['train_loss'])} epochs. Its training loss keeps falling (to "
                    f"{m['last_train_loss']:.4f}) while its test MSE stalls at {m['last_test_mse']:.4f}, "
                    f"{gap:.0f} times higher: it has learned *those* digits, not digits. (The test MSE does not "
                    f"turn up here: its best epoch is {m['best_epoch']}, {m['best_test_mse']:.4f}.)")
        gr.HTML(line_plot([("training loss", TRAIN, run.history["train_loss"]),
                           ("test MSE", TEST, run.history["test_mse"])],
                          marks=[(len(run.history["test_mse"]), f"gap ×{gap:.0f}")]), elem_id="curves-overfit")
    lr = [(name, zoo.runs.get(key)) for name, key in (("one-cycle, peak 3e-3 (the recipe)", "lr-onecycle"),
                                                       ("constant 0.05 (far too high)", "lr-high"),
                                                       ("constant 1e-5 (far too low)", "lr-low"))]
    if all(r is not None for _, r in lr):
        last = {name: r.metrics["last_test_mse"] for name, r in lr}
        gr.Markdown("### Hard to train\nThe same network and data, three learning rates, the test MSE after each "
                    "epoch. Far too high and it is stuck from the first epoch (its steps throw the units out of "
                    "the range where they learn); far too low and it barely moves in the same time: "
                    + ", ".join(f"{name}: {v:.4f}" for name, v in last.items()) + ".")
        gr.HTML(line_plot([(name, colour, r.history["test_mse"]) for (name, r), colour in
                           zip(lr, (TRAIN, TEST, OTHER), strict=True)], y_label="test MSE (log scale)"),
                elem_id="curves-lr")

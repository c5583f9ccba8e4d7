"""The views, in the order of the lesson."""

import gradio as gr

from ae.i18n import L
from ae.ui import (
    classifier,
    curves,
    denoise,
    dimensions,
    explore,
    generate,
    interpolate,
    lab,
    latent_map,
    outliers,
    plane,
    sizes,
)

# The tabs in the order of the lesson (the tutorial's): what an autoencoder is, how much a code holds, what it is
# good for, where it fails; then how it learned, and a model of the learner's own. Each ends with a pointer to the
# next, saying what it shows.
VIEWS = [("Draw and steer", "explore", explore, "what an autoencoder does with a digit"),
         ("Code sizes", "sizes", sizes, "how much 2 to 64 numbers can hold, beside PCA"),
         ("2-number plane", "plane", plane, "every code a 2-number model can make, as one map"),
         ("Dimensions", "dimensions", dimensions, "what each number of a code changes"),
         ("Interpolate", "interpolate", interpolate, "the path between two digits' codes"),
         ("Generate", "generate", generate, "new digits from codes nobody drew"),
         ("Denoise", "denoise", denoise, "an autoencoder that cleans what it rebuilds"),
         ("Classify", "classify", classifier, "how much of a digit's class its code holds"),
         ("Latent map", "map", latent_map, "where 10,000 test digits' codes lie"),
         ("Outliers", "outliers", outliers, "where an autoencoder fails: what is not a digit"),
         ("Curves", "curves", curves, "how these models learned"),
         ("Train your own", "lab", lab, "a model of your own, learning in front of you")]


def next_step(tabs: gr.Tabs, title: str, key: str, view, what: str) -> gr.Button:
    """The pointer at the end of a view to the next one in the lesson: a button that opens it, and what it shows."""
    button = gr.Button(L("Next: {title} →", title=L(title)), variant="secondary", size="sm", elem_classes="next-step")
    gr.Markdown(L(what), elem_classes="next-what")
    button.click(lambda: gr.Tabs(selected=key), None, tabs, api_visibility="private", queue=False,
                 show_progress="hidden")
    return button

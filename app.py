"""The Gradio app: draw or upload a digit, see its code and reconstruction, steer the code.

`python app.py` serves it (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply, as on Hugging Face Spaces;
AE_CHECKPOINT=path serves another checkpoint). This file only composes: load the model, build the views
and the API, launch. The views live in ae/ui/, the library in ae/.
"""

import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home unless the user opts in
# Gradio rebuilds a pandas table of the last 10,000 events after every event, for a /monitoring page this app
# does not serve (benchmarks/latency.py, 3,000 HTTP /decode calls: 19-22 ms a call with it, 15 ms without).
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(10**9))

import gradio as gr
import torch

from ae.checkpoint import DEFAULT_PATH
from ae.inference import Engine
from ae.ui import api, classifier, curves, denoise, explore, generate, interpolate, latent_map, outliers, page, plane
from ae.ui import sizes
from ae.ui.serve import load_or_train
from ae.zoo import load_zoo

EXAMPLES = Path(__file__).resolve().parent / "examples"
CHECKPOINT = Path(os.environ.get("AE_CHECKPOINT", DEFAULT_PATH))

SERVED = load_or_train(CHECKPOINT, endpoints=api.ENDPOINTS + explore.EVENTS)
ENGINE = Engine(SERVED)
ZOO = load_zoo(served=SERVED if CHECKPOINT == DEFAULT_PATH else None)  # the models the other views compare
torch.set_num_threads(1)  # each request is tiny; serving several at once is where the cores go
print(f"Serving {CHECKPOINT}: {ENGINE.describe()}; comparing code sizes {ZOO.sizes}", flush=True)

with gr.Blocks(title=page.TITLE) as demo:
    gr.Markdown(page.intro(ENGINE))
    with gr.Tabs():
        with gr.Tab("Draw and steer", id="explore"):
            first, current = explore.build(ENGINE, EXAMPLES)
        with gr.Tab("Code sizes", id="sizes"):
            sizes.build(ZOO, current, trusted=(EXAMPLES,))
        with gr.Tab("2-number plane", id="plane"):
            plane.build(ZOO, current)
        with gr.Tab("Interpolate", id="interpolate"):
            interpolate.build(ENGINE, current, EXAMPLES, trusted=(EXAMPLES,))
        with gr.Tab("Generate", id="generate"):
            generate.build(ZOO)
        with gr.Tab("Denoise", id="denoise"):
            denoise.build(ZOO, current, trusted=(EXAMPLES,))
        with gr.Tab("Classify", id="classify"):
            classifier.build(ZOO, current, trusted=(EXAMPLES,))
        with gr.Tab("Latent map", id="map"):
            latent_map.build(ZOO, current, first, trusted=(EXAMPLES,))
        with gr.Tab("Outliers", id="outliers"):
            outliers.build(ZOO, current, trusted=(EXAMPLES,))
        with gr.Tab("Curves", id="curves"):
            curves.build(ZOO, SERVED)
    gr.Markdown(page.API_NOTE)
    api.build(ENGINE, trusted=(EXAMPLES,))

if __name__ == "__main__":
    page.serve(demo)

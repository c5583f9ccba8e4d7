"""The Gradio app: draw or upload a digit, see its code and reconstruction, steer the code.

`python app.py` serves it (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply, as on Hugging Face Spaces;
AE_CHECKPOINT=path serves another checkpoint). This file only composes: load the models, build the views
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
from ae.inference import Engines
from ae.ui import api, classifier, curves, denoise, explore, generate, interpolate, latent_map, outliers, page, plane
from ae.ui import sizes
from ae.ui.context import Context
from ae.ui.serve import endpoint_names, load_or_train
from ae.zoo import load_zoo

EXAMPLES = Path(__file__).resolve().parent / "examples"
CHECKPOINT = Path(os.environ.get("AE_CHECKPOINT", DEFAULT_PATH))
VIEWS = [("Draw and steer", "explore", explore), ("Code sizes", "sizes", sizes), ("2-number plane", "plane", plane),
         ("Interpolate", "interpolate", interpolate), ("Generate", "generate", generate),
         ("Denoise", "denoise", denoise), ("Classify", "classify", classifier), ("Latent map", "map", latent_map),
         ("Outliers", "outliers", outliers), ("Curves", "curves", curves)]

SERVED = load_or_train(CHECKPOINT, endpoints=endpoint_names([api] + [view for *_, view in VIEWS]))
ZOO = load_zoo(served=SERVED)  # every model (the served one the default) and every artifact, by role
CTX = Context(ZOO, Engines(ZOO.catalogue), EXAMPLES)
torch.set_num_threads(1)  # each request is tiny; serving several at once is where the cores go
print(f"Serving {CHECKPOINT}: {CTX.served.describe()}; models {', '.join(ZOO.catalogue.names())}", flush=True)

with gr.Blocks(title=page.TITLE) as demo:
    gr.Markdown(page.intro(CTX.served))
    with gr.Tabs():
        for title, key, view in VIEWS:
            with gr.Tab(title, id=key):
                CTX = view.build(CTX) or CTX  # the first view adds the visitor's state the others read
    gr.Markdown(page.API_NOTE)
    api.build(CTX)

if __name__ == "__main__":
    page.serve(demo)

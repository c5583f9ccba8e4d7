"""The Gradio app: draw or upload a digit, see its code and reconstruction, steer the code.

`python app.py` serves it (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply, as on Hugging Face Spaces;
AE_CHECKPOINT=path serves another checkpoint). This file only composes: load the models, build the views
and the API, launch. The views live in ae/ui/, the library in ae/.
"""

import functools
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home unless the user opts in
# Gradio rebuilds a pandas table of the last 10,000 events after every event, for a /monitoring page this app
# does not serve (benchmarks/latency.py, 3,000 HTTP /decode calls: 19-22 ms a call with it, 15 ms without).
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(10**9))

import gradio as gr
import torch

from ae.checkpoint import DEFAULT_PATH
from ae.data import count_digits, read_digits, resolve_data_dir
from ae.inference import Engines
from ae.jobs import Jobs, OnDemand, backend_from_env
from ae.ui import api, classifier, curves, denoise, dimensions, explore, generate, interpolate, lab, latent_map
from ae.ui import outliers, page, plane, sizes
from ae.ui.context import Context
from ae.ui.serve import endpoint_names, load_or_train
from ae.zoo import load_zoo

EXAMPLES = Path(__file__).resolve().parent / "examples"
CHECKPOINT = Path(os.environ.get("AE_CHECKPOINT", DEFAULT_PATH))
DATA_DIR = resolve_data_dir()  # MNIST for the training lab: AE_DATA_DIR, else ./data
# Train your own second, near the start of the tab bar, which wraps onto more rows rather than hide tabs under a menu.
VIEWS = [("Draw and steer", "explore", explore), ("Train your own", "lab", lab), ("Code sizes", "sizes", sizes),
         ("2-number plane", "plane", plane), ("Interpolate", "interpolate", interpolate),
         ("Generate", "generate", generate), ("Denoise", "denoise", denoise), ("Classify", "classify", classifier),
         ("Latent map", "map", latent_map), ("Outliers", "outliers", outliers),
         ("Dimensions", "dimensions", dimensions), ("Curves", "curves", curves)]

SERVED = load_or_train(CHECKPOINT, endpoints=endpoint_names([api] + [view for *_, view in VIEWS]))
ZOO = load_zoo(served=SERVED)  # every model (the served one the default) and every artifact, by role
# Training runs in worker processes (AE_TRAIN_WORKERS of them, 1 by default: the other core answers the page), or on
# Ray when AE_TRAIN_CLUSTER names one; made when first needed, or at launch.
LAB = OnDemand(lambda: Jobs(backend_from_env(DATA_DIR, workers=int(os.environ.get("AE_TRAIN_WORKERS", "1")))))
LABELLED = functools.cache(functools.partial(read_digits, DATA_DIR, 5000))  # read when first needed
DIGITS = count_digits(DATA_DIR)  # 0: no MNIST here, so no training (the lab's tab says so)
CTX = Context(ZOO, Engines(ZOO.catalogue), EXAMPLES, lab=LAB, lab_digits=DIGITS, labelled=LABELLED if DIGITS else None)
torch.set_num_threads(1)  # each request is tiny; serving several at once is where the cores go
print(f"Serving {CHECKPOINT}: {CTX.served.describe()}; models {', '.join(ZOO.catalogue.names())}", flush=True)

with gr.Blocks(title=page.TITLE) as demo:
    gr.Markdown(page.intro(CTX.served))
    with gr.Tabs(overflow_behavior="wrap", elem_id="views"):  # every view's title in sight, at 1280 px or on a phone
        for title, key, view in VIEWS:
            with gr.Tab(title, id=key):
                CTX = view.build(CTX) or CTX  # the first view adds the visitor's state the others read
    gr.Markdown(page.API_NOTE)
    api.build(CTX)

if __name__ == "__main__":
    page.serve(demo, lab=LAB if DIGITS else None)

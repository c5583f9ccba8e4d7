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
from ae.i18n import L
from ae.inference import Engines
from ae.jobs import Jobs, OnDemand, backend_from_env
from ae.ui import api, page
from ae.ui.context import Context, first_digit
from ae.ui.lesson import VIEWS, next_step
from ae.ui.serve import endpoint_names, load_or_train
from ae.zoo import load_zoo

EXAMPLES = Path(__file__).resolve().parent / "examples"
CHECKPOINT = Path(os.environ.get("AE_CHECKPOINT", DEFAULT_PATH))
DATA_DIR = resolve_data_dir()  # MNIST for the training lab: AE_DATA_DIR, else ./data
SERVED = load_or_train(CHECKPOINT, endpoints=endpoint_names([api] + [view for _, _, view, _ in VIEWS]))
ZOO = load_zoo(served=SERVED)  # every model (the served one the default) and every artifact, by role
# Training runs in worker processes (AE_TRAIN_WORKERS of them, 1 by default: the other core answers the page), or on
# Ray when AE_TRAIN_CLUSTER names one; made when first needed, or at launch.
LAB = OnDemand(lambda: Jobs(backend_from_env(DATA_DIR, workers=int(os.environ.get("AE_TRAIN_WORKERS", "1")))))
LABELLED = functools.cache(functools.partial(read_digits, DATA_DIR, 5000))  # read when first needed
DIGITS = count_digits(DATA_DIR)  # 0: no MNIST here, so no training (the lab's tab says so)
# The digit every view shows before the visitor draws: a random example, or AE_FIRST_DIGIT=seed's (tests fix it).
FIRST, FIRST_NAME = first_digit(EXAMPLES, seed=os.environ.get("AE_FIRST_DIGIT"))
CTX = Context(ZOO, Engines(ZOO.catalogue), EXAMPLES, lab=LAB, lab_digits=DIGITS, labelled=LABELLED if DIGITS else None,
              first=FIRST, first_name=FIRST_NAME)
torch.set_num_threads(1)  # each request is tiny; serving several at once is where the cores go
print(f"Serving {CHECKPOINT}: {CTX.served.describe()}; models {', '.join(ZOO.catalogue.names())}", flush=True)

with gr.Blocks(title=page.TITLE) as demo:
    gr.HTML(page.language_switch(), elem_id="language-switch")
    gr.Markdown(page.intro(CTX.served), elem_id="intro")
    with gr.Tabs(overflow_behavior="wrap", elem_id="views") as tabs:  # every title in sight, laptop or phone
        for i, (title, key, view, _) in enumerate(VIEWS):
            with gr.Tab(L(title), id=key):
                CTX = view.build(CTX) or CTX  # the first view adds the visitor's state the others read
                if i + 1 < len(VIEWS):
                    next_step(tabs, *VIEWS[i + 1])
    gr.Markdown(L(page.API_NOTE))
    api.build(CTX)

if __name__ == "__main__":
    page.serve(demo, lab=LAB if DIGITS else None)

"""The latent sliders: one Gradio component holding one slider per code dimension, its value the code.

One component rather than a `gr.Slider` per dimension (benchmarks/latency.py, 64-number code): with 64
slider inputs the page spent ~50 ms gathering them before each decode request left the browser, and every
API call's new session copied the configuration of each of the 64 sliders on the server (~7 ms and
~0.2 MB per call). Its CSS and JS are in ae/ui/static/.
"""

import gradio as gr

from ae.i18n import LANGUAGES, t
from ae.ui import static

# ${...} is evaluated by the page with the component's props in scope (low, high, order, shown). The
# markup does not depend on the value: Gradio re-renders the template at every change of the value and
# skips the DOM work when the markup is unchanged, so a slider move costs no re-render (measured in
# Chrome's profiler: ~14 ms of DOM diffing per move when the markup carried the 64 values). The values
# are put into the inputs by static/sliders.js. Each slider is a <label id="dim-D">, so tests and people
# can find dimension D by its number.
# The words come from the `words` prop in the page's language (navigator.language: ae/ui/static/language.js).
_W = "(words[navigator.language] ?? words.en)"
_SLIDER = """<label class="dim" id="dim-${d}" title="${W.dimension} ${d}: ${low[d]} … ${high[d]}">
<span class="name">${W.dim} ${d}</span>
<input type="range" min="${low[d]}" max="${high[d]}" step="0.001" data-dim="${d}"
 aria-label="${W.dimension} ${d}">
<output></output></label>""".replace("W.", _W + ".")

TEMPLATE = (
    '<div class="latent-sliders">'
    '<div class="grid">${order.slice(0, shown).map(d => `' + _SLIDER + '`).join("")}</div>'
    '${order.length > shown ? `<details><summary>${' + _W + '.others.replace("{n}", order.length - shown)}</summary>'
    '<div class="grid">${order.slice(shown).map(d => `' + _SLIDER + '`).join("")}</div></details>` : ""}</div>'
)


WORDS = {language: {"dim": t("dim", language), "dimension": t("dimension", language),
                    "others": t("The other {n} dimensions", language)} for language in LANGUAGES}


class LatentSliders(gr.HTML):
    """One range slider per code dimension, most important first; the value is the code as a list of floats.

    The CSS goes in once through gr.HTML's `head`: a css_template would be rewritten into the page's
    stylesheets at every re-render of the sliders, i.e. at every slider move.
    """

    def __init__(self, value: list[float] | None = None, *, low: list[float], high: list[float], order: list[int],
                 shown: int = 8, decoder_url: str = "", target: str = "", **kwargs):
        """decoder_url: the decoder's weights (ae.export) for the page to draw each move itself over the
        element with id `target`; with no URL, or if it cannot be used, every move is decoded by the server."""
        # Gradio rebuilds the component from these arguments, without `value`, for each gr.update() of it.
        super().__init__(
            value=value, html_template=TEMPLATE, js_on_load=static("decoder.js") + static("sliders.js"),
            head=f"<style>{static('sliders.css')}</style>",
            low=low, high=high, order=order, shown=shown, decoder_url=decoder_url, target=target, words=WORDS,
            **kwargs,
        )

    def preprocess(self, payload):
        """The code the page sent, as is; the handler checks it (length, numbers, range) and says what is off."""
        return payload

    def postprocess(self, value):
        return None if value is None else [round(float(v), 3) for v in value]

    def api_info(self) -> dict:
        return {"type": "array", "items": {"type": "number"}, "description": "the code, one number per dimension"}

    def example_payload(self):
        return [0.0] * len(self.props["order"])

    def example_value(self):
        return self.example_payload()

"""The latent sliders: one Gradio component holding all 64 of them, its value the code as a list.

One component rather than 64 `gr.Slider`s (session 5, benchmarks/latency.py): with 64 slider inputs
the page spent ~50 ms gathering them before each decode request left the browser, and every API
call's new session copied the configuration of each of the 64 sliders on the server (~7 ms and
~0.2 MB per call).
"""

import gradio as gr

# ${...} is evaluated by the page with the component's props in scope (low, high, order, shown). The
# markup does not depend on the value: Gradio re-renders the template at every change of the value and
# skips the DOM work when the markup is unchanged, so a slider move costs no re-render (measured in
# Chrome's profiler: ~14 ms of DOM diffing per move when the markup carried the 64 values). The values
# are put into the inputs by JS_ON_LOAD below. Each slider is a <label id="dim-D">, so tests and people
# can find dimension D by its number.
_SLIDER = """<label class="dim" id="dim-${d}" title="dimension ${d}: ${low[d]} to ${high[d]}">
<span class="name">dim ${d}</span>
<input type="range" min="${low[d]}" max="${high[d]}" step="0.001" data-dim="${d}"
 aria-label="dimension ${d} of the code">
<output></output></label>"""

TEMPLATE = (
    '<div class="latent-sliders">'
    '<div class="grid">${order.slice(0, shown).map(d => `' + _SLIDER + '`).join("")}</div>'
    '<details><summary>The other ${order.length - shown} dimensions</summary>'
    '<div class="grid">${order.slice(shown).map(d => `' + _SLIDER + '`).join("")}</div></details></div>'
)

# Added once to the page's <head> (gr.HTML's `head`): a css_template would be rewritten into the page's
# stylesheets at every re-render of the sliders, i.e. at every slider move.
CSS = """
.latent-sliders .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 4px 18px; }
.latent-sliders .dim { display: grid; grid-template-columns: 4.2em 1fr 3.2em; align-items: center; gap: 6px;
                       font-size: 0.9em; cursor: pointer; }
.latent-sliders .name { color: var(--body-text-color-subdued); white-space: nowrap; }
.latent-sliders input { width: 100%; accent-color: var(--color-accent); margin: 6px 0; }
.latent-sliders output { font-variant-numeric: tabular-nums; text-align: right; }
.latent-sliders details { margin-top: 8px; }
.latent-sliders summary { cursor: pointer; color: var(--body-text-color-subdued); padding: 4px 0; }
"""

# show() puts a code (from the server, e.g. after an encode) into the inputs. A moved slider writes its
# number into the code and sends the whole code: one input for the event, not 64.
JS_ON_LOAD = """
const show = () => {
  const code = props.value || [];
  for (const input of element.querySelectorAll('input[data-dim]')) {
    const v = code[Number(input.dataset.dim)];
    if (v === undefined || v === null) continue;
    input.value = v;
    input.nextElementSibling.textContent = Number(v).toFixed(2);
  }
};
show();
watch('value', show);
element.addEventListener('input', (e) => {
  const dim = e.target.dataset ? e.target.dataset.dim : undefined;
  if (dim === undefined) return;
  const code = [...props.value];
  code[Number(dim)] = parseFloat(e.target.value);
  e.target.nextElementSibling.textContent = code[Number(dim)].toFixed(2);
  props.value = code;
  trigger('input');
});
"""


class LatentSliders(gr.HTML):
    """One range slider per code dimension, most important first; the value is the code as 64 floats."""

    def __init__(self, value: list[float] | None = None, *, low: list[float], high: list[float], order: list[int],
                 shown: int = 8, **kwargs):
        # Gradio rebuilds the component from these arguments, without `value`, for each gr.update() of it.
        super().__init__(
            value=value, html_template=TEMPLATE, js_on_load=JS_ON_LOAD, head=f"<style>{CSS}</style>",
            low=low, high=high, order=order, shown=shown, **kwargs,
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

// The latent sliders' js_on_load (ae/ui/sliders.py): Gradio runs it with `element`, `props`, `watch` and
// `trigger` in scope. show() puts a code (from the server, e.g. after an encode) into the inputs. A moved
// slider writes its number into the code and sends the whole code: one input for the event, not one per slider.
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

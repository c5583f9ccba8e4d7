// The interpolation tab's live morph (ae/ui/interpolate.py), after decoder.js: the component's value holds
// the two digits' codes ({a, b}); as the morph slider (#interp-morph) moves, the code (1 - t) a + t b is
// decoded here, with the served model's weights (props.decoder_url), and drawn on this element's canvas.
// The server still draws its own picture of the slider's position below it.
let decoder = null;
fetchDecoder(props.decoder_url, props.code_size)
  .then((parsed) => { decoder = parsed; draw(); })
  .catch((e) => console.warn('No live morph: the weights could not be used here.', e));

const canvas = element.querySelector('canvas');
function draw() {
  const codes = props.value, input = document.querySelector('#interp-morph input[type=range]');
  if (!decoder || !codes || !codes.a || !codes.b) return;
  const t = input ? Number(input.value) : 0.5;
  paint(canvas, decoder.side, decode(decoder, codes.a.map((x, i) => (1 - t) * x + t * codes.b[i])));
}
watch('value', draw);
document.addEventListener('input', (e) => { if (e.target.closest && e.target.closest('#interp-morph')) draw(); });
element.decodeHere = (code) => (decoder ? Array.from(decode(decoder, code)) : null);  // for the browser tests

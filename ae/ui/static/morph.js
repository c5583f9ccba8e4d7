// The interpolation tab's live morph (ae/ui/interpolate.py), after decoder.js: the component's value holds
// the two digits' codes ({a, b}); as the morph slider (#interp-morph) moves, the code (1 - t) a + t b is
// decoded here, with the visitor's model's weights (props.decoder_url), and drawn on this element's canvas.
// The server still draws its own picture of the slider's position below it.
// The visitor's model may change: the weights in use are those of the latest decoder_url only.
let decoder = null, url = null;
function load() {
  if (props.decoder_url === url) return;
  const wanted = url = props.decoder_url;
  decoder = null;
  fetchDecoder(url, props.code_size)
    .then((parsed) => { if (wanted === url) { decoder = parsed; draw(); } })
    .catch((e) => console.warn('No live morph: the weights could not be used here.', e));
}
load();

const canvas = element.querySelector('canvas');
function draw() {
  const codes = props.value, input = document.querySelector('#interp-morph input[type=range]');
  if (!decoder || !codes || !codes.a || !codes.b) return;
  const t = input ? Number(input.value) : 0.5;
  paint(canvas, decoder.side, decode(decoder, codes.a.map((x, i) => (1 - t) * x + t * codes.b[i])));
}
watch(Object.keys({value: 0, decoder_url: 0}), () => { load(); draw(); });  // unquoted: see sliders.js
document.addEventListener('input', (e) => { if (e.target.closest && e.target.closest('#interp-morph')) draw(); });
element.decodeHere = (code) => (decoder ? Array.from(decode(decoder, code)) : null);  // for the browser tests

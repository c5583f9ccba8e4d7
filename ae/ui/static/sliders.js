// The latent sliders' js_on_load (ae/ui/sliders.py): Gradio runs it with `element`, `props`, `watch` and
// `trigger` in scope.
//
// A moved slider writes its number into the code (props.value) and the page draws the decoded picture
// itself (decoder.js, which runs before this file), on a canvas over the reconstruction, in the same
// frame, from the weights fetched once from the app itself (props.decoder_url). The server stays the
// source of truth: it hears the code at most every SEND_EVERY ms while a drag goes on and once more when
// it stops, and answers with its own picture, chart and numbers. A model picked brings its own weights. If
// the weights cannot be fetched or anything here fails, every move goes to the server, as it decodes too.

const SEND_EVERY = 400;  // ms between codes sent to the server during a drag
const SETTLE = 150;  // ms after a move before its code is sent, so that a stop sends the final code at once

let decoder = null;  // {side, layers: [{w, b, rows, cols, act}]} once the weights are in
let canvas = null;  // over the reconstruction while it shows a code decoded here
let local = null;  // the code as last moved here, to tell the server's own changes of the value apart
let timer = null, lastSent = -Infinity;

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
watch('value', () => {
  show();
  const code = props.value || [];
  const same = local && code.length === local.length && code.every((v, i) => Math.abs(v - local[i]) < 1e-3);
  if (!same && canvas) canvas.style.display = 'none';  // a new encode or a reset: the server's picture stands
});

function draw(pixels) {
  const target = document.getElementById(props.target);
  if (!target) return false;
  const side = decoder.side;
  if (!canvas || !canvas.isConnected) {
    canvas = document.createElement('canvas');
    canvas.width = canvas.height = side;
    canvas.className = 'in-page-decode';
    canvas.setAttribute('aria-label', 'the picture decoded in this page from the sliders');
    target.appendChild(canvas);
  }
  const img = target.querySelector('img');  // cover the server's picture, or the empty frame
  const box = target.getBoundingClientRect(), ref = img ? img.getBoundingClientRect() : box;
  const size = Math.min(ref.width, ref.height);
  Object.assign(canvas.style, {display: 'block', width: `${size}px`, height: `${size}px`,
    left: `${ref.left - box.left + (ref.width - size) / 2}px`, top: `${ref.top - box.top + (ref.height - size) / 2}px`});
  paint(canvas, side, pixels);
  return true;
}

function send() {  // the server hears the latest code: now if it has not lately, else when SEND_EVERY allows
  if (timer !== null) return;
  const wait = Math.max(SETTLE, lastSent + SEND_EVERY - performance.now());
  timer = setTimeout(() => {
    timer = null;
    lastSent = performance.now();
    trigger('input');
  }, wait);
}

// For the browser tests: what this page draws for a code (null until the weights are in).
element.decodeHere = (code) => (decoder ? Array.from(decode(decoder, code)) : null);

// The visitor may pick another model: the server then sends its decoder_url and slider ranges, and the
// weights in use are those of the latest URL only (a slower, older fetch must not win).
let url = null;
function load() {
  if (props.decoder_url === url) return;
  url = props.decoder_url;
  decoder = null;
  const wanted = url;
  fetchDecoder(url, props.order.length)
    .then((parsed) => { if (wanted === url) decoder = parsed; })
    .catch((e) => console.warn('The sliders decode on the server: the weights could not be used here.', e));
}
load();
// The props' names are not written as quoted strings: gr.HTML takes any quoted name in this file for a custom
// event, and would send its event listener along with every update of the props.
watch(Object.keys({decoder_url: 0, order: 0}), () => { load(); show(); });

element.addEventListener('input', (e) => {
  const dim = e.target.dataset ? e.target.dataset.dim : undefined;
  if (dim === undefined) return;
  const code = [...props.value];
  code[Number(dim)] = parseFloat(e.target.value);
  e.target.nextElementSibling.textContent = code[Number(dim)].toFixed(2);
  local = code;
  props.value = code;
  let drawn = false;
  try {
    drawn = decoder !== null && draw(decode(decoder, code));
  } catch (err) {
    console.warn('In-page decoding failed; the server decodes instead.', err);
    decoder = null;
  }
  if (drawn) send();
  else trigger('input');  // no weights here (yet): the server decodes every move, as it always could
});

// The keyboard: a slider's step (0.001, for smooth drags) would take thousands of arrow presses to cross its
// range, so the arrows move it by a hundredth of its range and Page Up / Page Down by a tenth (Home and End
// keep the browser's own meaning: the ends).
const KEY_STEPS = {ArrowRight: 0.01, ArrowUp: 0.01, ArrowLeft: -0.01, ArrowDown: -0.01, PageUp: 0.1, PageDown: -0.1};
element.addEventListener('keydown', (e) => {
  const input = e.target;
  if (!(e.key in KEY_STEPS) || !input.dataset || input.dataset.dim === undefined) return;
  e.preventDefault();
  const low = Number(input.min), high = Number(input.max);
  input.value = Math.min(high, Math.max(low, Number(input.value) + KEY_STEPS[e.key] * (high - low)));
  input.dispatchEvent(new Event('input', {bubbles: true}));
});

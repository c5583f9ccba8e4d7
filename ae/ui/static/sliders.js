// The latent sliders' js_on_load (ae/ui/sliders.py): Gradio runs it with `element`, `props`, `watch` and
// `trigger` in scope.
//
// A moved slider writes its number into the code (props.value) and the page draws the decoded picture
// itself, on a canvas over the reconstruction, in the same frame. The decoder is two small matrix-vector
// products (64 -> 256 -> 784 for the shipped model, ~0.2 MFLOP), so a few lines of typed-array arithmetic
// are the right tool: a runtime such as onnxruntime-web (a 12.8 MB wasm file) or TensorFlow.js (~1 MB)
// would be far larger than the model (~430 KB of float16 weights, fetched once from the app itself,
// props.decoder_url). The server stays the source of truth: it hears the code at most every SEND_EVERY ms
// while a drag goes on and once more when it stops, and answers with its own picture, chart and numbers.
// If the weights cannot be fetched or anything here fails, every move goes to the server, as it decodes too.

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

function halfToFloat(half) {  // IEEE float16 bits -> Float32Array
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i], sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24
      : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

function parseDecoder(buf) {  // safetensors: a u64 header length, a JSON header, then the tensors' bytes
  const n = Number(new DataView(buf).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  const tensor = (name) => {
    const t = header[name], [start, end] = t.data_offsets;
    if (t.dtype !== 'F16') throw new Error(`${name} is ${t.dtype}, not F16`);
    return {data: halfToFloat(new Uint16Array(buf.slice(8 + n + start, 8 + n + end))), shape: t.shape};
  };
  const layers = JSON.parse(header.__metadata__.layers).map((l) => {
    const w = tensor(l.weight), b = tensor(l.bias);
    return {w: w.data, b: b.data, rows: w.shape[0], cols: w.shape[1], act: l.activation};
  });
  if (layers[0].cols !== props.order.length) throw new Error('the weights are for another code size');
  return {side: Number(header.__metadata__.side), layers};
}

function decode(code) {  // (D,) code -> (side*side,) pixels in [0, 1], as the model's decoder computes them
  let x = Float64Array.from(code);
  for (const {w, b, rows, cols, act} of decoder.layers) {
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = b[r];
      for (let c = 0, o = r * cols; c < cols; c++) s += w[o + c] * x[c];
      y[r] = act === 'relu' ? Math.max(s, 0) : act === 'sigmoid' ? 1 / (1 + Math.exp(-s)) : s;
    }
    x = y;
  }
  return x;
}

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
  const ctx = canvas.getContext('2d'), image = ctx.createImageData(side, side);
  for (let i = 0; i < pixels.length; i++) {
    const v = Math.round(Math.min(Math.max(pixels[i], 0), 1) * 255);
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
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
element.decodeHere = (code) => (decoder ? Array.from(decode(code)) : null);

(props.decoder_url ? fetch(props.decoder_url) : Promise.reject(new Error('no decoder_url')))
  .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
  .then((buf) => { decoder = parseDecoder(buf); })
  .catch((e) => console.warn('The sliders decode on the server: the weights could not be used here.', e));

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
    drawn = decoder !== null && draw(decode(code));
  } catch (err) {
    console.warn('In-page decoding failed; the server decodes instead.', err);
    decoder = null;
  }
  if (drawn) send();
  else trigger('input');  // no weights here (yet): the server decodes every move, as it always could
});

// The decoder in the page, shared by the components that decode codes live (sliders.js, plane.js, which
// Gradio runs after this file in the same scope). The decoder is two small matrix-vector products
// (64 -> 256 -> 784 for the shipped model, ~0.2 MFLOP), so a few lines of typed-array arithmetic are the
// right tool: a runtime such as onnxruntime-web (a 12.8 MB wasm file) or TensorFlow.js (~1 MB) would be far
// larger than the model (~430 KB of float16 weights, ae/export.py).

function halfToFloat(half) {  // IEEE float16 bits -> Float32Array
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i], sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24
      : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

function parseDecoder(buf, codeSize) {  // safetensors: a u64 header length, a JSON header, the tensors' bytes
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
  if (layers[0].cols !== codeSize) throw new Error('the weights are for another code size');
  return {side: Number(header.__metadata__.side), layers};
}

function decode(decoder, code) {  // (D,) code -> (side*side,) pixels in [0, 1], as the model's decoder does
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

function paint(canvas, side, pixels) {  // pixels in [0, 1] -> the canvas, grey levels as a PNG would hold them
  const ctx = canvas.getContext('2d'), image = ctx.createImageData(side, side);
  for (let i = 0; i < pixels.length; i++) {
    const v = Math.round(Math.min(Math.max(pixels[i], 0), 1) * 255);
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

function fetchDecoder(url, codeSize) {  // a promise of the parsed decoder (rejected without a url)
  return (url ? fetch(url) : Promise.reject(new Error('no decoder_url')))
    .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((buf) => parseDecoder(buf, codeSize));
}

// The 2-number plane's live preview (ae/ui/plane.py), after decoder.js: as the pointer moves over the
// decoded grid (#plane-grid), the code under it is decoded here, with the 2-number model's weights
// (props.decoder_url), and drawn on this element's canvas with its coordinates. A click still asks the
// server, which shows its own picture beside. Without the weights the preview stays empty.
let decoder = null;
fetchDecoder(props.decoder_url, 2)
  .then((parsed) => { decoder = parsed; })
  .catch((e) => console.warn('No live preview of the plane: the weights could not be used here.', e));

const canvas = element.querySelector('canvas'), said = element.querySelector('.coords');
document.addEventListener('pointermove', (e) => {
  const img = document.querySelector('#plane-grid img');
  if (!decoder || !img || e.target !== img) return;
  const box = img.getBoundingClientRect();
  const fx = (e.clientX - box.left) / box.width, fy = (e.clientY - box.top) / box.height;
  const code = [props.lo[0] + fx * (props.hi[0] - props.lo[0]), props.hi[1] - fy * (props.hi[1] - props.lo[1])];
  paint(canvas, decoder.side, decode(decoder, code));
  const under = (props.words?.[navigator.language] ?? {}).under ?? 'under the pointer:';  // in the page's language
  said.textContent = `${under} (${code[0].toFixed(2)}, ${code[1].toFixed(2)})`;
});
element.decodeHere = (code) => (decoder ? Array.from(decode(decoder, code)) : null);  // for the browser tests

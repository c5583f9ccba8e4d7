// The latent maps (ae/ui/latent_map.py): a click on a map's picture sends the point clicked, as fractions of
// the picture's width and height, in the value's "pick"; the server makes the nearest dot's test digit the
// current digit.
element.addEventListener('click', (e) => {
  const box = e.target.closest && e.target.closest('.map-box');
  if (!box) return;
  const r = box.getBoundingClientRect();
  const x = (e.clientX - r.left) / r.width, y = (e.clientY - r.top) / r.height;
  if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return;
  props.value = { ...(props.value || {}), pick: { map: box.dataset.map, x, y } };
  trigger('click');
});

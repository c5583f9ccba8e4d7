// Runs once when the page loads: the canvas should take strokes at once, so pick the brush as soon as the
// sketchpad has drawn its toolbar.
() => {
  let tries = 0;
  const pick = () => {
    const brush = document.querySelector('#sketch button[aria-label="Brush"], #sketch button[title="Brush"]');
    if (brush) brush.click();
    else if (tries++ < 150) setTimeout(pick, 200);
  };
  pick();
}

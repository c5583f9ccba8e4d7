// Runs once when the page loads: names for two things Gradio's components leave unnamed, kept as Gradio redraws them.
// - An empty picture frame is a <div aria-label="Empty value"> with no role, and ARIA ignores a label on a plain div
//   (axe: aria-prohibited-attr); as role="img" it is read out.
// - The example digits (gr.Examples) are buttons holding only an <img alt="">, so a screen reader announces
//   "button" and nothing more (axe: button-name); each picture's file names its digit (examples/digit-D-...).
() => {
  const name = (root) => {
    for (const frame of root.querySelectorAll('div.empty[aria-label]:not([role])')) frame.setAttribute('role', 'img');
    for (const img of root.querySelectorAll('button.gallery-item img[alt=""]')) {
      const file = decodeURIComponent((img.getAttribute('src') || '').split('/').pop());
      const digit = /^digit-(\d)-\d+-mnist-test-0*(\d+)\.png$/.exec(file);
      img.alt = digit ? `a ${digit[1]}, MNIST test digit #${digit[2]}` : `example ${file}`;
    }
  };
  name(document);
  const added = (records) => records.some((r) => [...r.addedNodes].some((n) => n.nodeType === Node.ELEMENT_NODE));
  new MutationObserver((records) => { if (added(records)) name(document); })
    .observe(document.body, {childList: true, subtree: true});
}

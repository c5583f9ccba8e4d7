// The first-launch progress page (ae/ui/serve.py): poll the address; once it serves a page with another
// title (the app), load it.
() => {
  setInterval(async () => {
    try {
      const r = await fetch("config", {cache: "no-store"});
      if (r.ok && (await r.json()).title !== __TITLE__) location.reload();
    } catch (e) {}  // between the two servers nothing answers for a moment
  }, 1000);
}

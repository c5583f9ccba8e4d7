"""The attacks of the reliability checks, sent over HTTP to `python app.py` on 127.0.0.1: what each one gets
back, how long the server takes, and how much its resident memory grows.

    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.attacks [--root DIR]

--root runs the app.py of another checkout (an older commit, say) with these same requests, for a before
and after. Every request goes to the local server only and the run ends by itself.
"""

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from ae.ui.app_server import ROOT, AppServer, CallError, http_call

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def outcome(fn) -> str:
    try:
        out = fn()
    except CallError as e:
        return f"refused: {str(e.message)[:70]!r}"
    except (RuntimeError, httpx.HTTPError) as e:
        return f"failed: {str(e)[:70]!r}"
    if isinstance(out, list) and out and isinstance(out[0], dict) and out[0].get("path"):
        return "ANSWERED WITH AN IMAGE"
    if isinstance(out, list) and len(out) > 4 and isinstance(out[4], str):
        return f"refused on the page: {out[4][:60]!r}"
    return f"answered: {str(out)[:70]!r}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py to run (default: this one)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    secret = tmp / "secret.png"
    Image.fromarray((np.random.default_rng(0).random((280, 280)) * 255).astype(np.uint8)).save(secret)
    fifo = tmp / "pipe.png"
    os.mkfifo(fifo)
    poster = tmp / "poster.png"  # 39.7 megapixels of RGBA with a stroke on it
    img = Image.new("RGBA", (7300, 5438), (0, 0, 0, 0))
    img.paste((0, 0, 0, 255), (3400, 500, 3900, 4900))
    img.save(poster)

    with AppServer(root=args.root) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        def upload(path: Path) -> dict:
            with open(path, "rb") as f:
                r = http.post("/gradio_api/upload", files={"files": (path.name, f, "image/png")})
            return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}

        def timed(name: str, fn) -> None:
            before, start = rss_mb(server.proc.pid), time.perf_counter()
            said = outcome(fn)
            print(f"{name:<58} {time.perf_counter() - start:>7.2f} s {rss_mb(server.proc.pid) - before:>+8.1f} MB  "
                  f"{said}", flush=True)

        print(f"{'attack':<58} {'time':>9} {'RSS':>11}  outcome\nserver RSS at start: {rss_mb(server.proc.pid):.0f} MB")
        for shape in ({"path": str(secret)}, {"path": str(secret), "meta": {}}):
            timed(f"/reconstruct of a file never uploaded, meta={shape.get('meta', 'absent')}",
                  lambda s=shape: http_call(http, "reconstruct", [s]))
        timed("/encode of /etc/passwd", lambda: http_call(http, "encode", [{"path": "/etc/passwd"}]))

        fifo_call = [{"path": str(fifo)}]
        blocked = threading.Thread(target=lambda: outcome(lambda: http_call(http, "reconstruct", fifo_call)),
                                   daemon=True)
        start = time.perf_counter()
        blocked.start()
        blocked.join(10)
        if blocked.is_alive():
            print(f"{'/reconstruct of a FIFO':<58} still waiting after 10 s: it blocks", flush=True)
            with open(fifo, "wb"):  # a writer lets the blocked open return, so the server can go on
                pass
            blocked.join(30)
        else:
            print(f"{'/reconstruct of a FIFO':<58} {time.perf_counter() - start:>7.2f} s", flush=True)
        with httpx.Client(base_url=server.url, timeout=120) as other:
            timed("then /reconstruct of a real upload (another client)",
                  lambda: http_call(other, "reconstruct", [upload(secret)]))

        numbers = "[" + ",".join(["0.0"] * 4_000_000) + "]"
        for i in range(3):
            timed(f"/decode of 4,000,000 numbers (12 MB of JSON), call {i + 1}",
                  lambda: http.post("/gradio_api/call/decode", content=f'{{"data": [{numbers}]}}',
                                    headers={"content-type": "application/json"}).raise_for_status())
        timed("/reconstruct of a 39.7-megapixel RGBA PNG", lambda: http_call(http, "reconstruct", [upload(poster)]))
        timed("/decode of a good code afterwards", lambda: http_call(http, "decode", [[0.0] * 64]))
        print(f"server RSS at the end: {rss_mb(server.proc.pid):.0f} MB")


if __name__ == "__main__":
    main()

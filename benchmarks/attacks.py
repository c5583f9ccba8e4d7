"""The attacks of the reliability checks, sent over HTTP to `python app.py` on 127.0.0.1: what each one gets
back, how long the server takes, how much its resident memory grows, and what it leaves on disk.

    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.attacks [--root DIR] [--pass first|second|both]

--root runs the app.py of another checkout (an older commit, say) with these same requests, for a before
and after. The server gets a cache folder of its own (GRADIO_TEMP_DIR), so that its disk use can be read.
Every request goes to the local server only, bounded in count and time, and the run ends by itself.
"""

import argparse
import contextlib
import io
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from ae.ui.app_server import ROOT, AppServer, CallError, http_call, raw_request, rss_mb

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


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


def first_pass(root: Path) -> None:
    tmp = Path(tempfile.mkdtemp())
    secret = tmp / "secret.png"
    Image.fromarray((np.random.default_rng(0).random((280, 280)) * 255).astype(np.uint8)).save(secret)
    fifo = tmp / "pipe.png"
    os.mkfifo(fifo)
    poster = tmp / "poster.png"  # 39.7 megapixels of RGBA with a stroke on it
    img = Image.new("RGBA", (7300, 5438), (0, 0, 0, 0))
    img.paste((0, 0, 0, 255), (3400, 500, 3900, 4900))
    img.save(poster)

    with AppServer(root=root) as server, httpx.Client(base_url=server.url, timeout=120) as http:
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



def disk_mb(folder: Path) -> tuple[float, int]:
    """The bytes (MB) and files below folder."""
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    return sum(sizes) / 2**20, len(sizes)


def peak_reset(pid: int) -> None:
    """Start the process's peak resident memory (VmHWM) afresh."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def raw(port: int, head: bytes, body: bytes = b"", drop_after: int | None = None) -> str:
    """Bytes on a fresh connection; the status line that came back, or what happened."""
    try:
        _, answer = raw_request(port, head, body, close_after=drop_after)
    except OSError as e:
        return f"connection: {type(e).__name__}"
    if drop_after is not None:
        return "dropped"
    return answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed without an answer"


class Bystander:
    """A normal visitor calling /decode in a loop meanwhile, on its own connection: its latencies."""

    def __init__(self, url: str):
        self.url, self.times, self.stop = url, [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        with httpx.Client(base_url=self.url, timeout=120) as h:
            while not self.stop.is_set():
                start = time.perf_counter()
                with contextlib.suppress(Exception):
                    http_call(h, "decode", [[0.0] * 64])
                self.times.append(time.perf_counter() - start)
                time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(130)

    def summary(self) -> str:
        if not self.times:
            return "no /decode finished"
        p50, worst = statistics.median(self.times) * 1000, max(self.times) * 1000
        return f"/decode meanwhile p50 {p50:.0f} ms, max {worst:.0f} ms"


def many_frame_gif(frames: int) -> bytes:
    header = bytes.fromhex("474946383761010001008100000000000000000000000000")
    return header + bytes.fromhex("2c00000000010001000008040001040400") * frames + b"\x3b"


def second_pass(root: Path) -> None:
    """The six holes found under the first pass's defences, and the weaker spots beside them."""
    cache = Path(tempfile.mkdtemp(prefix="ae-attack-cache-"))
    with AppServer(root=root, GRADIO_TEMP_DIR=str(cache)) as server, \
            httpx.Client(base_url=server.url, timeout=120) as http:
        pid, port = server.proc.pid, server.port
        print(f"server RSS at start: {rss_mb(pid):.0f} MB; cache {disk_mb(cache)[0]:.1f} MB in {disk_mb(cache)[1]} "
              f"files")

        def report(name: str, start: float, rss_before: float, said: str, extra: str = "") -> None:
            print(f"{name:<62} {time.perf_counter() - start:>7.2f} s {rss_mb(pid) - rss_before:>+8.1f} MB  {said}"
                  + (f"  [{extra}]" if extra else ""), flush=True)

        # 1. a chunked body behind a small Content-Length
        body = b'{"data": [[' + b"0.0," * 4_999_999 + b'0.0]]}'  # 19 MB
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        head = (b"POST /gradio_api/call/decode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n")
        start, before = time.perf_counter(), rss_mb(pid)
        with Bystander(server.url) as others:
            said = [raw(port, head, chunked) for _ in range(3)]
        report("1. 3 x 19 MB chunked /decode bodies with Content-Length: 10", start, before, said[-1], others.summary())

        # 2. the sketchpad's blob route with a huge layer index
        sketch = next(c["id"] for c in http.get("/config").json()["components"] if c["type"] == "imageeditor")
        for index in ("50000000", "100000000"):
            start, before = time.perf_counter(), rss_mb(pid)
            r = http.post("/gradio_api/component_server", files={"files": ("layer.png", b"\x89PNG", "image/png")},
                          data={"session_hash": "x", "component_id": str(sketch), "fn_name": "accept_blobs",
                                "id": "abc", "type": "layer", "index": index})
            report(f"2. a 700-byte sketchpad blob with layer index {index}", start, before, f"HTTP {r.status_code}")

        # 3. uploads dropped half-way
        data = os.urandom(9 * 2**20)
        part = (b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="digit.png"\r\n'
                b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--b0undary--\r\n")
        head = (b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                b"boundary=b0undary\r\nContent-Length: %d\r\n\r\n" % (len(part) + 100))
        disk_before, tracebacks = disk_mb(cache)[0], server.output().count("Traceback")
        start, before = time.perf_counter(), rss_mb(pid)
        for _ in range(5):
            raw(port, head, part, drop_after=len(part))  # all of it but the last 100 bytes promised
        time.sleep(2)
        report("3. 5 x 9 MB uploads, the connection dropped before the end", start, before,
               f"disk {disk_mb(cache)[0] - disk_before:+.1f} MB, "
               f"{server.output().count('Traceback') - tracebacks} tracebacks logged")

        # 4. the disk: 100 files in one upload, then 200 picture-making calls
        disk_before = disk_mb(cache)
        start, before = time.perf_counter(), rss_mb(pid)
        r = http.post("/gradio_api/upload", files=[("files", (f"d{i}.png", os.urandom(2**20), "image/png"))
                                                   for i in range(100)])
        time.sleep(1)
        report("4a. one /upload of 100 files of 1 MB", start, before,
               f"HTTP {r.status_code}, disk {disk_mb(cache)[0] - disk_before[0]:+.1f} MB")
        disk_before = disk_mb(cache)
        start, before = time.perf_counter(), rss_mb(pid)
        for i in range(100):
            http_call(http, "generate", ["any", 64, i, 1.0])
        files_now = disk_mb(cache)[1]
        report("4b. 100 /generate calls of 64 digits", start, before,
               f"{files_now - disk_before[1]:+d} files, {sum(1 for p in cache.rglob('*') if p.is_dir())} folders")

        # 5. a GIF of 600,000 frames
        gif = many_frame_gif(600_000)
        r = http.post("/gradio_api/upload", files={"files": ("frames.gif", gif, "image/gif")})
        gif_file = {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}
        start, before = time.perf_counter(), rss_mb(pid)
        said = outcome(lambda: http_call(http, "encode", [gif_file]))
        report(f"5a. /encode of a {len(gif) / 2**20:.1f} MB GIF of 600,000 frames", start, before, said)
        start, before = time.perf_counter(), rss_mb(pid)
        with Bystander(server.url) as others:
            callers = [threading.Thread(target=lambda: outcome(lambda: http_call(httpx.Client(
                base_url=server.url, timeout=120), "encode", [gif_file]))) for _ in range(8)]
            for t in callers:
                t.start()
            for t in callers:
                t.join(120)
        report("5b. 8 of those at once", start, before, "", others.summary())

        # 6. a progressive CMYK JPEG of 40 megapixels
        buf = io.BytesIO()
        Image.new("CMYK", (7300, 5438)).save(buf, "JPEG", progressive=True)
        r = http.post("/gradio_api/upload", files={"files": ("poster.jpg", buf.getvalue(), "image/jpeg")})
        jpeg = {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}
        peak_reset(pid)
        start, before, peak_before = time.perf_counter(), rss_mb(pid), peak_mb(pid)
        said = outcome(lambda: http_call(http, "encode", [jpeg]))
        report(f"6. /encode of a {len(buf.getvalue()) / 2**20:.2f} MB progressive CMYK JPEG, 40 MP", start, before,
               said, f"peak {peak_mb(pid) - peak_before:+.0f} MB")

        # weaker spots
        log_before = len(server.output())
        start, before = time.perf_counter(), rss_mb(pid)
        r = http.post("/gradio_api/queue/join", json={"data": [], "fn_index": 999, "session_hash": "x"})
        time.sleep(0.3)
        report("7. queue/join with fn_index 999", start, before,
               f"HTTP {r.status_code}, {len(server.output()) - log_before} bytes logged")
        r = http.get("/config")
        print(f"{'8. nosniff on /config':<62} {r.headers.get('x-content-type-options', 'absent')}")
        r = http.post("/gradio_api/upload", files={"files": ("page.html", b"<script>alert(1)</script>", "text/html")})
        print(f"{'9. an HTML file uploaded':<62} HTTP {r.status_code} {r.text[:70]!r}")
        held = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(200)]
        for s in held:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        time.sleep(13)
        closed = 0
        for s in held:
            s.settimeout(0.5)
            with contextlib.suppress(OSError):
                closed += s.recv(1) == b""
            s.close()
        print(f"{'10. 200 connections that never finish their headers':<62} {closed} closed by the server after 13 s")
        print(f"server RSS at the end: {rss_mb(pid):.0f} MB; cache {disk_mb(cache)[0]:.1f} MB in "
              f"{disk_mb(cache)[1]} files")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py to run (default: this one)")
    p.add_argument("--pass", dest="which", choices=("first", "second", "both"), default="both")
    args = p.parse_args()
    if args.which in ("first", "both"):
        first_pass(args.root)
    if args.which in ("second", "both"):
        second_pass(args.root)


if __name__ == "__main__":
    main()

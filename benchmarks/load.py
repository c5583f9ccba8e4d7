"""Throughput of one `python app.py` under concurrent HTTP clients, and a classroom of visitors.

    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.load throughput --clients 1 4 16 --seconds 15
    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.load classroom --visitors 30 --seconds 60
    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.load classroom --visitors 30 --trainers 10 \
        --data-dir ../shared/data

throughput: each client calls /decode in a loop with codes of its own and checks every picture against the
model called directly (a wrong or mixed-up answer counts as an error); prints decodes per second,
p50/p95 and errors for each client count. Each call is a new Gradio session, as for plain HTTP clients;
--sessions gives each client one session, as gradio_client does.

classroom: each visitor (one Gradio session, as a browser tab is) draws (a /reconstruct of a 280x280
drawing) and then drags sliders in bursts (the page's /slide event, a code every 400 ms, as the in-page
decoder sends them, or every 16 ms with --server-decodes, as a page without it does); prints p50/p95 per
event kind, errors, the server's CPU use and its memory. With --trainers N, the first N visitors instead press
Train in the training lab at once (the default run: 10,000 digits, 5 epochs, code 16, on MNIST from --data-dir)
and poll as the page does (lab_poll every 0.3 s) until their run ends: the figures then hold each trainer's time
from Train to the first curve point and to the end, the queue's waits, and, once every visitor holds a model of
their own (the others load a trainer's checkpoint), the server's memory.

All traffic goes to a server this script starts on 127.0.0.1, and every loop ends by itself.
"""

import argparse
import os
import random
import re
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, ImageDraw

from ae.checkpoint import DEFAULT_PATH, load_checkpoint
from ae.inference import Engine
from ae.models import as_model
from ae.ui.app_server import AppServer, CallError, http_call, rss_mb

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def percentiles(ms: list[float]) -> str:
    if not ms:
        return "no calls"
    p50, p95 = np.percentile(ms, [50, 95])
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"


def in_threads(work, n: int) -> float:
    """work(0), ..., work(n - 1), each in a thread of its own; returns the seconds until all are done."""
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def expected_picture(engine: Engine, code: np.ndarray) -> np.ndarray:
    return np.round(np.clip(engine.decode(code), 0, 1) * 255)


def served_picture(out: dict) -> np.ndarray:
    """The PNG a /decode wrote, read from the server's cache on this machine (not fetched: the load is the
    decodes, and a second request per call would halve what is measured)."""
    return np.asarray(Image.open(out["path"]).convert("L"), dtype=np.float32)


def throughput(server: AppServer, engine: Engine, clients: int, seconds: float, sessions: bool = False) -> dict:
    """`clients` threads calling /decode for `seconds`; each answer checked against the model. sessions: each
    client keeps one Gradio session (as gradio_client does) instead of a new one per call."""
    lock, times, errors = threading.Lock(), [], []
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        rng = np.random.default_rng(i)
        codes = [engine.low + (engine.high - engine.low) * rng.random(engine.code_size) for _ in range(8)]
        wanted = [expected_picture(engine, c.astype(np.float32)) for c in codes]
        with httpx.Client(base_url=server.url, timeout=60) as http:
            n = 0
            while time.monotonic() < stop:
                k = n % len(codes)
                start = time.perf_counter()
                try:
                    out = http_call(http, "decode", [codes[k].tolist()], session=f"client-{i}" if sessions else None)[0]
                    took = (time.perf_counter() - start) * 1000  # the call, not the check below
                    if np.abs(served_picture(out) - wanted[k]).max() > 1:
                        raise RuntimeError("a picture that is not this code's")
                    with lock:
                        times.append(took)
                except (CallError, RuntimeError, httpx.HTTPError) as e:
                    with lock:
                        errors.append(str(e)[:100])
                n += 1

    elapsed = in_threads(client, clients)
    return {"clients": clients, "decodes_per_s": len(times) / elapsed, "calls": len(times), "errors": len(errors),
            "p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)),
            "first_error": errors[0] if errors else None}


def drawing(path: Path, rng: random.Random) -> dict:
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    pts = [(rng.randint(60, 220), rng.randint(40, 240)) for _ in range(4)]
    ImageDraw.Draw(img).line(pts, fill=(0, 0, 0, 255), width=20)
    img.save(path)
    return path


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def trainer(server: AppServer, i: int, lock: threading.Lock, times: dict, errors: list, done: list) -> None:
    """A visitor who presses Train at once and watches: lab_train, then lab_poll every 0.3 s until the run ends."""
    from ae.lab import LabSettings
    from ae.ui.lab import POLL_SECONDS, page_values

    session = f"visitor-{i}"
    with httpx.Client(base_url=server.url, timeout=60) as http:
        start = time.perf_counter()
        try:
            line = http_call(http, "lab_train", page_values(LabSettings()), session=session)[0]
            first = None
            while True:
                out = http_call(http, "lab_poll", [], session=session)
                if first is None and "<polyline" in str(out[1]):
                    first = time.perf_counter() - start
                if not str(out[0]).startswith(("⏳", "🏃", "⚙️")):
                    break
                time.sleep(POLL_SECONDS)
        except (CallError, RuntimeError, httpx.HTTPError) as e:
            with lock:
                errors.append(f"train: {str(e)[:80]}")
            return
        with lock:
            times["train_to_first_point"].append(first * 1000 if first is not None else float("nan"))
            times["train_to_end"].append((time.perf_counter() - start) * 1000)
            place = re.search(r"number (\d+) in the queue", line)
            times["queue_place"].append(int(place[1]) if place else 0)
            if "Done" in str(out[0]):
                done.append(out[6])  # the checkpoint, in the server's cache
            else:
                errors.append(f"train: {str(out[0])[:80]}")


def warm_up_training(server: AppServer) -> None:
    """One small run, so that the classroom finds the training worker warm, as it is a minute after start-up."""
    from ae.lab import LabSettings
    from ae.ui.lab import page_values

    with httpx.Client(base_url=server.url, timeout=60) as http:
        http_call(http, "lab_train", page_values(LabSettings(digits=100, epochs=1)), session="warm-up")
        while str(http_call(http, "lab_poll", [], session="warm-up")[0]).startswith(("⏳", "🏃", "⚙️")):
            time.sleep(0.3)


def classroom(server: AppServer, engine: Engine, visitors: int, seconds: float, slide_every: float,
              trainers: int = 0) -> dict:
    lock = threading.Lock()
    times: dict[str, list[float]] = {"reconstruct": [], "slide": []}
    if trainers:
        times.update(train_to_first_point=[], train_to_end=[], queue_place=[])
        warm_up_training(server)
    errors: list[str] = []
    checkpoints: list = []
    stop = time.monotonic() + seconds
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / "ae-classroom"
    folder.mkdir(exist_ok=True)

    def visitor(i: int) -> None:
        if i < trainers:
            return trainer(server, i, lock, times, errors, checkpoints)
        rng = random.Random(i)
        path = drawing(folder / f"visitor-{i}.png", rng)
        time.sleep(rng.random() * 4)  # they do not all start at once
        with httpx.Client(base_url=server.url, timeout=60) as http:
            with path.open("rb") as f:
                uploaded = http.post("/gradio_api/upload", files={"files": (path.name, f, "image/png")}).json()[0]
            image = {"path": uploaded, "meta": {"_type": "gradio.FileData"}}
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    code = http_call(http, "reconstruct", [image], session=f"visitor-{i}")[2]
                    with lock:
                        times["reconstruct"].append((time.perf_counter() - t) * 1000)
                except (CallError, RuntimeError, httpx.HTTPError) as e:
                    with lock:
                        errors.append(f"reconstruct: {str(e)[:80]}")
                    continue
                burst_end = time.monotonic() + rng.uniform(3, 7)  # drag sliders, then draw again
                dim = engine.by_importance[rng.randrange(8)]
                while time.monotonic() < min(burst_end, stop):
                    code[dim] = float(engine.low[dim] + (engine.high[dim] - engine.low[dim]) * rng.random())
                    t = time.perf_counter()
                    try:
                        http_call(http, "slide", [None, code], session=f"visitor-{i}")
                        with lock:
                            times["slide"].append((time.perf_counter() - t) * 1000)
                    except (CallError, RuntimeError, httpx.HTTPError) as e:
                        with lock:
                            errors.append(f"slide: {str(e)[:80]}")
                    time.sleep(slide_every)

    pid = server.proc.pid
    cpu0, rss0 = cpu_seconds(pid), rss_mb(pid)
    elapsed = in_threads(visitor, visitors)
    figures = {"visitors": visitors, "seconds": round(elapsed, 1),
               **{f"{k}_calls": len(times[k]) for k in ("reconstruct", "slide")},
               **{k: percentiles(v) for k, v in times.items() if k != "queue_place"},
               "errors": len(errors), "first_error": errors[0] if errors else None,
               "server_cpu_percent_of_one_core": round(100 * (cpu_seconds(pid) - cpu0) / elapsed),
               "server_rss_mb": f"{rss0:.0f} -> {rss_mb(pid):.0f}"}
    if trainers:
        figures.update(trained=len(checkpoints), last_queue_place=max(times["queue_place"], default=0),
                       first_run_train_to_first_point_ms=round(min(times["train_to_first_point"], default=0)))
    if trainers and checkpoints:
        figures["rss_mb_with_a_model_each"] = models_for_everyone(server, visitors, trainers, checkpoints[0])
    return figures


def models_for_everyone(server: AppServer, visitors: int, trainers: int, checkpoint: dict) -> str:
    """Every visitor who did not train loads a trainer's checkpoint as their own model; the server's memory after."""
    before = rss_mb(server.proc.pid)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for i in range(trainers, visitors):
            status = http_call(http, "lab_load", [checkpoint], session=f"visitor-{i}")[0]
            assert "Loaded" in status, status
    return f"{before:.0f} -> {rss_mb(server.proc.pid):.0f} ({visitors} visitor models)"


def memory(server: AppServer, engine: Engine, calls: int) -> str:
    """The server's resident memory before and after `calls` API calls, a third each of /decode, /encode and
    /reconstruct, each call a new Gradio session (as plain HTTP clients are)."""
    path = drawing(Path(os.environ.get("TMPDIR", "/tmp")) / "ae-memory.png", random.Random(0))
    before = rss_mb(server.proc.pid)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        with path.open("rb") as f:
            image = {"path": http.post("/gradio_api/upload", files={"files": (path.name, f, "image/png")}).json()[0],
                     "meta": {"_type": "gradio.FileData"}}
        for i in range(calls):
            name, data = [("decode", [[0.0] * engine.code_size]), ("encode", [image]), ("reconstruct", [image])][i % 3]
            http_call(http, name, data)
            if (i + 1) % 2000 == 0:
                print(f"  after {i + 1} calls: {rss_mb(server.proc.pid):.0f} MB", flush=True)
    after = rss_mb(server.proc.pid)
    return f"{calls} mixed API calls: server RSS {before:.0f} -> {after:.0f} MB ({after - before:+.0f} MB)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    t.add_argument("--seconds", type=float, default=15)
    t.add_argument("--sessions", action="store_true", help="each client keeps one session (as gradio_client does)")
    c = sub.add_parser("classroom")
    c.add_argument("--visitors", type=int, nargs="+", default=[30])
    c.add_argument("--seconds", type=float, default=60)
    c.add_argument("--server-decodes", action="store_true",
                   help="slide events every 16 ms, as without the page's decoder")
    c.add_argument("--trainers", type=int, default=0, help="visitors who press Train at once instead (default 0)")
    c.add_argument("--data-dir", default=None, help="MNIST for the training lab (default: the app's, AE_DATA_DIR)")
    m = sub.add_parser("memory")
    m.add_argument("--calls", type=int, default=10_000)
    args = p.parse_args()
    engine = Engine(as_model(load_checkpoint(DEFAULT_PATH)))
    with AppServer(**({"AE_DATA_DIR": args.data_dir} if getattr(args, "data_dir", None) else {})) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:  # warm up
            for _ in range(20):
                http_call(http, "decode", [[0.0] * engine.code_size])
        if args.what == "throughput":
            for n in args.clients:
                r = throughput(server, engine, n, args.seconds, args.sessions)
                print(f"{n:>3} clients: {r['decodes_per_s']:6.1f} decodes/s, p50 {r['p50_ms']:.1f} ms, "
                      f"p95 {r['p95_ms']:.1f} ms, {r['calls']} calls, {r['errors']} errors"
                      + (f" ({r['first_error']})" if r["errors"] else ""), flush=True)
        elif args.what == "memory":
            print(memory(server, engine, args.calls), flush=True)
        else:
            for n in args.visitors:
                r = classroom(server, engine, n, args.seconds, 0.016 if args.server_decodes else 0.4, args.trainers)
                print(", ".join(f"{k} {v}" for k, v in r.items()), flush=True)


if __name__ == "__main__":
    main()

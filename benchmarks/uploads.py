"""Time and memory of the largest uploads the app accepts (and of those it refuses), one process each.

    python -m benchmarks.uploads

Each image is made here, saved to a temporary folder, and read by `Engine.run_file` in a fresh Python
process, the way a request reads it: the figures are that call's wall time and how far it raised the
process's peak resident memory above what loading the model had already taken.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from ae.preprocess import MAX_DECODED_BYTES, MAX_PIXELS

ONE_CALL = """
import json, resource, sys, time
from ae.checkpoint import load_checkpoint
from ae.inference import Engine
from ae.models import as_model
from ae.preprocess import InputError
engine = Engine(as_model(load_checkpoint()))
engine.run_file(sys.argv[2])  # warm-up on a small digit: first-call costs are not the image's
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    engine.run_file(sys.argv[1])
    outcome = "accepted"
except InputError as e:
    outcome = "refused: " + str(e)[:60]
seconds = time.perf_counter() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
print(json.dumps({"seconds": round(seconds, 3), "peak_rss_growth_mb": round(grown / 1024, 1), "outcome": outcome}))
"""


def digit_on(img: Image.Image) -> Image.Image:
    """A thick 7 across the middle of img, black ink."""
    w, h = img.size
    ink = (0,) * len(img.getbands()) if img.mode != "RGBA" else (0, 0, 0, 255)
    ImageDraw.Draw(img).line([(0.3 * w, 0.2 * h), (0.7 * w, 0.2 * h), (0.45 * w, 0.8 * h)], fill=ink,
                             width=max(4, w // 30))
    return img


def cases(folder: Path) -> dict[str, Path]:
    side_rgba = int((MAX_DECODED_BYTES / 4) ** 0.5)  # the largest square RGBA inside the decoding budget
    side_l = int(MAX_DECODED_BYTES**0.5)
    jpeg_w = int((MAX_PIXELS * 4 / 3) ** 0.5)
    made = {
        f"PNG RGBA {side_rgba}x{side_rgba} (largest accepted colour)":
            ("png", digit_on(Image.new("RGBA", (side_rgba, side_rgba), (0, 0, 0, 0)))),
        f"PNG L {side_l}x{side_l} (largest accepted grayscale)":
            ("png", digit_on(Image.new("L", (side_l, side_l), 255))),
        f"JPEG RGB {jpeg_w}x{jpeg_w * 3 // 4} (largest accepted photo)":
            ("jpg", digit_on(Image.new("RGB", (jpeg_w, jpeg_w * 3 // 4), "white"))),
        "PNG RGBA 7300x5438 (39.7 MP, refused)": ("png", Image.new("RGBA", (7300, 5438), (0, 0, 0, 0))),
        "small digit 280x280": ("png", digit_on(Image.new("L", (280, 280), 255))),
    }
    paths = {}
    for i, (name, (ext, img)) in enumerate(made.items()):
        paths[name] = folder / f"case{i}.{ext}"
        img.save(paths[name], quality=90) if ext == "jpg" else img.save(paths[name])
    return paths


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = cases(Path(tmp))
        small = paths["small digit 280x280"]
        print(f"{'image':<52} {'file MB':>8} {'seconds':>8} {'peak RSS +MB':>13}  outcome")
        for name, path in paths.items():
            run = subprocess.run([sys.executable, "-c", ONE_CALL, str(path), str(small)], capture_output=True,
                                 text=True, check=True)
            r = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{name:<52} {path.stat().st_size / 2**20:>8.2f} {r['seconds']:>8.3f} "
                  f"{r['peak_rss_growth_mb']:>13.1f}  {r['outcome']}", flush=True)


if __name__ == "__main__":
    main()

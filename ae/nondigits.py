"""Images to test an outlier meter with, made deterministically (seeded): non-digits of three kinds (letters in
several fonts, simple shapes, scribbles) and MNIST test digits as people send them (enlarged, off-centre, on
paper, as JPEG, and combinations). All are PIL images, to go through ae.preprocess like any upload.

    non_digits() -> {"letters": (images, labels), "shapes": ..., "scribbles": ...}
    TRANSFORMS[name](digits, seed) -> images, for (N, 28, 28) uint8 MNIST digits (white ink on black)

Letters use the DejaVu and Liberation fonts where the system has them, and Pillow's own scalable font always.
"""

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ae.preprocess import InputError, preprocess

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
FONT_NAMES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
              "DejaVuSerif-BoldItalic.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed-Bold.ttf",
              "LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSerif-Regular.ttf",
              "LiberationSerif-Italic.ttf", "LiberationSerif-Bold.ttf", "LiberationMono-Regular.ttf",
              "LiberationMono-Bold.ttf", "LiberationSansNarrow-Regular.ttf")
FONT_FILES = [d / n for d in FONT_DIRS for n in FONT_NAMES if (d / n).is_file()]
DEFAULT_FONT = "PIL-default"  # ImageFont.load_default(size=...): Pillow's bundled scalable font
LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]


def _font(name, size):
    if name == DEFAULT_FONT:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(name), size)


def _paper(rng, w, h, base=None, unevenness=None, noise=None):
    """(h, w) float gray paper in [0,1]: a light base, a smooth gradient/blotch, a little grain."""
    base = rng.uniform(0.78, 0.97) if base is None else base
    unevenness = rng.uniform(0.01, 0.04) if unevenness is None else unevenness
    noise = rng.uniform(0.003, 0.012) if noise is None else noise
    ys, xs = np.mgrid[0:h, 0:w] / max(h, w)
    a, b = rng.uniform(-1, 1, 2)
    grad = a * (xs - 0.5) + b * (ys - 0.5)
    blob = np.zeros((h, w))
    for _ in range(3):
        cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.2, 0.6)
        blob += rng.uniform(-1, 1) * np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * r * r))
    field = grad + 0.5 * blob
    field = field / (np.abs(field).max() + 1e-9)
    paper = base + unevenness * field + noise * rng.standard_normal((h, w))
    return np.clip(paper, 0, 1)


def _jpeg(img, quality):
    buf = io.BytesIO()
    img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode).save(buf, "JPEG", quality=int(quality))
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


# ----------------------------------------------------------------------------------------------- letters
def letters(per_letter=8, seed=1):
    """52 letters x per_letter, dark ink on light background, fonts/sizes/positions varied.
    Returns (images, labels) where labels are the characters."""
    rng = np.random.default_rng(seed)
    fonts = FONT_FILES + [DEFAULT_FONT]
    images, labels = [], []
    k = 0
    for _ in range(per_letter):
        for ch in LETTERS:
            font_name = fonts[k % len(fonts)]
            k += 1
            size = int(rng.integers(28, 160))
            font = _font(font_name, size)
            left, top, right, bottom = font.getbbox(ch)
            gw, gh = right - left, bottom - top
            W = int(max(gw + 10, rng.integers(max(gw, gh) + 10, max(gw, gh) * 3 + 40)))
            H = int(max(gh + 10, rng.integers(max(gw, gh) + 10, max(gw, gh) * 3 + 40)))
            x = int(rng.integers(2, max(3, W - gw - 2))) - left
            y = int(rng.integers(2, max(3, H - gh - 2))) - top
            style = rng.integers(0, 3)
            if style == 0:  # typed: pure white, black ink
                img = Image.new("L", (W, H), 255)
                ImageDraw.Draw(img).text((x, y), ch, font=font, fill=int(rng.integers(0, 40)))
            elif style == 1:  # printed and photographed: gray paper, dark-blue/black ink, jpeg
                paper = (_paper(rng, W, H) * 255).astype(np.uint8)
                img = Image.fromarray(np.stack([paper] * 3, -1), "RGB")
                ink = tuple(int(v) for v in rng.integers(10, 70, 3))
                ImageDraw.Draw(img).text((x, y), ch, font=font, fill=ink)
                img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
                img = _jpeg(img, rng.integers(40, 90))
            else:  # screenshot: off-white RGB
                bg = tuple(int(v) for v in rng.integers(235, 256, 3))
                img = Image.new("RGB", (W, H), bg)
                ImageDraw.Draw(img).text((x, y), ch, font=font, fill=(0, 0, 0))
            images.append(img)
            labels.append(ch)
    return images, labels


# ------------------------------------------------------------------------------------------------ shapes
SHAPE_KINDS = ["circle", "ring", "square", "triangle", "star", "cross", "arrow", "heart"]


def _poly_star(cx, cy, r, n=5, inner=0.45, rot=0.0):
    pts = []
    for i in range(2 * n):
        rr = r if i % 2 == 0 else r * inner
        a = rot + math.pi * i / n - math.pi / 2
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _rot(pts, cx, cy, ang):
    c, s = math.cos(ang), math.sin(ang)
    return [(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in pts]


def _heart(cx, cy, r, n=80):
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + r * x / 17, cy - r * y / 17))
    return pts


def shapes(per_kind=50, seed=2):
    """8 shape kinds x per_kind; filled and outlined, several line widths, either polarity.
    Returns (images, labels)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for rep in range(per_kind):
        for kind in SHAPE_KINDS:
            W = int(rng.integers(120, 420))
            H = int(rng.integers(120, 420))
            r = rng.uniform(0.2, 0.45) * min(W, H)
            cx = rng.uniform(r + 2, W - r - 2)
            cy = rng.uniform(r + 2, H - r - 2)
            filled = bool(rep % 2 == 0) and kind not in ("ring", "cross")
            width = int(max(2, rng.choice([0.02, 0.05, 0.08, 0.12]) * 2 * r))
            dark_on_light = bool(rng.integers(0, 2))
            bg, fg = (255, int(rng.integers(0, 60))) if dark_on_light else (0, int(rng.integers(200, 256)))
            img = Image.new("L", (W, H), bg)
            d = ImageDraw.Draw(img)
            ang = rng.uniform(0, 2 * math.pi)
            if kind == "circle":
                ry = r * rng.uniform(0.7, 1.0)
                box = [cx - r, cy - ry, cx + r, cy + ry]
                d.ellipse(box, fill=fg if filled else None, outline=fg, width=width)
            elif kind == "ring":
                ring_w = int(max(width, rng.uniform(0.1, 0.35) * r))
                d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=fg, width=ring_w)
            elif kind == "square":
                s = r * rng.uniform(0.6, 1.0)
                pts = _rot([(cx - r, cy - s), (cx + r, cy - s), (cx + r, cy + s), (cx - r, cy + s)], cx, cy,
                           ang if rng.random() < 0.5 else 0.0)
                d.polygon(pts, fill=fg if filled else None, outline=fg, width=width)
            elif kind == "triangle":
                pts = _rot([(cx + r * math.cos(a), cy + r * math.sin(a))
                            for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)], cx, cy, ang)
                d.polygon(pts, fill=fg if filled else None, outline=fg, width=width)
            elif kind == "star":
                n = int(rng.choice([5, 5, 6, 8]))
                d.polygon(_poly_star(cx, cy, r, n, rng.uniform(0.35, 0.55), ang), fill=fg if filled else None,
                          outline=fg, width=width)
            elif kind == "cross":
                w = int(max(width, r * rng.uniform(0.1, 0.4)))
                lines = [((cx - r, cy), (cx + r, cy)), ((cx, cy - r), (cx, cy + r))]
                if rng.random() < 0.5:  # an "x"
                    lines = [tuple(_rot(list(line), cx, cy, math.pi / 4)) for line in lines]
                for a, b in lines:
                    d.line([a, b], fill=fg, width=w)
            elif kind == "arrow":
                sh = r * rng.uniform(0.12, 0.3)
                pts = [(cx - r, cy - sh), (cx + 0.2 * r, cy - sh), (cx + 0.2 * r, cy - 2.2 * sh), (cx + r, cy),
                       (cx + 0.2 * r, cy + 2.2 * sh), (cx + 0.2 * r, cy + sh), (cx - r, cy + sh)]
                pts = _rot(pts, cx, cy, ang)
                d.polygon(pts, fill=fg if filled else None, outline=fg, width=width)
            elif kind == "heart":
                d.polygon(_rot(_heart(cx, cy, r), cx, cy, rng.uniform(-0.3, 0.3)), fill=fg if filled else None,
                          outline=fg, width=width)
            images.append(img)
            labels.append(kind)
    return images, labels


# --------------------------------------------------------------------------------------------- scribbles
def _smooth(points, per_seg=8):
    """Catmull-Rom through points."""
    p = [points[0]] + list(points) + [points[-1]]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = (np.array(p[j], dtype=float) for j in (i - 1, i, i + 1, i + 2))
        for t in np.linspace(0, 1, per_seg, endpoint=False):
            t2, t3 = t * t, t * t * t
            q = 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                       + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
            out.append(tuple(q))
    out.append(tuple(points[-1]))
    return out


def scribbles(count=400, seed=3, side=400, brush=30):
    """Random pen strokes on a side x side canvas with a brush px pen (the app's sketchpad is 400 / 30).
    Styles: transparent RGBA with black ink (the sketchpad), black on white, white on black.
    Returns (images, labels) with label = style/kind."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(count):
        kind = ["walk", "curve", "zigzag", "loops"][i % 4]
        style = ["rgba", "black_on_white", "white_on_black"][(i // 4) % 3]
        if style == "rgba":
            img = Image.new("RGBA", (side, side), (0, 0, 0, 0))
            fill = (0, 0, 0, 255)
        elif style == "black_on_white":
            img = Image.new("L", (side, side), 255)
            fill = 0
        else:
            img = Image.new("L", (side, side), 0)
            fill = 255
        d = ImageDraw.Draw(img)
        lo, hi = 0.1 * side, 0.9 * side
        n_strokes = int(rng.choice([1, 1, 2, 2, 3, 4]))
        for _ in range(n_strokes):
            if kind == "walk":  # random walk with momentum
                n = int(rng.integers(4, 14))
                pos = rng.uniform(lo, hi, 2)
                heading = rng.uniform(0, 2 * math.pi)
                pts = [tuple(pos)]
                for _ in range(n):
                    heading += rng.normal(0, 1.0)
                    step = rng.uniform(0.08, 0.25) * side
                    pos = np.clip(pos + step * np.array([math.cos(heading), math.sin(heading)]), lo, hi)
                    pts.append(tuple(pos))
                pts = _smooth(pts)
            elif kind == "curve":  # a few random control points, smoothed
                pts = _smooth([tuple(rng.uniform(lo, hi, 2)) for _ in range(int(rng.integers(3, 7)))])
            elif kind == "zigzag":
                n = int(rng.integers(3, 9))
                x0, x1 = sorted(rng.uniform(lo, hi, 2))
                y0, y1 = sorted(rng.uniform(lo, hi, 2))
                pts = [(x0 + (x1 - x0) * j / n + rng.normal(0, 10), (y0 if j % 2 else y1) + rng.normal(0, 15))
                       for j in range(n + 1)]
                if rng.random() < 0.5:
                    pts = [(y, x) for x, y in pts]
            else:  # loops: a spiral-ish scrawl
                c = rng.uniform(0.35 * side, 0.65 * side, 2)
                turns = rng.uniform(1.5, 4)
                r0, r1 = rng.uniform(0.05, 0.15) * side, rng.uniform(0.2, 0.35) * side
                drift = rng.normal(0, 0.1 * side, 2)
                m = 60
                pts = []
                for j in range(m):
                    t = j / (m - 1)
                    a = 2 * math.pi * turns * t
                    rr = r0 + (r1 - r0) * t
                    wobble = rng.uniform(0.8, 1.0)
                    point = c + drift * t + rr * np.array([math.cos(a), math.sin(a) * wobble])
                    pts.append(tuple(np.clip(point, 0, side)))
            d.line(pts, fill=fill, width=brush, joint="curve")
        images.append(img)
        labels.append(f"{kind}/{style}")
    return images, labels


# ------------------------------------------------------------------------------------ digit transforms
def _up(digit, side):
    return Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)


def t_enlarged(images, seed=11):
    """Upscaled to 280x280 (white on black), as a screenshot of a digit would be."""
    return [_up(d, 280) for d in images]


def t_offcentre(images, seed=12):
    """Upscaled 2-6x and placed at a random spot of a larger black canvas."""
    rng = np.random.default_rng(seed)
    out = []
    for d in images:
        s = int(rng.integers(56, 169))
        W, H = int(rng.integers(s + 20, 3 * s + 60)), int(rng.integers(s + 20, 3 * s + 60))
        canvas = Image.new("L", (W, H), 0)
        canvas.paste(_up(d, s), (int(rng.integers(0, W - s + 1)), int(rng.integers(0, H - s + 1))))
        out.append(canvas)
    return out


def _on_paper(d_img, rng, W=None, H=None, pos=None, harsh=False):
    """A white-on-black L image -> dark ink on slightly uneven gray paper with a little noise, RGB.
    harsh: more uneven (0.04-0.08) and grainier (noise sd 0.01-0.03) paper."""
    ink = np.asarray(d_img, dtype=np.float32) / 255
    h, w = ink.shape
    W, H = W or w, H or h
    pos = pos or (0, 0)
    paper = _paper(rng, W, H, None, rng.uniform(0.04, 0.08), rng.uniform(0.01, 0.03)) if harsh else _paper(rng, W, H)
    full = np.zeros((H, W), dtype=np.float32)
    full[pos[1]:pos[1] + h, pos[0]:pos[0] + w] = ink
    ink_level = rng.uniform(0.05, 0.3)
    tint = rng.uniform(-0.03, 0.03, 3)
    rgb = []
    for c in range(3):
        p = np.clip(paper + tint[c], 0, 1)
        rgb.append(p * (1 - full) + (ink_level + tint[c]) * full)
    arr = np.clip(np.stack(rgb, -1), 0, 1)
    return Image.fromarray((arr * 255).round().astype(np.uint8), "RGB")


def t_paper(images, seed=13):
    """Upscaled to 84-280 px, dark ink on slightly uneven light-gray paper with grain."""
    rng = np.random.default_rng(seed)
    out = []
    for d in images:
        s = int(rng.integers(84, 281))
        out.append(_on_paper(_up(d, s), rng).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0))))
    return out


def t_jpeg(images, seed=14):
    """Upscaled to 84-280 px, white on black, saved as JPEG at quality 30-75."""
    rng = np.random.default_rng(seed)
    return [_jpeg(_up(d, int(rng.integers(84, 281))), rng.integers(30, 76)) for d in images]


def t_jpeg28(images, seed=15):
    """The 28x28 digit itself saved as JPEG at quality 30-75."""
    rng = np.random.default_rng(seed)
    return [_jpeg(Image.fromarray(d), rng.integers(30, 76)) for d in images]


def t_paper_jpeg(images, seed=16):
    """On paper (as t_paper) then JPEG quality 30-75: a phone photo of a digit."""
    rng = np.random.default_rng(seed)
    out = []
    for d in images:
        s = int(rng.integers(84, 281))
        img = _on_paper(_up(d, s), rng).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
        out.append(_jpeg(img, rng.integers(30, 76)))
    return out


def t_offcentre_paper_jpeg(images, seed=17, harsh=False):
    """Upscaled 2-6x, placed at a random spot of a larger sheet of paper, JPEG quality 30-75."""
    rng = np.random.default_rng(seed)
    out = []
    for d in images:
        s = int(rng.integers(56, 169))
        W, H = int(rng.integers(s + 20, 3 * s + 60)), int(rng.integers(s + 20, 3 * s + 60))
        pos = (int(rng.integers(0, W - s + 1)), int(rng.integers(0, H - s + 1)))
        img = _on_paper(_up(d, s), rng, W, H, pos, harsh)
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.0) if harsh else rng.uniform(0.3, 1.0)))
        out.append(_jpeg(img, rng.integers(30, 76)))
    return out


def t_enlarged_offcentre_jpeg(images, seed=18):
    """Upscaled to 280, placed off-centre on a black canvas up to 600 px, JPEG quality 30-75."""
    rng = np.random.default_rng(seed)
    out = []
    for d in images:
        W, H = int(rng.integers(300, 601)), int(rng.integers(300, 601))
        canvas = Image.new("L", (W, H), 0)
        canvas.paste(_up(d, 280), (int(rng.integers(0, W - 279)), int(rng.integers(0, H - 279))))
        out.append(_jpeg(canvas, rng.integers(30, 76)))
    return out


TRANSFORMS = {
    "enlarged": t_enlarged,
    "offcentre": t_offcentre,
    "paper": t_paper,
    "jpeg": t_jpeg,
    "jpeg28": t_jpeg28,
    "paper+jpeg": t_paper_jpeg,
    "offc+paper+jpeg": t_offcentre_paper_jpeg,
    "enl+offc+jpeg": t_enlarged_offcentre_jpeg,
}


def non_digits(draw: int = 0) -> dict:
    """{kind: (images, labels)} for the three kinds of non-digits. draw 0 is the reported draw; another draw makes
    other images of the same kinds (seeds moved by 100 * draw), to choose with without choosing on what is reported."""
    return {"letters": letters(seed=1 + 100 * draw), "shapes": shapes(seed=2 + 100 * draw),
            "scribbles": scribbles(seed=3 + 100 * draw)}


NON_DIGITS = ("letters", "shapes", "scribbles")


def probe_sets(digits: np.ndarray, log=print, draw: int = 0) -> dict[str, np.ndarray]:
    """Every set, preprocessed as uploads are: {name: (N, 28, 28) float32}, the three kinds of non-digits and
    each transform of the (N, 28, 28) uint8 test digits. An image preprocessing refuses is left out (logged).
    draw: which seeded draw (0, the reported one; see non_digits)."""
    images = {kind: made for kind, (made, _) in non_digits(draw).items()}
    images.update({name: transform(digits, seed=transform.__defaults__[0] + 100 * draw)
                   for name, transform in TRANSFORMS.items()})
    sets = {}
    for name, imgs in images.items():
        kept = []
        for img in imgs:
            try:
                kept.append(preprocess(img))
            except InputError as e:
                log(f"  {name}: one image refused by preprocessing ({e})")
        sets[name] = np.stack(kept)
    return sets

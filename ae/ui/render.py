"""Pictures of model inputs, reconstructions and codes, for people to look at."""

import base64
import io

import numpy as np
from PIL import Image

from ae.i18n import t

POS, NEG = (37, 99, 235), (234, 88, 12)  # blue for positive values, orange for negative
# One colour per digit class, for dots on maps and their legend: Paul Tol's "muted" scheme, made to stay apart
# for the common colour-vision deficiencies (Tableau 10 and matplotlib's tab10 put red against green, and
# Okabe-Ito has only 8). Its nine colours, then a dark grey for 9 in place of its pale grey (meant for missing
# data, near-invisible on white). Ten classes cannot all differ by colour alone for everyone, so the digit is
# written too: in every legend, and beside each cluster where a plot draws them (code_scatter).
CLASSES = ["#cc6677", "#332288", "#ddcc77", "#117733", "#88ccee", "#882255", "#44aa99", "#999933", "#aa4499",
           "#555555"]


def legend() -> str:
    """HTML: the class colours' key, the digit in the page's text colour beside each dot."""
    return " ".join(f'<span style="color:{c}" aria-hidden="true">●</span> {d}' for d, c in enumerate(CLASSES))


def to_image(x: np.ndarray, scale: int = 10) -> Image.Image:
    """(28, 28) float image in [0, 1] -> grayscale PIL image, `scale` times larger, hard pixel edges."""
    img = Image.fromarray(np.round(np.clip(x, 0, 1) * 255).astype(np.uint8), mode="L")
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


def code_text(code: np.ndarray) -> str:
    """The code as a JSON list, ready to copy (and to paste into /decode)."""
    return "[" + ", ".join(f"{v:.4f}" for v in code) + "]"


def _rgb(value: float, scale: float) -> str:
    t = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    r, g, b = (round(255 + t * (c - 255)) for c in (POS if value >= 0 else NEG))
    return f"rgb({r},{g},{b})"


def chart_scale(mean: np.ndarray, std: np.ndarray) -> float:
    """The code chart's full height: 2.5 standard deviations past the mean of the widest dimension, so the
    bars of ordinary codes fill the chart (the slider ends, 25% past the training extremes, would leave
    most of it empty; for the shipped model they are ±18.9, this is ±9.4)."""
    return float(max(np.max(np.abs(mean) + 2.5 * std), 1e-6))


def code_chart(code: np.ndarray, scale: float, typical=None) -> str:
    """HTML with two SVG views of a (D,) code: a bar per dimension and a square heatmap with its colour key.

    scale fixes the vertical range, ±scale (so bars stay comparable while sliders move; longer bars stop at
    the edge); typical, a (lo, hi) pair of (D,) arrays, draws each dimension's usual range as a grey band.
    """
    d = len(code)
    w, h, pad, left = 640, 180, 18, 36  # left: room for the scale labels
    bw = (w - left - pad) / d
    mid = h / 2

    def y(v: float) -> float:
        return mid - (float(np.clip(v, -scale, scale)) / scale) * (mid - pad)

    label = t("bar chart of the {d}-number code", d=d)
    parts = [f'<svg viewBox="0 0 {w} {h}" class="code-bars" role="img" aria-label="{label}">']
    if typical is not None:
        for i, (lo, hi) in enumerate(zip(*typical, strict=True)):
            parts.append(f'<rect x="{left + i * bw:.1f}" y="{y(hi):.1f}" width="{bw:.1f}" '
                         f'height="{max(y(lo) - y(hi), 0.5):.1f}" fill="#e5e7eb"/>')
    for i, v in enumerate(code):
        top, bottom = sorted((y(v), mid))
        parts.append(f'<rect x="{left + i * bw + 1:.1f}" y="{top:.1f}" width="{bw - 2:.1f}" '
                     f'height="{max(bottom - top, 0.5):.1f}" fill="{_rgb(v, scale)}" stroke="{_rgb(v, 1e-9)}" '
                     f'stroke-width="0.5"><title>dimension {i}: {v:.4f}</title></rect>')
    parts.append(f'<line x1="{left}" x2="{w - pad}" y1="{mid}" y2="{mid}" stroke="#6b7280" stroke-width="0.8"/>')
    for i in range(0, d, 8):
        parts.append(f'<text x="{left + (i + 0.5) * bw:.1f}" y="{h - 3}" font-size="10" text-anchor="middle" '
                     f'fill="#6b7280">{i}</text>')
    parts.append(f'<text x="2" y="{pad + 4}" font-size="10" fill="#6b7280">+{scale:.1f}</text>')
    parts.append(f'<text x="2" y="{h - pad}" font-size="10" fill="#6b7280">-{scale:.1f}</text>'
                 f'<text x="2" y="{mid + 4}" font-size="10" fill="#6b7280">0</text></svg>')

    side = int(np.ceil(np.sqrt(d)))
    cell = 160 / side
    key = 40  # room below the grid for its colour key
    grid = [f'<svg viewBox="0 0 {side * cell:.0f} {side * cell + key:.0f}" class="code-grid" role="img" '
            f'aria-label="{t("the code as a {side} by {side} heatmap, with its colour key", side=side)}">']
    for i, v in enumerate(code):
        r, c = divmod(i, side)
        grid.append(f'<rect x="{c * cell:.1f}" y="{r * cell:.1f}" width="{cell - 1:.1f}" height="{cell - 1:.1f}" '
                    f'fill="{_rgb(v, scale)}"><title>{t("dimension {i}", i=i)}: {v:.4f}</title></rect>')
    top, steps = side * cell + 8, 16  # the key: the same colours from -scale to +scale
    for j in range(steps):
        v = -scale + (j + 0.5) * 2 * scale / steps
        grid.append(f'<rect x="{j * side * cell / steps:.1f}" y="{top:.1f}" width="{side * cell / steps + 0.5:.1f}" '
                    f'height="10" fill="{_rgb(v, scale)}"/>')
    for x, anchor, text in ((0, "start", f"-{scale:.1f}"), (side * cell / 2, "middle", "0"),
                            (side * cell, "end", f"+{scale:.1f}")):
        grid.append(f'<text x="{x:.1f}" y="{top + 24:.1f}" font-size="10" text-anchor="{anchor}" '
                    f'fill="#6b7280">{text}</text>')
    grid.append("</svg>")
    return (
        '<div class="code-chart" style="display:flex;gap:16px;align-items:center;flex-wrap:wrap">'
        f'<div style="flex:3;min-width:300px">{"".join(parts)}</div>'
        f'<div style="flex:1;min-width:120px;max-width:180px">{"".join(grid)}</div></div>'
    )


def data_uri(x: np.ndarray, scale: int = 4) -> str:
    """(28, 28) image in [0, 1] -> an inline PNG for HTML."""
    return png_uri(to_image(x, scale))


def png_uri(img: Image.Image) -> str:
    """A picture as an inline PNG for HTML."""
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def sizes_table(rows: list[dict]) -> str:
    """HTML: the autoencoder's reconstruction at each code size over PCA's, each with its MSE."""
    head = "".join(f"<th>{r['code_size']}</th>" for r in rows)

    def cells(kind: str) -> str:
        return "".join(
            f'<td><img class="digit" src="{data_uri(r[kind])}" alt="{kind}, {r["code_size"]} numbers">'
            f'<div class="mse">MSE {r[kind + "_mse"]:.4f}</div></td>' if kind in r else "<td>-</td>" for r in rows)

    return (f'<table class="sizes"><tr><th>{t("numbers in the code")}</th>' + head + "</tr>"
            f'<tr><th>autoencoder</th>{cells("autoencoder")}</tr><tr><th>PCA</th>{cells("pca")}</tr></table>')


def _log_y_axis(values, top: float, bottom: float, left: float, right: float):
    """A log-scale y-axis fitted to positive values, at half-decade steps: (value -> y pixel, the grid
    lines with their labels as SVG elements)."""
    logs = np.log10(values)
    y0, y1 = np.floor(logs.min() * 2) / 2, np.ceil(logs.max() * 2) / 2

    def py(v: float) -> float:
        return top + (y1 - np.log10(v)) / max(y1 - y0, 1e-9) * (bottom - top)

    grid = [f'<line x1="{left}" x2="{right}" y1="{py(10**e):.1f}" y2="{py(10**e):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{py(10**e) + 4:.1f}" font-size="10" text-anchor="end" fill="#6b7280">'
            f"{10**e:.3g}</text>" for e in np.arange(y0, y1 + 0.01, 0.5)]
    return py, grid


def mse_plot(figures: list[dict]) -> str:
    """SVG: test MSE against code size, log-log, one line for the autoencoders and one for PCA."""
    w, h, left, bottom, pad = 520, 260, 56, 34, 14
    points = [(f["code_size"], f[key]) for f in figures for key in ("autoencoder_test_mse", "pca_test_mse") if f[key]]
    if not points:
        return f"<p>{t('No stored figures.')}</p>"
    xs = np.log2([p[0] for p in points])
    x0, x1 = xs.min(), xs.max()

    def px(k: float) -> float:
        return left + (np.log2(k) - x0) / max(x1 - x0, 1e-9) * (w - left - pad)

    py, grid = _log_y_axis([p[1] for p in points], pad, h - bottom, left, w - pad)
    parts = [f'<svg viewBox="0 0 {w} {h}" class="mse-plot" role="img" aria-label="{t("test MSE against code size")}">',
             *grid]
    for f in figures:
        k = f["code_size"]
        parts.append(f'<text x="{px(k):.1f}" y="{h - bottom + 16}" font-size="10" text-anchor="middle" '
                     f'fill="#6b7280">{k}</text>')
    for key, colour, name, dy in (("autoencoder_test_mse", "rgb(37,99,235)", "autoencoder", 18),
                                  ("pca_test_mse", "rgb(234,88,12)", "PCA", -10)):  # PCA's line lies above
        line = [(px(f["code_size"]), py(f[key])) for f in figures if f[key]]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                     + " ".join(f"{a:.1f},{b:.1f}" for a, b in line) + '"/>')
        for (a, b), f in zip(line, [f for f in figures if f[key]], strict=True):
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{colour}"><title>{name}, '
                         f'{f["code_size"]} numbers: test MSE {f[key]:.4f}</title></circle>')
        parts.append(f'<text x="{line[-1][0]:.1f}" y="{line[-1][1] + dy:.1f}" font-size="11" text-anchor="end" '
                     f'fill="{colour}">{name}</text>')
    parts.append(f'<text x="{(left + w - pad) / 2:.0f}" y="{h - 4}" font-size="11" text-anchor="middle" '
                 f'fill="#374151">{t("numbers in the code (log scale)")}</text>'
                 f'<text x="12" y="{(h - bottom) / 2:.0f}" font-size="11" text-anchor="middle" fill="#374151" '
                 f'transform="rotate(-90 12 {(h - bottom) / 2:.0f})">test MSE (log scale)</text></svg>')
    return "".join(parts)


def line_plot(series: list[tuple[str, str, list[float]]], x_label: str = "epoch", y_label: str = "MSE (log scale)",
              marks: list[tuple[int, str]] = (), xs: list[float] | None = None, x_end: float | None = None) -> str:
    """SVG: each (name, colour, values per epoch) as a line on a log y-axis; non-finite values are left out.
    marks: (epoch, text) pairs drawn as dashed vertical lines. xs: the x of each value (default 1, 2, ...);
    x_end: where the x-axis ends (default the last x), so that a curve still growing keeps its scale."""
    w, h, left, bottom, pad = 560, 260, 56, 34, 14
    ticks = None
    finite = [v for _, _, values in series for v in values if v is not None and np.isfinite(v) and v > 0]
    if not finite:
        return f"<p>{t('No curve to draw yet.')}</p>"
    n = max(len(values) for _, _, values in series)
    if xs is None:
        xs, ticks = list(range(1, n + 1)), sorted({1, n, *(round(n * f) for f in (0.25, 0.5, 0.75))})
    x0, x1 = min(xs[0], 0 if x_end else xs[0]), max(xs[-1], x_end or xs[-1])
    if x_end or ticks is None:
        ticks = [x0 + (x1 - x0) * f for f in (0, 0.25, 0.5, 0.75, 1)]

    def px(x: float) -> float:
        return left + (x - x0) / max(x1 - x0, 1e-9) * (w - left - pad)

    py, grid = _log_y_axis(finite, pad, h - bottom, left, w - pad)
    x_label, y_label = t(x_label), t(y_label)
    label = t("{y_label} by {x_label}", y_label=y_label, x_label=x_label)
    parts = [f'<svg viewBox="0 0 {w} {h}" class="curves" role="img" aria-label="{label}">', *grid]
    for tick in ticks:
        parts.append(f'<text x="{px(tick):.1f}" y="{h - bottom + 16}" font-size="10" text-anchor="middle" '
                     f'fill="#6b7280">{tick:.3g}</text>')
    for epoch, text in marks:
        parts.append(f'<line x1="{px(epoch):.1f}" x2="{px(epoch):.1f}" y1="{pad}" y2="{h - bottom}" stroke="#9ca3af" '
                     f'stroke-dasharray="4 3"/><text x="{px(epoch) - 4:.1f}" y="{pad + 10}" font-size="10" '
                     f'text-anchor="end" fill="#374151">{text}</text>')
    for i, (name, colour, values) in enumerate(series):
        runs, run = [], []
        for x, v in zip(xs, values, strict=False):
            if v is not None and np.isfinite(v) and v > 0:
                run.append(f"{px(x):.1f},{py(v):.1f}")
            elif run:
                runs, run = [*runs, run], []
        runs = [*runs, run] if run else runs
        for r in runs:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(r)}"/>')
        top = pad + 6 + 15 * i  # the legend, top right, over a white band
        parts.append(f'<rect x="{w - pad - 196}" y="{top - 9}" width="196" height="15" fill="white" opacity="0.85"/>'
                     f'<rect x="{w - pad - 190}" y="{top - 3}" width="12" height="3" fill="{colour}"/>'
                     f'<text x="{w - pad - 174}" y="{top + 1}" font-size="11" fill="#374151">{name}</text>')
    parts.append(f'<text x="{(left + w - pad) / 2:.0f}" y="{h - 4}" font-size="11" text-anchor="middle" '
                 f'fill="#374151">{x_label}</text><text x="12" y="{(h - bottom) / 2:.0f}" font-size="11" '
                 f'text-anchor="middle" fill="#374151" transform="rotate(-90 12 {(h - bottom) / 2:.0f})">'
                 f"{y_label}</text></svg>")
    return "".join(parts)


def strip(images: list[np.ndarray], captions: list[str] | None = None, scale: int = 3) -> str:
    """HTML: (28, 28) images in [0, 1] in a row, each with an optional caption."""
    captions = captions or [""] * len(images)
    cells = "".join(f'<figure><img class="digit" src="{data_uri(x, scale)}" alt="{c}"><figcaption>{c}</figcaption>'
                    f"</figure>" for x, c in zip(images, captions, strict=True))
    return f'<div class="strip">{cells}</div>'


def grid_image(images: np.ndarray, columns: int, scale: int = 3) -> Image.Image:
    """(N, 28, 28) images in [0, 1] -> one picture, `columns` digits a row, 2 px apart."""
    rows = -(-len(images) // columns)
    sheet = np.zeros((rows * 30 - 2, columns * 30 - 2), dtype=np.float32)
    for i, x in enumerate(images):
        r, c = divmod(i, columns)
        sheet[r * 30 : r * 30 + 28, c * 30 : c * 30 + 28] = x
    return to_image(sheet, scale)


HEAT = np.array([(0, 0, 0), (127, 29, 29), (234, 88, 12), (250, 204, 21), (255, 255, 224)], np.float32)  # a ramp


def heat_image(h: np.ndarray, scale: int = 3) -> Image.Image:
    """(28, 28) non-negative amounts -> a colour picture, black where nothing, through red and orange to pale
    yellow where the most (each picture scaled to its own largest amount)."""
    t = np.clip(h / max(float(np.max(h)), 1e-9), 0, 1) * (len(HEAT) - 1)  # (28, 28) position on the ramp
    low = np.minimum(t.astype(int), len(HEAT) - 2)
    frac = (t - low)[..., None]
    rgb = HEAT[low] * (1 - frac) + HEAT[low + 1] * frac  # (28, 28, 3)
    img = Image.fromarray(np.round(rgb).astype(np.uint8), mode="RGB")
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


def probability_bars(p: np.ndarray) -> str:
    """SVG: a bar per digit 0-9 for its probability, the most likely one in blue, each labelled."""
    w, h, bottom, top = 420, 170, 22, 18
    bw = w / len(p)
    best = int(np.argmax(p))
    parts = [f'<svg viewBox="0 0 {w} {h}" class="probabilities" role="img" aria-label="'
             f'{t("the probability of each digit, the highest for {best}", best=best)}">']
    for d, v in enumerate(p):
        bar = float(v) * (h - bottom - top)
        parts.append(f'<rect x="{d * bw + 6:.1f}" y="{h - bottom - bar:.1f}" width="{bw - 12:.1f}" '
                     f'height="{max(bar, 0.5):.1f}" fill="{"rgb(37,99,235)" if d == best else "#9ca3af"}">'
                     f"<title>{d}: {v:.4f}</title></rect>"
                     f'<text x="{(d + 0.5) * bw:.1f}" y="{h - 6}" font-size="13" text-anchor="middle" '
                     f'fill="#374151">{d}</text>'
                     f'<text x="{(d + 0.5) * bw:.1f}" y="{h - bottom - bar - 4:.1f}" font-size="10" '
                     f'text-anchor="middle" fill="#6b7280">{v * 100:.0f}%</text>')
    return "".join(parts) + "</svg>"


def code_scatter(codes: np.ndarray, labels: np.ndarray) -> str:
    """SVG: (N, 2) codes as dots coloured by their digit (N,), with a key; axes fitted to the codes."""
    w = h = 320
    pad = 12
    codes = np.asarray(codes, dtype=np.float64)
    ok = np.isfinite(codes).all(axis=1)
    codes, labels = codes[ok], np.asarray(labels)[ok]
    if not len(codes):
        return f"<p>{t('No codes to draw.')}</p>"
    lo, hi = codes.min(0), codes.max(0)
    span = np.maximum(hi - lo, 1e-9)
    xy = pad + (codes - lo) / span * (w - 2 * pad)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{h - y:.1f}" r="2.2" fill="{CLASSES[int(c) % 10]}"/>'
                   for (x, y), c in zip(xy, labels, strict=True))
    # each digit written at its dots' median, dark on a white halo (16:1 on white), readable over any dot
    names = "".join(f'<text x="{x:.1f}" y="{h - y + 5:.1f}" font-size="15" font-weight="700" text-anchor="middle" '
                    f'fill="#111827" stroke="white" stroke-width="3" paint-order="stroke">{d}</text>'
                    for d in range(10) if (labels == d).any()
                    for x, y in [np.median(xy[labels == d], axis=0)])
    key = "".join(f'<span><span style="color:{colour}" aria-hidden="true">●</span> {d}</span> '
                  for d, colour in enumerate(CLASSES))
    return (f'<svg viewBox="0 0 {w} {h}" class="code-scatter" role="img" aria-label="'
            f'{t("the 2-number codes of {n} test digits, coloured by digit", n=len(codes))}">'
            f'<rect width="{w}" height="{h}" fill="white"/>{dots}{names}'
            f'</svg><div class="scatter-key">{key}</div>')

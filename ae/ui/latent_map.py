"""A map of the latent space: the codes of 5,000 MNIST test digits drawn in two dimensions, by PCA and by
t-SNE (both computed when the artifacts were built), the current digit placed on each; its nearest test
digits by code beside its nearest by pixels. Clicking a dot makes that test digit the current digit of
every view. `build(ctx)`."""

import gradio as gr
import numpy as np
import torch
from gradio import FileData
from PIL import Image, ImageDraw

from ae.i18n import CHINESE, ENGLISH, L, both, in_both_languages, t
from ae.latent import plane_extent
from ae.latent_map import NEIGHBOURS, LatentMap
from ae.models import Model, encode_one
from ae.preprocess import InputError
from ae.ui import static
from ae.ui.checks import choice, number
from ae.ui.components import PageObject
from ae.ui.context import Context
from ae.ui.errors import for_api, on_page
from ae.ui.inputs import model_input
from ae.ui.render import CLASSES, legend, png_uri, strip

SIDE = 360  # pixels of each map picture
SHOWN = 8  # nearest test digits shown by each measure
MAPS = {"pca": "PCA of the codes (linear)", "tsne": "t-SNE of the codes (keeps neighbourhoods)"}
WAITING = "Draw, upload or pick a digit in the first tab, or click a dot on a map."

# ${...} is evaluated by the page with the props in scope: the pictures come once, in the page's config; a
# new value only moves the rings (fractions of the picture's width and height). Each title is [English, Chinese],
# shown in the page's language (ae/ui/static/language.js sets the document's).
_MAP = """<figure><div class="map-box" data-map="${k}"><img src="${pictures[k]}" alt="${titles[k][zh]}"
 draggable="false"><svg viewBox="0 0 1 1" preserveAspectRatio="none">${value && value[k] ? `<circle
 cx="${value[k][0]}" cy="${value[k][1]}" r="0.03" fill="none" stroke="#dc2626" stroke-width="0.012"/>` : ""}</svg>
</div><figcaption>${titles[k][zh]}</figcaption></figure>"""
TEMPLATE = ('<div class="latent-maps">${((zh) => Object.keys(titles).map(k => `' + _MAP
            + '`).join(""))(document.documentElement.lang === "zh-CN" ? 1 : 0)}</div>')


class MapPictures:
    """Each map's dots drawn once, and the conversions between map coordinates and picture fractions."""

    def __init__(self, m: LatentMap):
        self.m = m
        self.xy = {"pca": m.pca_xy, "tsne": m.tsne_xy}
        self.box = {k: plane_extent(xy, margin=0.05) for k, xy in self.xy.items()}
        self.fractions = {k: self.to_fractions(k, xy) for k, xy in self.xy.items()}  # (N, 2) each

    def to_fractions(self, k: str, xy: torch.Tensor) -> torch.Tensor:
        """Map coordinates -> (x, y) fractions of the picture, y growing downwards."""
        lo, hi = (torch.tensor(v) for v in self.box[k])
        f = (xy.reshape(-1, 2) - lo) / (hi - lo)
        return torch.stack([f[:, 0], 1 - f[:, 1]], dim=1)

    def picture(self, k: str) -> Image.Image:
        img = Image.new("RGB", (SIDE, SIDE), "white")
        draw = ImageDraw.Draw(img)
        for (x, y), label in zip((self.fractions[k] * SIDE).tolist(), self.m.labels.tolist(), strict=True):
            draw.ellipse((x - 1.6, y - 1.6, x + 1.6, y + 1.6), fill=CLASSES[label])
        return img

    def dot_at(self, k: str, fx: float, fy: float) -> int:
        """The test digit whose dot lies nearest a point of the picture (fractions)."""
        return int(torch.argmin(((self.fractions[k] - torch.tensor([fx, fy])) ** 2).sum(1)))


class LatentMapView(PageObject):
    """Both maps with the current digit's rings; a click on a picture sets value["pick"] and sends a click."""

    DESCRIPTION = "the rings' places and the picked point"

    def __init__(self, pictures: dict[str, str], value: dict | None = None, **kwargs):
        super().__init__(value=value, html_template=TEMPLATE, js_on_load=static("latent_map.js"), pictures=pictures,
                         titles={k: [t(title, ENGLISH), t(title, CHINESE)] for k, title in MAPS.items()}, **kwargs)


def where(m: LatentMap, model: Model, x: np.ndarray) -> dict:
    """Where a (28, 28) model input lands: its place on both maps and its nearest test digits both ways."""
    code = torch.from_numpy(encode_one(model, x))
    placed = m.place(code)

    def listed(found) -> list[dict]:
        return [{"test_index": int(m.index[i]), "label": int(m.labels[i]), "distance": round(float(d), 4)}
                for i, d in zip(*found, strict=True)]

    return {**placed, "nearest_by_code": listed(m.nearest_by_code(code, SHOWN)),
            "nearest_by_pixels": listed(m.nearest_by_pixels(torch.from_numpy(np.asarray(x, np.float32)), SHOWN))}


def neighbours_html(m: LatentMap, position: dict[int, int], found: dict) -> str:
    """The nearest test digits both ways as pictures; position: a test index's row in the map."""

    def row(key: str) -> str:
        items = found[key]
        images = [m.images[position[r["test_index"]]].float().numpy() / 255 for r in items]
        captions = [t("a {label} · {distance}", label=r["label"], distance=f"{r['distance']:.2f}") for r in items]
        return strip(images, captions, scale=4)

    return (f"<p>{t('<b>Nearest test digits by code</b> (distance between codes)')}</p>{row('nearest_by_code')}"
            f"<p>{t('<b>Nearest test digits by pixels</b> (distance between the 28×28 pictures)')}</p>"
            f"{row('nearest_by_pixels')}<p class='hint'>"
            + t("Where the two rows differ, the code calls digits alike that the pixels do not, or the other way "
                "round.") + "</p>")


API = ("An image of a digit -> where its code lands on the stored maps of {count} test digits (pca: exact; tsne: "
       "the mean place of its nearest test digits by code), and its {shown} nearest test digits by code and by "
       "pixels (MNIST test index, label, distance).")
EXPLAIN = """### A map of the latent space
Each dot is one of {count} MNIST test digits, placed by its {size}-number code under **{model}** (the map's model,
whichever you picked) squeezed to two dimensions, coloured by what digit it is. **Left, PCA**: the best flat view;
it shows only {share} of the codes' spread, so the classes overlap. **Right, t-SNE**: it keeps each code's near
neighbours near, so classes form islands; distances between islands mean little. Your digit is the red ring (on
t-SNE, at the mean place of its {near} nearest test digits by code, as t-SNE cannot place a new point). **Click a
dot** to make that test digit your current digit."""
ENDPOINTS = ("latent_map", "map_click")  # the api_names build registers: the first-launch page answers them


def build(ctx: Context) -> None:
    """Add the view (inside the tab being built) and its /latent_map endpoint. ctx.loader: the first view's
    handlers, whose show_input(x, note, model name) fills its outputs (loader.outputs) with a picked test digit."""
    m, current, loader, trusted = ctx.zoo.latent_map, ctx.current, ctx.loader, ctx.trusted
    model = ctx.zoo.model_for(m.model) if m is not None else None
    if model is None:
        gr.Markdown(L("The latent map or its autoencoder is not in weights/ (`python -m ae.build` makes them)."))
        return
    pictures = MapPictures(m)
    position = {int(j): i for i, j in enumerate(m.index.tolist())}
    agree = m.metrics
    gr.Markdown(L(EXPLAIN, count=f"{len(m):,}", size=m.codes.shape[1], model=model.name,
                  share=f"{sum(agree.get('pca_explained_variance', [0, 0])):.0%}", near=NEIGHBOURS))
    gr.HTML(f"<p>{legend()}</p>")

    def show(x):
        if x is None:
            return None, f"<p>{t(WAITING)}</p>"
        found = where(m, model, x)
        rings = {k: [round(v, 4) for v in pictures.to_fractions(k, torch.tensor(found[k]))[0].tolist()] for k in MAPS}
        return rings, neighbours_html(m, position, found)

    # the first digit placed, and its neighbours, as the page is built: there before any input
    rings = show(ctx.first)[0] if ctx.first is not None else None
    near_first = in_both_languages(lambda: show(ctx.first)[1]) if ctx.first is not None else L(WAITING)
    view = LatentMapView({k: png_uri(pictures.picture(k)) for k in MAPS}, value=rings, elem_id="latent-maps")
    near = gr.HTML(near_first, elem_id="latent-neighbours")

    ui = dict(api_visibility="undocumented", show_progress="hidden")
    current.change(for_api("map view")(show), current, [view, near], **ui)
    if loader is not None:
        def pick(value, name):
            p = value.get("pick") if isinstance(value, dict) else None
            if not isinstance(p, dict):
                raise InputError("A click on the map must name the map and the point clicked.")
            k = choice("map", p.get("map"), list(MAPS))
            i = pictures.dot_at(k, number("x", p.get("x"), 0, 1), number("y", p.get("y"), 0, 1))
            note = t("Test digit #{index}, a {label}, picked on the latent map.", index=int(m.index[i]),
                     label=int(m.labels[i]))
            return loader.show_input(m.images[i].float().numpy() / 255, note, name)

        view.click(on_page("map click", loader.cleared)(pick), [view, ctx.chosen], loader.outputs, api_name="map_click",
                   **ui)

    @for_api("latent_map")
    def latent_map_endpoint(image: FileData) -> dict:
        found = where(m, model, model_input(image, trusted))
        found.pop("tsne_neighbours")
        return found

    gr.api(latent_map_endpoint, api_name="latent_map", concurrency_limit=4,
           api_description=both(API, count=f"{len(m):,}", shown=SHOWN))

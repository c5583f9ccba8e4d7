"""The images a request brings, from Gradio's payloads to something ae can open.

Image events run with preprocess=False, so Gradio hands over the request's file object unopened and no
Gradio decoder touches it: only files Gradio received as uploads (its cache) and the shipped examples are
read, whatever path the request names (ae.uploads), and every image goes through ae.preprocess.open_image
(its formats and decoding budget).
"""

import io
import threading

import numpy as np
from gradio import utils as gradio_utils
from PIL import Image

from ae.preprocess import InputError, open_image, preprocess
from ae.uploads import read_upload

EMPTY_CANVAS = "The canvas is empty. Draw a digit (0-9) with your mouse or finger."
NO_IMAGE = "No image yet. Upload, paste or drop a picture of a digit, or pick an example."


def uploaded(payload, trusted: tuple = ()) -> io.BytesIO:
    """The bytes of the file behind an image input: Gradio's cache and the `trusted` folders only."""
    if payload is None:
        raise InputError(NO_IMAGE)
    if not isinstance(payload, dict):
        raise InputError("An image must be sent as a file (with gradio_client: handle_file('digit.png')).")
    return read_upload(payload.get("path"), (gradio_utils.get_upload_folder(), *trusted))


def model_input(payload, trusted: tuple = ()) -> np.ndarray:
    """The (28, 28) model input of an uploaded image: the preprocessing every model of the app shares."""
    img, _ = open_image(uploaded(payload, trusted))
    return preprocess(img)


class PendingDrawings:
    """The sketchpad's drawings sent ahead of their event, bounded in count, per visitor and in all.

    The page sends each drawing (a PNG) to the sketchpad's own route under an id it makes up, then fires the
    event that names that id, tens of milliseconds later; the event takes the drawing out. Drawings whose event
    never comes must not pile up, and one visitor must not push out everyone else's: each session keeps at most
    `per_session`, and when all hold `limit` drawings or `limit_bytes`, the session holding the most gives up its
    oldest (among equals, the oldest session). A client that makes up `limit` session ids and sends a drawing
    under each within those milliseconds can still push out a visitor's drawing; that visitor's next stroke
    sends it again.
    """

    def __init__(self, limit: int = 256, per_session: int = 4, limit_bytes: int = 32 * 2**20):
        self.limit, self.per_session, self.limit_bytes = limit, per_session, limit_bytes
        self._bytes = 0
        self._by_session: dict[str, dict[str, bytes]] = {}  # session -> {id: PNG bytes}, oldest first
        self._owner: dict[str, str] = {}  # id -> session
        self._lock = threading.Lock()  # the sketchpad's route and the events run in worker threads

    def __len__(self) -> int:
        return len(self._owner)

    def __contains__(self, key) -> bool:
        return key in self._owner

    def __deepcopy__(self, memo) -> "PendingDrawings":
        return self  # Gradio copies components per session; the store stays the one the events read

    def put(self, session: str, key: str, png: bytes) -> None:
        with self._lock:
            self._take(key)
            held = self._by_session.setdefault(session, {})
            held[key] = png
            self._owner[key] = session
            self._bytes += len(png)
            while len(held) > self.per_session:
                self._take(next(iter(held)))
            while len(self._owner) > self.limit or self._bytes > self.limit_bytes:
                fullest = max(self._by_session.values(), key=len)
                self._take(next(iter(fullest)))

    def pop(self, key: str, default=None):
        """The drawing sent under key (taken out), or default."""
        with self._lock:
            png = self._take(key)
        return default if png is None else png

    def _take(self, key: str) -> bytes | None:
        session = self._owner.pop(key, None)
        if session is None:
            return None
        held = self._by_session[session]
        png = held.pop(key)
        self._bytes -= len(png)
        if not held:
            del self._by_session[session]
        return png


def drawing(sketch, pending: PendingDrawings) -> Image.Image:
    """The sketchpad's picture. The page sends the drawing ahead of the event, as PNG bytes the sketchpad keeps
    (in `pending`) under the event's id; an API client sends it as an uploaded file, read like uploads."""
    if not isinstance(sketch, dict):
        raise InputError(EMPTY_CANVAS)
    key = sketch.get("id")
    sent = pending.pop(key) if isinstance(key, str) else None
    if sent:
        source = io.BytesIO(sent)
    elif sketch.get("composite") is not None:
        source = uploaded(sketch["composite"])
    else:
        raise InputError(EMPTY_CANVAS)
    img, _ = open_image(source)
    if np.ptp(np.asarray(img)) == 0:
        raise InputError(EMPTY_CANVAS)
    return img

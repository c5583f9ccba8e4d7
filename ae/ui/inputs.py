"""The images a request brings, from Gradio's payloads to something ae can open.

Image events run with preprocess=False, so Gradio hands over the request's file object unopened and no
Gradio decoder touches it: only files Gradio received as uploads (its cache) and the shipped examples are
read, whatever path the request names (ae.uploads), and every image goes through ae.preprocess.open_image
(its formats and decoding budget).
"""

import io

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


class RecentBlobs(dict):
    """A sketchpad's store of drawings sent ahead of their event, keeping only the newest `limit`.

    Gradio's ImageEditor keeps each drawing a page sends (by a page-chosen id) until an event with that id
    consumes it; drawings sent without such an event would otherwise pile up in memory for good.
    """

    def __init__(self, limit: int = 256):
        super().__init__()
        self.limit = limit

    def __setitem__(self, key, value) -> None:
        super().pop(key, None)  # a key set again counts as new
        super().__setitem__(key, value)
        while len(self) > self.limit:
            del self[next(iter(self))]


def drawing(sketch, blobs: RecentBlobs) -> Image.Image:
    """The sketchpad's picture. The page sends the drawing ahead of the event, as PNG bytes the sketchpad keeps
    (in `blobs`) under the event's id; an API client sends it as an uploaded file, read like uploads."""
    if not isinstance(sketch, dict):
        raise InputError(EMPTY_CANVAS)
    key = sketch.get("id")
    sent = blobs.pop(key, None) if isinstance(key, str) else None
    if sent is not None and sent.composite:
        source = io.BytesIO(sent.composite)
    elif sketch.get("composite") is not None:
        source = uploaded(sketch["composite"])
    else:
        raise InputError(EMPTY_CANVAS)
    img, _ = open_image(source)
    if np.ptp(np.asarray(img)) == 0:
        raise InputError(EMPTY_CANVAS)
    return img

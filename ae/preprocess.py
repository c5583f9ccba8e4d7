"""Any user image -> the 28x28 input the model expects, made the way MNIST itself was made.

Pure functions: composite transparency, grayscale, white ink on black, crop to the ink, scale the
longer side to 20 px (antialiased), and centre the ink's centre of mass in a 28x28 field.
"""

import numpy as np
from PIL import Image, JpegImagePlugin

SIDE = 28  # MNIST's field
BOX = 20  # MNIST scales each digit's longer side to this, leaving a 4 px margin
MAX_PIXELS = 40_000_000  # larger images are refused before they are decoded (a 10000x10000 PNG is 100 MP)
# Decoding costs memory and time in proportion to the pixels PIL holds: 32 MiB keeps any accepted upload well
# under 1 s and 100 MB (8 megapixels of colour, 33 of grayscale). JPEGs are decoded at a reduced scale first.
MAX_DECODED_BYTES = 32 * 2**20
# A progressive JPEG is decoded from all its coefficients at full size whatever the scale (2 bytes each: a 40-MP
# CMYK one took 316 MB); they may take this much, about 22 megapixels of a colour photo with halved chroma.
MAX_PROGRESSIVE_BYTES = 64 * 2**20
# The decoders PIL may use. Each one more is more code an upload can reach (EPS would even start Ghostscript).
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
WORK_SIDE = 1024  # bigger inputs are first shrunk to this; 20 px of output needs no more
MIN_CONTRAST = 0.08  # ink must differ from the background by this much (of full scale) to count
NOISE_FLOOR = 0.1  # after normalising, fainter pixels (paper grain, JPEG ringing) are background
# On grainy or unevenly lit paper the floor rises to this many robust standard deviations of the border (at most
# MAX_FLOOR): grain and shading above a fixed floor were taken for ink, and the crop around them shrank the digit.
# MNIST test digits photographed on such paper (ae.nondigits, harsh=True): 60% came out wrong (MSE > 0.03 against
# the digit) with the fixed floor, 5% with this one; clean and drawn inputs have a flat border and keep 0.1.
NOISE_SPREADS = 6
MAX_FLOOR = 0.5
# The app's drawing canvas and brush. A digit drawn over about 60% of the canvas is scaled by ~20/240, so
# a 30 px brush becomes MNIST's ~2.5 px stroke (tests/test_preprocess.py checks the ink against MNIST's).
CANVAS_SIDE = 400
BRUSH_SIZE = 30


class InputError(ValueError):
    """An image the model cannot use; the message is meant for the person who sent it."""


def check_size(width: int, height: int) -> None:
    """Refuse images too large to decode safely."""
    if width * height > MAX_PIXELS:
        raise InputError(
            f"The image is {width}x{height} pixels, more than the {MAX_PIXELS // 1_000_000} megapixels this "
            f"demo accepts. Please upload a smaller picture (a digit needs only a few hundred pixels)."
        )
    if width < 1 or height < 1:
        raise InputError("The image has no pixels.")


def to_grayscale(img: Image.Image) -> np.ndarray:
    """Any PIL image (any mode, maybe transparent) -> (H, W) float32 luminance in [0, 1]."""
    check_size(*img.size)
    try:
        return _to_grayscale(img)
    except (ValueError, OSError) as e:  # PIL cannot convert some exotic modes (LAB, HSV, ...)
        raise InputError(f"Cannot read colours of this image (mode {img.mode}); please send a PNG or JPEG.") from e


ORIENTATION = 0x0112  # the EXIF tag a camera sets when it stored the picture turned
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}  # ImageOps.exif_transpose's turns, made after shrinking


def shrink(img: Image.Image) -> Image.Image:
    """img with its longer side at most WORK_SIDE (20 px of output needs no more), never copied at full size:
    a full-size copy of an 8-megapixel RGBA upload is 32 MB more per copy."""
    if max(img.size) <= WORK_SIDE:
        return img
    if img.mode == "1" or (img.mode == "P" and "transparency" not in img.info):
        img = img.convert("L")  # PIL resizes these only by nearest neighbour
    elif img.mode == "P":
        img = img.convert("RGBA")
    scale = WORK_SIDE / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if img.mode.startswith("I;16"):  # PIL has no Lanczos (nor reduce) for 16-bit: area averaging
        return img.resize(size, Image.Resampling.BOX)
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)  # box-reduce first, then Lanczos


def _to_grayscale(img: Image.Image) -> np.ndarray:
    turn = UPRIGHT.get(img.getexif().get(ORIENTATION))
    img = shrink(img)
    if turn is not None:
        img = img.transpose(turn)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # deep grayscale: to floats in [0, 1] ourselves
        arr = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        top = 65535.0 if img.mode.startswith("I;16") else 255.0 if arr.max() > 1 else 1.0
        return np.clip(arr / top, 0, 1)
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255
        alpha = rgba[..., 3]
        gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if alpha.min() > 0.99:  # an alpha channel that is opaque everywhere carries no shape
            return gray
        # Ink lives in the opaque part; put it on whichever background contrasts with it.
        weight = alpha.sum()
        ink_level = float((gray * alpha).sum() / weight) if weight > 0 else 0.0
        background = 1.0 if ink_level < 0.5 else 0.0
        return gray * alpha + background * (1 - alpha)
    return np.asarray(img.convert("L"), dtype=np.float32) / 255


def ink_white_on_black(gray: np.ndarray) -> np.ndarray:
    """(H, W) luminance -> (H, W) ink in [0, 1] on a 0 background, whichever way round the input was."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))  # the border is mostly background even when ink touches it
    ink = gray - background if background < 0.5 else background - gray
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise InputError("No digit found: the image is blank (one flat colour). Draw or upload a digit.")
    spread = 1.4826 * float(np.median(np.abs(border - background)))  # the background's own variation
    floor = min(max(NOISE_FLOOR, NOISE_SPREADS * spread / peak), MAX_FLOOR)
    ink = np.clip(ink / peak, 0, 1)
    ink[ink < floor] = 0
    return ink


def fit_to_mnist(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink on 0 -> (28, 28): cropped, longer side scaled to 20 px, centre of mass at the centre."""
    rows, cols = np.nonzero(ink)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = Image.fromarray(crop.astype(np.float32), mode="F").resize((new_w, new_h), Image.Resampling.LANCZOS)
    digit = np.asarray(small)
    digit = np.clip(digit, 0, 1)  # Lanczos overshoots a little at sharp edges

    total = digit.sum()
    ys, xs = np.indices(digit.shape)
    cy, cx = (ys * digit).sum() / total, (xs * digit).sum() / total
    centre = SIDE / 2  # MNIST's own digits have their centre of mass at pixel index (14, 14), not 13.5
    top = int(np.clip(round(centre - cy), 0, SIDE - new_h))
    left = int(np.clip(round(centre - cx), 0, SIDE - new_w))
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    out[top : top + new_h, left : left + new_w] = digit
    return out


def preprocess(img: Image.Image | np.ndarray) -> np.ndarray:
    """Any user image -> (28, 28) float32 in [0, 1], white ink on black, as MNIST digits are."""
    if img is None:
        raise InputError("No image: draw a digit on the canvas or upload a picture of one.")
    if isinstance(img, np.ndarray):
        img = image_from_array(img)
    return fit_to_mnist(ink_white_on_black(to_grayscale(img)))


def image_from_array(arr: np.ndarray) -> Image.Image:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array -> PIL image. uint8 is taken as is; other types are
    scaled from [0, 1] when they fit it, else from [0, 255], else from [0, their maximum]; NaN counts as 0."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.size == 0 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise InputError(f"Cannot read an image array of shape {arr.shape}: it needs height x width pixels with "
                         f"1, 3 or 4 channels.")
    if arr.dtype != np.uint8:
        values = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = max(float(values.max()), 1.0)
        top = 1.0 if top <= 1 else 255.0 if top <= 255 else top
        arr = np.clip(np.round(values / top * 255), 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def decoded_bytes(img: Image.Image) -> int:
    """What decoding img takes in memory: PIL keeps 1 byte a pixel for 8-bit single-band images, 2 for
    16-bit ones, and 4 for everything else (RGB, RGBA, LA, CMYK, 32-bit integers and floats)."""
    per_pixel = 1 if img.mode in ("1", "L", "P") else 2 if img.mode.startswith("I;16") else 4
    return img.width * img.height * per_pixel


def progressive_bytes(img: Image.Image) -> int:
    """What libjpeg holds to decode a progressive JPEG: every DCT coefficient of every component at full size,
    2 bytes each, whatever the scale asked for (the reduced-scale decode saves only the output's memory)."""
    sampling = getattr(img, "layer", None) or [("", 1, 1, 0)] * len(img.getbands())
    h_max = max(h for _, h, _, _ in sampling)
    v_max = max(v for _, _, v, _ in sampling)
    blocks = sum(-(-img.width * h // (8 * h_max)) * -(-img.height * v // (8 * v_max)) for _, h, v, _ in sampling)
    return blocks * 64 * 2


def check_progressive(img: Image.Image) -> None:
    """Refuse a progressive JPEG whose decoding would take more than MAX_PROGRESSIVE_BYTES."""
    if progressive_bytes(img) > MAX_PROGRESSIVE_BYTES:
        raise InputError(
            f"The image is a progressive JPEG of {img.width}x{img.height} pixels: too large for this demo to "
            f"decode safely (progressive JPEGs up to about {MAX_PROGRESSIVE_BYTES / 3 / 1e6:.0f} megapixels in "
            f"colour). Please send a smaller picture, or save it as a baseline JPEG or PNG."
        )


def open_image(source) -> tuple[Image.Image, str | None]:
    """Open a file (path or file object) as a PIL image, refusing what is not one or what would take
    more than MAX_DECODED_BYTES to decode; returns (image, note for the user)."""
    try:
        img = Image.open(source, formats=FORMATS)
    except Image.DecompressionBombError:
        raise InputError("The image is far too large to open safely. Please upload a smaller picture.") from None
    except Exception as e:  # Image.open reads only the header; anything it raises means "not an image"
        raise InputError(
            "That file is not an image this demo can read (PNG, JPEG, GIF, BMP, WebP and TIFF work)."
        ) from e
    kind = img.format or "image"
    check_size(*img.size)  # before decoding: the header alone tells the size
    if isinstance(img, JpegImagePlugin.JpegImageFile):  # MPO files too: Pillow opens JPEGs with MPF data as MPO
        if img.info.get("progressive") or img.info.get("progression"):
            check_progressive(img)
        # decode at 1/2, 1/4 or 1/8 scale in the DCT itself: cheap for any baseline photo
        img.draft(img.mode if img.mode in ("L", "RGB") else "RGB", (WORK_SIDE, WORK_SIDE))
    if decoded_bytes(img) > MAX_DECODED_BYTES:
        raise InputError(
            f"The image is {img.width}x{img.height} pixels, too many for this demo to decode quickly "
            f"(up to {MAX_DECODED_BYTES // 4 / 1e6:.0f} megapixels in colour, {MAX_DECODED_BYTES / 1e6:.0f} in "
            f"grayscale; JPEG photos of any size up to {MAX_PIXELS // 1_000_000} megapixels). A digit needs only "
            f"a few hundred pixels: please send a smaller picture."
        )
    note = None
    try:
        # is_animated looks for a second frame only; n_frames would walk them all (a 10 MB GIF can hold 690,000)
        if getattr(img, "is_animated", False):
            note = "This image has several frames; only the first one is used."
            img.seek(0)
        img.load()
    except Exception as e:  # each decoder fails its own way (OSError, SyntaxError, IndexError, struct.error...)
        raise InputError(
            f"That file looks like a {kind} image but could not be decoded: it may be damaged or cut short "
            f"({type(e).__name__}). Please send the picture again, or another one."
        ) from e
    return img, note

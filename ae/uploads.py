"""The one way the app opens a file that a request names: only inside the folders it was told to trust,
only a regular file, never a blocking open, never more than a set number of bytes.

A request to a web app can name any path ("/etc/passwd", a FIFO, /dev/stdin, the checkpoint); the web
framework's own check does not cover every shape of request, so the app checks again here, right before
it opens anything, and reads the bytes into memory so that nothing later touches the path again.
"""

import io
import os
import stat
from pathlib import Path

from ae.preprocess import InputError

MAX_FILE_BYTES = 10 * 1024 * 1024  # uploads above this are refused (the page says 10 MB)

NOT_UPLOADED = ("That file was not uploaded to this app. Send the image itself: upload it on the page, or "
                "with gradio_client use handle_file('your-image.png').")


def read_upload(path, allowed_dirs, max_bytes: int = MAX_FILE_BYTES) -> io.BytesIO:
    """The bytes of the regular file at path, if it lies inside one of allowed_dirs; else InputError."""
    if not isinstance(path, (str, os.PathLike)) or not str(path) or "\x00" in str(path):
        raise InputError("No image: upload a picture of a digit.")
    real = Path(os.path.realpath(path))  # symlinks and ".." resolved before the folder check
    if not any(real.is_relative_to(Path(os.path.realpath(d))) for d in allowed_dirs):
        raise InputError(NOT_UPLOADED)
    try:
        # O_NONBLOCK: a FIFO or a device must not stall the server; O_NOFOLLOW: `real` has no links left,
        # so a link swapped in after the check is refused rather than followed.
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        raise InputError("That upload is no longer on the server (uploads are kept for an hour). "
                         "Please send it again.") from None
    try:
        info = os.fstat(fd)  # of what was opened, not of what the path names now
        if not stat.S_ISREG(info.st_mode):
            raise InputError(NOT_UPLOADED)
        if info.st_size > max_bytes:
            raise InputError(f"The file is {info.st_size / 2**20:.1f} MB; this demo accepts images up to "
                             f"{max_bytes / 2**20:.0f} MB.")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew after the check
        raise InputError(f"The file is larger than the {max_bytes / 2**20:.0f} MB this demo accepts.")
    return io.BytesIO(data)

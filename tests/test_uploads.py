"""ae.uploads.read_upload: the only way the app opens a file a request names."""

import os

import pytest

from ae.preprocess import InputError
from ae.uploads import read_upload


@pytest.fixture
def cache(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "digit.png").write_bytes(b"\x89PNG not really")
    return folder


def test_reads_a_file_inside_a_trusted_folder(cache):
    assert read_upload(str(cache / "digit.png"), [cache]).read() == b"\x89PNG not really"


@pytest.mark.parametrize("name", ["outside.png", "../outside.png", "cache/../outside.png"])
def test_refuses_files_outside_the_trusted_folders(cache, name):
    (cache.parent / "outside.png").write_bytes(b"private")
    with pytest.raises(InputError, match="not uploaded"):
        read_upload(str(cache / name) if name.startswith("..") else str(cache.parent / name), [cache])


def test_refuses_a_link_out_of_the_folder(cache):
    (cache.parent / "secret").write_bytes(b"private")
    os.symlink(cache.parent / "secret", cache / "link.png")
    with pytest.raises(InputError, match="not uploaded"):
        read_upload(str(cache / "link.png"), [cache])


def test_a_fifo_is_refused_without_blocking(cache):
    os.mkfifo(cache / "pipe.png")  # opened for reading the ordinary way, this would wait for a writer forever
    with pytest.raises(InputError, match="not uploaded"):
        read_upload(str(cache / "pipe.png"), [cache])


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_even_in_a_trusted_folder(path):
    with pytest.raises(InputError, match="not uploaded"):
        read_upload(path, ["/dev"])


def test_folders_missing_files_and_oversized_files(cache):
    with pytest.raises(InputError, match="not uploaded"):
        read_upload(str(cache), [cache])  # the folder itself is not a file
    with pytest.raises(InputError, match="no longer on the server"):
        read_upload(str(cache / "gone.png"), [cache])
    (cache / "big.png").write_bytes(b"x" * 2048)
    with pytest.raises(InputError, match="accepts images up to"):
        read_upload(str(cache / "big.png"), [cache], max_bytes=1024)


@pytest.mark.parametrize("path", [None, "", 42, ["a"], "a\x00b"])
def test_not_a_path(cache, path):
    with pytest.raises(InputError, match="No image"):
        read_upload(path, [cache])

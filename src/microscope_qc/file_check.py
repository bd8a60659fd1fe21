"""What a file that cannot be read is, in one line a user can act on.

Readers fail with their own advice ("install a format plugin"), which is wrong for an empty file,
a text file or a damaged TIFF. These checks look at the file's first bytes and its size, say what
it is, and name a reader extra only when that reader would read the file.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import zlib
from pathlib import Path

__all__ = [
    "describe_unreadable",
    "tiff_truncation",
    "is_damaged_data_error",
    "available_memory",
    "READ_FORMATS",
]

#: what the readers installed with the package read, for messages
READ_FORMATS = "TIFF and OME-TIFF (and OME-Zarr, CZI, ND2, LIF with their bioio reader plugins)"

# (magic bytes at offset 0, what it is, the bioio plugin that reads it or None)
_MAGIC: list[tuple[bytes, str, str | None]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image", None),
    (b"\xff\xd8\xff", "a JPEG image", None),
    (b"GIF8", "a GIF image", None),
    (b"BM", "a BMP image", None),
    (b"%PDF", "a PDF document", None),
    (b"PK\x03\x04", "a ZIP archive", None),
    (b"ZISRAWFILE", "a Zeiss CZI file", "bioio-czi"),
    (b"\xda\xce\xbe\x0a", "a Nikon ND2 file", "bioio-nd2"),
    (b"\x0a\x0a\x00\x00", "a Nikon ND2 file (old format)", "bioio-nd2"),
    (b"\x70\x00\x00\x00", "a Leica LIF file", "bioio-lif"),
]
#: packages whose own code raising while pixels are read means the file, not this program, is at fault
_DECODER_PACKAGES = ("tifffile", "imagecodecs", "bioio_tifffile", "bioio_ome_tiff", "zarr", "numcodecs")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PLAIN_IMAGES = "a flat picture without a z-stack, channels or physical pixel size"


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def describe_unreadable(path: Path, reason: str = "") -> str:
    """Say what an unreadable file is and what to do, in one line.

    Parameters
    ----------
    path : Path
        The file the readers could not open.
    reason : str
        The reader's own error, kept (short) at the end for a damaged file of a known format.

    Returns
    -------
    str
        E.g. "img.png is a PNG image, a flat picture without ...; export TIFF or OME-TIFF from the
        acquisition software."
    """
    name = path.name
    size = path.stat().st_size
    if size == 0:
        return f"{name} cannot be read: it is empty (0 bytes): the acquisition or the copy did not finish; copy it again."
    head = _head(path)
    if head.startswith(_TIFF_MAGIC):
        problem = tiff_truncation(path) or (reason[:160] if reason else "its structure cannot be parsed")
        return f"{name} cannot be read: it is a damaged TIFF ({problem}); copy it again or re-export it from the acquisition software."
    for magic, what, plugin in _MAGIC:
        if head.startswith(magic):
            if plugin is None:
                return f"{name} cannot be read: it is {what}, {_PLAIN_IMAGES}; export TIFF or OME-TIFF from the acquisition software."
            if importlib.util.find_spec(plugin.replace("-", "_")) is not None:
                return f"{name} is {what} that its reader ({plugin}) could not read: {reason[:160] or 'damaged?'}"
            return (
                f"{name} cannot be read yet: it is {what}; reading it needs the {plugin} reader: "
                f"pip install {plugin} (in the environment that runs microscope-qc)."
            )
    if _looks_like_text(head):
        first = head.decode("utf-8").strip().splitlines()[0][:60] if head.strip() else ""
        return (
            f"{name} cannot be read: it is a text file ({first!r}…), not an image. This reads {READ_FORMATS}."
        )
    return f"{name} cannot be read: it is not an image format this reads ({READ_FORMATS}); its content is not recognised."


def tiff_truncation(path: Path) -> str | None:
    """Say whether a TIFF's pixel data runs past the end of the file (a truncated copy).

    Parameters
    ----------
    path : Path
        A TIFF file.

    Returns
    -------
    str or None
        E.g. "truncated: the pixel data needs 1.2 MB, the file holds 0.6 MB", or None when every
        strip and tile of the first pages lies inside the file (or the file is not a TIFF).
    """
    import tifffile

    size = path.stat().st_size
    try:
        with tifffile.TiffFile(path) as tif:
            end = 0
            for page in tif.pages:
                offsets = getattr(page, "dataoffsets", ()) or ()
                counts = getattr(page, "databytecounts", ()) or ()
                for off, n in zip(offsets, counts, strict=False):
                    end = max(end, int(off) + int(n))
    except (tifffile.TiffFileError, struct.error, ValueError, OSError):
        return "its header cannot be parsed"
    except Exception:  # noqa: BLE001 (tifffile raises many types on damaged files)
        return "its header cannot be parsed"
    if end > size:
        return f"truncated: the pixel data needs {end / 1e6:.3g} MB, the file holds {size / 1e6:.3g} MB"
    return None


def is_damaged_data_error(exc: BaseException) -> bool:
    """Whether an exception raised while decoding pixels means the file's data is damaged.

    Parameters
    ----------
    exc : BaseException
        An exception raised while reading pixel data (possibly inside an analysis, as the data
        is read lazily).

    Returns
    -------
    bool
        True for codec errors (imagecodecs, zlib) and tifffile's format errors.
    """
    module = type(exc).__module__ or ""
    if isinstance(exc, zlib.error) or module.startswith(("imagecodecs", "tifffile")):
        return True
    # a plain ValueError or struct.error raised inside the TIFF decoder itself
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    innermost = tb.tb_frame.f_code.co_filename if tb is not None else ""
    return any(f"{os.sep}{pkg}{os.sep}" in innermost for pkg in _DECODER_PACKAGES)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None when unknown.

    Returns
    -------
    int or None
        The available memory in bytes.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None

"""A small PNG encoder (zlib and struct only) for the images inside report figures.

Report images are colour-mapped, so they are written as palette images: one byte a pixel and the
colour map as the palette, a third of the data of RGB and exactly the colours of the map.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["encode_png", "png_data_uri"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour types by the number of channels of an 8-bit image (1: grey, 3: RGB, 4: RGBA)
_COLOUR_TYPE = {1: 0, 3: 2, 4: 6}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(
    pixels: npt.NDArray[Any],
    palette: npt.NDArray[Any] | None = None,
    alpha: npt.NDArray[Any] | None = None,
    level: int = 6,
) -> bytes:
    """Encode an 8-bit image as PNG.

    Parameters
    ----------
    pixels : numpy.ndarray
        uint8, (H, W) grey levels or palette indices, (H, W, 3) RGB or (H, W, 4) RGBA.
    palette : numpy.ndarray, optional
        (N, 3) uint8 colours, N ≤ 256: ``pixels`` (H, W) are then indices into it.
    alpha : numpy.ndarray, optional
        (N,) uint8 opacity of the palette entries (0 transparent); only with ``palette``.
    level : int
        zlib compression level (0–9).

    Returns
    -------
    bytes
        The PNG file.

    Raises
    ------
    ValueError
        For an image that is not 8-bit, or of an unsupported shape, or an oversized palette.
    """
    img = np.ascontiguousarray(pixels)
    if img.dtype != np.uint8:
        raise ValueError(f"PNG pixels must be uint8, not {img.dtype}")
    channels = 1 if img.ndim == 2 else img.shape[2] if img.ndim == 3 else 0
    if channels not in _COLOUR_TYPE or min(img.shape[:2], default=0) < 1:
        raise ValueError(f"PNG pixels must be (H, W), (H, W, 3) or (H, W, 4), not {img.shape}")
    if palette is not None and (channels != 1 or len(palette) > 256):
        raise ValueError("a palette image has (H, W) indices and at most 256 colours")
    h, w = img.shape[:2]
    colour_type = 3 if palette is not None else _COLOUR_TYPE[channels]
    raw = np.zeros((h, 1 + w * channels), np.uint8)  # each row: filter type 0 (none), then its bytes
    raw[:, 1:] = img.reshape(h, w * channels)
    out = [_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0))]
    if palette is not None:
        out.append(_chunk(b"PLTE", np.ascontiguousarray(palette, np.uint8)[:, :3].tobytes()))
        if alpha is not None:
            out.append(_chunk(b"tRNS", np.ascontiguousarray(alpha, np.uint8).tobytes()))
    out.append(_chunk(b"IDAT", zlib.compress(raw.tobytes(), level)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def png_data_uri(png: bytes) -> str:
    """A ``data:`` URI of PNG bytes, to embed an image in an SVG or HTML page."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

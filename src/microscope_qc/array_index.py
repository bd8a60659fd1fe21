"""Small index helpers of :mod:`microscope_qc.volume`: kinds of index, integer arrays, storage chunks."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["kind", "normalise", "z_chunk"]


def z_chunk(data: Any) -> int | None:
    """Planes per storage chunk along z of a dask or zarr array (the largest), None for others."""
    chunks = getattr(data, "chunks", None)
    if not chunks or isinstance(data, np.ndarray):
        return None
    first = chunks[0]
    size = max(first) if isinstance(first, tuple) else first
    return int(size) if isinstance(size, (int, np.integer)) and size > 0 else None


def kind(k: Any) -> str:
    """How an index component indexes: ``"slice"``, ``"int"`` or ``"array"``."""
    if isinstance(k, slice):
        return "slice"
    if isinstance(k, (int, np.integer)):
        return "int"
    return "array"


def normalise(k: Any, n: int) -> npt.NDArray[np.intp]:
    """An integer index (array) with negative values counted from the end; IndexError outside."""
    a = np.asarray(k)
    if a.dtype.kind not in "iu":
        raise IndexError(f"only integer index arrays are supported, got {a.dtype}")
    a = a.astype(np.intp, copy=False)
    a = np.where(a < 0, a + n, a)
    if a.size and (a.min() < 0 or a.max() >= n):
        raise IndexError(f"index out of bounds for an axis of size {n}")
    return a

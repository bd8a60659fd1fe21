"""Small helpers of :mod:`microscope_qc.volume`: kinds of index, integer arrays, storage chunks, dask reads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["computed", "kind", "normalise", "z_chunk"]


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


def computed(arr: Any) -> npt.NDArray[Any]:
    """A dask array computed into one numpy array, each chunk stored as soon as it is read.

    ``compute()`` holds every chunk and then their concatenation, twice the pixels; here the
    result is allocated first and each chunk dropped once stored (computed in this process's
    threads, even under a distributed client: the result is a local array).

    Parameters
    ----------
    arr : dask.array.Array
        The array (another object with ``compute`` is computed as it says).

    Returns
    -------
    numpy.ndarray
        The pixels.
    """
    import dask.array as da

    if not isinstance(arr, da.Array) or any(math.isnan(n) for c in arr.chunks for n in c):
        return np.asarray(arr.compute())
    target = np.empty(arr.shape, arr.dtype)
    da.store(arr, target, lock=False, scheduler="threads")
    return target

"""Lazy views of (C, ...) arrays: one channel, a stack as one channel, channels of several files joined.

Indexing a zarr array by channel (``z[c]``) reads the channel whole, and ``data[None]`` does the
same to a :class:`~microscope_qc.tiff_reader.TiffStack`; these views pass indices on instead, so
an analysis can take a channel of any :class:`~microscope_qc.volume.ArrayLike` without reading
it (:func:`stack_of` then reads it whole when it is small, else wraps it in a
:class:`~microscope_qc.volume.Volume`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from microscope_qc import volume
from microscope_qc.volume import ArrayLike, Stack, as_volume, in_memory, read

__all__ = ["Channel", "NewAxis", "Stacked", "channel", "stack_of", "same_pixels"]


class Channel:
    """``data[c]`` of a (C, ...) array, lazily: indexing reads only what it selects.

    A zarr array reads ``data[c]`` whole at once; this view passes each index on with ``c``
    in front, so a channel of any :class:`ArrayLike` stays lazy.

    Parameters
    ----------
    data : ArrayLike
        The (C, ...) array.
    c : int
        The channel.
    """

    def __init__(self, data: ArrayLike, c: int):
        self.data = data
        self.c = int(c)
        self.shape: tuple[int, ...] = tuple(int(n) for n in data.shape[1:])
        self.dtype: np.dtype[Any] = np.dtype(data.dtype)

    def __getitem__(self, key: Any) -> Any:
        keys = key if isinstance(key, tuple) else (key,)
        return self.data[(self.c, *keys)]


def channel(data: ArrayLike, c: int) -> ArrayLike:
    """Channel ``c`` of a (C, ...) array: a view for a numpy array, a lazy :class:`Channel` otherwise.

    Parameters
    ----------
    data : ArrayLike
        The (C, ...) array.
    c : int
        The channel.

    Returns
    -------
    ArrayLike
        ``data[c]``, not read.
    """
    if isinstance(data, Stacked):
        part, local = data.locate(c)
        return channel(part, local)
    if isinstance(data, NewAxis):
        if c != 0:
            raise IndexError(f"channel {c} does not exist; the stack has one channel")
        return data.data
    if isinstance(data, np.ndarray) or type(data).__module__.startswith(("dask", "microscope_qc")):
        out: ArrayLike = data[c]  # numpy, memory maps, dask and TiffStack index lazily themselves
        return out
    return Channel(data, c)


class NewAxis:
    """``data[None]`` of a lazy array, unread: one channel around a (Z, Y, X) stack.

    Parameters
    ----------
    data : ArrayLike
        The array.
    """

    def __init__(self, data: ArrayLike):
        self.data = data
        self.shape: tuple[int, ...] = (1, *(int(n) for n in data.shape))
        self.dtype: np.dtype[Any] = np.dtype(data.dtype)

    def __getitem__(self, key: Any) -> Any:
        keys = key if isinstance(key, tuple) else (key,)
        first, rest = keys[0], keys[1:]
        if isinstance(first, (int, np.integer)):
            if int(first) not in (0, -1):
                raise IndexError(f"index {first} is out of bounds for an axis of size 1")
            return self.data[rest] if rest else self.data
        return read(self.data, rest if rest else slice(None))[None][(first,)]


class Stacked:
    """Arrays of (C_i, ...) joined along their first axis, unread (channels from several files).

    Parameters
    ----------
    parts : sequence of ArrayLike
        Arrays whose shapes agree after the first axis, and of one pixel type.

    Raises
    ------
    ValueError
        If the parts' shapes after the first axis or their pixel types differ.
    """

    def __init__(self, parts: Sequence[ArrayLike]):
        self.parts = list(parts)
        rests = {tuple(int(n) for n in p.shape[1:]) for p in self.parts}
        types = {np.dtype(p.dtype) for p in self.parts}
        if len(rests) != 1 or len(types) != 1:
            raise ValueError(
                f"cannot join arrays of shapes {sorted(rests)} and types {sorted(map(str, types))}"
            )
        self._starts = np.cumsum([0, *(int(p.shape[0]) for p in self.parts)])
        self.shape: tuple[int, ...] = (int(self._starts[-1]), *rests.pop())
        self.dtype: np.dtype[Any] = types.pop()

    def locate(self, c: int) -> tuple[ArrayLike, int]:
        """The part holding index ``c`` of the first axis, and the index within it."""
        c = int(c) + (self.shape[0] if c < 0 else 0)
        if not 0 <= c < self.shape[0]:
            raise IndexError(f"index {c} is out of bounds for an axis of size {self.shape[0]}")
        k = int(np.searchsorted(self._starts, c, side="right")) - 1
        return self.parts[k], c - int(self._starts[k])

    def __getitem__(self, key: Any) -> Any:
        keys = key if isinstance(key, tuple) else (key,)
        if isinstance(keys[0], (int, np.integer)):
            part, local = self.locate(int(keys[0]))
            return part[(local, *keys[1:])]
        whole = np.concatenate([read(p, slice(None)) for p in self.parts])
        return whole[key]


def stack_of(czyx: ArrayLike, c: int) -> Stack:
    """Channel ``c`` of a (C, Z, Y, X) array as the analyses index it: a numpy array, else a :class:`Volume`.

    A lazy channel small enough (:func:`~microscope_qc.volume.small_enough_to_read`) is read whole.

    Parameters
    ----------
    czyx : ArrayLike
        The (C, Z, Y, X) pixels.
    c : int
        The channel.

    Returns
    -------
    numpy.ndarray or Volume
        The (Z, Y, X) stack, not read if lazy.
    """
    data = channel(czyx, c)
    if in_memory(data):
        return np.asarray(data)
    shape = tuple(int(n) for n in data.shape)
    if volume.small_enough_to_read(int(np.prod(shape, dtype=np.int64)) * np.dtype(data.dtype).itemsize):
        return read(data, (slice(None),) * len(shape))
    return as_volume(data)


def same_pixels(a: ArrayLike, b: ArrayLike) -> bool:
    """Whether two (Z, Y, X) arrays hold the same pixels, compared a block of planes at a time.

    Parameters
    ----------
    a, b : ArrayLike
        The arrays.

    Returns
    -------
    bool
        True if the shapes and every voxel agree (stops at the first block that differs).
    """
    if tuple(a.shape) != tuple(b.shape):
        return False
    if in_memory(a) and in_memory(b):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    va, vb = as_volume(a), as_volume(b)
    for (_, block), (_, other) in zip(va.blocks(), vb.blocks(), strict=True):
        if not np.array_equal(block, other):
            return False
    return True

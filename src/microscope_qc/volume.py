"""Image stacks read a block of planes at a time: what the analyses use instead of a copy in memory.

Analyses take their pixels as an :class:`ArrayLike` (numpy arrays and memory maps, dask and zarr
arrays, the TIFF reader's :class:`~microscope_qc.tiff_reader.TiffStack`). A (Z, Y, X) stack not
held in memory is wrapped in a :class:`Volume`, which computes the maximum projection and the
value checks in one pass over blocks of planes (:data:`BLOCK_BYTES`, in the pixels' own type),
keeps the bead columns it is asked for (:meth:`Volume.keep_columns`) and answers the indexing the
analyses do (a plane, boxes, z profiles, scattered voxels) from those columns or from only the
planes involved. Memory stays near a block, the projection and the columns whatever the stack's
size, and every number equals the one computed from the same pixels in a numpy array.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from microscope_qc import array_index

__all__ = [
    "ArrayLike", "Volume", "BLOCK_BYTES", "EAGER_BYTES", "in_memory", "read", "as_volume",
    "small_enough_to_read", "Stack",
]  # fmt: skip

#: Bytes of planes read at a time by a pass over a :class:`Volume`.
BLOCK_BYTES = 16 * 2**20
#: Bytes of whole planes a :class:`Volume` keeps for repeated single-plane reads.
PLANE_CACHE_BYTES = 32 * 2**20
#: A lazy stack at most this large (and at most 1/8 of the free memory) is read whole at once:
#: one read costs less than the passes, column and box reads of a :class:`Volume`.
EAGER_BYTES = 256 * 2**20


@runtime_checkable
class ArrayLike(Protocol):
    """What the analyses accept as pixels: a shape, a pixel type and numpy-style basic indexing.

    numpy arrays (memory maps included), dask and zarr arrays and
    :class:`~microscope_qc.tiff_reader.TiffStack` all qualify. Indexing with integers and
    slices must return something :func:`numpy.asarray` turns into the selected pixels.
    """

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""

    @property
    def dtype(self) -> Any:
        """The pixel type (anything :class:`numpy.dtype` accepts)."""

    def __getitem__(self, key: Any, /) -> Any:
        """The pixels selected by ``key`` (integers and slices at least)."""


def in_memory(data: object) -> bool:
    """True for a numpy array held in memory (not a memory map): indexing it costs nothing.

    Parameters
    ----------
    data : object
        An array.

    Returns
    -------
    bool
        Whether ``data`` is an ordinary :class:`numpy.ndarray`.
    """
    return isinstance(data, np.ndarray) and not isinstance(data, np.memmap)


def small_enough_to_read(nbytes: int) -> bool:
    """Whether a lazy stack of ``nbytes`` is better read whole into memory (see :data:`EAGER_BYTES`).

    Parameters
    ----------
    nbytes : int
        Bytes of the stack.

    Returns
    -------
    bool
        True when ``nbytes`` is at most :data:`EAGER_BYTES` and an eighth of the free memory.
    """
    if nbytes > EAGER_BYTES:
        return False
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the size limit alone
        return True
    return nbytes <= free // 8


def read(data: ArrayLike, key: Any) -> npt.NDArray[Any]:
    """``data[key]`` as a numpy array (a dask selection is computed, a lazy one read).

    Parameters
    ----------
    data : ArrayLike
        The array.
    key : index
        Integers and slices.

    Returns
    -------
    numpy.ndarray
        The selected pixels.
    """
    out = data[key]
    if type(out).__module__.startswith("dask"):  # into one array, a chunk at a time
        return array_index.computed(out)
    compute = getattr(out, "compute", None)
    if compute is not None and not isinstance(out, np.ndarray):
        out = compute()
    return np.asarray(out)


def as_volume(data: ArrayLike) -> Volume:
    """``data`` as a :class:`Volume` (itself if it already is one).

    Parameters
    ----------
    data : ArrayLike
        A (Z, Y, X) array.

    Returns
    -------
    Volume
        The volume.
    """
    return data if isinstance(data, Volume) else Volume(data)


class Volume:
    """A (Z, Y, X) stack read a block of planes at a time (see the module docstring).

    Parameters
    ----------
    data : ArrayLike
        The (Z, Y, X) pixels.
    block_bytes : int, optional
        Bytes of planes read at a time.

    Raises
    ------
    ValueError
        If ``data`` is not three-dimensional.
    """

    def __init__(self, data: ArrayLike, block_bytes: int = BLOCK_BYTES):
        shape = tuple(int(n) for n in data.shape)
        if len(shape) != 3:
            raise ValueError(f"a Volume is (Z, Y, X); got shape {shape}")
        self.data, self.shape = data, (shape[0], shape[1], shape[2])
        self.dtype: np.dtype[Any] = np.dtype(data.dtype)
        self._plane_bytes = max(1, shape[1] * shape[2] * self.dtype.itemsize)
        self.block_planes = max(1, int(block_bytes) // self._plane_bytes)
        zchunk = array_index.z_chunk(data)
        if zchunk is not None and zchunk > self.block_planes:
            if hasattr(data, "compute") and 2 * zchunk >= shape[0]:
                # one dask chunk along z: each block would compute it all again; compute it once
                self.data = read(data, (slice(None),) * 3)
            else:  # read whole chunks: a chunk cut by two blocks would be decoded twice
                self.block_planes = zchunk
        elif zchunk is not None:
            self.block_planes -= self.block_planes % zchunk
        self._planes: OrderedDict[int, npt.NDArray[Any]] = OrderedDict()
        self._max_planes = max(2, PLANE_CACHE_BYTES // self._plane_bytes)
        self._scan: dict[str, Any] | None = None
        self._columns: tuple[npt.NDArray[Any], npt.NDArray[np.intp], int, npt.NDArray[np.int32]] | None = None
        #: planes read from ``data`` so far (for tests and benchmarks)
        self.planes_read = 0

    ndim = 3

    @property
    def size(self) -> int:
        """Number of voxels."""
        return self.shape[0] * self.shape[1] * self.shape[2]

    @property
    def nbytes(self) -> int:
        """Bytes of the whole stack."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"Volume(shape={self.shape}, dtype={self.dtype}, data={type(self.data).__name__})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> npt.NDArray[Any]:
        out = read(self.data, (slice(None),) * 3)
        self.planes_read += self.shape[0]
        return out if dtype is None else out.astype(dtype, copy=False)

    # passes over blocks of planes -------------------------------------------------------------
    def blocks(
        self, z0: int = 0, z1: int | None = None, ys: slice = slice(None), xs: slice = slice(None)
    ) -> Iterator[tuple[int, npt.NDArray[Any]]]:
        """Planes ``z0`` to ``z1`` (cut to ``ys``, ``xs``), a block at a time.

        Parameters
        ----------
        z0, z1 : int
            First plane and one past the last (default: every plane).
        ys, xs : slice
            The part of each plane to read.

        Yields
        ------
        z, block : int, numpy.ndarray
            The block's first plane and its pixels (Z', Y', X'); valid until the next block
            is read (the buffer may be reused).
        """
        z1 = self.shape[0] if z1 is None else z1
        into = getattr(self.data, "read_into", None)  # a TiffStack reads into one reused buffer
        buffer: npt.NDArray[Any] | None = None
        for z in range(max(z0, 0), min(z1, self.shape[0]), self.block_planes):
            end = min(z + self.block_planes, z1, self.shape[0])
            self.planes_read += end - z
            key = (slice(z, end), ys, xs)
            if into is None:
                yield z, read(self.data, key)
                continue
            view = self.data[key]
            if buffer is None:
                buffer = np.empty((self.block_planes, *view.shape[1:]), self.dtype)
            yield z, view.read_into(buffer[: end - z])

    def scan(self) -> dict[str, Any]:
        """One pass over the stack: maximum projection, lowest and highest value, NaN and infinite voxels.

        Returns
        -------
        dict
            ``mip`` (Y, X) in the stack's type, ``min``, ``max`` (NaN ignored), ``nan`` and
            ``inf`` (counts; 0 for integer data).
        """
        if self._scan is not None:
            return self._scan
        mip: npt.NDArray[Any] | None = None
        lo: Any = None
        hi: Any = None
        n_nan = n_inf = 0
        floating = self.dtype.kind == "f"
        for _, block in self.blocks():
            if floating:
                nan = np.isnan(block)
                n_nan += int(nan.sum())
                n_inf += int(np.isinf(block).sum())
                part = block.max(axis=0)  # NaN propagates, as numpy's max of the whole stack does
                if nan.all():
                    continue
                b_lo, b_hi = np.nanmin(block), np.nanmax(block)
            else:
                part = block.max(axis=0)
                b_lo, b_hi = block.min(), block.max()
            mip = part if mip is None else np.maximum(mip, part)
            lo = b_lo if lo is None else min(lo, b_lo)
            hi = b_hi if hi is None else max(hi, b_hi)
        if mip is None:  # every voxel NaN (or no planes)
            mip = np.full(self.shape[1:], np.nan, self.dtype)
            lo = hi = np.nan
        self._scan = {"mip": mip, "min": lo, "max": hi, "nan": n_nan, "inf": n_inf}
        return self._scan

    def max(self, axis: int | None = None) -> Any:
        """The maximum projection along an axis (along z read once and kept) or the highest value.

        Parameters
        ----------
        axis : {0, 1, 2, None}
            0: the (Y, X) projection; 1 or 2: the (Z, X) or (Z, Y) projection, one pass over
            the blocks; None: the highest voxel value (NaN if any voxel is NaN, as
            :meth:`numpy.ndarray.max`).

        Returns
        -------
        numpy.ndarray or scalar
            As :meth:`numpy.ndarray.max`.
        """
        if axis == 0:
            return self.scan()["mip"]
        if axis is None:
            scan = self.scan()
            return np.nan if scan["nan"] else scan["max"]  # as numpy: NaN if any voxel is NaN
        if axis not in (1, 2):
            raise ValueError(f"axis {axis} is out of range for a 3D volume (0, 1, 2 or None)")
        # along y or x: each block of planes projects on its own; only the (Z, X) or (Z, Y) result is kept
        return np.concatenate([block.max(axis=axis) for _, block in self.blocks()], axis=0)

    def min(self, axis: None = None) -> Any:
        """The lowest voxel value (NaN ignored), from the one pass of :meth:`scan`.

        Parameters
        ----------
        axis : None
            Only the whole stack's minimum.

        Returns
        -------
        scalar
            The lowest value; NaN if any voxel is NaN, as :meth:`numpy.ndarray.min`.
        """
        scan = self.scan()
        return np.nan if scan["nan"] else scan["min"]  # as numpy: NaN if any voxel is NaN

    # reading parts --------------------------------------------------------------------------
    def plane(self, z: int) -> npt.NDArray[Any]:
        """Plane ``z`` (kept in a small cache: the detector reads some planes repeatedly).

        Parameters
        ----------
        z : int
            The plane index (negative counts from the end).

        Returns
        -------
        numpy.ndarray
            (Y, X), not to be modified.
        """
        z = int(z) + (self.shape[0] if z < 0 else 0)
        if not 0 <= z < self.shape[0]:
            raise IndexError(f"plane {z} is outside the {self.shape[0]}-plane stack")
        cached = self._planes.get(z)
        if cached is None:
            cached = read(self.data, (z, slice(None), slice(None)))
            self.planes_read += 1
            self._planes[z] = cached
            while len(self._planes) > self._max_planes:
                self._planes.popitem(last=False)
        else:
            self._planes.move_to_end(z)
        return cached

    def __getitem__(self, key: Any) -> npt.NDArray[Any]:
        keys = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis or k is None for k in keys) or len(keys) > 3:
            whole: npt.NDArray[Any] = np.asarray(self)[key]
            return whole
        keys = keys + (slice(None),) * (3 - len(keys))
        kinds = [array_index.kind(k) for k in keys]
        if "array" not in kinds:
            if kinds[0] == "int" and keys[1] == slice(None) and keys[2] == slice(None):
                return self.plane(keys[0])
            out = self._from_columns_basic(keys)
            if out is not None:
                return out
            zkey = keys[0] if isinstance(keys[0], slice) else slice(int(keys[0]), int(keys[0]) + 1)
            self.planes_read += len(range(*zkey.indices(self.shape[0])))
            return read(self.data, keys)
        idx = [
            array_index.normalise(k, n) if kinds[i] != "slice" else k
            for i, (k, n) in enumerate(zip(keys, self.shape, strict=True))
        ]
        if kinds[0] == "slice" and kinds[1] != "slice" and kinds[2] != "slice":
            return self._profiles(keys[0], idx[1], idx[2])
        if "slice" not in kinds:
            return self._points(*np.broadcast_arrays(*idx))
        return self._bounding(keys, kinds)

    def _profiles(self, zkey: slice, y: npt.NDArray[np.intp], x: npt.NDArray[np.intp]) -> npt.NDArray[Any]:
        """``stack[zkey, y, x]`` with (y, x) index arrays: z profiles, a block of planes at a time."""
        y, x = np.broadcast_arrays(y, x)
        zs = np.arange(*zkey.indices(self.shape[0]))
        out = np.empty((zs.size, *y.shape), self.dtype)
        if zs.size == 0 or y.size == 0:
            return out
        cols = self._column_lookup(y, x)
        if cols is not None:
            cache, c, cy, cx = cols
            out[...] = np.moveaxis(cache[c, :, cy, cx], -1, 0)[zs]
            return out
        if zkey.step not in (None, 1):
            return np.asarray(self)[zkey, y, x]
        y0, y1, x0, x1 = int(y.min()), int(y.max()) + 1, int(x.min()), int(x.max()) + 1
        for z, block in self.blocks(int(zs[0]), int(zs[-1]) + 1, slice(y0, y1), slice(x0, x1)):
            out[z - zs[0] : z - zs[0] + len(block)] = block[:, y - y0, x - x0]
        return out

    def _points(
        self, z: npt.NDArray[np.intp], y: npt.NDArray[np.intp], x: npt.NDArray[np.intp]
    ) -> npt.NDArray[Any]:
        """``stack[z, y, x]`` with broadcast index arrays: voxels read plane by plane."""
        out = np.empty(z.shape, self.dtype)
        if z.size == 0:
            return out
        cols = self._column_lookup(y, x)
        if cols is not None:
            cache, c, cy, cx = cols
            out[...] = cache[c, z, cy, cx]
            return out
        zf, yf, xf = z.ravel(), y.ravel(), x.ravel()
        flat = out.reshape(-1)
        order = np.argsort(zf, kind="stable")
        bounds = np.flatnonzero(np.diff(zf[order])) + 1
        for group in np.split(order, bounds):
            plane_z = int(zf[group[0]])
            gy, gx = yf[group], xf[group]
            y0, y1, x0, x1 = int(gy.min()), int(gy.max()) + 1, int(gx.min()), int(gx.max()) + 1
            if (y1 - y0) * (x1 - x0) * 4 > self.shape[1] * self.shape[2] or plane_z in self._planes:
                flat[group] = self.plane(plane_z)[gy, gx]
            else:
                self.planes_read += 1
                part = read(self.data, (plane_z, slice(y0, y1), slice(x0, x1)))
                flat[group] = part[gy - y0, gx - x0]
        return out

    def _bounding(self, keys: tuple[Any, ...], kinds: list[str]) -> npt.NDArray[Any]:
        """Any other mix of slices and index arrays: read the bounding box, index it in memory."""
        region: list[slice] = []
        local: list[Any] = []
        for k, kind, n in zip(keys, kinds, self.shape, strict=True):
            if kind == "slice":
                region.append(k)
                local.append(slice(None))
            else:
                a = array_index.normalise(k, n)
                lo = int(a.min()) if a.size else 0
                hi = int(a.max()) + 1 if a.size else 0
                region.append(slice(lo, hi))
                local.append(a - lo if kind == "array" else int(a) - lo)
        self.planes_read += len(range(*region[0].indices(self.shape[0])))
        out: npt.NDArray[Any] = read(self.data, tuple(region))[tuple(local)]
        return out

    # bead boxes -------------------------------------------------------------------------------
    @property
    def columns_kept(self) -> bool:
        """Whether bead columns are kept (:meth:`keep_columns`)."""
        return self._columns is not None

    def forget_planes(self) -> None:
        """Drop the planes kept by :meth:`plane` (the detector's; later reads use the bead columns)."""
        self._planes.clear()

    def keep_columns(
        self, y: npt.ArrayLike, x: npt.ArrayLike, half: int, budget_bytes: int | None = None
    ) -> bool:
        """Read, in one pass, every plane of the (2·half + 1)² columns around (y, x), and keep them.

        Later boxes, z profiles and voxels inside one column come from memory, not the file.
        Columns are kept only if they take at most ``budget_bytes`` (default: a quarter of
        the stack and at most 1 GiB); otherwise nothing is kept and reads stay block passes.

        Parameters
        ----------
        y, x : array_like of int
            Column centres.
        half : int
            Half-width of each column in pixels.
        budget_bytes : int, optional
            Most memory the columns may take.

        Returns
        -------
        bool
            Whether the columns are kept.
        """
        y = np.asarray(y, dtype=np.intp).ravel()
        x = np.asarray(x, dtype=np.intp).ravel()
        nz, h, w = self.shape
        side = 2 * int(half) + 1
        if y.size == 0:
            return False
        need = y.size * nz * side * side * self.dtype.itemsize + h * w * 4
        budget = min(self.nbytes // 4, 2**30) if budget_bytes is None else budget_bytes
        if need > budget:
            return False
        lo = np.column_stack([np.clip(y - half, 0, max(h - side, 0)), np.clip(x - half, 0, max(w - side, 0))])
        sy, sx = min(side, h), min(side, w)
        cache = np.zeros((y.size, nz, sy, sx), self.dtype)
        y0, y1 = int(lo[:, 0].min()), int(lo[:, 0].max()) + sy
        x0, x1 = int(lo[:, 1].min()), int(lo[:, 1].max()) + sx
        for z, block in self.blocks(ys=slice(y0, y1), xs=slice(x0, x1)):
            for i, (cy, cx) in enumerate(lo):
                cache[i, z : z + len(block)] = block[:, cy - y0 : cy - y0 + sy, cx - x0 : cx - x0 + sx]
        # each pixel belongs to the nearest column centre holding it: a box centred near its bead is
        # then looked up in that bead's column even where a neighbour's column overlaps it
        owner = np.full((h, w), -1, np.int32)
        nearest = np.full((h, w), np.inf, np.float32)
        for i, (cy, cx) in enumerate(lo):
            d2 = ((cy + np.arange(sy) - y[i]) ** 2)[:, None] + ((cx + np.arange(sx) - x[i]) ** 2)[None, :]
            region = (slice(cy, cy + sy), slice(cx, cx + sx))
            closer = d2 < nearest[region]
            nearest[region][closer] = d2[closer]
            owner[region][closer] = i
        self._columns = (cache, lo.astype(np.intp), side, owner)
        return True

    def _column_lookup(
        self, y: npt.NDArray[np.intp], x: npt.NDArray[np.intp]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
        """(cache, column, y, x in the column) for points all inside kept columns, else None."""
        if self._columns is None:
            return None
        cache, lo, _, owner = self._columns
        c = owner[y, x]
        if (c < 0).any():
            return None
        return cache, c.astype(np.intp), y - lo[c, 0], x - lo[c, 1]

    def _from_columns_basic(self, keys: tuple[Any, ...]) -> npt.NDArray[Any] | None:
        """A box of integers and unit-step slices that lies inside one kept column, else None."""
        if self._columns is None:
            return None
        spans = []
        for k, n in zip(keys, self.shape, strict=True):
            if isinstance(k, slice):
                start, stop, step = k.indices(n)
                if step != 1 or stop <= start:
                    return None
                spans.append((start, stop, False))
            else:
                i = int(k) + (n if k < 0 else 0)
                spans.append((i, i + 1, True))
        cache, lo, side, owner = self._columns
        (z0, z1, zi), (y0, y1, yi), (x0, x1, xi) = spans
        c = int(owner[(y0 + y1 - 1) // 2, (x0 + x1 - 1) // 2])
        if c < 0:
            return None
        cy, cx = int(lo[c, 0]), int(lo[c, 1])
        if y0 < cy or x0 < cx or y1 > cy + cache.shape[2] or x1 > cx + cache.shape[3]:
            return None
        box = cache[c, z0:z1, y0 - cy : y1 - cy, x0 - cx : x1 - cx]
        return box[tuple(0 if single else slice(None) for *_, single in spans)]

    def boxes(
        self, lo: npt.NDArray[np.intp], shape: tuple[int, int, int], dtype: npt.DTypeLike
    ) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
        """Boxes of ``shape`` with first corners ``lo`` (B, 3), parts outside the stack zero and masked.

        Boxes inside kept columns come from memory; the others are read in one pass over the
        planes they span.

        Parameters
        ----------
        lo : numpy.ndarray of int
            (B, 3) first voxel (z, y, x) of each box (may lie outside the stack).
        shape : tuple of 3 int
            Box shape.
        dtype : data-type
            Pixel type of the boxes.

        Returns
        -------
        boxes, valid : numpy.ndarray
            (B, *shape) pixels and the mask of those inside the stack.
        """
        n = len(lo)
        out = np.zeros((n, *shape), dtype=dtype)
        valid = np.zeros((n, *shape), dtype=bool)
        if n == 0:
            return out, valid
        hi = lo + np.asarray(shape)
        src_lo = np.maximum(lo, 0)
        src_hi = np.minimum(hi, np.asarray(self.shape))
        todo = np.flatnonzero(np.all(src_hi > src_lo, axis=1))
        rest = []
        for i in todo:
            d0 = src_lo[i] - lo[i]
            d1 = d0 + (src_hi[i] - src_lo[i])
            dst = (i, slice(d0[0], d1[0]), slice(d0[1], d1[1]), slice(d0[2], d1[2]))
            valid[dst] = True
            part = self._from_columns_basic(
                tuple(slice(a, b) for a, b in zip(src_lo[i], src_hi[i], strict=True))
            )
            if part is None:
                rest.append(i)
            else:
                out[dst] = part
        if not rest:
            return out, valid
        r = np.asarray(rest)
        y0, y1 = int(src_lo[r, 1].min()), int(src_hi[r, 1].max())
        x0, x1 = int(src_lo[r, 2].min()), int(src_hi[r, 2].max())
        for z, block in self.blocks(
            int(src_lo[r, 0].min()), int(src_hi[r, 0].max()), slice(y0, y1), slice(x0, x1)
        ):
            zb1 = z + len(block)
            for i in r[(src_lo[r, 0] < zb1) & (src_hi[r, 0] > z)]:
                a, b = max(src_lo[i, 0], z), min(src_hi[i, 0], zb1)
                d = a - lo[i, 0]
                dy, dx = src_lo[i, 1] - lo[i, 1], src_lo[i, 2] - lo[i, 2]
                ny, nx = src_hi[i, 1] - src_lo[i, 1], src_hi[i, 2] - src_lo[i, 2]
                out[i, d : d + b - a, dy : dy + ny, dx : dx + nx] = block[
                    a - z : b - z,
                    src_lo[i, 1] - y0 : src_hi[i, 1] - y0,
                    src_lo[i, 2] - x0 : src_hi[i, 2] - x0,
                ]
        return out, valid


#: A (Z, Y, X) stack as the analyses index it: a numpy array in memory or a :class:`Volume`.
Stack = np.ndarray | Volume

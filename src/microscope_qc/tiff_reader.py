"""TIFF and OME-TIFF read directly with tifffile: the fast path of :func:`microscope_qc.io.read_image`.

bioio reads a TIFF through dask with one chunk per channel: importing it takes seconds, and
turning a channel into a numpy array holds it twice. Here the file is opened once with
tifffile and the pixels come back as a :class:`TiffStack`, a lazy (C, Z, Y, X) array that reads
only the pages an index asks for, straight into the array it returns (one copy, decoded in
parallel when compressed). The metadata are read exactly as the bioio path reads them, with the
same origins (:func:`microscope_qc.io._metadata_from`).

The fast path takes the files whose layout it understands for certain: one series (or the
scene asked for) of grey-level pages (no RGB samples) along T, C, Z, Y and X, with valid OME-XML
when the file has any. Everything else — and any other format — goes through bioio as before.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import tifffile

__all__ = ["TiffStack", "FastTiff", "TimepointError", "open_tiff", "page_indices"]

_STANDARD = "TCZYX"
_UNKNOWN = "QI"  # tifffile's "unknown dimension" and "image sequence"


class _Pages:
    """An open TIFF series: reads pages into a caller's buffer, one reader at a time."""

    def __init__(self, tif: tifffile.TiffFile, series: int):
        self.tif = tif
        self.series = series
        s = tif.series[series]
        self.page_shape: tuple[int, int] = (int(s.shape[-2]), int(s.shape[-1]))
        self.dtype = np.dtype(s.dtype)
        self.lock = threading.Lock()  # the widget's worker and napari may read at once
        # uncompressed pages stored one after another: read their bytes straight into the caller's
        # array; parsing each page's IFD again on every pass costs more than the copy
        offset = getattr(s, "dataoffset", None)
        self.offset: int | None = None if offset is None or not tif.filehandle.is_file else int(offset)
        self.swap = tif.byteorder != ("<" if sys.byteorder == "little" else ">")
        weakref.finalize(self, tif.close)

    def read(self, pages: npt.NDArray[np.intp], out: npt.NDArray[Any]) -> None:
        """Read the series' pages ``pages`` (flat) into ``out`` of shape (len(pages), Y, X)."""
        if pages.size == 0:
            return
        if self.offset is not None and out.flags.c_contiguous:
            self._read_contiguous(pages, out)
            return
        key: int | list[int] = int(pages[0]) if pages.size == 1 else [int(p) for p in pages]
        with self.lock:  # tifffile reshapes the array it is given: give it a view of ``out``
            self.tif.asarray(key=key, series=self.series, out=out.view())

    def _fill(self, target: npt.NDArray[Any]) -> None:
        """Read ``target.nbytes`` from the file's position into ``target`` (C-contiguous)."""
        buffer = cast("bytearray", target.reshape(-1).view(np.uint8))  # any writable buffer does
        if self.tif.filehandle.readinto(buffer) != target.nbytes:
            raise OSError(f"{self.tif.filename}: the file ends inside its pixel data")

    def read_rows(self, page: int, r0: int, r1: int, out: npt.NDArray[Any]) -> None:
        """Read rows ``r0`` to ``r1`` of one uncompressed page into those rows of ``out`` (a page)."""
        assert self.offset is not None
        row_bytes = out[0].nbytes
        rows = out[r0:r1]
        with self.lock:
            fh = self.tif.filehandle
            fh.seek(self.offset + page * out.nbytes + r0 * row_bytes)
            self._fill(rows)
        if self.swap:
            rows.byteswap(inplace=True)

    def _read_contiguous(self, pages: npt.NDArray[np.intp], out: npt.NDArray[Any]) -> None:
        """Read runs of consecutive pages with one ``readinto`` each (uncompressed, contiguous data)."""
        assert self.offset is not None
        page_bytes = out[0].nbytes
        flat = out.reshape(len(pages), -1).view(np.uint8)
        breaks = np.flatnonzero(np.diff(pages) != 1) + 1
        starts = np.concatenate([[0], breaks])
        stops = np.concatenate([breaks, [len(pages)]])
        fh = self.tif.filehandle
        with self.lock:
            for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
                fh.seek(self.offset + int(pages[a]) * page_bytes)
                self._fill(flat[a:b])
        if self.swap:
            out.byteswap(inplace=True)


class TiffStack:
    """A lazy view of TIFF pages as an array: indexing reads only the pages it selects.

    The leading dimensions index pages (a (C, Z) grid for a whole stack), the last two are a
    page's Y and X. Basic indexing (integers, slices, ``...``) on any dimension returns another
    lazy view; ``numpy.asarray`` (or any numpy function) reads the selected pages into one new
    array. Fancy indexing reads the view first, then indexes the array.

    Parameters
    ----------
    pages : _Pages
        The open series.
    grid : ndarray of int
        Page index (within the series) of each position of the leading dimensions.
    yx : tuple
        Keys applied, in order, to each (Y, X) page after it is read.
    """

    def __init__(self, pages: _Pages, grid: npt.NDArray[np.intp], yx: tuple[Any, ...] = ()):
        self._pages = pages
        self._grid = grid
        self._yx = yx
        page = np.broadcast_to(np.zeros((), pages.dtype), pages.page_shape)
        rows = np.broadcast_to(np.arange(pages.page_shape[0])[:, None], pages.page_shape)
        for key in yx:
            page, rows = page[key], rows[key]
        self._page_shape: tuple[int, ...] = page.shape
        #: the page rows a cropped view needs (only these are read from uncompressed files)
        self._rows = (int(rows.min()), int(rows.max()) + 1) if yx and rows.size else None

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape: the page grid's, then the (cropped) page's."""
        return (*self._grid.shape, *self._page_shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The pixel type."""
        return self._pages.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of pixels."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Bytes the pixels take once read."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"TiffStack(shape={self.shape}, dtype={self.dtype}, file={self._pages.tif.filename!r})"

    def __getitem__(self, key: Any) -> Any:
        keys = key if isinstance(key, tuple) else (key,)
        basic = all(k is Ellipsis or isinstance(k, (int, np.integer, slice)) for k in keys)
        if not basic or sum(k is Ellipsis for k in keys) > 1:
            return np.asarray(self)[key]
        if Ellipsis in keys:
            at = keys.index(Ellipsis)
            keys = keys[:at] + (slice(None),) * (self.ndim - len(keys) + 1) + keys[at + 1 :]
        if len(keys) > self.ndim:
            raise IndexError(
                f"too many indices: the array is {self.ndim}-dimensional, {len(keys)} were given"
            )
        keys = keys + (slice(None),) * (self.ndim - len(keys))
        n_grid = self._grid.ndim
        grid = self._grid[keys[:n_grid]]
        yx = keys[n_grid:]
        if all(isinstance(k, slice) and k == slice(None) for k in yx):
            yx_keys = self._yx
        else:
            yx_keys = (*self._yx, yx)
        return TiffStack(self._pages, np.asarray(grid, dtype=np.intp), yx_keys)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> npt.NDArray[Any]:
        out = self.read_into(np.empty(self.shape, self.dtype))
        return out if dtype is None else out.astype(dtype, copy=False)

    def read_into(self, out: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Read the view's pixels into ``out`` (C-contiguous, of the view's shape and type), e.g. a reused buffer.

        Parameters
        ----------
        out : numpy.ndarray
            Where the pixels go.

        Returns
        -------
        numpy.ndarray
            ``out``.

        Raises
        ------
        ValueError
            If ``out`` has another shape or type, or is not C-contiguous.
        """
        if out.shape != self.shape or out.dtype != self.dtype or not out.flags.c_contiguous:
            raise ValueError(
                f"out must be C-contiguous {self.shape} {self.dtype}, got {out.shape} {out.dtype}"
            )
        flat = self._grid.ravel()
        if not self._yx:
            self._pages.read(flat, out.reshape(flat.size, *self._pages.page_shape))
        else:  # read page by page, keeping only the selected part of each
            buffer = np.empty((1, *self._pages.page_shape), self.dtype)
            dest = out.reshape(flat.size, *self._page_shape)
            for i, p in enumerate(flat):
                if self._rows is not None and self._pages.offset is not None:
                    self._pages.read_rows(int(p), *self._rows, buffer[0])
                else:
                    self._pages.read(np.array([p]), buffer)
                page: npt.NDArray[Any] = buffer[0]
                for key in self._yx:
                    page = page[key]
                dest[i] = page
        return out


class FastTiff:
    """A TIFF opened by the fast path: its lazy (C, Z, Y, X) pixels and what bioio would report.

    Attributes
    ----------
    data : TiffStack
        (C, Z, Y, X) of the time point asked for, or (T, C, Z, Y, X) when every one was.
    n_timepoints : int
        Time points in the series.
    channel_names : list of str
        bioio's names for the channels (the OME names or IDs, else ``Channel:<scene>:<c>``).
    ome : OME or None
        The parsed OME-XML (:mod:`microscope_qc.ome_xml`), None for a plain TIFF.
    """

    def __init__(self, data: TiffStack, n_timepoints: int, channel_names: list[str], ome: Any):
        self.data = data
        self.n_timepoints = n_timepoints
        self.channel_names = channel_names
        self.ome = ome


class TimepointError(IndexError):
    """The time point asked for is not in the file; ``n_timepoints`` says how many there are."""

    def __init__(self, n_timepoints: int):
        super().__init__(n_timepoints)
        self.n_timepoints = n_timepoints


def _dims(axes: str, ome: bool) -> str | None:
    """The series' dimension letters as bioio names them, or None if the fast path does not take it.

    Unknown dimensions (tifffile's Q and I) are named as bioio's TIFF reader names them: in
    order, the first of the standard letters fitting the number of dimensions that is not used
    yet. OME series have no unknown dimensions.
    """
    dims = list(axes)
    if any(d in _UNKNOWN for d in dims):
        if ome:
            return None
        guessed = _STANDARD[max(len(_STANDARD) - len(dims), 0) :]
        best: list[str] = []
        for d in dims:
            if d not in _UNKNOWN:
                best.append(d)
                continue
            pick = next((g for g in guessed if g not in best and g not in dims), d)
            best.append(pick)
        dims = best
    text = "".join(dims)
    if not text.endswith("YX") or set(text) - set(_STANDARD) or len(set(text)) != len(text):
        return None
    return text


def open_tiff(path: Path, scene: int | None, timepoint: int | None) -> FastTiff | None:
    """Open a TIFF through the fast path, or return None when bioio must read it.

    Parameters
    ----------
    path : Path
        A ``.tif``/``.tiff`` file (already checked to exist and not to be truncated).
    scene : int or None
        The series (OME Image) to read; None: the first.
    timepoint : int or None
        Which time point; None: every one, as (T, C, Z, Y, X).

    Returns
    -------
    FastTiff or None
        None when the file is not one the fast path reads for certain (the caller then uses
        bioio), e.g. RGB, more than one series without a scene, unusual axes, OME-XML that
        ``ome-types`` would refuse.

    Raises
    ------
    TimepointError
        If the series has no time point ``timepoint``.
    """
    import tifffile

    from microscope_qc.ome_xml import OMEParseError, parse_ome

    try:
        tif = tifffile.TiffFile(path, is_mmstack=False)
    except Exception:  # noqa: BLE001 (bioio then says what is wrong with the file)
        return None
    keep = False
    try:
        index = 0 if scene is None else scene
        if not 0 <= index < len(tif.series):
            return None
        series = tif.series[index]
        if getattr(series, "is_multifile", False) or any(p is None for p in series.pages):
            return None
        ome = None
        if tif.is_ome:
            try:
                ome = parse_ome(tif.pages.first.description)
            except OMEParseError:
                return None
            if len(ome.images) != len(tif.series) or not ome.images[index].pixels.channels:
                return None
            channels = ome.images[index].pixels.channels
            if any((c.samples_per_pixel or 1) > 1 for c in channels):
                return None
            if any(c.name is None and not (c.id or "").startswith("Channel:") for c in channels):
                return None  # bioio names such a channel by its ID with its own reader as the origin
        dims = _dims(series.axes, ome is not None)
        if dims is None or len(dims) != len(series.shape):
            return None
        sizes = dict(zip(dims, (int(n) for n in series.shape), strict=True))
        n_pages = int(np.prod([sizes[d] for d in dims[:-2]], dtype=np.int64))
        if len(series.pages) != n_pages or series.keyframe.shape != (sizes["Y"], sizes["X"]):
            return None
        grid = np.arange(n_pages, dtype=np.intp).reshape([sizes[d] for d in dims[:-2]])
        lead = dims[:-2]
        for d in "TCZ":  # add the missing dimensions, then put them in T, C, Z order
            if d not in lead:
                grid = grid[..., None]
                lead += d
        grid = grid.transpose([lead.index(d) for d in "TCZ"])
        n_t = grid.shape[0]
        if timepoint is not None and timepoint >= n_t:
            raise TimepointError(n_t)
        data = TiffStack(
            _Pages(tif, index), np.ascontiguousarray(grid if timepoint is None else grid[timepoint])
        )
        keep = True
        if ome is not None:
            names = [c.name if c.name is not None else str(c.id) for c in ome.images[index].pixels.channels]
        else:
            names = [f"Channel:{index}:{c}" for c in range(data.shape[0])]
        return FastTiff(data, n_t, names, ome)
    finally:
        if not keep:
            tif.close()


def page_indices(stack: TiffStack) -> Sequence[int]:
    """The series' page indices a view reads, in order (for tests and diagnostics).

    Parameters
    ----------
    stack : TiffStack
        A view.

    Returns
    -------
    sequence of int
        The page indices.
    """
    return [int(p) for p in stack._grid.ravel()]

"""SciPy's ndimage filters the analyses use, in numpy: the same numbers without importing SciPy.

``scipy.ndimage`` takes about half a second to import, longer than the whole field analysis of a
2048² image or a one-bead PSF analysis; the field command and the bead analyses (the detector, PSF,
co-registration) need only these of its functions, written here to SciPy's arithmetic (the tests
compare them with SciPy on random data, equal to the bit):

- :func:`gaussian_filter`: ``scipy.ndimage.gaussian_filter(image, sigma, mode="nearest",
  truncate=truncate)`` of a 2D image into float32 (the kernel, the summation order in double
  precision and the float32 rounding after each axis are SciPy's);
- :func:`interpolate_linear`: ``scipy.ndimage.map_coordinates(image, coords, order=1)`` for
  points inside the image;
- :func:`label`: ``scipy.ndimage.label(mask)`` (4-connected components, numbered in raster order);
- :func:`maximum_filter`: ``scipy.ndimage.maximum_filter(image, size, mode="nearest")`` (a maximum
  is exact in any order);
- :func:`zoom_linear`: ``scipy.ndimage.zoom(image, zoom, order=1, mode="nearest", grid_mode=True)``
  of a 2D float image;
- :func:`uniform_filter3`: ``scipy.ndimage.uniform_filter1d(a, 3, axis, mode="nearest")`` of a
  float32 array, and along several axes ``uniform_filter(a, size=3 on those axes, mode="nearest")``
  (SciPy's running sum in double precision, rounded to float32 after each axis).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "gaussian_kernel",
    "gaussian_filter",
    "interpolate_linear",
    "label",
    "maximum_filter",
    "zoom_linear",
    "uniform_filter3",
]

#: rows (or columns) per band: a band's float64 temporaries stay in the CPU cache
_BAND = 32


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """SciPy's sampled, normalised Gaussian kernel (``scipy.ndimage._filters._gaussian_kernel1d``).

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    truncate : float
        The kernel reaches ``int(truncate·sigma + 0.5)`` pixels either side.

    Returns
    -------
    numpy.ndarray of float64
        The ``2r + 1`` weights.
    """
    radius = int(float(truncate) * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (float(sigma) * float(sigma)) * x**2)
    out: np.ndarray = phi / phi.sum()
    return out


def _correlate_band(padded: np.ndarray, k: np.ndarray, axis: int, out: np.ndarray) -> None:
    """Symmetric correlation of an edge-padded float64 band along ``axis`` (``r`` pixels each side) into ``out``.

    SciPy's order (``NI_Correlate1D``, symmetric kernel): centre·w₀, then the pairs from the outermost
    inwards, ``+= (x₋ⱼ + x₊ⱼ)·wⱼ``, in double precision; ``out`` (float32) receives the rounded sums.
    """
    r = (k.size - 1) // 2
    n = padded.shape[axis] - 2 * r

    def shifted(j: int) -> np.ndarray:
        return padded[r + j : r + j + n] if axis == 0 else padded[:, r + j : r + j + n]

    acc = shifted(0) * k[r]
    pair = np.empty_like(acc)
    for j in range(r, 0, -1):
        np.add(shifted(-j), shifted(j), out=pair)
        pair *= k[r + j]
        acc += pair
    out[...] = acc


def gaussian_filter(image: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter(image, sigma, mode="nearest", truncate=truncate)`` of a 2D image, in float32.

    As SciPy does for a float32 output: filter along y in double precision, round to float32,
    then along x; edges extended (``"nearest"``). Computed in bands of rows whose temporaries stay
    in the CPU cache.

    Parameters
    ----------
    image : numpy.ndarray
        2D image (converted to float32 first, as SciPy does when asked for a float32 result).
    sigma : float
        Standard deviation in pixels (the same along both axes); 0 returns a float32 copy.
    truncate : float
        The kernel reaches ``truncate`` standard deviations.

    Returns
    -------
    numpy.ndarray of float32
        The smoothed image.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"gaussian_filter takes a 2D image, got {img.ndim} dimensions")
    if sigma <= 0:
        return img.copy()
    k = gaussian_kernel(sigma, truncate)
    r = (k.size - 1) // 2
    h, w = img.shape
    out = np.empty((h, w), np.float32)
    rows = np.empty((_BAND + 2 * r, w), np.float64)
    band_y = np.empty((_BAND, w + 2 * r), np.float32)
    for r0 in range(0, h, _BAND):
        n = min(h, r0 + _BAND) - r0
        # the band's rows with r rows above and below, the image's edge rows repeated beyond it
        index = np.clip(np.arange(r0 - r, r0 + n + r), 0, h - 1)
        src = rows[: n + 2 * r]
        src[...] = img[index]  # float32 -> float64 exactly
        yb = band_y[:n]
        _correlate_band(src, k, 0, yb[:, r : r + w])  # along y, rounded to float32
        yb[:, :r] = yb[:, r : r + 1]  # edges extended along x
        yb[:, r + w :] = yb[:, r + w - 1 : r + w]
        _correlate_band(yb.astype(np.float64), k, 1, out[r0 : r0 + n])
    return out


def interpolate_linear(image: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.map_coordinates(image, coords, order=1)`` at points inside a 2D image.

    Bilinear interpolation in double precision, returned in the image's dtype (as SciPy does);
    points must lie within ``[0, h − 1] × [0, w − 1]`` (SciPy's constant mode outside is not
    reproduced).

    Parameters
    ----------
    image : numpy.ndarray
        2D image.
    coords : numpy.ndarray
        ``(2, N)`` array of (y, x) coordinates in pixels.

    Returns
    -------
    numpy.ndarray
        ``N`` values, in ``image``'s dtype.

    Raises
    ------
    ValueError
        If a point lies outside the image.
    """
    img = np.asarray(image)
    y, x = np.asarray(coords, dtype=np.float64)
    h, w = img.shape
    if y.size and (y.min() < 0 or x.min() < 0 or y.max() > h - 1 or x.max() > w - 1):
        raise ValueError("interpolate_linear takes points inside the image only")
    y0, x0 = np.floor(y), np.floor(x)
    ty, tx = y - y0, x - x0
    iy, ix = y0.astype(np.intp), x0.astype(np.intp)
    iy1, ix1 = np.minimum(iy + 1, h - 1), np.minimum(ix + 1, w - 1)  # weight 0 where clipped
    wy0, wy1, wx0, wx1 = 1.0 - ty, ty, 1.0 - tx, tx
    out = img[iy, ix].astype(np.float64) * wy0 * wx0
    out += img[iy, ix1].astype(np.float64) * wy0 * wx1
    out += img[iy1, ix].astype(np.float64) * wy1 * wx0
    out += img[iy1, ix1].astype(np.float64) * wy1 * wx1
    result: np.ndarray = out.astype(img.dtype)
    return result


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """``scipy.ndimage.label(mask, output=np.int32)``: 4-connected components, numbered in raster order.

    The set pixels are taken as runs along each row; runs in neighbouring rows that share a
    column are joined (union by smallest run, with pointer jumping, all in numpy). A component's
    number is its rank by its first pixel in raster order, as SciPy numbers them.

    Parameters
    ----------
    mask : numpy.ndarray
        2D boolean image.

    Returns
    -------
    labels : numpy.ndarray of int32
        0 for background, 1..n for the components.
    n : int
        The number of components.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"label takes a 2D mask, got {m.ndim} dimensions")
    h, w = m.shape
    labels = np.zeros((h, w), np.int32)
    if not m.any():
        return labels, 0
    # runs: starts and ends (exclusive) of each row's set pixels, in raster order
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = m
    edges = np.diff(padded, axis=1)
    sr, sc = np.nonzero(edges == 1)
    er, ec = np.nonzero(edges == -1)
    n_runs = sr.size
    # joins between a run of row y and the runs of row y + 1 that share a column with it: run i
    # (columns [s_i, e_i)) meets run j when s_i < e_j and s_j < e_i; with keys row·(w + 1) + column,
    # sorted in raster order, the runs j of row y + 1 are those from the first whose end key exceeds
    # (y + 1, s_i) to the last whose start key is below (y + 1, e_i)
    stride = w + 1
    start_key, end_key = sr * stride + sc, er * stride + ec
    lo = np.searchsorted(end_key, start_key + stride, side="right")
    hi = np.searchsorted(start_key, end_key + stride, side="left")
    counts = np.maximum(hi - lo, 0)
    a = np.repeat(np.arange(n_runs), counts)
    b = np.repeat(lo, counts) + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    parent = np.arange(n_runs)
    if a.size:
        while True:  # hook each join to the smaller root, then compress paths, until nothing changes
            pa, pb = parent[a], parent[b]
            low = np.minimum(pa, pb)
            before = parent.copy()
            np.minimum.at(parent, pa, low)
            np.minimum.at(parent, pb, low)
            while True:
                nxt = parent[parent]
                if np.array_equal(nxt, parent):
                    break
                parent = nxt
            if np.array_equal(parent, before):
                break
    roots, number = np.unique(parent, return_inverse=True)  # roots are each component's first run
    run_label = (number + 1).astype(np.int32)
    lengths = ec - sc
    flat = labels.ravel()
    starts = sr * w + sc
    idx = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    flat[idx] = np.repeat(run_label, lengths)
    return labels, int(roots.size)


def maximum_filter(image: np.ndarray, size: int) -> np.ndarray:
    """``scipy.ndimage.maximum_filter(image, size=size, mode="nearest")`` of a 2D image.

    A running maximum along y, then along x, over edge-extended views (a maximum is exact in any
    order, so this is SciPy's result to the bit).

    Parameters
    ----------
    image : numpy.ndarray
        2D image (NaN-free).
    size : int
        Odd window width (the same along both axes), ≥ 1.

    Returns
    -------
    numpy.ndarray
        The filtered image, of the image's type.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"maximum_filter takes a 2D image, got {img.ndim} dimensions")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"maximum_filter takes an odd window width, got {size}")
    r = size // 2
    h, w = img.shape
    out = img.copy()
    if r == 0:
        return out
    padded = np.pad(img, ((r, r), (0, 0)), mode="edge")
    for j in range(size):
        np.maximum(out, padded[j : j + h], out=out)
    padded = np.pad(out, ((0, 0), (r, r)), mode="edge")
    for j in range(size):
        np.maximum(out, padded[:, j : j + w], out=out)
    return out


def _zoom_axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper source index and upper weight of each output index along one axis (SciPy's grid mode)."""
    zoom = n_in / n_out if n_out else 1.0
    cc = (np.arange(n_out, dtype=np.float64) + 0.5) * zoom - 0.5
    lo = np.floor(cc)
    t = cc - lo  # not clamped: beyond an edge SciPy weighs the edge pixel twice ("nearest")
    i0 = lo.astype(np.intp)
    return np.clip(i0, 0, n_in - 1), np.clip(i0 + 1, 0, n_in - 1), t


def zoom_linear(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``scipy.ndimage.zoom(image, zoom, order=1, mode="nearest", grid_mode=True)`` of a 2D float image.

    ``zoom`` is ``shape / image.shape`` (SciPy's output shape is the rounded product, here given
    directly). Output pixel ``i`` samples the input at ``(i + 0.5)·n_in/n_out − 0.5`` (pixel
    areas aligned; beyond an edge the edge pixel stands for its missing neighbour), bilinearly in double precision with SciPy's order of
    the products (value × y weight × x weight, corners summed in raster order).

    Parameters
    ----------
    image : numpy.ndarray
        2D float32 or float64 image.
    shape : tuple of 2 int
        Output shape.

    Returns
    -------
    numpy.ndarray
        The resampled image, of the image's type.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"zoom_linear takes a 2D image, got {img.ndim} dimensions")
    y0, y1, ty = _zoom_axis(img.shape[0], shape[0])
    x0, x1, tx = _zoom_axis(img.shape[1], shape[1])
    wy0, wy1 = (1.0 - ty)[:, None], ty[:, None]
    wx0, wx1 = 1.0 - tx, tx
    src = img.astype(np.float64)  # the small input (a map of tiles), whole
    result: np.ndarray = np.empty(shape, img.dtype)
    # in bands of output rows: the double-precision temporaries stay the size of a band, not of the image
    for r0 in range(0, shape[0], _BAND):
        rows = slice(r0, min(shape[0], r0 + _BAND))
        top, bottom, w0, w1 = src[y0[rows]], src[y1[rows]], wy0[rows], wy1[rows]
        out = top[:, x0] * w0 * wx0
        out += top[:, x1] * w0 * wx1
        out += bottom[:, x0] * w1 * wx0
        out += bottom[:, x1] * w1 * wx1
        result[rows] = out
    return result


def uniform_filter3(array: np.ndarray, axes: int | tuple[int, ...]) -> np.ndarray:
    """Mean over 3 neighbours along each of ``axes``, edges extended, as SciPy computes it in float32.

    ``scipy.ndimage.uniform_filter1d(array, 3, axis, mode="nearest")`` for one axis;
    ``scipy.ndimage.uniform_filter(array, size, mode="nearest")`` with ``size`` 3 on ``axes`` and
    1 elsewhere for several. Along each axis SciPy keeps a running sum of the edge-extended line
    in double precision (the first three values added, then the value entering added and the one
    leaving subtracted) and writes the sum / 3 rounded to float32; the axes are filtered in
    increasing order, each on the previous one's float32 result.

    Parameters
    ----------
    array : numpy.ndarray
        Array of float32 (other types are converted first).
    axes : int or tuple of int
        The axes to filter along.

    Returns
    -------
    numpy.ndarray of float32
        The filtered array.
    """
    out = np.array(array, dtype=np.float32)
    for axis in sorted({a % out.ndim for a in np.atleast_1d(axes).tolist()}):
        n = out.shape[axis]
        if n == 0:
            continue
        line = np.moveaxis(out, axis, 0)  # a view: written in place below
        padded = np.concatenate([line[:1], line, line[-1:]]).astype(np.float64)
        total = (0.0 + padded[0]) + padded[1]
        total += padded[2]
        line[0] = total / 3.0
        for i in range(1, n):
            total += padded[i + 2] - padded[i - 1]
            line[i] = total / 3.0
    return out

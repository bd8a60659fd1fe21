"""Neighbour searches among bead positions in numpy: ``scipy.spatial.cKDTree``'s answers without SciPy.

``scipy.spatial`` takes about half a second to import (it brings ``scipy.linalg`` and
``scipy.sparse``), more than a one-bead PSF analysis; the bead analyses ask it three questions,
answered here with the same distances (``sqrt`` of the sum of squared coordinate differences, in
that order, as the k-d tree computes them; the tests compare with ``cKDTree``):

- :func:`pairs_within`: ``sorted(cKDTree(points).query_pairs(r))``, by a grid of cells of side
  ``r`` (each point is compared with the points of its own and the neighbouring cells only, so the
  work grows with the number of close pairs, not with the square of the number of points);
- :func:`nearest_other_within`: the distance from each point to its nearest other point (the
  second column of ``cKDTree(points).query(points, k=2)``) where that is within ``r``;
- :func:`nearest`: ``cKDTree(points).query(queries)``, distances and indices (every pair
  compared, in chunks of bounded memory: the point sets are beads matched between channels).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["pairs_within", "nearest_other_within", "nearest"]

#: query × point distances computed at once by :func:`nearest`
_CHUNK = 1 << 20


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``a`` and ``b`` (broadcast), summed axis by axis as cKDTree does."""
    total = np.zeros(np.broadcast_shapes(a.shape[:-1], b.shape[:-1]))
    for k in range(a.shape[-1]):
        d = a[..., k] - b[..., k]
        total += d * d
    out: np.ndarray = np.sqrt(total)
    return out


def pairs_within(points: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of points at most ``r`` apart: ``sorted(cKDTree(points).query_pairs(r))``.

    Parameters
    ----------
    points : numpy.ndarray
        (N, D) coordinates.
    r : float
        Largest distance of a pair (inclusive), > 0.

    Returns
    -------
    i, j : numpy.ndarray of int
        The pairs, ``i < j``, sorted by ``i`` then ``j``.
    """
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    empty = np.zeros(0, dtype=np.intp)
    if n < 2 or not r > 0:
        return empty, empty
    pts = pts.reshape(n, -1)
    cell = np.floor((pts - pts.min(axis=0)) / r).astype(np.int64)
    span = cell.max(axis=0) + 3  # one spare cell either side: neighbours of an edge cell stay distinct
    stride = np.cumprod(np.concatenate([[1], span[:0:-1]]))[::-1]
    key = (cell + 1) @ stride
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    found_i, found_j = [], []
    for offset in itertools.product((-1, 0, 1), repeat=pts.shape[1]):
        target = key + np.asarray(offset) @ stride
        lo = np.searchsorted(sorted_key, target, side="left")
        hi = np.searchsorted(sorted_key, target, side="right")
        counts = hi - lo
        if not counts.any():
            continue
        i = np.repeat(np.arange(n), counts)
        j = order[
            np.repeat(lo, counts)
            + np.arange(int(counts.sum()))
            - np.repeat(np.cumsum(counts) - counts, counts)
        ]
        keep = i < j  # each pair once (the other offset sees it from j)
        i, j = i[keep], j[keep]
        close = _distances(pts[i], pts[j]) <= r
        found_i.append(i[close])
        found_j.append(j[close])
    if not found_i:
        return empty, empty
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    sort = np.lexsort((j, i))
    return i[sort].astype(np.intp), j[sort].astype(np.intp)


def nearest_other_within(points: np.ndarray, r: float) -> np.ndarray:
    """Distance from each point to its nearest other point, where at most ``r``; ``inf`` elsewhere.

    Where finite, the second column of ``cKDTree(points).query(points, k=2)[0]`` (a duplicate of a
    point is at distance 0).

    Parameters
    ----------
    points : numpy.ndarray
        (N, D) coordinates.
    r : float
        Search radius (inclusive).

    Returns
    -------
    numpy.ndarray of float
        N distances.
    """
    pts = np.asarray(points, dtype=np.float64)
    out = np.full(len(pts), np.inf)
    i, j = pairs_within(pts, r)
    if i.size:
        d = _distances(pts[i], pts[j])
        np.minimum.at(out, i, d)
        np.minimum.at(out, j, d)
    return out


def nearest(points: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest point to each query: ``cKDTree(points).query(queries)``.

    Parameters
    ----------
    points : numpy.ndarray
        (M, D) coordinates, M ≥ 1.
    queries : numpy.ndarray
        (N, D) coordinates.

    Returns
    -------
    distance : numpy.ndarray of float
        N distances to the nearest point.
    index : numpy.ndarray of int
        N indices into ``points`` (the lowest of equally near points).
    """
    pts = np.asarray(points, dtype=np.float64)
    qs = np.asarray(queries, dtype=np.float64)
    if len(pts) == 0:
        raise ValueError("nearest needs at least one point")
    dist = np.empty(len(qs))
    index = np.empty(len(qs), dtype=np.intp)
    step = max(1, _CHUNK // len(pts))
    for start in range(0, len(qs), step):
        d = _distances(qs[start : start + step, None, :], pts[None, :, :])
        k = np.argmin(d, axis=1)
        index[start : start + step] = k
        dist[start : start + step] = d[np.arange(len(k)), k]
    return dist, index

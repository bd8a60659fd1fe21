"""Linear interpolation between scattered beads on their Delaunay triangulation (the field maps).

The numbers of ``scipy.interpolate.griddata(points, values, grid, method="linear")`` — the Delaunay
triangles, barycentric weights in each triangle, NaN outside the convex hull — computed with NumPy
(to rounding: the vertices of a triangle may come in another order than Qhull's). The triangles
are :func:`~microscope_qc.analysis.psf.delaunay.delaunay`'s, Qhull's for beads in general position,
so neither ``scipy.interpolate`` (which loads ``scipy.optimize``, about half a second of start-up
for a command that fits no spline; its barycentric transforms go through LAPACK one triangle at a
time, which on a busy machine can stall for a second) nor ``scipy.spatial`` (another half second)
is imported. A caller may pass its own triangles (the pattern slide's rings pass Qhull's).
"""

from __future__ import annotations

import numpy as np

from microscope_qc.analysis.psf.delaunay import delaunay

__all__ = ["interpolate_linear"]

#: barycentric tolerance of "inside a triangle" (SciPy's ``find_simplex``: 100 machine epsilons)
_EPS = 100 * np.finfo(float).eps
#: grid-point × triangle pairs examined at once
_CHUNK = 1 << 20


def interpolate_linear(
    points: np.ndarray,
    values: np.ndarray,
    gy: np.ndarray,
    gx: np.ndarray,
    simplices: np.ndarray | None = None,
) -> np.ndarray:
    """Values at grid points, interpolated linearly in the Delaunay triangles of ``points``.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) positions (y, x), N ≥ 3, not all on one line.
    values : numpy.ndarray
        (N, K) values at the points.
    gy, gx : numpy.ndarray
        1D, increasing: the grid's y and x coordinates (the grid is their outer product).
    simplices : numpy.ndarray, optional
        (T, 3) vertex indices of the triangles; default the Delaunay triangulation of ``points``.

    Returns
    -------
    numpy.ndarray
        (len(gy), len(gx), K) float64; NaN outside the convex hull of the points.

    Raises
    ------
    microscope_qc.analysis.psf.delaunay.CollinearPointsError
        The points are collinear (or fewer than 3).
    """
    pts = np.asarray(points, dtype=float)
    vals = np.asarray(values, dtype=float)
    simplices = delaunay(pts) if simplices is None else np.asarray(simplices, dtype=np.intp)
    ny, nx, k = len(gy), len(gx), vals.shape[1]
    out = np.full((ny * nx, k), np.nan)
    found = np.zeros(ny * nx, bool)
    # SciPy's barycentric form: the last vertex is the reference, c = T⁻¹ (p − v₂) with T = (v₀ − v₂, v₁ − v₂)
    v0, v1, v2 = (pts[simplices[:, i]] for i in range(3))
    a, b = v0 - v2, v1 - v2
    det = a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]
    usable = np.abs(det) > 0  # degenerate (flat) triangles hold no grid point
    # each triangle's bounding box as a range of grid indices
    lo, hi = np.minimum(np.minimum(v0, v1), v2), np.maximum(np.maximum(v0, v1), v2)
    iy0, iy1 = np.searchsorted(gy, lo[:, 0], "left"), np.searchsorted(gy, hi[:, 0], "right")
    ix0, ix1 = np.searchsorted(gx, lo[:, 1], "left"), np.searchsorted(gx, hi[:, 1], "right")
    counts = np.where(usable, np.maximum(iy1 - iy0, 0) * np.maximum(ix1 - ix0, 0), 0)
    ends = np.cumsum(counts)
    start = 0
    while start < len(simplices):
        # a chunk of whole triangles holding at most _CHUNK pairs (at least one triangle)
        limit = (ends[start - 1] if start else 0) + _CHUNK
        stop = max(start + 1, int(np.searchsorted(ends, limit, "right")))
        t = np.repeat(np.arange(start, stop), counts[start:stop])
        if t.size:
            first = np.repeat(ends[start:stop] - counts[start:stop], counts[start:stop])
            local = np.arange(first[0], first[0] + t.size) - first
            width = (ix1 - ix0)[t]
            iy, ix = iy0[t] + local // width, ix0[t] + local % width
            dy, dx = gy[iy] - v2[t, 0], gx[ix] - v2[t, 1]
            c0 = (b[t, 1] * dy - b[t, 0] * dx) / det[t]
            c1 = (a[t, 0] * dx - a[t, 1] * dy) / det[t]
            c2 = 1.0 - c0 - c1
            inside = (
                (c0 >= -_EPS)
                & (c0 <= 1 + _EPS)
                & (c1 >= -_EPS)
                & (c1 <= 1 + _EPS)
                & (c2 >= -_EPS)
                & (c2 <= 1 + _EPS)
            )
            cell = (iy * nx + ix)[inside]
            new = ~found[cell]
            # a grid point on an edge shared by two triangles takes the first (both give the same value)
            cell, keep = np.unique(cell[new], return_index=True)
            sel = np.flatnonzero(inside)[new][keep]
            s = simplices[t[sel]]
            out[cell] = (
                c0[sel, None] * vals[s[:, 0]] + c1[sel, None] * vals[s[:, 1]] + c2[sel, None] * vals[s[:, 2]]
            )
            found[cell] = True
        start = stop
    return out.reshape(ny, nx, k)

"""Delaunay triangulation of scattered points in the plane, in numpy (Qhull's triangles without SciPy).

``scipy.spatial`` takes about half a second to import (it brings ``scipy.linalg``,
``scipy.sparse`` and ``scipy.special``), longer than the field maps of a PSF run take; the maps need
only the triangles. For points in general position (no four on a circle) the Delaunay
triangulation is unique, so these are Qhull's triangles (the tests compare them); where four or
more points lie on one circle any of the valid triangulations may be chosen, by Qhull as here, and
the two may differ.

The algorithm is Bowyer–Watson's: points are inserted one at a time; the triangles whose
circumcircle holds the new point are removed and the hole is filled with triangles joining its
boundary edges to the point. The hull is handled with "ghost" triangles, one per hull edge, joining
it to a vertex at infinity: a ghost "holds" a point beyond its edge, so points outside the current
hull are inserted like the others. Each insertion tests every triangle (vectorised), which takes
about a millisecond per thousand triangles: a second for 2000 beads, a few milliseconds for 100.
The result is checked (every triangle counter-clockwise, their areas adding up to the hull's); if
rounding ever broke it, Qhull's triangulation (SciPy) is returned instead.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CollinearPointsError", "delaunay"]

#: the vertex at infinity of the ghost triangles
_GHOST = -1


class CollinearPointsError(ValueError):
    """Fewer than three distinct points, or all of them on one line: no triangle to interpolate in."""


def _orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle (a, b, c): positive counter-clockwise (first axis as abscissa)."""
    out: np.ndarray = (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (
        c[..., 0] - a[..., 0]
    )
    return out


def _in_circle(a: np.ndarray, b: np.ndarray, c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Positive where ``p`` lies inside the circumcircle of the counter-clockwise triangle (a, b, c)."""
    ax, ay = a[:, 0] - p[0], a[:, 1] - p[1]
    bx, by = b[:, 0] - p[0], b[:, 1] - p[1]
    cx, cy = c[:, 0] - p[0], c[:, 1] - p[1]
    a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
    out: np.ndarray = ax * (by * c2 - b2 * cy) - ay * (bx * c2 - b2 * cx) + a2 * (bx * cy - by * cx)
    return out


def _circles(pts: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Circumcentre (two coordinates) and squared radius of each triangle; ghosts: (0, 0, inf)."""
    ghost = tri[:, 2] == _GHOST
    a, b, c = pts[tri[:, 0]], pts[tri[:, 1]], pts[tri[:, 2]]
    bx, by = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    cx, cy = c[:, 0] - a[:, 0], c[:, 1] - a[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 2.0 * (bx * cy - by * cx)
        b2, c2 = bx * bx + by * by, cx * cx + cy * cy
        ux = (cy * b2 - by * c2) / d
        uy = (bx * c2 - cx * b2) / d
    out = np.column_stack([a[:, 0] + ux, a[:, 1] + uy, ux * ux + uy * uy])
    # ghosts, and flat triangles (never Delaunay, but kept safe): always tested exactly
    out[ghost | ~np.isfinite(out).all(axis=1)] = (0.0, 0.0, np.inf)
    return out


def _start(pts: np.ndarray) -> tuple[int, int, int]:
    """Three points that are not on one line (the first point, the first other, the first off their line)."""
    others = np.flatnonzero((pts != pts[0]).any(axis=1))
    if others.size:
        i1 = int(others[0])
        area = _orient(pts[0], pts[i1], pts)
        off = np.flatnonzero(area != 0)
        if off.size:
            i2 = int(off[0])
            return (0, i1, i2) if area[i2] > 0 else (0, i2, i1)
    raise CollinearPointsError(
        f"The {len(pts)} points lie on one line (or are fewer than three distinct ones): no triangle to interpolate in."
    )


def delaunay(points: np.ndarray) -> np.ndarray:
    """The Delaunay triangles of points in the plane.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 2) finite coordinates. A point repeated exactly is a vertex once, by its first index
        (Qhull may keep another copy).

    Returns
    -------
    numpy.ndarray of int
        (T, 3) indices into ``points``, each triangle counter-clockwise (first coordinate as
        abscissa), in no particular order.

    Raises
    ------
    CollinearPointsError
        If fewer than three distinct points are given, or all lie on one line.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3 or not np.isfinite(pts).all():
        if len(pts) >= 3:
            raise ValueError("delaunay takes finite coordinates")
        raise CollinearPointsError(f"{len(pts)} point(s): at least three are needed for a triangle.")
    _, first = np.unique(pts, axis=0, return_index=True)
    distinct = np.sort(first)
    a, b, c = _start(pts[distinct])
    a, b, c = int(distinct[a]), int(distinct[b]), int(distinct[c])
    # every insertion adds two triangles (ghosts included): the arrays never grow past this
    capacity = 2 * len(distinct) + 4
    tri = np.empty((capacity, 3), dtype=np.intp)
    circle = np.empty((capacity, 3))  # circumcentre and squared radius (ghosts: 0, 0, inf)
    # the first triangle and its three ghosts: edge (u, v) of a ghost (u, v, G) has the hull on its right
    tri[:4] = [[a, b, c], [b, a, _GHOST], [c, b, _GHOST], [a, c, _GHOST]]
    circle[:4] = _circles(pts, tri[:4])
    used = 4
    for p in distinct.tolist():
        if p in (a, b, c):
            continue
        q = pts[p]
        # candidates: triangles whose circumcircle (computed, with a margin) may hold q, and the ghosts
        d2 = (circle[:used, 0] - q[0]) ** 2 + (circle[:used, 1] - q[1]) ** 2
        cand = np.flatnonzero(d2 <= circle[:used, 2] * (1.0 + 1e-6))
        t = tri[cand]
        ghost = t[:, 2] == _GHOST
        u, v, w = pts[t[:, 0]], pts[t[:, 1]], pts[t[:, 2]]
        beyond = _orient(u, v, q)
        # a ghost holds q if q is beyond its hull edge, or on the edge's line between its ends
        on_edge = (beyond == 0) & ((q - u) * (q - v) <= 0).all(axis=1)
        bad = cand[np.where(ghost, (beyond > 0) | on_edge, _in_circle(u, v, w, q) > 0)]
        # the cavity's boundary: its directed edges whose reverse is not one of its edges (a few
        # triangles: plain Python is faster than numpy calls here)
        edges = {(t0, t1) for t0, t1, t2 in tri[bad].tolist() for t0, t1 in ((t0, t1), (t1, t2), (t2, t0))}
        fill = []
        for e0, e1 in edges:
            if (e1, e0) in edges:
                continue
            # a triangle with the vertex at infinity is stored as a ghost (hull edge first, G last)
            fill.append((e1, p, _GHOST) if e0 == _GHOST else (p, e0, _GHOST) if e1 == _GHOST else (e0, e1, p))
        if len(fill) != len(bad) + 2:
            # not a disc-shaped cavity (rounding, for nearly cocircular points): Qhull instead
            return _qhull(pts[distinct], distinct)
        new = np.array(fill, dtype=np.intp)
        slots = np.concatenate([bad, np.arange(used, used + len(new) - len(bad))])
        used += len(new) - len(bad)
        tri[slots] = new
        circle[slots] = _circles(pts, new)
    real: np.ndarray = tri[:used][tri[:used, 2] != _GHOST]
    if not _tiles_the_hull(pts, tri[:used]):
        return _qhull(pts[distinct], distinct)
    return real


def _tiles_the_hull(pts: np.ndarray, tri: np.ndarray) -> bool:
    """Whether the real triangles are all counter-clockwise and cover the hull exactly once (by area).

    Floating-point predicates can, for nearly cocircular points, carve a cavity that is not
    star-shaped; the triangles then overlap or leave a gap, and their areas no longer add up to
    the hull's.
    """
    ghost = tri[:, 2] == _GHOST
    real, hull_edges = tri[~ghost], tri[ghost]
    area = 0.5 * _orient(pts[real[:, 0]], pts[real[:, 1]], pts[real[:, 2]])
    u, v = pts[hull_edges[:, 0]], pts[hull_edges[:, 1]]
    hull = -0.5 * float(np.sum(u[:, 0] * v[:, 1] - v[:, 0] * u[:, 1]))  # ghost edges run clockwise
    return bool((area > 0).all()) and math.isclose(float(area.sum()), hull, rel_tol=1e-9)


def _qhull(pts: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Qhull's triangles (SciPy, imported only here), counter-clockwise, as indices of the original points."""
    from scipy.spatial import Delaunay

    simplices = np.asarray(Delaunay(pts).simplices)
    a, b, c = pts[simplices[:, 0]], pts[simplices[:, 1]], pts[simplices[:, 2]]
    clockwise = _orient(a, b, c) < 0
    simplices[clockwise] = simplices[clockwise][:, [0, 2, 1]]
    out: np.ndarray = index[simplices]
    return out

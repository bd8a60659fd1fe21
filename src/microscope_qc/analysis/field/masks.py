"""Analysis masks from shapes: which pixels an analysis uses (True = analysed).

Pure geometry, no Qt: the CLI builds masks from ``--roi``/``--exclude`` rectangles and napari Shapes
CSV files, a widget from a Shapes layer, both through :func:`mask_from_shapes`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from microscope_qc.results import AnalysisError

__all__ = [
    "MIN_ANALYSED_PIXELS",
    "MIN_ANALYSED_PERCENT",
    "check_mask",
    "describe_shapes",
    "mask_from_shapes",
    "polygon_from_shape",
]

#: a mask must leave at least this many pixels and this share of the field to analyse.
MIN_ANALYSED_PIXELS = 100
MIN_ANALYSED_PERCENT = 1.0


def polygon_from_shape(
    vertices: npt.ArrayLike, shape_type: str = "polygon", n_points: int = 128
) -> npt.NDArray[np.float64]:
    """The (N, 2) (y, x) polygon of one napari shape, in pixels.

    ``rectangle`` and ``polygon`` are their vertices; an ``ellipse`` (napari stores the four corners
    of its, possibly rotated, bounding box) becomes an inscribed polygon of ``n_points`` vertices.
    ``line`` and ``path`` enclose no area and are refused. Only the last two axes are used, so shapes
    drawn on a (C, Y, X) or (Z, Y, X) layer work as well.

    Parameters
    ----------
    vertices : array_like
        (N, D) vertices, D ≥ 2; the last two columns are y, x.
    shape_type : str, optional
        napari's shape type: ``rectangle``, ``polygon`` or ``ellipse`` (any case).
    n_points : int, optional
        Vertices of the polygon an ellipse becomes.

    Returns
    -------
    numpy.ndarray of float64
        (N, 2) y, x vertices.

    Raises
    ------
    AnalysisError
        Vertices that are not (N, ≥2) or not finite, a line or path, an unknown shape type, an
        ellipse without 4 corners, or a polygon of fewer than 3 vertices.
    """
    v = np.asarray(vertices, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] < 2:
        raise AnalysisError(f"A shape needs an (N, 2) array of (y, x) vertices; got shape {v.shape}.")
    v = v[:, -2:]
    kind = str(shape_type).lower()
    if kind in ("line", "path"):
        raise AnalysisError(f"A {kind} encloses no area; draw a rectangle, ellipse or polygon instead.")
    if not np.isfinite(v).all():
        raise AnalysisError("A shape has NaN or infinite vertices.")
    if kind == "ellipse":
        if len(v) != 4:
            raise AnalysisError(
                f"An ellipse is given by the 4 corners of its bounding box, not {len(v)} vertices."
            )
        centre = v.mean(axis=0)
        u, w = (v[1] - v[0]) / 2, (v[2] - v[1]) / 2  # half the two sides of the box
        t = np.linspace(0, 2 * np.pi, n_points, endpoint=False)[:, None]
        ellipse: npt.NDArray[np.float64] = centre + np.cos(t) * u + np.sin(t) * w
        return ellipse
    if kind not in ("rectangle", "polygon"):
        raise AnalysisError(f"Unknown shape type {shape_type!r}; use rectangle, ellipse or polygon.")
    if len(v) < 3:
        raise AnalysisError(f"A {kind} needs at least 3 vertices, not {len(v)}.")
    return v


def mask_from_shapes(
    shape_yx: tuple[int, int],
    include: list[np.ndarray] | None = None,
    exclude: list[np.ndarray] | None = None,
) -> npt.NDArray[np.bool_]:
    """The analysis mask (True = analysed) from include and exclude polygons.

    Each polygon is an (N, 2) array of (y, x) vertices in pixels (a rectangle is a 4-vertex polygon;
    see :func:`polygon_from_shape` for ellipses). A pixel belongs to a polygon when its centre (its
    integer index) lies inside or on the boundary (``skimage.draw.polygon2mask``): the rectangle with
    vertices (y0, x0) and (y1, x1) covers rows y0..y1 and columns x0..x1, both ends included. The mask
    is the union of the include polygons (every pixel when there are none) minus the union of the
    exclude polygons. Parts of polygons outside the image are ignored.

    Parameters
    ----------
    shape_yx : tuple of int
        Image shape; its last two entries are (Y, X).
    include, exclude : list of array_like, optional
        Polygons as accepted by :func:`polygon_from_shape`.

    Returns
    -------
    numpy.ndarray of bool
        (Y, X) mask.

    Raises
    ------
    AnalysisError
        A polygon :func:`polygon_from_shape` refuses.
    """
    shape = (int(shape_yx[-2]), int(shape_yx[-1]))
    inc = [polygon_from_shape(p) for p in include or []]
    exc = [polygon_from_shape(p) for p in exclude or []]
    # scikit-image loads here, not with the module: every field analysis imports this module for check_mask
    from skimage.draw import polygon2mask

    mask = np.zeros(shape, bool) if inc else np.ones(shape, bool)
    for poly in inc:
        mask |= polygon2mask(shape, poly)
    for poly in exc:
        mask &= ~polygon2mask(shape, poly)
    return mask


def _is_rectangle(poly: np.ndarray) -> bool:
    if len(poly) != 4:
        return False
    ys, xs = np.unique(np.round(poly[:, 0], 6)), np.unique(np.round(poly[:, 1], 6))
    return len(ys) == 2 and len(xs) == 2


def describe_shapes(include: list[np.ndarray] | None = None, exclude: list[np.ndarray] | None = None) -> str:
    """A short description of include/exclude polygons for the results.

    E.g. "include 1 rectangle; exclude 2 polygons".

    Parameters
    ----------
    include, exclude : list of numpy.ndarray, optional
        Polygons as (N, 2) or (N, D) vertex arrays (the last two columns are y, x).

    Returns
    -------
    str
        The description, or "no shapes".
    """

    def count(polys: list[np.ndarray]) -> str:
        rect = sum(_is_rectangle(np.asarray(p, dtype=float)[:, -2:]) for p in polys)
        other = len(polys) - rect
        parts = [
            f"{n} {word}{'s' if n > 1 else ''}" for n, word in ((rect, "rectangle"), (other, "polygon")) if n
        ]
        return " + ".join(parts)

    parts = []
    if include:
        parts.append("include " + count(include))
    if exclude:
        parts.append("exclude " + count(exclude))
    return "; ".join(parts) or "no shapes"


def check_mask(mask: npt.ArrayLike, shape_yx: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """Validate a user mask: (Y, X) like the image, boolean (or 0/1 integers), enough analysed pixels.

    Parameters
    ----------
    mask : array_like
        The mask, True (or 1) where pixels are analysed.
    shape_yx : tuple of int
        (Y, X) shape of the image.

    Returns
    -------
    numpy.ndarray of bool
        The mask as booleans.

    Raises
    ------
    AnalysisError
        A mask of another shape, of values other than booleans or 0/1, or leaving fewer than
        :data:`MIN_ANALYSED_PIXELS` pixels or :data:`MIN_ANALYSED_PERCENT` % of the field.
    """
    m = np.asarray(mask)
    if m.shape != tuple(shape_yx):
        raise AnalysisError(
            f"The mask has shape {m.shape} but the image's (Y, X) is {tuple(shape_yx)}; "
            "draw the mask on the image itself (one (Y, X) mask serves every channel)."
        )
    if m.dtype != bool:
        if m.dtype.kind not in "ui" or not np.isin(m, (0, 1)).all():
            raise AnalysisError(
                f"The mask must be boolean (True = analysed pixel), not {m.dtype} with values other than 0 and 1."
            )
        m = m.astype(bool)
    n, total = int(m.sum()), m.size
    need = max(MIN_ANALYSED_PIXELS, math.ceil(MIN_ANALYSED_PERCENT / 100 * total))
    if n < need:
        raise AnalysisError(
            f"The mask leaves only {n} pixels ({100 * n / total:.2g} % of the field) to analyse; at least {need} "
            f"(≥ {MIN_ANALYSED_PERCENT:g} % of the field and ≥ {MIN_ANALYSED_PIXELS} pixels) are needed. "
            "Include a larger region or exclude less."
        )
    return m

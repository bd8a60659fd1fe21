"""SVG building blocks: escaping, the data-to-pixel frame, and path data for many points at once.

Every helper takes whole arrays and returns one path's data, so a series of any length is one
SVG element.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "esc",
    "num",
    "Frame",
    "polyline_data",
    "marker_data",
    "rect_data",
    "arrow_data",
    "finite_extent",
    "FILLED",
]

FloatArray = npt.NDArray[np.float64]

#: markers drawn as closed shapes (the others are strokes only: plus and cross)
FILLED = frozenset("os^.")


def esc(text: str) -> str:
    """Text escaped for SVG/XML content and attribute values."""
    return html.escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate with at most one decimal (what a screen resolves)."""
    return f"{value:.1f}".removesuffix(".0")


def _log10(values: Any) -> FloatArray:
    """log10 of the values, NaN (not drawn) where a value is not positive."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)


@dataclass(frozen=True)
class Frame:
    """An axes box in pixels and the data ranges it shows.

    Attributes
    ----------
    x0, y0, width, height : float
        The box's top-left corner and size in pixels.
    xlim, ylim : tuple of float
        Data values at the left/right and bottom/top edges (``y_down`` flips the vertical).
    y_down : bool
        Data y grows downwards (images with the origin at the top).
    xlog, ylog : bool
        Logarithmic axis: its limits are log10 of the data values; values ≤ 0 are not drawn.
    """

    x0: float
    y0: float
    width: float
    height: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    y_down: bool = False
    xlog: bool = False
    ylog: bool = False

    def px(self, x: Any) -> FloatArray:
        """Pixel x of data x (array or scalar)."""
        lo, hi = self.xlim
        v = _log10(x) if self.xlog else np.asarray(x, dtype=np.float64)
        return self.x0 + (v - lo) / ((hi - lo) or 1.0) * self.width

    def py(self, y: Any) -> FloatArray:
        """Pixel y of data y (array or scalar)."""
        lo, hi = self.ylim
        v = _log10(y) if self.ylog else np.asarray(y, dtype=np.float64)
        frac = (v - lo) / ((hi - lo) or 1.0)
        return self.y0 + (frac if self.y_down else 1.0 - frac) * self.height

    def clip_rect(self) -> str:
        """The box as the attributes of an SVG ``rect``."""
        return f'x="{num(self.x0)}" y="{num(self.y0)}" width="{num(self.width)}" height="{num(self.height)}"'


def _pairs(xs: FloatArray, ys: FloatArray) -> list[str]:
    return [f"{x:.1f},{y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]


def _decimated(xs: FloatArray, ys: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Of a polyline with x increasing, per pixel column the first, lowest, highest and last point.

    What is drawn is the same (a pixel column shows the line's extent in it); a profile of
    3000 points across 200 pixels then writes about 800.
    """
    col = np.floor(xs).astype(np.int64)
    if len(xs) < 8 or np.any(np.diff(col) < 0) or len(xs) <= 4 * (col[-1] - col[0] + 1):
        return xs, ys
    order = np.lexsort((ys, col))  # by column, then by value: each column's lowest first, highest last
    start = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    end = np.r_[start[1:], len(xs)] - 1
    keep = np.unique(np.concatenate([start, end, order[start], order[end]]))
    return xs[keep], ys[keep]


def polyline_data(xs: FloatArray, ys: FloatArray) -> str:
    """Path data of a polyline in pixels, broken where a coordinate is not finite."""
    ok = np.isfinite(xs) & np.isfinite(ys)
    if ok.all():
        xs, ys = _decimated(xs, ys)
        return "M" + "L".join(_pairs(xs, ys)) if len(xs) else ""
    # runs of finite points, each its own subpath
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    return "".join(polyline_data(xs[a:b], ys[a:b]) for a, b in zip(edges[::2], edges[1::2], strict=True))


def marker_data(xs: FloatArray, ys: FloatArray, marker: str, size: float) -> str:
    """Path data of one marker at every finite point; ``size`` is the marker's width in pixels.

    Markers: ``o`` circle, ``s`` square, ``^`` triangle, ``+`` plus, ``x`` cross, ``.`` dot.
    """
    ok = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[ok], ys[ok]
    r = size / 2
    if marker in "o.":
        start = _pairs(xs - r, ys)
        d = f"a{num(r)},{num(r)} 0 1,0 {num(2 * r)},0a{num(r)},{num(r)} 0 1,0 {num(-2 * r)},0z"
        return "".join(f"M{p}{d}" for p in start)
    if marker == "s":
        s = 0.85 * size  # a square looks as big as a circle of the same width when a little smaller
        start = _pairs(xs - s / 2, ys - s / 2)
        return "".join(f"M{p}h{num(s)}v{num(s)}h{num(-s)}z" for p in start)
    if marker == "^":
        start = _pairs(xs, ys - r)
        return "".join(f"M{p}l{num(r)},{num(1.7 * r)}h{num(-2 * r)}z" for p in start)
    if marker == "+":
        start = _pairs(xs - r, ys)
        return "".join(f"M{p}h{num(2 * r)}m{num(-r)},{num(-r)}v{num(2 * r)}" for p in start)
    if marker == "x":
        q = r * 0.8
        start = _pairs(xs - q, ys - q)
        return "".join(
            f"M{p}l{num(2 * q)},{num(2 * q)}m0,{num(-2 * q)}l{num(-2 * q)},{num(2 * q)}" for p in start
        )
    raise ValueError(f"unknown marker {marker!r}; use one of o s ^ + x .")


def rect_data(left: FloatArray, top: FloatArray, width: FloatArray, height: FloatArray) -> str:
    """Path data of many rectangles (e.g. the bars of a histogram) in pixels."""
    rows = zip(left.tolist(), top.tolist(), width.tolist(), height.tolist(), strict=True)
    return "".join(f"M{x:.1f},{y:.1f}h{w:.1f}v{h:.1f}h{-w:.1f}z" for x, y, w, h in rows if h > 0)


def arrow_data(
    x: FloatArray, y: FloatArray, x1: FloatArray, y1: FloatArray, head: float = 7.0
) -> tuple[str, str]:
    """Path data of arrows from (x, y) to (x1, y1) in pixels: the shafts, and the heads (to fill)."""
    dx, dy = x1 - x, y1 - y
    length = np.hypot(dx, dy)
    ok = np.isfinite(length) & (length > 0)
    x, y, x1, y1, dx, dy, length = (a[ok] for a in (x, y, x1, y1, dx, dy, length))
    ux, uy = dx / length, dy / length
    hl = np.minimum(head, 0.45 * length)  # a short arrow keeps a visible shaft
    hw = 0.45 * hl
    bx, by = x1 - ux * hl, y1 - uy * hl
    shafts = "".join(f"M{a}L{b}" for a, b in zip(_pairs(x, y), _pairs(bx, by), strict=True))
    tips = _pairs(x1, y1)
    left = _pairs(bx - uy * hw, by + ux * hw)
    right = _pairs(bx + uy * hw, by - ux * hw)
    heads = "".join(f"M{t}L{a}L{b}z" for t, a, b in zip(tips, left, right, strict=True))
    return shafts, heads


def finite_extent(*arrays: Any) -> tuple[float, float] | None:
    """Minimum and maximum over the finite values of the arrays, or None if there is none."""
    vals = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    if not vals:
        return None
    allv = np.concatenate(vals)
    allv = allv[np.isfinite(allv)]
    if not allv.size:
        return None
    lo, hi = float(allv.min()), float(allv.max())
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None

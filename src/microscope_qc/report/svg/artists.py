"""What an axes draws: each kind of mark knows its data extent, its legend sample and its SVG.

A mark holds arrays in data units and draws itself, once the layout has fixed its frame, as one
SVG element (or two), however many points it has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from microscope_qc.report.svg.colours import BAD, ColourScale
from microscope_qc.report.svg.marks import (
    FILLED,
    Frame,
    arrow_data,
    esc,
    finite_extent,
    marker_data,
    num,
    polyline_data,
    rect_data,
)
from microscope_qc.report.svg.png import encode_png, png_data_uri

__all__ = ["Mark", "Lines", "Markers", "ErrorBars", "Bars", "Rule", "Span", "Image", "Arrows", "Texts"]

FloatArray = npt.NDArray[np.float64]
Extent = tuple[float, float] | None


def _arr(values: Any) -> FloatArray:
    return np.asarray(values, dtype=np.float64).ravel()


def _style(colour: str, width: float = 0.0, alpha: float = 1.0, dash: str = "", fill: str = "none") -> str:
    out = f'fill="{fill}"'
    if width > 0:
        out += f' stroke="{colour}" stroke-width="{num(width)}" stroke-linejoin="round"'
    if dash:
        out += f' stroke-dasharray="{dash}"'
    if alpha < 1:
        out += f' opacity="{alpha:.2f}"'
    return out


@dataclass
class Mark(ABC):
    """Base of every mark: a legend label (None: not in the legend) and the CSS class in the SVG."""

    label: str | None = field(default=None, kw_only=True)
    css: str = field(default="", kw_only=True)

    def x_extent(self) -> Extent:
        """Data x range this mark needs shown (None: none)."""
        return None

    def y_extent(self) -> Extent:
        """Data y range this mark needs shown (None: none)."""
        return None

    def points(self) -> tuple[FloatArray, FloatArray]:
        """Data points the legend should avoid covering."""
        return np.empty(0), np.empty(0)

    @abstractmethod
    def svg(self, frame: Frame) -> str:
        """The mark as SVG in ``frame`` (each kind of mark draws itself)."""

    def sample(self, x: float, y: float) -> str:
        """The legend's sample of this mark, centred at pixel (x, y)."""
        return ""

    def _cls(self, kind: str) -> str:
        return f'class="{esc((kind + " " + self.css).strip())}"'


@dataclass
class Lines(Mark):
    """Polylines (one or many, e.g. one per bead) in one colour: one path."""

    paths: list[tuple[FloatArray, FloatArray]]
    colour: str
    width: float = 1.2
    alpha: float = 1.0
    dash: str = ""
    marker: str = ""  # shown in the legend sample only (markers of the data are a Markers mark)

    def x_extent(self) -> Extent:
        return finite_extent(*(p[0] for p in self.paths))

    def y_extent(self) -> Extent:
        return finite_extent(*(p[1] for p in self.paths))

    def points(self) -> tuple[FloatArray, FloatArray]:
        if not self.paths:
            return np.empty(0), np.empty(0)
        return np.concatenate([p[0] for p in self.paths]), np.concatenate([p[1] for p in self.paths])

    def svg(self, frame: Frame) -> str:
        d = "".join(polyline_data(frame.px(x), frame.py(y)) for x, y in self.paths)
        if not d:
            return ""
        style = _style(self.colour, self.width, self.alpha, self.dash)
        return f'<path {self._cls("line")} data-count="{len(self.paths)}" {style} d="{d}"/>'

    def sample(self, x: float, y: float) -> str:
        line = f'<path {_style(self.colour, self.width, 1.0, self.dash)} d="M{num(x - 11)},{num(y)}h22"/>'
        if self.marker:
            filled = self.marker in FILLED
            shape = marker_data(np.array([x]), np.array([y]), self.marker, 6.0)
            line += (
                f'<path {_style(self.colour, 1.2, 1.0, "", self.colour if filled else "none")} d="{shape}"/>'
            )
        return line


@dataclass
class Markers(Mark):
    """The same marker at many points: one path."""

    x: FloatArray
    y: FloatArray
    marker: str = "o"
    size: float = 6.0
    colour: str = "#333333"
    fill: str | None = None  # None: filled with the colour for closed shapes; "none": open
    alpha: float = 1.0
    stroke: float = 1.2

    def x_extent(self) -> Extent:
        return finite_extent(self.x)

    def y_extent(self) -> Extent:
        return finite_extent(self.y)

    def points(self) -> tuple[FloatArray, FloatArray]:
        return self.x, self.y

    def _paint(self, alpha: float | None = None) -> str:
        fill = self.fill if self.fill is not None else (self.colour if self.marker in FILLED else "none")
        stroke = self.stroke if (fill == "none" or self.marker in "+x") else 0.0
        return _style(self.colour, stroke, self.alpha if alpha is None else alpha, "", fill)

    def svg(self, frame: Frame) -> str:
        px, py = frame.px(self.x), frame.py(self.y)
        d = marker_data(px, py, self.marker, self.size)
        n = int((np.isfinite(px) & np.isfinite(py)).sum())  # points drawn (not ≤ 0 on a log axis)
        return f'<path {self._cls("markers")} data-count="{n}" {self._paint()} d="{d}"/>' if d else ""

    def sample(self, x: float, y: float) -> str:
        d = marker_data(np.array([x]), np.array([y]), self.marker, min(self.size, 9.0))
        return f'<path {self._paint(1.0)} d="{d}"/>'


@dataclass
class ErrorBars(Mark):
    """Vertical error bars ``y ± yerr`` at ``x``, with caps: one path."""

    x: FloatArray
    y: FloatArray
    yerr: FloatArray
    colour: str = "#333333"
    width: float = 1.0
    cap: float = 3.0

    def x_extent(self) -> Extent:
        return finite_extent(self.x)

    def y_extent(self) -> Extent:
        return finite_extent(self.y - self.yerr, self.y + self.yerr)

    def svg(self, frame: Frame) -> str:
        ok = np.isfinite(self.x) & np.isfinite(self.y) & np.isfinite(self.yerr)
        px = frame.px(self.x[ok])
        lo, hi = frame.py(self.y[ok] - self.yerr[ok]), frame.py(self.y[ok] + self.yerr[ok])
        c = self.cap
        d = "".join(
            f"M{a:.1f},{b:.1f}V{t:.1f}M{a - c:.1f},{b:.1f}h{2 * c:.1f}M{a - c:.1f},{t:.1f}h{2 * c:.1f}"
            for a, b, t in zip(px.tolist(), lo.tolist(), hi.tolist(), strict=True)
        )
        return f'<path {self._cls("errorbars")} data-count="{int(ok.sum())}" {_style(self.colour, self.width)} d="{d}"/>'


@dataclass
class Bars(Mark):
    """Histogram bars between ``edges`` with heights ``counts``: one path."""

    edges: FloatArray
    counts: FloatArray
    colour: str = "#7570b3"
    alpha: float = 0.8

    def x_extent(self) -> Extent:
        return finite_extent(self.edges)

    def y_extent(self) -> Extent:
        return (0.0, float(self.counts.max())) if self.counts.size else None

    def points(self) -> tuple[FloatArray, FloatArray]:
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        return np.repeat(centres, 3), np.concatenate([self.counts, self.counts / 2, self.counts * 0])

    def svg(self, frame: Frame) -> str:
        left, right = frame.px(self.edges[:-1]), frame.px(self.edges[1:])
        top, base = frame.py(self.counts), frame.py(np.zeros_like(self.counts))
        d = rect_data(left, top, right - left, base - top)
        style = _style("#ffffff", 0.5, self.alpha, "", self.colour)
        return f'<path {self._cls("bars")} data-count="{len(self.counts)}" {style} d="{d}"/>'

    def sample(self, x: float, y: float) -> str:
        return f'<rect x="{num(x - 8)}" y="{num(y - 5)}" width="16" height="10" fill="{self.colour}"/>'


@dataclass
class Columns(Mark):
    """Bars of ``width`` centred at ``x``, standing on zero (a bar chart): one path."""

    x: FloatArray
    heights: FloatArray
    width: float = 0.8
    colour: str = "#7570b3"
    alpha: float = 0.85

    def x_extent(self) -> Extent:
        return finite_extent(np.concatenate([self.x - self.width / 2, self.x + self.width / 2]))

    def y_extent(self) -> Extent:
        return finite_extent(np.concatenate([self.heights, [0.0]]))

    def points(self) -> tuple[FloatArray, FloatArray]:
        return np.repeat(self.x, 2), np.concatenate([self.heights, self.heights / 2])

    def svg(self, frame: Frame) -> str:
        left, right = frame.px(self.x - self.width / 2), frame.px(self.x + self.width / 2)
        top, base = frame.py(np.maximum(self.heights, 0.0)), frame.py(np.zeros_like(self.heights))
        d = rect_data(left, top, right - left, base - top)
        style = _style("#ffffff", 0.5, self.alpha, "", self.colour)
        return f'<path {self._cls("columns")} data-count="{len(self.heights)}" {style} d="{d}"/>'

    def sample(self, x: float, y: float) -> str:
        return f'<rect x="{num(x - 8)}" y="{num(y - 5)}" width="16" height="10" fill="{self.colour}"/>'


@dataclass
class Rule(Mark):
    """A vertical (``axis="x"``) or horizontal line across the axes at ``value``."""

    value: float
    axis: str = "x"
    colour: str = "#111111"
    width: float = 1.5
    dash: str = ""

    def x_extent(self) -> Extent:
        return (self.value, self.value) if self.axis == "x" else None

    def y_extent(self) -> Extent:
        return (self.value, self.value) if self.axis == "y" else None

    def svg(self, frame: Frame) -> str:
        if self.axis == "x":
            x = float(frame.px(self.value))
            d = f"M{num(x)},{num(frame.y0)}v{num(frame.height)}"
        else:
            y = float(frame.py(self.value))
            d = f"M{num(frame.x0)},{num(y)}h{num(frame.width)}"
        return f'<path {self._cls("rule")} {_style(self.colour, self.width, 1.0, self.dash)} d="{d}"/>'

    def sample(self, x: float, y: float) -> str:
        return f'<path {_style(self.colour, self.width, 1.0, self.dash)} d="M{num(x - 11)},{num(y)}h22"/>'


@dataclass
class Span(Mark):
    """A shaded range ``[low, high]`` along x (``axis="x"``) or y, across the whole axes."""

    low: float
    high: float
    axis: str = "x"
    colour: str = "#1b9e77"
    alpha: float = 0.15

    def x_extent(self) -> Extent:
        return (self.low, self.high) if self.axis == "x" else None

    def y_extent(self) -> Extent:
        return (self.low, self.high) if self.axis == "y" else None

    def svg(self, frame: Frame) -> str:
        if self.axis == "x":
            a, b = sorted((float(frame.px(self.low)), float(frame.px(self.high))))
            box = f'x="{num(a)}" y="{num(frame.y0)}" width="{num(b - a)}" height="{num(frame.height)}"'
        else:
            a, b = sorted((float(frame.py(self.low)), float(frame.py(self.high))))
            box = f'x="{num(frame.x0)}" y="{num(a)}" width="{num(frame.width)}" height="{num(b - a)}"'
        return f'<rect {self._cls("span")} {box} fill="{self.colour}" fill-opacity="{self.alpha:.2f}"/>'

    def sample(self, x: float, y: float) -> str:
        return f'<rect x="{num(x - 8)}" y="{num(y - 5)}" width="16" height="10" fill="{self.colour}" fill-opacity="{self.alpha:.2f}"/>'


@dataclass
class Image(Mark):
    """A colour-mapped image; ``extent`` = (x of its first column, of its last, y of its first row, of its last) at their outer edges.

    ``reduce`` says how a large image is shrunk to about the pixels it is shown with:
    ``"mean"`` of blocks, ``"max"`` of blocks (small bright spots stay visible) or ``"stride"``.
    """

    values: npt.NDArray[Any]
    scale: ColourScale
    extent: tuple[float, float, float, float]
    bad: str | None = None  # colour of NaN values; None: transparent
    reduce: str = "mean"

    def x_extent(self) -> Extent:
        return min(self.extent[:2]), max(self.extent[:2])

    def y_extent(self) -> Extent:
        return min(self.extent[2:]), max(self.extent[2:])

    def _pixels(self, width: float, height: float) -> npt.NDArray[Any]:
        """The values resampled to about ``width`` × ``height`` pixels (blocks down, repeats up)."""
        v = np.asarray(self.values)
        # up to a quarter more pixels than shown are kept as they are; beyond, blocks of k × k
        ky = int(np.ceil(v.shape[0] / height)) if v.shape[0] > 1.25 * height else 1
        kx = int(np.ceil(v.shape[1] / width)) if v.shape[1] > 1.25 * width else 1
        if ky > 1 or kx > 1:
            if self.reduce == "stride":
                v = v[::ky, ::kx]
            else:  # in the image's own type: a 1024² uint16 projection is not copied to float first
                h, w = v.shape[0] // ky * ky, v.shape[1] // kx * kx
                blocks = v[:h, :w].reshape(h // ky, ky, w // kx, kx)
                if self.reduce == "max":
                    v = blocks.max(axis=3).max(axis=1)
                else:
                    v = blocks.mean(axis=3, dtype=np.float64).mean(axis=1)
        v = v.astype(np.float64, copy=False)
        my = max(1, int(height // v.shape[0]))
        mx = max(1, int(width // v.shape[1]))
        if my > 1 or mx > 1:  # nearest-neighbour enlargement: small maps stay crisp whatever renders them
            v = np.repeat(np.repeat(v, my, axis=0), mx, axis=1)
        return v

    def svg(self, frame: Frame) -> str:
        x0, x1 = frame.px(self.extent[0]), frame.px(self.extent[1])
        y0, y1 = frame.py(self.extent[2]), frame.py(self.extent[3])
        left, top = float(min(x0, x1)), float(min(y0, y1))
        w, h = float(abs(x1 - x0)), float(abs(y1 - y0))
        pixels = self._pixels(w, h)
        if x1 < x0:
            pixels = pixels[:, ::-1]
        if y1 < y0:
            pixels = pixels[::-1]
        idx = self.scale.indices(pixels)
        palette = np.zeros((256, 3), np.uint8)
        palette[:BAD] = self.scale.palette()
        alpha = np.full(256, 255, np.uint8)
        if self.bad is None:
            alpha[BAD] = 0
        else:
            palette[BAD] = [int(self.bad[i : i + 2], 16) for i in (1, 3, 5)]
        # fast compression: a noisy image compresses little better at higher levels, for several times the time
        uri = png_data_uri(encode_png(idx, palette, alpha if self.bad is None else None, level=1))
        return (
            f'<image {self._cls("image")} x="{num(left)}" y="{num(top)}" width="{num(w)}" height="{num(h)}" '
            f'preserveAspectRatio="none" data-shape="{self.values.shape[0]}x{self.values.shape[1]}" '
            f'xlink:href="{uri}"/>'
        )


@dataclass
class Arrows(Mark):
    """Arrows from (x, y) to (x + u, y + v), all in data units: two paths (shafts and heads)."""

    x: FloatArray
    y: FloatArray
    u: FloatArray
    v: FloatArray
    colour: str = "#d95f02"
    width: float = 1.4

    def x_extent(self) -> Extent:
        return finite_extent(self.x, self.x + self.u)

    def y_extent(self) -> Extent:
        return finite_extent(self.y, self.y + self.v)

    def svg(self, frame: Frame) -> str:
        shafts, heads = arrow_data(
            frame.px(self.x), frame.py(self.y), frame.px(self.x + self.u), frame.py(self.y + self.v)
        )
        n = int((np.isfinite(self.u) & np.isfinite(self.v)).sum())
        return (
            f'<g {self._cls("arrows")} data-count="{n}"><path {_style(self.colour, self.width)} d="{shafts}"/>'
            f'<path fill="{self.colour}" d="{heads}"/></g>'
        )


@dataclass
class Texts(Mark):
    """Short texts next to data points, offset by ``offset`` pixels (right, up)."""

    x: FloatArray
    y: FloatArray
    texts: list[str]
    colour: str = "#d73027"
    size: float = 8.0
    offset: tuple[float, float] = (4.0, 4.0)

    def svg(self, frame: Frame) -> str:
        px, py = frame.px(self.x) + self.offset[0], frame.py(self.y) - self.offset[1]
        items = "".join(
            f'<text x="{a:.1f}" y="{b:.1f}">{esc(t)}</text>'
            for a, b, t in zip(px.tolist(), py.tolist(), self.texts, strict=True)
            if np.isfinite(a) and np.isfinite(b)
        )
        return f'<g {self._cls("texts")} font-size="{num(self.size)}" fill="{self.colour}">{items}</g>'

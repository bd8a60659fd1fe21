"""One panel of a figure: the marks it holds, its ranges, ticks, labels, legend and colour bar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from microscope_qc.report.svg.artists import (
    Arrows,
    Bars,
    Columns,
    ErrorBars,
    Image,
    Lines,
    Mark,
    Markers,
    Rule,
    Span,
    Texts,
)
from microscope_qc.report.svg.colours import ColourScale, scale_values
from microscope_qc.report.svg.marks import Frame, esc, num
from microscope_qc.report.svg.png import encode_png, png_data_uri
from microscope_qc.report.svg.ticks import log_ticks, nice_ticks, padded_range, text_width, tick_labels

__all__ = ["Axes", "TICK_FONT", "LABEL_FONT", "TITLE_FONT", "LEGEND_FONT"]

TICK_FONT, LABEL_FONT, TITLE_FONT, LEGEND_FONT = 10.0, 11.0, 11.5, 9.5
_TICK = 4.0  # tick length, pixels
_BAR_GAP, _BAR_WIDTH = 10.0, 13.0  # colour bar: distance from the axes, width
_LEGEND_ROW = 14.0


def _a(values: Any) -> npt.NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64).ravel()


@dataclass
class _Colourbar:
    scale: ColourScale
    label: str


class Axes:
    """A panel: add marks (``line``, ``markers``, ``histogram``, ``image`` ...), then label it.

    Data coordinates are those of the arrays given; the panel's ranges cover every mark (with a
    margin, none around images) unless set with ``xlim``/``ylim``.
    """

    def __init__(self) -> None:
        self.marks: list[Mark] = []
        self.title = ""
        self.xlabel = ""
        self.ylabel = ""
        self.xlim: tuple[float, float] | None = None
        self.ylim: tuple[float, float] | None = None
        self.y_down = False
        self.equal = False
        self.ticks = True
        self.visible = True
        self.note = ""
        self.legend_loc: str | None = None
        self.bar: _Colourbar | None = None
        self.xlog = False
        self.ylog = False

    # ------------------------------------------------------------------ marks
    def line(self, x: Any, y: Any, colour: str, width: float = 1.2, **kw: Any) -> None:
        """A polyline through (x, y), broken at NaN (keywords: ``alpha``, ``dash``, ``label``, ``marker``)."""
        self.marks.append(Lines([(_a(x), _a(y))], colour, width, **kw))

    def lines(self, paths: Sequence[tuple[Any, Any]], colour: str, width: float = 1.2, **kw: Any) -> None:
        """Many polylines in one colour (e.g. one per bead), drawn as one path."""
        self.marks.append(Lines([(_a(x), _a(y)) for x, y in paths], colour, width, **kw))

    def markers(self, x: Any, y: Any, marker: str = "o", **kw: Any) -> None:
        """One marker at every point (``size``, ``colour``, ``fill``, ``alpha``, ``label``, ``css``)."""
        self.marks.append(Markers(_a(x), _a(y), marker, **kw))

    def errorbars(self, x: Any, y: Any, yerr: Any, **kw: Any) -> None:
        """Vertical error bars ``y ± yerr``."""
        self.marks.append(ErrorBars(_a(x), _a(y), _a(yerr), **kw))

    def histogram(self, values: Any, bins: int, **kw: Any) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """Bars of the histogram of the finite ``values``; returns the counts and the bin edges."""
        v = _a(values)
        counts, edges = np.histogram(v[np.isfinite(v)], bins=bins)
        self.marks.append(Bars(edges.astype(np.float64), counts.astype(np.float64), **kw))
        return counts, edges

    def bars(self, x: Any, heights: Any, width: float = 0.8, **kw: Any) -> None:
        """A bar chart: bars of ``width`` (data units) centred at ``x`` (``colour``, ``alpha``, ``label``)."""
        self.marks.append(Columns(_a(x), _a(heights), width, **kw))

    def rule(self, value: float, axis: str = "x", **kw: Any) -> None:
        """A line across the panel at ``value`` of x (vertical) or y (horizontal)."""
        self.marks.append(Rule(float(value), axis, **kw))

    def span(self, low: float, high: float, axis: str = "x", **kw: Any) -> None:
        """A shaded range across the panel."""
        self.marks.append(Span(float(low), float(high), axis, **kw))

    def arrows(self, x: Any, y: Any, u: Any, v: Any, **kw: Any) -> None:
        """Arrows from (x, y) by (u, v), in data units."""
        self.marks.append(Arrows(_a(x), _a(y), _a(u), _a(v), **kw))

    def texts(self, x: Any, y: Any, texts: Sequence[str], **kw: Any) -> None:
        """Texts beside points (``colour``, ``size``, ``offset`` in pixels right and up)."""
        self.marks.append(Texts(_a(x), _a(y), [str(t) for t in texts], **kw))

    def image(
        self,
        values: npt.NDArray[Any],
        cmap: str = "gray",
        extent: tuple[float, float, float, float] | None = None,
        *,
        origin: str = "upper",
        vmin: float | None = None,
        vmax: float | None = None,
        levels: Sequence[float] | None = None,
        bad: str | None = None,
        reduce: str = "mean",
        equal: bool = True,
    ) -> ColourScale:
        """A colour-mapped image; returns its colour scale (for :meth:`colourbar`).

        Parameters
        ----------
        values : numpy.ndarray
            (rows, columns) values; NaN are missing.
        cmap : str
            Colour map (:func:`~microscope_qc.report.svg.colours.colour_table`).
        extent : tuple of float, optional
            (x of the first column's outer edge, x of the last column's, y of the first row's
            outer edge, y of the last row's) in data units; pixel centres at 0, 1, 2 ... by default.
        origin : {"upper", "lower"}
            Where the first row is shown; ``"upper"`` makes y grow downwards, as in an image viewer.
        vmin, vmax : float, optional
            The values at the ends of the colour map (the finite values' range by default).
        levels : sequence of float, optional
            Class boundaries: one colour per class.
        bad : str, optional
            Colour of missing values (transparent by default).
        reduce : {"mean", "max", "stride"}
            How a large image is shrunk to about the pixels it is shown with.
        equal : bool
            Keep the image's aspect (equal data units on both axes).

        Returns
        -------
        ColourScale
            The values' colour scale.
        """
        h, w = values.shape
        ext = extent if extent is not None else (-0.5, w - 0.5, -0.5, h - 0.5)
        scale = scale_values(values, cmap, vmin, vmax, tuple(levels) if levels is not None else None)
        self.marks.append(Image(values, scale, ext, bad, reduce))
        self.y_down = origin == "upper"
        self.equal = self.equal or equal
        return scale

    def colourbar(self, scale: ColourScale, label: str) -> None:
        """A colour bar right of the panel, labelled (with the unit)."""
        self.bar = _Colourbar(scale, label)

    # ------------------------------------------------------------------ decoration
    def set(self, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None) -> None:
        """Set the title and the axis labels (each with its unit)."""
        self.title = self.title if title is None else title
        self.xlabel = self.xlabel if xlabel is None else xlabel
        self.ylabel = self.ylabel if ylabel is None else ylabel

    def log(self, x: bool = True, y: bool = True) -> None:
        """Logarithmic x and/or y axis (ticks at decades; values ≤ 0 are not drawn)."""
        self.xlog, self.ylog = x, y

    def legend(self, loc: str = "best") -> None:
        """Show a legend of the labelled marks in a corner (``best``, ``upper right``, ``lower left`` ...)."""
        self.legend_loc = loc

    def hide_ticks(self) -> None:
        """No ticks nor tick labels (e.g. an image whose position needs no numbers)."""
        self.ticks = False

    def off(self, note: str = "") -> None:
        """No frame, ticks nor labels; ``note`` is written in the middle instead."""
        self.visible, self.ticks, self.note = False, False, note

    # ------------------------------------------------------------------ layout
    def limits(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The data ranges shown: as set, or covering every mark."""
        images = [m for m in self.marks if isinstance(m, Image)]
        out = []
        for axis, fixed in (("x", self.xlim), ("y", self.ylim)):
            log = self.xlog if axis == "x" else self.ylog
            if fixed is not None:
                out.append((float(np.log10(fixed[0])), float(np.log10(fixed[1]))) if log else fixed)
                continue
            exts = [m.x_extent() if axis == "x" else m.y_extent() for m in self.marks]
            vals = [v for e in exts if e is not None for v in e]
            if log:  # ranges of a log axis are in log10 units, over the positive values only
                pos: list[float] = []
                for m in self.marks:
                    pts = m.points()[0 if axis == "x" else 1]
                    e = m.x_extent() if axis == "x" else m.y_extent()
                    pos.extend(pts.tolist() if pts.size else (e or ()))
                out.append(padded_range([float(np.log10(v)) for v in pos if v > 0 and np.isfinite(v)]))
                continue
            if images:  # an image fills its axes exactly, as image viewers do
                ie = [v for m in images for v in (m.extent[:2] if axis == "x" else m.extent[2:])]
                out.append((min(ie), max(ie)))
                continue
            lo, hi = padded_range(vals)
            if (
                axis == "y"
                and any(isinstance(m, (Bars, Columns)) for m in self.marks)
                and min(vals, default=0) >= 0
            ):
                lo = 0.0  # bars stand on zero
            out.append((lo, hi))
        return out[0], out[1]

    def _ticks(
        self, lo: float, hi: float, length: float, horizontal: bool, log: bool = False
    ) -> tuple[list[float], list[str]]:
        target = max(2, min(7, int(length / (70 if horizontal else 38))))
        if log:
            return log_ticks(lo, hi, target)
        while True:
            ticks = nice_ticks(lo, hi, target)
            labels = tick_labels(ticks)
            if not horizontal or self._fits(labels, length):
                return ticks, labels
            if target <= 2:  # still too wide: every other tick, as long as labels would touch
                while len(ticks) > 1 and not self._fits(labels, length):
                    ticks, labels = ticks[::2], labels[::2]
                return ticks, labels
            target -= 1

    @staticmethod
    def _fits(labels: list[str], length: float) -> bool:
        """Whether tick labels spread evenly along ``length`` pixels keep a gap between them."""
        return len(labels) * (max((text_width(t, TICK_FONT) for t in labels), default=0) + 12) <= length

    def margins(self, width: float, height: float) -> tuple[float, float, float, float]:
        """Room (left, right, top, bottom) in pixels around a box of about ``width`` × ``height``."""
        (x0, x1), (y0, y1) = self.limits()
        left, right, top, bottom = 6.0, 8.0, 6.0, 6.0
        if self.ticks:
            _, ylabels = self._ticks(y0, y1, height, False, self.ylog)
            left += _TICK + 3 + max((text_width(t, TICK_FONT) for t in ylabels), default=0)
            bottom += _TICK + 3 + TICK_FONT
            _, xlabels = self._ticks(x0, x1, width, True, self.xlog)
            if xlabels:  # the last x tick label is centred on the right edge: half of it sticks out
                right = max(right, text_width(xlabels[-1], TICK_FONT) / 2 + 2)
        if self.ylabel:
            left += LABEL_FONT + 6
        if self.xlabel:
            bottom += LABEL_FONT + 6
        if self.title:
            top += TITLE_FONT + 6
        if self.bar is not None:
            _, labels = self._bar_ticks(height)
            right += (
                _BAR_GAP + _BAR_WIDTH + _TICK + 3 + max((text_width(t, TICK_FONT) for t in labels), default=0)
            )
            right += LABEL_FONT + 6 if self.bar.label else 0
        return left, right, top, bottom

    def aspect(self) -> float | None:
        """Height / width the box must keep (equal data units on both axes), or None."""
        if not self.equal:
            return None
        (x0, x1), (y0, y1) = self.limits()
        return abs(y1 - y0) / abs(x1 - x0) if x1 != x0 else None

    def _bar_ticks(self, height: float) -> tuple[list[float], list[str]]:
        assert self.bar is not None
        s = self.bar.scale
        if s.levels is not None:
            ticks = list(s.levels)
            return ticks, tick_labels(ticks)
        return self._ticks(s.vmin, s.vmax, height, False)

    # ------------------------------------------------------------------ drawing
    def svg(self, frame: Frame, clip_id: str) -> str:
        """The panel drawn in ``frame`` (its limits already set), clipped to it."""
        out = [
            f'<g class="axes"><defs><clipPath id="{clip_id}"><rect {frame.clip_rect()}/></clipPath></defs>'
        ]
        if self.note:
            out.append(
                f'<text x="{num(frame.x0 + frame.width / 2)}" y="{num(frame.y0 + frame.height / 2)}" '
                f'text-anchor="middle" font-size="{num(LABEL_FONT)}" fill="#666">{esc(self.note)}</text>'
            )
        body = "".join(m.svg(frame) for m in self.marks if not isinstance(m, Texts))
        out.append(f'<g clip-path="url(#{clip_id})">{body}</g>')
        # texts beside points may reach beyond the frame, as annotations do
        out.extend(m.svg(frame) for m in self.marks if isinstance(m, Texts))
        if self.visible:
            out.append(f'<rect {frame.clip_rect()} fill="none" stroke="#333" stroke-width="0.8"/>')
        out.append(self._axis_svg(frame))
        if self.bar is not None:
            out.append(self._bar_svg(frame))
        if self.legend_loc is not None:
            out.append(self._legend_svg(frame))
        out.append("</g>")
        return "".join(out)

    def _axis_svg(self, f: Frame) -> str:
        out: list[str] = []
        bottom = f.y0 + f.height
        left_edge = f.x0
        if self.ticks:
            xt, xl = self._ticks(*f.xlim, f.width, True, self.xlog)
            yt, yl = self._ticks(*f.ylim, f.height, False, self.ylog)
            # ticks of a log axis are in log10 units: back to data values for the frame
            xs = f.px(np.power(10.0, xt) if self.xlog else xt)
            ys = f.py(np.power(10.0, yt) if self.ylog else yt)
            d = "".join(f"M{x:.1f},{bottom:.1f}v{_TICK}" for x in xs.tolist())
            d += "".join(f"M{f.x0:.1f},{y:.1f}h{-_TICK}" for y in ys.tolist())
            out.append(f'<path class="ticks" stroke="#333" stroke-width="0.8" d="{d}"/>')
            ty = bottom + _TICK + 2 + TICK_FONT * 0.8
            out.append(f'<g class="xticks" font-size="{num(TICK_FONT)}" text-anchor="middle" fill="#222">')
            out.extend(
                f'<text x="{x:.1f}" y="{ty:.1f}">{esc(t)}</text>'
                for x, t in zip(xs.tolist(), xl, strict=True)
            )
            out.append(f'</g><g class="yticks" font-size="{num(TICK_FONT)}" text-anchor="end" fill="#222">')
            tx = f.x0 - _TICK - 3
            out.extend(
                f'<text x="{tx:.1f}" y="{y + TICK_FONT * 0.35:.1f}">{esc(t)}</text>'
                for y, t in zip(ys.tolist(), yl, strict=True)
            )
            out.append("</g>")
            bottom += _TICK + 3 + TICK_FONT
            left_edge = tx - max((text_width(t, TICK_FONT) for t in yl), default=0)
        if self.xlabel:
            out.append(
                f'<text class="xlabel" x="{num(f.x0 + f.width / 2)}" y="{num(bottom + 4 + LABEL_FONT * 0.8)}" '
                f'text-anchor="middle" font-size="{num(LABEL_FONT)}">{esc(self.xlabel)}</text>'
            )
        if self.ylabel:
            x, y = left_edge - 6, f.y0 + f.height / 2
            out.append(
                f'<text class="ylabel" x="{num(x)}" y="{num(y)}" transform="rotate(-90 {num(x)} {num(y)})" '
                f'text-anchor="middle" font-size="{num(LABEL_FONT)}">{esc(self.ylabel)}</text>'
            )
        if self.title:
            room = f.width + 40
            size = min(TITLE_FONT, TITLE_FONT * room / max(text_width(self.title, TITLE_FONT), 1))
            out.append(
                f'<text class="title" x="{num(f.x0 + f.width / 2)}" y="{num(f.y0 - 7)}" text-anchor="middle" '
                f'font-size="{num(size)}" font-weight="600">{esc(self.title)}</text>'
            )
        return "".join(out)

    def _bar_svg(self, f: Frame) -> str:
        assert self.bar is not None
        s = self.bar.scale
        x = f.x0 + f.width + _BAR_GAP
        top, h = f.y0, f.height
        out = ['<g class="colourbar">']
        palette = s.palette()
        if s.levels is not None:  # one box per class
            lv = np.asarray(s.levels, dtype=np.float64)
            frac = (lv - lv[0]) / ((lv[-1] - lv[0]) or 1.0)
            ys = top + h - frac * h
            for k in range(len(lv) - 1):
                r, g, b = (int(c) for c in palette[k])
                out.append(
                    f'<rect x="{num(x)}" y="{num(ys[k + 1])}" width="{num(_BAR_WIDTH)}" '
                    f'height="{num(ys[k] - ys[k + 1])}" fill="#{r:02x}{g:02x}{b:02x}"/>'
                )
        else:  # a column of the colour map, highest value on top
            ramp = np.arange(palette.shape[0] - 1, -1, -1, dtype=np.uint8)[:, None]
            uri = png_data_uri(encode_png(ramp, palette))
            out.append(
                f'<image x="{num(x)}" y="{num(top)}" width="{num(_BAR_WIDTH)}" height="{num(h)}" '
                f'preserveAspectRatio="none" xlink:href="{uri}"/>'
            )
        out.append(
            f'<rect x="{num(x)}" y="{num(top)}" width="{num(_BAR_WIDTH)}" height="{num(h)}" fill="none" '
            'stroke="#333" stroke-width="0.8"/>'
        )
        ticks, labels = self._bar_ticks(h)
        lo, hi = s.vmin, s.vmax
        ys = top + h - (np.asarray(ticks, dtype=np.float64) - lo) / ((hi - lo) or 1.0) * h
        xr = x + _BAR_WIDTH
        d = "".join(f"M{xr:.1f},{y:.1f}h{_TICK}" for y in ys.tolist())
        out.append(f'<path stroke="#333" stroke-width="0.8" d="{d}"/>')
        out.append(f'<g font-size="{num(TICK_FONT)}" fill="#222">')
        tx = xr + _TICK + 3
        out.extend(
            f'<text x="{tx:.1f}" y="{y + TICK_FONT * 0.35:.1f}">{esc(t)}</text>'
            for y, t in zip(ys.tolist(), labels, strict=True)
        )
        out.append("</g>")
        if self.bar.label:
            lx = tx + max((text_width(t, TICK_FONT) for t in labels), default=0) + 4 + LABEL_FONT * 0.8
            ly = top + h / 2
            room = h + 20
            size = min(LABEL_FONT, LABEL_FONT * room / max(text_width(self.bar.label, LABEL_FONT), 1))
            out.append(
                f'<text class="barlabel" x="{num(lx)}" y="{num(ly)}" transform="rotate(-90 {num(lx)} {num(ly)})" '
                f'text-anchor="middle" font-size="{num(size)}">{esc(self.bar.label)}</text>'
            )
        out.append("</g>")
        return "".join(out)

    def _legend_svg(self, f: Frame) -> str:
        entries = [m for m in self.marks if m.label]
        if not entries:
            return ""
        w = 8 + 22 + 6 + max(text_width(str(m.label), LEGEND_FONT) for m in entries) + 6
        h = 6 + _LEGEND_ROW * len(entries)
        inset = 6.0
        corners = {
            "upper right": (f.x0 + f.width - w - inset, f.y0 + inset),
            "upper left": (f.x0 + inset, f.y0 + inset),
            "lower left": (f.x0 + inset, f.y0 + f.height - h - inset),
            "lower right": (f.x0 + f.width - w - inset, f.y0 + f.height - h - inset),
        }
        loc = self.legend_loc or "best"
        if loc == "best":
            loc = min(corners, key=lambda c: (self._covered(f, *corners[c], w, h), list(corners).index(c)))
        x, y = corners[loc]
        out = [
            f'<g class="legend"><rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="2" '
            'fill="#ffffff" fill-opacity="0.85" stroke="#bbb" stroke-width="0.6"/>'
        ]
        for k, m in enumerate(entries):
            cy = y + 3 + _LEGEND_ROW * (k + 0.5)
            out.append(m.sample(x + 8 + 11, cy))
            out.append(
                f'<text x="{num(x + 8 + 22 + 6)}" y="{num(cy + LEGEND_FONT * 0.35)}" '
                f'font-size="{num(LEGEND_FONT)}">{esc(str(m.label))}</text>'
            )
        out.append("</g>")
        return "".join(out)

    def _covered(self, f: Frame, x: float, y: float, w: float, h: float) -> int:
        """How many data points (of every mark) a legend box at (x, y) would hide."""
        n = 0
        for m in self.marks:
            px_, py_ = m.points()
            if px_.size:
                a, b = f.px(px_), f.py(py_)
                n += int(((a >= x) & (a <= x + w) & (b >= y) & (b <= y + h)).sum())
            if isinstance(m, Rule) and m.axis == "x":
                n += 5 * int(x <= float(f.px(m.value)) <= x + w)
        return n

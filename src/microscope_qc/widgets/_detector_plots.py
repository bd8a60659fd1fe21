"""The detector widget's curves, painted with QPainter (no matplotlib, nothing to render per run).

:class:`CurvePlot` draws measured points (filled when a fit used them), the fitted model as a
line and the fit range as a shaded band. With ``adjustable`` the band's upper edge can be dragged:
on release :attr:`CurvePlot.range_dragged` is emitted with the new upper limit in data units (the
widget turns it into the fit-range setting and re-runs the fit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt, Signal
from qtpy.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget

__all__ = ["CurvePlot"]

_MARGIN = (46, 4, 34, 22)  # left, top, bottom, right
_GRAB_PX = 6


class CurvePlot(QWidget):
    """Points, a model line and a shaded fit range on linear or logarithmic axes."""

    #: the band's new upper limit (data units) after the user dragged its edge
    range_dragged = Signal(float)

    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.x = np.zeros(0)
        self.y = np.zeros(0)
        self.model: np.ndarray | None = None
        self.used = np.zeros(0, bool)
        self.band: tuple[float, float] | None = None
        self.log = False
        self.xlabel = ""
        self.ylabel = ""
        self.adjustable = False
        self._dragging = False
        self.empty_text = "(no curve yet: Measure)"
        self.setMinimumHeight(190)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    # ------------------------------------------------------------------ data
    def set_curve(
        self,
        x: Any,
        y: Any,
        *,
        model: Any = None,
        used: Any = None,
        band: tuple[float, float] | None = None,
        log: bool = False,
        xlabel: str = "",
        ylabel: str = "",
        adjustable: bool = False,
    ) -> None:
        """Show a curve (empty arrays clear the plot)."""
        self.x = np.asarray(x, float)
        self.y = np.asarray(y, float)
        self.model = None if model is None else np.asarray(model, float)
        self.used = np.zeros(len(self.x), bool) if used is None else np.asarray(used, bool)
        self.band = band
        self.log, self.xlabel, self.ylabel, self.adjustable = log, xlabel, ylabel, adjustable
        self.update()

    def clear(self, note: str = "(no curve yet: Measure)") -> None:
        """Empty the plot, saying ``note`` where the curve would be."""
        self.empty_text = note
        self.set_curve([], [])

    @property
    def has_data(self) -> bool:
        return bool(self._valid().any())

    def _valid(self) -> np.ndarray:
        ok = np.isfinite(self.x) & np.isfinite(self.y)
        if self.log:
            ok &= (self.x > 0) & (self.y > 0)
        return ok

    # ------------------------------------------------------------------ geometry
    def _t(self, v: np.ndarray | float) -> Any:
        return np.log10(v) if self.log else v

    def _ranges(self) -> tuple[float, float, float, float]:
        ok = self._valid()
        xs, ys = self._t(self.x[ok]), self._t(self.y[ok])
        if self.model is not None:
            m = np.isfinite(self.model) & ok & ((self.model > 0) if self.log else True)
            ys = np.concatenate([ys, self._t(self.model[m])])
        x0, x1 = float(np.min(xs)), float(np.max(xs))
        y0, y1 = float(np.min(ys)), float(np.max(ys))
        if self.log:  # at most four decades: a near-zero point must not squash the curve
            x0, y0 = max(x0, x1 - 4.0), max(y0, y1 - 4.0)
        else:
            x0, y0 = min(x0, 0.0), min(y0, 0.0)
        dx, dy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
        return x0, x1 + 0.03 * dx, y0, y1 + 0.05 * dy

    def _plot_rect(self) -> QRectF:
        left, top, bottom, right = _MARGIN
        return QRectF(
            left, top + 14, max(self.width() - left - right, 10), max(self.height() - top - 14 - bottom, 10)
        )

    def to_pixel_x(self, value: float) -> float:
        """Where a data value lies along the x axis, in widget pixels."""
        x0, x1, _, _ = self._ranges()
        r = self._plot_rect()
        return r.left() + (float(self._t(value)) - x0) / (x1 - x0) * r.width()

    def to_data_x(self, px: float) -> float:
        """The data value under a widget x position."""
        x0, x1, _, _ = self._ranges()
        r = self._plot_rect()
        t = x0 + (px - r.left()) / r.width() * (x1 - x0)
        return float(10**t) if self.log else float(t)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fg = self.palette().color(self.foregroundRole())
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() - 1, 7))
        p.setFont(font)
        p.setPen(fg)
        p.drawText(QRectF(0, 0, self.width(), 16), Qt.AlignmentFlag.AlignCenter, self.title)
        if not self.has_data:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            p.end()
            return
        x0, x1, y0, y1 = self._ranges()
        r = self._plot_rect()

        def px(xv: np.ndarray) -> np.ndarray:
            return r.left() + (self._t(xv) - x0) / (x1 - x0) * r.width()

        def py(yv: np.ndarray) -> np.ndarray:
            return r.bottom() - (self._t(yv) - y0) / (y1 - y0) * r.height()

        if self.band is not None:
            lo = (
                r.left()
                if (self.log and self.band[0] <= 0)
                else max(float(px(np.array(self.band[0]))), r.left())
            )
            hi = min(float(px(np.array(self.band[1]))), r.right())
            if hi > lo:
                p.fillRect(QRectF(lo, r.top(), hi - lo, r.height()), QColor(80, 160, 255, 50))
                if self.adjustable:
                    p.setPen(QPen(QColor(80, 160, 255), 2, Qt.PenStyle.DashLine))
                    p.drawLine(QPointF(hi, r.top()), QPointF(hi, r.bottom()))
        p.setPen(QPen(fg, 1))
        p.drawRect(r)
        self._ticks(p, r, x0, x1, y0, y1)
        ok = self._valid()
        p.save()
        p.setClipRect(r.adjusted(-4, -4, 4, 4))
        if self.model is not None:
            m = ok & np.isfinite(self.model) & ((self.model > 0) if self.log else True)
            order = np.argsort(self.x[m])
            xs, ys = px(self.x[m][order]), py(self.model[m][order])
            if len(xs) >= 2:
                path = QPainterPath(QPointF(xs[0], ys[0]))
                for a, b in zip(xs[1:], ys[1:], strict=True):
                    path.lineTo(QPointF(a, b))
                p.setPen(QPen(QColor("#ff9f1c"), 1.5))
                p.drawPath(path)
        pts_x, pts_y = px(self.x[ok]), py(self.y[ok])
        for a, b, used in zip(pts_x, pts_y, self.used[ok], strict=True):
            p.setPen(QPen(QColor("#4e9fff"), 1.2))
            p.setBrush(QBrush(QColor("#4e9fff")) if used else Qt.BrushStyle.NoBrush)
            p.drawEllipse(QPointF(a, b), 3, 3)
        p.restore()
        p.setPen(fg)
        p.drawText(
            QRectF(r.left(), r.bottom() + 16, r.width(), 16), Qt.AlignmentFlag.AlignCenter, self.xlabel
        )
        p.save()
        p.translate(10, r.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-r.height() / 2, -8, r.height(), 16), Qt.AlignmentFlag.AlignCenter, self.ylabel)
        p.restore()
        p.end()

    def _ticks(self, p: QPainter, r: QRectF, x0: float, x1: float, y0: float, y1: float) -> None:
        for lo, hi, horizontal in ((x0, x1, True), (y0, y1, False)):
            for t in _nice_ticks(lo, hi, self.log):
                frac = (t - lo) / (hi - lo)
                text = _fmt(10**t if self.log else t)
                if horizontal:
                    x = r.left() + frac * r.width()
                    p.drawLine(QPointF(x, r.bottom()), QPointF(x, r.bottom() + 3))
                    p.drawText(QRectF(x - 30, r.bottom() + 2, 60, 14), Qt.AlignmentFlag.AlignCenter, text)
                else:
                    y = r.bottom() - frac * r.height()
                    p.drawLine(QPointF(r.left() - 3, y), QPointF(r.left(), y))
                    p.drawText(QRectF(0, y - 7, r.left() - 4, 14), Qt.AlignmentFlag.AlignRight, text)

    # ------------------------------------------------------------------ dragging the band's edge
    def _near_edge(self, x: float) -> bool:
        return (
            self.adjustable and self.band is not None and self.has_data
            and abs(x - self.to_pixel_x(self.band[1])) <= _GRAB_PX
        )  # fmt: skip

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton and self._near_edge(event.position().x()):
            self._dragging = True
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        x = event.position().x()
        if self._dragging and self.band is not None:
            r = self._plot_rect()
            self.band = (self.band[0], self.to_data_x(min(max(x, r.left()), r.right())))
            self.update()
            return
        shape = Qt.CursorShape.SizeHorCursor if self._near_edge(x) else Qt.CursorShape.ArrowCursor
        self.setCursor(shape)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        if self._dragging and self.band is not None:
            self._dragging = False
            self.range_dragged.emit(float(self.band[1]))
            return
        super().mouseReleaseEvent(event)


def _nice_ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        decades = list(range(math.ceil(lo), math.floor(hi) + 1))
        every = max(1, math.ceil(len(decades) / 5))
        return [float(k) for k in decades[::every]]
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 4)) if span > 0 else 1.0
    for m in (1, 2, 5, 10):
        if span / (m * step) <= 5:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step) + 1)]


def _fmt(v: float) -> str:
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e4 or a < 1e-2:
        return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")
    return f"{v:g}"

"""Small views in the docks that cost the GUI thread nothing: images are made in the worker (or
with a few numpy operations) and shown as pixmaps, never drawn by matplotlib on the GUI thread.

* :class:`ColourScale`: a layer's colour scale with its quantity and unit, following the layer's
  colormap and contrast limits as the user changes them (napari's own colour-bar overlay costs
  seconds to draw the first time under software OpenGL, so the dock carries it).
* :class:`ImageStrip`: titled images stacked vertically (bead projections, plots rendered in the worker).
* :class:`LinePlot`: a few curves drawn with QPainter when the plot is on screen (a matplotlib figure
  costs 150–250 ms to render, which a live update would wait for); in axes from 0 to 1, or in data
  units (``x_range``/``y_range``), as lines or as dots (``scatter``), with vertical markers.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen, QPixmap
from qtpy.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from microscope_qc.report.svg.colours import colour_table
from microscope_qc.widgets._psf_layers import mip_montage

__all__ = ["ColourScale", "ImageStrip", "LinePlot", "rgba_pixmap", "figure_rgba", "montage_rgba"]


def rgba_pixmap(rgba: np.ndarray) -> QPixmap:
    """A QPixmap of an (H, W, 4) uint8 array."""
    arr = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w, _ = arr.shape
    image = QImage(arr.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(image.copy())  # copy: the array may go away


def figure_rgba(fig: Any, dpi: float = 100) -> np.ndarray:
    """Render a matplotlib Figure (not pyplot) to RGBA with Agg: safe in a worker thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


@functools.lru_cache(maxsize=4)
def _lut(name: str = "magma") -> np.ndarray:
    """256 RGBA colours of the reports' colour table ``name`` (matplotlib's within 1/255), read-only.

    Not matplotlib itself: importing it on the GUI thread at a session's first result took about
    0.2 s (benchmarks/widgets.py, the first Measure of a session).
    """
    rgb = colour_table(name)
    lut = np.concatenate([rgb, np.full((rgb.shape[0], 1), 255, np.uint8)], axis=1)
    lut.flags.writeable = False
    return lut


def montage_rgba(
    volume: np.ndarray, voxel: tuple[float, float, float], width: int = 260, bar_um: float = 1.0
) -> np.ndarray:
    """XY | XZ | YZ maximum projections, magnified by a whole factor to about ``width`` pixels (to fit
    the dock), with a ``bar_um`` scale bar."""
    m = mip_montage(volume, voxel)
    zoom = max(1, width // max(m.shape[1], 1))
    rgba = _lut()[np.clip(np.nan_to_num(m) * 255, 0, 255).astype(np.uint8)]
    rgba = np.repeat(np.repeat(rgba, zoom, axis=0), zoom, axis=1)
    bar = int(round(bar_um / voxel[1] * zoom))
    if 0 < bar < rgba.shape[1] - 4:
        rgba[-6:-3, 3 : 3 + bar] = 255
    return rgba


class ColourScale(QWidget):
    """Gradient of a layer's colormap between its contrast limits, titled with quantity and unit."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel()
        self.bar = QLabel()
        self.bar.setFixedHeight(14)
        self.bar.setScaledContents(True)
        self.low, self.high = QLabel(), QLabel()
        self.high.setAlignment(Qt.AlignmentFlag.AlignRight)
        ends = QHBoxLayout()
        ends.setContentsMargins(0, 0, 0, 0)
        ends.addWidget(self.low)
        ends.addWidget(self.high)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(1)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addLayout(ends)
        self._layer = None
        self._title = ""

    def follow(self, layer: Any | None, title: str) -> None:
        """Show ``layer``'s scale now and whenever its colormap or limits change."""
        self._title = title
        if layer is not None and (self._layer is None or self._layer.unique_id != layer.unique_id):
            if self._layer is not None:
                for ev in (self._layer.events.contrast_limits, self._layer.events.colormap):
                    ev.disconnect(self.refresh)
            for ev in (layer.events.contrast_limits, layer.events.colormap):
                ev.connect(self.refresh)
        self._layer = layer
        self.refresh()

    def refresh(self, *_: Any) -> None:
        layer = self._layer
        self.setVisible(layer is not None)
        if layer is None:
            return
        colours = np.asarray(layer.colormap.map(np.linspace(0, 1, 256)))
        rgba = (np.clip(colours, 0, 1) * 255).astype(np.uint8)[None].repeat(8, axis=0)
        self.bar.setPixmap(rgba_pixmap(rgba))
        lo, hi = layer.contrast_limits
        self.low.setText(f"{lo:.4g}")
        self.high.setText(f"{hi:.4g}")
        self.title.setText(f"<small><b>{self._title}</b></small>")

    @property
    def limits_text(self) -> tuple[str, str]:
        return self.low.text(), self.high.text()


class ImageStrip(QWidget):
    """Titled images, one under the other."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.titles: list[str] = []

    def show_images(self, items: list[tuple[str, np.ndarray]]) -> None:
        while self._layout.count():
            w = self._layout.takeAt(0).widget()
            if w is not None:  # hide and detach now: deleteLater alone leaves it painted until then
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self.titles = [t for t, _ in items]
        for title, rgba in items:
            caption = QLabel(f"<small>{title}</small>")
            picture = QLabel()
            picture.setPixmap(rgba_pixmap(rgba))
            self._layout.addWidget(caption)
            self._layout.addWidget(picture)


class LinePlot(QWidget):
    """Curves ``(label, colour, x, y)`` in axes from 0 to 1 (NaN breaks a curve), with a legend.

    Only arrays are kept; Qt paints the plot when it is shown, in a few milliseconds.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = ""
        self.curves: list[tuple[str, str, np.ndarray, np.ndarray]] = []
        self.labels = ("", "")
        #: the data values at the axes' ends (the curves are then in data units)
        self.x_range: tuple[float, float] = (0.0, 1.0)
        self.y_range: tuple[float, float] = (0.0, 1.0)
        #: labels of the curves drawn as dots, not lines
        self.scatter: set[str] = set()
        #: vertical markers ``(label, colour, x)`` in data units (e.g. the end of warm-up)
        self.markers: list[tuple[str, str, float]] = []
        #: the legend under the axes (data-unit plots: many curves fill any corner), else over them
        self.legend_below = False
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_curves(
        self,
        title: str,
        curves: list[tuple[str, str, np.ndarray, np.ndarray]],
        x_label: str,
        y_label: str,
        *,
        x_range: tuple[float, float] | None = None,
        y_range: tuple[float, float] | None = None,
        scatter: tuple[str, ...] | set[str] = (),
        markers: list[tuple[str, str, float]] | None = None,
        data_units: bool = False,
    ) -> None:
        """Show ``curves``; with ``data_units`` (implied by the other keywords) they are in data
        units, the axes spanning ``x_range``/``y_range`` (``None``: the curves' extent, padded),
        else in 0–1 axes."""
        self.title, self.curves, self.labels = title, list(curves), (x_label, y_label)
        self.scatter, self.markers = set(scatter), list(markers or [])
        data_units = (
            data_units or x_range is not None or y_range is not None or bool(scatter) or bool(markers)
        )
        if data_units and self.curves:
            xs = [np.asarray(c[2], float) for c in self.curves] + [np.array([m[2] for m in self.markers])]
            ys = [np.asarray(c[3], float) for c in self.curves]
            self.x_range = x_range or _extent(np.concatenate([x.ravel() for x in xs]), 0.0)
            self.y_range = y_range or _extent(np.concatenate([y.ravel() for y in ys]), 0.05)
        else:
            self.x_range, self.y_range = (0.0, 1.0), (0.0, 1.0)
        self.legend_below = bool(data_units)
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() * 0.8, 6.0))
        rows = self._legend_rows() if self.legend_below else 0
        self.setMinimumHeight(200 + rows * QFontMetrics(small).height() + 4 * (rows > 0))
        self.update()

    def _legend_rows(self) -> int:
        n = sum(1 for c in self.curves if c[0]) + sum(1 for m in self.markers if m[0])
        return (n + 1) // 2

    def clear(self) -> None:
        self.set_curves("", [], "", "")

    def _to_unit(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return (np.asarray(x, float) - x0) / (x1 - x0), (np.asarray(y, float) - y0) / (y1 - y0)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if not self.curves:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.0))
        p.setFont(font)
        fm = p.fontMetrics()
        line = fm.height()
        unit_axes = self.x_range == (0.0, 1.0) and self.y_range == (0.0, 1.0)
        y_ticks = [self.y_range[0] + v * (self.y_range[1] - self.y_range[0]) for v in (0.0, 0.5, 1.0)]
        widest = "0.0" if unit_axes else max((_tick(y) for y in y_ticks), key=fm.horizontalAdvance)
        left, top = fm.horizontalAdvance(widest) + line + 6, line + 8
        below = self._legend_rows() * line + 4 if self.legend_below else 0
        box = QRectF(
            left,
            top,
            max(self.width() - left - 14, 10),
            max(self.height() - top - 2.2 * line - 6 - below, 10),
        )
        p.setPen(text)
        p.drawText(QRectF(0, 0, self.width(), line + 4), Qt.AlignmentFlag.AlignHCenter, self.title)
        p.drawRect(box)
        for v in (0.0, 0.5, 1.0):
            x = box.left() + v * box.width()
            y = box.bottom() - v * box.height()
            xv = self.x_range[0] + v * (self.x_range[1] - self.x_range[0])
            yv = self.y_range[0] + v * (self.y_range[1] - self.y_range[0])
            x_text, y_text = (f"{v:g}", f"{v:.1f}") if unit_axes else (_tick(xv), _tick(yv))
            p.drawLine(QPointF(x, box.bottom()), QPointF(x, box.bottom() + 3))
            p.drawLine(QPointF(box.left() - 3, y), QPointF(box.left(), y))
            p.drawText(QRectF(x - 30, box.bottom() + 3, 60, line), Qt.AlignmentFlag.AlignHCenter, x_text)
            p.drawText(QRectF(line, y - line / 2, left - line - 5, line), Qt.AlignmentFlag.AlignRight, y_text)
        p.drawText(
            QRectF(box.left(), box.bottom() + 3 + line, box.width(), line),
            Qt.AlignmentFlag.AlignHCenter,
            self.labels[0],
        )
        p.save()
        p.translate(2, box.center().y())
        p.rotate(-90)
        p.drawText(
            QRectF(-box.height() / 2, 0, box.height(), line), Qt.AlignmentFlag.AlignHCenter, self.labels[1]
        )
        p.restore()
        p.setClipRect(box.adjusted(-1, -1, 1, 1))
        for _label, colour, xm in self.markers:
            xu = self._to_unit(np.array([xm]), np.array([0.0]))[0][0]
            if np.isfinite(xu):
                p.setPen(QPen(QColor(colour), 1.2, Qt.PenStyle.DashLine))
                x = box.left() + xu * box.width()
                p.drawLine(QPointF(x, box.top()), QPointF(x, box.bottom()))
        entries = [(c[0], c[1], c[0] in self.scatter) for c in self.curves]
        entries += [(m[0], m[1], False) for m in self.markers]
        entries = [e for e in entries if e[0]]  # unlabelled curves (e.g. one per plateau) stay out
        for label, colour, x, y in self.curves:
            xs, ys = self._to_unit(x, y)
            if label in self.scatter:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(colour))
                for xv, yv in zip(xs, ys, strict=True):
                    if np.isfinite(xv) and np.isfinite(yv):
                        p.drawEllipse(
                            QPointF(box.left() + xv * box.width(), box.bottom() - yv * box.height()), 2.2, 2.2
                        )
                p.setBrush(Qt.BrushStyle.NoBrush)
                continue
            path = QPainterPath()
            pen_down = False
            for xv, yv in zip(xs, ys, strict=True):
                if not (np.isfinite(xv) and np.isfinite(yv)):
                    pen_down = False
                    continue
                point = QPointF(box.left() + xv * box.width(), box.bottom() - yv * box.height())
                path.lineTo(point) if pen_down else path.moveTo(point)
                pen_down = True
            p.setPen(QPen(QColor(colour), 1.4))
            p.drawPath(path)
        if self.legend_below:
            p.setClipping(False)
        for k, (label, colour, dots) in enumerate(entries):
            if self.legend_below:  # in two columns under the axis label, clear of the curves
                lx = box.left() + (k % 2) * box.width() / 2
                ly = box.bottom() + 3 + 2 * line + 2 + (k // 2) * line
            else:  # over the curves, bottom left
                lx, ly = box.left(), box.bottom() - 6 - (len(entries) - k) * line
            p.setPen(QPen(QColor(colour), 1.4 if not dots else 4.0))
            if dots:
                p.drawPoint(QPointF(lx + 13, ly + line / 2))
            else:
                p.drawLine(QPointF(lx + 6, ly + line / 2), QPointF(lx + 20, ly + line / 2))
            p.setPen(text)
            width = box.width() / 2 if self.legend_below else box.width()
            p.drawText(QRectF(lx + 24, ly, width - 28, line), Qt.AlignmentFlag.AlignLeft, label)
        p.end()


def _tick(value: float) -> str:
    """A tick label: whole numbers from 100 on, else three significant digits (no exponents in
    the usual ranges)."""
    if abs(value) >= 100 and abs(value) < 1e7:
        return f"{value:.0f}"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.3g}"


def _extent(values: np.ndarray, pad: float) -> tuple[float, float]:
    """The finite range of ``values``, widened by ``pad`` of its span (a flat range by ±0.5 or ±1 %)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo
    if span <= 0:
        span = abs(lo) * 0.02 or 1.0
        return lo - span / 2, hi + span / 2
    return lo - pad * span, hi + pad * span

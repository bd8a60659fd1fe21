"""Small views in the docks that cost the GUI thread nothing: images are made in the worker (or
with a few numpy operations) and shown as pixmaps, never drawn by matplotlib on the GUI thread.

* :class:`ColourScale`: a layer's colour scale with its quantity and unit, following the layer's
  colormap and contrast limits as the user changes them (napari's own colour-bar overlay costs
  seconds to draw the first time under software OpenGL, so the dock carries it).
* :class:`ImageStrip`: titled images stacked vertically (bead projections, plots rendered in the worker).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from microscope_qc.widgets._psf_layers import mip_montage

__all__ = ["ColourScale", "ImageStrip", "rgba_pixmap", "figure_rgba", "montage_rgba"]


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


def _lut(name: str = "magma") -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0, 1, 256)) * 255).astype(np.uint8)


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

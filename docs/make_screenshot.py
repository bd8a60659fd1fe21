"""Regenerate the README screenshots (run under a display: ``xvfb-run -a python docs/make_screenshot.py``)."""

from __future__ import annotations

from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from microscope_qc.samples import napari_flat_field_misaligned, napari_psf_aberrated
from microscope_qc.widgets.field import FieldWidget
from microscope_qc.widgets.psf import PSFWidget

IMAGES = Path(__file__).parent / "images"


def _wait(widget) -> None:
    app = QApplication.instance()
    while widget.task.running:
        app.processEvents()
    for _ in range(20):
        app.processEvents()


def psf() -> None:
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)  # window size only; there is no public API for it
    data, kwargs, _ = napari_psf_aberrated()[0]
    layer = viewer.add_image(data, **kwargs)
    widget = PSFWidget(viewer)
    viewer.window.add_dock_widget(widget, name="PSF / resolution", area="right")
    widget.measure()
    _wait(widget)
    viewer.layers["PSF map fwhm_x_um"].visible = True
    viewer.layers["PSF map fwhm_x_um"].opacity = 0.45
    viewer.layers.selection.active = layer
    viewer.dims.set_point(0, float(widget.result.beads["z_um"].median()))
    layer.contrast_limits = (100, 300)
    viewer.reset_view()
    _wait(widget)
    viewer.screenshot(str(IMAGES / "psf_widget.png"), canvas_only=False)
    viewer.close()


def field() -> None:
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    for data, kwargs, _ in napari_flat_field_misaligned():
        viewer.add_image(data, **kwargs)
    widget = FieldWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Field illumination", area="right")
    widget.measure()
    _wait(widget)
    viewer.reset_view()
    _wait(widget)
    viewer.screenshot(str(IMAGES / "field_widget.png"), canvas_only=False)
    viewer.close()


if __name__ == "__main__":
    IMAGES.mkdir(parents=True, exist_ok=True)
    psf()
    field()
    print(f"wrote screenshots to {IMAGES}")

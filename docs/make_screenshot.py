"""Regenerate docs/images/psf_widget.png (run under a display, e.g. ``xvfb-run -a python docs/make_screenshot.py``)."""

from __future__ import annotations

from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from microscope_qc.samples import napari_psf_aberrated
from microscope_qc.widgets.psf import PSFWidget

OUT = Path(__file__).parent / "images" / "psf_widget.png"


def main() -> None:
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)  # window size only; no API for it
    data, kwargs, _ = napari_psf_aberrated()[0]
    layer = viewer.add_image(data, **kwargs)
    widget = PSFWidget(viewer)
    viewer.window.add_dock_widget(widget, name="PSF / resolution", area="right")
    widget.measure()
    app = QApplication.instance()
    while widget.task.running:
        app.processEvents()
    viewer.layers["PSF map fwhm_x_um"].visible = True
    viewer.layers["PSF map fwhm_x_um"].opacity = 0.45
    viewer.layers.selection.active = layer
    viewer.dims.set_point(0, float(widget.result.beads["z_um"].median()))
    layer.contrast_limits = (100, 300)
    widget.table.selectRow(0)
    viewer.reset_view()
    for _ in range(20):
        app.processEvents()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(OUT), canvas_only=False)
    print(f"wrote {OUT}")
    viewer.close()


if __name__ == "__main__":
    main()

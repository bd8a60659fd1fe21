"""Regenerate the screenshots in README.md and docs/workshop.md from a real napari window.

Run under a display: ``xvfb-run -a -s "-screen 0 1600x1000x24" python docs/make_screenshot.py``.
Widgets are opened the way napari's menu opens them (``add_plugin_dock_widget``) and driven by
clicking their buttons.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import napari
import numpy as np

IMAGES = Path(__file__).parent / "images"
PLUGIN = "napari-microscope-qc"


def _pump(widget=None, seconds: float = 0.6) -> None:
    app = napari.qt.get_qapp()
    while widget is not None and widget.busy:
        app.processEvents()
        time.sleep(0.005)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.005)


def _viewer() -> napari.Viewer:
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    return viewer


def _shot(viewer, name: str) -> None:
    _pump()
    viewer.screenshot(str(IMAGES / name), canvas_only=False)
    print("wrote", IMAGES / name)


def psf_workshop() -> None:
    """The workshop sequence: open the sample, detect, measure, select a bead, export."""
    viewer = _viewer()
    viewer.open_sample(PLUGIN, "psf-aberrated")
    image = viewer.layers[-1]
    dock, w = viewer.window.add_plugin_dock_widget(PLUGIN, "PSF / resolution (beads)")
    image.contrast_limits = (100, 300)
    _shot(viewer, "workshop_1_open.png")
    w.detect_button.click()
    _pump(w)
    viewer.layers.selection.active = image
    _shot(viewer, "workshop_2_detect.png")
    w.measure_button.click()
    _pump(w)
    viewer.dims.set_point(0, float(w.result.beads["z_um"].median()))
    _shot(viewer, "workshop_3_measure.png")
    w.tabs.setCurrentIndex(1)  # the bead table
    w.table.selectRow(5)
    viewer.scene.camera.zoom = viewer.scene.camera.zoom * 3
    _pump(w)
    w.tabs.setCurrentIndex(2)  # its projections beside the average
    w.splitter.setSizes([250, 750])  # the user drags the splitter to give the results room
    _shot(viewer, "workshop_4_select.png")
    w.tabs.setCurrentIndex(0)
    w.splitter.setSizes([550, 450])
    with tempfile.TemporaryDirectory() as folder:
        w.export(Path(folder) / "psf results")
        _shot(viewer, "workshop_5_export.png")
    # the README picture: the FWHM map shown under the beads, its colour scale in the dock
    viewer.reset_view()
    fwhm = w.layers.find("map ch0")
    fwhm.visible = True
    fwhm.opacity = 0.5
    w.tabs.setCurrentIndex(4)
    viewer.layers.selection.active = image
    _shot(viewer, "psf_widget.png")
    viewer.close()


def field() -> None:
    viewer = _viewer()
    viewer.open_sample(PLUGIN, "flat-field-misaligned")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Field illumination / flatness")
    w.run_button.click()
    _pump(w)
    w.exclude_button.click()
    h, wd = viewer.layers["synthetic flat (misaligned)"].data.shape
    w.layers.find("roi exclude").add_rectangles(np.array([[h * 0.78, wd * 0.02], [h * 0.98, wd * 0.3]]))
    _pump(w, 1.0)
    _pump(w)
    w.tabs.setCurrentIndex(3)  # legend
    viewer.layers.selection.active = viewer.layers["synthetic flat (misaligned)"]
    _shot(viewer, "field_widget.png")
    viewer.close()


def coregistration() -> None:
    viewer = _viewer()
    viewer.open_sample(PLUGIN, "two-colour-beads")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Chromatic co-registration")
    w.run_button.click()
    _pump(w)
    w.tabs.setCurrentIndex(1)
    _pump(w)
    _shot(viewer, "coregistration_widget.png")
    viewer.close()


def workshop_gallery() -> None:
    """The workshop's faulty instruments: spherical aberration (PSF) and an off-centre lamp (field)."""
    viewer = _viewer()
    viewer.open_sample(PLUGIN, "psf-spherical-water")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "PSF / resolution (beads)")
    w.measure_button.click()
    _pump(w)
    viewer.dims.set_point(0, float(w.result.beads["z_um"].median()))
    w.splitter.setSizes([200, 800])  # room for the summary and its findings
    w.findings_box.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(w.findings_box)
    _shot(viewer, "workshop_spherical.png")
    viewer.close()

    viewer = _viewer()
    viewer.open_sample(PLUGIN, "field-off-centre")
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Field illumination / flatness")
    w.run_button.click()
    _pump(w)
    viewer.reset_view()
    w.splitter.setSizes([200, 800])
    w.findings_box.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(w.findings_box)
    _shot(viewer, "workshop_field_off_centre.png")
    viewer.close()


def quiz() -> None:
    """The workshop quiz after a reveal: the first faulty sample of the gallery, answered right."""
    from microscope_qc.quiz import gallery

    faulty = [k for k, (_, s) in gallery().items() if s.faults]
    if not faulty:
        print("skipped quiz_widget.png: the gallery has no faulty sample with an explanation")
        return
    viewer = _viewer()
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Workshop quiz")
    w.new_sample(faulty[0])
    _pump(w)
    w.pick(*w._round.truth)
    w.check_button.click()
    _pump(w)
    _shot(viewer, "quiz_widget.png")
    viewer.close()


if __name__ == "__main__":
    IMAGES.mkdir(parents=True, exist_ok=True)
    psf_workshop()
    field()
    coregistration()
    workshop_gallery()
    quiz()

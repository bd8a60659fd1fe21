"""The PSF widget driven headless: detect, edit, measure, overlays, table navigation, export."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget


@pytest.fixture
def viewer_with_sample(make_napari_viewer):
    from microscope_qc.samples import napari_psf_beads

    viewer = make_napari_viewer()
    data, kwargs, _ = napari_psf_beads()[0]
    layer = viewer.add_image(data, **kwargs)
    return viewer, layer


def _wait(qtbot, widget, timeout=60000):
    qtbot.waitUntil(lambda: not widget.task.running, timeout=timeout)


def test_prefill_from_sample_metadata(viewer_with_sample):
    from microscope_qc.widgets.psf import PSFWidget

    viewer, layer = viewer_with_sample
    w = PSFWidget(viewer)
    assert w.layer_combo.value is layer
    assert float(w.na.value) == pytest.approx(1.4)
    assert float(w.voxel_z.value) == pytest.approx(0.15)
    assert w.modality.value == "widefield"
    s = w.settings()
    assert s.microscope.source_of("na").source == "file"
    w.na.value = "1.3"
    assert w.settings().microscope.source_of("na").source == "user"


def test_detect_edit_measure_export(viewer_with_sample, qtbot, tmp_path):
    from microscope_qc.widgets.psf import POSITIONS_LAYER, PSFWidget

    viewer, layer = viewer_with_sample
    w = PSFWidget(viewer)
    w.detect()
    _wait(qtbot, w)
    pts = viewer.layers[POSITIONS_LAYER]
    truth = layer.metadata["truth"]
    assert len(pts.data) == len(truth)
    # the user deletes one bead: it must not be measured
    pts.data = pts.data[1:]
    w.measure()
    assert w.task.running  # ran in a worker, the GUI thread returned at once
    _wait(qtbot, w)
    assert w.result is not None
    assert len(w.result.beads) == len(truth) - 1
    names = [lyr.name for lyr in viewer.layers]
    assert "PSF beads" in names and "PSF fit model" in names
    assert any(n.startswith("PSF map fwhm_z_um") for n in names)
    assert "PSF averaged bead" in names
    beads_layer = viewer.layers["PSF beads"]
    assert "fwhm_x_um" in beads_layer.features.columns
    assert len(beads_layer.features) == len(truth) - 1
    model = viewer.layers["PSF fit model"].data
    assert model.shape == layer.data.shape
    # the fitted model reproduces the data near a bead
    row = w.result.beads.iloc[0]
    z, y, x = (int(round(row[k])) for k in ("z_px", "y_px", "x_px"))
    data_patch = layer.data[z, y - 3 : y + 4, x - 3 : x + 4].astype(float)
    model_patch = model[z, y - 3 : y + 4, x - 3 : x + 4]
    assert np.corrcoef(data_patch.ravel(), model_patch.ravel())[0, 1] > 0.95
    assert w.table.rowCount() == len(truth) - 1
    # selecting a row centres the view on that bead
    w.table.selectRow(3)
    bead_id = int(w.table.item(3, 0).text())
    bead = w.result.beads.set_index("bead_id").loc[bead_id]
    assert viewer.scene.camera.center[-1] == pytest.approx(bead["x_um"], abs=1e-6)
    assert viewer.dims.point[0] == pytest.approx(bead["z_um"], abs=0.2)
    # export writes the CLI's files and never overwrites silently
    paths = w.export(tmp_path / "out")
    doc = json.loads(paths["json"].read_text())
    assert doc["measurement"] == "psf" and doc["input"]["sha256"]
    assert (tmp_path / "out" / "beads.csv").exists() and (tmp_path / "out" / "report.html").exists()
    before = paths["json"].read_bytes()
    asked = []
    w.confirm_overwrite = lambda msg: asked.append(msg) or False
    assert w.export(tmp_path / "out") is None
    assert asked and paths["json"].read_bytes() == before


def test_cancel_leaves_no_result(viewer_with_sample, qtbot):
    from microscope_qc.widgets.psf import PSFWidget

    viewer, _ = viewer_with_sample
    w = PSFWidget(viewer)
    w.task._cancel.set()  # cancel requested before the first check point
    w.measure()
    w.task.cancel()
    _wait(qtbot, w)
    assert w.result is None
    assert "Cancel" in w.status.text()


def test_bad_input_reports_error(make_napari_viewer, qtbot):
    from microscope_qc.widgets.psf import PSFWidget

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), dtype=np.uint16), name="flat 2D")
    w = PSFWidget(viewer)
    for f in (w.voxel_z, w.voxel_y, w.voxel_x):
        f.value = "0.1"
    w.measure()
    _wait(qtbot, w)
    assert "z-stack" in w.status.text()
    assert w.result is None


def test_plugin_widget_opens_from_napari_and_sits_in_layers_measure(make_napari_viewer):
    from npe2 import PluginManager

    from microscope_qc.widgets.psf import PSFWidget

    pm = PluginManager.instance()
    if "napari-microscope-qc" not in pm:
        pm.discover()
    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("napari-microscope-qc", "PSF / resolution (beads)")
    assert isinstance(widget, PSFWidget)
    # the Layers > Measure submenu lists the widget (napari's app-model menus; test-only probe)
    from napari._app_model import get_app_model

    items = get_app_model().menus.get_menu("napari/layers/measure")
    ids = {getattr(getattr(i, "command", None), "id", "") for i in items}
    assert any(i.startswith("napari-microscope-qc.") for i in ids), ids


def test_sample_data_opens_from_napari(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-microscope-qc", "psf-beads")
    assert viewer.layers[-1].data.ndim == 3
    assert viewer.layers[-1].scale[-1] == pytest.approx(0.065)


def test_rerun_updates_layers_instead_of_adding(viewer_with_sample, qtbot):
    from microscope_qc.widgets.psf import PSFWidget

    viewer, _ = viewer_with_sample
    w = PSFWidget(viewer)
    w.use_positions.value = False
    w.measure()
    _wait(qtbot, w)
    n_layers = len(viewer.layers)
    viewer.layers["PSF map fwhm_x_um"].visible = True
    w.method.value = "metroloj"
    w.measure()
    _wait(qtbot, w)
    assert len(viewer.layers) == n_layers
    assert viewer.layers["PSF map fwhm_x_um"].visible  # the user's choice survives a re-run
    assert w.result.settings["method"].value == "metroloj"


def test_reader_opens_ome_tiff_with_scale_and_prefills(make_napari_viewer):
    from pathlib import Path

    from microscope_qc.widgets.psf import PSFWidget

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "synthetic_beads.ome.tif"
    viewer = make_napari_viewer()
    layers = viewer.open(str(sample), plugin="napari-microscope-qc")
    layer = layers[0]
    assert layer.data.shape == (48, 320, 320)
    assert tuple(layer.scale) == pytest.approx((0.15, 0.065, 0.065))
    w = PSFWidget(viewer)
    assert float(w.na.value) == 1.4  # from the OME metadata, through the layer's source path
    assert w.settings().microscope.source_of("na").detail == "OME Objective.LensNA"

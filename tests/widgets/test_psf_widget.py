"""The PSF widget as users meet it: opened from napari's menu (a viewer proxy), buttons clicked,
layers updated in place, stale inputs refused, no stalls, every control reachable."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "PSF / resolution (beads)"


@pytest.fixture
def viewer_with_sample(make_napari_viewer):
    from microscope_qc.samples import napari_psf_beads

    viewer = make_napari_viewer()
    data, kwargs, _ = napari_psf_beads()[0]
    layer = viewer.add_image(data, **kwargs)
    return viewer, layer


def test_prefill_from_sample_metadata(viewer_with_sample, ui):
    viewer, layer = viewer_with_sample
    _, w = ui.open_dock(viewer, NAME)
    assert w.layer_combo.value.name == layer.name
    assert float(w.na.value) == pytest.approx(1.4)
    assert float(w.voxel_z.value) == pytest.approx(0.15)
    assert w.modality.value == "widefield"
    assert "Pick" not in w.status.text()  # an image is picked: no "pick one" hint
    s = w.settings()
    assert s.microscope.source_of("na").source == "file"
    w.na.value = "1.3"
    assert w.settings().microscope.source_of("na").source == "user"


def test_detect_edit_measure_select_export(viewer_with_sample, qtbot, tmp_path, ui):
    from microscope_qc.widgets.psf import PSFWidget

    viewer, layer = viewer_with_sample
    _, w = ui.open_dock(viewer, NAME)
    assert isinstance(w, PSFWidget)
    ui.click(qtbot, w.detect_button)
    ui.wait_idle(qtbot, w)
    pts = w.layers.find("positions")
    truth = layer.metadata["truth"]
    assert len(pts.data) == len(truth)
    # the user deletes one bead: it must not be measured
    pts.data = pts.data[1:]
    ui.click(qtbot, w.measure_button)
    assert w.task.running  # ran in a worker, the GUI thread returned at once
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    assert len(w.result.beads) == len(truth) - 1
    beads_layer = w.layers.find("beads ch0")
    assert "fwhm_x_um" in beads_layer.features.columns and len(beads_layer.features) == len(truth) - 1
    model = w.layers.find("model ch0").data
    assert model.shape == layer.data.shape
    row = w.result.beads.iloc[0]
    z, y, x = (int(round(row[k])) for k in ("z_px", "y_px", "x_px"))
    data_patch = layer.data[z, y - 3 : y + 4, x - 3 : x + 4].astype(float)
    assert np.corrcoef(data_patch.ravel(), model[z, y - 3 : y + 4, x - 3 : x + 4].ravel())[0, 1] > 0.95
    assert w.table.rowCount() == len(truth) - 1
    # headers are human, with units; the file names stay in the tooltips
    headers = w.table.headers()
    assert any("µm" in h for h in headers), headers
    assert not any("_" in h.replace("MetroloJ_QC", "") for h in headers), headers
    # selecting a row centres the view on that bead, highlights it and shows its projections
    w.table.selectRow(3)
    bead_id = int(w.table.source.value(w.table.frame_row(3), "bead_id"))
    bead = w.result.beads.set_index("bead_id").loc[bead_id]
    assert viewer.scene.camera.center[-1] == pytest.approx(bead["x_um"], abs=1e-6)
    assert viewer.dims.point[0] == pytest.approx(bead["z_um"], abs=0.2)
    points = w.layers.find("beads ch0")
    hit = int(np.flatnonzero(points.features["bead_id"] == bead_id)[0])
    assert points.selected_data == {hit}
    np.testing.assert_allclose(points.border_color[hit], [0.0, 0.9, 1.0, 1.0])  # highlighted in cyan
    assert points.size[hit] > np.median(points.size)
    assert len(w.bead_views.titles) == 2 and f"bead {bead_id}" in w.bead_views.titles[0]
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
    assert "--" not in asked[0]  # the question names no command-line flag


def test_rerun_updates_layers_in_place_and_keeps_display_choices(viewer_with_sample, qtbot, ui):
    viewer, _ = viewer_with_sample
    _, w = ui.open_dock(viewer, NAME)
    w.use_positions.value = False
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    ids = {lyr.unique_id: lyr.name for lyr in viewer.layers}
    fwhm_map = w.layers.find("map ch0")
    fwhm_map.visible = True
    fwhm_map.opacity = 0.33
    fwhm_map.colormap = "magma"
    beads = w.layers.find("beads ch0")
    beads.opacity = 0.5
    w.method.value = "metroloj"
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    assert {lyr.unique_id: lyr.name for lyr in viewer.layers} == ids  # same layers, same order, nothing added
    fwhm_map = w.layers.find("map ch0")
    assert fwhm_map.visible and fwhm_map.opacity == pytest.approx(0.33) and fwhm_map.colormap.name == "magma"
    assert w.layers.find("beads ch0").opacity == pytest.approx(0.5)
    assert w.result.settings["method"].value == "metroloj"


def test_overlays_read_without_explanation(viewer_with_sample, qtbot, ui):
    viewer, layer = viewer_with_sample
    _, w = ui.open_dock(viewer, NAME)
    w.use_positions.value = False
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    fwhm_map = w.layers.find("map ch0")
    assert fwhm_map.name == "PSF map: Lateral FWHM x (µm)"
    # its colour scale, with quantity and unit, is in the dock and follows the layer's limits
    assert "Lateral FWHM x (µm)" in w.colour_scale.title.text()
    fwhm_map.contrast_limits = (0.1, 0.4)
    assert w.colour_scale.limits_text == ("0.1", "0.4")
    # another quantity: the same layer, its data and title change
    uid = fwhm_map.unique_id
    w.map_choice.value = "fwhm_z_um"
    fwhm_map = w.layers.find("map ch0")
    assert fwhm_map.unique_id == uid and "Axial FWHM z (µm)" in fwhm_map.name
    np.testing.assert_array_equal(fwhm_map.data, w.result.channels[0].maps["fwhm_z_um"])
    assert "Axial FWHM z (µm)" in w.colour_scale.title.text()
    # maps under the bead markers
    order = [lyr.unique_id for lyr in viewer.layers]
    assert order.index(fwhm_map.unique_id) < order.index(w.layers.find("beads ch0").unique_id)
    # the averaged bead's projections are in the dock, at a readable size, in µm
    assert any("average of" in t for t in w.bead_views.titles)
    assert all("_" not in lyr.name for lyr in viewer.layers if lyr.name.startswith("PSF"))


def test_another_image_does_not_reuse_positions_or_results(make_napari_viewer, qtbot, ui):
    from microscope_qc.samples import napari_psf_aberrated, napari_psf_beads

    viewer = make_napari_viewer()
    first = viewer.add_image(napari_psf_beads()[0][0], **napari_psf_beads()[0][1])
    data, kwargs, _ = napari_psf_aberrated()[0]
    second = viewer.add_image(data, **kwargs)
    _, w = ui.open_dock(viewer, NAME)
    w.layer_combo.value = viewer.layers[first.name]
    ui.click(qtbot, w.detect_button)
    ui.wait_idle(qtbot, w)
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    assert w.export_button.isEnabled()
    # the user switches to the other stack: the first one's results and positions stop looking current
    w.layer_combo.value = viewer.layers[second.name]
    assert not w.export_button.isEnabled() and w.summary.text() == "" and w.table.rowCount() == 0
    stale = w.layers.find("beads ch0")
    assert not stale.visible and first.name in stale.name
    assert not w.layers.find("positions").visible
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    accepted = (w.result.beads["status"] == "accepted").sum()
    assert accepted >= 0.8 * len(second.metadata["truth"]), w.status.text()
    assert w.layers.find("beads ch0").visible and w.layers.find("beads ch0").name.startswith("PSF beads")
    # the results are drawn above the image they now belong to, not hidden under it
    order = [lyr.unique_id for lyr in viewer.layers]
    for role in ("beads ch0", "map ch0"):
        assert order.index(w.layers.find(role).unique_id) > order.index(second.unique_id), role
    # the map's colour range follows the new numbers (the user had not changed it)
    from microscope_qc.widgets._psf_layers import map_limits

    fwhm_map = w.layers.find("map ch0")
    assert tuple(fwhm_map.contrast_limits) == pytest.approx(
        map_limits(w.result.channels[0].maps["fwhm_x_um"])
    )


def test_failed_run_clears_the_previous_result_and_names_the_field(viewer_with_sample, qtbot, ui):
    viewer, _ = viewer_with_sample
    _, w = ui.open_dock(viewer, NAME)
    w.use_positions.value = False
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    assert "PASS" in w.summary.text() and w.export_button.isEnabled()
    w.na.value = "1.4x"
    ui.click(qtbot, w.measure_button)
    assert "'NA'" in w.status.text() and "1.4x" in w.status.text()
    w.na.value = "1.4"
    for f in (w.voxel_z, w.voxel_y, w.voxel_x):
        f.value = ""
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    text = w.status.text()
    assert "voxel" in text and "--" not in text, text
    assert w.summary.text() == "" and not w.export_button.isEnabled() and w.result is None
    assert not w.layers.find("beads ch0").visible  # the previous run's overlays no longer pass for current


def test_cancel_leaves_no_result(viewer_with_sample, qtbot, ui):
    viewer, _ = viewer_with_sample
    _, w = ui.open_dock(viewer, NAME)
    w.task._cancel.set()  # cancel requested before the first check point
    w.measure()
    w.task.cancel()
    ui.wait_idle(qtbot, w)
    assert w.result is None
    assert "Cancel" in w.status.text()


def test_bad_input_reports_error(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), dtype=np.uint16), name="flat 2D")
    _, w = ui.open_dock(viewer, NAME)
    for button in (w.detect_button, w.measure_button):  # with or without voxel sizes: the real problem
        ui.click(qtbot, button)
        ui.wait_idle(qtbot, w)
        assert "'flat 2D' is a single plane" in w.status.text() and "find_beads" not in w.status.text()
    for f in (w.voxel_z, w.voxel_y, w.voxel_x):
        f.value = "0.1"
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    assert "z-stack" in w.status.text()
    assert w.result is None
    w.bead_diameter_um.value = "-1"
    viewer.add_image(np.zeros((8, 64, 64), dtype=np.uint16), name="stack", scale=(0.2, 0.1, 0.1))
    w.layer_combo.value = viewer.layers["stack"]
    w.bead_diameter_um.value = "-1"
    ui.click(qtbot, w.measure_button)
    ui.wait_idle(qtbot, w)
    assert "bead diameter" in w.status.text() and "µm" in w.status.text()


def test_no_event_loop_stall_while_measuring_and_redrawing(viewer_with_sample, qtbot, ui):
    """While the analysis runs, and when a re-run redraws its layers, the viewer never stalls > 100 ms.

    The very first draw adds new layers, and napari's own cost of adding a layer (its controls and
    visual, ~100–300 ms each under software OpenGL) is outside the widget's reach; benchmarks/widgets.py
    reports it. A shared CI machine can pause any process now and then, so each phase gets three tries:
    a widget that blocks the event loop fails all three.
    """
    viewer, _ = viewer_with_sample
    _, w = ui.open_dock(viewer, NAME)
    w.use_positions.value = False
    analysing, redrawing = [], []
    for k in range(3):
        with ui.Heartbeat() as beat:
            ui.click(qtbot, w.measure_button)
            qtbot.waitUntil(lambda: not w.task.running, timeout=90000)  # the analysis, in the worker
        analysing.append(beat.longest_stall_ms)
        ui.wait_idle(qtbot, w)
        w.threshold.value = 7.0 + k  # new numbers: every layer gets new data
        with ui.Heartbeat() as beat:
            ui.click(qtbot, w.measure_button)
            ui.wait_idle(qtbot, w)
        redrawing.append(beat.longest_stall_ms)
        assert w.result is not None and w.result.settings["detection_threshold_sigma"].value == 7.0 + k
        if min(analysing) <= 100 and min(redrawing) <= 100:
            break
    assert min(analysing) <= 100, f"the viewer froze during the analysis: {analysing} ms"
    assert min(redrawing) <= 100, f"the viewer froze on re-runs: {redrawing} ms"


def test_dock_fits_a_small_window_with_every_control_reachable(viewer_with_sample, qtbot, ui):
    from qtpy.QtWidgets import QScrollArea

    viewer, _ = viewer_with_sample
    dock, w = ui.open_dock(viewer, NAME)
    window = dock.window()
    window.resize(1280, 800)
    w.history_options.record.value = True  # shows more fields: must not push anything off screen
    qtbot.wait(50)
    assert dock.minimumSizeHint().height() <= 700
    assert w.splitter.widget(0) is w.form_area and isinstance(w.form_area, QScrollArea)
    for field in (w.layer_combo, w.threshold, w.use_positions, w.history_options.location):
        assert w.form_area.widget().isAncestorOf(field.native)
    assert dock.height() <= window.height()


def test_plugin_widget_sits_in_layers_measure(make_napari_viewer, ui):
    viewer = make_napari_viewer()
    ui.open_dock(viewer, NAME)
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


def test_reader_opens_ome_tiff_with_scale_and_prefills(make_napari_viewer, ui):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_data" / "synthetic_beads.ome.tif"
    viewer = make_napari_viewer()
    layer = viewer.open(str(sample), plugin="napari-microscope-qc")[0]
    assert layer.data.shape == (48, 320, 320)
    assert tuple(layer.scale) == pytest.approx((0.15, 0.065, 0.065))
    _, w = ui.open_dock(viewer, NAME)
    assert float(w.na.value) == 1.4  # from the OME metadata, through the layer's source path
    assert w.settings().microscope.source_of("na").detail == "OME Objective.LensNA"

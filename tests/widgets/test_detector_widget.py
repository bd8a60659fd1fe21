"""The detector widget as users meet it: opened from napari's menu on a camera sample opened from
File ▸ Open Sample, measured, its fit range dragged, regions drawn, exported like the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Detector performance"
PLUGIN = "napari-microscope-qc"


@pytest.fixture
def scmos(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "detector-scmos")
    return viewer


def _shown(widget) -> bool:
    """Not hidden by the widget (the dock itself may not be on screen in a test)."""
    return not widget.native.isHidden()


def _metric(result, name):
    return result.metric(name, channel=None).value


def test_emva_measure_layers_summary_curves_fit_range_and_export(scmos, qtbot, tmp_path, ui):
    viewer = scmos
    _, w = ui.open_dock(viewer, NAME)
    layer = viewer.layers[0]
    truth = layer.metadata["microscope_qc_detector"]["truth"]
    assert [x.name for x in w.frames.value] == [layer.name]  # the multi-frame layer is picked
    assert _shown(w.frame_table) and not _shown(w.darks) and w.regions_button.isHidden()
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None and r.mode == "emva"
    # the summary numbers against the sample's truth (the frame table came from the layer's metadata)
    assert _metric(r, "system_gain_dn_per_e") == pytest.approx(truth["system_gain_dn_per_e"], rel=0.03)
    assert _metric(r, "dark_noise_e") == pytest.approx(truth["read_noise_e"], rel=0.1)
    assert _metric(r, "quantum_efficiency_percent") == pytest.approx(
        100 * truth["quantum_efficiency"], rel=0.05
    )
    assert "Conversion gain" in w.summary.text() or "conversion gain" in w.summary.text().lower()
    assert f"{_metric(r, 'conversion_gain_e_per_dn'):.4g}" in w.summary.text()
    # maps as image layers, drawn on the frames
    roles = set(w.layers.roles())
    assert {"map dsnu_map", "map prnu_map", "map dark_noise_map"} <= roles
    dsnu = w.layers.find("map dsnu_map")
    assert dsnu.data.shape == layer.data.shape[-2:] and "DSNU" in dsnu.name
    assert w.table.rowCount() == len(r.metrics)
    # curves in the dock with the fit range shaded
    assert w.ptc_plot.has_data and w.ptc_plot.band == pytest.approx(r.fit_ranges["gain"])
    assert w.snr_plot.has_data
    # the user's display choice survives a re-run; dragging the band's edge re-runs the fit
    dsnu.opacity = 0.5
    ids = [x.unique_id for x in viewer.layers]
    old_hi = r.fit_ranges["gain"][1]
    w.ptc_plot.range_dragged.emit(old_hi * 40 / 70)
    assert w.analysis["gain_fit_max_percent"].value == pytest.approx(40.0, abs=0.2)
    assert w.busy
    ui.wait_idle(qtbot, w)
    assert w.result is not r
    assert w.result.fit_ranges["gain"][1] == pytest.approx(old_hi * 40 / 70, rel=0.01)
    assert int(w.result.tables["photon_transfer"]["in_gain_fit"].sum()) < int(
        r.tables["photon_transfer"]["in_gain_fit"].sum()
    )
    assert w.ptc_plot.band == pytest.approx(w.result.fit_ranges["gain"])
    assert [x.unique_id for x in viewer.layers] == ids and w.layers.find("map dsnu_map").opacity == 0.5
    # export writes what the CLI writes, and never overwrites silently
    paths = w.export(tmp_path / "out")
    assert paths is not None
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"results.json", "report.html", "photon_transfer.csv", "dark_levels.csv", "spatial.csv"} <= names
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["measurement"] == "detector"
    assert doc["settings"]["frame_table"]["value"] == "the layer's metadata"
    w.confirm_overwrite = lambda message: False
    assert w.export(tmp_path / "out") is None
    assert "kept" in w.status.text()


def test_export_matches_the_command_line(scmos, qtbot, tmp_path, ui):
    from microscope_qc.cli import main

    viewer = scmos
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    w.export(tmp_path / "widget")
    assert main(["sample", "detector-scmos", str(tmp_path / "s.ome.tif")]) == 0
    assert main(["detector", str(tmp_path / "s.ome.tif"), "--out", str(tmp_path / "cli")]) == 0
    cli_dir = next(p for p in (tmp_path / "cli").rglob("results.json")).parent
    widget_files = sorted(p.name for p in (tmp_path / "widget").iterdir())
    assert widget_files == sorted(p.name for p in cli_dir.iterdir())
    a = json.loads((tmp_path / "widget" / "results.json").read_text())
    b = json.loads((cli_dir / "results.json").read_text())
    va = {k: m["value"] for k, m in a["metrics"].items()}
    vb = {k: m["value"] for k, m in b["metrics"].items()}
    assert va.keys() == vb.keys()
    for k in va:
        assert (va[k] is None and vb[k] is None) or va[k] == pytest.approx(vb[k], rel=1e-9), k
    assert a["settings"].keys() == b["settings"].keys()


def test_dark_mode_draws_hot_pixels_at_the_known_positions(scmos, qtbot, ui):
    viewer = scmos
    sample = viewer.layers[0]
    meta = sample.metadata["microscope_qc_detector"]
    kinds = np.array(meta["kinds"])
    # the dark frames at the longest exposure: the hot pixels stand out there
    longest = max(e for e, k in zip(meta["exposure_ms"], kinds, strict=True) if k == "dark")
    pick = [
        i
        for i, (e, k) in enumerate(zip(meta["exposure_ms"], kinds, strict=True))
        if k == "dark" and e == longest
    ]
    viewer.add_image(np.asarray(sample.data)[pick], name="darks")
    _, w = ui.open_dock(viewer, NAME)
    w.frames.value = [viewer.layers["darks"]]
    w.mode.value = "dark"
    assert _shown(w.analysis["warm_cold_percent"]) and not _shown(w.analysis["gain_fit_max_percent"])
    assert not _shown(w.frame_table)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    pts = w.layers.find("defects")
    assert pts is not None
    found = {tuple(int(v) for v in p) for p in np.asarray(pts.data)}
    assert {tuple(p) for p in meta["truth"]["hot_pixels"]} <= found
    assert set(pts.features["kind"].astype(str)) <= {"hot", "warm", "cold"}
    assert w.layers.find("map noise_map") is not None
    assert not w.ptc_plot.has_data  # no curve in dark mode


def test_cv_regions_drawn_in_a_shapes_layer_give_the_cv(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(1)
    image = rng.normal(1000, 50, (64, 64)).astype(np.float32)
    image[:, 32:] *= 2.0
    viewer.add_image(np.stack([image, image * 1.1]), name="detectors")
    _, w = ui.open_dock(viewer, NAME)
    w.mode.value = "cv"
    assert not w.regions_button.isHidden()
    w.draw_regions()
    shapes = w.layers.find("regions")
    assert shapes is not None and shapes.mode == "add_rectangle"
    shapes.add_rectangles(np.array([[10.0, 5.0], [40.0, 25.0]]))
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    roi = image[10:41, 5:26]  # corners included, as the command line's --roi 10,5,40,25
    cv = 100 * roi.std(ddof=1) / roi.mean()
    table = w.result.tables["cv"]
    row = table.iloc[0]
    assert int(row["pixels"]) == roi.size
    assert float(table["cv_percent"].iloc[0]) == pytest.approx(cv, rel=1e-4)
    assert w.region_table.rowCount() == len(table)
    assert "CV (%)" in w.region_table.headers()
    # a second region re-runs on its own (the CV per region follows the drawing)
    first = w.result
    shapes.add_rectangles(np.array([[10.0, 40.0], [40.0, 60.0]]))
    qtbot.waitUntil(lambda: w.result is not first and not w.busy, timeout=30000)
    assert len(w.result.tables["cv"]) == 4  # 2 frames × 2 regions
    assert w.region_table.rowCount() == 4


def test_bad_inputs_name_the_field(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    assert "'frames'" in w.status.text() and w.result is None  # nothing picked
    viewer.add_image(np.full((32, 32), 100, np.uint16), name="one")
    w.frames.value = [viewer.layers["one"]]
    ui.click(qtbot, w.run_button)
    assert "'frames' holds 1 frame" in w.status.text()
    viewer.add_image(np.full((48, 48), 100, np.uint16), name="other")
    w.frames.value = [viewer.layers["one"], viewer.layers["other"]]
    ui.click(qtbot, w.run_button)
    assert "'frames'" in w.status.text() and "48 × 48" in w.status.text()
    viewer.add_image(np.full((32, 32), 100, np.float32), name="float")
    w.frames.value = [viewer.layers["one"], viewer.layers["float"]]
    ui.click(qtbot, w.run_button)
    assert "'frames'" in w.status.text() and "float32" in w.status.text()
    w.source.value = "folder"
    ui.click(qtbot, w.run_button)
    assert "'frame folder'" in w.status.text()
    w.source.value = "image layers"
    w.analysis["gain_fit_max_percent"].value = 70.0
    w.frames.value = [viewer.layers["one"]]
    w.mode.value = "emva"
    w.frame_table.value = "/nonexistent/frames.csv"
    ui.click(qtbot, w.run_button)
    assert "'frame table'" in w.status.text()


def test_folder_of_frames_with_its_frame_table(make_napari_viewer, qtbot, tmp_path, ui):
    from microscope_qc.cli import main

    folder = tmp_path / "series"
    folder.mkdir()
    assert main(["sample", "detector-ccd", str(folder / "ccd.ome.tif")]) == 0
    truth = json.loads((folder / "ccd_truth.json").read_text())
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.source.value = "folder"
    assert _shown(w.folder) and not _shown(w.frames)
    w.folder.value = folder
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    gain = w.result.metric("system_gain_dn_per_e", channel=None).value
    assert gain == pytest.approx(truth["system_gain_dn_per_e"], rel=0.03)
    assert w.result.settings["frame_table"].value.endswith("ccd_frames.csv")
    paths = w.export(tmp_path / "out")
    doc = json.loads(paths["json"].read_text())
    assert doc["input"]["path"] == str(folder.resolve())


def test_dragging_the_fit_range_edge_with_the_mouse(scmos, qtbot, ui):
    from qtpy.QtCore import QPoint, Qt

    _, w = ui.open_dock(scmos, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    plot = w.ptc_plot
    plot.resize(400, 240)
    lo, hi = w.result.fit_ranges["gain"]
    y = plot.height() // 2
    start = QPoint(round(plot.to_pixel_x(hi)), y)
    end = QPoint(round(plot.to_pixel_x(hi * 0.6)), y)
    qtbot.mousePress(plot, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(plot, end)
    qtbot.mouseRelease(plot, Qt.MouseButton.LeftButton, pos=end)
    expected = 70.0 * plot.to_data_x(end.x()) / hi
    assert w.analysis["gain_fit_max_percent"].value == pytest.approx(expected, abs=0.2)
    ui.wait_idle(qtbot, w)
    assert w.result.fit_ranges["gain"][1] == pytest.approx(hi * expected / 70.0, rel=0.01)


def test_single_scene_with_dark_layers_and_from_folders(make_napari_viewer, qtbot, tmp_path, ui):
    from dataclasses import replace

    from microscope_qc.samples.cameras import CAMERAS, Camera

    cam = Camera(replace(CAMERAS["ccd"], shape=(128, 128), seed=2))
    sp = cam.spec
    sat_e = min(sp.full_well_e, (cam.saturation_dn - sp.offset_dn) / sp.system_gain_dn_per_e)
    yy, xx = np.mgrid[0:128, 0:128]
    scene = (0.05 + 0.65 * (xx / 128) * (0.5 + 0.5 * np.sin(yy / 20) ** 2)) * sat_e / sp.quantum_efficiency
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([cam.frame(scene, 10) for _ in range(20)]), name="scene")
    for i in range(10):  # darks as several 2-D layers: their planes in the order picked
        viewer.add_image(cam.frame(0, 10), name=f"dark {i}")
    _, w = ui.open_dock(viewer, NAME)
    w.frames.value = [viewer.layers["scene"]]
    w.mode.value = "single-scene"
    assert _shown(w.darks) and _shown(w.analysis["ptc_bins"]) and not _shown(w.frame_table)
    w.darks.value = [viewer.layers[f"dark {i}"] for i in range(10)]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    gain = w.result.metric("system_gain_dn_per_e", channel=None).value
    assert gain == pytest.approx(cam.truth()["system_gain_dn_per_e"], rel=0.02)
    assert w.ptc_plot.has_data and w.result.settings["dark_files"].value.startswith("dark 0, dark 1")
    # the same frames from folders (as `--dark FOLDER` on the command line) give the same numbers
    import tifffile

    (tmp_path / "scene").mkdir()
    (tmp_path / "darks").mkdir()
    tifffile.imwrite(tmp_path / "scene" / "scene.tif", np.asarray(viewer.layers["scene"].data))
    for i in range(10):
        tifffile.imwrite(
            tmp_path / "darks" / f"dark_{i:02d}.tif", np.asarray(viewer.layers[f"dark {i}"].data)
        )
    first = w.result
    w.source.value = "folder"
    assert _shown(w.dark_folder) and not _shown(w.darks)
    w.folder.value = tmp_path / "scene"
    w.dark_folder.value = tmp_path / "darks"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not first and w.result is not None, w.status.text()
    assert w.result.metric("system_gain_dn_per_e", channel=None).value == pytest.approx(gain, rel=1e-9)


def test_dock_fits_a_small_window_and_sits_in_layers_measure(scmos, qtbot, ui):
    from napari._app_model import get_app_model
    from qtpy.QtWidgets import QScrollArea

    dock, w = ui.open_dock(scmos, NAME)
    window = dock.window()
    window.resize(1280, 800)
    w.history_options.record.value = True
    w.analysis.more_toggle.setChecked(True)
    qtbot.wait(50)
    assert dock.minimumSizeHint().height() <= 700
    assert isinstance(w.form_area, QScrollArea)
    for field in (w.frames, w.frame_table, w.analysis["gain_fit_max_percent"], w.history_options.location):
        assert w.form_area.widget().isAncestorOf(field.native)
    items = get_app_model().menus.get_menu("napari/layers/measure")
    ids = {getattr(getattr(i, "command", None), "id", "") for i in items}
    assert "napari-microscope-qc.detector_widget" in ids


def test_picking_other_frames_leaves_no_result_looking_current(scmos, qtbot, ui):
    viewer = scmos
    sample = viewer.layers[0]
    viewer.add_image(np.asarray(sample.data)[:4], name="first pairs")
    _, w = ui.open_dock(viewer, NAME)
    w.frames.value = [sample]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.export_button.isEnabled() and w.summary.text()
    w.frames.value = [viewer.layers["first pairs"]]
    assert w.result is None and not w.summary.text() and not w.export_button.isEnabled()
    dsnu = w.layers.find("map dsnu_map")
    assert not dsnu.visible and dsnu.name.endswith(f"[for {sample.name}]")

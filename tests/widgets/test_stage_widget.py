"""The stage widget as users meet it: the WG6 repeatability sample and the drift sample, the bead's
track and positions drawn over the image (updated in place), the plots, the command line's files."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Stage and focus precision and drift (QUAREP WG6)"
PLUGIN = "napari-microscope-qc"


def test_repeatability_sample_track_points_scatter_and_export(make_napari_viewer, qtbot, tmp_path, ui):
    from microscope_qc.analysis.stage import StageSettings, analyze_stage
    from microscope_qc.samples.stage import stage_repeatability_sample

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "stage-repeatability")
    _, w = ui.open_dock(viewer, NAME)
    image = viewer.layers["stage repeatability (synthetic)"]
    assert w.layer_combo.value.name == image.name
    assert w.mode.value == "repeatability"
    assert (w.voxel_y.value, w.voxel_x.value) == ("0.1", "0.1")
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    s = stage_repeatability_sample()
    # the same numbers as the analysis called directly on the sample
    direct = analyze_stage(list(s.data), StageSettings(), voxel_size_um=s.voxel_size_um, moves=s.moves)
    for name in ("sd_x_um", "sd_y_um", "sd_max_um", "iso_reversal_x_um"):
        assert r.metric(name).value == pytest.approx(direct.metric(name).value, rel=1e-9)
    # and near the truth: SD 0.05 µm (300 µm moves) and 0.10 µm (3000 µm), backlash 0.08 µm in x
    groups = r.tables["groups"]
    for dist, sd in s.truth["sd_um_by_distance"].items():
        assert groups[groups["distance_um"] == float(dist)]["sd_um"].median() == pytest.approx(sd, rel=0.35)
    assert r.metric("iso_reversal_x_um").value == pytest.approx(0.08, abs=0.03)
    # the bead's path over the frames, in the image's coordinates
    track = w.layers.find("track")
    assert type(track).__name__ == "Tracks" and track.data.shape == (160, 4)
    assert np.array_equal(track.data[:, 1], np.arange(160))
    true_px = s.positions[["y_um", "x_um"]].to_numpy() / 0.1
    assert np.abs(track.data[:, 2:] - true_px).max() < 0.6  # within 60 nm of the truth
    assert tuple(track.scale) == tuple(image.scale)
    points = w.layers.find("positions")
    assert points.data.shape == (160, 3) and list(points.features["frame"]) == list(range(160))
    # the scatter of errors per direction, the tables
    assert len(w.errors_plot.curves) == 4 and all(c[0] in w.errors_plot.scatter for c in w.errors_plot.curves)
    assert sum(len(c[2]) for c in w.errors_plot.curves) == 160
    assert not w.drift_plot.isVisibleTo(w)
    assert w.groups_table.rowCount() == len(groups) and w.iso_table.rowCount() == len(r.tables["iso"])
    assert w.frames_table.rowCount() == 160
    assert "SD x" in w.summary.text()
    # a re-run updates the same layers in place
    ids = [lyr.unique_id for lyr in viewer.layers]
    w.analysis["bead_diameter_um"].value = 2.5
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert [lyr.unique_id for lyr in viewer.layers] == ids
    # export: the command line's file names, never overwritten silently
    paths = w.export(tmp_path / "gui")
    names = {p.name for p in (tmp_path / "gui").iterdir()}
    assert {"results.json", "report.html", "positions.csv", "groups.csv", "iso.csv"} <= names
    data = json.loads(paths["json"].read_text())
    assert data["metrics"]["sd_max_um"]["value"] == pytest.approx(w.result.metric("sd_max_um").value)
    w.confirm_overwrite = lambda message: False
    assert w.export(tmp_path / "gui") is None


def test_export_writes_what_the_cli_writes(make_napari_viewer, qtbot, tmp_path, ui):
    from microscope_qc.cli import main

    sample, moves = tmp_path / "rep.ome.tif", tmp_path / "rep_moves.csv"
    assert main(["sample", "stage-repeatability", str(sample)]) == 0
    assert main(["stage", str(sample), "--moves", str(moves), "--out", str(tmp_path / "cli"), "-q"]) == 0
    viewer = make_napari_viewer()
    viewer.open(str(sample), plugin="napari")  # napari's own reader gives the (T, Y, X) series
    _, w = ui.open_dock(viewer, NAME)
    assert w.layer_combo.value is not None and w.layer_combo.value.data.shape[0] == 160
    assert (w.voxel_y.value, w.voxel_x.value) == ("0.1", "0.1")  # from the file's OME metadata
    w.moves_file.value = moves
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    w.export(tmp_path / "gui")
    cli_dir = next((tmp_path / "cli").iterdir())
    assert sorted(p.name for p in (tmp_path / "gui").iterdir()) == sorted(p.name for p in cli_dir.iterdir())
    gui = json.loads((tmp_path / "gui" / "results.json").read_text())["metrics"]
    cli = json.loads((cli_dir / "results.json").read_text())["metrics"]
    for name in ("sd_x_um", "sd_y_um", "sd_max_um"):
        assert gui[name]["value"] == pytest.approx(cli[name]["value"], rel=1e-6)


def test_drift_sample_plot_and_3d_track(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "stage-drift")
    _, w = ui.open_dock(viewer, NAME)
    assert w.mode.value == "drift" and w.frame_interval.value == "30"
    truth = viewer.layers[0].metadata["truth"]
    # the sample states the threshold it was made for (it has no optics to derive one): Measure just works
    assert float(w.analysis["stabilisation_threshold_um"].value) == truth["stabilisation_threshold_um"]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    assert r.metric("stabilisation_time_s").value == pytest.approx(
        truth["stabilisation_time_s_noise_free"], abs=30
    )
    assert r.metric("drift_velocity_y_um_per_min").value == pytest.approx(
        truth["velocity_um_per_min"]["y"], abs=0.005
    )
    track = w.layers.find("track")
    assert track.data.shape[1] == 5  # id, t, z, y, x
    left_out = set(truth["frames_without_bead"]) | set(truth["frames_with_two_beads"])
    assert set(track.data[:, 1].astype(int)) == set(range(60)) - left_out
    labels = [c[0] for c in w.drift_plot.curves]
    assert labels[:2] == ["displacement from t0", "frame-to-frame step"]
    assert [m[2] for m in w.drift_plot.markers] == [pytest.approx(r.metric("stabilisation_time_s").value)]
    assert not w.errors_plot.isVisibleTo(w)
    assert not w.tabs.isTabVisible(w.tabs.indexOf(w._repeat_tab))
    # another series: the result goes, its layers are hidden as not current
    viewer.open_sample(PLUGIN, "stage-repeatability")
    w.layer_combo.value = viewer.layers["stage repeatability (synthetic)"]
    assert w.result is None and not w.export_button.isEnabled()
    assert not w.layers.find("track").visible


def test_bad_input_names_the_field(make_napari_viewer, qtbot, tmp_path, ui):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.measure()
    assert "'bead series'" in w.status.text()
    viewer.open_sample(PLUGIN, "stage-drift")
    w.voxel_x.value = "0"
    w.measure()
    assert "'voxel x (µm)'" in w.status.text()
    w.voxel_x.value = "0.1"
    w.analysis["stabilisation_threshold_um"].value = ""
    w.measure()
    ui.wait_idle(qtbot, w)
    assert w.result is None and "'stabilisation threshold" in w.status.text()
    w.mode.value = "repeatability"
    bad = tmp_path / "moves.csv"
    bad.write_text("")
    w.moves_file.value = bad
    w.measure()
    assert "'moves CSV'" in w.status.text()

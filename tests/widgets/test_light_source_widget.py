"""The light-source widget as users meet it: a power-meter log from a file or a napari sample, an
image series of a uniform sample; the numbers match the sample truth and the command line's files."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Light source power and stability (QUAREP WG1)"
PLUGIN = "napari-microscope-qc"


def _cli(*args: str) -> int:
    from microscope_qc.cli import main

    return main([*args, "-q"] if args[0] != "sample" else list(args))


def test_log_file_measured_plotted_and_exported_like_the_cli(make_napari_viewer, qtbot, tmp_path, ui):
    from microscope_qc.samples.light_source import light_source_log_sample

    log = tmp_path / "power.csv"
    assert _cli("sample", "light-source-log", str(log)) == 0
    truth = light_source_log_sample().truth
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.log_file.value = log
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    assert r.metric("warmup_time_s").value == pytest.approx(truth["warmup_time_s"], abs=60)
    assert r.metric("drift_percent_per_h").value == pytest.approx(
        truth["drift_percent_per_h_of_level"], abs=0.1
    )
    assert r.metric("mean_power_mw").value == pytest.approx(truth["level_mw"], rel=0.02)
    assert "488 nm" in w.summary.text() and "warm-up" in w.summary.text()
    # the plot: the trace, the plateau mean, the warm-up band, the drift fit and the end of warm-up
    labels = [c[0] for c in w.power_plot.curves]
    assert "488 nm" in labels and "drift (fit after warm-up)" in labels
    trace = next(c for c in w.power_plot.curves if c[0] == "488 nm")
    assert len(trace[2]) == 1440
    assert [m[2] for m in w.power_plot.markers] == [pytest.approx(r.metric("warmup_time_s").value)]
    assert w.table.rowCount() == len(r.metrics)
    assert w.plateau_table.rowCount() == 1
    # a previous record gives the change in % (of the mean after warm-up)
    w.previous_power.value = "2.4"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r.metric("power_change_percent").value == pytest.approx(
        100 * (r.final_plateau[0] / 2.4 - 1), abs=0.5
    )
    assert "previous record" in w.summary.text()
    w.previous_power.value = ""
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert not w.linearity_plot.isVisible() or not w.linearity_plot.curves
    # export: the command line's files, with the log's checksum as input
    paths = w.export(tmp_path / "gui")
    assert _cli("light-source", str(log), "--out", str(tmp_path / "cli")) == 0
    gui_files = sorted(p.name for p in (tmp_path / "gui").iterdir())
    cli_files = sorted(p.name for p in (tmp_path / "cli" / "power").iterdir())
    assert gui_files == cli_files
    gui_json = json.loads(paths["json"].read_text())
    cli_json = json.loads((tmp_path / "cli" / "power" / "results.json").read_text())
    assert gui_json["input"]["sha256"] == cli_json["input"]["sha256"]
    assert gui_json["input"]["shape"] == cli_json["input"]["shape"]
    assert gui_json["metrics"].keys() == cli_json["metrics"].keys()
    for k, v in cli_json["metrics"].items():
        assert gui_json["metrics"][k]["value"] == pytest.approx(v["value"], rel=1e-9, nan_ok=True), k
    # never overwritten silently
    w.confirm_overwrite = lambda message: False
    assert w.export(tmp_path / "gui") is None
    assert "kept" in w.status.text()
    # recorded in the QC history on export, with the mean power the next run compares with
    from microscope_qc.history import HistoryStore

    h = w.history_options
    h.record.value, h.instrument.value = True, "scope-1"
    h.location.value = str(tmp_path / "history.sqlite")
    assert w.export(tmp_path / "gui2") is not None
    assert "recorded" in w.status.text(), w.status.text()
    assert len(HistoryStore(h.location.value).runs()) == 1


def test_linearity_sample_layer_plots_the_fit(make_napari_viewer, qtbot, ui):
    from microscope_qc.samples.light_source import light_source_linearity_sample

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "light-source-linearity")
    _, w = ui.open_dock(viewer, NAME)
    assert w.layer_combo.value is not None
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    truth = light_source_linearity_sample().truth
    assert w.result.metric("linearity_slope_mw_per_percent").value == pytest.approx(
        truth["slope_mw_per_percent"], rel=0.01
    )
    assert w.plateau_table.rowCount() == len(truth["setpoints"])
    labels = [c[0] for c in w.linearity_plot.curves]
    assert labels == ["light 0 plateaus", "light 0 fit"] and "light 0 plateaus" in w.linearity_plot.scatter
    xs = w.linearity_plot.curves[0][2]
    assert sorted(np.round(xs)) == truth["setpoints"]


def test_pulsed_lasers_one_row_per_plateau_per_light(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "light-source-pulsed")
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.plateau_table.rowCount() == 90
    assert {"405 nm", "488 nm", "561 nm"} <= {c[0] for c in w.power_plot.curves}
    assert "561 nm" in w.summary.text()


def test_image_series_with_dark_level_from_the_layer(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "light-source-series")
    _, w = ui.open_dock(viewer, NAME)
    assert w.frame_interval.value == "2" and w.dark_level.value == "100"  # from the layer's metadata
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    truth = viewer.layers[0].metadata["truth"]
    assert w.result.unit == "counts"
    assert w.result.metric("mean_intensity_counts").value == pytest.approx(
        truth["mean_level_counts"], rel=0.01
    )
    assert w.result.metric("stability_percent").value == pytest.approx(truth["stability_percent"], abs=0.2)
    trace = next(c for c in w.power_plot.curves if c[0] == "light 0")
    assert len(trace[2]) == 60
    assert len(viewer.layers) == 1  # nothing drawn on the canvas for a time course


def test_bad_input_names_the_field(make_napari_viewer, qtbot, tmp_path, ui):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.measure()
    assert "'power-meter log'" in w.status.text() and "'series or log layer'" in w.status.text()
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,here\nx,y\n")
    w.log_file.value = bad
    w.measure()
    ui.wait_idle(qtbot, w)
    assert w.result is None and "'power-meter log'" in w.status.text()
    viewer.open_sample(PLUGIN, "light-source-series")
    w.log_file.value = None
    w.frame_interval.value = "two"
    w.measure()
    assert "'frame interval (s)'" in w.status.text()
    w.frame_interval.value = "-2"
    w.measure()
    ui.wait_idle(qtbot, w)
    assert w.result is None and "frame interval" in w.status.text()

"""The resolution widget as users meet it: the synthetic pair (resolution 0.2 µm), the two-image
FRC and the decorrelation curves plotted, the command line's files, errors naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Resolution without beads (FRC, decorrelation)"
PLUGIN = "napari-microscope-qc"


def test_pair_frc_curves_and_export(make_napari_viewer, qtbot, tmp_path, ui):
    from microscope_qc.analysis.resolution import ResolutionSettings, analyze_resolution
    from microscope_qc.cli import main
    from microscope_qc.samples.resolution import resolution_sample

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "resolution-pair")
    _, w = ui.open_dock(viewer, NAME)
    one, two = (
        viewer.layers["resolution image 1 (synthetic)"],
        viewer.layers["resolution image 2 (synthetic)"],
    )
    w.layer_combo.value = one
    w.pair_combo.value = two
    assert w.pixel.value == "0.05"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    assert r.method == "frc"
    s = resolution_sample()
    direct = analyze_resolution(s.image, ResolutionSettings(), pixel_size_um=0.05, pair=s.pair)
    assert r.metric("resolution_um").value == pytest.approx(direct.metric("resolution_um").value, rel=1e-9)
    assert r.metric("resolution_um").value == pytest.approx(s.truth["resolution_um"], rel=0.05)
    assert f"{r.metric('resolution_um').value:.3g} µm" in w.summary.text()
    # the FRC and its two thresholds against frequency, the cut-off marked
    curves = {c[0]: c for c in w.plot.curves}
    assert {"FRC", "1/7 threshold", "half-bit threshold"} <= set(curves)
    assert np.array_equal(curves["FRC"][3], r.curve["frc"].to_numpy()) and len(r.curve) > 10
    assert w.plot.markers[0][2] == pytest.approx(r.metric("cutoff_frequency_per_um").value)
    assert w.curve_table.rowCount() == len(r.curve)
    # export: the command line's files (same names), never overwritten silently
    sample = tmp_path / "res.ome.tif"
    assert main(["sample", "resolution-pair", str(sample)]) == 0
    pair = next(p for p in tmp_path.iterdir() if "_pair" in p.name)
    assert main(["resolution", str(sample), "--pair", str(pair), "--out", str(tmp_path / "cli"), "-q"]) == 0
    cli_dir = next((tmp_path / "cli").iterdir())
    paths = w.export(tmp_path / "gui")
    assert sorted(p.name for p in (tmp_path / "gui").iterdir()) == sorted(p.name for p in cli_dir.iterdir())
    gui = json.loads(paths["json"].read_text())["metrics"]
    cli = json.loads((cli_dir / "results.json").read_text())["metrics"]
    assert gui["resolution_um"]["value"] == pytest.approx(cli["resolution_um"]["value"], rel=1e-6)
    w.confirm_overwrite = lambda message: False
    assert w.export(tmp_path / "gui") is None


def test_one_image_decorrelation(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "resolution-pair")
    _, w = ui.open_dock(viewer, NAME)
    w.layer_combo.value = viewer.layers["resolution image 1 (synthetic)"]
    w.pair_combo.value = None
    w.analysis["method"].value = "decorrelation"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    assert r.method == "decorrelation"
    truth = viewer.layers[0].metadata["truth"]
    assert r.metric("resolution_um").value == pytest.approx(truth["resolution_um"], rel=0.1)
    assert w.plot.curves[0][0] == "d(r), unfiltered"
    assert "peaks" in w.plot.scatter and np.isfinite(w.plot.curves[-1][3]).all()
    assert "decorrelation" in w.summary.text()


def test_bad_input_names_the_field(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.measure()
    assert "'image'" in w.status.text()
    viewer.open_sample(PLUGIN, "resolution-pair")
    one = viewer.layers["resolution image 1 (synthetic)"]
    w.layer_combo.value = one
    w.pair_combo.value = one
    w.measure()
    assert "'second image'" in w.status.text()
    w.pair_combo.value = None
    w.pixel.value = "0"
    w.measure()
    assert "'pixel size (µm)'" in w.status.text()
    w.pixel.value = "0.05"
    viewer.add_image(np.zeros((64, 64)), name="small")
    w.pair_combo.reset_choices()
    w.pair_combo.value = viewer.layers["small"]
    w.measure()
    assert "'second image'" in w.status.text() and "same size" in w.status.text()
    # one-image FRC without the conversion gain: the message names the gain's field
    w.pair_combo.value = None
    w.analysis["method"].value = "frc"
    w.measure()
    ui.wait_idle(qtbot, w)
    assert w.result is None, w.status.text()
    assert "gain" in w.status.text()

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


def test_sample_pair_picked_and_map_over_the_image(make_napari_viewer, qtbot, ui):
    """Opening the bundled pair picks its partner as the 'second image'; Measure draws the map of
    the tiles as an Image layer on the tiles' centres; a new run replaces it, one without a map
    removes it."""
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "resolution-pair")
    _, w = ui.open_dock(viewer, NAME)
    one, two = (
        viewer.layers["resolution image 1 (synthetic)"],
        viewer.layers["resolution image 2 (synthetic)"],
    )
    w.layer_combo.value = one
    assert w.pair_combo.value is not None and w.pair_combo.value.name == two.name
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    assert r.method == "frc" and r.map is not None
    maps = [lyr for lyr in viewer.layers if lyr.name.startswith("resolution map")]
    assert len(maps) == 1
    layer = maps[0]
    # 512 px, 256-px tiles at 50 % overlap: 3 × 3 tiles 128 px apart, the first centred at 127.5 px
    assert layer.data.shape == (3, 3)
    assert tuple(layer.scale) == pytest.approx((128 * 0.05, 128 * 0.05))
    assert tuple(layer.translate) == pytest.approx((127.5 * 0.05, 127.5 * 0.05))
    np.testing.assert_allclose(layer.data, r.map.resolution_um, rtol=1e-6)
    np.testing.assert_allclose(layer.data, 0.2, rtol=0.10)
    lo, hi = layer.contrast_limits
    assert lo <= np.nanmin(layer.data) and hi >= np.nanmax(layer.data) and hi > lo
    assert layer.colormap.name == "viridis" and layer.visible
    aniso = next(lyr for lyr in viewer.layers if lyr.name.startswith("resolution anisotropy"))
    assert not aniso.visible and tuple(aniso.scale) == tuple(layer.scale)
    assert w.tiles_table.rowCount() == 9 and "Map: median" in w.summary.text()
    # re-measure (decorrelation, smaller tiles): the same layer, new data and geometry
    w.pair_combo.value = None
    w.analysis["method"].value = "decorrelation"
    w.analysis["tile_px"].value = 128
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None and w.result.method == "decorrelation", w.status.text()
    maps = [lyr for lyr in viewer.layers if lyr.name.startswith("resolution map")]
    assert len(maps) == 1 and maps[0].data.shape == (7, 7)
    assert tuple(maps[0].scale) == pytest.approx((64 * 0.05, 64 * 0.05))
    assert tuple(maps[0].translate) == pytest.approx((63.5 * 0.05, 63.5 * 0.05))
    np.testing.assert_allclose(maps[0].data, w.result.map.resolution_um, rtol=1e-6)
    # without the map: the map layers go
    w.analysis["local_map"].value = False
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None and w.result.map is None
    assert not [lyr for lyr in viewer.layers if lyr.name.startswith("resolution") and "map" in lyr.name]


def test_a_plain_user_chooses_the_second_image(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    a = viewer.add_image(rng.normal(size=(64, 64)), name="a")
    b = viewer.add_image(rng.normal(size=(64, 64)), name="b")
    _, w = ui.open_dock(viewer, NAME)
    w.layer_combo.value = a
    assert w.pair_combo.value is None  # nothing chosen for the user
    w.pair_combo.value = b
    viewer.open_sample(PLUGIN, "resolution-pair")
    w.layer_combo.value = viewer.layers["resolution image 1 (synthetic)"]
    assert w.pair_combo.value.name == "b"  # the user's choice stays
    w.pair_combo.value = None
    w.layer_combo.value = viewer.layers["resolution image 2 (synthetic)"]
    assert w.pair_combo.value.name == "resolution image 1 (synthetic)"  # the sample's partner
    w.layer_combo.value = a
    assert w.pair_combo.value is None  # the partner was the dock's choice: dropped with its image


def test_a_blurred_pair_is_named_with_the_optics_from_the_layer(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "resolution-blurred")
    _, w = ui.open_dock(viewer, NAME)
    w.layer_combo.value = viewer.layers["resolution image 1 (synthetic)"]
    w.pair_combo.value = viewer.layers["resolution image 2 (synthetic)"]
    assert (w.na.value, w.wavelength.value) == ("1.4", "520")  # the layer's acquisition metadata
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    assert r.metric("theory_resolution_um").value == pytest.approx(0.52 / 2.8)
    assert {f.fault for f in w.findings if f.severity.value == "fault"} == {"frc_resolution_loss"}
    # an impossible NA names the field
    w.na.value = "-1"
    w.measure()
    assert "'NA'" in w.status.text()

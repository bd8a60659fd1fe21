"""The mirror widget as users meet it: the synthetic XZ sample, the band FWHMs drawn over the image
(updated in place), the profile plot with its fit, the command line's files, an ROI from a Shapes
rectangle, errors naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Axial resolution from a mirror (MetroloJ)"
PLUGIN = "napari-microscope-qc"


def test_sample_bands_profile_and_export(make_napari_viewer, qtbot, tmp_path, ui):
    from microscope_qc.analysis.mirror import MirrorSettings, analyze_mirror
    from microscope_qc.cli import main
    from microscope_qc.samples.mirror import mirror_fwhm_truth, mirror_good_sample

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "mirror-xz")
    _, w = ui.open_dock(viewer, NAME)
    image = viewer.layers["mirror XZ (synthetic)"]
    assert w.layer_combo.value.name == image.name
    assert (w.z_step.value, w.x_step.value) == ("0.04", "0.2")
    assert (w.wavelength.value, w.na.value, w.immersion.value) == (
        "488",
        "1.4",
        "1.518",
    )  # the layer's optics
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    s = mirror_good_sample()
    direct = analyze_mirror(s.data, MirrorSettings(), z_step_um=0.04, x_step_um=0.2)
    for name in ("fwhm_z_um", "band_fwhm_median_um", "tilt_deg"):
        assert r.metric(name).value == pytest.approx(direct.metric(name).value, rel=1e-9)
    # the truth: each band's FWHM is f(x) at the band centre (0.267 µm at the centre of the field)
    bands = r.bands
    x_c = (bands["x_start_px"] + bands["x_end_px"] - 1) / 2
    truth = mirror_fwhm_truth(x_c.to_numpy(), 256, s.truth["fwhm_z_centre_um"], 0.08)
    assert np.abs(bands["fwhm_um"].to_numpy() - truth).max() < 0.015
    tilt = np.degrees(np.arctan(0.1 / (255 * 0.2)))
    assert r.metric("tilt_deg").value == pytest.approx(tilt, abs=0.1)
    assert f"{r.metric('fwhm_z_um').value:.6g} ± " in w.summary.text()
    assert r.metric("ratio_to_theory").value == pytest.approx(
        1.22, abs=0.02
    )  # a good confocal: 1.15 × at the centre
    assert not [f for f in w.findings if f.severity.value == "fault"]
    # the overlay: a line across each band at centre ± FWHM/2, in the image's pixels with its scale
    lines = w.layers.find("bands")
    n = len(bands)
    assert type(lines).__name__ == "Shapes" and len(lines.data) == 2 * n
    assert set(lines.shape_type) == {"line"} and tuple(lines.scale) == tuple(image.scale)
    z = np.array([d[0, 0] for d in lines.data])
    assert np.allclose((z[n:] - z[:n]) * 0.04, bands["fwhm_um"].to_numpy())
    assert set(lines.features["status"]) == {"ok"}
    # the profile plot: data and its Gaussian fit, the FWHM marked
    assert [c[0] for c in w.plot.curves] == ["ROI-averaged profile", "Gaussian fit"]
    assert len(w.plot.curves[0][2]) == 64 and len(w.plot.markers) == 2
    assert w.bands_table.rowCount() == n
    # a re-run updates the same layer in place
    ids = [lyr.unique_id for lyr in viewer.layers]
    w.analysis["band_px"].value = 32
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert [lyr.unique_id for lyr in viewer.layers] == ids
    assert len(w.layers.find("bands").data) == 2 * 8
    # export: the command line's files, never overwritten silently
    sample = tmp_path / "mirror.ome.tif"
    assert main(["sample", "mirror-xz", str(sample)]) == 0
    assert main(["mirror", str(sample), "--band", "32", "--out", str(tmp_path / "cli"), "-q"]) == 0
    cli_dir = next((tmp_path / "cli").iterdir())
    paths = w.export(tmp_path / "gui")
    assert sorted(p.name for p in (tmp_path / "gui").iterdir()) == sorted(p.name for p in cli_dir.iterdir())
    gui = json.loads(paths["json"].read_text())["metrics"]
    cli = json.loads((cli_dir / "results.json").read_text())["metrics"]
    for name in ("fwhm_z_um", "band_fwhm_median_um"):
        assert gui[name]["value"] == pytest.approx(cli[name]["value"], rel=1e-6)
    w.confirm_overwrite = lambda message: False
    assert w.export(tmp_path / "gui") is None


def test_roi_from_a_shapes_rectangle(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "mirror-xz")
    _, w = ui.open_dock(viewer, NAME)
    # world coordinates (µm): z 0.64–1.92, x 10–30 → pixels z 16–48, x 50–150
    shapes = viewer.add_shapes([np.array([[0.64, 10.0], [1.92, 30.0]])], shape_type="rectangle", name="roi")
    w.roi_combo.reset_choices()
    w.roi_combo.value = shapes
    w.layer_combo.value = viewer.layers["mirror XZ (synthetic)"]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    assert w.result.roi == (50, 16, 100, 32)
    assert w.result.metric("fwhm_z_um").value == pytest.approx(0.267, abs=0.015)


def test_bad_input_names_the_field(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.measure()
    assert "'XZ image'" in w.status.text()
    viewer.open_sample(PLUGIN, "mirror-xz")
    w.z_step.value = ""
    w.measure()
    assert "'z step (µm)'" in w.status.text()
    w.z_step.value = "0.1"
    w.na.value = "-1"
    w.measure()
    assert "'NA'" in w.status.text()
    w.na.value = ""
    w.analysis["tolerance_um"].value = "abc"
    w.measure()
    assert w.result is None and "'pass if FWHM ≤" in w.status.text()
    w.analysis["tolerance_um"].value = ""
    points = viewer.add_shapes([np.array([[0, 0], [3, 3]])], shape_type="line", name="not a rectangle")
    w.roi_combo.reset_choices()
    w.roi_combo.value = points
    w.measure()
    assert "'ROI'" in w.status.text() and "no rectangle" in w.status.text()


def test_another_image_hides_the_bands(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "mirror-xz")
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    other = viewer.add_image(np.ones((32, 64)), name="other")
    w.layer_combo.value = other
    assert w.result is None and not w.export_button.isEnabled() and not w.plot.curves
    bands = w.layers.find("bands")
    assert not bands.visible and bands.name.endswith("[for mirror XZ (synthetic)]")


def test_a_zyx_stack_is_averaged_over_y(make_napari_viewer, qtbot, ui):
    from microscope_qc.analysis.mirror import analyze_mirror
    from microscope_qc.samples.mirror import mirror_sample

    s = mirror_sample()
    viewer = make_napari_viewer()
    viewer.add_image(np.repeat(s.data[:, None, :], 3, axis=1), name="stack", scale=(0.1, 0.2, 0.2))
    _, w = ui.open_dock(viewer, NAME)
    assert (w.z_step.value, w.x_step.value) == ("0.1", "0.2")
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    direct = analyze_mirror(s.data, z_step_um=0.1, x_step_um=0.2)  # the XZ image itself
    assert w.result.metric("fwhm_z_um").value == pytest.approx(direct.metric("fwhm_z_um").value, rel=1e-9)
    assert w.layers.find("bands").ndim == 3

"""The image-quality widget as users meet it: the synthetic 12-bit image (exactly 100 saturated and
100 zero pixels, noise SD 10), the clipping overlay (updated in place), the checks table with
weights, the rating, the command line's files, errors naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Image quality (QUAREP WG10)"
PLUGIN = "napari-microscope-qc"


def test_sample_overlay_checks_rating_and_export(make_napari_viewer, qtbot, tmp_path, ui):
    from microscope_qc.analysis.image_quality import analyze_image_quality
    from microscope_qc.cli import main
    from microscope_qc.samples.image_quality import image_quality_sample

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "image-quality")
    _, w = ui.open_dock(viewer, NAME)
    image = viewer.layers["image quality (synthetic)"]
    assert w.layer_combo.value.name == image.name and w.pixel.value == "0.1"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    s = image_quality_sample()
    truth = s.truth
    assert r.bit_depth == truth["bit_depth"]
    assert r.metric("saturated_percent").value == pytest.approx(truth["saturated_percent"], rel=1e-12)
    assert r.metric("zero_clipped_percent").value == pytest.approx(truth["zero_clipped_percent"], rel=1e-12)
    assert r.metric("noise_sd_counts").value == pytest.approx(truth["noise_sd_counts"], rel=0.1)
    direct = analyze_image_quality(s.data)
    assert r.metric("quality_rating").value == direct.metric("quality_rating").value
    # the overlay: exactly the 100 saturated and 100 zero pixels, over the image with its scale
    labels = w.layers.find("clipping")
    assert type(labels).__name__ == "Labels" and labels.data.shape == s.data.shape
    assert np.count_nonzero(labels.data == 1) == 100 and np.count_nonzero(labels.data == 2) == 100
    assert np.all(s.data[labels.data == 1] == 4095) and np.all(s.data[labels.data == 2] == 0)
    assert tuple(labels.scale) == tuple(image.scale)
    # the checks with their weights; the rating in the summary
    checks = r.checks
    assert w.checks_table.rowCount() == len(checks) >= 4
    rating = 100 * (checks["weight"] * checks["passed"]).sum() / checks["weight"].sum()
    assert r.metric("quality_rating").value == pytest.approx(rating)
    assert f"Quality rating <b>{rating:.0f} %" in w.summary.text()
    # a re-run updates the same layer in place
    ids = [lyr.unique_id for lyr in viewer.layers]
    w.analysis["min_snr"].value = 3.0
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert [lyr.unique_id for lyr in viewer.layers] == ids
    # export: the command line's files, never overwritten silently
    sample = tmp_path / "iq.ome.tif"
    assert main(["sample", "image-quality", str(sample)]) == 0
    assert main(["image-quality", str(sample), "--min-snr", "3", "--out", str(tmp_path / "cli"), "-q"]) == 0
    cli_dir = next((tmp_path / "cli").iterdir())
    paths = w.export(tmp_path / "gui")
    assert sorted(p.name for p in (tmp_path / "gui").iterdir()) == sorted(p.name for p in cli_dir.iterdir())
    gui = json.loads(paths["json"].read_text())["metrics"]
    cli = json.loads((cli_dir / "results.json").read_text())["metrics"]
    for name in ("saturated_percent", "zero_clipped_percent", "noise_sd_counts", "quality_rating"):
        assert gui[name]["value"] == pytest.approx(cli[name]["value"], rel=1e-9)
    w.confirm_overwrite = lambda message: False
    assert w.export(tmp_path / "gui") is None


def test_bad_input_names_the_field(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.measure()
    assert "'image'" in w.status.text()
    viewer.open_sample(PLUGIN, "image-quality")
    w.optics["na"].value = "-2"
    w.measure()
    assert "'NA'" in w.status.text()
    w.optics["na"].value = ""
    # a line is no region; the message names the field
    lines = viewer.add_shapes([np.array([[2, 2], [20, 20]])], shape_type="line", name="a line")
    w.signal_combo.value = lines
    w.measure()
    assert "'signal regions'" in w.status.text() and "line" in w.status.text()
    w.signal_combo.value = None
    viewer.add_image(np.full((32, 32), 7.0), name="constant")
    w.layer_combo.value = viewer.layers["constant"]
    w.measure()
    ui.wait_idle(qtbot, w)
    assert w.result is None and "constant" in w.status.text()


def test_another_image_hides_the_overlay(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "image-quality")
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    other = viewer.add_image(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64), name="other")
    w.layer_combo.value = other
    assert w.result is None and not w.export_button.isEnabled()
    labels = w.layers.find("clipping")
    assert not labels.visible and labels.name.endswith("[for image quality (synthetic)]")


def test_regions_drawn_in_shapes_layers_give_snr_and_cnr(make_napari_viewer, qtbot, ui):
    """Signal and background regions from the 'Draw regions' layers: the SNR and CNR of those pixels,
    the same as the command line's --signal-roi/--background-roi rectangles."""
    from microscope_qc.analysis.image_quality import analyze_image_quality

    viewer = make_napari_viewer()
    rng = np.random.default_rng(5)
    img = rng.normal(300, 6, (80, 100))
    img[20:50, 30:70] += 500
    layer = viewer.add_image(img.astype(np.uint16), name="cells", scale=(0.2, 0.2), translate=(1.0, 2.0))
    _, w = ui.open_dock(viewer, NAME)
    w.layer_combo.value = layer
    w.regions_button.native.click()
    signal, background = viewer.layers["signal regions"], viewer.layers["background regions"]
    assert w.signal_combo.value is signal and w.background_combo.value is background
    # the layers lie over the image (its scale and translate): rows 25..45, columns 35..65; rows 0..10
    assert tuple(signal.scale) == (0.2, 0.2) and tuple(signal.translate) == (1.0, 2.0)
    signal.add_rectangles(np.array([[25.0, 35.0], [45.0, 65.0]]))
    background.add_rectangles(np.array([[0.0, 0.0], [10.0, 99.0]]))
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    s = img.astype(np.uint16).astype(float)
    sig, bg = s[25:46, 35:66], s[0:11, :]
    assert r.regions_method == "regions"
    assert r.metric("snr").value == pytest.approx((sig.mean() - bg.mean()) / bg.std(), rel=1e-9)
    assert r.metric("cnr").value == pytest.approx(
        (sig.mean() - bg.mean()) / np.sqrt(sig.var() + bg.var()), rel=1e-9
    )
    assert "'signal regions' (1 shape)" in r.settings["snr_regions"].value
    assert "SNR regions: signal: 'signal regions'" in w.summary.text()
    # the command line's rectangles give the same numbers
    sm = np.zeros(s.shape, bool)
    sm[25:46, 35:66] = True
    bm = np.zeros(s.shape, bool)
    bm[0:11, :] = True
    cli = analyze_image_quality(img.astype(np.uint16), signal_mask=sm, background_mask=bm)
    assert cli.metric("snr").value == pytest.approx(r.metric("snr").value, rel=1e-12)


def test_sampling_from_the_optics_and_bleaching_of_a_time_series(make_napari_viewer, qtbot, ui):
    from microscope_qc.instrument import nyquist_sampling

    viewer = make_napari_viewer()
    rng = np.random.default_rng(6)
    cell = np.hypot(*np.mgrid[-32:32, -32:32]) < 20
    t = np.arange(30)[:, None, None]
    series = (100 + 800 * np.exp(-0.05 * t) * cell + rng.normal(0, 4, (30, 64, 64))).astype(np.uint16)
    layer = viewer.add_image(series, name="movie", scale=(1, 0.1, 0.1), metadata={"timepoints": 30})
    _, w = ui.open_dock(viewer, NAME)
    w.layer_combo.value = layer
    assert w.stack.value.startswith("time") and not w.frame_interval.native.isHidden()
    w.frame_interval.value = "2"
    w.optics["modality"].value = "widefield"
    w.optics["na"].value = "1.4"
    w.optics["immersion_index"].value = "1.515"
    w.optics["wavelength_em_nm"].value = "520"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    nyquist = nyquist_sampling("widefield", 1.4, 1.515, None, 520.0)[0]
    assert r.metric("pixel_over_nyquist").value == pytest.approx(0.1 / nyquist, rel=1e-12)
    assert r.metric("bleaching_rate_per_frame").value == pytest.approx(0.05, rel=0.02)
    assert r.metric("bleaching_half_life_s").value == pytest.approx(2 * np.log(2) / 0.05, rel=0.02)
    assert "bleaching" in set(r.checks["check"]) and "Bleaching:" in w.summary.text()
    assert len(w.bleaching_plot.curves) == 2 and len(w.bleaching_plot.curves[0][2]) == 30
    # the same stack as a z-stack: its middle plane, no bleaching
    w.stack.value = w.stack.choices[0]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert "bleaching" not in set(w.result.checks["check"]) and "Plane 15 of 30" in " ".join(
        w.result.warnings
    )


def test_a_time_series_of_stacks_uses_its_middle_plane(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(7)
    cell = np.hypot(*np.mgrid[-24:24, -24:24]) < 15
    t = np.arange(12)[:, None, None, None]
    z = np.array([0.2, 1.0, 0.2])[None, :, None, None]
    movie = (100 + 600 * z * np.exp(-0.1 * t) * cell + rng.normal(0, 3, (12, 3, 48, 48))).astype(np.uint16)
    layer = viewer.add_image(movie, name="4d")
    _, w = ui.open_dock(viewer, NAME)
    w.layer_combo.value = layer
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    r = w.result
    assert r is not None, w.status.text()
    assert r.metric("bleaching_rate_per_frame").value == pytest.approx(0.1, rel=0.02)
    # the checked plane is frame 0's middle plane: its signal is the bright one
    assert r.tables["bleaching"]["signal"].iloc[0] == pytest.approx(600, rel=0.02)
    assert w.layers.find("clipping").data.shape == (48, 48)

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
    w.nyquist.value = "-2"
    w.measure()
    assert "'Nyquist pixel (µm)'" in w.status.text()
    w.nyquist.value = ""
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

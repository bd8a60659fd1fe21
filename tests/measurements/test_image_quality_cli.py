"""``microscope-qc image-quality`` end to end, on the registered sample."""

from __future__ import annotations

import json

import pytest

from microscope_qc.cli import main


@pytest.mark.slow
def test_image_quality_sample(tmp_path):
    image = tmp_path / "iq.ome.tif"
    assert main(["sample", "image-quality", str(image)]) == 0
    truth = json.loads((tmp_path / "iq_truth.json").read_text())
    out = tmp_path / "out"
    main(["image-quality", str(image), "--out", str(out), "-q"])
    m = json.loads((out / "iq" / "results.json").read_text())["metrics"]
    assert m["saturated_percent"]["value"] == pytest.approx(truth["saturated_percent"], abs=1e-12)
    assert m["noise_sd_counts"]["value"] == pytest.approx(truth["noise_sd_counts"], rel=0.10)
    assert (out / "iq" / "checks.csv").exists() and "<svg" in (out / "iq" / "report.html").read_text()

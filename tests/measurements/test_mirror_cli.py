"""``microscope-qc mirror`` end to end, on the registered sample."""

from __future__ import annotations

import json

import pytest

from microscope_qc.cli import main


@pytest.mark.slow
def test_mirror_sample_with_theory_and_roi(tmp_path, capsys):
    image = tmp_path / "mirror.ome.tif"
    assert main(["sample", "mirror-xz", str(image)]) == 0
    truth = json.loads((tmp_path / "mirror_truth.json").read_text())
    out = tmp_path / "out"
    args = ["--na", "1.4", "--immersion-index", "1.518", "--wavelength-ex", "488", "-q"]
    assert main(["mirror", str(image), "--out", str(out), *args]) == 0
    doc = json.loads((out / "mirror" / "results.json").read_text())
    m = doc["metrics"]
    # the z step is the file's row spacing (an XZ scan)
    assert doc["settings"]["z_step_um"]["value"] == pytest.approx(truth["z_step_um"])
    assert m["band_fwhm_min_um"]["value"] == pytest.approx(truth["fwhm_z_centre_um"], rel=0.02)
    assert m["ratio_to_theory"]["value"] > 1
    assert (out / "mirror" / "bands.csv").exists()
    assert "<svg" in (out / "mirror" / "report.html").read_text()
    assert (
        main(["mirror", str(image), "--out", str(tmp_path / "roi"), "--roi", "96", "0", "64", "64", "-q"])
        == 0
    )
    roi = json.loads((tmp_path / "roi" / "mirror" / "results.json").read_text())["metrics"]
    assert roi["fwhm_z_um"]["value"] == pytest.approx(truth["fwhm_z_centre_um"], rel=0.02)
    capsys.readouterr()
    assert (
        main(["mirror", str(image), "--out", str(tmp_path / "bad"), "--roi", "250", "0", "20", "64", "-q"])
        == 2
    )
    assert "not inside" in capsys.readouterr().err

"""``microscope-qc resolution`` end to end, on the registered sample."""

from __future__ import annotations

import json

import pytest

from microscope_qc.cli import main


def _metrics(folder):
    return json.loads((folder / "results.json").read_text())["metrics"]


@pytest.mark.slow
def test_resolution_pair_split_and_decorrelation(tmp_path, capsys):
    image = tmp_path / "res.ome.tif"
    assert main(["sample", "resolution-pair", str(image)]) == 0
    pair = tmp_path / "res_pair.ome.tif"
    truth = json.loads((tmp_path / "res_truth.json").read_text())["resolution_um"]
    assert main(["resolution", str(image), "--pair", str(pair), "--out", str(tmp_path / "frc"), "-q"]) == 0
    frc = _metrics(tmp_path / "frc" / "res")
    assert frc["resolution_um"]["value"] == pytest.approx(truth, rel=0.10)
    assert frc["resolution_um"]["unit"] == "um"
    html = (tmp_path / "frc" / "res" / "report.html").read_text()
    assert "<svg" in html and "Fourier ring correlation" in html
    assert (tmp_path / "frc" / "res" / "curve.csv").exists()

    out = tmp_path / "split"
    assert main(["resolution", str(image), "--gain", "0.5", "--offset", "100", "--out", str(out), "-q"]) == 0
    assert _metrics(out / "res")["resolution_um"]["value"] == pytest.approx(truth, rel=0.10)

    out = tmp_path / "decorr"
    assert main(["resolution", str(image), "--method", "decorrelation", "--out", str(out), "-q"]) == 0
    assert _metrics(out / "res")["resolution_um"]["value"] == pytest.approx(truth, rel=0.10)
    assert "Decorrelation analysis" in (out / "res" / "report.html").read_text()

    capsys.readouterr()
    assert main(["resolution", str(image), "--method", "frc", "--out", str(tmp_path / "bad"), "-q"]) == 2
    assert "--pair FILE2" in capsys.readouterr().err

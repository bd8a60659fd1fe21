"""The resolution command takes the optics from the shared microscope settings (--na, --wavelength-em)."""

from __future__ import annotations

import json

import pytest

from microscope_qc.cli import main


@pytest.mark.slow
def test_optics_from_the_command_line_give_the_ratio(tmp_path):
    image = tmp_path / "blurred.ome.tif"
    assert main(["sample", "resolution-blurred", str(image)]) == 0
    out = tmp_path / "out"
    pair = str(tmp_path / "blurred_pair.ome.tif")
    args = ["--pair", pair, "--na", "1.4", "--wavelength-em", "520", "--no-map", "-q"]
    assert main(["resolution", str(image), "--out", str(out), *args]) == 0
    doc = json.loads((out / "blurred" / "results.json").read_text())
    assert doc["metrics"]["theory_resolution_um"]["value"] == pytest.approx(0.520 / 2.8)
    assert doc["settings"]["na"]["value"] == 1.4 and doc["settings"]["na"]["source"] == "user"
    assert doc["settings"]["wavelength_em_nm"]["value"] == 520.0
    assert {f["fault"] for f in doc["findings"] if f["severity"] == "fault"} == {"frc_resolution_loss"}

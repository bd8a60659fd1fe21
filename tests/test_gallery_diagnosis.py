"""Every gallery sample's diagnosis matches its truth: the faulty ones are named, the good ones are not flagged.

Each sample is written as the ``sample`` command writes it and analysed as the measurement's
command does (default settings, the options its docs page gives); its measurement's findings
rule must name exactly the faults built into the sample as faults, and at least note what the
sample holds at a level within tolerance (``Sample.notes``: three dust specks, a few hot pixels).
"""

from __future__ import annotations

import pytest

from microscope_qc.cli_analysis import analyse, parse_measurement_options
from microscope_qc.findings import Severity, faults_found
from microscope_qc.measurements import all_samples
from microscope_qc.measurements.gallery_text import COMMAND_OPTIONS

#: samples whose build and analysis take more than a few seconds (vectorial PSFs, 3D beads)
SLOW = {
    key
    for key, (m, _) in all_samples().items()
    if m.name in ("psf", "coregistration") or key == "stage-drift"
}


@pytest.mark.parametrize(
    "key", [pytest.param(k, marks=pytest.mark.slow) if k in SLOW else k for k in all_samples()]
)
def test_diagnosis_matches_the_truth(key, tmp_path):
    m, sample = all_samples()[key]
    if m.findings is None:
        pytest.skip(f"{m.name} has no findings rule yet")
    path = tmp_path / f"{key}{sample.suffixes[0]}"
    sample.write_new(path)
    options = [o.format(stem=str(tmp_path / key)) for o in COMMAND_OPTIONS.get(key, ())]
    args = parse_measurement_options(m, [str(path), "--out", str(tmp_path / "out"), "-q", *options])
    result = analyse(m, [path], tmp_path / "out" / key, args, key).result
    findings = m.findings(result)
    assert faults_found(findings) == set(sample.faults), [f.text for f in findings]
    noted = {f.fault for f in findings if f.severity in (Severity.NOTE, Severity.FAULT)}
    assert set(sample.notes) <= noted, [f.text for f in findings]

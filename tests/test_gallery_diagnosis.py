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
    assert m.findings is not None, f"{m.name} has no findings rule"
    path = tmp_path / f"{key}{sample.suffixes[0]}"
    sample.write_new(path)
    options = [o.format(stem=str(tmp_path / key)) for o in COMMAND_OPTIONS.get(key, ())]
    args = parse_measurement_options(m, [str(path), "--out", str(tmp_path / "out"), "-q", *options])
    result = analyse(m, [path], tmp_path / "out" / key, args, key).result
    findings = m.findings(result)
    assert faults_found(findings) == set(sample.faults), [f.text for f in findings]
    noted = {f.fault for f in findings if f.severity in (Severity.NOTE, Severity.FAULT)}
    assert set(sample.notes) <= noted, [f.text for f in findings]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("key", "words"),
    [
        # oil objective 6 µm into water: the sample is less dense than the immersion medium
        ("psf-spherical-water", ("sample less dense than the immersion medium", "beads in water")),
        # water objective under a 140 µm coverslip, collar at 170 µm
        ("psf-spherical-coverslip", ("30 µm thinner",)),
    ],
)
def test_spherical_finding_states_the_true_cause(key: str, words: tuple[str, ...], tmp_path) -> None:
    m, sample = all_samples()[key]
    path = tmp_path / f"{key}{sample.suffixes[0]}"
    sample.write_new(path)
    args = parse_measurement_options(m, [str(path), "--out", str(tmp_path / "out"), "-q"])
    result = analyse(m, [path], tmp_path / "out" / key, args, key).result
    texts = [
        f.text
        for f in m.findings(result)
        if f.fault == "spherical_aberration" and f.severity is Severity.FAULT
    ]
    assert texts, "the spherical aberration is not named"
    for w in words:
        assert w in texts[0], texts[0]

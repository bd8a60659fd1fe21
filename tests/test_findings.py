"""The shared vocabulary of faults and findings (microscope_qc.findings)."""

from __future__ import annotations

import pytest

from microscope_qc.findings import FAULTS, Evidence, Finding, Severity, fault, faults_found, finding_record
from microscope_qc.measurements import MEASUREMENTS


def test_every_fault_names_a_registered_measurement() -> None:
    unknown = {f.code: f.measurement for f in FAULTS.values() if f.measurement not in MEASUREMENTS}
    assert not unknown, f"faults naming no registered measurement: {unknown}"


def test_every_fault_has_a_title_and_a_remedy() -> None:
    for f in FAULTS.values():
        assert f.title and f.remedy, f.code
        assert f.code == f.code.lower() and " " not in f.code


def test_unknown_code_is_refused_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: .*astigmatism"):
        fault("astigmatisn")
    with pytest.raises(KeyError, match="Unknown fault"):
        Finding("no_such_fault", Severity.FAULT, "text")


def test_faults_found_counts_only_faults_and_records_are_json_ready() -> None:
    findings = [
        Finding(
            "astigmatism", Severity.FAULT, "astigmatic", (Evidence("separation", 0.5, 0.05, "µm", "> 0.38"),)
        ),
        Finding("coma", Severity.OK, "no coma"),
        Finding("spherical_aberration", Severity.NOTE, "slight"),
    ]
    assert faults_found(findings) == {"astigmatism"}
    record = finding_record(findings[0])
    assert record["title"] == "Astigmatism"
    assert record["severity"] == "fault"
    assert record["evidence"] == [
        {"label": "separation", "value": 0.5, "uncertainty": 0.05, "unit": "µm", "limit": "> 0.38"}
    ]
    assert finding_record(findings[1])["evidence"] == []

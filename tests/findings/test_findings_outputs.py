"""Findings wherever a result goes: results.json, the report's Findings section near the top, the
command line's lines after the summary, and the fault codes in the QC history."""

from __future__ import annotations

import json

from microscope_qc.analysis.field import FieldSettings, analyze_field
from microscope_qc.cli import main
from microscope_qc.findings import Evidence, Finding, Severity, finding_record
from microscope_qc.history import HistoryStore
from microscope_qc.report import InputInfo, export_result
from microscope_qc.samples.flats import flat_field_misaligned_sample

INFO = InputInfo(None, None, (1, 1, 512, 512), "uint16")


def _misaligned():
    r = analyze_field(flat_field_misaligned_sample().data, FieldSettings())
    from microscope_qc.analysis.field.findings import findings

    return r, findings(r)


def test_results_json_and_report_carry_the_findings(tmp_path):
    r, found = _misaligned()
    paths = export_result(r, tmp_path / "a", INFO, findings=found)
    doc = json.loads(paths["json"].read_text())
    assert doc["findings"] == [json.loads(json.dumps(finding_record(f))) for f in found]
    fault = next(f for f in doc["findings"] if f["severity"] == "fault")
    assert fault["fault"] == "off_centre_illumination" and fault["title"] == "Off-centre illumination"
    assert fault["evidence"][0]["label"] == "centring accuracy (MetroloJ_QC)"
    page = paths["html"].read_text()
    # near the top: before the verdicts, the fault first, its evidence beside it
    assert page.index("Findings — 1 fault") < page.index("<h2>Verdicts")
    first = page.index("class='finding ")
    assert page[first:].startswith("class='finding fault' data-fault='off_centre_illumination'")
    assert "centring accuracy (MetroloJ_QC): 38.66 % (limit ≥ 50 %, default (MetroloJ_QC))" in page


def test_without_a_rule_table_findings_are_null_and_not_shown(tmp_path):
    r, _ = _misaligned()
    paths = export_result(r, tmp_path / "b", INFO)
    assert json.loads(paths["json"].read_text())["findings"] is None
    assert "Findings" not in paths["html"].read_text()


def test_a_value_that_is_not_a_number_is_written_as_null(tmp_path):
    r, _ = _misaligned()
    odd = Finding("dust", Severity.NOTE, "t", (Evidence("x", float("nan"), float("inf")),))
    doc = json.loads(export_result(r, tmp_path / "c", INFO, findings=[odd])["json"].read_text())
    assert doc["findings"][0]["evidence"][0]["value"] is None


def test_the_command_line_prints_faults_and_notes_after_the_summary_and_records_the_codes(tmp_path, capsys):
    image = tmp_path / "lamp.ome.tif"
    assert main(["sample", "flat-field-misaligned", str(image)]) == 0
    capsys.readouterr()
    history = tmp_path / "qc.sqlite"
    args = ["field", str(image), "--out", str(tmp_path / "out"), "-q", "--record", "--history", str(history)]
    assert main([*args, "--instrument-name", "Scope A"]) == 0
    out = capsys.readouterr().out
    table_end = out.index("Findings (faults, then notes")
    lines = out[table_end:].splitlines()[1:]
    assert lines[0].startswith("  lamp.ome.tif: FAULT Off-centre illumination: illumination centre 67 %")
    assert all(" NOTE " in line for line in lines[1:]) and not any(" OK " in line for line in lines)
    runs = HistoryStore(str(history)).runs("Scope A")
    assert json.loads(runs.iloc[0]["faults_json"]) == ["off_centre_illumination"]

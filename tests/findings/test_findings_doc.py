"""The rule tables: one per measurement that has findings, every row well-formed, and
docs/findings.md generated from them and up to date."""

from __future__ import annotations

from pathlib import Path

from microscope_qc.findings import FAULTS
from microscope_qc.measurements import REGISTRY
from microscope_qc.measurements.findings_doc import markdown_rules, rule_table

WITH_RULES = {"field", "coregistration", "detector", "light-source", "stage", "image-quality"}


def test_every_rule_names_a_known_fault_and_metrics_the_measurement_labels():
    have = set()
    for m in REGISTRY:
        rules = rule_table(m)
        if rules is None:
            continue
        have.add(m.name)
        for r in rules:
            assert r.fault in FAULTS
            assert r.threshold and r.why and r.statement
            unlabelled = [x for x in r.metrics if x not in m.labels]
            assert not unlabelled, f"{m.name}: {r.fault} reads metrics without a label: {unlabelled}"
    assert have >= WITH_RULES


def test_docs_findings_md_is_up_to_date():
    doc = Path(__file__).resolve().parents[2] / "docs" / "findings.md"
    assert doc.read_text(encoding="utf-8") == markdown_rules(), (
        "docs/findings.md is stale; regenerate it with the command at its top"
    )


def test_every_fault_is_diagnosed_by_a_registered_measurement():
    names = {m.name for m in REGISTRY}
    assert {f.measurement for f in FAULTS.values()} <= names

"""One wording of a verdict (report.verdicts), used by the HTML report, the widgets and the history plots."""

from __future__ import annotations

import math
from pathlib import Path

from microscope_qc.report.verdicts import comparison_sign, limit_text, unit_suffix, verdict_text
from microscope_qc.results import Verdict

SRC = Path(__file__).resolve().parents[2] / "src" / "microscope_qc"


def test_signs_follow_the_comparison():
    assert comparison_sign("<=") == "≤" and comparison_sign(">=") == "≥"
    assert limit_text("psf", "fwhm_x_um", "<=", 0.25340123) == "≤ 0.2534 µm"
    assert limit_text("field", "uniformity_percent", ">=", 50) == "≥ 50%"


def test_verdict_text_uses_human_labels_units_and_the_right_sign():
    low = Verdict.check("fwhm_x_um", 0.2213, 0.25, "<=", "theory", channel=0)
    high = Verdict.check("uniformity_percent", 41.0, 50.0, ">=", "user")
    assert verdict_text("psf", low) == "PASS: Lateral FWHM x (channel 0) 0.221 µm (limit ≤ 0.25 µm, theory)"
    assert verdict_text("field", high) == "FAIL: Uniformity U (MetroloJ_QC) 41% (limit ≥ 50%, user)"
    # results.json's form reads the same; a non-finite value is shown as a dash
    assert verdict_text("field", high.to_dict()) == verdict_text("field", high)
    assert "FAIL: Lateral FWHM x (channel 0) — (limit ≤" in verdict_text(
        "psf", Verdict.check("fwhm_x_um", math.nan, 0.25, "<=", "theory", channel=0)
    )
    assert unit_suffix("coregistration", "ratio") == ""


def test_only_report_verdicts_spells_the_signs():
    """No second copy of the ≤/≥ mapping (or of a verdict line) in the package."""
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name != "verdicts.py" and ('"<=": "≤"' in p.read_text() or "'PASS' if v.passed" in p.read_text())
    ]
    assert not offenders, offenders


def test_html_report_rows_use_the_shared_wording():
    from microscope_qc.report import InputInfo, render_html, results_document
    from microscope_qc.results import Metric, Result

    v = Verdict.check("uniformity_percent", 41.0, 50.0, ">=", "user")
    result = Result("field", metrics=[Metric("uniformity_percent", 41.0, "percent")], verdicts=[v])
    doc = results_document(result, InputInfo(None, None, (1, 1, 8, 8), "uint16"))
    page = render_html(doc, result, [], "t")
    assert "<td>≥ 50%</td>" in page
    assert "title='FAIL: Uniformity U (MetroloJ_QC) 41% (limit ≥ 50%, user)'" in page

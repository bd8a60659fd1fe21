"""Mirror findings: the confocal-reflection theory by hand, the rules at their boundaries with and without an SE,
a facility's limit, and the gallery's good and faulty mirrors against their truth."""

from __future__ import annotations

import math

import pytest

from microscope_qc.analysis.mirror import analyze_mirror, mirror_axial_fwhm_um
from microscope_qc.analysis.mirror.findings import CV_LIMIT_PERCENT, RATIO_LIMIT, findings, judge
from microscope_qc.analysis.mirror.result import MirrorResult
from microscope_qc.findings import Severity, faults_found
from microscope_qc.results import Metric, Verdict
from microscope_qc.samples.mirror import (
    GALLERY_OPTICS,
    mirror_good_sample,
    mirror_pinhole_sample,
    mirror_uneven_sample,
)


def test_theory_by_hand():
    # NA 1.4, n 1.518, 488 nm: α = asin(1.4/1.518) = 67.26°, 1 − cos α = 0.6135;
    # FWHM = 0.443 · 0.488 / (1.518 · 0.6135) = 0.2322 µm
    alpha = math.asin(1.4 / 1.518)
    assert 1 - math.cos(alpha) == pytest.approx(0.61349, abs=1e-4)
    assert mirror_axial_fwhm_um(488, 1.4, 1.518) == pytest.approx(0.2322, abs=2e-4)


@pytest.mark.parametrize(
    ("value", "se", "limit", "severity"),
    [
        (2.0, None, 2.0, Severity.OK),  # at the limit: within it
        (2.01, None, 2.0, Severity.FAULT),  # no SE: judged on the value
        (2.19, 0.1, 2.0, Severity.NOTE),  # 2.19 − 2·0.1 = 1.99 ≤ 2: not significant
        (2.21, 0.1, 2.0, Severity.FAULT),  # 2.21 − 0.2 = 2.01 > 2
        (1.9, 0.5, 2.0, Severity.OK),
    ],
)
def test_judge_at_the_boundary(value, se, limit, severity):
    assert judge(value, se, limit) is severity


def _result(ratio, ratio_se=None, cv=None, verdicts=()):
    r = MirrorResult()
    theory = 0.2322
    r.metrics += [
        Metric("fwhm_z_um", ratio * theory, "um", None, 0, ""),
        Metric("theory_fwhm_z_um", theory, "um", None, 0, ""),
        Metric("ratio_to_theory", ratio, None, ratio_se, 0, ""),
    ]
    if cv is not None:
        r.metrics += [
            Metric("band_fwhm_cv_percent", cv, "percent", None, 0, ""),
            Metric("band_fwhm_min_um", 0.25, "um", None, 0, ""),
            Metric("band_fwhm_max_um", 0.3, "um", None, 0, ""),
        ]
    r.verdicts += list(verdicts)
    return r


def test_ratio_rule_uses_the_se_and_names_the_theory():
    assert RATIO_LIMIT == 2.0 and CV_LIMIT_PERCENT == 10.0
    (f,) = findings(_result(2.15, 0.1))
    assert f.fault == "axial_resolution_loss" and f.severity is Severity.NOTE
    (f,) = findings(_result(2.25, 0.1))
    assert f.severity is Severity.FAULT
    assert "2.25 × the 0.232 µm confocal-reflection theory (limit ≤ 2)" in f.text
    assert f.evidence[0].limit == "≤ 2, default (MetroloJ_QC)"


def test_a_facility_limit_replaces_the_default():
    v = Verdict.check("ratio_to_theory", 1.6, 1.5, "<=", "instrument profile", 0)
    (f,) = findings(_result(1.6, None, verdicts=[v]))
    assert f.severity is Severity.FAULT and "limit ≤ 1.5" in f.text


def test_cv_rule_at_its_boundary():
    assert faults_found(findings(_result(1.2, cv=10.0))) == set()
    assert faults_found(findings(_result(1.2, cv=10.5))) == {"uneven_axial_resolution"}


def test_no_optics_no_ratio_finding():
    s = mirror_good_sample()
    r = analyze_mirror(s.data, z_step_um=s.z_step_um, x_step_um=s.x_step_um)
    assert {f.fault for f in findings(r)} == {"uneven_axial_resolution"}


@pytest.mark.parametrize(
    ("make", "faults", "ratio"),
    [
        (mirror_good_sample, set(), 1.15),
        (mirror_pinhole_sample, {"axial_resolution_loss"}, 3.0),
        (mirror_uneven_sample, {"uneven_axial_resolution"}, 1.15),
    ],
)
def test_gallery_mirrors_against_their_truth(make, faults, ratio):
    s = make()
    o = GALLERY_OPTICS
    assert s.truth["theory_fwhm_z_um"] == pytest.approx(
        mirror_axial_fwhm_um(o["wavelength_nm"], o["na"], o["immersion_index"])
    )
    assert s.truth["fwhm_z_centre_um"] == pytest.approx(ratio * s.truth["theory_fwhm_z_um"], abs=1e-4)
    r = analyze_mirror(
        s.data,
        z_step_um=s.z_step_um,
        x_step_um=s.x_step_um,
        wavelength_nm=o["wavelength_nm"],
        na=o["na"],
        immersion_index=o["immersion_index"],
    )
    assert faults_found(findings(r)) == faults
    # the smallest band FWHM (the centre's) is the truth within 2 %
    m = {x.name: x for x in r.metrics}
    assert m["band_fwhm_min_um"].value == pytest.approx(s.truth["fwhm_z_centre_um"], rel=0.02)
    assert m["ratio_to_theory"].uncertainty is not None and m["ratio_to_theory"].uncertainty > 0

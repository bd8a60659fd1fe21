"""Resolution findings: Abbe's limit by hand, the rules at their boundaries, the optics from the command line,
and the gallery's good, under-sampled and blurred pairs against their truth."""

from __future__ import annotations

import pytest

from microscope_qc.analysis.resolution import ResolutionSettings, analyze_resolution
from microscope_qc.analysis.resolution.findings import RATIO_LIMIT, SAMPLING_LIMIT_PX, findings
from microscope_qc.analysis.resolution.result import ResolutionResult
from microscope_qc.analysis.resolution.theory import abbe_resolution_um
from microscope_qc.findings import Severity, faults_found
from microscope_qc.results import Metric, Verdict
from microscope_qc.samples.resolution import (
    GALLERY_OPTICS,
    resolution_blurred_sample,
    resolution_sample,
    resolution_undersampled_sample,
)


def test_abbe_by_hand():
    assert abbe_resolution_um(520, 1.4) == pytest.approx(0.520 / 2.8)  # 0.1857 µm
    assert abbe_resolution_um(600, 1.0) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="positive"):
        abbe_resolution_um(520, 0)


def _result(res_um, px, theory=None, se=None, verdicts=()):
    r = ResolutionResult()
    r.metrics += [
        Metric("resolution_um", res_um, "um", None, 0, ""),
        Metric("resolution_px", px, "px", None, 0, ""),
    ]
    if theory is not None:
        r.metrics += [
            Metric("theory_resolution_um", theory, "um", None, 0, ""),
            Metric("ratio_to_theory", res_um / theory, None, se, 0, ""),
        ]
    r.verdicts += list(verdicts)
    return r


@pytest.mark.parametrize(
    ("px", "faulty"), [(2.0, True), (SAMPLING_LIMIT_PX, True), (2.51, False), (4.0, False)]
)
def test_sampling_rule_at_its_boundary(px, faulty):
    found = findings(_result(0.05 * px, px))
    assert [f.fault for f in found] == ["sampling_limited_resolution"]  # no optics: no ratio finding
    assert (found[0].severity is Severity.FAULT) is faulty


@pytest.mark.parametrize(
    ("res", "se", "severity"),
    [
        (0.4, None, Severity.OK),  # exactly 2 × 0.2
        (0.41, None, Severity.FAULT),
        (0.41, 0.1, Severity.NOTE),  # 2.05 − 2·0.1 < 2
        (0.5, 0.1, Severity.FAULT),  # 2.5 − 0.2 > 2
    ],
)
def test_ratio_rule_at_its_boundary(res, se, severity):
    assert RATIO_LIMIT == 2.0
    f = next(f for f in findings(_result(res, 8.0, theory=0.2, se=se)) if f.fault == "frc_resolution_loss")
    assert f.severity is severity


def test_a_facility_limit_replaces_the_default():
    v = Verdict.check("ratio_to_theory", 1.6, 1.5, "<=", "instrument profile", 0)
    f = findings(_result(0.32, 8.0, theory=0.2, verdicts=[v]))[0]
    assert f.severity is Severity.FAULT and "limit ≤ 1.5" in f.text


def test_the_analysis_adds_the_theory_only_with_the_optics():
    s = resolution_sample()
    bare = analyze_resolution(s.image, ResolutionSettings(local_map=False), pixel_size_um=0.05, pair=s.pair)
    assert "ratio_to_theory" not in {m.name for m in bare.metrics} and "na" not in bare.settings
    st = ResolutionSettings(local_map=False)
    r = analyze_resolution(s.image, st, pixel_size_um=0.05, pair=s.pair, na=1.4, wavelength_em_nm=520.0)
    m = {x.name: x.value for x in r.metrics}
    assert m["theory_resolution_um"] == pytest.approx(0.520 / 2.8)
    assert m["ratio_to_theory"] == pytest.approx(m["resolution_um"] / m["theory_resolution_um"])
    assert r.settings["na"].value == 1.4 and r.settings["wavelength_em_nm"].value == 520.0


@pytest.mark.parametrize(
    ("make", "faults", "truth_um", "truth_px"),
    [
        (resolution_sample, set(), 0.2, 4.0),
        (resolution_undersampled_sample, {"sampling_limited_resolution"}, 0.2, 0.2 / 0.09),
        (resolution_blurred_sample, {"frc_resolution_loss"}, 0.5, 10.0),
    ],
)
@pytest.mark.parametrize("method", ["frc", "decorrelation"])
def test_gallery_pairs_against_their_truth(make, faults, truth_um, truth_px, method):
    s = make()
    assert s.truth["resolution_um"] == pytest.approx(truth_um)
    assert s.truth["resolution_px"] == pytest.approx(truth_px)
    st = ResolutionSettings(method=method, local_map=False)
    pair = s.pair if method == "frc" else None
    r = analyze_resolution(s.image, st, pixel_size_um=s.pixel_size_um, pair=pair, **GALLERY_OPTICS)
    m = {x.name: x.value for x in r.metrics}
    # measured on seed 0: within 5 % of the truth (the blurred FRC 0.477 µm, the others within 2 %)
    assert m["resolution_um"] == pytest.approx(truth_um, rel=0.05)
    assert faults_found(findings(r)) == faults


def _frc_curve_result(frc_tail: float, threshold: str = "1/7") -> ResolutionResult:
    import numpy as np
    import pandas as pd

    from microscope_qc.instrument.settings import Setting, Source

    n = 100
    frc = np.linspace(1.0, frc_tail, n)
    r = ResolutionResult(method="frc")
    r.tables["curve"] = pd.DataFrame(
        {
            "frequency_per_um": np.linspace(0, 5, n),
            "frc": frc,
            "threshold_1_7": 1 / 7,
            "threshold_half_bit": 0.3,
        }
    )
    r.settings["frc_threshold"] = Setting(threshold, None, Source.USER)
    return r


@pytest.mark.parametrize(
    ("tail", "threshold", "faulty"),
    [(0.5, "1/7", True), (0.2, "1/7", True), (0.2, "half-bit", False), (0.1, "1/7", False)],
)
def test_an_frc_above_its_threshold_up_to_nyquist_is_sampling_limited(tail, threshold, faulty):
    """No crossing (no resolution reported) with the curve still above the threshold chosen at its end."""
    from microscope_qc.analysis.resolution.findings import NYQUIST_BAND

    assert NYQUIST_BAND == 0.05
    found = findings(_frc_curve_result(tail, threshold))
    assert ("sampling_limited_resolution" in faults_found(found)) is faulty


def test_a_truly_under_sampled_pair_has_no_resolution_but_is_named():
    """0.2 µm optics on 125 nm pixels (1.6 px): the FRC never falls to 1/7, and the grid is named."""
    from microscope_qc.samples.resolution import _gallery

    s = _gallery(0, 0.2, 0.125, fault="resolution 1.6 px")
    r = analyze_resolution(s.image, pixel_size_um=s.pixel_size_um, pair=s.pair, na=1.4, wavelength_em_nm=520)
    assert not any(m.name == "resolution_um" for m in r.metrics)
    assert faults_found(findings(r)) == {"sampling_limited_resolution"}

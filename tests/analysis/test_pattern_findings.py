"""The pattern measurement's findings on the synthetic slides: each sample's built-in faults, no others."""

from __future__ import annotations

import dataclasses

import pytest

from microscope_qc.analysis.pattern import PatternSettings, analyze_pattern
from microscope_qc.analysis.pattern.findings import (
    RESOLUTION_MARGIN,
    pattern_findings,
    resolved_spacing_over_fwhm,
)
from microscope_qc.findings import FAULTS, Severity, faults_found
from microscope_qc.instrument import MicroscopeSettings, Setting, Source
from microscope_qc.measurements import get_measurement
from microscope_qc.samples import pattern_ladder_sample, pattern_lines_sample, pattern_rings_sample


def _ms(px: float) -> MicroscopeSettings:
    return MicroscopeSettings(voxel_size_um=(1.0, px, px))


@pytest.fixture(scope="module")
def rings():
    s = pattern_rings_sample()
    return analyze_pattern(s.data, PatternSettings(microscope=_ms(s.pixel_size_um[1]), nominal_pitch_um=5.0))


@pytest.fixture(scope="module")
def lines():
    s = pattern_lines_sample()
    # the sample's PSF FWHM 0.24 µm is the Airy FWHM 0.5145·λ/NA of NA 1.115 at 520 nm
    ms = _ms(s.pixel_size_um).with_values(na=1.115).with_wavelengths([488.0], [520.0])
    return analyze_pattern(s.image, PatternSettings(microscope=ms))


def _codes(findings, severity):
    return {f.fault for f in findings if f.severity is severity}


def test_the_rule_tables_codes_are_known():
    for code in ("field_distortion", "resolution_loss", "nonlinear_response"):
        assert FAULTS[code].measurement == "pattern"
    assert get_measurement("pattern").findings is not None


def test_the_dip_criterion_in_fwhm():
    # two Gaussians of FWHM w: a 26.5 % dip at 1.189 w (computed independently: 2.7994 σ)
    assert resolved_spacing_over_fwhm(26.5) == pytest.approx(2.7994 / 2.35482, abs=1e-3)
    assert resolved_spacing_over_fwhm(10.0) < resolved_spacing_over_fwhm(26.5)


def test_the_good_field_of_rings(rings):
    f = pattern_findings(rings)
    assert not faults_found(f)
    assert _codes(f, Severity.OK) >= {"field_distortion", "uneven_illumination"}
    # the 144 nm channel shift is measured, a note: well within the spot FWHM
    (shift,) = [x for x in f if x.fault == "chromatic_shift"]
    assert shift.severity is Severity.NOTE and shift.evidence[0].value == pytest.approx(0.1442, abs=0.002)
    # a stricter limit makes the 0.34 % distortion a fault, and an uneven field the illumination one
    strict = dataclasses.replace(rings, settings={**rings.settings})
    strict.settings["tolerance_distortion_percent"] = Setting(0.2, "percent", Source.USER)
    strict.settings["tolerance_uniformity_percent"] = Setting(80.0, "percent", Source.USER)
    assert faults_found(pattern_findings(strict)) == {"field_distortion", "uneven_illumination"}


def test_line_pairs_against_the_theory(lines):
    f = pattern_findings(lines)
    (res,) = f
    assert res.fault == "resolution_loss" and res.severity is Severity.OK
    ratio = res.evidence[2].value
    assert ratio == pytest.approx(1.0, abs=0.05)  # the sample is at the theory
    # an NA the image does not reach: a fault
    high = dataclasses.replace(lines, settings={**lines.settings})
    high.settings["na"] = Setting(1.4, None, Source.USER)
    (res,) = pattern_findings(high)
    assert res.severity is Severity.FAULT and res.evidence[2].value > RESOLUTION_MARGIN
    # no NA: a note asking for it
    none = dataclasses.replace(lines, settings={k: v for k, v in lines.settings.items() if k != "na"})
    (res,) = pattern_findings(none)
    assert res.severity is Severity.NOTE and "NA" in res.text


def test_each_samples_faults_are_what_its_findings_name(rings, lines):
    ladder = analyze_pattern(pattern_ladder_sample().image, PatternSettings(kind="ladder"))
    results = {"pattern-rings": rings, "pattern-lines": lines, "pattern-ladder": ladder}
    for sample in get_measurement("pattern").samples:
        assert faults_found(pattern_findings(results[sample.key])) == set(sample.faults), sample.key
    assert {"nonlinear_response", "saturation"} <= faults_found(pattern_findings(ladder))

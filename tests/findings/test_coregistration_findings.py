"""Co-registration findings against synthetic truth: the documented two-colour sample passes, a
wrong dichroic's shift beyond the resolution and a magnification difference are each named."""

from __future__ import annotations

import pytest

from microscope_qc.analysis.coregistration import CoregistrationSettings, analyze_coregistration
from microscope_qc.analysis.coregistration.findings import findings
from microscope_qc.findings import Severity, faults_found
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.samples import (
    BeadSampleSpec,
    ChannelTransform,
    coregistration_sample,
    make_multicolour_beads,
)

SPEC = BeadSampleSpec(shape=(40, 384, 384), n_beads=30, hot_pixels=0, seed=0)


def _analyse(sample):
    sp = sample.spec
    ms = (
        MicroscopeSettings()
        .with_values(
            modality="widefield", na=sp.na, immersion_index=sp.immersion_index, voxel_size_um=sp.voxel_size_um
        )
        .with_wavelengths(
            [t.wavelength_ex_nm for t in sample.transforms], [t.wavelength_em_nm for t in sample.transforms]
        )
    )
    return analyze_coregistration(sample.data, CoregistrationSettings(microscope=ms))


def _red(**kw):
    return (ChannelTransform("green", 488, 520), ChannelTransform("red", 561, 610, **kw))


def test_the_documented_sample_has_no_fault():
    found = findings(_analyse(coregistration_sample()))
    assert faults_found(found) == set()
    shift = next(f for f in found if f.fault == "chromatic_shift")
    assert shift.severity is Severity.OK and "0.40 × the resolution" in shift.text


def test_a_shift_beyond_the_resolution_is_named_with_its_size():
    # 0.354 µm lateral and 0.3 µm axial: 1.6 × the resolution ellipsoid's radius along the shift
    found = findings(_analyse(make_multicolour_beads(SPEC, _red(shift_yx_um=(0.25, -0.25), shift_z_um=0.3))))
    assert faults_found(found) == {"chromatic_shift"}
    f = next(f for f in found if f.fault == "chromatic_shift")
    assert f.channel is not None
    labels = {e.label: e for e in f.evidence}
    assert labels["lateral distance"].value == pytest.approx(0.354, abs=0.01)
    assert labels["axial distance"].value == pytest.approx(0.3, abs=0.02)
    assert labels["d / r_ref (MetroloJ_QC)"].value > 1 and "dichroic" in f.text


def test_a_magnification_difference_is_named_though_the_mean_shift_passes():
    found = findings(_analyse(make_multicolour_beads(SPEC, _red(magnification=0.04))))
    assert faults_found(found) == {"chromatic_magnification"}
    f = next(f for f in found if f.fault == "chromatic_magnification")
    assert f.evidence[0].value == pytest.approx(4.0, rel=0.05)  # percent
    assert next(f for f in found if f.fault == "chromatic_shift").severity is Severity.OK

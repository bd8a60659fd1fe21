"""Theoretical resolution and Nyquist formulas against hand-computed values (METRICS.md §1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import j1

from microscope_qc.instrument import (
    FWHM_PER_SIGMA,
    MicroscopeSettings,
    Modality,
    SettingsError,
    Source,
    bead_fwhm_um,
    correct_for_bead,
    gaussian_psf_sigma,
    metroloj_resolution,
    nyquist_sampling,
    physical_resolution,
)


def test_fwhm_constant():
    assert FWHM_PER_SIGMA == pytest.approx(2.354820045)


@pytest.mark.parametrize(
    ("modality", "lateral", "axial"),
    [
        # NA 1.4, n 1.518, λex 488, λem 520 by hand
        ("widefield", 0.51 * 0.520 / 1.4, 1.77 * 1.518 * 0.520 / 1.4**2),
        ("confocal", 0.51 * 0.488 / 1.4, 0.88 * 0.488 / (1.518 - math.sqrt(1.518**2 - 1.96))),
        ("spinning_disk", 0.51 * 0.520 / 1.4, 0.520 / (1.518 - math.sqrt(1.518**2 - 1.96))),
        ("multiphoton", 0.383 * 0.488 / 1.4**0.91, 0.626 * 0.488 / (1.518 - math.sqrt(1.518**2 - 1.96))),
    ],
)
def test_metroloj_formulas(modality, lateral, axial):
    t = metroloj_resolution(modality, 1.4, 1.518, 488, 520)
    assert t.lateral_um == pytest.approx(lateral, rel=1e-12)
    assert t.axial_um == pytest.approx(axial, rel=1e-12)


def test_multiphoton_low_na_branch():
    assert metroloj_resolution("multiphoton", 0.5, 1.33, 900, None).lateral_um == pytest.approx(
        0.377 * 0.9 / 0.5
    )


def test_airy_constant_is_the_numeric_root():
    # [2 J1(v)/v]^2 = 1/2 at v = 1.6163; FWHM = 2 v / (2π) · λ/NA = 0.5145 λ/NA
    v = np.linspace(1.5, 1.7, 200001)
    root = v[np.argmin(np.abs((2 * j1(v) / v) ** 2 - 0.5))]
    assert 2 * root / (2 * math.pi) == pytest.approx(0.5145, abs=1e-4)
    assert physical_resolution("widefield", 1.4, 1.518, None, 520).lateral_um == pytest.approx(
        0.5145 * 0.52 / 1.4
    )


def test_paraxial_axial_overestimates_at_high_na():
    par = metroloj_resolution("widefield", 1.4, 1.518, None, 520).axial_um
    non = physical_resolution("widefield", 1.4, 1.518, None, 520).axial_um
    assert par / non == pytest.approx(1.45, abs=0.05)  # METRICS.md: ~44 % at NA 1.4


def test_confocal_pinhole_limits():
    open_ = physical_resolution("confocal", 1.4, 1.518, 488, 520, pinhole_au=1.0)
    closed = physical_resolution("confocal", 1.4, 1.518, 488, 520, pinhole_au=0.2)
    mid = physical_resolution("confocal", 1.4, 1.518, 488, 520, pinhole_au=0.6)
    lam_bar = math.sqrt(2) * 0.488 * 0.520 / math.sqrt(0.488**2 + 0.520**2)
    assert closed.lateral_um == pytest.approx(0.37 * lam_bar / 1.4)
    assert closed.lateral_um < mid.lateral_um < open_.lateral_um


def test_nyquist():
    a = math.asin(1.4 / 1.518)
    dxy, dz = nyquist_sampling("widefield", 1.4, 1.518, 488, 520)
    assert dxy == pytest.approx(0.520 / (4 * 1.4))
    assert dz == pytest.approx(0.520 / (2 * 1.518 * (1 - math.cos(a))))
    dxy, dz = nyquist_sampling("confocal", 1.4, 1.518, 488, 520)
    assert dxy == pytest.approx(0.488 / (8 * 1.4))


def test_gaussian_approximation_paraxial_limit():
    # Zhang et al. 2007, Table 1: the paraxial widefield limit is σ_xy = sqrt(2)/(k·NA)
    s_xy, _ = gaussian_psf_sigma(0.05, 1.0, 520)
    assert s_xy == pytest.approx(math.sqrt(2) / (2 * math.pi / 0.52 * 0.05), rel=1e-3)


def test_bead_correction():
    assert bead_fwhm_um(0.2) == pytest.approx(0.527 * 0.2, rel=1e-3)
    assert bead_fwhm_um(0.2, shell=True) == pytest.approx(0.680 * 0.2, rel=1e-3)
    assert float(correct_for_bead(0.3, 0.2)) == pytest.approx(math.sqrt(0.09 - (0.527 * 0.2) ** 2), rel=1e-3)
    assert np.isnan(correct_for_bead(0.05, 0.2))


def test_settings_validation_and_provenance():
    ms = MicroscopeSettings().with_values(na=1.4, immersion_index=1.518, modality="Wide-field")
    assert ms.modality is Modality.WIDEFIELD
    assert ms.source_of("na").source is Source.USER
    assert ms.source_of("voxel_size_um").source is Source.MISSING
    with pytest.raises(SettingsError, match=r"the voxel size \(z, y, x in µm\)") as info:
        ms.require("voxel_size_um")
    assert info.value.fields == ["voxel_size_um"]  # the setting's name, for each front-end to word
    with pytest.raises(SettingsError, match="smaller than the immersion index"):
        MicroscopeSettings(na=1.4, immersion_index=1.33).validate()
    with pytest.raises(SettingsError, match="nm"):
        MicroscopeSettings().with_wavelengths([0.52], None).validate()
    with pytest.raises(SettingsError, match="Unknown modality"):
        Modality.parse("holographic")

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
    light_sheet_axial_fwhm_um,
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


# ------------------------------------------------------------------------------------ light-sheet
def test_light_sheet_modality_is_parsed_from_common_names():
    for text in ("light-sheet", "Light sheet", "light_sheet", "lattice light-sheet", "SPIM", "LSFM", "LLSM"):
        assert Modality.parse(text) is Modality.LIGHT_SHEET, text
    assert str(Modality.LIGHT_SHEET) == "light-sheet"
    # every modality's own name parses back to it (CLI and widget choices come from the members)
    for m in Modality:
        assert Modality.parse(m.value) is m and Modality.parse(str(m).upper()) is m


def test_light_sheet_theory_by_hand():
    # detection NA 1.1 water, λem 605 nm, sheet 1.0 µm FWHM: 1/FWHM_z² = 1/FWHM_det² + 1/FWHM_sheet²
    na, n, lam, sheet = 1.1, 1.33, 0.605, 1.0
    det_metroloj = 1.77 * n * lam / na**2  # 1.17705 µm
    det_physical = 0.88 * lam / (n - math.sqrt(n**2 - na**2))  # 0.91414 µm
    t = metroloj_resolution("light-sheet", na, n, 560, 605, sheet_thickness_um=sheet)
    assert t.lateral_um == pytest.approx(0.51 * lam / na, rel=1e-12)
    assert t.axial_um == pytest.approx(1 / math.sqrt(det_metroloj**-2 + sheet**-2), rel=1e-12)
    assert t.axial_um == pytest.approx(0.76210, abs=1e-5)
    p = physical_resolution("light-sheet", na, n, 560, 605, sheet_thickness_um=sheet)
    assert p.lateral_um == pytest.approx(0.5145 * lam / na, rel=1e-12)
    assert p.axial_um == pytest.approx(1 / math.sqrt(det_physical**-2 + 1.0), rel=1e-12)
    assert p.axial_um == pytest.approx(0.67471, abs=1e-5)
    assert light_sheet_axial_fwhm_um(3.0, 4.0) == pytest.approx(2.4)  # 3-4-5 triangle: 1/9 + 1/16 = 1/5.76
    # a thin sheet dominates, a thick one leaves the detection PSF
    assert light_sheet_axial_fwhm_um(det_physical, 0.01) == pytest.approx(0.01, rel=1e-3)
    assert light_sheet_axial_fwhm_um(det_physical, 1e3) == pytest.approx(det_physical, rel=1e-6)


def test_light_sheet_nyquist_by_hand():
    na, n, lam, sheet = 1.1, 1.33, 0.605, 1.0
    dxy, dz = nyquist_sampling("light-sheet", na, n, 560, 605, sheet_thickness_um=sheet)
    assert dxy == pytest.approx(lam / (4 * na))
    det = 1.77 * n * lam / na**2
    widefield_dz = lam / (2 * n * (1 - math.cos(math.asin(na / n))))
    assert dz == pytest.approx(widefield_dz * light_sheet_axial_fwhm_um(det, sheet) / det)
    assert dz < nyquist_sampling("widefield", na, n, 560, 605)[1]


def test_light_sheet_without_thickness_names_the_missing_setting():
    for func in (metroloj_resolution, physical_resolution, nyquist_sampling):
        with pytest.raises(SettingsError, match="light-sheet thickness") as exc:
            func("light-sheet", 1.1, 1.33, 560, 605)
        assert exc.value.fields == ["sheet_thickness_um"]  # each front-end names its own field
    # other modalities ignore it
    assert metroloj_resolution(
        "widefield", 1.1, 1.33, 560, 605, sheet_thickness_um=1.0
    ) == metroloj_resolution("widefield", 1.1, 1.33, 560, 605)


def test_sheet_thickness_setting():
    ms = MicroscopeSettings().with_values(modality="light-sheet", sheet_thickness_um=0.8)
    assert ms.sheet_thickness_um == 0.8 and ms.source_of("sheet_thickness_um").source is Source.USER
    table = ms.settings_table()
    assert table["sheet_thickness_um"].value == 0.8 and table["sheet_thickness_um"].unit == "um"
    missing = MicroscopeSettings().with_values(modality="light-sheet").settings_table()["sheet_thickness_um"]
    assert missing.value is None and missing.source is Source.MISSING
    assert "sheet_thickness_um" not in MicroscopeSettings().with_values(modality="confocal").settings_table()
    for bad in (0.0, -1.0, float("nan"), 5000.0):
        with pytest.raises(SettingsError, match="light-sheet thickness"):
            MicroscopeSettings(sheet_thickness_um=bad).validate()

"""Axial resolution from a mirror: known truth, MetroloJ's definition by hand, theory, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from microscope_qc.analysis.mirror import MirrorSettings, analyze_mirror, fit_profiles, mirror_axial_fwhm_um
from microscope_qc.instrument import SettingsError
from microscope_qc.results import AnalysisError
from microscope_qc.samples import mirror_fwhm_truth, mirror_sample


def _value(result, name):
    return next(m.value for m in result.metrics if m.name == name)


@pytest.fixture(scope="module")
def tilted():
    s = mirror_sample()
    return s, analyze_mirror(s.data, z_step_um=s.z_step_um, x_step_um=s.x_step_um)


def test_every_band_fwhm_within_2_percent_of_truth(tilted):
    s, r = tilted
    b = r.bands
    assert (b["status"] == "ok").all() and len(b) == 16
    truth = mirror_fwhm_truth((b["x_start_px"] + b["x_end_px"] - 1) / 2, s.data.shape[1], 0.6, 0.08)
    np.testing.assert_allclose(b["fwhm_um"], truth, rtol=0.02)
    assert (b["fwhm_se_um"] > 0).all() and (b["fwhm_se_um"] < 0.01).all()
    # the variation across the field: 8 % broader at the edges
    assert _value(r, "band_fwhm_max_um") / _value(r, "band_fwhm_min_um") == pytest.approx(1.07, abs=0.02)
    # the tilt: 0.3 µm over 255 columns of 0.2 µm
    assert _value(r, "tilt_deg") == pytest.approx(math.degrees(math.atan(0.3 / (255 * 0.2))), rel=0.05)
    # the ROI-averaged (MetroloJ) profile of a tilted mirror is broader than any band
    assert _value(r, "fwhm_z_um") > _value(r, "band_fwhm_max_um")
    assert any("tilted" in w for w in r.warnings)


def test_metroloj_profile_within_2_percent_on_a_level_mirror():
    s = mirror_sample(tilt_um=0.0, curvature=0.0, seed=3)
    r = analyze_mirror(s.data, z_step_um=s.z_step_um, x_step_um=s.x_step_um)
    assert _value(r, "fwhm_z_um") == pytest.approx(0.6, rel=0.02)
    assert _value(r, "band_fwhm_median_um") == pytest.approx(0.6, rel=0.02)
    # a ROI: MetroloJ averages the ROI's columns only
    r2 = analyze_mirror(s.data, z_step_um=s.z_step_um, roi=(40, 8, 64, 48))
    assert r2.roi == (40, 8, 64, 48) and _value(r2, "fwhm_z_um") == pytest.approx(0.6, rel=0.02)
    assert len(r2.bands) == 4 and r2.bands["x_start_px"].iloc[0] == 40


def test_metroloj_definition_by_hand():
    # MetroloJ: y = b + A exp(−(z − c)²/(2σ²)) fitted to the profile, FWHM = 2√(2 ln 2) σ · z step.
    # Noise-free profile, σ = 1.5 planes, z step 0.2 µm: FWHM = 2.35482 × 1.5 × 0.2 = 0.706446 µm
    z = np.arange(15.0)
    profile = 10 + 100 * np.exp(-((z - 7.3) ** 2) / (2 * 1.5**2))
    fwhm, se, centre, r2, _ = fit_profiles(profile[None, :], 0.2)
    assert fwhm[0] == pytest.approx(2 * math.sqrt(2 * math.log(2)) * 1.5 * 0.2, rel=1e-6)
    assert fwhm[0] == pytest.approx(0.706446, abs=1e-6)
    assert centre[0] == pytest.approx(7.3 * 0.2, rel=1e-6) and r2[0] == pytest.approx(1.0)
    image = np.repeat(profile[:, None], 20, axis=1)  # every column the same profile
    r = analyze_mirror(image, z_step_um=0.2)
    assert _value(r, "fwhm_z_um") == pytest.approx(0.706446, abs=1e-5)


def test_confocal_reflection_theory_by_hand():
    # 0.443 λ / (n (1 − cos α)), α = asin(NA/n): λ 488 nm, NA 1.4, n 1.518
    alpha = math.asin(1.4 / 1.518)
    expected = 0.44295 * 0.488 / (1.518 * (1 - math.cos(alpha)))
    assert mirror_axial_fwhm_um(488, 1.4, 1.518) == pytest.approx(expected, rel=1e-4)
    assert mirror_axial_fwhm_um(488, 1.4, 1.518) == pytest.approx(0.2321, abs=5e-4)
    s = mirror_sample()
    r = analyze_mirror(s.data, z_step_um=0.1, wavelength_nm=488, na=1.4, immersion_index=1.518)
    assert _value(r, "ratio_to_theory") == pytest.approx(_value(r, "fwhm_z_um") / expected, rel=1e-4)
    assert "theory" in r.settings
    judged = analyze_mirror(
        s.data,
        MirrorSettings(tolerance_um=0.6, tolerance_ratio=3.0, max_cv_percent=5.0),
        z_step_um=0.1,
        x_step_um=0.2,
        wavelength_nm=488,
        na=1.4,
        immersion_index=1.518,
    )
    verdicts = {v.metric: v.passed for v in judged.verdicts}
    assert verdicts == {"fwhm_z_um": False, "ratio_to_theory": True, "band_fwhm_cv_percent": True}
    with pytest.raises(ValueError, match="NA"):
        mirror_axial_fwhm_um(488, 1.6, 1.518)


def test_bad_inputs_get_specific_errors():
    s = mirror_sample()
    with pytest.raises(SettingsError, match="z step"):
        analyze_mirror(s.data, z_step_um=0.0)
    with pytest.raises(AnalysisError, match="at least 7"):
        analyze_mirror(s.data[:4], z_step_um=0.1)
    with pytest.raises(AnalysisError, match="constant"):
        analyze_mirror(np.zeros((20, 20)), z_step_um=0.1)
    with pytest.raises(AnalysisError, match="not inside"):
        analyze_mirror(s.data, z_step_um=0.1, roi=(250, 0, 20, 64))
    with pytest.raises(AnalysisError, match="shape"):
        analyze_mirror(np.zeros((2, 2, 20, 20)), z_step_um=0.1)
    # bands without a reflection are reported and left out, not averaged in
    data = s.data.astype(float)
    data[:, :32] = 50 + np.random.default_rng(0).normal(0, 1, size=(data.shape[0], 32))
    r = analyze_mirror(data, MirrorSettings(band_px=16), z_step_um=0.1, roi=(0, 0, 256, 64))
    assert (r.bands["status"].iloc[:2] != "ok").all() and _value(r, "n_bands_ok") == 14

"""Astigmatism, PSF tilt and model misfit (issue 10, items 3 and 4): synthetic truth, diffraction PSFs, real stacks.

Truth: :mod:`tests.analysis.psf_synthetic` renders Gaussian beads whose widths follow a Gaussian beam
through focus with separate foci for two perpendicular directions (the focal separation is set
exactly) and whose centre moves with z (the slope is set exactly); and scalar diffraction PSFs with
Zernike astigmatism or spherical aberration, for which geometrical optics predicts the line-focus
separation 2·√6·a·λ/(n − √(n² − NA²)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.analysis.psf_synthetic import camera, scalar_psf, through_focus_beads
from tests.conftest import shared_file

from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.analysis.psf.aberrations import astigmatism_limit_um, spread_subset
from microscope_qc.analysis.psf.misfit import structured_residual_fraction
from microscope_qc.instrument import MicroscopeSettings, Modality

FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _ms(na=1.4, n=1.518, voxel=(0.1, 0.065, 0.065), modality="widefield", em=520, **extra):
    return (
        MicroscopeSettings()
        .with_values(voxel_size_um=voxel, na=na, immersion_index=n, modality=modality, **extra)
        .with_wavelengths([488], [em])
    )


def _s(ms=None, **kw):
    """Settings without the Tukey outlier fence: 9 near-identical beads make its quartiles a few nm apart."""
    return PSFSettings(microscope=ms if ms is not None else _ms(), outlier_fence=None, **kw)


def _accepted(r):
    acc = r.beads[r.beads["status"] == "accepted"]
    assert len(acc) == len(r.beads), r.beads[["status", "reason", "reason_detail"]]
    return acc


# ------------------------------------------------------------------------------------ astigmatism
@pytest.mark.parametrize("separation", [0.5, -0.3])
def test_astigmatic_focal_separation_recovered(separation):
    data, _ = through_focus_beads(separation, seed=1 if separation > 0 else 2)
    r = analyze_psf(data, _s())
    acc = _accepted(r)
    d = acc["astigmatic_separation_xy_um"].to_numpy()
    print(f"truth {separation:+.3f} µm: median {np.median(d):+.4f}, per-bead SD {np.std(d):.4f}")
    # the median of 9 beads within 10 nm of the truth (measured: < 1 nm), each bead within 3 %
    assert np.median(d) == pytest.approx(separation, abs=0.01)
    assert np.allclose(d, separation, rtol=0.03, atol=0.005)
    # the standard errors are honest: scatter about the truth / SE between 0.4 and 2.5
    z = (d - separation) / acc["astigmatic_separation_xy_se_um"].to_numpy()
    assert 0.4 < float(np.sqrt(np.mean(z**2))) < 2.5
    # no diagonal component, total = |x − y|, and the channel metric carries the median
    assert np.abs(acc["astigmatic_separation_diag_um"]).max() < 0.01
    assert r.metric("astigmatic_separation_um").value == pytest.approx(abs(separation), abs=0.01)
    assert r.metric("astigmatic_separation_xy_um").value == pytest.approx(separation, abs=0.01)
    assert r.metric("astigmatic_separation_um").uncertainty > 0


def test_ellipticity_changes_sign_through_focus():
    sep, depth = 0.5, 0.35
    data, _ = through_focus_beads(sep, depth_um=depth, seed=3)
    acc = _accepted(analyze_psf(data, _s()))
    # truth at z_b ∓ FWHM_z/2 (the measured axial FWHM of each bead) from the rendered widths
    for name, sign in (("ellipticity_below", -1), ("ellipticity_above", 1)):
        zq = sign * acc["fwhm_z_um"].to_numpy() / 2
        wx = np.sqrt(1 + ((zq - sep / 2) / depth) ** 2)
        wy = np.sqrt(1 + ((zq + sep / 2) / depth) ** 2)
        truth = (wx - wy) / (wx + wy)
        assert np.allclose(acc[name], truth, atol=0.01), (name, acc[name].to_numpy(), truth)
    assert (acc["ellipticity_below"] > 0.2).all() and (acc["ellipticity_above"] < -0.2).all()


def test_astigmatism_along_a_diagonal_is_found():
    data, _ = through_focus_beads(0.5, axis_deg=45, seed=4)
    r = analyze_psf(data, _s())
    acc = _accepted(r)
    assert np.median(acc["astigmatic_separation_um"]) == pytest.approx(0.5, abs=0.01)
    assert np.median(acc["astigmatism_axis_deg"]) == pytest.approx(45, abs=2)
    assert np.abs(acc["astigmatic_separation_xy_um"]).max() < 0.02  # invisible along x and y ...
    assert set(acc["aberrations"]) == {"astigmatic"}  # ... but flagged


def test_non_astigmatic_psf_is_not_flagged():
    data, _ = through_focus_beads(0.0, seed=5)
    r = analyze_psf(data, _s())
    acc = _accepted(r)
    assert acc["astigmatic_separation_um"].max() < 0.02
    assert np.abs(acc[["ellipticity_below", "ellipticity_above"]].to_numpy()).max() < 0.01
    assert set(acc["aberrations"]) == {""}
    assert all(v.passed for v in r.verdicts), [v.text for v in r.verdicts]
    assert not [w for w in r.warnings if "astigmatic" in w or "tilted" in w]


def test_astigmatic_psf_fails_its_verdict_and_warns():
    data, _ = through_focus_beads(0.5, seed=6)
    r = analyze_psf(data, _s())
    limit = astigmatism_limit_um(1.4, 1.518, 520)
    verdict = next(v for v in r.verdicts if v.metric == "astigmatic_separation_um")
    assert not verdict.passed and verdict.threshold == pytest.approx(limit) and "Maréchal" in verdict.source
    assert any(w.startswith("Channel 0: astigmatic") for w in r.warnings)
    assert set(r.beads["aberrations"]) == {"astigmatic"}
    assert r.metric("astigmatism_limit_um").value == pytest.approx(limit)


def test_astigmatism_limit_is_the_marechal_separation_by_hand():
    # λ/14 RMS of Zernike astigmatism √6·ρ²·cos2θ: edge wavefront A = √6·λ/14; line foci where the
    # non-paraxial defocus z·(n − √(n² − NA²)) cancels ±A, hence 2A/(n − √(n² − NA²))
    lam, na, n = 0.520, 0.85, 1.0
    by_hand = 2 * math.sqrt(6) * lam / 14 / (n - math.sqrt(n * n - na * na))
    assert astigmatism_limit_um(na, n, 520) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.3845, abs=1e-4)
    # = 0.40 × the non-paraxial widefield axial FWHM 0.88·λ/(n − √(n² − NA²))
    assert by_hand / (0.88 * lam / (n - math.sqrt(n * n - na * na))) == pytest.approx(0.398, abs=1e-3)


def test_diffraction_psf_astigmatism_is_linear_in_the_aberration():
    """On a scalar diffraction PSF (rings, non-Gaussian) the through-focus estimate follows geometrical optics.

    Measured: a = 0 → 0.000 µm; a = 0.04 → 0.26 µm and a = 0.08 → 0.54 µm waves RMS, i.e. 1.21–1.25 × the
    geometrical line-focus separation 2·√6·a·λ/(n − √(n² − NA²)) (0.215 and 0.431 µm): proportional to the
    aberration, with the Gaussian-width definition reading about a fifth more than the line foci.
    """
    na, n, lam = 0.85, 1.0, 0.52
    voxel = (0.1, 0.065, 0.065)
    ms = _ms(na=na, n=n, voxel=voxel)
    seps = {}
    for a in (0.0, 0.04, 0.08):
        psf = scalar_psf(na=na, n=n, wavelength_um=lam, voxel=voxel, nz=61, astigmatism_waves=a)
        r = analyze_psf(camera(psf, 20000, seed=1), _s(ms))
        seps[a] = float(_accepted(r)["astigmatic_separation_um"].iloc[0])
    geo = {a: 2 * math.sqrt(6) * a * lam / (n - math.sqrt(n * n - na * na)) for a in seps}
    print({a: (round(seps[a], 3), round(geo[a], 3)) for a in seps})
    assert seps[0.0] < 0.06
    for a in (0.04, 0.08):
        assert 1.0 < seps[a] / geo[a] < 1.4
    assert seps[0.08] / seps[0.04] == pytest.approx(2.0, rel=0.15)


# ------------------------------------------------------------------------------------ tilt
def test_tilted_psf_slope_recovered_and_flagged():
    data, _ = through_focus_beads(0.0, tilt=(0.3, -0.1), seed=7)
    r = analyze_psf(data, _s())
    acc = _accepted(r)
    assert np.median(acc["psf_tilt_x_um_per_um"]) == pytest.approx(0.3, abs=0.005)
    assert np.median(acc["psf_tilt_y_um_per_um"]) == pytest.approx(-0.1, abs=0.005)
    assert r.metric("psf_tilt_um_per_um").value == pytest.approx(math.hypot(0.3, 0.1), abs=0.005)
    # limit: half the Airy lateral FWHM over one non-paraxial axial FWHM
    airy = 0.5145 * 0.52 / 1.4
    axial = 0.88 * 0.52 / (1.518 - math.sqrt(1.518**2 - 1.4**2))
    verdict = next(v for v in r.verdicts if v.metric == "psf_tilt_um_per_um")
    assert verdict.threshold == pytest.approx(0.5 * airy / axial) and not verdict.passed
    assert set(acc["aberrations"]) == {"tilted"}
    assert any("tilted PSF" in w for w in r.warnings)
    assert acc["astigmatic_separation_um"].max() < 0.02  # a tilt is not astigmatism


def test_untilted_psf_has_no_slope():
    data, _ = through_focus_beads(0.0, seed=8)
    acc = _accepted(analyze_psf(data, _s()))
    assert np.abs(acc[["psf_tilt_x_um_per_um", "psf_tilt_y_um_per_um"]].to_numpy()).max() < 0.005
    assert acc["psf_bow_um"].max() < 0.005


def test_through_focus_is_limited_to_beads_spread_over_the_field():
    data, _ = through_focus_beads(0.0, n_side=3, seed=9)
    r = analyze_psf(data, _s(through_focus_beads=4))
    done = r.beads["through_focus_planes"].notna()
    assert done.sum() == 4
    # the centre bead first, then the farthest ones: corners of the 3 × 3 grid
    idx = spread_subset(r.beads["y_um"].to_numpy(), r.beads["x_um"].to_numpy(), 4)
    assert list(np.flatnonzero(done)) == list(idx)
    off = analyze_psf(data, _s(through_focus_beads=0))
    assert off.beads["astigmatic_separation_um"].isna().all() and "astigmatic_separation_um" not in {
        m.name for m in off.metrics
    }


# ------------------------------------------------------------------------------------ model misfit
def test_structured_residuals_tell_noise_from_a_wrong_model():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:31, :31]
    signal = 100 * np.exp(-((x - 15) ** 2 + (y - 15) ** 2) / (2 * 3.0**2))
    noise = rng.normal(0, 5, (200, 31, 31))
    # right model, noise only: ≈ 0 (white noise has no lag-one correlation)
    f = structured_residual_fraction(
        (signal + noise).reshape(200, -1), np.broadcast_to(signal.ravel(), (200, 961)), (31, 31)
    )
    assert abs(np.mean(f)) < 0.003 and np.std(f) < 0.01
    # a wrong model (a narrower Gaussian), no noise: the fraction ≈ 1 − R²
    wrong = 100 * np.exp(-((x - 15) ** 2 + (y - 15) ** 2) / (2 * 2.4**2))
    f = structured_residual_fraction(signal.reshape(1, -1), wrong.reshape(1, -1), (31, 31))[0]
    r2 = 1 - ((signal - wrong) ** 2).sum() / ((signal - signal.mean()) ** 2).sum()
    assert f == pytest.approx(1 - r2, rel=0.1)


def test_3d_fit_of_a_diffraction_psf_is_flagged_and_kept_out_of_verdicts():
    """Spherical aberration (0.15 waves RMS) makes the 3D PSF far from Gaussian; the 1D/2D fits still pass."""
    voxel = (0.1, 0.065, 0.065)
    psf = scalar_psf(na=0.85, n=1.0, wavelength_um=0.52, voxel=voxel, nz=61, spherical_waves=0.15)
    r = analyze_psf(camera(psf, 20000, seed=2), _s(_ms(na=0.85, n=1.0, voxel=voxel), fit_3d=True))
    acc = _accepted(r)
    assert acc["fit_3d_ok"].tolist() == [False]
    assert acc["r2_3d"].iloc[0] < 0.9 and acc["structured_residual_3d"].iloc[0] > 0.1
    warning = next(w for w in r.warnings if "3D Gaussian does not describe" in w)
    assert "not used for verdicts" in warning
    assert not [v for v in r.verdicts if "3d" in v.metric]


def test_3d_fit_of_gaussian_beads_is_accepted():
    data, _ = through_focus_beads(0.0, seed=10)
    r = analyze_psf(data, _s(fit_3d=True))
    acc = _accepted(r)
    assert acc["fit_3d_ok"].tolist() == [True] * len(acc)
    assert acc["structured_residual_3d"].max() < 0.05
    assert not [w for w in r.warnings if "3D Gaussian" in w]


def test_lateral_misfit_is_rejected_with_its_cause():
    """Strong spherical aberration (0.25 waves RMS): bright rings a 2D Gaussian cannot follow (R² 0.50, 47 % structured)."""
    voxel = (0.1, 0.065, 0.065)
    psf = scalar_psf(na=0.85, n=1.0, wavelength_um=0.52, voxel=voxel, nz=101, spherical_waves=0.25)
    r = analyze_psf(camera(psf, 20000, seed=3), _s(_ms(na=0.85, n=1.0, voxel=voxel)))
    bead = r.beads.iloc[0]
    assert bead["status"] == "rejected" and bead["reason"] == "poor fit"
    assert "does not describe" in bead["reason_detail"] and "structured residuals" in bead["reason_detail"]
    assert any("rejected as poor fits" in w and "not Gaussian" in w for w in r.warnings)


def test_dim_bead_is_rejected_as_noisy_not_as_a_wrong_model():
    data, truth = through_focus_beads(0.0, n_side=1, photons=1500, background=30, seed=11)
    pos = np.array([[truth["z_um"][0] / 0.1, truth["y_um"][0] / 0.065, truth["x_um"][0] / 0.065]])
    r = analyze_psf(data, _s(min_r2_xy=0.95, min_r2_z=0.95), positions=pos)
    bead = r.beads.iloc[0]
    assert bead["status"] == "rejected", bead[["r2_xy", "r2_z", "structured_residual_xy"]]
    assert "mostly noise" in bead["reason_detail"]
    assert any("residuals mostly noise" in w for w in r.warnings)


# ------------------------------------------------------------------------------------ real data
NA085 = "psf-single-bead-air-na085/psf_wl520nm_z300nm_x130nm_na0.85_n1.0.tif"


def _real_na085(modality="widefield", **extra):
    from microscope_qc.io import read_image

    img = read_image(shared_file(NA085))
    ms = _ms(na=0.85, n=1.0, voxel=(0.3, 0.13, 0.13), modality=modality)
    return analyze_psf(img.data, PSFSettings(microscope=ms, **extra))


def test_real_na085_astigmatism_measured_below_the_marechal_limit():
    """The NA 0.85 air bead is measurably but mildly astigmatic.

    The x focus lies 0.2 µm lower in z than the y focus (ellipticity −0.12 below, +0.10 above focus). An
    independent phase retrieval of the same stack (pyotf, Hanser et al. 2004; 36 Zernikes) finds
    0.027 waves RMS astigmatism, for which geometrical optics predicts 0.145 µm between the line foci
    and this estimator, reading ~1.2× that on diffraction PSFs, 0.17 µm. That is well inside the
    Maréchal limit (λ/14 RMS: 0.38 µm), so the bead is not flagged. The 0.5–0.8 µm quoted in issue 10
    comes from the planes where x and y are narrowest; near focus a diffraction PSF's width is flat,
    so that position jumps by whole planes (on a scalar PSF with 0.04 waves it reads 0.56 µm where
    the line foci are 0.22 µm apart).
    """
    r = _real_na085()
    acc = r.beads[r.beads["status"] == "accepted"].iloc[0]
    print(
        f"separation {acc.astigmatic_separation_um:.3f} ± {acc.astigmatic_separation_se_um:.3f} µm, x − y "
        f"{acc.astigmatic_separation_xy_um:+.3f}; ellipticity {acc.ellipticity_below:+.3f} / {acc.ellipticity_above:+.3f}"
    )
    assert 0.1 < acc["astigmatic_separation_um"] < 0.35
    assert acc["astigmatic_separation_xy_um"] < 0  # x is narrowest at lower z than y
    assert acc["ellipticity_below"] < -0.05 and acc["ellipticity_above"] > 0.05  # the sign flips
    verdict = next(v for v in r.verdicts if v.metric == "astigmatic_separation_um")
    assert verdict.passed and verdict.threshold == pytest.approx(astigmatism_limit_um(0.85, 1.0, 520))
    assert acc["aberrations"] == ""
    assert acc["psf_tilt_um_per_um"] < 0.1


def test_real_na085_acceptance_does_not_flip_with_modality():
    """The same single bead (12, 128, 131) is the one accepted bead with every modality."""
    for modality in Modality:
        r = _real_na085(modality.value, through_focus_beads=0)
        acc = r.beads[r.beads["status"] == "accepted"]
        assert len(acc) == 1, (modality, r.beads[["status", "reason", "reason_detail"]])
        assert (acc[["z_px", "y_px", "x_px"]].to_numpy()[0] == (12, 128, 131)).all(), modality


def test_real_widefield_3d_fit_is_flagged():
    """--fit-3d on the real NA 0.85 widefield bead: R² ≈ 0.72 and 3D FWHMs ≈ 1.7× the 1D/2D ones, flagged."""
    r = _real_na085(fit_3d=True, through_focus_beads=0)
    acc = r.beads[r.beads["status"] == "accepted"].iloc[0]
    assert acc["r2_3d"] < 0.8 and acc["fit_3d_ok"] is False
    assert acc["fwhm_x_3d_um"] / acc["fwhm_x_um"] > 1.4
    assert any("3D Gaussian does not describe 1 of 1 beads" in w for w in r.warnings)
    assert all(v.passed for v in r.verdicts if v.metric.startswith("fwhm_"))  # verdicts from 1D/2D only

"""Resolution without beads (FRC, decorrelation): known truth, hand-computed formulas, bad inputs.

The truth: band-limited random structure (``samples.resolution``) has no spectral content at or
above a known frequency f_c and a spectral SNR far above one below it, so every method must
report 1/f_c.
"""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.analysis.resolution import (
    ONE_SEVENTH,
    ResolutionSettings,
    analyze_resolution,
    binomial_split,
    dcorr_max,
    decorrelation_analysis,
    frc_curve,
    half_bit_threshold,
    threshold_crossing,
)
from microscope_qc.instrument import SettingsError
from microscope_qc.results import AnalysisError
from microscope_qc.samples import resolution_sample


@pytest.fixture(scope="module", params=[0.15, 0.25, 0.35])
def sample(request):
    return resolution_sample(cutoff_cycles_per_px=request.param)


def _value(result, name):
    return next(m.value for m in result.metrics if m.name == name)


# ------------------------------------------------------------------------- known truth


def test_two_image_frc_finds_the_band_limit_at_both_thresholds(sample):
    truth = sample.truth["resolution_um"]
    r = analyze_resolution(sample.image, pixel_size_um=sample.pixel_size_um, pair=sample.pair)
    assert r.method == "frc"
    assert _value(r, "resolution_um") == pytest.approx(truth, rel=0.10)
    assert _value(r, "frc_resolution_1_7_um") == pytest.approx(truth, rel=0.10)
    assert _value(r, "frc_resolution_half_bit_um") == pytest.approx(truth, rel=0.10)
    assert _value(r, "resolution_px") == pytest.approx(sample.truth["resolution_px"], rel=0.10)
    assert set(r.curve.columns) >= {"frequency_per_um", "frc", "threshold_1_7", "threshold_half_bit"}


def test_single_image_frc_by_binomial_splitting(sample):
    s = ResolutionSettings(conversion_gain_e_per_dn=1 / sample.gain_dn_per_e, offset_counts=sample.offset_dn)
    r = analyze_resolution(sample.image, s, pixel_size_um=sample.pixel_size_um)
    assert r.method == "frc-split"
    assert _value(r, "resolution_um") == pytest.approx(sample.truth["resolution_um"], rel=0.10)
    # the half-data correction raises the curve: FRC_full = 2 FRC / (1 + FRC)
    c = r.curve
    np.testing.assert_allclose(c["frc"], 2 * c["frc_split"] / (1 + c["frc_split"]))


def test_decorrelation_finds_the_band_limit(sample):
    r = analyze_resolution(
        sample.image, ResolutionSettings(method="decorrelation"), pixel_size_um=sample.pixel_size_um
    )
    assert r.method == "decorrelation"
    assert _value(r, "resolution_um") == pytest.approx(sample.truth["resolution_um"], rel=0.10)
    # k_c is normalised to Nyquist: resolution = 2 · pixel / k_c
    assert _value(r, "resolution_um") == pytest.approx(
        2 * sample.pixel_size_um / _value(r, "decorrelation_kc")
    )
    assert 0 < _value(r, "decorrelation_a0") < 1
    assert set(r.tables["peaks"].columns) >= {"kc", "amplitude", "g"}


def test_decorrelation_accepts_a_non_square_image():
    s = resolution_sample(cutoff_cycles_per_px=0.25)
    r = analyze_resolution(s.image[:, :300], ResolutionSettings(method="decorrelation"), pixel_size_um=0.05)
    assert _value(r, "resolution_um") == pytest.approx(0.2, rel=0.10)


def test_auto_method_and_the_analysis_is_deterministic():
    s = resolution_sample(size=128)
    assert analyze_resolution(s.image, pixel_size_um=0.05).method == "decorrelation"
    gain = ResolutionSettings(conversion_gain_e_per_dn=0.5, offset_counts=100)
    a = analyze_resolution(s.image, gain, pixel_size_um=0.05)
    b = analyze_resolution(s.image, gain, pixel_size_um=0.05)
    assert a.method == "frc-split" and _value(a, "resolution_um") == _value(b, "resolution_um")


# ------------------------------------------------------------------------- formulas by hand


def test_half_bit_threshold_by_hand():
    # van Heel & Schatz 2005: (0.2071 + 1.9102/√n) / (1.2071 + 0.9102/√n)
    assert half_bit_threshold([1])[0] == pytest.approx((0.2071 + 1.9102) / (1.2071 + 0.9102))
    assert half_bit_threshold([100])[0] == pytest.approx((0.2071 + 0.19102) / (1.2071 + 0.09102))
    assert half_bit_threshold([1e12])[0] == pytest.approx(0.2071 / 1.2071, rel=1e-5)


def test_frc_of_an_image_with_itself_is_one_and_of_independent_noise_near_zero():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(128, 128))
    c = frc_curve(a, a)
    np.testing.assert_allclose(c.frc[1:], 1.0, atol=1e-12)
    noise = frc_curve(a, rng.normal(size=(128, 128)))
    assert abs(noise.frc[5:].mean()) < 0.02
    # ring pixel counts cover the disc: rings 0..N/2 hold about π (N/2)² pixels of the full plane
    assert c.n_pixels.sum() == pytest.approx(np.pi * 64**2, rel=0.03)


def test_threshold_crossing_interpolates_linearly():
    f = np.arange(6) / 10.0
    curve = np.array([1.0, 1.0, 1.0, 0.6, 0.0, 0.0])
    # smoothed over three rings: ring 2 → 0.867, ring 3 → 0.533, ring 4 → 0.2; threshold 0.5 between rings 3 and 4
    t = np.full(6, 0.5)
    assert threshold_crossing(f, curve, t) == pytest.approx(0.3 + 0.1 * (1.6 / 3 - 0.5) / (1.6 / 3 - 0.2))
    assert threshold_crossing(f, np.ones(6), t) is None


def test_dcorr_max_follows_the_published_peak_rule():
    assert dcorr_max(np.array([0.0, 0.2, 0.5, 0.3, 0.1])) == (2, 0.5)
    # rising to the end: the last point is no peak; the earlier maximum counts only if it stands
    # more than 0.001 above what follows
    assert dcorr_max(np.array([0.0, 0.4, 0.3, 0.35, 0.5]))[0] == 1
    assert dcorr_max(np.array([0.0, 0.1, 0.2, 0.3, 0.4])) == (0, 0.0)


def test_binomial_split_conserves_photons():
    rng = np.random.default_rng(0)
    image = 100 + 2 * rng.poisson(50, size=(64, 64))
    a, b, clipped = binomial_split(image, 0.5, 100, np.random.default_rng(3))
    np.testing.assert_array_equal(a + b, (image - 100) // 2)
    assert clipped == 0 and abs(a.sum() / (a + b).sum() - 0.5) < 0.01


def test_decorrelation_of_white_noise_has_no_band_limit():
    # white noise: d(r) keeps rising to Nyquist; the filtered curves peak near 1 at most
    d = decorrelation_analysis(np.random.default_rng(2).normal(size=(128, 128)))
    assert d.kc_max == 0 or d.kc_max > 0.85


# ------------------------------------------------------------------------- bad inputs


def test_bad_inputs_get_specific_errors():
    rng = np.random.default_rng(0)
    img = rng.normal(size=(64, 64))
    with pytest.raises(AnalysisError, match="at least 32"):
        analyze_resolution(img[:16, :16], pixel_size_um=0.1)
    with pytest.raises(AnalysisError, match="constant"):
        analyze_resolution(np.full((64, 64), 7.0), pixel_size_um=0.1)
    with pytest.raises(AnalysisError, match="NaN"):
        analyze_resolution(np.where(img > 2, np.nan, img), pixel_size_um=0.1)
    with pytest.raises(AnalysisError, match="one 2D plane"):
        analyze_resolution(rng.normal(size=(2, 64, 64)), pixel_size_um=0.1)
    with pytest.raises(AnalysisError, match="square"):
        analyze_resolution(img[:, :48], pixel_size_um=0.1, pair=img[:, :48])
    with pytest.raises(AnalysisError, match="differ in size"):
        analyze_resolution(img, pixel_size_um=0.1, pair=img[:48, :48])
    with pytest.raises(SettingsError, match="two independent images") as exc:
        analyze_resolution(img, ResolutionSettings(method="frc"), pixel_size_um=0.1)
    assert "decorrelation" in str(exc.value)
    with pytest.raises(SettingsError, match="pixel size"):
        analyze_resolution(img, pixel_size_um=float("nan"))
    with pytest.raises(AnalysisError, match="No photons"):
        analyze_resolution(
            img, ResolutionSettings(conversion_gain_e_per_dn=1, offset_counts=100), pixel_size_um=0.1
        )


def test_a_threshold_never_crossed_is_said_not_invented():
    a = np.random.default_rng(0).normal(size=(64, 64))
    r = analyze_resolution(a, pixel_size_um=0.1, pair=a)  # identical images: FRC = 1 everywhere
    assert not any(m.name == "resolution_um" for m in r.metrics)
    assert any("under-sampled" in w for w in r.warnings)
    assert ONE_SEVENTH == pytest.approx(0.142857, rel=1e-5)


def test_sector_frc_measures_anisotropy():
    # structure cut off at 0.25 cycles/px along x and 0.15 along y (an elliptical pupil)
    rng = np.random.default_rng(5)
    n = 512
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    spec = np.fft.rfft2(rng.standard_normal((n, n))) * ((fx / 0.25) ** 2 + (fy / 0.15) ** 2 < 1)
    s = np.fft.irfft2(spec, (n, n))
    s = 300 + 60 * s / s.std()
    a, b = rng.poisson(s), rng.poisson(s)
    r = analyze_resolution(a, pixel_size_um=1.0, pair=b)
    assert _value(r, "frc_resolution_x_um") == pytest.approx(1 / 0.25, rel=0.10)
    assert _value(r, "frc_resolution_y_um") == pytest.approx(1 / 0.15, rel=0.10)
    assert _value(r, "frc_anisotropy") == pytest.approx(0.15 / 0.25, rel=0.15)
    assert {"frc_x", "frc_y"} <= set(r.curve.columns)

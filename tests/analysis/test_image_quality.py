"""Image-quality checks (QUAREP WG10): exact saturation counts, noise against truth, formulas by hand, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from microscope_qc.analysis.image_quality import (
    CHECK_WEIGHTS,
    ImageQualitySettings,
    analyze_image_quality,
    immerkaer_noise,
    infer_bit_depth,
    otsu_threshold,
)
from microscope_qc.results import AnalysisError
from microscope_qc.samples import image_quality_sample


def _value(result, name):
    return next(m.value for m in result.metrics if m.name == name)


def test_saturation_and_clipping_counts_are_exact_and_12_bits_recognised():
    s = image_quality_sample()
    r = analyze_image_quality(s.data)
    assert r.bit_depth == 12 and "inferred" in r.settings["bit_depth_used"].detail
    assert _value(r, "saturated_percent") == pytest.approx(s.truth["saturated_percent"], abs=1e-12)
    assert _value(r, "zero_clipped_percent") == pytest.approx(s.truth["zero_clipped_percent"], abs=1e-12)
    assert _value(r, "noise_sd_counts") == pytest.approx(10.0, rel=0.10)
    # 100 saturated pixels of 262144 fail the default 0.01 %; clipping passes
    verdicts = {v.metric: v.passed for v in r.verdicts}
    assert verdicts["saturated_percent"] is False and verdicts["zero_clipped_percent"] is True
    # the bit depth given: nothing reaches 16 bits
    r16 = analyze_image_quality(s.data, ImageQualitySettings(bit_depth=16))
    assert _value(r16, "saturated_percent") == 0 and r16.bit_depth == 16


def test_rating_is_the_weighted_share_of_checks_passed():
    s = image_quality_sample()
    r = analyze_image_quality(s.data, pixel_size_um=0.1, nyquist_um=0.12)
    c = r.checks
    assert list(c["check"]) == ["saturation", "zero clipping", "dynamic range", "SNR", "sampling"]
    expected = (
        100
        * sum(CHECK_WEIGHTS[k] for k in ("zero clipping", "dynamic range", "SNR", "sampling"))
        / sum(CHECK_WEIGHTS[k] for k in c["check"])
    )
    assert _value(r, "quality_rating") == pytest.approx(expected)
    assert _value(r, "pixel_over_nyquist") == pytest.approx(0.1 / 0.12)
    g = analyze_image_quality(s.data, ImageQualitySettings(conversion_gain_e_per_dn=0.5))
    assert _value(g, "noise_sd_e") == pytest.approx(0.5 * _value(g, "noise_sd_counts"))


def test_formulas_by_hand():
    assert (
        infer_bit_depth(4095, 16) == 12 and infer_bit_depth(4096, 16) == 14 and infer_bit_depth(200, 8) == 8
    )
    assert infer_bit_depth(70000, 16) == 16
    # Immerkær: a plane gives 0; pure Gaussian noise of SD 5 gives 5
    yy, xx = np.mgrid[0:64, 0:64]
    assert immerkaer_noise(3.0 * xx + 2.0 * yy + 7.0) == pytest.approx(0.0, abs=1e-9)
    noise = np.random.default_rng(0).normal(0, 5, (512, 512))
    assert immerkaer_noise(noise) == pytest.approx(5.0, rel=0.02)
    # one pixel of value 1 among zeros: |conv| sums to 16 over the 3 × 3 mask, so σ = √(π/2) · 16 / (6 · 4 · 4)
    one = np.zeros((6, 6))
    one[2, 2] = 1
    assert immerkaer_noise(one) == pytest.approx(math.sqrt(math.pi / 2) * 16 / 96)
    # Otsu separates two well-separated classes
    values = np.concatenate([np.full(100, 10.0), np.full(50, 100.0)])
    assert 10 < otsu_threshold(values) < 100


def test_focus_measure_drops_with_blur():
    from scipy.ndimage import gaussian_filter

    s = image_quality_sample().data.astype(float)
    sharp = np.random.default_rng(1).normal(500, 100, (256, 256))
    blurred = gaussian_filter(sharp, 3)
    a = analyze_image_quality(sharp)
    b = analyze_image_quality(blurred)
    assert _value(a, "focus_high_frequency_share") > 10 * _value(b, "focus_high_frequency_share")
    assert s.shape == (512, 512)


def test_bad_inputs_get_specific_errors():
    with pytest.raises(AnalysisError, match="2D plane"):
        analyze_image_quality(np.zeros((3, 16, 16)))
    with pytest.raises(AnalysisError, match="at least 8"):
        analyze_image_quality(np.zeros((4, 4)))
    with pytest.raises(AnalysisError, match="NaN"):
        analyze_image_quality(np.full((16, 16), np.nan))
    with pytest.raises(AnalysisError, match="constant"):
        analyze_image_quality(np.full((16, 16), 100, np.uint16))
    # no foreground (two levels only in one pixel): no SNR check, the others made
    flat = np.full((16, 16), 100, np.uint16)
    flat[0, 0] = 101
    r = analyze_image_quality(flat)
    assert set(r.checks["check"]) >= {"saturation", "zero clipping", "dynamic range"}


def test_real_uniform_slide_8_bit():
    """Real data: an 8-bit image of a uniform fluorescent slide (shared data, flatfield-chroma-slide)."""
    import tifffile
    from tests.conftest import shared_file

    img = tifffile.imread(shared_file("flatfield-chroma-slide/chroma_yx_uint8.tif"))
    r = analyze_image_quality(img)
    assert r.bit_depth == 8
    assert _value(r, "saturated_percent") == pytest.approx(100 * np.count_nonzero(img == 255) / img.size)
    assert _value(r, "zero_clipped_percent") == pytest.approx(100 * np.count_nonzero(img == 0) / img.size)
    # a smooth illumination field: the noise estimate is far below the image's own spread
    assert 0 < _value(r, "noise_sd_counts") < img.std()

"""Image-quality findings against synthetic truth: a clean image is not flagged; the documented
sample's 100 saturated pixels, an under-sampled image and a dim one are each named."""

from __future__ import annotations

import numpy as np

from microscope_qc.analysis.image_quality import ImageQualitySettings, analyze_image_quality
from microscope_qc.analysis.image_quality.findings import findings
from microscope_qc.findings import Severity, faults_found
from microscope_qc.samples.image_quality import image_quality_sample

S12 = ImageQualitySettings(bit_depth=12)


def _clean():
    img = image_quality_sample().data.copy()
    img[20:30, 20:30] = 900  # the sample's saturated block and zero strip, made ordinary
    img[-10:-5, 40:60] = 900
    return img


def test_a_clean_image_has_no_fault_and_every_check_is_reported():
    found = findings(analyze_image_quality(_clean(), S12, pixel_size_um=0.1, nyquist_um=0.12))
    assert faults_found(found) == set()
    assert {f.fault for f in found} == {"saturation", "zero_clipping", "undersampling", "low_signal"}
    assert {f.severity for f in found} == {Severity.OK}


def test_the_documented_sample_saturation_is_named():
    found = findings(analyze_image_quality(image_quality_sample().data, S12))
    assert faults_found(found) == {"saturation"}
    f = next(f for f in found if f.fault == "saturation")
    assert f.evidence[0].value == 100 * 100 / 512**2  # exactly the 100 pixels at 4095


def test_under_sampling_is_named_with_the_ratio():
    found = findings(analyze_image_quality(_clean(), S12, pixel_size_um=0.2, nyquist_um=0.1))
    assert faults_found(found) == {"undersampling"}
    assert "2.00 × the Nyquist pixel" in next(f for f in found if f.fault == "undersampling").text


def test_a_dim_image_is_low_signal():
    rng = np.random.default_rng(0)
    dim = np.clip(
        np.rint(100 + 2 * image_quality_sample().data / 4095 + rng.normal(0, 3, (512, 512))), 0, None
    )
    found = findings(analyze_image_quality(dim.astype(np.uint16), S12))
    assert faults_found(found) == {"low_signal"}
    assert len([f for f in found if f.fault == "low_signal"]) == 1  # SNR and range used: one finding

"""Field illumination: known truth, the reference tools' definitions to the letter, real data, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tifffile
import yaml
from tests.conftest import shared_file

from microscope_qc.analysis.field import (
    FieldSettings,
    analyze_field,
    combine_flats,
    iso_intensity_map,
    metroloj_field_metrics,
)
from microscope_qc.results import AnalysisError
from microscope_qc.samples import (
    FlatSampleSpec,
    flat_field_misaligned_sample,
    flat_field_sample,
    make_flat_field,
)


@pytest.mark.parametrize("make", [flat_field_sample, flat_field_misaligned_sample])
@pytest.mark.parametrize("model", ["gaussian", "poly4"])
def test_synthetic_truth_recovered(make, model):
    s = make()
    r = analyze_field(s.data, FieldSettings(model=model), dark=s.dark)
    h, w = s.spec.shape
    t = s.truth
    cy, cx = r.metric("illumination_centre_y_px"), r.metric("illumination_centre_x_px")
    err = math.hypot(cy.value - t["centre_y_px"], cx.value - t["centre_x_px"])
    falloff = r.metric("corner_falloff_percent").value
    print(
        f"{make.__name__} {model}: centre error {err:.2f} px ({100 * err / w:.3f} % of the field), "
        f"fall-off {falloff:.2f} % vs {t['corner_falloff_percent']:.2f} %"
    )
    tol_centre = 0.01 * w if model == "gaussian" else 0.03 * w  # a polynomial only approximates a Gaussian
    assert err < tol_centre
    assert falloff == pytest.approx(t["corner_falloff_percent"], rel=0.02 if model == "gaussian" else 0.05)
    if model == "gaussian":
        # the standard error is honest: the true centre lies within 4 SE
        assert abs(cy.value - t["centre_y_px"]) < 4 * cy.uncertainty + 0.05
        assert abs(cx.value - t["centre_x_px"]) < 4 * cx.uncertainty + 0.05


def test_dust_found_and_correction_flattens():
    s = flat_field_sample()
    r = analyze_field(s.data, dark=s.dark)
    chan = r.channels[0]
    assert r.metric("defect_count").value == len(s.dust)
    assert all(chan.defects[int(y), int(x)] > 0 for y, x, _ in s.dust)
    before, after = r.metric("cv_percent").value, r.metric("residual_cv_percent").value
    shot_noise_cv = 100 / math.sqrt(s.spec.peak_photons * 0.75)
    print(f"CV {before:.2f} % → {after:.2f} % after correction (shot noise ≈ {shot_noise_cv:.2f} %)")
    assert after < before / 3
    assert after < 2 * shot_noise_cv
    np.testing.assert_allclose(chan.flat_field.mean(), 1.0, rtol=1e-5)


def test_dark_subtraction_matters():
    s = make_flat_field(FlatSampleSpec(dark_adu=1000.0, seed=3))
    with_dark = analyze_field(s.data, dark=s.dark).metric("corner_falloff_percent").value
    without = analyze_field(s.data).metric("corner_falloff_percent").value
    assert with_dark == pytest.approx(s.truth["corner_falloff_percent"], rel=0.02)
    assert without < 0.85 * with_dark  # the camera offset hides part of the fall-off


def test_combine_flats():
    a = make_flat_field(FlatSampleSpec(seed=10, dust_specks=4))
    b = make_flat_field(FlatSampleSpec(seed=11, dust_specks=4))
    c = make_flat_field(FlatSampleSpec(seed=12, dust_specks=4))
    med = combine_flats([a.data, b.data, c.data], "median")
    ra, rm = analyze_field(a.data), analyze_field(med)
    # dust of one field is (almost) gone from the median of three fields
    assert rm.metric("defect_area_percent").value < 0.3 * ra.metric("defect_area_percent").value
    for y, x, _ in a.dust:
        assert abs(rm.channels[0].residual[int(y), int(x)]) < 0.2 * abs(
            ra.channels[0].residual[int(y), int(x)]
        )
    mean = combine_flats([a.data, a.data + 0, a.data], "mean")
    np.testing.assert_allclose(mean, a.data)
    with pytest.raises(AnalysisError, match="different shapes"):
        combine_flats([a.data, a.data[:10]])


# ------------------------------------------------------------------ MetroloJ_QC to the letter
def test_metroloj_formulas_hand_computed():
    img = np.array(
        [
            [10, 20, 30, 20, 10],
            [20, 60, 90, 60, 20],
            [30, 90, 100, 95, 30],
            [20, 60, 90, 60, 20],
        ],
        dtype=float,
    )
    m = metroloj_field_metrics(img, 10.0)
    assert m["uniformity_percent"] == pytest.approx(10.0)  # 100·10/100
    eight = np.array([10, 30, 10, 30, 30, 20, 90, 20], dtype=float)  # corners, then edge midpoints
    assert m["field_uniformity_percent"] == pytest.approx(100 - 100 * eight.std() / 100)
    # 90–100 % zone: 90, 100, 95, 90, 90 at (1,2), (2,2), (2,3), (2,1), (3,2)
    cy, cx = (1 + 2 + 2 + 2 + 3) / 5, (2 + 2 + 3 + 1 + 2) / 5
    assert m["reference_zone_centroid"] == pytest.approx((cy, cx))
    d = math.hypot(cy - 1.5, cx - 2.0)
    assert m["centering_accuracy_percent"] == pytest.approx(100 - 200 * d / math.hypot(5, 4))
    assert m["max_position"] == (2.0, 2.0)
    assert m["relative_intensity"]["top_left"] == pytest.approx(0.1)
    assert m["relative_intensity"]["bottom_centre"] == pytest.approx(0.9)


def test_iso_intensity_classes():
    img = np.array([[0, 9.9, 10, 19.99], [50, 89.9, 90, 100]])
    np.testing.assert_array_equal(iso_intensity_map(img, 10), [[0, 0, 10, 10], [50, 80, 90, 100]])
    np.testing.assert_array_equal(iso_intensity_map(img, 25), [[0, 0, 0, 0], [50, 75, 75, 100]])


def test_blur_is_metroloj_default():
    s = flat_field_sample()
    r = analyze_field(s.data, dark=s.dark)
    raw = analyze_field(s.data, FieldSettings(blur=False), dark=s.dark)
    assert r.settings["sigma_px"].value == 2.0 and r.settings["step_percent"].value == 10.0
    assert (
        r.metric("uniformity_percent").value > raw.metric("uniformity_percent").value
    )  # noise extremes smoothed


# ------------------------------------------------------------------ microscope-metrics reference
def test_chroma_slide_matches_microscope_metrics():
    folder = shared_file("flatfield-chroma-slide/chroma_yx_uint8.tif").parent
    img = tifffile.imread(folder / "chroma_yx_uint8.tif")
    params = yaml.safe_load((folder / "microscope-metrics_input_parameters.yaml").read_text())
    ref = {
        k: v[0]
        for k, v in yaml.safe_load(
            (folder / "microscope-metrics_key_measurements_reference.yaml").read_text()
        ).items()
        if isinstance(v, list)
    }
    r = analyze_field(
        img, FieldSettings(mm_sigma_px=params["sigma"], mm_corner_fraction=params["corner_fraction"])
    )

    def m(name):
        return r.metric(name).value

    worst = 0.0
    for ours, theirs in [
        ("mm_center_of_mass_y_px", "center_of_mass_y"),
        ("mm_center_of_mass_x_px", "center_of_mass_x"),
        ("mm_center_fitted_y_px", "center_fitted_y"),
        ("mm_center_fitted_x_px", "center_fitted_x"),
        ("mm_max_intensity_pos_y_px", "max_intensity_pos_y"),
        ("mm_max_intensity_pos_x_px", "max_intensity_pos_x"),
    ]:
        worst = max(worst, abs(m(ours) - ref[theirs]))
        assert m(ours) == pytest.approx(ref[theirs], abs=3.0), ours
    print(f"largest centre difference from microscope-metrics: {worst:.4f} px")
    assert m("mm_center_region_intensity_fraction") == pytest.approx(ref["center_region_intensity_fraction"])
    assert m("mm_center_region_area_fraction") == pytest.approx(ref["center_region_area_fraction"], abs=1e-3)
    assert m("mm_max_intensity") == pytest.approx(ref["max_intensity"], rel=1e-4)
    for region in (
        "top_left",
        "top_center",
        "top_right",
        "middle_left",
        "middle_center",
        "middle_right",
        "bottom_left",
        "bottom_center",
        "bottom_right",
    ):
        assert m(f"mm_{region}_intensity_ratio") == pytest.approx(ref[f"{region}_intensity_ratio"], abs=0.01)
        assert m(f"mm_{region}_intensity_mean") == pytest.approx(ref[f"{region}_intensity_mean"], rel=1e-6)
    # MetroloJ_QC metrics on a real flat: a ~12 % roll-off passes the 50 % limits
    assert all(v.passed for v in r.verdicts)


# ------------------------------------------------------------------ saturation and bad inputs
def test_saturated_flat_warns_and_fails_but_runs():
    s = flat_field_sample()
    data = s.data.copy()
    data[200:260, 200:260] = np.iinfo(data.dtype).max
    r = analyze_field(data, dark=s.dark)
    assert r.metric("saturated_percent").value == pytest.approx(100 * 3600 / data.size)
    v = {v.metric: v for v in r.verdicts}
    assert not v["saturated_percent"].passed
    assert any("saturated" in w for w in r.warnings)
    assert math.isfinite(r.metric("uniformity_percent").value)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.ones((40, 64, 64), np.uint16), "z-stack"),
        (np.ones((2, 5, 64, 64), np.uint16), "z-stack"),
        (np.full((64, 64), 9, np.uint16), "constant"),
        (np.full((64, 64), 65535, np.uint16), "constant"),
        (np.zeros((8, 8), np.uint16) + np.arange(8), "at least 16"),
    ],
)
def test_bad_inputs(data, match):
    with pytest.raises(AnalysisError, match=match):
        analyze_field(data)


def test_all_saturated_and_nan_and_dark():
    every = np.random.default_rng(0).integers(250, 256, (64, 64)).astype(np.uint8)
    with pytest.raises(AnalysisError, match="Every pixel of channel 0 is saturated"):
        analyze_field(every, FieldSettings(saturation_value=250))
    img = flat_field_sample().data.astype(np.float32)
    img[5, 5] = np.nan
    with pytest.raises(AnalysisError, match="NaN"):
        analyze_field(img)
    s = flat_field_sample()
    with pytest.raises(AnalysisError, match="does not match"):
        analyze_field(s.data, dark=s.dark[:100])
    with pytest.raises(AnalysisError, match="swapped"):
        analyze_field(s.dark, dark=s.data)

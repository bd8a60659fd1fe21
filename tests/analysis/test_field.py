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
    describe_shapes,
    iso_intensity_map,
    mask_from_shapes,
    metroloj_field_metrics,
    polygon_from_shape,
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


# ------------------------------------------------------------------ restricting the analysis (mask)
def _scratched_flat():
    """A dust-free flat with known illumination, and the same flat with a dark scratch and a bright blob."""
    s = make_flat_field(FlatSampleSpec(dust_specks=0, seed=7))
    yy, xx = np.indices(s.data.shape)
    scratch = (np.abs((yy - 380) - 0.6 * (xx - 330)) < 2.5) & (xx > 330) & (xx < 450)  # y 380..452
    blob = (yy - 120) ** 2 + (xx - 110) ** 2 < 8**2
    dirty = s.data.astype(np.float64)
    dirty[scratch] *= 0.25  # a scratch through the coating: 75 % darker
    dirty[blob] *= 1.6  # a bright fluorescent speck
    dirty = np.rint(dirty).astype(s.data.dtype)
    # rectangles around both with a margin of more than the blur's reach (σ = 2 px, truncated at 4σ)
    exclude = [
        np.array([[365, 318], [365, 462], [468, 462], [468, 318]], float),
        np.array([[100, 90], [100, 130], [140, 130], [140, 90]], float),
    ]
    return s, dirty, scratch | blob, exclude


def test_excluding_an_artefact_recovers_the_clean_numbers():
    s, dirty, artefact, exclude = _scratched_flat()
    mask = mask_from_shapes(s.data.shape, None, exclude)
    assert not (artefact & mask).any()
    clean = analyze_field(s.data)
    corrupt = analyze_field(dirty)
    masked = analyze_field(dirty, mask=mask, mask_description=describe_shapes(None, exclude))
    clean_masked = analyze_field(s.data, mask=mask)

    def m(r, name):
        return r.metric(name).value

    u = [m(r, "uniformity_percent") for r in (clean, corrupt, masked)]
    ca = [m(r, "centering_accuracy_percent") for r in (clean, corrupt, masked)]
    rcv = [m(r, "residual_cv_percent") for r in (clean, corrupt, masked)]
    centre_err = math.hypot(
        m(masked, "illumination_centre_y_px") - m(clean, "illumination_centre_y_px"),
        m(masked, "illumination_centre_x_px") - m(clean, "illumination_centre_x_px"),
    )
    print(
        f"U clean {u[0]:.3f} / scratched {u[1]:.3f} / scratched+mask {u[2]:.3f} %; "
        f"CA {ca[0]:.3f} / {ca[1]:.3f} / {ca[2]:.3f} %; residual CV {rcv[0]:.4f} / {rcv[1]:.4f} / {rcv[2]:.4f} %; "
        f"model centre moved {centre_err:.3f} px from the clean one"
    )
    # the artefacts corrupt the whole-image numbers ...
    assert u[1] < u[0] - 20 and ca[1] < 50 and rcv[1] > 2 * rcv[0]
    assert m(corrupt, "defect_count") >= 2
    # ... excluding them gives the clean flat's numbers back
    assert u[2] == pytest.approx(u[0], abs=0.05)
    assert ca[2] == pytest.approx(ca[0], abs=0.5)
    assert rcv[2] == pytest.approx(rcv[0], abs=0.02)
    assert centre_err < 0.1
    assert m(masked, "defect_count") == m(clean, "defect_count") == 0
    assert m(masked, "corner_falloff_percent") == pytest.approx(s.truth["corner_falloff_percent"], rel=0.02)
    # the margin exceeds the blur's reach, so the masked numbers equal the clean flat's under the same mask
    for name in ("uniformity_percent", "centering_accuracy_percent", "reference_zone_area_percent"):
        assert m(masked, name) == pytest.approx(m(clean_masked, name), rel=1e-9), name
    assert m(masked, "analysed_fraction_percent") == pytest.approx(100 * mask.mean())
    assert masked.settings["roi"].value.startswith("exclude 2 rectangles;")
    assert str(masked.settings["roi"].source) == "user"
    assert any("microscope-metrics" in w and "whole image" in w for w in masked.warnings)
    chan = masked.channels[0]
    assert chan.analysed is not None and (chan.iso_map[~mask] == -1).all() and (chan.iso_map[mask] >= 0).all()
    assert not chan.reference_zone[~mask].any() and not (chan.defects[~mask] > 0).any()


def test_roi_restricts_min_max_hand_computed():
    # a ramp I = 10 + y + 2x with a bright and a dark pixel outside the region of interest
    img = 10.0 + np.arange(20)[:, None] + 2.0 * np.arange(20)[None, :]
    img[0, 0], img[19, 19] = 1.0, 500.0
    roi = [np.array([[2, 3], [2, 12], [11, 12], [11, 3]], float)]  # rows 2..11, columns 3..12: 100 pixels
    mask = mask_from_shapes(img.shape, roi)
    assert mask.sum() == 100 and mask[2:12, 3:13].all()
    r = analyze_field(img, FieldSettings(blur=False, model="poly2", mm_sigma_px=0), mask=mask)
    low, high = 10 + 2 + 2 * 3, 10 + 11 + 2 * 12  # 18 at (2, 3), 45 at (11, 12)
    assert r.metric("uniformity_percent").value == pytest.approx(100 * low / high)  # 40 %
    assert r.metric("max_position_y_px").value == 11 and r.metric("max_position_x_px").value == 12
    assert r.metric("analysed_fraction_percent").value == pytest.approx(25.0)
    iso = r.channels[0].iso_map
    expected = np.floor(np.floor(100 * img / high / 10) * 10)
    np.testing.assert_array_equal(iso[mask], expected[mask])
    assert (iso[~mask] == -1).all()
    # the reference zone (≥ 90 % of 45 = 40.5) lies in the region; its area is a share of the region
    zone = r.channels[0].reference_zone
    assert zone.sum() == ((img >= 40.5) & mask).sum() and not zone[~mask].any()
    assert r.metric("reference_zone_area_percent").value == pytest.approx(zone.sum())  # of 100 pixels
    # corners and edge midpoints are all outside the region: NaN, named in a warning
    assert math.isnan(r.metric("relative_intensity_top_left").value)
    assert math.isnan(r.metric("field_uniformity_percent").value)
    assert any("relative_intensity_top_left" in w and "field_uniformity_percent" in w for w in r.warnings)
    prof = r.channels[0].profiles["horizontal_centre"]
    assert np.isnan(prof["raw"][0]) and np.isfinite(prof["model"]).all()
    assert any("horizontal_centre" in w for w in r.warnings)


def test_mask_from_shapes_geometry():
    rect = np.array([[2, 2], [2, 5], [5, 5], [5, 2]], float)
    m = mask_from_shapes((10, 10), [rect])
    assert m.sum() == 16 and m[2:6, 2:6].all()  # corner pixels included
    m = mask_from_shapes((10, 10), None, [rect])
    assert m.sum() == 100 - 16
    # two overlapping rectangles (2..5 and 4..7, 4 pixels shared) minus a 3 × 3 square inside the second
    m = mask_from_shapes((10, 10), [rect, rect + 2], [np.array([[4, 4], [4, 6], [6, 6], [6, 4]], float)])
    assert m.sum() == 16 + 16 - 4 - 9 and not m[4:7, 4:7].any()
    ellipse = polygon_from_shape(np.array([[10, 10], [10, 50], [30, 50], [30, 10]]), "ellipse")
    area = mask_from_shapes((64, 64), [ellipse]).sum()
    assert area == pytest.approx(math.pi * 20 * 10, rel=0.05)
    with pytest.raises(AnalysisError, match="no area"):
        polygon_from_shape(np.array([[0, 0], [5, 5]]), "line")
    assert describe_shapes([rect], [rect, ellipse]) == "include 1 rectangle; exclude 1 rectangle + 1 polygon"


def test_no_mask_is_the_whole_image():
    s = flat_field_sample()
    r = analyze_field(s.data, dark=s.dark)
    assert r.settings["roi"].value == "whole image" and str(r.settings["roi"].source) == "default"
    assert r.metric("analysed_fraction_percent").value == 100.0
    assert r.channels[0].analysed is None and r.channels[0].iso_map.min() >= 0
    everything = analyze_field(s.data, dark=s.dark, mask=np.ones(s.data.shape, bool))
    for name in ("uniformity_percent", "centering_accuracy_percent", "residual_cv_percent"):
        assert everything.metric(name).value == pytest.approx(r.metric(name).value, rel=1e-9)


@pytest.mark.parametrize(
    ("mask", "match"),
    [
        (np.ones((100, 512), bool), "shape"),
        (np.ones((512, 512), np.float32), "boolean"),
        (np.zeros((512, 512), bool), "only 0 pixels"),
        (np.pad(np.ones((40, 40), bool), ((0, 472), (0, 472))), "only 1600 pixels"),  # < 1 % of the field
    ],
)
def test_bad_masks_refused(mask, match):
    s = flat_field_sample()
    with pytest.raises(AnalysisError, match=match):
        analyze_field(s.data, dark=s.dark, mask=mask)


def test_tiny_mask_on_tiny_image_refused():
    img = np.random.default_rng(0).uniform(100, 200, (20, 20))
    mask = np.zeros((20, 20), bool)
    mask[:9, :11] = True  # 99 pixels: 25 % of the field but fewer than 100 pixels
    with pytest.raises(AnalysisError, match="at least 100"):
        analyze_field(img, mask=mask)

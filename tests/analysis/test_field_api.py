"""analyze_field's channel selection and limits, and the illumination models' own conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from microscope_qc.analysis.field import FieldSettings, analyze_field, mask_from_shapes
from microscope_qc.analysis.field.model import ILLUMINATION_MODELS, fit_illumination_model
from microscope_qc.results import AnalysisError, Limit, Limits
from microscope_qc.samples import FlatSampleSpec, make_flat_field


@pytest.fixture(scope="module")
def two_flats():
    a = make_flat_field(FlatSampleSpec(seed=1, dark_adu=100.0))
    b = make_flat_field(FlatSampleSpec(seed=2, centre_yx=(200.0, 300.0), dust_specks=3, dark_adu=100.0))
    return a, b, np.stack([a.data, b.data]), np.stack([a.dark, b.dark])


def _values(result, channel):
    return {m.name: m.value for m in result.metrics if m.channel == channel}


def test_channel_selection_equals_that_channel_alone(two_flats):
    a, b, data, dark = two_flats
    alone = analyze_field(b.data, dark=b.dark)
    picked = analyze_field(data, dark=dark, channels=[1], channel_names=["flat A", "flat B"])
    assert {m.channel for m in picked.metrics} == {1}
    assert {v.channel for v in picked.verdicts} == {1}
    assert [c.channel for c in picked.channels] == [1] and picked.channels[0].name == "flat B"
    assert set(picked.tables["profiles"]["channel"]) == {1}
    got, want = _values(picked, 1), _values(alone, 0)
    assert got.keys() == want.keys()
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), name


def test_channel_selection_keeps_the_mask_warnings(two_flats):
    _, _, data, _ = two_flats
    h, w = data.shape[-2:]
    corner = [np.array([[0, 0], [0, 60], [60, 60], [60, 0]])]
    mask = mask_from_shapes((h, w), None, corner)
    r = analyze_field(data, mask=mask, channels=[1])
    assert any("The mask excludes top_left" in msg for msg in r.warnings)
    assert math.isnan(r.metric("field_uniformity_percent", 1).value)


def test_bad_channel_selection(two_flats):
    _, _, data, _ = two_flats
    with pytest.raises(AnalysisError, match=r"Channel\(s\) \[2\] do not exist"):
        analyze_field(data, channels=[2])
    with pytest.raises(AnalysisError, match="No channel selected"):
        analyze_field(data, channels=[])


def test_limits_replace_the_default_verdicts(two_flats):
    a, *_ = two_flats
    default = analyze_field(a.data, dark=a.dark)
    u = default.metric("uniformity_percent").value
    assert [v.passed for v in default.verdicts if v.metric == "uniformity_percent"] == [True]
    limits = Limits((Limit("uniformity_percent", min=u + 1),), source="instrument 'Scope A'")
    judged = analyze_field(a.data, dark=a.dark, limits=limits)
    (verdict,) = [v for v in judged.verdicts if v.metric == "uniformity_percent"]
    assert not verdict.passed and verdict.threshold == pytest.approx(u + 1)
    assert verdict.source == "instrument 'Scope A'"
    # metrics without a limit keep their default verdicts
    assert [v.source for v in judged.verdicts if v.metric == "centering_accuracy_percent"] == [
        v.source for v in default.verdicts if v.metric == "centering_accuracy_percent"
    ]
    assert _values(judged, 0) == pytest.approx(_values(default, 0), nan_ok=True)


@pytest.mark.parametrize("kind", ILLUMINATION_MODELS)
def test_each_model_evaluates_in_pixel_coordinates(kind):
    """Each model's evaluator and centre use the same pixel convention (they are separate code paths):
    on a noiseless, off-centre Gaussian illumination the evaluated model matches the image and peaks
    at the reported centre."""
    h, w = 300, 400
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = 170.0, 180.0
    img = (100.0 + 1000.0 * np.exp(-0.5 * (((yy - cy) / 260.0) ** 2 + ((xx - cx) / 300.0) ** 2))).astype(
        np.float32
    )
    fit = fit_illumination_model(img, FieldSettings(model=kind), np.ones(img.shape, bool))
    assert fit.kind == kind
    model = np.broadcast_to(fit.evaluate(np.ogrid[0:h, 0:w][0], np.ogrid[0:h, 0:w][1]), (h, w))
    tol = {"gaussian": 0.002, "poly4": 0.01, "poly2": 0.05}[kind]
    assert np.abs(model / img - 1).max() < tol
    ky, kx = np.unravel_index(int(np.argmax(model)), model.shape)
    assert math.hypot(fit.centre[0] - ky, fit.centre[1] - kx) < 1.5
    assert (
        math.hypot(fit.centre[0] - cy, fit.centre[1] - cx) < {"gaussian": 0.1, "poly4": 3, "poly2": 10}[kind]
    )
    assert (fit.fwhm_px is not None) == (kind == "gaussian")


def _levels_by_histogram(proc: np.ndarray) -> tuple:
    """microscope-metrics' centre region as it computes it: a level image per binning and its histogram."""
    from microscope_qc.analysis.field.mm import _centroid

    norm = proc * np.float32(1.0 / float(proc.max()))
    area, level, centroid, peak, max_pos = 1.0, None, (math.nan,) * 2, math.nan, (math.nan,) * 2
    for n_bins in (11, 21, 51, 101, 201, 501):
        if area < 0.2:
            break
        labels = np.clip(norm * np.float32(n_bins), 0, n_bins).astype(np.int32)
        counts = np.bincount(labels.ravel(), minlength=n_bins + 1)
        present = np.flatnonzero(counts[1:]) + 1
        second, first = (present[-2], present[-1]) if present.size > 1 else (present[-1], present[-1])
        area, level = float(counts[second]) / proc.size, 1 / (n_bins - 1)
        centroid, peak = _centroid(labels == second), float(proc[labels == second].max())
        max_pos = _centroid(labels == first)
    return level, area, centroid, peak, max_pos


@pytest.mark.parametrize("kind", ["noise", "hot pixel", "few levels", "two pixels", "negatives", "gaussian"])
def test_mm_centre_region_equals_the_level_histogram(kind):
    """The centre region found by comparisons equals the one from microscope-metrics' level image, exactly."""
    from microscope_qc.analysis.field.mm import microscope_metrics_field, mm_blur

    rng = np.random.default_rng(len(kind))
    h, w = 67, 90
    img = rng.normal(100, 10, (h, w))
    if kind == "hot pixel":  # a gap between the two highest levels
        img[5, 7] = 1e4
    elif kind == "few levels":
        img = rng.integers(0, 4, (h, w)).astype(float)
    elif kind == "two pixels":
        img = np.zeros((h, w))
        img[0, 0], img[1, 1] = 1.0, 0.5
    elif kind == "negatives":
        img = rng.normal(0, 10, (h, w))
        img[3, 3] = 50
    elif kind == "gaussian":
        yy, xx = np.mgrid[:h, :w]
        img = 1000 * np.exp(-((yy - h / 3) ** 2 + (xx - w / 2) ** 2) / (2 * (h / 2) ** 2))
    img = img.astype(np.float32)
    for sigma in (0.0, 5.0):
        r = microscope_metrics_field(img, sigma, 0.1)
        got = (
            r["center_region_intensity_fraction"],
            r["center_region_area_fraction"],
            r["center_of_mass"],
            r["max_intensity"],
            r["max_intensity_pos"],
        )
        want = _levels_by_histogram(mm_blur(img, sigma) if sigma else img)
        assert repr(got) == repr(want), (kind, sigma)

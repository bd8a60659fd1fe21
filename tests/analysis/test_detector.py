"""EMVA 1288 photon transfer: synthetic truth, the emva1288 reference implementation, bad inputs."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from microscope_qc.analysis.detector import DetectorSettings, analyze_detector, line_fit, origin_fit
from microscope_qc.results import AnalysisError, Limit, Limits
from microscope_qc.samples.cameras import CAMERAS, Camera, CameraSpec, emva_series

pytest.importorskip("emva1288")


def _run(s, **kw):
    return analyze_detector(
        s.data, exposure_ms=s.exposure_ms, photons=s.photons, dark=[k == "dark" for k in s.kinds], **kw
    )


def _v(r, name):
    return r.metric(name, None).value


@pytest.fixture(scope="module")
def ccd():
    spec = replace(CAMERAS["ccd"], shape=(160, 160), hot_pixels=0, seed=4)
    return emva_series(Camera(spec), levels=24)


def test_gain_and_read_noise_from_synthetic_truth(ccd):
    r = _run(ccd)
    truth = ccd.truth
    assert _v(r, "system_gain_dn_per_e") == pytest.approx(truth["system_gain_dn_per_e"], rel=0.01)
    assert _v(r, "conversion_gain_e_per_dn") == pytest.approx(1 / truth["system_gain_dn_per_e"], rel=0.01)
    assert _v(r, "dark_noise_e") == pytest.approx(truth["read_noise_e"], rel=0.03)
    assert _v(r, "quantum_efficiency_percent") == pytest.approx(100 * truth["quantum_efficiency"], rel=0.02)
    # saturation: where the variance peaks, a little below the full well (18 000 e⁻; the 14-bit ADC
    # clips later): clipping starts to cut the noise before the mean reaches the full well
    assert 0.85 * 18000 < _v(r, "saturation_capacity_e") < 18000
    # every headline number has an uncertainty, or says it has none
    for m in r.metrics:
        assert m.uncertainty is not None
        assert math.isfinite(m.uncertainty) or m.uncertainty_kind == "not estimable", m.name
    assert not r.verdicts  # the standard sets no tolerances


def test_scmos_with_per_pixel_read_noise():
    spec = replace(CAMERAS["scmos"], shape=(160, 160), hot_pixels=0, seed=2)
    s = emva_series(Camera(spec), levels=24)
    r = _run(s)
    assert _v(r, "system_gain_dn_per_e") == pytest.approx(s.truth["system_gain_dn_per_e"], rel=0.01)
    assert _v(r, "dark_noise_e") == pytest.approx(s.truth["read_noise_e"], rel=0.03)


def test_emccd_gain_includes_the_excess_noise_factor():
    spec = replace(CAMERAS["emccd"], shape=(128, 128), hot_pixels=0, seed=3)
    s = emva_series(Camera(spec), levels=24)
    r = _run(s)
    # photon transfer measures K·G·F² (F² = 2): the apparent QE is η/F²
    assert _v(r, "system_gain_dn_per_e") == pytest.approx(s.truth["system_gain_dn_per_e"], rel=0.01)
    assert _v(r, "quantum_efficiency_percent") == pytest.approx(100 * spec.quantum_efficiency / 2, rel=0.02)


def test_dark_current_from_mean_and_variance():
    spec = replace(CAMERAS["ccd"], shape=(160, 160), hot_pixels=0, dark_current_e_per_s=50.0, seed=5)
    s = emva_series(Camera(spec), levels=20, exposures_ms=(100.0, 10000.0))
    r = _run(s)
    assert _v(r, "dark_current_mean_e_per_s") == pytest.approx(50.0, rel=0.05)
    assert _v(r, "dark_current_variance_e_per_s") == pytest.approx(50.0, rel=0.05)


def test_curves_are_tables_and_maps_are_arrays(ccd):
    r = _run(ccd)
    t = r.tables["photon_transfer"]
    assert len(t) == 24 and t["in_gain_fit"].sum() >= 10
    assert {
        "signal_dn",
        "variance_dn2",
        "variance_model_dn2",
        "snr",
        "snr_model",
        "linearity_error_percent",
    } <= set(t.columns)
    # the EMVA SNR model follows the measured SNR below saturation
    below = t[t["in_gain_fit"]]
    np.testing.assert_allclose(below["snr"], below["snr_model"], rtol=0.03)
    lo, hi = r.fit_ranges["gain"]
    assert lo == 0 and hi == pytest.approx(0.7 * _v(r, "saturation_signal_dn"))
    assert r.images["dsnu_map"].shape == (160, 160) and r.images["prnu_map"].dtype == np.float32
    # the PRNU map is the camera's per-pixel response (1 % here) up to shot noise of 16 averaged frames
    assert _v(r, "prnu_percent") == pytest.approx(100 * CAMERAS["ccd"].prnu, rel=0.15)


def test_illumination_varied_at_one_exposure():
    spec = replace(CAMERAS["ccd"], shape=(128, 128), hot_pixels=0, seed=6)
    s = emva_series(Camera(spec), levels=20, vary="photons")
    r = _run(s)
    assert _v(r, "system_gain_dn_per_e") == pytest.approx(s.truth["system_gain_dn_per_e"], rel=0.01)
    assert any("dark current needs at least 3" in w for w in r.warnings)


def test_agrees_with_the_emva1288_reference_implementation():
    from detector_reference import reference_results, simulate

    frames, t, p, d, data = simulate()
    ref = reference_results(data)
    r = analyze_detector(frames, exposure_ms=t, photons=p, dark=d)
    pairs = {
        "system_gain_dn_per_e": "K",
        "dark_noise_e": "sigma_d",
        "saturation_capacity_e": "u_e_sat",
        "dsnu_e": "DSNU",
        "prnu_percent": "PRNU",
        "dsnu_pixel_e": "DSNU_pixel",
        "prnu_pixel_percent": "PRNU_pixel",
        "quantum_efficiency_percent": "QE",
        "dark_current_mean_e_per_s": "u_I_mean",
        "dark_current_variance_e_per_s": "u_I_var",
        "linearity_error_min_percent": "LE_min",
        "linearity_error_max_percent": "LE_max",
    }
    for mine, theirs in pairs.items():
        assert _v(r, mine) == pytest.approx(ref[theirs], rel=0.01), (mine, ref[theirs])


def test_limits_give_the_only_verdicts(ccd):
    r = _run(ccd, limits=Limits((Limit("dark_noise_e", max=5.0),), "instrument 'Scope A'"))
    (v,) = r.verdicts
    assert v.metric == "dark_noise_e" and not v.passed and v.source == "instrument 'Scope A'"


def test_fits_by_hand():
    m, se = origin_fit([1, 2, 3], [2, 4, 6.3])
    assert m == pytest.approx((2 + 8 + 18.9) / 14)
    a, b, _, _ = line_fit([0, 1, 2, 3], [1, 3, 5, 7])
    assert (a, b) == pytest.approx((2.0, 1.0))


def test_dark_noise_floor_gives_an_upper_limit():
    spec = replace(CAMERAS["pmt"], shape=(64, 64), seed=1)
    s = emva_series(Camera(spec), levels=16)
    r = _run(s)
    assert _v(r, "dark_noise_dn") == pytest.approx(math.sqrt(0.24))
    assert any("0.24 DN²" in w for w in r.warnings)


# ------------------------------------------------------------------------------- bad inputs


@pytest.fixture(scope="module")
def small():
    spec = CameraSpec("ccd", shape=(24, 24), seed=9, hot_pixels=0, bit_depth=12, system_gain_dn_per_e=0.2)
    return emva_series(Camera(spec), levels=8, spatial_frames=4)


def test_one_frame_only(small):
    with pytest.raises(AnalysisError, match="Only 1 frame given"):
        analyze_detector(small.data[:1], exposure_ms=small.exposure_ms[:1], dark=[False])
    with pytest.raises(AnalysisError, match="Only 1 dark frame"):
        analyze_detector(small.data[:1], DetectorSettings(mode="dark"))


def test_mismatched_shapes_and_dtypes(small):
    frames = list(small.data)
    frames[3] = frames[3][:-1]
    with pytest.raises(AnalysisError, match="Frame 3 is 23 × 24 pixels but the first is 24 × 24"):
        _run(replace(small, data=frames))
    frames = list(small.data)
    frames[2] = frames[2].astype(np.int32)
    with pytest.raises(AnalysisError, match="Frame 2 is int32 but the first is uint16"):
        _run(replace(small, data=frames))


def test_saturated_darks(small):
    data = small.data.copy()
    i = small.kinds.index("dark")
    data[i] = 4095
    with pytest.raises(AnalysisError, match=f"Dark frame {i} is saturated in 100 % of its pixels"):
        analyze_detector(
            data,
            DetectorSettings(bit_depth=12),
            exposure_ms=small.exposure_ms,
            dark=[k == "dark" for k in small.kinds],
        )
    data[i][:3] = 65535  # 12.5 % of a 16-bit frame at full scale
    with pytest.raises(AnalysisError, match=f"Dark frame {i} is saturated in 12.5 % of its pixels"):
        _run(replace(small, data=data))


def test_unsorted_or_duplicated_exposures(small):
    t = list(small.exposure_ms)
    p = list(small.photons)
    # swap the second and third bright levels (and their darks)
    order = list(range(len(t)))
    a, b = [i for i in range(len(t)) if small.kinds[i] == "bright" and p[i] in sorted(set(p))[2:4]][:2], None
    del a, b
    levels = sorted({x for x, k in zip(p, small.kinds, strict=True) if k == "bright"})
    swap = {levels[1]: levels[2], levels[2]: levels[1]}
    p2 = [swap.get(x, x) for x in p]
    with pytest.raises(AnalysisError, match="photons list is not sorted"):
        analyze_detector(small.data, exposure_ms=t, photons=p2, dark=[k == "dark" for k in small.kinds])
    dup = [levels[1] if x == levels[2] else x for x in p]
    with pytest.raises(AnalysisError, match="photons list is duplicated"):
        analyze_detector(small.data, exposure_ms=t, photons=dup, dark=[k == "dark" for k in small.kinds])
    with pytest.raises(AnalysisError, match="exposure time list is not sorted"):
        analyze_detector(small.data, exposure_ms=t[::-1], dark=[k == "dark" for k in small.kinds][::-1])
    del order


def test_darks_brighter_than_brights():
    spec = CameraSpec("ccd", shape=(24, 24), seed=9, hot_pixels=0)
    s = emva_series(Camera(spec), levels=6, spatial_frames=2, overexpose=0.8)
    swapped = [k == "bright" for k in s.kinds]
    with pytest.raises(AnalysisError, match="as bright as \\(or brighter than\\) the bright frames"):
        analyze_detector(s.data, exposure_ms=s.exposure_ms, dark=swapped)


def test_a_constant_image(small):
    with pytest.raises(AnalysisError, match="is constant"):
        analyze_detector(
            np.full((4, 16, 16), 100, np.uint16), exposure_ms=[1, 1, 2, 2], dark=[True, True, False, False]
        )
    with pytest.raises(AnalysisError, match="is constant"):
        analyze_detector(np.full((4, 16, 16), 100, np.uint16))  # no frame table: the pixels are refused first


def test_no_frame_table_no_darks_single_frames(small):
    data = small.data[4:]
    with pytest.raises(AnalysisError, match="exposure time"):
        analyze_detector(data)
    with pytest.raises(AnalysisError, match="No dark frames"):
        analyze_detector(data[:4], exposure_ms=[1, 1, 2, 2], dark=[False] * 4)
    with pytest.raises(AnalysisError, match="single frame"):
        analyze_detector(data[:3], exposure_ms=[1, 1, 2], dark=[True, True, False])


def test_a_partial_series_is_analysed_with_warnings_saying_what_is_missing(small):
    keep = [
        i
        for i, (k, t) in enumerate(zip(small.kinds, small.exposure_ms, strict=True))
        if k == "bright" or t <= sorted(set(small.exposure_ms))[1]
    ]
    data = small.data[keep]
    r = analyze_detector(
        data, exposure_ms=[small.exposure_ms[i] for i in keep], dark=[small.kinds[i] == "dark" for i in keep]
    )
    w = " ".join(r.warnings)
    assert "No photon counts given" in w
    assert "No dark pair at" in w and "interpolated" in w
    assert "dark current needs at least 3" in w
    assert "EMVA 1288 averages at least 16" in w
    assert math.isnan(_v(r, "dark_current_mean_e_per_s"))
    assert _v(r, "system_gain_dn_per_e") > 0

"""Dark noise (MetroloJ_QC), CV per region (MetroloJ_QC) with ImageJ ROI sets, NoiSee."""

from __future__ import annotations

import math

import numpy as np
import pytest

from microscope_qc.analysis.detector import DetectorSettings, analyze_detector, cv_standard_error
from microscope_qc.results import AnalysisError
from microscope_qc.samples.cameras import Camera, CameraSpec


@pytest.fixture(scope="module")
def hot_camera():
    # 12-bit ADC reached before the full well: hot pixels (2·10⁴ e⁻/s) saturate in a 1 s dark frame
    return Camera(CameraSpec("scmos", shape=(96, 128), system_gain_dn_per_e=0.5, bit_depth=12, offset_dn=100.0,
                             read_noise_e=2.0, hot_pixels=7, dark_current_e_per_s=0.0, seed=11))  # fmt: skip


def test_dark_mode_finds_hot_pixels_exactly_and_measures_the_noise(hot_camera):
    frames = np.stack([hot_camera.frame(0.0, 1000.0) for _ in range(20)])
    r = analyze_detector(frames, DetectorSettings(mode="dark", conversion_gain_e_per_dn=2.0, bit_depth=12))
    table = r.tables["defect_pixels"]
    hot = sorted(map(tuple, table.loc[table["kind"] == "hot", ["y", "x"]].to_numpy().tolist()))
    assert hot == sorted(map(tuple, hot_camera.truth()["hot_pixels"]))
    assert (
        r.images["hot_pixels"].sum() == 7
        and not r.images["warm_pixels"].any()
        and not r.images["cold_pixels"].any()
    )
    assert r.metric("hot_pixels", None).value == 7
    assert r.metric("hot_pixels_percent", None).value == pytest.approx(100 * 7 / (96 * 128))
    # RMS temporal noise: read noise and quantisation, (2 e⁻ · 0.5)² + 1/12 DN²
    expected_dn = math.sqrt(1.0 + 1 / 12)
    assert r.metric("noise_rms_dn", None).value == pytest.approx(expected_dn, rel=0.03)
    assert r.metric("noise_rms_e", None).value == pytest.approx(2 * expected_dn, rel=0.03)
    assert r.metric("offset_dn", None).value == pytest.approx(100.0 + 7 * (4095 - 100) / (96 * 128), abs=0.2)
    assert r.images["noise_map"].shape == (96, 128)


def test_dark_mode_warm_and_cold_by_the_metroloj_rule():
    rng = np.random.default_rng(0)
    frames = rng.normal(100, 2, (10, 32, 32))
    frames[:, 3, 4] += 30  # +30 %: warm
    frames[:, 5, 6] -= 25  # −25 %: cold
    frames[:, 7, 8] += 15  # +15 %: neither
    r = analyze_detector(np.round(frames).astype(np.uint16), DetectorSettings(mode="dark"))
    t = r.tables["defect_pixels"]
    assert t[["y", "x", "kind"]].values.tolist() == [[3, 4, "warm"], [5, 6, "cold"]]
    r = analyze_detector(
        np.round(frames).astype(np.uint16), DetectorSettings(mode="dark", warm_cold_percent=10)
    )
    assert sorted(r.tables["defect_pixels"]["kind"]) == ["cold", "warm", "warm"]


def test_cv_hand_computed_metroloj_case():
    a = np.full((2, 6, 6), 10, np.uint16)
    a[0, 1:3, 1:3] = [[1, 2], [3, 4]]  # region 1 of detector 0
    a[1, 1:3, 1:3] = [[2, 2], [2, 3]]  # region 1 of detector 1
    rois = [("r1", np.zeros((6, 6), bool))]
    rois[0][1][1:3, 1:3] = True
    r = analyze_detector(a, DetectorSettings(mode="cv"), rois=rois)
    t = r.tables["cv"]
    cv0 = np.std([1, 2, 3, 4], ddof=1) / 2.5  # SD with n − 1, as MetroloJ_QC
    cv1 = np.std([2, 2, 2, 3], ddof=1) / 2.25
    np.testing.assert_allclose(t["cv_percent"], [100 * cv0, 100 * cv1])
    np.testing.assert_allclose(t["cv_relative"], [cv0 / cv1, 1.0])
    assert t["pixels"].tolist() == [4, 4]
    assert r.metric("cv_percent", 0).value == pytest.approx(100 * cv0)
    assert r.metric("cv_percent", 0).uncertainty == pytest.approx(100 * cv_standard_error(cv0, 4))


def test_cv_regions_must_fit_the_frames():
    a = np.random.default_rng(1).integers(50, 60, (1, 8, 8)).astype(np.uint16)
    with pytest.raises(AnalysisError, match="Region 'r' is \\(4, 4\\) but the frames are \\(8, 8\\)"):
        analyze_detector(a, DetectorSettings(mode="cv"), rois=[("r", np.ones((4, 4), bool))])


def test_noisee_fluorescein_snr_and_sbr():
    rng = np.random.default_rng(3)
    dark = rng.normal(100, 3, (5, 64, 64))
    bright = 100 + rng.normal(400, 20, (3, 64, 64))
    r = analyze_detector(bright, DetectorSettings(mode="noisee"), darks=dark)
    t = r.tables["noisee"]
    d = dark.mean(axis=0)
    snr0 = (bright[0] - d).mean() / (bright[0] - d).std(ddof=1)
    assert t["snr"][0] == pytest.approx(snr0)
    assert t["sbr"][0] == pytest.approx(bright[0].mean() / d.mean())
    assert r.metric("snr", None).value == pytest.approx(t["snr"].mean())
    with pytest.raises(AnalysisError, match="NoiSee needs a dark image"):
        analyze_detector(bright, DetectorSettings(mode="noisee"))
    with pytest.raises(AnalysisError, match="no brighter than the dark image"):
        analyze_detector(dark[:2], DetectorSettings(mode="noisee"), darks=bright)


def _scene_series(kind, shape=(256, 256), n=20, fluctuation=0.02, seed=1):
    from dataclasses import replace

    from microscope_qc.samples.cameras import CAMERAS

    cam = Camera(replace(CAMERAS[kind], shape=shape, hot_pixels=5, seed=seed))
    sp = cam.spec
    sat_e = min(sp.full_well_e, (cam.saturation_dn - sp.offset_dn) / sp.system_gain_dn_per_e)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    scene = (
        (0.05 + 0.65 * (xx / shape[1]) * (0.5 + 0.5 * np.sin(yy / 20) ** 2))
        * sat_e
        / (sp.quantum_efficiency * sp.multiplication_gain)
    )
    factors = 1 + fluctuation * np.random.default_rng(seed).standard_normal(n)
    bright = np.stack([cam.frame(scene * f, 10) for f in factors])
    dark = np.stack([cam.frame(0, 10) for _ in range(n)])
    cam.fluctuation_percent = 100 * np.std(factors, ddof=1) / np.mean(factors)
    return cam, bright, dark


@pytest.mark.parametrize("kind", ["scmos", "ccd", "emccd", "pmt"])
def test_single_scene_gain_and_read_noise_from_synthetic_truth(kind):
    cam, bright, dark = _scene_series(kind)
    r = analyze_detector(bright, DetectorSettings(mode="single-scene"), darks=dark)
    truth = cam.truth()
    assert r.metric("system_gain_dn_per_e", None).value == pytest.approx(
        truth["system_gain_dn_per_e"], rel=0.01
    )
    k = cam.spec.system_gain_dn_per_e
    if kind in ("scmos", "ccd"):  # read noise (per pixel on the sCMOS; the noisiest 2 % are left out)
        expected = math.sqrt(truth["read_noise_dn"] ** 2 + 1 / 12) / truth["system_gain_dn_per_e"]
        assert r.metric("read_noise_e", None).value == pytest.approx(expected, rel=0.03)
    del k
    assert r.metric("brightness_fluctuation_percent", None).value == pytest.approx(
        cam.fluctuation_percent, rel=0.05
    )
    assert r.metric("excluded_pixels_percent", None).value >= 2.0
    assert r.images["excluded_pixels"].shape == bright.shape[1:]
    hot = [tuple(p) for p in truth["hot_pixels"]]
    assert all(r.images["excluded_pixels"][p] for p in hot)


def test_single_scene_needs_darks_and_a_range_of_signal():
    cam, bright, dark = _scene_series("ccd", shape=(64, 64), n=5)
    with pytest.raises(AnalysisError, match="at least 3 dark frames"):
        analyze_detector(bright, DetectorSettings(mode="single-scene"))
    with pytest.raises(AnalysisError, match="no brighter than the dark frames"):
        analyze_detector(dark, DetectorSettings(mode="single-scene"), darks=bright)


def test_noisee_beads_snr_saturated_beads_and_drift():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:96]
    beads = [(20, 20), (50, 70), (75, 30), (30, 60)]
    frames = []
    for t in range(12):
        img = np.full((96, 96), 100.0)
        for i, (y, x) in enumerate(beads):
            amp = 4000 if i == 3 else 800
            img += amp * np.exp(-((yy - y) ** 2 + (xx - x - 0.2 * t) ** 2) / (2 * 1.5**2))
        frames.append(np.clip(rng.poisson(img), 0, 4095).astype(np.uint16))
    r = analyze_detector(np.stack(frames), DetectorSettings(mode="noisee", noisee_kind="beads", bit_depth=12))
    t = r.tables["beads"]
    assert len(t) == 4 and t["saturated"].sum() == 1
    assert r.metric("beads", None).value == 3
    assert r.metric("drift_px", None).value == pytest.approx(0.2 * 11, abs=0.4)
    assert r.images["kymographs"].shape == (4, 12, 15)
    assert 5 < r.metric("snr_median", None).value < 30

"""Detector findings against synthetic truth: a clean sCMOS and CCD are not flagged, a camera with
high read noise and one with hot pixels are each named; read noise is judged against the
datasheet or the camera type."""

from __future__ import annotations

from dataclasses import replace

import pytest

from microscope_qc.analysis.detector import DetectorSettings, analyze_detector
from microscope_qc.analysis.detector.findings import findings
from microscope_qc.findings import Severity, faults_found
from microscope_qc.results import Limit, Limits
from microscope_qc.samples.cameras import CAMERAS, Camera, emva_series

pytest.importorskip("emva1288")


def _found(kind, limits=None, settings=None, **spec):
    s = emva_series(Camera(replace(CAMERAS[kind], shape=(96, 96), **spec)))
    r = analyze_detector(
        s.data,
        settings,
        exposure_ms=s.exposure_ms,
        photons=s.photons,
        dark=[k == "dark" for k in s.kinds],
        limits=limits,
    )
    return findings(r)


def _get(found, code):
    return next(f for f in found if f.fault == code)


def test_clean_cameras_have_no_fault():
    scmos = _found("scmos", hot_pixels=0)
    assert faults_found(scmos) == set() and {f.severity for f in scmos} == {Severity.OK}
    ccd = _found("ccd", hot_pixels=0)
    assert faults_found(ccd) == set()
    # 6 e⁻ is normal for a CCD but worth knowing against a modern sCMOS
    assert _get(ccd, "noisy_camera").severity is Severity.NOTE


def test_high_read_noise_is_named():
    found = _found("ccd", hot_pixels=0, read_noise_e=15.0)
    assert faults_found(found) == {"noisy_camera"}
    assert _get(found, "noisy_camera").evidence[0].value == pytest.approx(15.0, rel=0.05)


def test_hot_pixels_are_counted_and_named():
    # six on 96 × 96 (0.065 %): a handful, within the 0.1 % a defect map usually corrects: noted
    few = _found("scmos", hot_pixels=6)
    assert faults_found(few) == set()
    f = _get(few, "hot_pixels")
    assert f.severity is Severity.NOTE and "6 hot pixel" in f.text
    assert f.evidence[0].value == pytest.approx(100 * 6 / 96**2)
    # twenty (0.22 %): a fault
    many = _get(_found("scmos", hot_pixels=20), "hot_pixels")
    assert many.severity is Severity.FAULT and many.evidence[0].value == pytest.approx(100 * 20 / 96**2)


def test_read_noise_is_judged_against_the_datasheet_or_the_camera_type():
    noisy = {"hot_pixels": 0, "read_noise_e": 6.0}
    # 6 e⁻ from a camera of unknown type: within the 10 e⁻ any scientific camera meets, noted
    assert _get(_found("scmos", **noisy), "noisy_camera").severity is Severity.NOTE
    # from an sCMOS (1–2 e⁻ usual, fault above 3): a fault
    as_scmos = _get(_found("scmos", settings=DetectorSettings(camera_type="scmos"), **noisy), "noisy_camera")
    assert as_scmos.severity is Severity.FAULT and "sCMOS" in as_scmos.evidence[0].limit
    # against its datasheet's 1.6 e⁻: 3.7 × it, a fault; against a datasheet of 5.5 e⁻ (1.09 ×): fine
    sheet = DetectorSettings(camera_type="scmos", datasheet_read_noise_e=1.6)
    f = _get(_found("scmos", settings=sheet, **noisy), "noisy_camera")
    assert f.severity is Severity.FAULT and "1.5 × the datasheet's 1.6 e⁻" in f.evidence[0].limit
    assert "≤ 2.4 e⁻" in f.text
    ok = _found("scmos", settings=DetectorSettings(datasheet_read_noise_e=5.5), **noisy)
    assert _get(ok, "noisy_camera").severity is Severity.OK
    # the same 6 e⁻ from a CCD is usual
    as_ccd = _found("ccd", settings=DetectorSettings(camera_type="ccd"), hot_pixels=0)
    assert _get(as_ccd, "noisy_camera").severity is Severity.OK
    # a PMT's read noise is not judged
    pmt = _found("pmt", settings=DetectorSettings(camera_type="pmt"), hot_pixels=0)
    assert all(f.fault != "noisy_camera" for f in pmt)


def test_a_facility_limit_on_read_noise_replaces_the_default():
    found = _found(
        "scmos", hot_pixels=0, limits=Limits((Limit("dark_noise_e", max=1.0),), "instrument 'cam'")
    )
    f = _get(found, "noisy_camera")
    assert f.severity is Severity.FAULT and "instrument 'cam'" in f.evidence[0].limit


def test_dark_mode_reads_the_metroloj_hot_pixels():
    import numpy as np

    # 10 s darks: the hot pixels' dark current (2·10⁴ e⁻/s) saturates the ADC (MetroloJ_QC's "hot")
    cam = Camera(replace(CAMERAS["ccd"], shape=(64, 64), hot_pixels=6, full_well_e=1e6, seed=2))
    frames = np.stack([cam.frame(0.0, 10_000.0) for _ in range(6)])
    found = findings(analyze_detector(frames, DetectorSettings(mode="dark", bit_depth=14)))
    f = _get(found, "hot_pixels")
    assert f.severity is Severity.FAULT and "6 hot pixel" in f.text  # 0.15 % of the sensor

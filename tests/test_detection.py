"""The one bead detector: finds every bead of a synthetic stack once, no hot pixel, snaps clicks to peaks."""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.detection import DetectionSettings, detect_beads, snap_to_peaks


def _stack(seed: int = 0):
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.mgrid[0:21, 0:128, 0:128]
    truth = np.array([[10, 20, 30], [8, 60, 90], [12, 100, 40], [10, 100, 110]], float)
    clean = np.full(zz.shape, 100.0)
    for z, y, x in truth:
        clean += 800 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 1.5**2) - (zz - z) ** 2 / (2 * 3.0**2))
    data = rng.poisson(clean).astype(np.uint16)
    data[5, 70, 70] = 60000  # a hot pixel
    return data, truth


def test_every_bead_found_once_at_its_peak_and_no_hot_pixel():
    data, truth = _stack()
    found = detect_beads(data, DetectionSettings(sigma_px=1.5, threshold_sigma=6.0))
    pos = np.column_stack([found["z"], found["y"], found["x"]]).astype(float)
    assert len(pos) == len(truth), pos
    for t in truth:
        d = np.abs(pos - t).max(axis=1)
        assert d.min() <= 1.0  # lateral peak exact to a pixel, focal plane to one plane
    assert not np.any((pos[:, 1] == 70) & (pos[:, 2] == 70))


def test_pure_noise_gives_no_candidate():
    noise = np.random.default_rng(3).poisson(100, (11, 96, 96)).astype(np.uint16)
    found = detect_beads(noise, DetectionSettings(threshold_sigma=6.0))
    assert len(found["y"]) == 0


def test_clicks_snap_to_the_peak_and_outside_clicks_stay():
    data, truth = _stack()
    z, y, x = truth[:, 0] + 2, truth[:, 1] - 2, truth[:, 2] + 1  # clicks a little off
    zs, ys, xs = snap_to_peaks(data, np.r_[z, 3], np.r_[y, -5], np.r_[x, 10], radius=(3, 3, 3))
    np.testing.assert_array_equal(np.c_[zs, ys, xs][:-1, 1:], truth[:, 1:].astype(int))
    assert np.all(np.abs(zs[:-1] - truth[:, 0]) <= 1)
    assert (zs[-1], ys[-1], xs[-1]) == (3, -5, 10)  # outside the stack: left for the caller to reject


@pytest.mark.parametrize("sigma", [1.0, 2.5])
def test_detection_settings_scale_with_the_psf(sigma):
    data, truth = _stack()
    found = detect_beads(data, DetectionSettings(sigma_px=sigma, threshold_sigma=6.0))
    assert len(found["y"]) == len(truth)

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


# ------------------------------------------------------------------ a bright bead's defocus halo
VOXEL = (0.2, 0.1, 0.1)  # 63×/1.4 oil: 31 planes through ±3 µm
SIGMA_PX = 0.51 * 0.52 / 1.4 / 2.3548 / 0.1  # the theoretical lateral PSF, as the PSF analysis sizes it


@pytest.fixture(scope="module")
def bright_bead():
    from tests.widefield_psf import widefield_psf

    return widefield_psf((31, 160, 160), VOXEL, (15.3, 80.2, 79.6))


def _bead_stack(psf, peak, seed, extra=0.0):
    return np.random.default_rng(seed).poisson(100 + peak * psf + extra).astype(np.uint16)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_bright_bead_s_halo_is_not_a_bead(bright_bead, seed):
    """Widefield rings and cone light far from focus made local maxima 2–4 µm from the bead."""
    data = _bead_stack(bright_bead, 40000, seed)
    naive = detect_beads(data, DetectionSettings(sigma_px=SIGMA_PX, halo_sigma=0))
    assert len(naive["y"]) > 1  # the case reproduces the halo candidates (the detector before the fix)
    found = detect_beads(data, DetectionSettings(sigma_px=SIGMA_PX))
    assert len(found["y"]) == 1
    assert (found["z"][0], found["y"][0], found["x"][0]) == (15, 80, 80)


def test_dim_beads_inside_the_halo_are_still_beads(bright_bead):
    """A halo hides nothing: dim beads in the bright bead's cone, at other depths, are found."""
    from tests.widefield_psf import widefield_psf

    dims = [(10, 80, 105), (20, 50, 80), (15, 120, 60), (8, 110, 110)]  # 2.5–4.5 µm from the bright one
    dim_psf = sum(widefield_psf((31, 160, 160), VOXEL, p) for p in dims)
    for seed in range(3):
        data = _bead_stack(bright_bead, 40000, seed, 300 * dim_psf)  # each 1/130 of the bright bead
        found = detect_beads(data, DetectionSettings(sigma_px=SIGMA_PX))
        pos = np.column_stack([found["z"], found["y"], found["x"]])
        assert len(pos) == 5, pos
        for t in [(15, 80, 80), *dims]:
            assert np.abs(pos - t).max(axis=1).min() <= 1


def test_two_close_beads_stay_two():
    """Two beads 1 µm apart (one a fifth as bright) in focus: both are candidates, neither a halo."""
    from tests.widefield_psf import widefield_psf

    psf = widefield_psf((31, 96, 96), VOXEL, (15, 48, 43)) + 0.2 * widefield_psf(
        (31, 96, 96), VOXEL, (15, 48, 53)
    )
    found = detect_beads(_bead_stack(psf, 20000, 0), DetectionSettings(sigma_px=SIGMA_PX))
    assert sorted(zip(found["y"].tolist(), found["x"].tolist(), strict=True)) == [(48, 43), (48, 53)]


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (3, 3), (64, 53), (257, 256)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16, np.int32])
def test_median3x3_equals_scipys_rank_filter(shape, dtype):
    from scipy import ndimage

    from microscope_qc.detection import median3x3

    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 5, shape).astype(dtype)  # many ties
    np.testing.assert_array_equal(median3x3(image), ndimage.median_filter(image, size=3, mode="nearest"))
    image = rng.normal(size=shape).astype(dtype) if np.dtype(dtype).kind == "f" else image
    np.testing.assert_array_equal(median3x3(image), ndimage.median_filter(image, size=3, mode="nearest"))

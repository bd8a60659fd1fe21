"""The local resolution map: tiles over the field, each measured by the run's method.

The truth: a field whose left half is band-limited at f_c = 0.15 cycles/px and whose right half at
0.3 (``samples.resolution_halves_sample``): every tile wholly in one half must report that half's
1/f_c within 10 %, by decorrelation and by FRC; an elliptical band limit (x ≠ y) must show in the
anisotropy map; tiles without structure get NaN and a reason, never a number.
"""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.analysis.resolution import ResolutionSettings, analyze_resolution
from microscope_qc.analysis.resolution.decorrelation import dcorr_max, dcorr_max_rows
from microscope_qc.analysis.resolution.local import CONSTANT, NO_PEAK, TOO_COARSE, tile_starts
from microscope_qc.samples import resolution_halves_sample


@pytest.fixture(scope="module")
def halves():
    return resolution_halves_sample()


def _halves_tiles(m, boundary_px):
    """Masks of the tiles wholly left and wholly right of the boundary."""
    x0 = m.x_px[None, :] + np.zeros(m.resolution_um.shape, int)
    return x0 + m.tile_px <= boundary_px, x0 >= boundary_px


@pytest.mark.parametrize("method", ["decorrelation", "frc", "frc-split"])
def test_map_recovers_each_halfs_resolution(halves, method):
    s = halves
    kwargs = {}
    settings = ResolutionSettings(method="decorrelation" if method == "decorrelation" else "auto")
    if method == "frc":
        kwargs["pair"] = s.pair
    if method == "frc-split":
        # the half-bit threshold: after the half-data correction a 256-px tile's curve beyond the
        # band limit is noisy enough to reach 1/7 at times (up to 14 % too fine here, see docs)
        settings = ResolutionSettings(
            conversion_gain_e_per_dn=1 / s.gain_dn_per_e, offset_counts=s.offset_dn, frc_threshold="half-bit"
        )
    r = analyze_resolution(s.image, settings, pixel_size_um=s.pixel_size_um, **kwargs)
    assert r.method == method
    m = r.map
    assert m is not None and m.method == method
    # 1024 px, 256-px tiles at 50 % overlap: 7 × 7 tiles 128 px apart, centred from 127.5 px
    assert m.resolution_um.shape == (7, 7) and m.tile_px == 256
    assert m.step_um == pytest.approx((128 * 0.05, 128 * 0.05))
    assert m.origin_um == pytest.approx((127.5 * 0.05, 127.5 * 0.05))
    left, right = _halves_tiles(m, s.truth["boundary_px"])
    assert left.sum() == 21 and right.sum() == 21
    assert m.valid.all(), m.reason
    np.testing.assert_allclose(m.resolution_um[left], s.truth["left_resolution_um"], rtol=0.10)
    np.testing.assert_allclose(m.resolution_um[right], s.truth["right_resolution_um"], rtol=0.10)
    # an isotropic band limit: x and y agree
    assert np.nanmedian(m.anisotropy) == pytest.approx(1.0, abs=0.1)
    # the table and the metrics say the same
    t = r.tables["tiles"]
    assert len(t) == 49 and t["valid"].all()
    np.testing.assert_array_equal(t["tile_resolution_um"].to_numpy(), m.resolution_um.ravel())
    assert t["centre_x_um"].iloc[1] - t["centre_x_um"].iloc[0] == pytest.approx(128 * 0.05)
    assert r.metric("map_resolution_best_um").value == pytest.approx(np.nanmin(m.resolution_um))
    assert r.metric("map_resolution_worst_um").value == pytest.approx(np.nanmax(m.resolution_um))
    assert r.metric("map_valid_tiles_percent").value == 100.0


@pytest.mark.parametrize("pair", [False, True])
def test_anisotropic_band_limit_shows_in_the_anisotropy_map(pair):
    # no content beyond 0.3 cycles/px along x and 0.15 along y (an elliptical pupil): resolution
    # along x 3.3 px, along y 6.7 px, anisotropy x / y = 0.5
    rng = np.random.default_rng(5)
    n = 512
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    spec = np.fft.rfft2(rng.standard_normal((n, n))) * ((fx / 0.3) ** 2 + (fy / 0.15) ** 2 < 1)
    s = np.fft.irfft2(spec, (n, n))
    expected = 300 + 60 * s / s.std()
    a, b = rng.poisson(expected), rng.poisson(expected)
    r = analyze_resolution(a, pixel_size_um=1.0, pair=b if pair else None)
    m = r.map
    assert m.valid.all()
    # a sector spans ±22.5° about its axis, where the ellipse reaches further than on the axis
    # (6.3 px instead of 6.7 at 22.5° from y): the sectors read up to that much finer
    np.testing.assert_allclose(m.resolution_x_um, 1 / 0.3, rtol=0.10)
    np.testing.assert_allclose(m.resolution_y_um, 1 / 0.15, rtol=0.15)
    np.testing.assert_allclose(m.anisotropy, 0.5, rtol=0.15)
    assert (m.anisotropy < 0.65).all()
    assert r.metric("map_anisotropy_median").value == pytest.approx(0.5, rel=0.15)


def test_tiles_without_structure_are_nan_with_a_reason():
    # structure in the top half only, a noise-only bottom half, a constant (clipped) corner
    rng = np.random.default_rng(2)
    s = resolution_halves_sample(size=512, cutoffs_cycles_per_px=(0.25, 0.25))
    image = s.image.astype(float)
    image[256:] = rng.poisson(300, size=(256, 512)) * 2 + 100
    image[384:, 384:] = 100.0
    r = analyze_resolution(image, ResolutionSettings(method="decorrelation", tile_px=128), pixel_size_um=0.05)
    m = r.map
    assert m.resolution_um.shape == (7, 7)
    top = m.y_px + 128 <= 256
    assert m.valid[top].all()
    np.testing.assert_allclose(m.resolution_um[top], 0.2, rtol=0.10)
    noise = (m.y_px >= 256)[:, None] & (m.x_px + 128 <= 384)[None, :]
    assert not m.valid[noise].any()
    assert set(m.reason[noise]) <= {NO_PEAK, TOO_COARSE}
    assert m.reason[-1, -1] == CONSTANT and np.isnan(m.anisotropy[-1, -1])
    assert np.isnan(m.resolution_x_um[~m.valid]).all() and np.isnan(m.anisotropy[~m.valid]).all()
    t = r.tables["tiles"]
    assert (t["reason"] != "").sum() == (~m.valid).sum()
    assert any("map tiles have no resolution" in w for w in r.warnings)
    assert r.metric("map_valid_tiles_percent").value == pytest.approx(100 * m.valid.mean())


def test_tile_geometry_by_hand():
    # evenly spaced, first at 0, last flush with the edge, spacing at most tile·(1 − overlap)
    np.testing.assert_array_equal(tile_starts(2048, 256, 50), np.arange(0, 1793, 128))
    np.testing.assert_array_equal(tile_starts(1000, 256, 50), [0, 124, 248, 372, 496, 620, 744])
    np.testing.assert_array_equal(tile_starts(256, 256, 50), [0])
    np.testing.assert_array_equal(tile_starts(600, 256, 0), [0, 172, 344])
    # a tile larger than the image is clipped to it (square: the shorter side)
    s = resolution_halves_sample(size=256)
    r = analyze_resolution(s.image[:, :200], ResolutionSettings(method="decorrelation"), pixel_size_um=0.05)
    assert r.map.tile_px == 200 and r.map.resolution_um.shape == (2, 1)
    assert r.map.step_um == pytest.approx((56 * 0.05, 200 * 0.05))


def test_no_map_when_switched_off(halves):
    r = analyze_resolution(
        halves.image[:256, :256], ResolutionSettings(local_map=False), pixel_size_um=halves.pixel_size_um
    )
    assert r.map is None and "tiles" not in r.tables
    assert not any(m.name.startswith("map_") for m in r.metrics)


def test_batched_peak_search_matches_the_published_loop():
    rng = np.random.default_rng(0)
    rows = [
        np.array([0.0, 0.2, 0.5, 0.3, 0.1]),
        np.array([0.0, 0.4, 0.3, 0.35, 0.5]),
        np.array([0.0, 0.1, 0.2, 0.3, 0.4]),
        np.zeros(5),
        np.array([0.3, 0.3, 0.3, 0.3, 0.3]),
    ]
    for k in range(3000):  # plateaus, small steps near the 0.001 significance, rises, noise
        kind = k % 4
        if kind == 0:
            rows.append(np.round(rng.random(5), 2))
        elif kind == 1:
            rows.append(np.cumsum(rng.normal(0.01, 0.02, 5)))
        elif kind == 2:
            rows.append(np.round(np.cumsum(rng.normal(0.0005, 0.001, 5)), 4))
        else:
            rows.append(rng.integers(0, 3, 5) * 0.0007)
    d = np.stack(rows)
    ind, amp = dcorr_max_rows(d)
    expected = [dcorr_max(row) for row in d]
    assert [(int(i), float(a)) for i, a in zip(ind, amp, strict=True)] == expected


def test_batched_cutoffs_match_the_curve_by_curve_analysis():
    from microscope_qc.analysis.resolution.decorrelation import (
        RingGeometry,
        curves_from_sums,
        cutoffs_from_sums,
    )
    from microscope_qc.analysis.resolution.fourier import apodize, rfft2

    s = resolution_halves_sample(size=256, cutoffs_cycles_per_px=(0.2, 0.35))
    rng = np.random.default_rng(1)
    images = [s.image[:128, :128], s.image[128:, 128:], rng.normal(size=(128, 128))]  # the last: noise
    geometry = RingGeometry((128, 128), rings_per_step=4)
    sums = geometry.sums(np.abs(rfft2(np.stack([apodize(np.asarray(i, float), 20) for i in images]))))
    expected, rows = [], []
    for t in sums:
        for sector in (None, 0, 1):
            expected.append(curves_from_sums(t, (128, 128), sector).kc_max)
            pick = (lambda a: a.sum(0)) if sector is None else (lambda a, k=sector: a[k])
            rows.append((pick(t.count), pick(t.abs_sum), pick(t.power)))
    count, abs_sum, power = (np.stack(x) for x in zip(*rows, strict=True))
    kc = cutoffs_from_sums(count, abs_sum, power, geometry.r, (128, 128))
    np.testing.assert_array_equal(kc, expected)
    assert kc[:6].min() > 0 and kc[6] == 0

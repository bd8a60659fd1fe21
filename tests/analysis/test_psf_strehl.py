"""The Strehl ratio and halo of the beads (the dirty-objective signature) against known truth.

The ideal PSF is checked against psfmodels' vectorial Gibson–Lanni model; the estimator against
noise-free stacks of that model (Strehl 1 by construction) and the gallery's dirty lens (Strehl 0.57
by its truth); the rule against hand-made metrics.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from microscope_qc.analysis.psf.findings import psf_findings
from microscope_qc.analysis.psf.strehl import aberration_waves, ideal_plane, strehl_columns
from microscope_qc.findings import Severity
from microscope_qc.results import Metric, Result
from microscope_qc.samples import psf_render as pr
from microscope_qc.samples.psf_gallery import GalleryBeadSpec

OPTICS = GalleryBeadSpec().optics  # NA 1.4, oil 1.518, 520 nm


@pytest.mark.parametrize("bead", [0.0, 0.1])
def test_ideal_plane_is_psfmodels_vectorial(bead):
    """Peak over energy within 1.5 µm of the in-focus plane: within 1.5 % of psfmodels' (fine grid, no pixel)."""
    fine = pr.gibson_lanni_psf(OPTICS, 0.065, 0.15)
    if bead:
        fine = pr.bead_blur(fine, bead)
    k, y, x = np.unravel_index(np.argmax(fine.psf), fine.psf.shape)
    plane = fine.psf[k]
    yy, xx = np.indices(plane.shape)
    r = np.hypot(yy - y, xx - x) * fine.dxy_um
    model = plane[y, x] / plane[r <= 1.5].sum()
    ours = ideal_plane(OPTICS.na, OPTICS.ni0, OPTICS.wavelength_um, fine.dxy_um, bead).peak_fraction
    assert ours == pytest.approx(model, rel=0.015)


def test_noise_free_vectorial_beads_read_strehl_one():
    """Beads of the ideal model at third-of-a-pixel and -plane offsets: Strehl 0.95–1.02."""
    spec = GalleryBeadSpec()
    fine = pr.bead_blur(pr.gibson_lanni_psf(spec.optics, 0.065, 0.15), 0.1)
    rng = np.random.default_rng(0)
    zyx = np.array(
        [
            [3.6 + 0.05 * i, 3.0 + 3.4 * (i // 4) + rng.uniform(0, 0.065), 3.0 + 3.4 * (i % 4)]
            for i in range(16)
        ]
    )
    zyx[:, 0] -= fine.focus_um
    expected, placed = pr.place_beads(fine, spec.shape, spec.voxel_size_um, zyx, np.full(16, 2e4))
    cols = {"z_um": placed[:, 0], "y_um": placed[:, 1], "x_um": placed[:, 2]}
    ideal = ideal_plane(1.4, 1.518, 0.52, 0.065, 0.1)
    out = strehl_columns(expected + 10.0, np.arange(16), cols.__getitem__, spec.voxel_size_um, ideal)
    assert np.isfinite(out["strehl"]).all()
    assert np.all((out["strehl"] > 0.95) & (out["strehl"] < 1.02)), out["strehl"]
    assert np.allclose(out["halo_fraction"], ideal.halo_fraction, atol=0.01)


def test_aberration_waves_by_hand():
    """Spherical 0.03, astigmatism at its λ/14 limit, coma bow of 0.02 waves: in quadrature."""
    m = {
        "spherical_waves": -0.03,
        "astigmatic_separation_um": 0.2,
        "astigmatism_limit_um": 0.2,
        "psf_bow_um": 0.02 * 2.9 * 0.2,
        "theoretical_fwhm_xy_physical_um": 0.2,
    }
    assert aberration_waves(m) == pytest.approx(math.sqrt(0.03**2 + (1 / 14) ** 2 + 0.02**2))
    assert aberration_waves({}) is None


def _result(strehl, se, explained):
    r = Result("psf")
    r.metrics += [
        Metric("strehl_ratio", strehl, None, se, 0),
        Metric("aberration_strehl", explained, None, None, 0),
        Metric("residual_strehl", strehl / explained, None, se / explained, 0),
        Metric("halo_fraction", 0.3, None, 0.01, 0),
        Metric("ideal_halo_fraction", 0.08, None, None, 0),
    ]
    return r


@pytest.mark.parametrize(
    ("strehl", "se", "explained", "severity"),
    [
        (0.55, 0.01, 0.97, Severity.FAULT),  # a dirty lens: nothing explains the loss
        (0.55, 0.01, 0.60, Severity.OK),  # the aberrations found explain it
        (0.78, 0.02, 1.0, Severity.NOTE),  # below 0.8, but not by two standard errors
        (0.92, 0.01, 1.0, Severity.OK),
    ],
)
def test_dirty_objective_rule(strehl, se, explained, severity):
    (f,) = [f for f in psf_findings(_result(strehl, se, explained)) if f.fault == "dirty_objective"]
    assert f.severity is severity, f.text
    assert f.evidence[0].limit.startswith("≥ 0.8")
    if severity is Severity.FAULT:
        assert "clean the front lens" in f.text and "30 %" in f.text

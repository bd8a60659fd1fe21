"""The field maps' linear interpolation gives griddata's numbers without importing scipy.interpolate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import griddata
from scipy.spatial import QhullError

from microscope_qc.analysis.psf.interpolation import interpolate_linear


def _grid(ny: int, nx: int, size: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(ny) + 0.5) * (size / ny), (np.arange(nx) + 0.5) * (size / nx)


@pytest.mark.parametrize("seed", range(20))
def test_equals_griddata_on_scattered_beads(seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 50, (int(rng.integers(3, 250)), 2))
    vals = rng.normal(size=(len(pts), 6))
    gy, gx = _grid(64, int(rng.integers(2, 80)))
    want = griddata(pts, vals, tuple(np.meshgrid(gy, gx, indexing="ij")), method="linear")
    got = interpolate_linear(pts, vals, gy, gx)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))  # NaN exactly outside the hull
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_equals_griddata_on_a_lattice_through_grid_points():
    """Beads on a square lattice: cocircular points, grid points on shared edges and on vertices."""
    g = np.arange(0.0, 50.0, 5.0)
    yy, xx = np.meshgrid(g, g, indexing="ij")
    pts = np.column_stack([yy.ravel(), xx.ravel()])
    vals = np.column_stack([pts[:, 0] * 2 - pts[:, 1], np.sin(pts[:, 0])])
    gy = gx = np.arange(0.0, 50.0, 1.25)
    want = griddata(pts, vals, tuple(np.meshgrid(gy, gx, indexing="ij")), method="linear")
    got = interpolate_linear(pts, vals, gy, gx)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # a plane is reproduced exactly inside the hull
    inside = ~np.isnan(got[..., 0])
    plane = 2 * gy[:, None] - gx[None, :]
    np.testing.assert_allclose(got[..., 0][inside], np.broadcast_to(plane, inside.shape)[inside], atol=1e-12)


def test_collinear_beads_raise_like_griddata():
    pts = np.column_stack([np.arange(5.0), np.arange(5.0)])
    with pytest.raises(QhullError):
        interpolate_linear(pts, np.ones((5, 1)), *_grid(8, 8, 5.0))


def test_a_psf_run_imports_neither_scipy_interpolate_nor_optimize():
    """Structural (not timed): ``scipy.interpolate`` brings ``scipy.optimize``, half a second of start-up."""
    src = Path(__file__).resolve().parents[2] / "src"
    code = (
        "import sys\n"
        "from microscope_qc.analysis.psf import PSFSettings, analyze_psf\n"
        "from microscope_qc.instrument import MicroscopeSettings\n"
        "from microscope_qc.samples import psf_beads_sample\n"
        "s = psf_beads_sample()\n"
        "ms = MicroscopeSettings().with_values(na=s.spec.na, immersion_index=s.spec.immersion_index, "
        "voxel_size_um=s.spec.voxel_size_um, modality='widefield').with_wavelengths([488], [520])\n"
        "r = analyze_psf(s.data, PSFSettings(microscope=ms))\n"
        "assert r.channels[0].maps, 'no field maps'\n"
        "print(sorted(m for m in ('scipy.interpolate', 'scipy.optimize') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=300,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout

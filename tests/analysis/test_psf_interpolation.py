"""The field maps' linear interpolation gives griddata's numbers without importing scipy.interpolate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import griddata
from scipy.spatial import Delaunay

from microscope_qc.analysis.psf.delaunay import CollinearPointsError, delaunay
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
    with pytest.raises(CollinearPointsError, match="one line"):
        interpolate_linear(pts, np.ones((5, 1)), *_grid(8, 8, 5.0))
    with pytest.raises(CollinearPointsError, match="at least three"):
        delaunay(pts[:2])
    with pytest.raises(CollinearPointsError):
        delaunay(np.ones((4, 2)))  # one point four times


def _triangles(pts: np.ndarray, simplices: np.ndarray) -> set[tuple[tuple[float, ...], ...]]:
    """The triangles as sets of corners (a repeated point may be either of its indices)."""
    return {tuple(sorted(map(tuple, pts[t].tolist()))) for t in simplices}


@pytest.mark.parametrize("seed", range(30))
def test_delaunay_has_qhulls_triangles(seed):
    """Points in general position (uniform, clustered, thin strips, duplicates): one triangulation."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 400))
    pts = rng.uniform(0, 50, (n, 2))
    if seed % 3 == 1:  # clusters of beads
        pts = rng.uniform(0, 50, (5, 2))[rng.integers(0, 5, n)] + rng.normal(0, 0.5, (n, 2))
    if seed % 5 == 2:  # a thin strip
        pts[:, 1] = pts[:, 0] + 1e-3 * pts[:, 1]
    if seed % 7 == 3 and n > 4:  # a repeated point is a vertex once (Qhull may keep another copy)
        pts[n // 2] = pts[0]
    got = delaunay(pts)
    assert _triangles(pts, got) == _triangles(pts, Delaunay(pts).simplices)
    p = pts[got]
    area = (p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) - (p[:, 1, 1] - p[:, 0, 1]) * (
        p[:, 2, 0] - p[:, 0, 0]
    )
    assert (area > 0).all()  # counter-clockwise


def test_delaunay_of_a_lattice_is_a_delaunay_triangulation():
    """Cocircular points: any valid triangulation (Qhull's may differ), covering the hull, empty circumcircles."""
    g = np.arange(0.0, 30.0, 5.0)
    pts = np.column_stack([a.ravel() for a in np.meshgrid(g, g, indexing="ij")])
    tri = delaunay(pts)
    assert len(tri) == 2 * 5 * 5
    p = pts[tri]
    centre = p.mean(axis=1)  # a right isosceles triangle's circumcentre is its hypotenuse's middle
    hyp = np.argmax([np.hypot(*(p[:, (i + 1) % 3] - p[:, i]).T) for i in range(3)], axis=0)
    mid = (p[np.arange(len(p)), hyp] + p[np.arange(len(p)), (hyp + 1) % 3]) / 2
    r = np.hypot(*(p[:, 0] - mid).T)
    d = np.hypot(*(pts[None, :, :] - mid[:, None, :]).transpose(2, 0, 1))
    assert (d >= r[:, None] - 1e-9).all() and centre.shape == (50, 2)


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


def _ring(n: int, r: float) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([np.cos(a), np.sin(a)]) * r + 50


@pytest.mark.parametrize(
    "pts",
    [
        _ring(50, 10),
        np.vstack([_ring(64, 10), [[50.0, 50.0]]]),
        np.vstack([_ring(40, r) for r in (5, 10, 15)]),
    ],
    ids=["circle", "circle and centre", "three rings"],
)
def test_nearly_cocircular_points_still_give_a_valid_triangulation(pts, monkeypatch):
    """Rounding makes the insertion's cavity inconsistent for points on a circle; Qhull's triangles are used then."""
    from microscope_qc.analysis.psf import delaunay as module

    used_qhull = []
    qhull = module._qhull
    monkeypatch.setattr(module, "_qhull", lambda p, i: (used_qhull.append(True), qhull(p, i))[1])
    tri = delaunay(pts)
    p = pts[tri]
    area = (p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) - (p[:, 1, 1] - p[:, 0, 1]) * (
        p[:, 2, 0] - p[:, 0, 0]
    )
    assert (area > 0).all()
    q = pts[Delaunay(pts).simplices]
    q_area = np.abs(
        (q[:, 1, 0] - q[:, 0, 0]) * (q[:, 2, 1] - q[:, 0, 1])
        - (q[:, 1, 1] - q[:, 0, 1]) * (q[:, 2, 0] - q[:, 0, 0])
    )
    assert area.sum() == pytest.approx(q_area.sum(), rel=1e-12)  # the hull, covered once
    assert used_qhull  # these inputs do break the numpy insertion: the fallback is what saves them

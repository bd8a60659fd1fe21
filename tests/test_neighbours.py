"""The numpy neighbour searches (microscope_qc.neighbours) give cKDTree's pairs and distances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from microscope_qc.neighbours import nearest, nearest_other_within, pairs_within


def _points(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "grid":  # integer pixel positions: exact ties at the radius, duplicates
        return rng.integers(0, 40, (n, 2)).astype(float)
    if kind == "3d":
        return rng.random((n, 3)) * 50
    return rng.random((n, 2)) * 1000


@pytest.mark.parametrize("kind", ["grid", "uniform", "3d"])
@pytest.mark.parametrize("n", [0, 1, 2, 50, 3000])
@pytest.mark.parametrize("r", [1.0, 2.0, 2.5, 7.3])
def test_pairs_within_equals_cKDTree_query_pairs(kind, n, r):
    pts = _points(kind, n, n + int(r * 10))
    expected = (
        np.array(sorted(cKDTree(pts).query_pairs(r)), dtype=int).reshape(-1, 2) if n else np.zeros((0, 2))
    )
    i, j = pairs_within(pts, r)
    np.testing.assert_array_equal(np.column_stack([i, j]).reshape(-1, 2), expected)


@pytest.mark.parametrize("kind", ["grid", "uniform", "3d"])
def test_nearest_other_within_equals_the_second_neighbour_of_cKDTree(kind):
    pts = _points(kind, 2000, 7)
    expected = cKDTree(pts).query(pts, k=2)[0][:, 1]
    for r in (0.0, 1.0, 3.0, 25.0):
        got = nearest_other_within(pts, r)
        close = expected <= r if r > 0 else np.zeros(len(pts), bool)
        np.testing.assert_array_equal(got[close], expected[close])
        assert np.isinf(got[~close]).all()


@pytest.mark.parametrize("kind", ["grid", "uniform", "3d"])
def test_nearest_equals_cKDTree_query(kind):
    pts = _points(kind, 1500, 3)
    queries = pts[:700] + np.random.default_rng(4).normal(0, 0.7, (700, pts.shape[1]))
    expected_d, expected_i = cKDTree(pts).query(queries)
    d, i = nearest(pts, queries)
    np.testing.assert_array_equal(d, expected_d)
    # among equally near points (the integer grid) cKDTree returns one of them, in its tree's order
    np.testing.assert_array_equal(np.sqrt(((queries - pts[i]) ** 2).sum(axis=1)), d)
    if kind != "grid":
        np.testing.assert_array_equal(i, expected_i)
    with pytest.raises(ValueError, match="at least one"):
        nearest(np.zeros((0, 2)), queries)

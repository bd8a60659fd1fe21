"""The shared fitting engine: exactness on noise-free data, efficiency against the Cramér–Rao bound."""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.fitting import GaussianModel, box_coordinates, delta_method, fit_gaussians


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_analytic_jacobian_matches_finite_differences(ndim):
    rng = np.random.default_rng(ndim)
    m = GaussianModel(ndim, full=True)
    shape = (9,) * ndim
    coords = box_coordinates(shape)
    p = m.params_from_sigma(
        np.array([100.0]), np.array([5.0]), rng.uniform(3, 5, (1, ndim)), rng.uniform(1, 2, (1, ndim))
    )
    if ndim > 1:
        p[0, -2] = 0.1  # some rotation/correlation
    _, jac = m.value_and_jacobian(coords, p)
    for j in range(m.n_params):
        h = 1e-6 * max(abs(p[0, j]), 1.0)
        up, dn = p.copy(), p.copy()
        up[0, j] += h
        dn[0, j] -= h
        numeric = (m.value(coords, up) - m.value(coords, dn)) / (2 * h)
        np.testing.assert_allclose(jac[0, :, j], numeric[0], rtol=1e-5, atol=1e-6)


def test_noise_free_fit_is_exact():
    m = GaussianModel(2, full=True)
    shape = (15, 15)
    coords = box_coordinates(shape)
    cov = np.array([[2.0, 0.6], [0.6, 1.2]])
    L = np.linalg.cholesky(np.linalg.inv(cov))
    p = np.array([[500.0, 20.0, 7.3, 6.8, L[0, 0], L[1, 0], L[1, 1]]])
    data = m.value(coords, p)
    r = fit_gaussians(m, data, shape, 1.5, weighted=False)
    assert r.success[0]
    np.testing.assert_allclose(m.covariance(r.params)[0], cov, rtol=1e-6)
    np.testing.assert_allclose(r.params[0, :4], p[0, :4], rtol=1e-6)


def test_weighted_fit_reaches_cramer_rao_bound():
    """400 Poisson spots: the scatter of fitted widths matches the CRB and the reported standard errors."""
    rng = np.random.default_rng(0)
    m = GaussianModel(2)
    shape = (21, 21)
    coords = box_coordinates(shape)
    n = 400
    truth = m.params_from_sigma(
        np.full(n, 1000.0), np.full(n, 10.0), 10 + rng.uniform(-0.5, 0.5, (n, 2)), np.tile([2.0, 2.5], (n, 1))
    )
    data = rng.poisson(m.value(coords, truth)).astype(float)
    r = fit_gaussians(m, data, shape, 2.0)

    def widths(p):
        return np.sqrt(np.diagonal(m.covariance(p), axis1=1, axis2=2))

    w, se = delta_method(widths, r.params, r.covariance)
    mu, jac = m.value_and_jacobian(coords, truth[:1])
    fisher = np.einsum("bnp,bnq,bn->bpq", jac, jac, 1 / mu)
    _, crb = delta_method(widths, truth[:1], np.linalg.inv(fisher))
    scatter = w.std(axis=0)
    assert np.all(np.abs(w.mean(axis=0) - [2.0, 2.5]) < 3 * scatter / np.sqrt(n))  # unbiased
    ratio = scatter / crb[0]
    print("scatter / CRB:", ratio)
    assert np.all(ratio < 1.15)  # statistically efficient
    np.testing.assert_allclose(se.mean(axis=0), scatter, rtol=0.15)  # honest standard errors


def test_masked_points_are_ignored():
    m = GaussianModel(1)
    x = np.arange(21.0)
    truth = np.array([[100.0, 5.0, 10.0, 1 / 2.0]])
    data = m.value(x[:, None], truth)
    data[0, :5] = 1e6  # garbage where the mask is False
    mask = np.ones_like(data, dtype=bool)
    mask[0, :5] = False
    r = fit_gaussians(m, data, (21,), 2.0, mask=mask, weighted=False)
    np.testing.assert_allclose(r.params[0], truth[0], rtol=1e-6)


def test_a_batch_shared_out_over_threads_fits_every_spot_as_one_thread_does(monkeypatch):
    """Spots are fitted independently: splitting a batch over threads must not change any number."""
    from microscope_qc.fitting import engine

    rng = np.random.default_rng(5)
    m = GaussianModel(2, full=True)
    shape = (21, 21)
    coords = box_coordinates(shape)
    b = 300
    truth = m.params_from_sigma(
        rng.uniform(200, 2000, b),
        rng.uniform(50, 150, b),
        rng.uniform(8, 12, (b, 2)),
        rng.uniform(1.2, 2.5, (b, 2)),
    )
    truth[:, 5] = rng.uniform(-0.2, 0.2, b)  # rotated: the off-diagonal Cholesky element
    data = rng.poisson(m.value(coords, truth)).astype(float)
    assert b * data.shape[1] >= engine._THREADED_SIZE
    pool = engine._pool()[0]
    monkeypatch.setattr(engine, "_pool", lambda: (pool, 3))  # three parts, whatever the machine
    threaded = fit_gaussians(m, data, shape, 1.5)
    monkeypatch.setattr(engine, "_THREADED_SIZE", float("inf"))
    single = fit_gaussians(m, data, shape, 1.5)
    for name in ("params", "covariance", "fisher_inverse", "success", "r2", "iterations", "model"):
        np.testing.assert_array_equal(getattr(threaded, name), getattr(single, name), err_msg=name)


def test_the_chunk_size_changes_no_number_even_with_a_pooled_noise_model():
    """Chunks only bound the Jacobians' memory: the noise model is still fitted to the whole batch."""
    from microscope_qc.fitting import engine

    rng = np.random.default_rng(11)
    m = GaussianModel(2)
    shape = (15, 15)
    coords = box_coordinates(shape)
    b = 40
    truth = m.params_from_sigma(
        rng.uniform(300, 3000, b),
        rng.uniform(80, 120, b),
        rng.uniform(6, 8, (b, 2)),
        rng.uniform(1.3, 2.0, (b, 2)),
    )
    data = rng.poisson(m.value(coords, truth)).astype(float)
    whole = fit_gaussians(m, data, shape, 1.5, chunk=b)
    assert whole.noise is not None
    for chunk in (1, 7, 39):
        part = fit_gaussians(m, data, shape, 1.5, chunk=chunk)
        for name in ("params", "covariance", "r2", "iterations", "model"):
            np.testing.assert_allclose(
                getattr(part, name), getattr(whole, name), rtol=1e-12, atol=0, err_msg=name
            )
        np.testing.assert_allclose(part.noise.gain, whole.noise.gain, rtol=1e-12)
    # the default chunk keeps the Jacobian near engine._JACOBIAN_ELEMENTS elements
    assert engine._JACOBIAN_ELEMENTS * 8 <= 8 * 2**20

"""The batched Levenberg–Marquardt fit, the pooled noise model and the delta method for derived quantities."""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.fitting.models import BoolArray, FloatArray, GaussianModel, IntArray, box_coordinates


@dataclass
class NoiseModel:
    """Pixel variance ``v = offset + gain·μ`` (counts², μ the fitted model including background).

    A camera's variance is ``σ²_read + g·(μ − o)`` for gain ``g`` and offset ``o``: linear in
    the expected value, with the same two coefficients for every spot of an image. They are
    estimated from fit residuals (leverage-corrected, pooled over the batch) when the
    detector's gain is unknown; weighting by ``1/v`` makes least squares approach the
    Poisson maximum-likelihood estimate.
    """

    offset: FloatArray  # (B,)
    gain: FloatArray  # (B,)
    floor: FloatArray  # (B,) smallest variance allowed

    def variance(self, model: FloatArray) -> FloatArray:
        """Pixel variance (B, N) for fitted values ``model`` (B, N), never below ``floor``."""
        v = self.offset[:, None] + self.gain[:, None] * model
        return np.maximum(v, self.floor[:, None])

    @classmethod
    def from_residuals(
        cls,
        residuals: FloatArray,
        model: FloatArray,
        mask: BoolArray,
        leverage: FloatArray | None = None,
        pooled: bool = True,
    ) -> NoiseModel:
        """Least-squares regression of squared residuals on the model, pooled over spots or per spot.

        Squared residuals are divided by ``1 − h`` (``h`` the leverage of each point) because a
        fit pulls itself towards high-leverage points — the bright centre of a spot — whose
        residuals would otherwise understate the noise there.

        Parameters
        ----------
        residuals, model : numpy.ndarray of float64
            (B, N) fit residuals and fitted values.
        mask : numpy.ndarray of bool
            (B, N), False for elements to leave out.
        leverage : numpy.ndarray of float64 or None, optional
            (B, N) leverage of each element.
        pooled : bool, optional
            One noise model for all spots (True) or one per spot.

        Returns
        -------
        NoiseModel
            Offset, gain and floor per spot (equal for every spot when pooled).
        """
        r2 = residuals**2
        if leverage is not None:
            r2 = r2 / np.clip(1.0 - leverage, 0.05, 1.0)
        m = mask.astype(float)
        axis = None if pooled else 1
        n = m.sum(axis)
        sx, sy = (m * model).sum(axis), (m * r2).sum(axis)
        sxx, sxy = (m * model * model).sum(axis), (m * model * r2).sum(axis)
        det = n * sxx - sx * sx
        with np.errstate(invalid="ignore", divide="ignore"):
            gain = np.where(det > 0, (n * sxy - sx * sy) / det, 0.0)
        gain = np.clip(np.nan_to_num(gain), 0, None)
        offset = (sy - gain * sx) / np.maximum(n, 1)
        # floor: a few per cent of the mean squared residual keeps weights finite everywhere
        floor = 0.05 * sy / np.maximum(n, 1) + 1e-12
        b = residuals.shape[0]
        return cls(*(np.broadcast_to(np.asarray(v, dtype=float), (b,)).copy() for v in (offset, gain, floor)))


@dataclass
class FitResult:
    """Outcome of :func:`fit_gaussians` for a batch of B spots."""

    params: FloatArray  # (B, P)
    covariance: FloatArray  # (B, P, P), scaled by the reduced chi-square
    fisher_inverse: FloatArray  # (B, P, P), unscaled (J' W J)^-1
    success: BoolArray  # (B,) converged to finite parameters
    at_bound: BoolArray  # (B,) a shape parameter ended on its bound
    r2: FloatArray  # (B,) coefficient of determination (unweighted)
    chi2_reduced: FloatArray  # (B,)
    iterations: IntArray  # (B,)
    model: FloatArray  # (B, N) fitted values
    noise: NoiseModel | None = None

    @property
    def stderr(self) -> FloatArray:
        """Standard errors (B, P) of the parameters: square roots of the covariance diagonal."""
        return np.sqrt(np.clip(np.diagonal(self.covariance, axis1=1, axis2=2), 0, None))


def _lm(
    model: GaussianModel,
    coords: FloatArray,
    data: FloatArray,
    weights: FloatArray,
    p0: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    max_iter: int,
    tol: float,
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray, BoolArray]:
    """Batched, bounded Levenberg–Marquardt. Returns params, model, Jacobian (B, P, N), iterations, converged."""
    b, p_count = p0.shape
    p = np.clip(p0, lo, hi)
    f, J = model.value_and_jacobian_t(coords, p)
    cost = np.einsum("bn,bn->b", weights, (data - f) ** 2)
    lam = np.full(b, 1e-3)
    iters = np.zeros(b, dtype=int)
    active = np.isfinite(cost)
    converged = np.zeros(b, dtype=bool)
    eye = np.eye(p_count)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        everyone = idx.size == b  # index nothing then: a copy of the (B, P, N) Jacobian costs time and memory
        Ji, wi = (J, weights) if everyone else (J[idx], weights[idx])
        ri = data - f if everyone else data[idx] - f[idx]
        JtW = Ji * wi[:, None, :]  # (B, P, N)
        H = JtW @ np.swapaxes(Ji, 1, 2)
        g = (JtW @ ri[..., None])[..., 0]
        del JtW, Ji, ri  # before the next Jacobian is built
        diagH = np.diagonal(H, axis1=1, axis2=2)
        damp = lam[idx, None, None] * (diagH[:, :, None] * eye + 1e-12 * eye)
        try:
            step = np.linalg.solve(H + damp, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack(
                [np.linalg.lstsq(h + dm, gg, rcond=None)[0] for h, dm, gg in zip(H, damp, g, strict=True)]
            )
        p_new = np.clip(p[idx] + step, lo[idx], hi[idx])
        f_new, J_new = model.value_and_jacobian_t(coords, p_new)
        cost_new = np.einsum("bn,bn->b", wi, ((data if everyone else data[idx]) - f_new) ** 2)
        better = np.isfinite(cost_new) & (cost_new <= cost[idx])
        acc = idx[better]
        rel = (cost[acc] - cost_new[better]) / np.maximum(cost[acc], 1e-300)
        step_small = np.all(np.abs(p_new[better] - p[acc]) <= tol * (np.abs(p[acc]) + tol), axis=1)
        if everyone and better.all():  # every spot moves: take the new arrays as they are
            p, f, J, cost = p_new, f_new, J_new, cost_new
        elif better.all():
            p[acc], f[acc], J[acc], cost[acc] = p_new, f_new, J_new, cost_new
        else:
            p[acc], f[acc], J[acc], cost[acc] = p_new[better], f_new[better], J_new[better], cost_new[better]
        del f_new, J_new
        lam[acc] = np.maximum(lam[acc] / 3.0, 1e-9)
        rej = idx[~better]
        lam[rej] = lam[rej] * 4.0
        iters[idx] += 1
        done = rel < tol
        converged[acc[done | step_small]] = True
        stalled = rej[lam[rej] > 1e10]
        converged[stalled] = True  # no further descent possible: at a minimum to machine precision
        active[acc[done | step_small]] = False
        active[stalled] = False
    return p, f, J, iters, converged


#: spots × pixels from which a batch's iterations are shared out over threads: numpy releases
#: the GIL in its array arithmetic, and spots are fitted independently, so the result is the same
_THREADED_SIZE = 100_000


@functools.cache
def _pool() -> tuple[ThreadPoolExecutor, int]:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    workers = max(1, min(cores, 4))
    return ThreadPoolExecutor(workers, thread_name_prefix="microscope-qc-fit"), workers


def _lm_threads(
    model: GaussianModel,
    coords: FloatArray,
    data: FloatArray,
    weights: FloatArray,
    p0: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    max_iter: int,
    tol: float,
) -> tuple[FloatArray, FloatArray, FloatArray, IntArray, BoolArray]:
    """:func:`_lm` on parts of the batch in parallel threads (spots are independent: same result)."""
    b, n = data.shape
    pool, workers = _pool()
    parts = min(workers, b)
    if parts < 2 or b * n < _THREADED_SIZE:
        return _lm(model, coords, data, weights, p0, lo, hi, max_iter, tol)
    edges = np.linspace(0, b, parts + 1).astype(int)
    slices = [slice(int(a), int(z)) for a, z in zip(edges[:-1], edges[1:], strict=True)]
    done = list(
        pool.map(
            lambda s: _lm(model, coords, data[s], weights[s], p0[s], lo[s], hi[s], max_iter, tol),
            slices,
        )
    )
    p, f, J, iters, conv = (np.concatenate([d[i] for d in done]) for i in range(5))
    return p, f, J, iters, conv


def _fitted_spans(
    model: GaussianModel,
    coords: FloatArray,
    data: FloatArray,
    weights: FloatArray,
    p0: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    max_iter: int,
    tol: float,
    spans: list[slice],
) -> Iterator[tuple[slice, tuple[FloatArray, FloatArray, FloatArray, IntArray, BoolArray]]]:
    """:func:`_lm` of each span of spots, in order; spans run side by side in the threads when there are several.

    At most as many spans as threads are fitted at a time, so no more than that many Jacobians exist
    at once; a single span is shared out over the threads by :func:`_lm_threads` instead.
    """
    pool, workers = _pool()

    def fit(sl: slice) -> tuple[FloatArray, FloatArray, FloatArray, IntArray, BoolArray]:
        return _lm(model, coords, data[sl], weights[sl], p0[sl], lo[sl], hi[sl], max_iter, tol)

    if len(spans) < 2 or workers < 2 or data.size < _THREADED_SIZE:
        for sl in spans:
            yield sl, _lm_threads(model, coords, data[sl], weights[sl], p0[sl], lo[sl], hi[sl], max_iter, tol)
        return
    running: deque[tuple[slice, Future[tuple[FloatArray, FloatArray, FloatArray, IntArray, BoolArray]]]] = (
        deque()
    )
    for sl in spans:
        running.append((sl, pool.submit(fit, sl)))
        if len(running) >= workers:
            done, future = running.popleft()
            yield done, future.result()
    while running:
        done, future = running.popleft()
        yield done, future.result()


#: Jacobian elements (float64) per vectorised batch when ``chunk`` is not given: about 4 MB, so a
#: batch's Jacobian and its few same-sized temporaries stay small (and mostly in the cache); larger
#: batches were no faster on 200 2D or 3D spots and held 2.5–6× the memory.
_JACOBIAN_ELEMENTS = 500_000


def fit_gaussians(
    model: GaussianModel,
    data: npt.ArrayLike,
    shape: tuple[int, ...],
    sigma_guess: FloatArray | float,
    mask: BoolArray | None = None,
    p0: FloatArray | None = None,
    bounds: tuple[FloatArray, FloatArray] | None = None,
    weighted: bool = True,
    max_iter: int = 60,
    tol: float = 1e-9,
    chunk: int | None = None,
    pool_noise: bool = True,
) -> FitResult:
    """Fit a Gaussian to each of B spots.

    Parameters
    ----------
    model
        The Gaussian model (dimension and whether rotated).
    data
        (B, N) values of each spot's box, flattened in C order of ``shape``.
    shape
        Box shape; coordinates are pixel indices inside the box.
    sigma_guess
        Starting σ per axis in pixels (scalar or (d,) or (B, d)).
    mask
        (B, N) bool, False for padded or excluded elements.
    p0, bounds
        Optional start values and box constraints (B, P); defaults from the data and box.
    weighted
        Refit with weights from a :class:`NoiseModel` estimated on the first, unweighted fit
        (statistically efficient for shot-noise-limited data).
    pool_noise
        Estimate one noise model for all spots of the batch (they share a detector), which
        is far more precise than one per spot; set False for spots from different images.
    chunk
        Spots per vectorised batch (limits memory of the (B, N, P) Jacobian).

    Returns
    -------
    FitResult
        Parameters, covariances, fit quality and convergence flags per spot.
    """
    data = np.asarray(data, dtype=float)
    b, n = data.shape
    if chunk is None:
        chunk = max(1, _JACOBIAN_ELEMENTS // max(n * model.n_params, 1))
    coords = box_coordinates(shape)
    m = np.ones((b, n), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    w = m.astype(float)
    if p0 is None:
        p0 = model.initial_guess(data, shape, sigma_guess, None if mask is None else w)
    lo, hi = bounds if bounds is not None else model.bounds(shape, b)
    # Spots are fitted a chunk at a time, so the (B, N, P) Jacobians never exist for the whole
    # batch at once; what a pass needs from them (leverages, the Fisher matrices) is kept per spot,
    # and the noise model is fitted to the residuals of the whole batch, so the result does not
    # depend on the chunk size.
    spans = [slice(i, min(b, i + chunk)) for i in range(0, b, chunk)]
    p, f = np.array(p0, dtype=float), np.empty_like(data)
    iters, conv = np.zeros(b, dtype=int), np.zeros(b, dtype=bool)
    H = np.empty((b, model.n_params, model.n_params))
    leverage = np.empty_like(data) if weighted else None
    start = p.copy()
    for sl, (p_sl, f_sl, J, it_sl, conv_sl) in _fitted_spans(
        model, coords, data, w, start, lo, hi, max_iter, tol, spans
    ):
        p[sl], f[sl], iters[sl], conv[sl] = p_sl, f_sl, it_sl, conv_sl
        H[sl] = (J * w[sl][:, None, :]) @ np.swapaxes(J, 1, 2)
        if leverage is not None:
            try:
                inv = np.linalg.inv(H[sl])
            except np.linalg.LinAlgError:
                inv = np.linalg.pinv(H[sl])
            leverage[sl] = np.einsum("bpn,bpn->bn", J, inv @ J) * w[sl]  # diagonal of J (JᵀWJ)⁻¹ Jᵀ
    noise = None
    if leverage is not None:
        noise = NoiseModel.from_residuals(data - f, f, m, leverage, pooled=pool_noise)
        w = m / noise.variance(f)
        start = p.copy()
        for sl, (p_sl, f_sl, J, more, conv_sl) in _fitted_spans(
            model, coords, data, w, start, lo, hi, max_iter, tol, spans
        ):
            p[sl], f[sl], conv[sl] = p_sl, f_sl, conv_sl
            iters[sl] += more
            H[sl] = (J * w[sl][:, None, :]) @ np.swapaxes(J, 1, 2)
    resid = data - f
    n_eff = m.sum(1)
    chi2 = np.einsum("bn,bn->b", w, resid**2) / np.maximum(n_eff - model.n_params, 1)
    finv = np.full_like(H, np.nan)
    ok = np.isfinite(H).all(axis=(1, 2))
    if ok.any():
        try:
            finv[ok] = np.linalg.inv(H[ok])
        except np.linalg.LinAlgError:
            for i in np.flatnonzero(ok):
                finv[i] = np.linalg.pinv(H[i])
    cov = finv * chi2[:, None, None]
    ymean = (data * m).sum(1) / np.maximum(n_eff, 1)
    ss_tot = (((data - ymean[:, None]) ** 2) * m).sum(1)
    ss_res = ((resid**2) * m).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    shape_idx = model.diag_index
    at_bound = np.any(np.isclose(p[:, shape_idx], lo[:, shape_idx], rtol=1e-6), axis=1) | np.any(
        np.isclose(p[:, shape_idx], hi[:, shape_idx], rtol=1e-6), axis=1
    )
    success = conv & np.isfinite(p).all(1) & np.isfinite(np.diagonal(cov, axis1=1, axis2=2)).all(1)
    return FitResult(p, cov, finv, success, at_bound, r2, chi2, iters, f, noise)


def delta_method(
    func: Callable[[FloatArray], FloatArray], params: FloatArray, covariance: FloatArray, eps: float = 1e-6
) -> tuple[FloatArray, FloatArray]:
    """Values and standard errors of derived quantities ``func(params) -> (B, K)``.

    The gradient is taken by central differences (vectorised over the batch); the variance
    is ``g Σ gᵀ`` per quantity.

    Parameters
    ----------
    func : callable
        Maps parameters (B, P) to derived quantities (B, K).
    params : numpy.ndarray
        (B, P) fitted parameters.
    covariance : numpy.ndarray
        (B, P, P) covariance of the parameters.
    eps : float, optional
        Relative step of the central differences.

    Returns
    -------
    values, stderr : numpy.ndarray
        (B, K) derived quantities and their standard errors.
    """
    values = func(params)
    b, p_count = params.shape
    k = values.shape[1]
    grad = np.empty((b, k, p_count))
    for j in range(p_count):
        h = eps * np.maximum(np.abs(params[:, j]), 1e-3)
        up, dn = params.copy(), params.copy()
        up[:, j] += h
        dn[:, j] -= h
        grad[:, :, j] = (func(up) - func(dn)) / (2 * h[:, None])
    var = np.einsum("bkp,bpq,bkq->bk", grad, covariance, grad)
    return values, np.sqrt(np.clip(var, 0, None))

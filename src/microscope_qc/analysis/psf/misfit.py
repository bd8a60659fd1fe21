"""Does the fitted model describe the data? R² and the structure of the residuals.

R² alone cannot tell a wrong model from noise: a dim bead lowers R² although a Gaussian
describes it, and a bright bead with rings keeps R² high although the model misses them.
Residuals separate the two. Noise is independent from voxel to voxel; a model that misses part
of the signal leaves residuals that are smooth on the scale of the PSF, so neighbouring
residuals are correlated. The lag-one autocovariance of the residuals, averaged over the box's
axes, estimates the variance of that smooth (systematic) part without the noise; divided by the
variance of the data it is the **structured residual fraction**: the share of the signal the
model does not describe, ≈ 0 for a right model whatever the noise, ≈ 1 − R² for a wrong model
at high signal. A fit whose structured fraction exceeds 1 − (the R² limit of that fit) is a model
misfit: it misses more of the signal than the R² limit tolerates in total.
"""

from __future__ import annotations

import numpy as np


def structured_residual_fraction(
    data: np.ndarray, model: np.ndarray, shape: tuple[int, ...], mask: np.ndarray | None = None
) -> np.ndarray:
    """Share of each spot's data variance left in spatially correlated residuals.

    Parameters
    ----------
    data, model : numpy.ndarray
        (B, N) data and fitted values, flattened in C order of ``shape``.
    shape : tuple of int
        The fit box.
    mask : numpy.ndarray of bool, optional
        (B, N), False for elements outside the data (left out).

    Returns
    -------
    numpy.ndarray
        (B,) the mean over axes of the lag-one autocovariance of the residuals divided by the
        variance of the data; NaN where the box has no neighbouring pairs or no variance.
    """
    b = data.shape[0]
    d = np.asarray(data, dtype=float).reshape(b, *shape)
    r = d - np.asarray(model, dtype=float).reshape(b, *shape)
    m = np.ones(d.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool).reshape(b, *shape)
    axes = tuple(range(1, d.ndim))
    n = m.sum(axis=axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(m, d, 0.0).sum(axis=axes) / n
        var = (np.where(m, d - mean.reshape(-1, *[1] * len(shape)), 0.0) ** 2).sum(axis=axes) / n
    r = np.where(m, r, 0.0)
    covs = []
    for ax in range(1, d.ndim):
        if d.shape[ax] < 2:
            continue
        lo = [slice(None)] * d.ndim
        hi = [slice(None)] * d.ndim
        lo[ax], hi[ax] = slice(0, -1), slice(1, None)
        pair = m[tuple(lo)] & m[tuple(hi)]
        k = pair.sum(axis=axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            covs.append(np.where(pair, r[tuple(lo)] * r[tuple(hi)], 0.0).sum(axis=axes) / k)
    if not covs:
        return np.full(b, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = np.mean(covs, axis=0) / var
    return out


def misfit(r2: np.ndarray, structured: np.ndarray, min_r2: float) -> tuple[np.ndarray, np.ndarray]:
    """Which fits the model does not describe, and which are merely noisy.

    Parameters
    ----------
    r2, structured : numpy.ndarray
        R² and structured residual fraction of each fit (NaN where not fitted).
    min_r2 : float
        The R² limit of this kind of fit.

    Returns
    -------
    wrong_model, noisy : numpy.ndarray of bool
        ``wrong_model``: the structured residuals exceed 1 − ``min_r2``; ``noisy``: R² below
        ``min_r2`` while the residuals are unstructured (noise, not the model).
    """
    wrong = structured > 1.0 - min_r2
    noisy = (r2 < min_r2) & ~wrong
    return wrong, noisy

"""EMVA 1288 4.0 spatial non-uniformity: DSNU₁₂₈₈ and PRNU₁₂₈₈ with their row, column and pixel parts.

From L frames averaged at one condition (dark, and bright at about half saturation): the
spatial variance of the average, less the temporal variance left in it (σ²_stack / L), split into
the variance of the column means, of the row means and of what remains per pixel, each corrected
for the others' share (EMVA 1288 4.0 linear, section "spatial nonuniformity").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.detector.frames import StackAccumulator

__all__ = ["SpatialVariances", "spatial_variances"]


@dataclass(frozen=True)
class SpatialVariances:
    """The spatial variances of one averaged stack (DN²) and its mean."""

    mean: float  # μ_y of the average image
    frames: int  # L
    total: float  # s²_y: spatial variance, temporal part removed
    column: float  # s²_y.col
    row: float  # s²_y.row
    pixel: float  # s²_y.pixel
    temporal: float  # σ²_stack: mean per-pixel temporal variance


def spatial_variances(
    acc: StackAccumulator,
) -> tuple[SpatialVariances, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Spatial variances of an accumulated stack.

    Parameters
    ----------
    acc : StackAccumulator
        At least 2 frames.

    Returns
    -------
    variances : SpatialVariances
    average : ndarray
        The average image (Y, X).
    temporal_variance : ndarray
        The per-pixel temporal variance (Y, X), n − 1 in the denominator.
    """
    avg = acc.mean_image()
    var = acc.variance_image()
    n_rows, n_cols = avg.shape  # M, N
    L = acc.n
    mu = float(avg.mean())
    s2_stack = float(var.mean())
    s2_measured = float(avg.var(ddof=1))
    s2 = s2_measured - s2_stack / L
    col_means = avg.mean(axis=0)  # one per column (N)
    row_means = avg.mean(axis=1)  # one per row (M)
    s2_cav = float(np.mean((col_means - mu) ** 2)) - s2_stack / (L * n_rows)
    s2_rav = float(np.mean((row_means - mu) ** 2)) - s2_stack / (L * n_cols)
    mn = n_rows * n_cols
    d = mn - n_rows - n_cols
    s2_col = (mn - n_rows) / d * s2_cav - n_cols / d * (s2 - s2_rav)
    s2_row = (mn - n_cols) / d * s2_rav - n_rows / d * (s2 - s2_cav)
    s2_pix = mn / d * (s2 - s2_cav - s2_rav)
    return SpatialVariances(mu, L, s2, s2_col, s2_row, s2_pix, s2_stack), avg, var


def root(value: float) -> float:
    """√value, NaN for a negative value (a variance that noise made negative).

    Parameters
    ----------
    value : float
        A variance.

    Returns
    -------
    float
        Its square root or NaN.
    """
    return math.sqrt(value) if value >= 0 else math.nan

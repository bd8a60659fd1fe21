"""Trends of a QC metric over time and a drift indicator."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["DriftResult", "detect_drift"]


@dataclass(frozen=True)
class DriftResult:
    """Linear trend of the last ``n`` runs: slope per day with its standard error and p-value."""

    n: int
    slope_per_day: float
    slope_se_per_day: float
    p_value: float
    significant: bool
    alpha: float

    @property
    def text(self) -> str:
        """The drift test in one line, e.g. ``"no significant drift: +0.001 ± 0.002 per day ..."``."""
        if self.n < 3:
            return f"too few runs ({self.n}) for a trend"
        state = "significant drift" if self.significant else "no significant drift"
        return f"{state}: {self.slope_per_day:+.3g} ± {self.slope_se_per_day:.2g} per day over the last {self.n} runs (p = {self.p_value:.3g})"


def detect_drift(series: pd.DataFrame, last_n: int = 10, alpha: float = 0.01) -> DriftResult:
    """Weighted linear regression of value on time over the last ``last_n`` runs.

    Weights are 1/uncertainty² when every run has one; the slope's standard error is scaled by
    the reduced χ² when the runs scatter more than their uncertainties (so run-to-run variation
    the uncertainties do not cover is not mistaken for a drift). A drift is *significant* when the
    two-sided t-test of a zero slope gives p < ``alpha`` (default 0.01: one false alarm in 100
    checks of a stable instrument).

    Parameters
    ----------
    series : pandas.DataFrame
        What :meth:`HistoryStore.metric_series` returns.
    last_n : int
        The number of most recent runs tested.
    alpha : float
        The significance level.

    Returns
    -------
    DriftResult
        The slope per day, its standard error, the p-value and whether the drift is significant.
    """
    df = series.dropna(subset=["value"]).sort_values("time").tail(last_n)
    n = len(df)
    if n < 3:
        return DriftResult(n, math.nan, math.nan, math.nan, False, alpha)
    t = (df["time"] - df["time"].iloc[0]).dt.total_seconds().to_numpy() / 86400.0
    y = df["value"].to_numpy(float)
    unc = df["uncertainty"].to_numpy(float) if "uncertainty" in df else np.full(n, np.nan)
    w = 1.0 / unc**2 if np.all(np.isfinite(unc) & (unc > 0)) else np.ones(n)
    if np.ptp(t) == 0:
        return DriftResult(n, math.nan, math.nan, math.nan, False, alpha)
    X = np.column_stack([np.ones(n), t])
    W = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(X * W[:, None], y * W, rcond=None)
    resid = y - X @ coef
    chi2_red = float((resid**2 * w).sum() / (n - 2))
    cov = np.linalg.inv((X * w[:, None]).T @ X)
    scale = max(chi2_red, 1.0) if np.all(np.isfinite(unc) & (unc > 0)) else chi2_red
    se = math.sqrt(cov[1, 1] * scale)
    tval = coef[1] / se if se > 0 else math.inf
    p = float(2 * stats.t.sf(abs(tval), n - 2))
    return DriftResult(n, float(coef[1]), se, p, p < alpha, alpha)

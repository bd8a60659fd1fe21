"""Bleaching across a time series: the signal per frame and an exponential decay fitted to it.

The signal of frame t is the mean of the signal region minus the mean of the background region
(the detector's offset and any constant background cancel; the regions are those of the checked
frame: the user's, or Otsu's split of the first frame). The decay s(t) = A · exp(−k t) (t in frames)
is fitted by least squares: a log-linear fit gives the start, a few Gauss–Newton steps (with
step halving) the estimate, and the standard errors follow from the residual variance and the
Jacobian at the optimum. Two parameters and at most some thousand points: the shared fitting
engine (:mod:`microscope_qc.fitting`) fits Gaussian spots in boxes and has no decay model, and
this fit needs no more than these lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.results import AnalysisCancelled, AnalysisError, CancelCheck, ProgressCallback

__all__ = ["Bleaching", "bleaching_of", "fit_decay"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class Bleaching:
    """What :func:`bleaching_of` measures.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per frame: ``frame``, ``time_s`` (when the interval is known), ``mean_signal_region``,
        ``mean_background_region``, ``signal`` (their difference) and ``fit``.
    lost_percent : float
        100 · (1 − signal of the last frame / signal of the first).
    rate_per_frame, rate_se : float
        The fitted decay constant k (per frame) and its standard error.
    amplitude : float
        The fitted signal at frame 0.
    half_life_frames, half_life_se : float
        ln 2 / k and its standard error (infinite when k ≤ 0: no decay).
    """

    table: pd.DataFrame
    lost_percent: float
    rate_per_frame: float
    rate_se: float
    amplitude: float
    half_life_frames: float
    half_life_se: float


def fit_decay(t: npt.ArrayLike, y: npt.ArrayLike, iterations: int = 50) -> tuple[float, float, float, float]:
    """Least-squares fit of y = A · exp(−k t).

    Parameters
    ----------
    t, y : array_like
        Times (any unit) and values; at least three points.
    iterations : int
        Most Gauss–Newton steps.

    Returns
    -------
    amplitude, rate, amplitude_se, rate_se : float
        A and k (per unit of ``t``) and their standard errors (NaN with three points or fewer
        than three distinct times).

    Raises
    ------
    AnalysisError
        Fewer than three points, or no positive value to start from.
    """
    t = np.asarray(t, np.float64)
    y = np.asarray(y, np.float64)
    if t.size < 3:
        raise AnalysisError(f"A decay fit needs at least 3 frames; the series has {t.size}.")
    pos = y > 0
    if np.count_nonzero(pos) < 2:
        raise AnalysisError(
            "The signal above background is not positive in the frames: no decay to fit (are the signal and "
            "background regions the right way round?)."
        )
    # start: the log-linear fit, weighted by y² (the variance of log y is about σ² / y²)
    slope, intercept = np.polyfit(t[pos], np.log(y[pos]), 1, w=y[pos])
    p = np.array([math.exp(intercept), -slope])

    def residuals(q: FloatArray) -> FloatArray:
        return np.asarray(y - q[0] * np.exp(-q[1] * t))

    def jacobian(q: FloatArray) -> FloatArray:
        e = np.exp(-q[1] * t)
        return np.column_stack([e, -q[0] * t * e])

    rss = float(residuals(p) @ residuals(p))
    for _ in range(iterations):
        j = jacobian(p)
        step, *_ = np.linalg.lstsq(j, residuals(p), rcond=None)
        scale = 1.0
        while scale > 1e-6:
            trial = p + scale * step
            r = residuals(trial)
            trial_rss = float(r @ r)
            if trial_rss <= rss:
                break
            scale /= 2
        else:
            break
        done = abs(rss - trial_rss) <= 1e-14 * max(rss, 1e-300)
        p, rss = trial, trial_rss
        if done:
            break
    n = t.size
    se = (math.nan, math.nan)
    if n > 2:
        j = jacobian(p)
        try:
            cov = np.linalg.inv(j.T @ j) * rss / (n - 2)
            se = (math.sqrt(max(cov[0, 0], 0.0)), math.sqrt(max(cov[1, 1], 0.0)))
        except np.linalg.LinAlgError:
            pass
    return float(p[0]), float(p[1]), se[0], se[1]


def bleaching_of(
    series: Any,
    signal: npt.NDArray[np.bool_],
    background: npt.NDArray[np.bool_],
    frame_interval_s: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Bleaching:
    """The signal per frame of a (T, Y, X) series and the exponential decay fitted to it.

    Parameters
    ----------
    series : array_like
        (T, Y, X); each frame is read when indexed (a lazy array stays lazy).
    signal, background : numpy.ndarray
        The (Y, X) masks of the signal and background regions.
    frame_interval_s : float, optional
        Time between frames, for the table's time column.
    progress : callable, optional
        ``progress(fraction, message)``.
    cancel : callable, optional
        Returns True to stop.

    Returns
    -------
    Bleaching
        The table, the share lost and the fit.

    Raises
    ------
    AnalysisError
        Fewer than 3 frames, frames of another size than the masks, non-finite values, or no
        signal above background in the first frame.
    """
    n_t = int(series.shape[0])
    if len(series.shape) != 3:
        raise AnalysisError(f"Bleaching needs a (T, Y, X) series; this one has shape {tuple(series.shape)}.")
    if tuple(series.shape[1:]) != signal.shape:
        raise AnalysisError(
            f"The series' frames are {series.shape[2]} × {series.shape[1]} px, the regions {signal.shape[1]} × "
            f"{signal.shape[0]} px."
        )
    if n_t < 3:
        raise AnalysisError(f"Bleaching needs at least 3 frames; the series has {n_t}.")
    fg = np.empty(n_t)
    bg = np.empty(n_t)
    for i in range(n_t):
        if cancel is not None and cancel():
            raise AnalysisCancelled()
        frame = np.asarray(series[i], np.float64)
        if not np.all(np.isfinite(frame)):
            raise AnalysisError(f"Frame {i} of the series holds NaN or infinite values.")
        fg[i], bg[i] = frame[signal].mean(), frame[background].mean()
        if progress is not None and i % 16 == 0:
            progress(0.5 + 0.4 * i / n_t, f"image quality: bleaching, frame {i + 1} of {n_t}")
    s = fg - bg
    if not s[0] > 0:
        raise AnalysisError(
            f"The first frame's signal region is not brighter than its background ({fg[0]:.6g} against "
            f"{bg[0]:.6g}): no bleaching to measure; check the regions."
        )
    frames = np.arange(n_t, dtype=np.float64)
    a, k, _, k_se = fit_decay(frames, s)
    table = pd.DataFrame({"frame": np.arange(n_t)})
    if frame_interval_s is not None:
        table["time_s"] = frames * frame_interval_s
    table["mean_signal_region"] = fg
    table["mean_background_region"] = bg
    table["signal"] = s
    table["fit"] = a * np.exp(-k * frames)
    half = math.log(2) / k if k > 0 else math.inf
    half_se = math.log(2) * k_se / k**2 if k > 0 else math.nan
    return Bleaching(table, 100.0 * (1.0 - s[-1] / s[0]), k, k_se, a, half, half_se)

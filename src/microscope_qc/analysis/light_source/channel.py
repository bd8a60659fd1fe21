"""The numbers of one light (one wavelength of a log): plateaus, then the time series or the linearity."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis.light_source import metrics as mx
from microscope_qc.analysis.light_source.powerlog import PowerLog
from microscope_qc.analysis.light_source.result import LightSourceResult
from microscope_qc.analysis.light_source.settings import LightSourceSettings
from microscope_qc.results import Metric

__all__ = ["analyze_channel", "PLATEAU_COLUMNS", "MIN_LINEARITY_POINTS"]

#: a log needs this many set-points for the linearity fit (QUAREP WG1)
MIN_LINEARITY_POINTS = 10
_NOT_ESTIMABLE = "not estimable"

PLATEAU_COLUMNS = [
    "channel",
    "wavelength_nm",
    "plateau",
    "start_s",
    "end_s",
    "n_readings",
    "setpoint_percent",
    "mean",
    "sd",
    "cv_percent",
    "stability_percent",
    "residual",
    "origin_residual",
]


def _metric(
    out: list[Metric],
    name: str,
    value: float,
    unit: str | None,
    channel: int,
    description: str,
    se: float | None = None,
    kind: str = "standard error",
) -> None:
    out.append(Metric(name, float(value), unit, se, channel, description, kind))


def _levels(plateaus: list[dict[str, Any]], top: float, step_percent: float) -> int:
    """How many distinct levels the plateaus are at (set-points if known, else their means)."""
    sps = {round(p["setpoint_percent"], 6) for p in plateaus if math.isfinite(p["setpoint_percent"])}
    if len(sps) > 1:
        return len(sps)
    means = sorted(p["mean"] for p in plateaus)
    if not means:
        return 0
    return 1 + sum(1 for a, b in zip(means, means[1:], strict=False) if b - a > step_percent / 100.0 * top)


def analyze_channel(
    result: LightSourceResult,
    log: PowerLog,
    sel: npt.NDArray[np.int_],
    c: int,
    wavelength: float | None,
    s: LightSourceSettings,
    first_plateau: int,
    previous_power: Mapping[int, float] | float | None,
    previous_source: str,
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[dict[str, Any]], int]:
    """Analyse the readings ``sel`` of light ``c``: its metrics go into ``result``.

    Parameters
    ----------
    result : LightSourceResult
        Receives the metrics and warnings.
    log : PowerLog
        The whole log.
    sel : numpy.ndarray of int
        The indices of this light's usable readings, in time order.
    c : int
        The light's channel number.
    wavelength : float or None
        Its wavelength.
    s : LightSourceSettings
        The settings.
    first_plateau : int
        The number of this light's first plateau (plateaus are numbered over the whole log).
    previous_power : float or mapping, optional
        The previous record's mean power (see ``analyze_light_source``).
    previous_source : str
        Where it came from.

    Returns
    -------
    readings : pandas.DataFrame
        This light's rows of the readings table.
    plateaus, allan : list of dict
        Its rows of the plateaus and Allan tables.
    next_plateau : int
        The number of the next light's first plateau.
    """
    unit = log.unit
    absu = "mw" if unit == "mW" else "counts"
    what = "power" if unit == "mW" else "mean intensity"
    t, p = log.t_s[sel], log.power[sel]
    sp = None if log.setpoint_percent is None else log.setpoint_percent[sel]
    labels = mx.segment_plateaus(
        p, sp, s.step_threshold_percent, s.off_threshold_percent, s.min_plateau_readings
    )
    wl = math.nan if wavelength is None else float(wavelength)
    m = result.metrics
    dt = float(np.median(np.diff(t))) if t.size > 1 else math.nan
    _metric(m, "n_readings", t.size, None, c, "readings of this light analysed")
    _metric(m, "duration_s", t[-1] - t[0], "s", c, "time from the first to the last reading")
    _metric(m, "sampling_interval_s", dt, "s", c, "median time between readings")
    plateaus: list[dict[str, Any]] = []
    for k in range(int(labels.max()) + 1 if labels.size else 0):
        idx = labels == k
        pk = p[idx]
        cv, _ = mx.cv_percent(pk)
        plateaus.append(
            {
                "channel": c,
                "wavelength_nm": wl,
                "plateau": first_plateau + k,
                "start_s": float(t[idx][0]),
                "end_s": float(t[idx][-1]),
                "n_readings": int(idx.sum()),
                "setpoint_percent": float(np.median(sp[idx])) if sp is not None else math.nan,
                "mean": float(pk.mean()),
                "sd": float(pk.std(ddof=1)) if pk.size > 1 else math.nan,
                "cv_percent": cv,
                "stability_percent": mx.stability_percent(pk),
                "residual": math.nan,
                "origin_residual": math.nan,
            }
        )
    n_pl = len(plateaus)
    _metric(
        m,
        "n_plateaus",
        n_pl,
        None,
        c,
        "plateaus found (runs of readings at one level, between steps or off periods)",
    )
    if n_pl == 0:
        result.warmup_s.append(math.nan)
        result.final_plateau.append(math.nan)
        result.warnings.append(f"Light {c}: every reading is below the off level; nothing to analyse.")
        return (
            _readings(log, sel, c, wl, labels + np.where(labels >= 0, first_plateau, 0), None),
            [],
            [],
            first_plateau,
        )
    top = float(np.percentile(p, 99))
    levels = _levels(plateaus, top, s.step_threshold_percent)
    on = labels >= 0
    after = np.zeros(t.size, dtype=bool)
    allan: list[dict[str, Any]] = []
    if levels > 1:
        result.warmup_s.append(math.nan)  # no warm-up in a set-point series: one entry per light all the same
        result.final_plateau.append(math.nan)
        worst = min(
            plateaus,
            key=lambda r: r["stability_percent"] if math.isfinite(r["stability_percent"]) else math.inf,
        )
        _metric(
            m,
            "worst_plateau_stability_percent",
            worst["stability_percent"],
            "percent",
            c,
            "lowest stability S of the plateaus (each plateau at one set-point)",
            math.nan,
            _NOT_ESTIMABLE,
        )
        _metric(
            m,
            "worst_plateau_cv_percent",
            max(r["cv_percent"] for r in plateaus),
            "percent",
            c,
            "highest CV (ddof = 1) of the plateaus",
        )
        result.warnings.append(
            f"Light {c}: the log steps through {levels} levels; stability and CV are per plateau (plateaus.csv), "
            "not over the whole log."
        )
        _linearity(result, plateaus, c, unit, absu)
    else:
        after = _time_series(
            result, t[on], p[on], c, s, absu, what, unit, allan, previous_power, previous_source, on
        )
    if log.temperature_c is not None:
        tc = log.temperature_c[sel]
        if np.isfinite(tc).sum() > 1:
            _metric(
                m,
                "temperature_range_c",
                float(np.nanmax(tc) - np.nanmin(tc)),
                "C",
                c,
                "range of the logged temperature",
            )
    shifted = np.where(labels >= 0, labels + first_plateau, -1)
    return _readings(log, sel, c, wl, shifted, after), plateaus, allan, first_plateau + n_pl


def _readings(
    log: PowerLog,
    sel: npt.NDArray[np.int_],
    c: int,
    wl: float,
    plateau: npt.NDArray[np.int_],
    after: npt.NDArray[np.bool_] | None,
) -> pd.DataFrame:
    n = sel.size
    return pd.DataFrame(
        {
            "t_s": log.t_s[sel],
            "power": log.power[sel],
            "channel": np.full(n, c),
            "wavelength_nm": log.wavelength_nm[sel] if log.wavelength_nm is not None else np.full(n, wl),
            "setpoint_percent": log.setpoint_percent[sel]
            if log.setpoint_percent is not None
            else np.full(n, np.nan),
            "temperature_c": log.temperature_c[sel] if log.temperature_c is not None else np.full(n, np.nan),
            "plateau": plateau,
            "after_warmup": after if after is not None else np.zeros(n, dtype=bool),
            "row": (log.rows if log.rows is not None else np.arange(1, log.t_s.size + 1))[sel],
        }
    )


def _time_series(
    result: LightSourceResult,
    t: npt.NDArray[np.float64],
    p: npt.NDArray[np.float64],
    c: int,
    s: LightSourceSettings,
    absu: str,
    what: str,
    unit: str,
    allan: list[dict[str, Any]],
    previous_power: Mapping[int, float] | float | None,
    previous_source: str,
    on: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Metrics of a channel whose readings are all at one level; returns 'after warm-up' per reading."""
    m = result.metrics
    dt = float(np.median(np.diff(t))) if t.size > 1 else math.nan
    warm, plateau = mx.warmup_time(t, p, s.warmup_tolerance_percent, s.final_window_percent)
    result.warmup_s.append(warm)
    result.final_plateau.append(plateau)
    _metric(
        m,
        "warmup_time_s",
        warm,
        "s",
        c,
        f"first time after which every reading stays within ±{s.warmup_tolerance_percent:g} % of the final plateau "
        f"(mean of the last {s.final_window_percent:g} % of the log); the uncertainty is one sampling interval",
        dt,
        "sampling interval",
    )
    _metric(
        m,
        f"final_plateau_{absu}",
        plateau,
        unit,
        c,
        f"mean {what} over the last {s.final_window_percent:g} % of the log",
    )
    if not math.isfinite(warm):
        result.warnings.append(
            f"Light {c}: the {what} never settled within ±{s.warmup_tolerance_percent:g} % of its final plateau "
            "(the last reading is outside the band); the stability after warm-up uses the whole log. Log longer, or "
            "widen the warm-up band."
        )
    settled = t >= t[0] + (warm if math.isfinite(warm) else 0.0)
    tw, pw = t[settled], p[settled]
    mean, se = mx.mean_with_se(pw)
    _metric(
        m,
        f"mean_{'power' if unit == 'mW' else 'intensity'}_{absu}",
        mean,
        unit,
        c,
        f"mean {what} after warm-up; SE by 10 batch means (robust to correlated readings)",
        se,
    )
    _metric(
        m,
        "stability_percent",
        mx.stability_percent(p),
        "percent",
        c,
        "S = 100·(1 − (Pmax − Pmin)/(Pmax + Pmin)) over every reading (QUAREP WG1); a range statistic, SE not estimable",
        math.nan,
        _NOT_ESTIMABLE,
    )
    _metric(
        m,
        "stability_after_warmup_percent",
        mx.stability_percent(pw),
        "percent",
        c,
        "stability S over the readings after warm-up",
        math.nan,
        _NOT_ESTIMABLE,
    )
    st, nwin = mx.short_term_stability(tw, pw, s.short_term_window_s)
    _metric(
        m,
        "short_term_stability_percent",
        st,
        "percent",
        c,
        f"lowest stability S over {nwin} consecutive window(s) of {s.short_term_window_s:g} s after warm-up",
        math.nan,
        _NOT_ESTIMABLE,
    )
    cv, cv_se = mx.cv_percent(pw)
    _metric(
        m,
        "cv_percent",
        cv,
        "percent",
        c,
        "CV = 100·SD/mean after warm-up, SD with ddof = 1; SE for normal readings",
        cv_se,
    )
    d = mx.drift_per_hour(tw, pw)
    _metric(
        m,
        f"drift_{absu}_per_h",
        d.slope_per_h,
        f"{unit}/h",
        c,
        f"OLS slope of the {what} on time after warm-up; SE corrected for correlated readings (lag-1 "
        f"autocorrelation of the residuals {d.rho:.2f})",
        d.se_per_h,
    )
    rel = 100.0 / mean if mean else math.nan
    _metric(
        m,
        "drift_percent_per_h",
        d.slope_per_h * rel,
        "percent/h",
        c,
        "drift slope after warm-up in percent of the mean per hour",
        d.se_per_h * rel,
    )
    if t[-1] - t[0] >= s.allan_min_duration_s:
        steps = np.diff(tw)
        if steps.size > 1 and float(np.std(steps)) > 0.1 * float(np.median(steps)):
            result.warnings.append(
                f"Light {c}: readings are not equally spaced (SD of the interval "
                f"{100 * float(np.std(steps) / np.median(steps)):.0f} % of its median); the Allan deviation takes "
                "them as equally spaced."
            )
        taus, devs, counts = mx.allan_deviation(tw, pw)
        for tau, dev, n in zip(taus, devs, counts, strict=True):
            allan.append({"channel": c, "tau_s": float(tau), "adev_percent": float(dev), "n_terms": int(n)})
        if devs.size:
            k = int(np.argmin(devs))
            _metric(
                m,
                "allan_deviation_min_percent",
                devs[k],
                "percent",
                c,
                "smallest overlapping Allan deviation of the relative power after warm-up",
                math.nan,
                _NOT_ESTIMABLE,
            )
            _metric(m, "allan_tau_min_s", taus[k], "s", c, "averaging time of the smallest Allan deviation")
    prev = (
        previous_power.get(c) if isinstance(previous_power, Mapping) else (previous_power if c == 0 else None)
    )
    if prev is not None and unit == "mW":
        if prev > 0:
            _metric(
                m,
                "power_change_percent",
                100.0 * (mean - prev) / prev,
                "percent",
                c,
                f"mean power after warm-up vs {previous_source} ({prev:.4g} mW)",
                100.0 * se / prev,
            )
        else:
            result.warnings.append(
                f"Light {c}: the previous power ({prev} mW) is not positive; no comparison made."
            )
    full = np.zeros(on.size, dtype=bool)
    full[np.flatnonzero(on)] = settled
    return full


def _linearity(
    result: LightSourceResult, plateaus: list[dict[str, Any]], c: int, unit: str, absu: str
) -> None:
    sp = np.asarray([r["setpoint_percent"] for r in plateaus])
    power = np.asarray([r["mean"] for r in plateaus])
    ok = np.isfinite(sp)
    distinct = np.unique(sp[ok]).size
    if distinct < MIN_LINEARITY_POINTS:
        if ok.any() or distinct:
            result.warnings.append(
                f"Light {c}: {distinct} set-point(s); the linearity fit needs at least {MIN_LINEARITY_POINTS} (QUAREP WG1)."
            )
        else:
            result.warnings.append(f"Light {c}: the log has no set-point column; no linearity fit.")
        return
    fit = mx.linearity(sp[ok], power[ok])
    for r, res, res0 in zip(
        [r for r, o in zip(plateaus, ok, strict=True) if o], fit.residuals, fit.origin_residuals, strict=True
    ):
        r["residual"], r["origin_residual"] = float(res), float(res0)
    m = result.metrics
    per = f"{unit}/percent"
    _metric(
        m,
        f"linearity_slope_{absu}_per_percent",
        fit.slope,
        per,
        c,
        f"OLS slope of power on set-point ({fit.n} plateaus)",
        fit.slope_se,
    )
    _metric(
        m,
        f"linearity_intercept_{absu}",
        fit.intercept,
        unit,
        c,
        "OLS intercept (power at set-point 0)",
        fit.intercept_se,
    )
    _metric(m, "linearity_r2", fit.r2, None, c, "R² of the OLS fit")
    _metric(
        m,
        f"linearity_origin_slope_{absu}_per_percent",
        fit.origin_slope,
        per,
        c,
        "slope of the fit through the origin (QUAREP tool-kit)",
        fit.origin_slope_se,
    )
    _metric(
        m,
        "linearity_origin_r2",
        fit.origin_r2,
        None,
        c,
        "R² of the fit through the origin, 1 − SS_res/SS_tot (centred)",
    )
    top = float(np.max(np.abs(power[ok])))
    _metric(
        m,
        "linearity_max_residual_percent",
        100.0 * float(np.max(np.abs(fit.residuals))) / top,
        "percent",
        c,
        "largest OLS residual in percent of the highest plateau power",
    )

"""EMVA 1288 release 4.0 ("linear") numbers from the pair statistics of a series.

The photon-transfer method: the temporal variance of the signal grows linearly with its mean,
σ²_y − σ²_y.dark = K (μ_y − μ_y.dark), with slope the overall system gain K (DN/e⁻), fitted
through the origin from 0 to 70 % of the saturation signal; the saturation point is where the
variance peaks. From K and the dark variance follow the temporal dark noise, the saturation
capacity, the absolute sensitivity threshold (where SNR = 1), the dynamic range and the SNR
curve; from the mean response the linearity error (5–95 %) and, when photon counts are given,
the responsivity R and quantum efficiency η = R/K; from darks at several exposure times the dark
current. docs/detector.md gives every formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis.detector.frames import PairStats
from microscope_qc.analysis.detector.series import Group
from microscope_qc.analysis.detector.settings import DetectorSettings
from microscope_qc.results import AnalysisError, Metric

__all__ = [
    "EmvaTemporal",
    "emva_temporal",
    "line_fit",
    "origin_fit",
    "QUANTISATION_DN2",
    "DARK_VARIANCE_FLOOR_DN2",
]

#: variance of uniform quantisation, 1/12 DN²
QUANTISATION_DN2 = 1.0 / 12.0
#: below this dark variance the quantisation noise dominates and the dark noise is an upper limit
DARK_VARIANCE_FLOOR_DN2 = 0.24

_NOT_ESTIMABLE = "not estimable"


def origin_fit(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[float, float]:
    """Least-squares slope of ``y = m x`` (a line through the origin) and its standard error.

    Parameters
    ----------
    x, y : array_like
        The points.

    Returns
    -------
    slope, standard_error : float
        The SE is NaN with fewer than 2 points.
    """
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    sxx = float(np.sum(xa * xa))
    m = float(np.sum(xa * ya)) / sxx
    if xa.size < 2:
        return m, math.nan
    resid = ya - m * xa
    return m, math.sqrt(float(np.sum(resid * resid)) / (xa.size - 1) / sxx)


def line_fit(
    x: npt.ArrayLike, y: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> tuple[float, float, float, float]:
    """Weighted least-squares line ``y = a x + b``: slope, intercept and their standard errors.

    Parameters
    ----------
    x, y : array_like
        The points (at least 2).
    weights : array_like, optional
        Weights of the squared residuals (default 1).

    Returns
    -------
    a, b, se_a, se_b : float
        The SEs are NaN with 2 points (scaled by the residual variance otherwise).
    """
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    w = np.ones_like(xa) if weights is None else np.asarray(weights, float)
    sw, swx, swy = w.sum(), (w * xa).sum(), (w * ya).sum()
    swxx, swxy = (w * xa * xa).sum(), (w * xa * ya).sum()
    det = sw * swxx - swx * swx
    a = float((sw * swxy - swx * swy) / det)
    b = float((swxx * swy - swx * swxy) / det)
    if xa.size < 3:
        return a, b, math.nan, math.nan
    s2 = float((w * (ya - a * xa - b) ** 2).sum()) / (xa.size - 2)
    return a, b, math.sqrt(s2 * sw / det), math.sqrt(s2 * swxx / det)


@dataclass
class EmvaTemporal:
    """The temporal (photon-transfer) part of an EMVA 1288 evaluation."""

    metrics: list[Metric]
    table: pd.DataFrame  # one row per bright pair: the photon-transfer, SNR and linearity curves
    dark_table: pd.DataFrame  # one row per dark pair
    system_gain: float  # K, DN/e⁻
    system_gain_se: float
    saturation_index: int  # row of ``table`` at the variance peak
    dark_at: dict[float | None, tuple[float, float]]  # exposure -> (μ_y.dark, σ²_y.dark) used
    warnings: list[str] = field(default_factory=list)


def _m(name: str, value: float, unit: str | None, se: float, description: str) -> Metric:
    kind = "standard error" if math.isfinite(se) else _NOT_ESTIMABLE
    return Metric(name, float(value), unit, float(se), None, description, kind)


def _dark_levels(
    darks: Sequence[tuple[Group, PairStats]], warnings: list[str]
) -> tuple[dict[float | None, tuple[float, float]], list[float]]:
    levels = {g.exposure_ms: (s.mean, s.variance) for g, s in darks}
    times = sorted(t for t in levels if t is not None)
    return levels, times


def _dark_for(
    t: float | None, levels: dict[float | None, tuple[float, float]], times: list[float]
) -> tuple[float, float, bool]:
    """(μ_y.dark, σ²_y.dark, measured at this exposure) for a bright pair at exposure ``t``."""
    if t in levels:
        mu, var = levels[t]
        return mu, var, True
    if t is None or not times:
        mu, var = next(iter(levels.values()))
        return mu, var, False
    if len(times) == 1:
        mu, var = levels[times[0]]
        return mu, var, False
    mus = [levels[x][0] for x in times]
    vs = [levels[x][1] for x in times]
    a, b, _, _ = line_fit(times, mus)
    av, bv, _, _ = line_fit(times, vs)
    return a * t + b, av * t + bv, False


def _saturation_index(variance: npt.NDArray[np.float64]) -> int:
    """The bright pair where the temporal variance peaks (its last maximum)."""
    peak = float(variance.max())
    return int(np.flatnonzero(variance == peak)[-1])


def emva_temporal(
    brights: Sequence[tuple[Group, PairStats]],
    darks: Sequence[tuple[Group, PairStats]],
    settings: DetectorSettings,
    n_pixels: int,
) -> EmvaTemporal:
    """The photon-transfer evaluation of an EMVA 1288 series.

    Parameters
    ----------
    brights, darks : sequence of (Group, PairStats)
        The bright pairs in increasing order of light, and the dark pairs.
    settings : DetectorSettings
        The fit ranges.
    n_pixels : int
        Pixels per frame (for the standard error of a variance).

    Returns
    -------
    EmvaTemporal
        The metrics, the curves and the numbers the spatial part needs.

    Raises
    ------
    AnalysisError
        When the darks are as bright as the brights, or too few pairs lie in the gain fit range.
    """
    warnings: list[str] = []
    levels, times = _dark_levels(darks, warnings)
    t_bright = [g.exposure_ms for g, _ in brights]
    rows = []
    missing_dark = set()
    for g, s in brights:
        mu_d, var_d, measured = _dark_for(g.exposure_ms, levels, times)
        if not measured and g.exposure_ms is not None:
            missing_dark.add(g.exposure_ms)
        rows.append(
            {
                "exposure_ms": g.exposure_ms if g.exposure_ms is not None else math.nan,
                "photons": g.photons if g.photons is not None else math.nan,
                "frames": g.count,
                "mean_dn": s.mean,
                "dark_mean_dn": mu_d,
                "variance_dn2": s.variance,
                "dark_variance_dn2": var_d,
                "saturated_percent": 100.0 * s.saturated_fraction,
            }
        )
    table = pd.DataFrame(rows)
    signal = (table["mean_dn"] - table["dark_mean_dn"]).to_numpy()
    noise_var = (table["variance_dn2"] - table["dark_variance_dn2"]).to_numpy()
    table["signal_dn"] = signal
    if missing_dark:
        how = (
            "interpolated linearly from the other exposure times"
            if len(times) >= 2
            else "taken from the one dark exposure"
        )
        warnings.append(
            f"No dark pair at {', '.join(f'{t:g}' for t in sorted(missing_dark))} ms: the dark level there was "
            f"{how}. Take a dark pair at every exposure time of the series."
        )
    if float(np.max(signal)) <= 0:
        raise AnalysisError(
            "The dark frames are as bright as (or brighter than) the bright frames at every level: the "
            "light was off, or dark and bright frames are swapped. Check the 'kind' column of the frame table "
            "({frame_table})."
        )
    i_sat = _saturation_index(table["variance_dn2"].to_numpy())
    sat_signal = float(signal[i_sat])
    if i_sat == len(table) - 1:
        warnings.append(
            "The temporal variance did not peak before the last bright pair: the series may not reach "
            "saturation, so the saturation capacity (and the dynamic range) are lower limits. Extend the "
            "series to where the variance falls."
        )
    in_gain = (signal > 0) & (signal <= settings.gain_fit_max_percent / 100.0 * sat_signal)
    in_gain[i_sat + 1 :] = False
    if in_gain.sum() < 2:
        raise AnalysisError(
            f"Only {int(in_gain.sum())} bright pair(s) lie between 0 and {settings.gain_fit_max_percent:g} % of "
            "the saturation signal: the gain needs at least 2 (EMVA 1288 asks for 50 levels). Add levels "
            "below saturation."
        )
    k, k_se = origin_fit(signal[in_gain], noise_var[in_gain])
    if not k > 0:
        raise AnalysisError(
            "The temporal variance does not grow with the signal (system gain ≤ 0): these are not raw "
            "frames of a linear camera (noise reduction on?), or the frames are not in pairs."
        )
    table["in_gain_fit"] = in_gain
    table["variance_model_dn2"] = table["dark_variance_dn2"] + k * signal
    k_rel = k_se / k if math.isfinite(k_se) else math.nan
    metrics = [
        _m(
            "system_gain_dn_per_e",
            k,
            "DN/e-",
            k_se,
            "overall system gain K: slope of σ²_y − σ²_y.dark against μ_y − μ_y.dark (EMVA 1288)",
        ),
        _m("conversion_gain_e_per_dn", 1.0 / k, "e-/DN", k_se / k**2, "inverse system gain 1/K"),
    ]

    # temporal dark noise
    dark_t = [t for t in times]
    if len(dark_t) >= 3:
        _, var0, _, var0_se = line_fit(dark_t, [levels[t][1] for t in dark_t])
        how = "intercept at zero exposure of the dark variance against exposure time"
    else:
        t0 = min(levels, key=lambda t: -math.inf if t is None else t)
        var0 = levels[t0][1]
        var0_se = var0 * math.sqrt(2.0 / n_pixels)
        how = "dark variance at the shortest exposure"
    floored = var0 < DARK_VARIANCE_FLOOR_DN2
    if floored:
        warnings.append(
            f"The temporal dark variance ({var0:.3g} DN²) is below {DARK_VARIANCE_FLOOR_DN2} DN²: quantisation "
            f"dominates, so (as EMVA 1288 prescribes) {DARK_VARIANCE_FLOOR_DN2} DN² is used and the dark noise, "
            "sensitivity threshold and dynamic range are limits, not measurements."
        )
        var0, var0_se = DARK_VARIANCE_FLOOR_DN2, math.nan
    sigma_d = math.sqrt(var0 - QUANTISATION_DN2) / k
    rel_var = var0_se / (2 * (var0 - QUANTISATION_DN2)) if math.isfinite(var0_se) else math.nan
    sigma_d_se = sigma_d * math.hypot(k_rel, rel_var)
    mu_e_min = 0.5 + math.sqrt(var0 / k**2 + 0.25)
    dmu = (var0 / k**2) / (2 * math.sqrt(var0 / k**2 + 0.25))  # d μ_e.min / d ln(σ²/K²)
    mu_e_min_se = dmu * math.hypot(2 * k_rel, 2 * rel_var)
    metrics += [
        _m(
            "dark_noise_dn",
            math.sqrt(var0),
            "DN",
            var0_se / (2 * math.sqrt(var0)),
            f"temporal dark noise σ_y.dark ({how})",
        ),
        _m("dark_noise_e", sigma_d, "e-", sigma_d_se, "temporal dark noise σ_d = √(σ²_y.dark − 1/12 DN²)/K"),
    ]

    # saturation, sensitivity threshold, dynamic range, SNR
    has_photons = bool(np.all(np.isfinite(table["photons"].to_numpy())))
    mu_e_sat = sat_signal / k
    mu_e_sat_se = mu_e_sat * k_rel
    eta = eta_se = r = r_se = math.nan
    if has_photons:
        photons = table["photons"].to_numpy()
        r, r_se = origin_fit(photons[in_gain], signal[in_gain])
        eta = r / k
        eta_se = eta * math.hypot(r_se / r if math.isfinite(r_se) else math.nan, k_rel)
        mu_e_sat = eta * float(photons[i_sat])
        mu_e_sat_se = mu_e_sat * (eta_se / eta)
    else:
        warnings.append(
            "No photon counts given: the quantum efficiency, responsivity and the thresholds in photons are not "
            "computed (give the mean photons per pixel of each frame in the frame table for them)."
        )
    dr = mu_e_sat / mu_e_min
    dr_se = dr * math.hypot(mu_e_sat_se / mu_e_sat, mu_e_min_se / mu_e_min)
    metrics += [
        _m(
            "saturation_capacity_e",
            mu_e_sat,
            "e-",
            mu_e_sat_se,
            "saturation capacity μ_e.sat at the peak of the temporal variance",
        ),
        _m("saturation_signal_dn", sat_signal, "DN", math.nan, "μ_y.sat − μ_y.dark at the variance peak"),
        _m(
            "sensitivity_threshold_e",
            mu_e_min,
            "e-",
            mu_e_min_se,
            "absolute sensitivity threshold μ_e.min (SNR = 1): 1/2 + √(σ²_y.dark/K² + 1/4)",
        ),
        _m(
            "dynamic_range_db",
            20 * math.log10(dr),
            "dB",
            20 / math.log(10) * dr_se / dr,
            "dynamic range 20 log10(μ_e.sat/μ_e.min)",
        ),
        _m(
            "snr_max_db",
            10 * math.log10(mu_e_sat),
            "dB",
            10 / math.log(10) * mu_e_sat_se / mu_e_sat,
            "maximum SNR √μ_e.sat, in dB",
        ),
    ]
    if has_photons:
        metrics += [
            _m(
                "responsivity_dn_per_photon",
                r,
                "DN/photon",
                r_se,
                "responsivity R: slope of μ_y − μ_y.dark against photons (0–70 % of saturation)",
            ),
            _m(
                "quantum_efficiency_percent", 100 * eta, "percent", 100 * eta_se, "quantum efficiency η = R/K"
            ),
            _m(
                "sensitivity_threshold_photons",
                mu_e_min / eta,
                "photons",
                mu_e_min / eta * math.hypot(mu_e_min_se / mu_e_min, eta_se / eta),
                "absolute sensitivity threshold μ_p.min = μ_e.min/η",
            ),
        ]
    signal_e = signal / k
    table["snr"] = signal / np.sqrt(np.maximum(table["variance_dn2"].to_numpy(), 1e-300))
    table["snr_model"] = signal_e / np.sqrt(var0 / k**2 + np.maximum(signal_e, 0.0))
    table["signal_e"] = signal_e

    # linearity
    x = table["photons"].to_numpy() if has_photons else table["exposure_ms"].to_numpy()
    lo, hi = (
        settings.linearity_min_percent / 100 * sat_signal,
        settings.linearity_max_percent / 100 * sat_signal,
    )
    in_lin = (signal >= lo) & (signal <= hi) & np.isfinite(x)
    in_lin[i_sat + 1 :] = False
    table["in_linearity_fit"] = in_lin
    le_min = le_max = math.nan
    table["linearity_fit_dn"] = math.nan
    table["linearity_error_percent"] = math.nan
    if in_lin.sum() >= 3 and len(set(x[in_lin].tolist())) >= 3:
        a, b, _, _ = line_fit(x[in_lin], signal[in_lin], 1.0 / signal[in_lin] ** 2)
        fit = a * x + b
        dev = 100 * (signal - fit) / fit
        table["linearity_fit_dn"] = fit
        table["linearity_error_percent"] = dev
        le_min, le_max = float(dev[in_lin].min()), float(dev[in_lin].max())
    else:
        warnings.append(
            f"Fewer than 3 distinct light levels between {settings.linearity_min_percent:g} and "
            f"{settings.linearity_max_percent:g} % of saturation (or light levels unknown): the linearity error is "
            "not computed."
        )
    metrics += [
        _m(
            "linearity_error_min_percent",
            le_min,
            "percent",
            math.nan,
            "smallest relative deviation from the linear fit (5–95 % of saturation)",
        ),
        _m(
            "linearity_error_max_percent",
            le_max,
            "percent",
            math.nan,
            "largest relative deviation from the linear fit (5–95 % of saturation)",
        ),
    ]

    # dark current
    dark_rows = [
        {
            "exposure_ms": g.exposure_ms if g.exposure_ms is not None else math.nan,
            "frames": g.count,
            "mean_dn": s.mean,
            "variance_dn2": s.variance,
        }
        for g, s in sorted(
            darks, key=lambda gs: -math.inf if gs[0].exposure_ms is None else gs[0].exposure_ms
        )
    ]
    dark_table = pd.DataFrame(dark_rows)
    if len(times) >= 3:
        a_m, _, se_m, _ = line_fit(times, [levels[t][0] for t in times])
        a_v, _, se_v, _ = line_fit(times, [levels[t][1] for t in times])
        dc_m, dc_m_se = a_m * 1000 / k, 1000 / k * math.hypot(se_m, a_m * k_rel)
        dc_v, dc_v_se = a_v * 1000 / k**2, 1000 / k**2 * math.hypot(se_v, 2 * a_v * k_rel)
    else:
        dc_m = dc_m_se = dc_v = dc_v_se = math.nan
        warnings.append(
            f"Dark pairs at {len(times)} exposure time(s): the dark current needs at least 3; it is not computed."
        )
    metrics += [
        _m(
            "dark_current_mean_e_per_s",
            dc_m,
            "e-/s",
            dc_m_se,
            "dark current from the slope of the dark mean against exposure time, /K",
        ),
        _m(
            "dark_current_variance_e_per_s",
            dc_v,
            "e-/s",
            dc_v_se,
            "dark current from the slope of the dark variance against exposure time, /K²",
        ),
        _m(
            "offset_dn",
            levels[min(levels, key=lambda t: -math.inf if t is None else t)][0],
            "DN",
            math.nan,
            "mean dark level at the shortest exposure",
        ),
    ]
    del t_bright, dark_t
    return EmvaTemporal(metrics, table, dark_table, k, k_se, i_sat, levels, warnings)

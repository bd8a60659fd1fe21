"""What the light-source dock plots, built from a result in the worker (numpy only, no Qt).

Each plot is ``(title, curves, x label, y label, options)`` for :meth:`LinePlot.set_curves`;
``curves`` are ``(label, colour, x, y)`` in data units.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microscope_qc.analysis.light_source import LightSourceResult
from microscope_qc.analysis.light_source.metrics import drift_per_hour

__all__ = ["COLOURS", "power_plot", "linearity_plot", "light_names"]

#: one colour per light (channel), then again
COLOURS = ("#4aa3ff", "#3ccf6e", "#f5c211", "#e8743d", "#c678dd", "#56b6c2")
_GREY = "#9a9a9a"


def light_names(result: LightSourceResult) -> list[str]:
    """A name per light: its wavelength, else 'light k'."""
    names = []
    for k, wl in enumerate(result.wavelengths_nm or [None]):
        names.append(f"{wl:g} nm" if wl is not None and math.isfinite(wl) else f"light {k}")
    return names


def _colour(k: int) -> str:
    return COLOURS[k % len(COLOURS)]


def power_plot(result: LightSourceResult, tolerance_percent: float) -> tuple:
    """Power against time per light, with plateau means, the final plateau ± the warm-up band, the
    end of warm-up and the drift fitted after warm-up.

    Off readings and transitions (plateau −1) break the line: the plot shows the light when on.
    """
    r = result.readings
    names = light_names(result)
    traces: list[tuple[str, str, Any, Any]] = []
    means: list[tuple[str, str, Any, Any]] = []  # drawn under the traces (a pulse is all plateau)
    curves: list[tuple[str, str, Any, Any]] = []  # drawn over the traces
    markers: list[tuple[str, str, float]] = []
    plateaus = result.plateaus
    first = {"plateau": True, "band": True, "drift": True, "warm": True}

    def once(key: str, text: str) -> str:
        if first[key]:
            first[key] = False
            return text
        return ""

    for k in sorted(r["channel"].unique()):
        rows = r[r["channel"] == k]
        t = rows["t_s"].to_numpy(float)
        p = np.where(rows["plateau"].to_numpy() >= 0, rows["power"].to_numpy(float), np.nan)
        colour = _colour(int(k))
        traces.append((names[int(k)] if int(k) < len(names) else f"light {k}", colour, t, p))
        mine = plateaus[plateaus["channel"] == k]
        if len(mine):
            xs = np.column_stack([mine["start_s"], mine["end_s"], np.full(len(mine), np.nan)]).ravel()
            ys = np.column_stack([mine["mean"], mine["mean"], np.full(len(mine), np.nan)]).ravel()
            means.append((once("plateau", "plateau means"), "#ffffff", xs, ys))
        k = int(k)
        final = result.final_plateau[k] if k < len(result.final_plateau) else math.nan
        if math.isfinite(final) and len(mine) <= 1:  # the band belongs to a log of one plateau
            band = final * tolerance_percent / 100.0
            span = np.array([t.min(), t.max(), np.nan, t.min(), t.max()])
            level = np.array([final + band, final + band, np.nan, final - band, final - band])
            curves.append((once("band", f"final plateau ± {tolerance_percent:g} %"), _GREY, span, level))
        warm = result.warmup_s[k] if k < len(result.warmup_s) else math.nan
        if math.isfinite(warm) and warm > 0:
            markers.append((once("warm", "end of warm-up"), colour, float(warm)))
        after = rows["after_warmup"].to_numpy(bool) & np.isfinite(p)
        if after.sum() >= 3 and len(mine) <= 1:
            drift = drift_per_hour(t[after], p[after])
            if math.isfinite(drift.slope_per_h):
                ends = np.array([t[after].min(), t[after].max()])
                curves.append(
                    (
                        once("drift", "drift (fit after warm-up)"),
                        "#ff5555",
                        ends,
                        drift.intercept + drift.slope_per_h * ends / 3600,
                    )
                )
    unit = result.unit
    return (
        "Power against time",
        means + traces + curves,
        "time (s)",
        f"power ({unit})" if unit != "counts" else "mean intensity (counts)",
        {"markers": markers, "data_units": True},
    )


def linearity_plot(result: LightSourceResult) -> tuple | None:
    """Plateau mean against set-point per light, with the straight-line fit; None without set-points."""
    plateaus = result.plateaus
    sp = plateaus["setpoint_percent"].to_numpy(float) if len(plateaus) else np.array([])
    if np.isfinite(sp).sum() < 2:
        return None
    names = light_names(result)
    curves: list[tuple[str, str, Any, Any]] = []
    scatter = []
    for k in sorted(plateaus["channel"].unique()):
        k = int(k)
        mine = plateaus[(plateaus["channel"] == k) & np.isfinite(plateaus["setpoint_percent"])]
        if len(np.unique(mine["setpoint_percent"])) < 2:  # one set-point: nothing to fit
            continue
        label = names[k] if k < len(names) else f"light {k}"
        x = mine["setpoint_percent"].to_numpy(float)
        curves.append((f"{label} plateaus", _colour(k), x, mine["mean"].to_numpy(float)))
        scatter.append(f"{label} plateaus")
        slope = _metric(result, "linearity_slope", k)
        intercept = _metric(result, "linearity_intercept", k)
        if slope is not None and intercept is not None:
            xs = np.array([0.0, x.max()])
            curves.append((f"{label} fit", _colour(k), xs, intercept + slope * xs))
    if not curves:
        return None
    unit = result.unit
    return (
        "Linearity: plateau power against set-point",
        curves,
        "set-point (%)",
        f"power ({unit})",
        {"scatter": tuple(scatter), "data_units": True},
    )


def _metric(result: LightSourceResult, prefix: str, channel: int) -> float | None:
    for m in result.metrics:
        if m.name.startswith(prefix) and "origin" not in m.name and m.channel == channel:
            return float(m.value)
    return None

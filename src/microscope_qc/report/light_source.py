"""Report figures of the light-source measurement, drawn as inline SVG from the result's tables.

``readings`` (one row per reading: time, power, channel, plateau, after warm-up), ``plateaus``
(one row per plateau with the linearity residuals) and ``allan`` (Allan deviation per channel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.light_source.metrics import drift_per_hour
from microscope_qc.report import Figure
from microscope_qc.report.labels import heading
from microscope_qc.report.svg import Plot

if TYPE_CHECKING:
    import pandas as pd

    from microscope_qc.analysis.light_source import LightSourceResult

__all__ = ["light_source_figures"]

DATA, FIT, ORIGIN, SHADE, WARMUP = "#333333", "#d95f02", "#1f78b4", "#1b9e77", "#e7298a"
#: one colour per light in the panels holding several
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")


def _h(name: str) -> str:
    return heading("light-source", name)


def _f(table: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    return np.asarray(table[name], dtype=np.float64)


def _light_name(result: LightSourceResult, channel: int) -> str:
    wl = result.wavelengths_nm[channel] if channel < len(result.wavelengths_nm) else None
    if wl is not None and math.isfinite(wl):
        return f"{wl:g} nm"
    return f"light {channel}" if len(result.wavelengths_nm) > 1 else "light"


def _channels(table: pd.DataFrame) -> list[int]:
    return sorted(int(c) for c in np.unique(np.asarray(table["channel"])))


def _gapped(
    t: npt.NDArray[np.float64], p: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The readings with a NaN after every gap longer than 3 sampling intervals: a line is not drawn across it."""
    order = np.argsort(t, kind="stable")
    t, p = t[order], p[order]
    dt = np.diff(t)
    if dt.size < 2:
        return t, p
    step = float(np.median(dt[dt > 0])) if (dt > 0).any() else 0.0
    gaps = np.flatnonzero(dt > 3 * step) + 1 if step > 0 else np.array([], dtype=int)
    return np.insert(t, gaps, np.nan), np.insert(p, gaps, np.nan)


def light_source_figures(result: LightSourceResult) -> Sequence[Figure]:
    """Draw the light-source report's figures.

    Parameters
    ----------
    result : LightSourceResult
        The analysis result.

    Returns
    -------
    list of Figure
        Power against time per light (plateaus shaded, warm-up marked, drift line); linearity
        (power against set-point with both fits, and their residuals) when set-points were
        stepped; the Allan deviation (log–log) when it was estimated.
    """
    readings = result.tables.get("readings")
    if readings is None or len(readings) == 0:
        return []
    figs = [_power_figure(result, readings)]
    plateaus = result.tables.get("plateaus")
    if plateaus is not None and len(plateaus) and np.isfinite(_f(plateaus, "residual")).any():
        figs.append(_linearity_figure(result, plateaus))
    allan = result.tables.get("allan")
    if allan is not None and len(allan) and np.isfinite(_f(allan, "adev_percent")).any():
        figs.append(_allan_figure(result, allan))
    return figs


def _power_figure(result: LightSourceResult, readings: pd.DataFrame) -> Figure:
    channels = _channels(readings)
    plot = Plot(1000, 60 + 230 * len(channels), rows=len(channels))
    plateaus = result.tables.get("plateaus")
    unit = result.unit
    for row, c in enumerate(channels):
        ax = plot.axes(row, 0)
        r = readings[np.asarray(readings["channel"]) == c]
        t, p = _f(r, "t_s"), _f(r, "power")
        if plateaus is not None and len(plateaus) > 1:
            pc = plateaus[np.asarray(plateaus["channel"]) == c]
            for k, (a, b) in enumerate(zip(_f(pc, "start_s"), _f(pc, "end_s"), strict=True)):
                ax.span(a, b, colour=SHADE, alpha=0.15, label="plateau" if k == 0 else None)
        ax.line(*_gapped(t, p), DATA, 1.0, label="power", css="series power")
        warm = result.warmup_s[c] if c < len(result.warmup_s) else math.nan
        if math.isfinite(warm) and warm > 0:
            ax.rule(warm, "x", colour=WARMUP, width=1.2, dash="5,3", label=f"end of warm-up ({warm:g} s)")
        settled = np.asarray(r["after_warmup"], dtype=bool)
        if settled.sum() >= 3 and (plateaus is None or len(plateaus) <= 1):
            d = drift_per_hour(t[settled], p[settled])
            if math.isfinite(d.slope_per_h):
                ts = t[settled][[0, -1]]
                ax.line(
                    ts,
                    d.intercept + d.slope_per_h * ts / 3600.0,
                    FIT,
                    1.6,
                    label=f"drift {d.slope_per_h:+.3g} {unit}/h",
                    css="drift",
                )
        ax.set(title=_light_name(result, c), ylabel=f"{_h('power')} ({unit})")
        if row == len(channels) - 1:
            ax.set(xlabel=_h("t_s"))
        ax.legend()
    title = "Power against time"
    return Figure(
        title,
        plot.svg(title),
        "Every reading of every light (the line is broken where readings pause). Shaded: the plateaus found; dashed: the end of the warm-up; orange: the "
        "least-squares drift line through the readings after warm-up (one plateau only).",
    )


def _linearity_figure(result: LightSourceResult, plateaus: pd.DataFrame) -> Figure:
    plot = Plot(1000, 330, cols=2)
    ax, ax2 = plot.axes(0, 0), plot.axes(0, 1)
    unit = result.unit
    ok = np.isfinite(_f(plateaus, "residual")) & np.isfinite(_f(plateaus, "setpoint_percent"))
    pl = plateaus[ok]
    channels = _channels(pl)
    for k, c in enumerate(channels):
        q = pl[np.asarray(pl["channel"]) == c]
        x, y = _f(q, "setpoint_percent"), _f(q, "mean")
        order = np.argsort(x)
        name = _light_name(result, c)
        many = len(channels) > 1
        colour = PALETTE[k % len(PALETTE)] if many else DATA
        ax.markers(
            x,
            y,
            "o",
            colour=colour,
            size=5.0,
            label=f"{name} plateaus" if many else "plateau means",
            css="series plateaus",
        )
        ax.line(x[order], (y - _f(q, "residual"))[order], FIT, 1.3, label="OLS fit" if k == 0 else None)
        ax.line(
            x[order],
            (y - _f(q, "origin_residual"))[order],
            ORIGIN,
            1.3,
            dash="5,3",
            label="fit through the origin" if k == 0 else None,
        )
        ax2.line(
            x[order],
            _f(q, "residual")[order],
            FIT,
            1.0,
            marker="o",
            label="OLS" if k == 0 else None,
            css="series residual",
        )
        ax2.markers(x, _f(q, "residual"), "o", colour=FIT, size=4.0)
        ax2.line(
            x[order],
            _f(q, "origin_residual")[order],
            ORIGIN,
            1.0,
            dash="5,3",
            label="through the origin" if k == 0 else None,
            css="series origin-residual",
        )
        ax2.markers(x, _f(q, "origin_residual"), "s", colour=ORIGIN, size=4.0)
    ax.set(title="Power against set-point", xlabel=_h("setpoint_percent"), ylabel=f"{_h('mean')} ({unit})")
    ax.legend("upper left")
    ax2.rule(0.0, "y", colour="#999999", width=0.8)
    ax2.set(title="Residuals of the fits", xlabel=_h("setpoint_percent"), ylabel=f"Residual ({unit})")
    ax2.legend()
    title = "Linearity"
    return Figure(
        title,
        plot.svg(title),
        "Mean power of every plateau against its set-point, with the ordinary least-squares line and the line "
        "through the origin; right: each plateau's residual from both lines.",
    )


def _allan_figure(result: LightSourceResult, allan: pd.DataFrame) -> Figure:
    plot = Plot(620, 340)
    ax = plot.axes()
    channels = _channels(allan)
    for k, c in enumerate(channels):
        a = allan[np.asarray(allan["channel"]) == c]
        tau, dev = _f(a, "tau_s"), _f(a, "adev_percent")
        colour = PALETTE[k % len(PALETTE)] if len(channels) > 1 else DATA
        ax.line(tau, dev, colour, 1.2, label=_light_name(result, c), css="series allan")
        ax.markers(tau, dev, "o", colour=colour, size=4.5, css="series allan-points")
    ax.log(True, True)
    ax.set(title="Allan deviation after warm-up", xlabel=_h("tau_s"), ylabel=_h("adev_percent"))
    if len(channels) > 1:
        ax.legend()
    title = "Allan deviation"
    return Figure(
        title,
        plot.svg(title),
        "Allan deviation of the readings after warm-up against the averaging time, log–log: falling as τ^−½ "
        "where noise is white, rising where drift dominates.",
    )

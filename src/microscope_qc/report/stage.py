"""Report figures of the stage measurement, drawn as inline SVG from the result's tables.

Repeatability: ``positions`` (the repositioning error of every frame, with its move's distance
and direction) and ``groups`` (SD per distance, direction and axis). Drift: ``positions`` (the
track relative to t0, the displacement) and ``msd`` (mean squared displacement per lag).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from microscope_qc.report import Figure
from microscope_qc.report.labels import heading
from microscope_qc.report.svg import Plot, colour_table

if TYPE_CHECKING:
    import pandas as pd

    from microscope_qc.analysis.stage import StageResult

__all__ = ["stage_figures"]

DATA, FIT, LIMIT, SD = "#333333", "#d95f02", "#d62728", "#1f78b4"
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
AXIS_COLOUR = {"x": "#1b9e77", "y": "#7570b3", "z": "#e6ab02"}
#: the track is drawn in this many time slices, one colour (and one path) each
TIME_SLICES = 6


def _h(name: str) -> str:
    return heading("stage", name)


def _f(table: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    return np.asarray(table[name], dtype=np.float64)


def _metric(result: StageResult, name: str) -> float:
    for m in result.metrics:
        if m.name == name and isinstance(m.value, (int, float)):
            return float(m.value)
    return math.nan


def _tolerance(result: StageResult) -> float:
    s = result.settings.get("tolerance_um")
    value = getattr(s, "value", None)
    return float(value) if isinstance(value, (int, float)) else 0.5


def _circle(radius: float, n: int = 120) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    a = np.linspace(0.0, 2 * np.pi, n)
    return radius * np.cos(a), radius * np.sin(a)


def stage_figures(result: StageResult) -> Sequence[Figure]:
    """Draw the stage report's figures.

    Parameters
    ----------
    result : StageResult
        The analysis result.

    Returns
    -------
    list of Figure
        Repeatability: the repositioning errors (x against y) per distance and direction with the
        SD and tolerance circles, and the SD per axis; drift: the track coloured by time, the
        displacement against time with the stabilisation time, and the MSD against the lag.
    """
    positions = result.tables.get("positions")
    if positions is None or len(positions) == 0:
        return []
    if result.mode == "repeatability":
        return _repeatability_figures(result, positions)
    return _drift_figures(result, positions)


def _repeatability_figures(result: StageResult, positions: pd.DataFrame) -> list[Figure]:
    ok = np.isfinite(_f(positions, "error_x_um")) & np.isfinite(_f(positions, "error_y_um"))
    pos = positions[ok]
    groups = result.tables.get("groups")
    distances = sorted({float(d) for d in _f(pos, "distance_um")})
    if not distances:
        return []
    tol = _tolerance(result)
    cols = min(len(distances), 3)
    rows = -(-len(distances) // cols)
    plot = Plot(330 * cols + 40, 330 * rows + 10, rows=rows, cols=cols)
    directions = sorted({str(d) for d in pos["direction"]})
    for k, dist in enumerate(distances):
        ax = plot.axes(k // cols, k % cols)
        at = pos[_f(pos, "distance_um") == dist]
        sd = math.nan
        if groups is not None and len(groups):
            g = groups[(_f(groups, "distance_um") == dist) & (np.asarray(groups["axis"]) != "z")]
            sd = float(np.nanmax(_f(g, "sd_um"))) if len(g) else math.nan
        if math.isfinite(sd):
            ax.line(*_circle(sd), SD, 1.2, label=f"largest SD {sd:.3g} µm", css="sd-circle")
        ax.line(*_circle(tol), LIMIT, 1.2, dash="5,3", label=f"tolerance {tol:g} µm", css="tolerance")
        for j, direction in enumerate(directions):
            d = at[np.asarray(at["direction"]).astype(str) == direction]
            if len(d):
                ax.markers(
                    _f(d, "error_x_um"),
                    _f(d, "error_y_um"),
                    "o",
                    colour=PALETTE[j % len(PALETTE)],
                    size=5.0,
                    alpha=0.8,
                    label=f"from {direction}",
                    css="series errors",
                )
        ax.equal = True
        ax.set(title=f"Moves of {dist:g} µm", xlabel=_h("error_x_um"), ylabel=_h("error_y_um"))
        ax.legend()
    title = "Repositioning errors"
    figs = [
        Figure(
            title,
            plot.svg(title),
            "Position of the bead after every move minus the mean position for that move distance, by the "
            "direction the stage came from. Blue circle: the largest SD of any direction and axis; red dashed: the "
            "tolerance the SDs are checked against.",
        )
    ]
    if groups is not None and len(groups):
        figs.append(_sd_bars_figure(groups, distances, tol))
    return figs


def _sd_bars_figure(groups: pd.DataFrame, distances: list[float], tol: float) -> Figure:
    cols = min(len(distances), 3)
    rows = -(-len(distances) // cols)
    plot = Plot(330 * cols + 40, 300 * rows + 10, rows=rows, cols=cols)
    axes_present = [a for a in ("x", "y", "z") if a in set(np.asarray(groups["axis"]).astype(str))]
    width = 0.8 / len(axes_present)
    for k, dist in enumerate(distances):
        ax = plot.axes(k // cols, k % cols)
        g = groups[_f(groups, "distance_um") == dist]
        directions = list(dict.fromkeys(str(d) for d in g["direction"]))
        for j, axis in enumerate(axes_present):
            a = g[np.asarray(g["axis"]).astype(str) == axis]
            idx = np.array([directions.index(str(d)) for d in a["direction"]], dtype=np.float64)
            x = idx - 0.4 + width * (j + 0.5)
            ax.bars(
                x, _f(a, "sd_um"), width * 0.9, colour=AXIS_COLOUR[axis], label=f"SD {axis}", css="series sd"
            )
            if "sd_se_um" in a:
                ax.errorbars(x, _f(a, "sd_um"), _f(a, "sd_se_um"), colour=DATA)
        ax.rule(tol, "y", colour=LIMIT, width=1.2, dash="5,3", label=f"tolerance {tol:g} µm")
        tops = [
            float(np.nanmax(_f(q, "sd_um") + np.nan_to_num(_f(q, "sd_se_um"))))
            for q in (g[np.asarray(g["direction"]).astype(str) == d] for d in directions)
        ]
        top = max([*tops, tol])
        ax.ylim = (0.0, top * 1.5)
        ax.xlim = (-0.6, len(directions) - 0.4)
        # the direction's name above its bars (the x ticks only count the groups)
        ax.texts(
            np.arange(len(directions)) - 0.04 * len(directions[0]),
            np.array(tops),
            directions,
            colour=DATA,
            size=9.0,
            offset=(-6.0, 6.0),
        )
        ax.set(
            title=f"Moves of {dist:g} µm",
            xlabel="Approach direction (index, named above)",
            ylabel=_h("sd_um"),
        )
        ax.legend("upper right")
    title = "Repositioning SD per axis"
    return Figure(
        title,
        plot.svg(title),
        "Standard deviation of the position per axis, for every approach direction and for all moves of a "
        "distance together ('all'), with its standard error; dashed: the tolerance.",
    )


def _drift_figures(result: StageResult, positions: pd.DataFrame) -> list[Figure]:
    t = _f(positions, "t_s")
    x, y = _f(positions, "rel_x_um"), _f(positions, "rel_y_um")
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return []
    time_known = bool(np.isfinite(t[ok]).all())
    clock = t if time_known else _f(positions, "frame")
    clock_label = _h("t_s") if time_known else "Frame (index)"
    plot = Plot(1000, 340, cols=3)
    ax = plot.axes(0, 0)
    ax.line(x[ok], y[ok], "#bbbbbb", 0.8, css="track")
    colours = colour_table("viridis")
    edges = np.linspace(float(np.nanmin(clock[ok])), float(np.nanmax(clock[ok])), TIME_SLICES + 1)
    for k in range(TIME_SLICES):
        last = k == TIME_SLICES - 1
        sel = ok & (clock >= edges[k]) & ((clock <= edges[k + 1]) if last else (clock < edges[k + 1]))
        if not sel.any():
            continue
        r, g, b = (int(v) for v in colours[int(round(k / max(TIME_SLICES - 1, 1) * (len(colours) - 1)))][:3])
        unit = "s" if time_known else ""
        ax.markers(
            x[sel],
            y[sel],
            "o",
            colour=f"#{r:02x}{g:02x}{b:02x}",
            size=5.0,
            label=f"{edges[k]:.4g}–{edges[k + 1]:.4g} {unit}".rstrip(),
            css="series track-points",
        )
    spans = np.ptp(x[ok]), np.ptp(y[ok])
    # equal units on both axes unless the track is so elongated that it would be a sliver
    ax.equal = bool(min(spans) > 0 and max(spans) / min(spans) < 3)
    ax.set(title="Track, coloured by time", xlabel=_h("rel_x_um"), ylabel=_h("rel_y_um"))
    ax.legend()
    ax2 = plot.axes(0, 1)
    disp = _f(positions, "displacement_um")
    good = np.isfinite(disp)
    ax2.line(clock[good], disp[good], DATA, 1.0, marker="o", label="displacement", css="series displacement")
    ax2.markers(clock[good], disp[good], "o", colour=DATA, size=4.0)
    stab = _metric(result, "stabilisation_time_s")
    if math.isfinite(stab) and time_known:
        ax2.rule(stab, "x", colour=FIT, width=1.2, dash="5,3", label=f"stable from {stab:g} s")
    ax2.set(title="Displacement from t0", xlabel=clock_label, ylabel=_h("displacement_um"))
    ax2.legend("upper left")
    ax3 = plot.axes(0, 2)
    msd = result.tables.get("msd")
    if msd is not None and len(msd) and time_known:
        lag, m = _f(msd, "lag_s"), _f(msd, "msd_um2")
        ax3.line(lag, m, DATA, 1.0, css="series msd")
        ax3.markers(lag, m, "o", colour=DATA, size=4.0, css="series msd-points")
        ax3.log(True, True)
        ax3.set(title="Mean squared displacement", xlabel=_h("lag_s"), ylabel=_h("msd_um2"))
    else:
        ax3.off("No MSD (no frame times)")
    title = "Stage drift"
    return [
        Figure(
            title,
            plot.svg(title),
            "Left: the bead's position relative to the first frame, coloured from early (dark) to late (yellow). "
            "Middle: the displacement from the first frame; dashed: when the stage became stable. Right: the mean "
            "squared displacement against the lag, log–log (slope 2: steady drift; slope 1: random walk).",
        )
    ]

"""Report figures of a pattern slide's line groups and grey-level ladder (SVG, report/svg).

Lines: the contrast against spatial frequency (the contrast transfer of the line groups, the
modulation transfer of the gratings) with the resolution criterion, and the profiles across the
groups. Ladder: the steps' means against their nominal levels with the straight-line fit, and each
step's deviation from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from microscope_qc.report import Figure
from microscope_qc.report.labels import display_unit
from microscope_qc.report.labels_pattern_lines import PATTERN_LADDER_ENTRIES, PATTERN_LINES_ENTRIES
from microscope_qc.report.svg import Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.pattern.lines_result import LadderResult, LinePatternResult

__all__ = ["pattern_lines_figures", "pattern_ladder_figures"]

_KIND_COLOURS = {"lines": "#1b9e77", "unresolved": "#999999", "grating": "#7570b3", "line": "#d95f02"}


def _heading(entries: dict[str, tuple[str, str | None, str]], name: str) -> str:
    text, unit, _ = entries[name]
    shown = display_unit(unit)
    return f"{text} ({shown})" if shown else text


def pattern_lines_figures(result: LinePatternResult) -> Sequence[Figure]:
    """The report's figures of a line-pattern result.

    Parameters
    ----------
    result : LinePatternResult
        The analysis result.

    Returns
    -------
    list of Figure
        Contrast against spatial frequency; the profiles across the groups (up to 12).
    """
    if "groups" not in result.tables:
        return []
    g = result.tables["groups"]
    h = PATTERN_LINES_ENTRIES
    figures = []
    plot = Plot(900, 340)
    ax = plot.axes()
    for kind, label in (
        ("lines", "line groups"),
        ("unresolved", "unresolved groups"),
        ("grating", "gratings"),
    ):
        sel = g[(g["kind"] == kind) & np.isfinite(g["frequency_per_um"])]
        if not len(sel):
            continue
        colour = _KIND_COLOURS[kind]
        order = np.argsort(sel["frequency_per_um"].to_numpy())
        f = sel["frequency_per_um"].to_numpy()[order]
        c = sel["contrast"].to_numpy()[order]
        se = sel["contrast_se"].to_numpy()[order]
        if kind != "unresolved":
            ax.line(f, c, colour, 1.0)
            ax.errorbars(f, c, np.where(np.isfinite(se), se, 0.0), colour=colour)
        ax.markers(f, c, "o" if kind != "unresolved" else "x", colour=colour, label=label)
    dip = (
        float(result.settings["resolved_dip_percent"].value) / 100
        if "resolved_dip_percent" in result.settings
        else None
    )
    if dip is not None:
        # the Michelson contrast of a pair whose dip is exactly the criterion: C = d / (2 − d)
        ax.rule(
            dip / (2 - dip), axis="y", colour="#d95f02", width=1.2, dash="5,3", label="resolution criterion"
        )
    ax.set(
        title="Contrast against spatial frequency",
        xlabel=_heading(h, "frequency_per_um"),
        ylabel=_heading(h, "contrast"),
    )
    ax.legend()
    title = "Contrast transfer of the line groups and gratings"
    figures.append(
        Figure(
            title,
            plot.svg(title),
            "Michelson contrast (Imax − Imin)/(Imax + Imin) of each group, mean over its line pairs ± SE, against "
            "1 / spacing (the nominal spacing when matched). For sinusoidal gratings this is the modulation transfer "
            "function; for groups of lines the contrast transfer (square-wave response). Dashed: the contrast of a "
            "pair whose dip equals the resolution criterion.",
        )
    )
    profiles = result.tables.get("profiles")
    if profiles is not None and len(profiles):
        shown = g.sort_values("frequency_per_um", na_position="last").head(12)
        cols = 4
        rows = max(int(np.ceil(len(shown) / cols)), 1)
        plot = Plot(1000, 190 * rows, rows=rows, cols=cols)
        for k, (_, row) in enumerate(shown.iterrows()):
            p = profiles[profiles["group"] == row["group"]]
            a = plot.axes(k // cols, k % cols)
            a.line(p["u_um"], p["profile_mean"], _KIND_COLOURS.get(str(row["kind"]), "#333333"), 1.0)
            spacing = (
                row["nominal_spacing_um"] if np.isfinite(row["nominal_spacing_um"]) else row["spacing_um"]
            )
            name = f"{row['kind']}" + (f", {spacing:.3g} µm" if np.isfinite(spacing) else "")
            if np.isfinite(row["contrast"]) and row["kind"] != "line":
                name += f", C = {row['contrast']:.2f}"
            a.set(
                title=name,
                xlabel=_heading(h, "u_um"),
                ylabel=_heading(h, "profile_mean") if k % cols == 0 else None,
            )
        title = "Profiles across the groups"
        figures.append(
            Figure(
                title,
                plot.svg(title),
                "The profile across each group's lines: pixel values projected on the across-line axis and averaged "
                "in sub-pixel bins, the lines' ends left out; largest spacings first.",
            )
        )
    return figures


def pattern_ladder_figures(result: LadderResult) -> Sequence[Figure]:
    """The report's figures of a grey-level ladder result.

    Parameters
    ----------
    result : LadderResult
        The analysis result.

    Returns
    -------
    list of Figure
        The response (steps and the straight-line fit) and the deviations from linearity.
    """
    if "steps" not in result.tables:
        return []
    s = result.tables["steps"]
    h = PATTERN_LADDER_ENTRIES
    ok = (s["status"] == "ok").to_numpy()
    plot = Plot(900, 320, cols=2)
    ax = plot.axes(0, 0)
    x = s["nominal_level"].to_numpy()
    ax.errorbars(x[ok], s["mean"].to_numpy()[ok], s["sd"].to_numpy()[ok], colour="#1b9e77")
    ax.markers(x[ok], s["mean"].to_numpy()[ok], "o", colour="#1b9e77", label="step mean ± SD")
    if (~ok).any():
        ax.markers(x[~ok], s["mean"].to_numpy()[~ok], "x", colour="#d95f02", label="saturated / clipped")
    if "fit" in s:
        ax.line(x, s["fit"], "#333333", 1.2, label="straight line")
    ax.rule(
        float(2**result.bit_depth - 1), axis="y", colour="#d95f02", width=1.0, dash="5,3", label="full scale"
    )
    ax.set(title="Response", xlabel=_heading(h, "nominal_level"), ylabel=_heading(h, "mean"))
    ax.legend()
    ax2 = plot.axes(0, 1)
    if "deviation_percent" in s:
        dev = s["deviation_percent"].to_numpy()[ok]
        ax2.lines([([xi, xi], [0.0, di]) for xi, di in zip(x[ok], dev, strict=True)], "#7570b3", 2.0)
        ax2.markers(x[ok], dev, "o", colour="#7570b3")
        ax2.rule(0.0, axis="y", colour="#333333", width=0.8)
    ax2.set(
        title="Deviation from the line",
        xlabel=_heading(h, "nominal_level"),
        ylabel=_heading(h, "deviation_percent"),
    )
    title = "Grey-level ladder: response linearity"
    return [
        Figure(
            title,
            plot.svg(title),
            "Left: each step's mean intensity (± its pixels' SD) against its nominal level, with the weighted "
            "straight-line fit; steps at the full scale are left out of the fit. Right: each step's deviation from "
            "the line in % of the fitted range.",
        )
    ]

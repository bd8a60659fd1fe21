"""Figures and the corrections file of the pattern-slide report (SVG with :mod:`microscope_qc.report.svg`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from microscope_qc.report import Figure, write_json_export
from microscope_qc.report.labels import heading
from microscope_qc.report.svg import Axes, Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.pattern.result import PatternResult
    from microscope_qc.results import Result

__all__ = ["pattern_figures", "write_registration", "RESIDUAL_CLASSES"]

#: residual classes of the spot markers: (upper bound in µm, colour, label)
RESIDUAL_CLASSES = (
    (0.005, "#1b9e77", "< 5 nm"),
    (0.02, "#7570b3", "5–20 nm"),
    (0.1, "#d95f02", "20–100 nm"),
    (np.inf, "#e7298a", "≥ 100 nm"),
)


def _arrows(ax: Axes, x: Any, y: Any, u: Any, v: Any, colour: str) -> float:
    """Arrows exaggerated so that the longest spans a twelfth of the field; returns the factor."""
    x, y, u, v = (np.asarray(a, float) for a in (x, y, u, v))
    length = np.hypot(u, v)
    factor = max(float(np.ptp(x)), float(np.ptp(y)), 1e-6) / 12 / max(float(np.nanmax(length)), 1e-9)
    ax.arrows(x, y, u * factor, v * factor, colour=colour)
    ax.equal = True
    ax.y_down = True
    ax.set(xlabel=heading("pattern", "x_um"), ylabel=heading("pattern", "y_um"))
    return factor


def _map(ax: Axes, values: np.ndarray, extent: np.ndarray, cmap: str, title: str, unit_label: str) -> None:
    x0, x1, y0, y1 = (float(v) for v in extent)
    h, w = values.shape
    dx, dy = (x1 - x0) / max(w - 1, 1), (y1 - y0) / max(h - 1, 1)
    if not np.isfinite(values).any():
        ax.off("No spots to interpolate between")
        return
    scale = ax.image(values, cmap, (x0 - dx / 2, x1 + dx / 2, y0 - dy / 2, y1 + dy / 2), bad="#d9d9d9")
    ax.colourbar(scale, unit_label)
    ax.set(title=title, xlabel=heading("pattern", "x_um"), ylabel=heading("pattern", "y_um"))


def _channel_figures(result: PatternResult, c: int) -> list[Figure]:
    spots = result.spots
    on = spots[(spots.channel == c) & (spots.status == "on grid")]
    if on.empty:
        return []
    grid = result.grids[c]
    name = result.channel_names[c] if c < len(result.channel_names) else f"channel {c}"
    plot = Plot(1000, 470, cols=2)
    ax = plot.axes(0, 0)
    ax.markers(on.ideal_x_um, on.ideal_y_um, "+", colour="#bdbdbd", size=4, label="ideal grid")
    factor = _arrows(ax, on.x_um, on.y_um, on.distortion_x_um, on.distortion_y_um, "#333333")
    res = on.residual_um.to_numpy(float)
    lo = 0.0
    for hi, colour, text in RESIDUAL_CLASSES:
        sel = (res >= lo) & (res < hi)
        if sel.any():
            ax.markers(on.x_um[sel], on.y_um[sel], "o", colour=colour, size=3, label=f"residual {text}")
        lo = hi
    missing = result.tables["missing"]
    miss = missing[missing.channel == c]
    if not miss.empty:
        ax.markers(miss.x_um, miss.y_um, "x", colour="#e41a1c", size=6, label="missing")
    ax.set(title=f"Distortion vectors ×{factor:.0f}, spots by residual")
    ax.legend("lower right")
    ax2 = plot.axes(0, 1)
    extent = result.images.get("map_extent_um", np.array([0, 1, 0, 1]))
    model_map = result.images.get(f"distortion_model_map_{c}")
    if model_map is not None:
        _map(
            ax2,
            np.hypot(model_map[..., 0], model_map[..., 1]),
            extent,
            "viridis",
            f"Distortion of the {grid.kind} model",
            "Distortion (µm)",
        )
    else:
        ax2.off("No distortion map")
    d = result.metric("distortion_max_um", c)
    dp = result.metric("distortion_max_percent", c)
    caption = (
        f"{name}: largest distortion {1000 * d.value:.0f} nm ({dp.value:.2f} % of the half-diagonal); "
        f"grid model {grid.kind} (lowest BIC among {', '.join(sorted(grid.bic))}). Arrows: each spot's distance "
        "from the ideal (undistorted) grid, exaggerated by the factor in the title; grey crosses: the ideal grid."
    )
    title = f"Field distortion, {name}"
    figs = [Figure(title, plot.svg(title), caption)]
    plot2 = Plot(1000, 470, cols=2)
    for k, (key, cmap, what, unit) in enumerate(
        (
            ("fwhm", "magma", "Spot FWHM", "FWHM (µm)"),
            ("intensity", "viridis", "Spot intensity", "Intensity (counts)"),
        )
    ):
        values = result.images.get(f"{key}_map_{c}")
        axk = plot2.axes(0, k)
        if values is None:
            axk.off(f"No {what.lower()} map")
        else:
            _map(axk, values, extent, cmap, f"{what} over the field", unit)
    f = result.metric("fwhm_median_um", c)
    parts = [f"{name}: median spot FWHM {1000 * f.value:.0f} nm"]
    try:
        parts.append(f"uniformity U {result.metric('uniformity_percent', c).value:.0f} %")
    except KeyError:
        pass
    title2 = f"Resolution and uniformity maps, {name}"
    caption2 = "; ".join(parts) + ". Values interpolated linearly between the spots (grey: outside the grid)."
    figs.append(Figure(title2, plot2.svg(title2), caption2))
    return figs


def _pair_figures(result: PatternResult) -> list[Figure]:
    if "shifts" not in result.tables:
        return []
    figs = []
    shifts = result.tables["shifts"]
    for (i, j), model in result.models.items():
        sel = shifts[(shifts.channel_ref == i) & (shifts.channel_moving == j)]
        if sel.empty:
            continue
        plot = Plot(1000, 470, cols=2)
        ax = plot.axes(0, 0)
        f1 = _arrows(ax, sel.x_um, sel.y_um, sel.shift_x_um, sel.shift_y_um, "#d95f02")
        ax.set(title=f"Shifts ×{f1:.0f} (channel {i} → {j})")
        ax2 = plot.axes(0, 1)
        f2 = _arrows(ax2, sel.x_um, sel.y_um, sel.residual_x_um, sel.residual_y_um, "#1b9e77")
        ax2.set(title=f"Residuals after the {model.kind} model ×{f2:.0f}")
        rms = np.hypot(model.residual_rms_um.get("x", np.nan), model.residual_rms_um.get("y", np.nan))
        caption = (
            f"Channel {j} registered to channel {i} with the co-registration tool's {model.kind} model "
            f"({model.n_beads} spots); RMS residual {1000 * rms:.1f} nm. Arrows exaggerated by the factors in the titles."
        )
        title = f"Channel registration, channel {i} → {j}"
        figs.append(Figure(title, plot.svg(title), caption))
    return figs


def pattern_figures(result: Result) -> list[Figure]:
    """Draw the pattern report's figures.

    Parameters
    ----------
    result : Result
        The analysis result. For a field of rings (a PatternResult): per channel the distortion
        vectors (spots coloured by residual, the ideal grid, missing positions) with the model's
        distortion map, and the spot FWHM and intensity maps; per channel pair the shifts and the
        registration residuals. Line pairs and gratings, and a grey-level ladder: their own figures
        (:mod:`microscope_qc.report.pattern_lines`).

    Returns
    -------
    list of Figure
        The figures.
    """
    from microscope_qc.analysis.pattern.lines_result import LadderResult, LinePatternResult
    from microscope_qc.analysis.pattern.result import PatternResult
    from microscope_qc.report.pattern_lines import pattern_ladder_figures, pattern_lines_figures

    if isinstance(result, LinePatternResult):
        return list(pattern_lines_figures(result))
    if isinstance(result, LadderResult):
        return list(pattern_ladder_figures(result))
    if not isinstance(result, PatternResult):
        return []
    figs: list[Figure] = []
    for c in result.channels:
        figs += _channel_figures(result, c)
    return figs + _pair_figures(result)


def write_registration(result: PatternResult, path: str | Path, overwrite: bool = False) -> Path:
    """Write the corrections as ``registration.json`` (format version 2, with napari affines).

    Parameters
    ----------
    result : PatternResult
        The analysis result.
    path : str or Path
        The JSON file to write.
    overwrite : bool
        Replace an existing file; it is never overwritten silently.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ExportExistsError
        If the file exists and ``overwrite`` is False.
    """
    doc = result.registration_document()
    doc["napari_affine_yx"] = {
        str(c): {
            "to_reference": result.napari_affine(c, "reference").tolist(),
            "to_slide": result.napari_affine(c, "slide").tolist(),
        }
        for c in result.channels
        if c == result.reference_channel or (result.reference_channel, c) in result.models
    }
    return write_json_export(path, doc, overwrite)

"""Report figures of the detector measurement (EMVA 1288 mode; the other modes in :mod:`.detector_modes`).

Drawn from the result's tables (``photon_transfer``: one row per exposure level with the fits'
model values and which rows they used), its fit ranges and its ``images`` (the DSNU and PRNU
maps), as inline SVG with :mod:`microscope_qc.report.svg`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from microscope_qc.report import Figure
from microscope_qc.report.detector_modes import (
    cv_figures,
    dark_figures,
    map_panel,
    noisee_figures,
    single_scene_figures,
)
from microscope_qc.report.labels import display_unit, heading
from microscope_qc.report.svg import Plot

if TYPE_CHECKING:
    import pandas as pd

    from microscope_qc.analysis.detector import DetectorResult

__all__ = ["detector_figures"]

DATA, FIT, IDEAL, SHADE, SATURATION = "#333333", "#d95f02", "#1b9e77", "#7570b3", "#e7298a"


def _h(name: str) -> str:
    return heading("detector", name)


def _col(table: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    return np.asarray(table[name], dtype=np.float64)


def _metric(result: DetectorResult, name: str) -> float:
    """A metric's value, NaN when the result does not hold it."""
    for m in result.metrics:
        if m.name == name and isinstance(m.value, (int, float)):
            return float(m.value)
    return math.nan


def detector_figures(result: DetectorResult) -> Sequence[Figure]:
    """The report's figures of a detector result, by mode.

    Parameters
    ----------
    result : DetectorResult
        The result.

    Returns
    -------
    list of Figure
        EMVA: photon transfer, SNR, linearity, DSNU/PRNU maps and their profiles; dark: noise
        and offset maps, per-pixel histograms with the warm/cold thresholds; single-scene: the
        binned photon-transfer curve; cv: CV per ROI; noisee: SNR per frame or bead, kymograph.
    """
    if result.mode == "emva":
        return _emva_figures(result)
    if result.mode == "dark":
        return dark_figures(result)
    if result.mode == "single-scene":
        return single_scene_figures(result)
    if result.mode == "cv":
        return cv_figures(result)
    if result.mode == "noisee":
        return noisee_figures(result)
    return []


def _emva_figures(result: DetectorResult) -> list[Figure]:
    table = result.tables.get("photon_transfer")
    if table is None or len(table) == 0:
        return []
    figs = [_ptc_figure(result, table), _snr_figure(result, table)]
    if "linearity_fit_dn" in table and np.isfinite(_col(table, "linearity_fit_dn")).any():
        figs.append(_linearity_figure(result, table))
    maps = [k for k in ("dsnu_map", "prnu_map") if k in result.images]
    if maps:
        figs.append(_maps_figure(result))
        figs.append(_profiles_figure(result))
    return figs


def _ptc_figure(result: DetectorResult, table: pd.DataFrame) -> Figure:
    plot = Plot(620, 340)
    ax = plot.axes()
    x, y = _col(table, "signal_dn"), _col(table, "variance_dn2")
    low, high = result.fit_ranges.get("gain", (math.nan, math.nan))
    if math.isfinite(low) and math.isfinite(high):
        ax.span(low, high, colour=SHADE, alpha=0.12, label="gain fit range")
    used = np.asarray(table["in_gain_fit"], dtype=bool)
    ax.markers(x[used], y[used], "o", colour=DATA, size=5.0, label="in the fit", css="series ptc-fit")
    ax.markers(x[~used], y[~used], "o", colour=DATA, fill="none", size=5.0, label="not in the fit")
    order = np.argsort(x)
    ax.line(x[order], _col(table, "variance_model_dn2")[order], FIT, 1.4, label="fit: σ²_d + K·signal")
    sat = _metric(result, "saturation_signal_dn")
    if math.isfinite(sat):
        ax.rule(sat, "x", colour=SATURATION, width=1.2, dash="5,3", label="saturation")
    gain = result.fits.get("gain", {}).get("slope", math.nan)
    ax.set(
        title=f"Photon transfer: K = {gain:.4g} DN/e⁻",
        xlabel=_h("signal_dn"),
        ylabel=_h("variance_dn2"),
    )
    ax.legend("upper left")
    title = "Photon-transfer curve"
    return Figure(
        title,
        plot.svg(title),
        "Temporal variance against the mean signal above dark (EMVA 1288). The system gain K is the slope of the "
        "line through the dark variance, fitted on the filled points (shaded range); the dashed line marks the "
        "saturation signal, where the variance peaks.",
    )


def _snr_figure(result: DetectorResult, table: pd.DataFrame) -> Figure:
    plot = Plot(620, 340)
    ax = plot.axes()
    sat = _metric(result, "saturation_signal_dn")
    if math.isfinite(sat):  # beyond saturation the variance collapses and the SNR means nothing
        table = table[_col(table, "signal_dn") <= sat * (1 + 1e-9)]
    photons = _col(table, "photons")
    use_photons = bool(np.isfinite(photons).all() and (photons > 0).any())
    x = photons if use_photons else _col(table, "signal_e")
    order = np.argsort(x)
    ax.markers(x, _col(table, "snr"), "o", colour=DATA, size=5.0, label="measured", css="series snr")
    ax.line(x[order], _col(table, "snr_model")[order], FIT, 1.4, label="EMVA model")
    ideal = np.sqrt(np.clip(x[order], 0, None))
    ax.line(
        x[order], ideal, IDEAL, 1.2, dash="5,3", label="ideal: √photons" if use_photons else "shot noise only"
    )
    ax.log(True, True)
    ax.set(
        title="Signal-to-noise ratio",
        xlabel=_h("photons") if use_photons else _h("signal_e"),
        ylabel=_h("snr"),
    )
    ax.legend("upper left")
    title = "SNR curve"
    what = "photons per pixel" if use_photons else "signal in electrons (no photon counts given)"
    return Figure(
        title,
        plot.svg(title),
        f"SNR against {what}, log–log: measured points, the EMVA 1288 model from the fitted gain and dark noise, "
        "and the ideal sensor's SNR (shot noise only); levels beyond the saturation signal are left out.",
    )


def _linearity_figure(result: DetectorResult, table: pd.DataFrame) -> Figure:
    photons = _col(table, "photons")
    use_photons = bool(np.isfinite(photons).all() and (photons > 0).any())
    x = photons if use_photons else _col(table, "exposure_ms")
    xlabel = _h("photons") if use_photons else _h("exposure_ms")
    used = np.asarray(table["in_linearity_fit"], dtype=bool)
    order = np.argsort(x)
    plot = Plot(1000, 330, cols=2)
    ax = plot.axes(0, 0)
    y = _col(table, "signal_dn")
    ax.markers(x[used], y[used], "o", colour=DATA, size=5.0, label="in the fit", css="series linearity")
    ax.markers(x[~used], y[~used], "o", colour=DATA, fill="none", size=5.0, label="not in the fit")
    ax.line(x[order], _col(table, "linearity_fit_dn")[order], FIT, 1.4, label="linear fit")
    ax.set(title="Response", xlabel=xlabel, ylabel=_h("signal_dn"))
    ax.legend("upper left")
    ax2 = plot.axes(0, 1)
    low, high = result.fit_ranges.get("linearity", (math.nan, math.nan))
    le = _col(table, "linearity_error_percent")
    ax2.rule(0.0, "y", colour="#999999", width=0.8)
    fit_order = order[used[order]]  # LE is defined on the fit range: saturated levels would swamp it
    ax2.line(x[fit_order], le[fit_order], DATA, 1.0, css="series le")
    ax2.markers(x[used], le[used], "o", colour=DATA, size=5.0, css="series le-points")
    ax2.set(title="Deviation from the linear fit (LE)", xlabel=xlabel, ylabel=_h("linearity_error_percent"))
    title = "Linearity"
    rng = (
        f" between {low:.4g} and {high:.4g} DN above dark"
        if math.isfinite(low) and math.isfinite(high)
        else ""
    )
    return Figure(
        title,
        plot.svg(title),
        f"Mean signal above dark against {'photons per pixel' if use_photons else 'exposure time'}, with the line "
        f"fitted on the filled points{rng} (EMVA 1288 linearity range); right: the relative deviation of every "
        "level of the fit range from the line.",
    )


def _maps_figure(result: DetectorResult) -> Figure:
    dsnu, prnu = result.images.get("dsnu_map"), result.images.get("prnu_map")
    h, w = (dsnu if dsnu is not None else prnu).shape  # type: ignore[union-attr]
    plot = Plot(1000, 320 * min(1.4, max(0.5, h / w)) + 75, cols=2)
    panels: list[tuple[npt.NDArray[Any] | None, str, str, float]] = [
        (dsnu, "DSNU: dark image − its mean", f"Dark offset deviation ({display_unit('DN')})", 1.0),
        (prnu, "PRNU: bright / its mean − 1", f"Response deviation ({display_unit('percent')})", 100.0),
    ]
    for col, (values, name, unit, factor) in enumerate(panels):
        ax = plot.axes(0, col)
        if values is None:
            ax.off("No map")
            continue
        map_panel(ax, np.asarray(values, dtype=np.float64) * factor, "RdBu_r", unit, symmetric=True)
        ax.set(title=name)
    title = "DSNU and PRNU maps"
    return Figure(
        title,
        plot.svg(title),
        "Spatial non-uniformity of the averaged dark frames (DSNU) and of the dark-corrected bright frames "
        "(PRNU); colour ranges symmetric about zero, clipped at the 99.5th percentile of |value|.",
    )


def _profiles_figure(result: DetectorResult) -> Figure:
    plot = Plot(1000, 300, cols=2)
    specs = (
        ("dsnu_map", 1.0, f"Mean offset deviation ({display_unit('DN')})", "DSNU profiles"),
        ("prnu_map", 100.0, f"Mean response deviation ({display_unit('percent')})", "PRNU profiles"),
    )
    for col, (key, factor, ylabel, name) in enumerate(specs):
        ax = plot.axes(0, col)
        values = result.images.get(key)
        if values is None:
            ax.off("No map")
            continue
        v = np.asarray(values, dtype=np.float64) * factor
        rows, cols = np.nanmean(v, axis=1), np.nanmean(v, axis=0)
        ax.line(np.arange(rows.size), rows, "#1f78b4", 1.2, label="row means (along y)", css="series rows")
        ax.line(np.arange(cols.size), cols, FIT, 1.2, label="column means (along x)", css="series columns")
        ax.set(title=name, xlabel=f"Row or column index ({display_unit('px')})", ylabel=ylabel)
        ax.legend()
    title = "DSNU and PRNU row and column profiles"
    return Figure(
        title,
        plot.svg(title),
        "Mean of every row and of every column of the DSNU and PRNU maps: stripes and gradients of the "
        "row/column part of the non-uniformity.",
    )

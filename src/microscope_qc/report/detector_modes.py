"""Report figures of the detector's dark, single-scene, cv and NoiSee modes (EMVA in :mod:`.detector`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from microscope_qc.report import Figure
from microscope_qc.report.labels import display_unit, heading
from microscope_qc.report.svg import Axes, Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.detector import DetectorResult
    from microscope_qc.report.svg import ColourScale

__all__ = ["map_panel", "dark_figures", "single_scene_figures", "cv_figures", "noisee_figures"]

DATA, FIT, WARM, COLD, HOT = "#333333", "#d95f02", "#e6550d", "#3182bd", "#d62728"
_PX = display_unit("px")


def _h(name: str) -> str:
    return heading("detector", name)


def map_panel(
    ax: Axes, values: npt.NDArray[Any], cmap: str, unit: str, symmetric: bool = False
) -> ColourScale:
    """An image panel of a per-pixel map with its colour bar; the range is the 0.5–99.5th percentile.

    Parameters
    ----------
    ax : Axes
        The panel.
    values : numpy.ndarray
        (rows, columns) values.
    cmap : str
        Colour map.
    unit : str
        The colour bar's label (with the unit).
    symmetric : bool
        Range symmetric about zero (for deviations).

    Returns
    -------
    ColourScale
        The scale drawn.
    """
    finite = values[np.isfinite(values)]
    if symmetric:
        lim = float(np.percentile(np.abs(finite), 99.5)) if finite.size else 1.0
        lo, hi = -(lim or 1.0), lim or 1.0
    else:
        lo, hi = (float(np.percentile(finite, p)) for p in (0.5, 99.5)) if finite.size else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1.0
    scale = ax.image(values, cmap, vmin=lo, vmax=hi)
    ax.colourbar(scale, unit)
    ax.set(xlabel=f"x ({_PX})", ylabel=f"y ({_PX})")
    return scale


def _setting(result: DetectorResult, name: str, default: float) -> float:
    s = result.settings.get(name)
    value = getattr(s, "value", None)
    return float(value) if isinstance(value, (int, float)) else default


def dark_figures(result: DetectorResult) -> list[Figure]:
    """Dark mode: the noise and offset maps, and per-pixel histograms with the warm/cold thresholds."""
    noise, mean = result.images.get("noise_map"), result.images.get("mean_dark")
    if noise is None or mean is None:
        return []
    noise_v, mean_v = np.asarray(noise, dtype=np.float64), np.asarray(mean, dtype=np.float64)
    h, w = noise_v.shape
    plot = Plot(1000, 320 * min(1.4, max(0.5, h / w)) + 75, cols=2)
    ax = plot.axes(0, 0)
    map_panel(ax, noise_v, "viridis", _h("noise_dn"))
    ax.set(title="Temporal noise per pixel")
    ax2 = plot.axes(0, 1)
    map_panel(ax2, mean_v, "gray", f"Mean dark level ({display_unit('DN')})")
    ax2.set(title="Offset (mean dark) per pixel")
    title = "Dark noise and offset maps"
    figs = [
        Figure(
            title,
            plot.svg(title),
            "Per-pixel temporal SD and mean of the dark stack; colour ranges from the 0.5th to the 99.5th percentile.",
        )
    ]
    offset = float(np.nanmean(mean_v))
    frac = _setting(result, "warm_cold_percent", 20.0) / 100.0
    hot = result.images.get("hot_pixels")
    n_hot = int(np.count_nonzero(hot)) if hot is not None else 0
    plot = Plot(1000, 300, cols=2)
    ax = plot.axes(0, 0)
    ax.histogram(mean_v, 60, colour="#7570b3", label="pixels", css="series offset-histogram")
    ax.rule((1 + frac) * offset, "x", colour=WARM, width=1.2, dash="5,3", label=f"warm: +{100 * frac:g} %")
    ax.rule((1 - frac) * offset, "x", colour=COLD, width=1.2, dash="5,3", label=f"cold: −{100 * frac:g} %")
    ax.set(
        title=f"Mean dark level per pixel ({n_hot} hot, saturated)",
        xlabel=f"Mean dark level ({display_unit('DN')})",
        ylabel="Pixels",
    )
    ax.legend()
    ax2 = plot.axes(0, 1)
    ax2.histogram(noise_v, 60, colour="#1b9e77", label="pixels", css="series noise-histogram")
    median = float(np.nanmedian(noise_v))
    ax2.rule(median, "x", colour=FIT, width=1.2, label=f"median {median:.3g} DN")
    ax2.set(title="Temporal noise per pixel", xlabel=_h("noise_dn"), ylabel="Pixels")
    ax2.legend()
    title = "Dark-pixel histograms"
    figs.append(
        Figure(
            title,
            plot.svg(title),
            "Left: mean dark level of every pixel; a pixel is warm (cold) beyond the dashed lines, "
            f"{100 * frac:g} % above (below) the frame mean (MetroloJ_QC); hot pixels are saturated in most frames. "
            "Right: the temporal noise of every pixel and its median.",
        )
    )
    return figs


def single_scene_figures(result: DetectorResult) -> list[Figure]:
    """Single-scene mode: the binned photon-transfer curve with the re-weighted fit."""
    ptc = result.tables.get("photon_transfer")
    if ptc is None or len(ptc) == 0:
        return []
    x = np.asarray(ptc["mean_dn"], dtype=np.float64)
    y = np.asarray(ptc["variance_dn2"], dtype=np.float64)
    order = np.argsort(x)
    excluded = result.images.get("excluded_pixels")
    n_ex = int(np.count_nonzero(excluded)) if excluded is not None else 0
    plot = Plot(620, 340)
    ax = plot.axes()
    if "variance_se_dn2" in ptc:
        ax.errorbars(x, y, np.asarray(ptc["variance_se_dn2"], dtype=np.float64), colour="#999999")
    ax.markers(
        x, y, "o", colour=DATA, size=5.0, label=f"bins ({n_ex} pixels excluded)", css="series ptc-bins"
    )
    ax.line(
        x[order],
        np.asarray(ptc["variance_model_dn2"], dtype=np.float64)[order],
        FIT,
        1.4,
        label="weighted fit",
    )
    fit = result.fits.get("ptc", {})
    slope, intercept = fit.get("slope", math.nan), fit.get("intercept", math.nan)
    ax.set(
        title=f"Binned photon transfer: slope {slope:.4g} DN/e⁻, intercept {intercept:.4g} DN²",
        xlabel=_h("mean_dn"),
        ylabel=_h("variance_dn2"),
    )
    ax.legend("upper left")
    title = "Single-scene photon-transfer curve"
    return [
        Figure(
            title,
            plot.svg(title),
            "Pixels binned by their mean; every bin's temporal variance (± its standard error) against its mean, "
            f"with the re-weighted straight-line fit (QUAREP single-scene method). {n_ex} pixel(s) were excluded "
            "(hot, cold or noisiest).",
        )
    ]


def cv_figures(result: DetectorResult) -> list[Figure]:
    """CV mode: a bar of the coefficient of variation per ROI and frame."""
    cv = result.tables.get("cv")
    if cv is None or len(cv) == 0:
        return []
    values = np.asarray(cv["cv_percent"], dtype=np.float64)
    n = values.size
    plot = Plot(min(1000, 300 + 50 * n), 320)
    ax = plot.axes()
    ax.bars(np.arange(n), values, 0.7, colour="#7570b3", css="series cv")
    if "cv_se_percent" in cv:
        ax.errorbars(np.arange(n), values, np.asarray(cv["cv_se_percent"], dtype=np.float64), colour=DATA)
    ax.set(
        title="Coefficient of variation per ROI",
        xlabel="ROI (index, frame by frame)",
        ylabel=_h("cv_percent"),
    )
    title = "CV per ROI"
    return [
        Figure(
            title,
            plot.svg(title),
            "MetroloJ_QC coefficient of variation (SD / mean) of every ROI of every frame, with its standard error.",
        )
    ]


def noisee_figures(result: DetectorResult) -> list[Figure]:
    """NoiSee mode: SNR per frame, or per bead with a kymograph of the brightest bead."""
    beads = result.tables.get("beads")
    table = beads if beads is not None and len(beads) else result.tables.get("noisee")
    if table is None or len(table) == 0:
        return []
    per_bead = table is beads
    key = "bead" if per_bead else "frame"
    x = np.asarray(table[key], dtype=np.float64) if key in table else np.arange(len(table), dtype=np.float64)
    snr = np.asarray(table["snr"], dtype=np.float64)
    kymos = result.images.get("kymographs")
    cols = 2 if per_bead and kymos is not None and len(kymos) else 1
    plot = Plot(500 * cols, 320, cols=cols)
    ax = plot.axes(0, 0)
    ax.markers(x, snr, "o", colour=DATA, size=6.0, label="SNR", css="series snr")
    if x.size:
        ax.xlim = (float(np.nanmin(x)) - 0.5, float(np.nanmax(x)) + 0.5)
    ax.set(
        title="SNR per bead" if per_bead else "SNR per frame (NoiSee)",
        xlabel=f"{'Bead' if per_bead else 'Frame'} (index)",
        ylabel=_h("snr"),
    )
    caption = "NoiSee signal-to-noise ratio (signal above dark / noise) of every " + (
        "bead." if per_bead else "frame."
    )
    if cols == 2 and kymos is not None:
        best = int(np.nanargmax(snr))
        kymo = np.asarray(kymos[best], dtype=np.float64)
        ax2 = plot.axes(0, 1)
        half = (kymo.shape[1] - 1) / 2
        scale = ax2.image(kymo, "gray", (-half - 0.5, half + 0.5, -0.5, kymo.shape[0] - 0.5), equal=False)
        ax2.colourbar(scale, f"Intensity ({display_unit('DN')})")
        ax2.set(title=f"Kymograph of bead {best}", xlabel=f"x from the bead ({_PX})", ylabel="Frame (index)")
        caption += " Right: x through the brightest-SNR bead's maximum over time (drift shows as a slant)."
    title = "NoiSee SNR"
    return [Figure(title, plot.svg(title), caption)]

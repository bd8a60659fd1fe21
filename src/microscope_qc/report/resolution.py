"""Report figures of the resolution measurement: the FRC curve with its thresholds, the decorrelation curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from microscope_qc.report import Figure
from microscope_qc.report.labels import heading
from microscope_qc.report.svg import Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.resolution import ResolutionResult

__all__ = ["resolution_figures"]

_WIDE = 820


def _resolution_text(result: ResolutionResult) -> str:
    names = {m.name: m.value for m in result.metrics}
    if "resolution_um" not in names:
        return "no resolution found"
    return f"resolution {names['resolution_um']:.3f} µm ({names['resolution_px']:.2f} px)"


def _frc(result: ResolutionResult) -> Figure:
    t = result.tables["curve"]
    plot = Plot(_WIDE, 340)
    ax = plot.axes(0, 0)
    f = t["frequency_per_um"].to_numpy()
    if "frc_split" in t:
        ax.line(f, t["frc_split"], "#999999", 1.0, label="FRC of the two halves")
    ax.line(f, t["frc"], "#1b9e77", 1.6, label="FRC")
    ax.line(f, t["threshold_1_7"], "#d95f02", 1.2, dash="5,3", label="1/7")
    ax.line(f, t["threshold_half_bit"], "#7570b3", 1.2, dash="2,2", label="half-bit")
    cut = next((m.value for m in result.metrics if m.name == "cutoff_frequency_per_um"), None)
    if cut is not None:
        ax.rule(cut, colour="#111111", width=1.0, label=f"cut-off {cut:.3g} µm⁻¹")
    ax.set(xlabel=heading("resolution", "frequency_per_um"), ylabel="Correlation")
    ax.legend("upper right")
    title = "Fourier ring correlation"
    split = (
        " of one image split photon by photon (half-data corrected)" if result.method == "frc-split" else ""
    )
    return Figure(
        title,
        plot.svg(title),
        f"FRC{split} against spatial frequency, with the 1/7 and half-bit thresholds; {_resolution_text(result)}.",
    )


def _decorrelation(result: ResolutionResult) -> Figure:
    t = result.tables["curve"]
    peaks = result.tables["peaks"]
    plot = Plot(_WIDE, 340)
    ax = plot.axes(0, 0)
    paths = []
    for c, rows in t.groupby("curve"):
        if c == 0:
            continue
        order = np.argsort(rows["radius_normalised"].to_numpy())
        paths.append((rows["radius_normalised"].to_numpy()[order], rows["d"].to_numpy()[order]))
    if paths:
        ax.lines(paths, "#999999", 0.8, label="high-pass filtered")
    d0 = t[t["curve"] == 0]
    ax.line(d0["radius_normalised"], d0["d"], "#1b9e77", 1.8, label="unfiltered d₀")
    ok = peaks[peaks["kc"] > 0]
    if len(ok):
        ax.markers(ok["kc"], ok["amplitude"], "o", colour="#d95f02", label="peaks")
        ax.rule(float(ok["kc"].max()), colour="#111111", width=1.0, label=f"k_c max {ok['kc'].max():.3f}")
    ax.set(xlabel="Normalised frequency (Nyquist = 1)", ylabel=heading("resolution", "d"))
    ax.legend("upper right")
    title = "Decorrelation analysis"
    return Figure(
        title,
        plot.svg(title),
        "Decorrelation functions d(r) of the image (green) and of its high-pass filtered versions (grey), their "
        f"peaks; resolution = 2·pixel/k_c max: {_resolution_text(result)}.",
    )


def resolution_figures(result: ResolutionResult) -> Sequence[Figure]:
    """The report's figures of a resolution result.

    Parameters
    ----------
    result : ResolutionResult
        The analysis result.

    Returns
    -------
    list of Figure
        The FRC curve with its thresholds, or the decorrelation curves with their peaks.
    """
    if "curve" not in result.tables:
        return []
    return [_decorrelation(result) if result.method == "decorrelation" else _frc(result)]

"""Report figures of the image-quality measurement: the histogram with the detector's range, the checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from microscope_qc.report import Figure
from microscope_qc.report.svg import Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.image_quality import ImageQualityResult

__all__ = ["image_quality_figures"]


def image_quality_figures(result: ImageQualityResult) -> Sequence[Figure]:
    """The report's figure of an image-quality result: each check's value against its limit.

    Parameters
    ----------
    result : ImageQualityResult
        The analysis result.

    Returns
    -------
    list of Figure
        One figure: every check's value over its limit (≤ 1 passes for "≤" checks, ≥ 1 for "≥").
    """
    if "checks" not in result.tables:
        return []
    c = result.tables["checks"]
    plot = Plot(820, 300)
    ax = plot.axes(0, 0)
    x = list(range(len(c)))
    ratio = [v / lim if lim else float("nan") for v, lim in zip(c["value"], c["limit"], strict=True)]
    ok = c["passed"].to_numpy()
    ax.markers([i for i, p in zip(x, ok, strict=True) if p], [r for r, p in zip(ratio, ok, strict=True) if p], "o",
               colour="#1b9e77", label="passed")  # fmt: skip
    ax.markers([i for i, p in zip(x, ok, strict=True) if not p], [r for r, p in zip(ratio, ok, strict=True) if not p],
               "x", colour="#d95f02", label="failed")  # fmt: skip
    ax.rule(1.0, axis="y", colour="#111111", width=1.0, dash="4,3", label="limit")
    ax.texts(
        x, ratio, [f"{name} ({cmp} limit)" for name, cmp in zip(c["check"], c["comparison"], strict=True)]
    )
    ax.set(xlabel="Check", ylabel="Value / limit")
    ax.legend("upper right")
    title = "Image-quality checks"
    rating = next((m.value for m in result.metrics if m.name == "quality_rating"), float("nan"))
    figures = [
        Figure(
            title,
            plot.svg(title),
            f"Each check's value over its limit (bit depth {result.bit_depth}); rating {rating:.0f} % (weighted share "
            "of the checks passed).",
        )
    ]
    if "bleaching" in result.tables:
        figures.append(_bleaching_figure(result))
    return figures


def _bleaching_figure(result: ImageQualityResult) -> Figure:
    """The signal above background per frame with the fitted exponential decay."""
    t = result.tables["bleaching"]
    x_name = "time_s" if "time_s" in t.columns else "frame"
    x = t[x_name].to_numpy(float)
    plot = Plot(820, 300)
    ax = plot.axes(0, 0)
    ax.markers(x, t["signal"].to_numpy(float), "o", colour="#333333", label="signal above background")
    ax.line(x, t["fit"].to_numpy(float), "#d95f02", label="A·exp(−k·frame)")
    ax.set(xlabel="Time (s)" if x_name == "time_s" else "Frame", ylabel="Signal (counts)")
    ax.legend("upper right")
    m = {x.name: x for x in result.metrics}
    lost = m["bleached_percent"].value
    half = m.get("bleaching_half_life_frames")
    caption = (
        f"Mean of the signal region minus the background region per frame; {lost:.1f} % lost over the series"
    )
    if half is not None and half.uncertainty is not None:
        caption += f", half-life {half.value:.3g} ± {half.uncertainty:.2g} frames"
    title = "Bleaching"
    return Figure(title, plot.svg(title), caption + ".")

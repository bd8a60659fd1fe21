"""Report figures of the mirror measurement: the ROI-averaged profile with its fit, the FWHM per band."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from microscope_qc.report import Figure
from microscope_qc.report.labels import heading
from microscope_qc.report.svg import Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.mirror import MirrorResult

__all__ = ["mirror_figures"]


def mirror_figures(result: MirrorResult) -> Sequence[Figure]:
    """The report's figures of a mirror result.

    Parameters
    ----------
    result : MirrorResult
        The analysis result.

    Returns
    -------
    list of Figure
        The ROI-averaged profile with its Gaussian fit, and the axial FWHM per column band.
    """
    if "profile" not in result.tables:
        return []
    p = result.tables["profile"]
    b = result.tables["bands"]
    plot = Plot(900, 320, cols=2)
    ax = plot.axes(0, 0)
    ax.markers(p["z_um"], p["intensity"], "o", colour="#333333", label="profile")
    ax.line(p["z_um"], p["fit"], "#d95f02", 1.5, label="Gaussian fit")
    ax.set(
        title="ROI-averaged profile (MetroloJ)",
        xlabel=heading("mirror", "z_um"),
        ylabel=heading("mirror", "intensity"),
    )
    ax.legend()
    ax2 = plot.axes(0, 1)
    use_um = bool(np.isfinite(b["x_um"]).any())
    x = b["x_um"] if use_um else (b["x_start_px"] + b["x_end_px"] - 1) / 2.0
    ok = b["status"] == "ok"
    ax2.errorbars(x[ok], b["fwhm_um"][ok], b["fwhm_se_um"][ok], colour="#1b9e77")
    ax2.markers(x[ok], b["fwhm_um"][ok], "o", colour="#1b9e77", label="band FWHM ± SE")
    if (~ok).any():
        ax2.markers(x[~ok], b["fwhm_um"][~ok], "x", colour="#999999", label="left out")
    metric = {m.name: m.value for m in result.metrics}
    if "fwhm_z_um" in metric:
        ax2.rule(metric["fwhm_z_um"], axis="y", colour="#d95f02", width=1.2, label="MetroloJ (ROI)")
    if "theory_fwhm_z_um" in metric:
        ax2.rule(
            metric["theory_fwhm_z_um"], axis="y", colour="#7570b3", width=1.2, dash="5,3", label="theory"
        )
    ax2.set(
        title="Axial FWHM across the field",
        xlabel=heading("mirror", "x_um") if use_um else "Band centre x (px)",
        ylabel=heading("mirror", "fwhm_um"),
    )
    ax2.legend()
    title = "Axial resolution from the mirror"
    return [
        Figure(
            title,
            plot.svg(title),
            "Left: the profile averaged over the ROI and its Gaussian fit (MetroloJ's axial-resolution tool). Right: "
            "the FWHM of each column band with its fit standard error; dashed: confocal reflection theory.",
        )
    ]

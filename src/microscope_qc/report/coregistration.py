"""Figures and the model file of the co-registration report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from microscope_qc.report import Figure, write_json_export
from microscope_qc.report.labels import heading, label
from microscope_qc.report.svg import Axes, Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.coregistration.result import CoregistrationResult

__all__ = ["coregistration_figures", "write_models"]


def _arrows(ax: Axes, x: pd.Series, y: pd.Series, u: pd.Series, v: pd.Series, colour: str) -> float:
    """Draw shift arrows exaggerated so the longest spans a tenth of the field; returns the factor."""
    length = np.hypot(u, v)
    factor = 0.1 * max(float(np.ptp(x)), float(np.ptp(y)), 1e-6) / max(float(length.max()), 1e-9)
    ax.arrows(x, y, u * factor, v * factor, colour=colour)
    ax.equal = True  # equal units on both axes, y downwards as in the image
    ax.y_down = True
    ax.set(xlabel=heading("coregistration", "x_um"))
    return factor


def coregistration_figures(result: CoregistrationResult) -> list[Figure]:
    """Draw the co-registration report's figures.

    Parameters
    ----------
    result : CoregistrationResult
        The analysis result.

    Returns
    -------
    list of Figure
        For every channel pair with matched beads: the shift vectors and, when a model was
        fitted, its residuals.
    """
    figs: list[Figure] = []
    shifts = result.tables["shifts"]
    pairs = result.tables["pairs"]
    for _, pair in pairs.iterrows():
        i, j = int(pair.channel_ref), int(pair.channel_moving)
        sel = shifts[(shifts.channel_ref == i) & (shifts.channel_moving == j)]
        if sel.empty:
            continue
        plot = Plot(1000, 470, cols=2)
        ax = plot.axes(0, 0)
        scale = _arrows(ax, sel.x_um, sel.y_um, sel.shift_x_um, sel.shift_y_um, "#d95f02")
        ax.set(
            ylabel=heading("coregistration", "y_um"), title=f"Lateral shifts ×{scale:.0f} (channel {i} → {j})"
        )
        ax2 = plot.axes(0, 1)
        if sel.residual_x_um.notna().any():
            rs = _arrows(ax2, sel.x_um, sel.y_um, sel.residual_x_um, sel.residual_y_um, "#1b9e77")
            ax2.set(
                ylabel=heading("coregistration", "y_um"),
                title=f"Residuals after the {pair.get('model', '')} model ×{rs:.0f}",
            )
        else:
            ax2.off("No registration model fitted: no residuals")
        caption = (
            f"Mean shift ({pair.shift_x_um * 1000:.1f}, {pair.shift_y_um * 1000:.1f}, {pair.shift_z_um * 1000:.1f}) nm, "
            f"{label('coregistration', 'n_matched').text.lower()}: {int(pair.n_matched)}. "
            "Arrows are exaggerated by the factor in the title."
        )
        title = f"Shift vectors, channel {i} → {j}"
        figs.append(Figure(title, plot.svg(title), caption))
    return figs


def write_models(result: CoregistrationResult, path: str | Path, overwrite: bool = False) -> Path:
    """Write every pair's registration model as JSON (``registration.json``).

    Parameters
    ----------
    result : CoregistrationResult
        The analysis result holding the models.
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
    return write_json_export(path, result.models_document(), overwrite)

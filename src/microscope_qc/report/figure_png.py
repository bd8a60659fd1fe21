"""matplotlib figures as PNG, for the QC-history period report (HTML and PDF) only.

The measurement reports draw their figures as SVG with :mod:`microscope_qc.report.svg` and do
not import matplotlib; the period report, which also writes a PDF with matplotlib, uses this.
"""

from __future__ import annotations

import io as _io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["figure_to_png"]


def figure_to_png(fig: MplFigure, dpi: int = 90) -> bytes:
    """Lay out a matplotlib Figure (tight layout) and render it as PNG with the Agg renderer, drawing it once.

    A figure with a layout engine of its own (e.g. ``layout="constrained"``) is left to it; it is
    then drawn twice, once to lay it out. The former ``bbox_inches="tight"`` pass, which drew every
    figure a second time, is gone: the tight layout keeps the labels inside the figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, created with ``matplotlib.figure.Figure`` (no pyplot state, no GUI backend).
    dpi : int
        Resolution.

    Returns
    -------
    bytes
        The PNG file's bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # the non-interactive renderer, whatever backend matplotlib is set to
    if fig.get_layout_engine() is None:
        fig.tight_layout()
        # tight_layout leaves a placeholder engine, for which savefig would draw the figure once
        # more (drawing nothing) before drawing it
        fig.set_layout_engine(None)
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()

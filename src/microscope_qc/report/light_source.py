"""Report figures of the light-source measurement.

Figures follow: the report's figure plumbing is being replaced (SVG), and this measurement's
figures will be drawn on it from the result's tables, which hold everything a plot needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from microscope_qc.analysis.light_source import LightSourceResult
    from microscope_qc.report import Figure

__all__ = ["light_source_figures"]


def light_source_figures(result: LightSourceResult) -> Sequence[Figure]:
    """The report's figures of a light-source result: none yet (figures follow; the tables are in the report).

    Parameters
    ----------
    result : LightSourceResult
        The analysis result.

    Returns
    -------
    list of Figure
        An empty list.
    """
    return []

"""What the line-pattern and grey-level-ladder analyses return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from microscope_qc.results import AnalysisError, Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LinePatternResult", "LadderResult", "as_plane"]


@dataclass
class LinePatternResult(Result):
    """Result of :func:`~microscope_qc.analysis.pattern.lines.analyze_lines`.

    Tables:

    - ``groups``: one row per region of parallel lines: ``group``, ``kind`` ("lines": a group of
      resolved lines; "grating": six lines or more; "unresolved": one broad peak wider than a
      line; "line": an isolated line), ``centre_y_px``, ``centre_x_px``, ``angle_deg`` (direction
      of the lines from the image x axis towards +y), ``coherence``, ``n_lines``, ``spacing_um``,
      ``spacing_se_um``, ``spacing_method``, ``nominal_spacing_um``, ``spacing_error_percent``,
      ``frequency_per_um`` (1/spacing), ``contrast`` (Michelson, mean over the line pairs),
      ``contrast_se``, ``dip_percent``, ``resolved``, ``lsf_fwhm_um``, ``lsf_fwhm_se_um``, ``background_counts``
      (the level the contrast is measured above), ``touches_edge``
      (the group reaches the image's edge and may be cut);
    - ``profiles``: the profile across each group, ``group``, ``u_um``, ``profile_mean``, ``profile_sem``.
    """

    measurement: str = "pattern"
    kind: str = "lines"
    channel: int = 0

    @property
    def groups(self) -> pd.DataFrame:
        """The per-group measurements."""
        return self.tables["groups"]


@dataclass
class LadderResult(Result):
    """Result of :func:`~microscope_qc.analysis.pattern.ladder.analyze_ladder`.

    Tables:

    - ``steps``: one row per grey-level step, in increasing intensity: ``step``, ``centre_y_px``,
      ``centre_x_px``, ``area_px``, ``nominal_level``, ``mean``, ``sd``, ``sem``, ``fit``,
      ``deviation_percent`` (from the straight line, % of the fitted range), ``saturated_percent``,
      ``status`` ("ok", "saturated", "clipped at 0").
    """

    measurement: str = "pattern"
    kind: str = "ladder"
    channel: int = 0
    bit_depth: int = 16

    @property
    def steps(self) -> pd.DataFrame:
        """The per-step measurements."""
        return self.tables["steps"]


def as_plane(image: Any, what: str) -> npt.NDArray[np.float64]:
    """One (Y, X) plane as float: leading axes of length 1 dropped.

    Parameters
    ----------
    image : array_like
        (Y, X), or with leading axes of length 1 ((1, 1, Y, X) from a file).
    what : str
        The analysis, for messages.

    Returns
    -------
    numpy.ndarray
        The plane.

    Raises
    ------
    AnalysisError
        More than one plane, non-finite values, a constant image.
    """
    a = np.asarray(image)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise AnalysisError(
            f"{what} reads one 2D image of the slide; this one has shape {tuple(np.shape(image))}. "
            "Pick one channel and one z plane (the best focused) first."
        )
    if min(a.shape) < 16:
        raise AnalysisError(f"The image is {a.shape[1]} × {a.shape[0]} pixels: too small for {what}.")
    out = a.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise AnalysisError("The image holds NaN or infinite values.")
    if float(out.max()) == float(out.min()):
        raise AnalysisError(
            f"The image is constant ({float(out.max()):g} everywhere): no pattern to measure."
        )
    return out

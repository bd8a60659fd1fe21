"""What the line-pattern and grey-level-ladder analyses return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from microscope_qc.results import AnalysisError, Result

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LinePatternResult", "LadderResult", "as_plane", "as_planes", "merge_channels"]


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


def as_planes(image: Any, channels: list[int] | None, what: str) -> list[tuple[int, Any]]:
    """The (channel, (Y, X) plane) pairs to analyse: one plane, or the selected channels of a (C, Y, X) image.

    Parameters
    ----------
    image : array_like
        (Y, X), (C, Y, X), or either with leading axes of length 1.
    channels : list of int, optional
        The channels of a (C, Y, X) image to analyse (default: all).
    what : str
        The analysis, for messages.

    Returns
    -------
    list of (int, array_like)
        Channel index and plane; a single plane is channel 0.

    Raises
    ------
    AnalysisError
        Another shape, or a channel the image does not have.
    """
    shape = tuple(np.shape(image))
    lead = 0
    while len(shape) - lead > 3 and shape[lead] == 1:
        lead += 1
    a = image[(0,) * lead] if lead else image
    shape = shape[lead:]
    if len(shape) == 3 and shape[0] > 1:
        selected = list(range(shape[0])) if channels is None else [int(c) for c in channels]
        bad = [c for c in selected if not 0 <= c < shape[0]]
        if bad:
            raise AnalysisError(f"The image has {shape[0]} channels; there is no channel {bad[0]}.")
        return [(c, a[c]) for c in selected]
    if len(shape) not in (2, 3):
        raise AnalysisError(
            f"{what} reads 2D images of the slide, one per channel; this one has shape {tuple(np.shape(image))}. "
            "Pick one channel and one z plane (the best focused) first."
        )
    return [(0 if channels is None or not channels else int(channels[0]), a)]


_R = TypeVar("_R", bound=Result)


def merge_channels(results: list[_R]) -> _R:
    """One result from the per-channel results: metrics and verdicts of every channel, tables joined.

    Parameters
    ----------
    results : list of Result
        One per channel (each with a ``channel`` attribute), in order.

    Returns
    -------
    Result
        The first result, extended: the others' metrics and verdicts (each names its channel), their
        warnings prefixed with their channel, their tables appended (a ``channel`` column tells them
        apart).
    """
    import pandas as pd

    first = results[0]
    if len(results) > 1:
        first.warnings = [f"Channel {getattr(first, 'channel', 0)}: {w}" for w in first.warnings]
    for r in results[1:]:
        first.metrics += r.metrics
        first.verdicts += r.verdicts
        first.warnings += [f"Channel {getattr(r, 'channel', 0)}: {w}" for w in r.warnings]
        for name, table in r.tables.items():
            first.tables[name] = pd.concat([first.tables[name], table], ignore_index=True)
    return first

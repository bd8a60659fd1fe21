"""Small helpers every analysis shares.

The cancel check, the (C, Z, Y, X) view of the input and the channel selection: one copy each,
so every measurement words these errors alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from microscope_qc.results import AnalysisCancelled, AnalysisError, CancelCheck

__all__ = ["check_cancel", "as_czyx", "select_channels"]


def check_cancel(cancel: CancelCheck | None, what: str = "Analysis") -> None:
    """Stop the analysis if the caller asked for it.

    Parameters
    ----------
    cancel
        ``cancel()`` returns True when the caller wants the analysis to stop; ``None`` never stops.
    what
        The analysis, for the message: ``"<what> cancelled."``.

    Raises
    ------
    AnalysisCancelled
        When ``cancel()`` returned True.
    """
    if cancel is not None and cancel():
        raise AnalysisCancelled(f"{what} cancelled.")


def as_czyx(
    data: Any,
    what: str = "The analysis",
    *,
    three_d: Literal["zyx", "cyx"] = "zyx",
    plane_message: str | None = None,
    hint: str = "Pick one time point / position first.",
) -> tuple[Any, int]:
    """The data as (C, Z, Y, X) without reading it (a dask array stays lazy), and its channel count.

    Parameters
    ----------
    data
        An array with a ``shape``: (C, Z, Y, X); or 3D, read as one channel's (Z, Y, X) stack
        (``three_d="zyx"``) or as channels of one plane, (C, Y, X) (``three_d="cyx"``). A list or
        tuple of per-channel arrays, (Z, Y, X) or (Y, X), all of one shape, is stacked along C.
    what
        The analysis, starting the messages (e.g. ``"PSF analysis"``, ``"Co-registration"``).
    three_d
        How a 3D array is read (see ``data``).
    plane_message
        The message for a single 2D (Y, X) image, with ``<shape>`` replaced by its shape; default:
        ``"<what> takes <accepted shapes> data; got a 2D image <shape>."``.
    hint
        Appended to the message for any other number of dimensions.

    Returns
    -------
    czyx, n_channels
        ``data[None]`` for (Z, Y, X), ``data[:, None]`` for (C, Y, X), ``data`` itself for
        (C, Z, Y, X); and C.

    Raises
    ------
    AnalysisError
        A 2D image, fewer than 2 or more than 4 dimensions, per-channel arrays of different shapes.
    """
    accepted = "(Z, Y, X) or (C, Z, Y, X)" if three_d == "zyx" else "(C, Z, Y, X) or (C, Y, X)"
    if isinstance(data, (list, tuple)):
        shapes = {np.shape(d) for d in data}
        if len(shapes) != 1:
            raise AnalysisError(
                f"The channels have different shapes {sorted(shapes)}: {what} needs images of the same "
                "field with the same size (crop or bin them alike)."
            )
        stacked = np.stack([np.asarray(d) for d in data])
        return (stacked[:, None] if stacked.ndim == 3 else stacked), len(data)
    shape = tuple(getattr(data, "shape", np.shape(data)))
    if len(shape) == 2:
        if plane_message is not None:
            raise AnalysisError(plane_message.replace("<shape>", str(shape)))
        raise AnalysisError(f"{what} takes {accepted} data; got a 2D image {shape}.")
    if len(shape) == 3:
        if three_d == "zyx" and not isinstance(data, np.ndarray) and not hasattr(data, "compute"):
            from microscope_qc.array_views import NewAxis

            return NewAxis(data), 1  # data[None] would read a zarr array or a TiffStack whole
        return (data[None], 1) if three_d == "zyx" else (data[:, None], shape[0])
    if len(shape) == 4:
        return data, shape[0]
    raise AnalysisError(f"{what} takes {accepted} data; got {len(shape)} dimensions {shape}. {hint}")


def select_channels(channels: Sequence[int] | None, n_channels: int) -> list[int]:
    """The channels to analyse, as the file's channel numbers.

    Parameters
    ----------
    channels
        Channel numbers (indices along C); ``None`` = every channel. Duplicates are dropped, the
        order is kept.
    n_channels
        How many channels the data has.

    Returns
    -------
    list of int

    Raises
    ------
    AnalysisError
        An empty selection, a number that is not a whole number, or a channel that does not exist.
    """
    if channels is None:
        return list(range(n_channels))
    out: list[int] = []
    for c in channels:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)):
            raise AnalysisError(f"Channel numbers are whole numbers, not {c!r}.")
        if int(c) not in out:
            out.append(int(c))
    if not out:
        raise AnalysisError("No channel selected; give at least one channel, or none to analyse all.")
    bad = [c for c in out if not 0 <= c < n_channels]
    if bad:
        raise AnalysisError(
            f"Channel(s) {bad} do not exist; the image has {n_channels} channel(s) (0–{n_channels - 1})."
        )
    return out

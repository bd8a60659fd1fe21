"""The mean intensity per frame of a uniform sample's image series, as a light-source log."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.light_source.powerlog import PowerLog
from microscope_qc.results import AnalysisError

__all__ = ["log_from_frames"]


def log_from_frames(
    frames: Any,
    frame_interval_s: float | None,
    dark: Any = None,
    timestamps_s: npt.ArrayLike | None = None,
    name: str = "image series",
) -> PowerLog:
    """The mean intensity of each frame of a uniform sample, dark subtracted, as a log in counts.

    Parameters
    ----------
    frames : array_like
        (T, ...) frames (each frame any shape: (Y, X), (Z, Y, X), (C, Z, Y, X)).
    frame_interval_s : float or None
        Time between frames; needed unless ``timestamps_s`` is given.
    dark : array_like or float, optional
        Dark frame (broadcast to a frame) or dark level, subtracted from every frame.
    timestamps_s : array_like, optional
        The time of each frame in seconds.
    name : str
        For messages.

    Returns
    -------
    PowerLog
        ``power`` = mean intensity per frame (counts), ``unit = "counts"``.

    Raises
    ------
    AnalysisError
        Fewer than 3 frames, no frame timing, a dark frame of another shape.
    """
    n = len(frames)
    if n < 3:
        raise AnalysisError(f"{name}: {n} frame(s); a light-source series needs at least 3 time points.")
    means = np.empty(n)
    lows, highs = np.empty(n), np.empty(n)
    for i in range(n):
        f = np.asarray(frames[i], dtype=float)
        means[i], lows[i], highs[i] = float(f.mean()), float(np.min(f)), float(np.max(f))
    bad = np.flatnonzero(~np.isfinite(means))
    if bad.size == n:
        raise AnalysisError(f"{name}: every frame holds NaN or infinite pixels; nothing to measure.")
    if bad.size:
        raise AnalysisError(
            f"{name}: frame(s) {', '.join(map(str, bad[:10].tolist()))} hold NaN or infinite pixels; export the "
            "series again, or leave those frames out."
        )
    if float(lows.min()) == float(highs.max()):
        raise AnalysisError(
            f"{name}: every pixel of every frame is the constant {lows[0]:g}: the camera recorded no light (is the "
            "source on, the shutter open?)."
        )
    if timestamps_s is None:
        if frame_interval_s is None or not frame_interval_s > 0:
            raise AnalysisError(f"{name}: the time between frames is not known; give {{frame_interval_s}}.")
        t = np.arange(n, dtype=float) * float(frame_interval_s)
    else:
        t = np.asarray(timestamps_s, float)
    if dark is not None:
        d = np.asarray(dark, dtype=float)
        try:
            means = means - np.broadcast_to(d, np.shape(frames[0])).mean()
        except ValueError:
            raise AnalysisError(
                f"{name}: the dark image {d.shape} does not match a frame {np.shape(frames[0])}; give a dark of the "
                "frame's size."
            ) from None
    notes = (
        []
        if dark is not None
        else ["no dark image subtracted: the mean intensity includes the camera offset"]
    )
    return PowerLog(
        t_s=t - t[0], power=means, unit="counts", notes=notes, source_format="image series", name=name
    )

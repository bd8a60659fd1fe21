"""NoiSee bead mode: the temporal SNR at each bead's maximum, and kymographs for drift.

A time series of a bead slide: the beads are found on the temporal mean image (the one bead
detector, :func:`microscope_qc.detection.detect_beads`); at each bead's maximum pixel the SNR is
the temporal mean (less the dark mean, when darks are given) over the temporal SD. Beads
saturated in any frame are left out. A kymograph per bead — the row through its maximum, ±7
pixels, over time — shows drift; its centroid's largest shift is reported.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.detector.cv import KYMOGRAPH_HALF_WIDTH_PX, Outcome, _mean_dark
from microscope_qc.analysis.detector.frames import FrameSource, StackAccumulator
from microscope_qc.analysis.detector.settings import DetectorSettings
from microscope_qc.detection import DetectionSettings, detect_beads
from microscope_qc.results import AnalysisError, CancelCheck, Metric, ProgressCallback

__all__ = ["noisee_beads", "MIN_TIME_POINTS"]

#: a temporal SD needs a few time points
MIN_TIME_POINTS = 3


def noisee_beads(
    source: FrameSource,
    darks: FrameSource | None,
    settings: DetectorSettings,
    saturation: float,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Outcome:
    """NoiSee bead mode (see the module docstring).

    Parameters
    ----------
    source : FrameSource
        The time series of the bead image.
    darks : FrameSource, optional
        Dark frames (subtracted from the mean).
    settings : DetectorSettings
        The detection threshold.
    saturation : float
        The saturation value.
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    Outcome
        ``snr_median``, bead counts and drift; the table ``beads``; ``kymographs`` and ``mean_image``.

    Raises
    ------
    AnalysisError
        Too few time points or no unsaturated bead found.
    """
    n = len(source)
    if n < MIN_TIME_POINTS:
        raise AnalysisError(
            f"NoiSee bead mode needs a time series of at least {MIN_TIME_POINTS} frames; got {n}."
        )
    dark, _ = _mean_dark(darks, saturation)
    acc = StackAccumulator()
    peak: np.ndarray | None = None
    for i in range(n):
        check_cancel(cancel, "Detector analysis")
        frame = source.read(i)
        acc.add(frame)
        peak = frame.copy() if peak is None else np.maximum(peak, frame)
        if progress is not None:
            progress(0.5 * (i + 1) / n, f"frame {i + 1}/{n}")
    assert peak is not None
    mean = acc.mean_image()
    sd = np.sqrt(acc.variance_image())
    found = detect_beads(
        mean, DetectionSettings(threshold_sigma=settings.detection_threshold_sigma, halo_sigma=0.0)
    )
    ys, xs = found["y"].astype(int), found["x"].astype(int)
    if ys.size == 0:
        raise AnalysisError(
            "No bead found in the mean image: lower the detection threshold, or check focus and exposure."
        )
    background = float(np.median(mean)) if dark is None else 0.0
    level = mean - (dark if dark is not None else background)
    saturated = peak[ys, xs] >= saturation
    snr = np.where(sd[ys, xs] > 0, level[ys, xs] / np.maximum(sd[ys, xs], 1e-12), np.nan)
    # kymographs: a second pass, one row segment per bead and frame
    h = KYMOGRAPH_HALF_WIDTH_PX
    width = mean.shape[1]
    kymo = np.full((ys.size, n, 2 * h + 1), np.nan, np.float32)
    for t in range(n):
        check_cancel(cancel, "Detector analysis")
        frame = source.read(t)
        for b, (y, x) in enumerate(zip(ys, xs, strict=True)):
            x0, x1 = max(x - h, 0), min(x + h + 1, width)
            kymo[b, t, x0 - (x - h) : x0 - (x - h) + (x1 - x0)] = frame[y, x0:x1]
        if progress is not None:
            progress(0.5 + 0.45 * (t + 1) / n, "kymographs")
    offsets = np.arange(-h, h + 1, dtype=float)
    rows = kymo - np.nanmin(kymo, axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.nansum(rows * offsets, axis=2) / np.nansum(rows, axis=2)
    drift = np.nanmax(centroid, axis=1) - np.nanmin(centroid, axis=1)
    table = pd.DataFrame(
        {
            "bead": np.arange(ys.size),
            "y": ys,
            "x": xs,
            "mean_dn": mean[ys, xs],
            "sd_dn": sd[ys, xs],
            "snr": snr,
            "max_dn": peak[ys, xs],
            "saturated": saturated,
            "drift_x_px": drift,
        }
    )
    good = table.loc[~table["saturated"], "snr"].to_numpy()
    good = good[np.isfinite(good)]
    if good.size == 0:
        raise AnalysisError(
            f"All {ys.size} beads are saturated in at least one frame: lower the laser power or the detector gain."
        )
    med = float(np.median(good))
    se = 1.2533 * float(np.std(good, ddof=1)) / math.sqrt(good.size) if good.size > 1 else math.nan
    mean_trace = np.nanmean(centroid[~saturated], axis=0)
    metrics = [
        Metric(
            "snr_median",
            med,
            None,
            se,
            None,
            "median over unsaturated beads of temporal mean / temporal SD at the bead maximum (NoiSee)",
        ),
        Metric("beads", float(good.size), None, math.nan, None, "beads measured", "not estimable"),
        Metric(
            "beads_saturated",
            float(saturated.sum()),
            None,
            math.nan,
            None,
            "beads left out because saturated",
            "not estimable",
        ),
        Metric(
            "drift_px",
            float(np.nanmax(mean_trace) - np.nanmin(mean_trace)),
            "px",
            math.nan,
            None,
            "largest shift along x of the beads' mean kymograph centroid",
            "not estimable",
        ),
    ]
    warnings = []
    if saturated.any():
        warnings.append(f"{int(saturated.sum())} saturated bead(s) left out of the SNR.")
    if dark is None:
        warnings.append(
            "No dark frames: the bead signal is taken above the image's median instead of the dark level."
        )
    return Outcome(
        metrics, {"beads": table}, {"kymographs": kymo, "mean_image": mean.astype(np.float32)}, warnings
    )

"""Point detectors: MetroloJ_QC's CV per region, and NoiSee's SNR and SBR.

**CV** (MetroloJ_QC "CV" report, for PMTs and other point detectors): in each region of an image
of a uniform sample, CV = SD / mean with the SD over the region's pixels (n − 1, as MetroloJ_QC),
and each CV relative to the smallest one (the best detector or channel).

**NoiSee, fluorescein mode** (Ferrand et al. 2019): a uniform fluorescein image and a dark image;
SNR = mean / SD of the dark-subtracted image, SBR = mean image / mean dark.

**NoiSee, bead mode**: a time series of beads; at each bead's maximum pixel, SNR = temporal
mean / temporal SD (dark subtracted when darks are given); beads saturated in any frame are left
out; a kymograph (x through the bead's maximum, over time) per bead shows drift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.detector.frames import FrameSource, StackAccumulator
from microscope_qc.results import AnalysisError, CancelCheck, Metric, ProgressCallback

__all__ = [
    "ROI",
    "Outcome",
    "cv_per_roi",
    "cv_standard_error",
    "noisee_fluorescein",
    "KYMOGRAPH_HALF_WIDTH_PX",
]

#: a region: its name and a boolean mask (True = in the region) of the frame's shape
ROI = tuple[str, npt.NDArray[np.bool_]]
#: half width of a bead's kymograph (pixels either side of its maximum)
KYMOGRAPH_HALF_WIDTH_PX = 7


@dataclass
class Outcome:
    """Metrics, tables, images and warnings of one mode."""

    metrics: list[Metric]
    tables: dict[str, pd.DataFrame]
    images: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def cv_standard_error(cv: float, n: int) -> float:
    """Standard error of a coefficient of variation from ``n`` normal samples (McKay's approximation).

    Parameters
    ----------
    cv : float
        The CV (a fraction).
    n : int
        The number of samples.

    Returns
    -------
    float
        ``cv · √((1 + 2 cv²) / (2 n))``; NaN for fewer than 2 samples.
    """
    return cv * math.sqrt((1 + 2 * cv * cv) / (2 * n)) if n >= 2 else math.nan


def _check_rois(rois: Sequence[ROI] | None, shape: tuple[int, int]) -> list[ROI]:
    if not rois:
        return [("whole image", np.ones(shape, bool))]
    out = []
    for name, mask in rois:
        m = np.asarray(mask, bool)
        if m.shape != shape:
            raise AnalysisError(
                f"Region {name!r} is {m.shape} but the frames are {shape}: draw it on these frames."
            )
        if m.sum() < 2:
            raise AnalysisError(f"Region {name!r} holds {int(m.sum())} pixel(s): a CV needs at least 2.")
        out.append((name, m))
    return out


def cv_per_roi(
    source: FrameSource,
    rois: Sequence[ROI] | None,
    saturation: float,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Outcome:
    """MetroloJ_QC CV of every frame (detector or channel) in every region.

    Parameters
    ----------
    source : FrameSource
        One frame per detector or channel.
    rois : sequence of (name, mask), optional
        The regions; default the whole frame.
    saturation : float
        The saturation value (saturated pixels are reported).
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    Outcome
        ``cv_percent`` per frame (as the channel; the mean over its regions), the best CV, and
        the table ``cv`` (frame, region, pixels, mean, SD, CV, CV relative to the best).

    Raises
    ------
    AnalysisError
        A region of the wrong shape or with fewer than 2 pixels, or a bad frame.
    """
    rows = []
    warnings: list[str] = []
    regions: list[ROI] = []
    for f in range(len(source)):
        check_cancel(cancel, "Detector analysis")
        frame = source.read(f)
        if not regions:
            regions = _check_rois(rois, frame.shape)
        for name, mask in regions:
            v = frame[mask]
            mean, sd = float(v.mean()), float(v.std(ddof=1))
            cv = sd / mean if mean > 0 else math.nan
            sat = int(np.sum(v >= saturation))
            if sat:
                warnings.append(
                    f"Frame {f}, region {name!r}: {sat} saturated pixel(s); its CV is underestimated."
                )
            rows.append(
                {
                    "frame": f,
                    "roi": name,
                    "pixels": int(v.size),
                    "mean_dn": mean,
                    "sd_dn": sd,
                    "cv_percent": 100 * cv,
                    "cv_se_percent": 100 * cv_standard_error(cv, v.size),
                    "saturated_pixels": sat,
                }
            )
        if progress is not None:
            progress(0.9 * (f + 1) / len(source), f"frame {f + 1}/{len(source)}")
    table = pd.DataFrame(rows)
    if (table["mean_dn"] <= 0).any():
        warnings.append(
            "A region has a mean of 0 or below: its CV is not defined (subtract no background before)."
        )
    best = float(np.nanmin(table["cv_percent"])) if np.isfinite(table["cv_percent"]).any() else math.nan
    table["cv_relative"] = table["cv_percent"] / best
    metrics = []
    for frame_no, rows_f in table.groupby("frame", sort=True):
        cv = float(rows_f["cv_percent"].mean())
        se = float(np.sqrt(np.sum(rows_f["cv_se_percent"] ** 2))) / len(rows_f)
        metrics.append(
            Metric(
                "cv_percent",
                cv,
                "percent",
                se,
                int(str(frame_no)),
                "MetroloJ_QC CV = SD/mean (n − 1) in the region(s), mean over regions",
            )
        )
        metrics.append(
            Metric(
                "cv_relative",
                cv / best,
                None,
                se / best,
                int(str(frame_no)),
                "CV relative to the smallest CV",
            )
        )
    return Outcome(metrics, {"cv": table}, {}, warnings)


def _mean_dark(darks: FrameSource | None, saturation: float) -> tuple[np.ndarray | None, int]:
    if darks is None or len(darks) == 0:
        return None, 0
    acc = StackAccumulator()
    for i in range(len(darks)):
        frame = darks.read(i, dark_saturation=saturation)
        acc.add(frame)
    return acc.mean_image(), acc.n


def noisee_fluorescein(
    source: FrameSource,
    darks: FrameSource | None,
    rois: Sequence[ROI] | None,
    saturation: float,
    cancel: CancelCheck | None = None,
) -> Outcome:
    """NoiSee fluorescein mode: SNR and SBR of each bright frame against the mean dark.

    Parameters
    ----------
    source : FrameSource
        The fluorescein frames.
    darks : FrameSource
        The dark frames (at least one).
    rois : sequence of (name, mask), optional
        The region measured (their union); default the whole frame.
    saturation : float
        The saturation value.
    cancel : callable, optional
        Cancel check.

    Returns
    -------
    Outcome
        ``snr`` and ``sbr`` (mean over the frames) and the table ``noisee`` (per frame).

    Raises
    ------
    AnalysisError
        No darks, darks as bright as the image, or a bad frame.
    """
    dark, n_dark = _mean_dark(darks, saturation)
    if dark is None:
        raise AnalysisError(
            "NoiSee needs a dark image (same settings, no light) for the SNR and SBR ({dark_frames})."
        )
    regions = _check_rois(rois, dark.shape)
    mask = np.logical_or.reduce([m for _, m in regions])
    dark_mean = float(dark[mask].mean())
    rows = []
    for f in range(len(source)):
        check_cancel(cancel, "Detector analysis")
        frame = source.read(f)
        if frame.shape != dark.shape:
            raise AnalysisError(
                f"Frame {f} is {frame.shape} but the dark frames are {dark.shape}: same camera region, please."
            )
        d = (frame - dark)[mask]
        mean, sd = float(d.mean()), float(d.std(ddof=1))
        if mean <= 0:
            raise AnalysisError(
                f"Frame {f} is no brighter than the dark image (dark-subtracted mean {mean:.3g}): darks and image "
                "are swapped, or the light was off."
            )
        raw_mean = float(frame[mask].mean())
        rows.append(
            {
                "frame": f,
                "mean_dn": raw_mean,
                "dark_mean_dn": dark_mean,
                "signal_dn": mean,
                "sd_dn": sd,
                "snr": mean / sd,
                "sbr": raw_mean / dark_mean if dark_mean > 0 else math.nan,
                "saturated_pixels": int(np.sum(frame[mask] >= saturation)),
            }
        )
    table = pd.DataFrame(rows)
    n = len(table)
    snr, sbr = float(table["snr"].mean()), float(table["sbr"].mean())
    if n >= 2:
        snr_se, sbr_se = (
            float(table["snr"].std(ddof=1)) / math.sqrt(n),
            float(table["sbr"].std(ddof=1)) / math.sqrt(n),
        )
    else:
        snr_se, sbr_se = math.sqrt((1 + snr**2 / 2) / int(mask.sum())), math.nan
    warnings = []
    if table["saturated_pixels"].sum():
        warnings.append(
            f"{int(table['saturated_pixels'].sum())} saturated pixel(s) in the measured region: the SNR is overestimated."
        )
    if dark_mean <= 0:
        warnings.append("The dark mean is 0 or below: the SBR is not defined.")
    metrics = [
        Metric(
            "snr",
            snr,
            None,
            snr_se,
            None,
            "NoiSee SNR = mean / SD of the dark-subtracted image (mean over frames)",
        ),
        Metric(
            "sbr",
            sbr,
            None,
            sbr_se,
            None,
            "NoiSee SBR = mean image / mean dark (mean over frames)",
            "standard error" if math.isfinite(sbr_se) else "not estimable",
        ),
        Metric("dark_frames", float(n_dark), None, math.nan, None, "dark frames averaged", "not estimable"),
    ]
    return Outcome(metrics, {"noisee": table}, {}, warnings)

"""Dark-frame noise as MetroloJ_QC's camera-noise tool measures it.

From a series of dark frames (shutter closed, the exposure of the experiments): the offset (mean
dark level), the DSNU (spatial SD of the mean dark image), the per-pixel temporal noise map (SD
over the frames, n − 1) with its median and RMS, in counts and — with a conversion gain — in
electrons; warm and cold pixels (mean above or below the frame mean by a set fraction, 20 % by
default) and hot pixels (saturated in most frames), as maps and frequencies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.detector.frames import FrameSource, StackAccumulator
from microscope_qc.analysis.detector.settings import DetectorSettings
from microscope_qc.results import AnalysisError, CancelCheck, Metric, ProgressCallback

__all__ = ["DarkOutcome", "dark_noise", "MAX_LISTED_PIXELS"]

#: at most this many defect pixels are listed in the table (the maps hold them all)
MAX_LISTED_PIXELS = 100_000


@dataclass
class DarkOutcome:
    """What :func:`dark_noise` returns."""

    metrics: list[Metric]
    table: pd.DataFrame
    images: dict[str, np.ndarray]
    warnings: list[str] = field(default_factory=list)


def _se_percent(count: int, n: int) -> float:
    p = count / n
    return 100.0 * math.sqrt(p * (1 - p) / n)


def dark_noise(
    source: FrameSource,
    settings: DetectorSettings,
    saturation: float,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> DarkOutcome:
    """MetroloJ_QC camera noise of a dark series, read one frame at a time.

    Parameters
    ----------
    source : FrameSource
        The dark frames (at least 2).
    settings : DetectorSettings
        ``warm_cold_percent`` and the conversion gain.
    saturation : float
        The saturation value (hot pixels).
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    DarkOutcome
        Metrics, the defect-pixel table and the maps.

    Raises
    ------
    AnalysisError
        Fewer than 2 frames, saturated dark frames, or a bad frame.
    """
    n = len(source)
    if n < 2:
        raise AnalysisError(
            f"Only {n} dark frame given: the temporal noise needs at least 2 (MetroloJ_QC uses a series; 20 or "
            "more is better)."
        )
    acc = StackAccumulator()
    sat_count: np.ndarray | None = None
    for i in range(n):
        check_cancel(cancel, "Detector analysis")
        frame = source.read(i, dark_saturation=saturation)
        acc.add(frame)
        hit = frame >= saturation
        sat_count = hit.astype(np.uint32) if sat_count is None else sat_count + hit
        if progress is not None:
            progress(0.9 * (i + 1) / n, f"dark frame {i + 1}/{n}")
    assert sat_count is not None
    mean_img = acc.mean_image()
    var_img = acc.variance_image()
    noise = np.sqrt(var_img)
    n_px = mean_img.size
    offset = float(mean_img.mean())
    dsnu = float(mean_img.std(ddof=1))
    median_noise = float(np.median(noise))
    rms_noise = math.sqrt(float(var_img.mean()))
    hot = sat_count > n // 2
    frac = settings.warm_cold_percent / 100.0
    warm = (mean_img > (1 + frac) * offset) & ~hot
    cold = mean_img < (1 - frac) * offset
    gain = settings.conversion_gain_e_per_dn
    sd_noise = float(noise.std())
    metrics = [
        Metric(
            "offset_dn", offset, "DN", dsnu / math.sqrt(n_px), None, "mean dark level (MetroloJ_QC offset)"
        ),
        Metric(
            "dsnu_dn",
            dsnu,
            "DN",
            dsnu / math.sqrt(2 * (n_px - 1)),
            None,
            "spatial SD of the mean dark image (MetroloJ_QC DSNU)",
        ),
        Metric(
            "noise_median_dn",
            median_noise,
            "DN",
            1.2533 * sd_noise / math.sqrt(n_px),
            None,
            "median of the per-pixel temporal noise map",
        ),
        Metric(
            "noise_rms_dn",
            rms_noise,
            "DN",
            float(var_img.std()) / math.sqrt(n_px) / (2 * rms_noise),
            None,
            "root mean square of the per-pixel temporal noise",
        ),
    ]
    if gain is not None:
        metrics += [
            Metric(
                m.name.replace("_dn", "_e"),
                m.value * gain,
                "e-",
                (m.uncertainty or math.nan) * gain,
                None,
                m.description + f", × {gain:g} e⁻/DN",
            )
            for m in metrics
            if m.name in ("dsnu_dn", "noise_median_dn", "noise_rms_dn")
        ]
    for name, mask, what in (
        (
            "warm_pixels_percent",
            warm,
            f"pixels whose mean is more than {settings.warm_cold_percent:g} % above the frame mean (hot ones excluded)",
        ),
        (
            "cold_pixels_percent",
            cold,
            f"pixels whose mean is more than {settings.warm_cold_percent:g} % below the frame mean",
        ),
        ("hot_pixels_percent", hot, "pixels saturated in more than half the frames"),
    ):
        c = int(mask.sum())
        metrics.append(
            Metric(
                name, 100.0 * c / n_px, "percent", _se_percent(c, n_px), None, what, "binomial standard error"
            )
        )
        metrics.append(
            Metric(
                name.replace("_percent", ""),
                float(c),
                None,
                math.nan,
                None,
                "number of " + what,
                "not estimable",
            )
        )
    rows = []
    for kind, mask in (("hot", hot), ("warm", warm), ("cold", cold)):
        ys, xs = np.nonzero(mask)
        rows.append(
            pd.DataFrame(
                {"y": ys, "x": xs, "kind": kind, "mean_dn": mean_img[ys, xs], "noise_dn": noise[ys, xs]}
            )
        )
    table = pd.concat(rows, ignore_index=True)
    warnings = []
    if len(table) > MAX_LISTED_PIXELS:
        warnings.append(
            f"{len(table)} defect pixels: only the first {MAX_LISTED_PIXELS} are listed in the table (the maps hold "
            "all). The warm/cold threshold may be too tight for this camera."
        )
        table = table.iloc[:MAX_LISTED_PIXELS]
    spread = float(np.ptp(acc.frame_means))
    if spread > 10 * rms_noise / math.sqrt(n_px) + 0.01 * abs(offset) + 1.0:
        warnings.append(
            f"The dark frames' means differ by {spread:.3g} DN (from {min(acc.frame_means):.4g} to "
            f"{max(acc.frame_means):.4g}): were they all taken with no light? The temporal noise includes this change."
        )
    if offset <= 0:
        warnings.append(
            "The mean dark level is 0 or below: warm and cold pixels relative to it are meaningless (the camera "
            "clips or subtracts its offset)."
        )
    images = {
        "mean_dark": mean_img.astype(np.float32),
        "noise_map": noise.astype(np.float32),
        "hot_pixels": hot,
        "warm_pixels": warm,
        "cold_pixels": cold,
    }
    return DarkOutcome(metrics, table, images, warnings)

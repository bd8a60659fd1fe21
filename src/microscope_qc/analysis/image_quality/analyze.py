"""``analyze_image_quality``: saturation, clipping, dynamic range, noise, SNR, focus, sampling, and a rating."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from microscope_qc.analysis.image_quality.checks import (
    focus_measure,
    immerkaer_noise,
    infer_bit_depth,
    otsu_threshold,
)
from microscope_qc.analysis.image_quality.result import ImageQualityResult
from microscope_qc.analysis.image_quality.settings import ImageQualitySettings
from microscope_qc.instrument import Setting, Source
from microscope_qc.results import AnalysisError, Limits, Metric, ProgressCallback, Verdict
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_image_quality", "CHECK_WEIGHTS"]

#: how much each check counts in the rating
CHECK_WEIGHTS = {"saturation": 3.0, "zero clipping": 2.0, "dynamic range": 1.0, "SNR": 2.0, "sampling": 1.0}


def analyze_image_quality(
    image: Any,
    settings: ImageQualitySettings | None = None,
    *,
    file_bit_depth: int | None = None,
    pixel_size_um: float | None = None,
    nyquist_um: float | None = None,
    channel: int = 0,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
) -> ImageQualityResult:
    """Check one image: saturated and zero-clipped pixels, range used, noise, SNR, focus, sampling.

    Parameters
    ----------
    image : array_like
        A (Y, X) image (raw counts).
    settings : ImageQualitySettings, optional
        Bit depth, the limits of the checks, the conversion gain.
    file_bit_depth : int, optional
        The bit depth the file records (significant bits); ``settings.bit_depth`` overrides it.
    pixel_size_um : float, optional
        Pixel size, for the sampling check.
    nyquist_um : float, optional
        The Nyquist pixel size of the objective (MetroloJ_QC definition), for the sampling check.
    channel : int
        The file's channel (recorded on the metrics).
    limits : Limits, optional
        Facility limits.
    progress : callable, optional
        Progress report.

    Returns
    -------
    ImageQualityResult
        The metrics, one verdict per check, the checks table and the rating (0–100).

    Raises
    ------
    AnalysisError
        Not a 2D image, smaller than 8 × 8 px, non-finite values, or a constant image.
    """
    settings = settings or ImageQualitySettings()
    validate_settings(settings)
    raw = np.asarray(image)
    if raw.ndim != 2:
        raise AnalysisError(f"Image quality checks one 2D plane (Y, X); this one has shape {raw.shape}.")
    if min(raw.shape) < 8:
        raise AnalysisError(
            f"The image is {raw.shape[1]}×{raw.shape[0]} px; the checks need at least 8×8 px."
        )
    a = raw.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise AnalysisError("The image holds NaN or infinite values.")
    if float(a.max()) == float(a.min()):
        raise AnalysisError(
            f"The image is constant ({a.flat[0]:g} everywhere): no signal to check; look at the light path, the "
            "shutter and the detector."
        )
    result = ImageQualityResult(channel=channel)
    result.settings.update(settings.analysis_settings())

    def add(name: str, value: float, unit: str | None, description: str) -> None:
        result.metrics.append(Metric(name, float(value), unit, None, channel, description))

    container = raw.dtype.itemsize * 8 if raw.dtype.kind in "ui" else None
    if settings.bit_depth is not None:
        bits, source, how = settings.bit_depth, Source.USER, "given"
    elif file_bit_depth is not None and (container is None or file_bit_depth < container):
        bits, source, how = int(file_bit_depth), Source.FILE, "the file's significant bits"
    elif container is not None:
        bits = infer_bit_depth(float(a.max()), container)
        source, how = Source.DEFAULT, f"inferred from the maximum in a {container}-bit container"
    else:
        bits, source, how = 16, Source.DEFAULT, "assumed (floating-point data)"
    result.bit_depth = bits
    result.settings["bit_depth_used"] = Setting(bits, None, source, how)
    top = 2.0**bits - 1
    n = a.size
    saturated = 100.0 * np.count_nonzero(a >= top) / n
    clipped = 100.0 * np.count_nonzero(a <= 0) / n
    lo, hi = np.percentile(a, [0.1, 99.9])
    used = 100.0 * (hi - lo) / top
    add("saturated_percent", saturated, "percent", f"pixels at the maximum ({top:.0f}) of {bits} bits")
    add("zero_clipped_percent", clipped, "percent", "pixels at zero")
    add("dynamic_range_used_percent", used, "percent", "0.1–99.9 percentile range over the detector's range")
    noise = immerkaer_noise(a)
    add("noise_sd_counts", noise, "counts", "noise SD (Immerkær's estimator)")
    if settings.conversion_gain_e_per_dn is not None:
        add("noise_sd_e", noise * settings.conversion_gain_e_per_dn, "e-", "noise SD in photo-electrons")
    if progress:
        progress(0.5, "image quality: SNR and focus")
    t = otsu_threshold(a.ravel())
    fg, bg = a[a > t], a[a <= t]
    snr = cnr = None
    if fg.size and bg.size and noise > 0:
        snr = (fg.mean() - bg.mean()) / noise
        spread = float(np.sqrt(fg.var() + bg.var()))
        add("snr", snr, None, "(mean foreground − mean background) / noise SD, Otsu foreground")
        if spread > 0:
            cnr = (fg.mean() - bg.mean()) / spread
            add("cnr", cnr, None, "(mean foreground − mean background) / √(var foreground + var background)")
        add(
            "foreground_percent", 100.0 * fg.size / n, "percent", "share of the pixels above Otsu's threshold"
        )
    add("focus_high_frequency_share", focus_measure(a, noise), None, "structure power above half Nyquist")
    sampling = None
    if pixel_size_um and nyquist_um:
        sampling = pixel_size_um / nyquist_um
        add("pixel_over_nyquist", sampling, None, "pixel size / Nyquist pixel size (≤ 1: sampled at Nyquist)")

    rows: list[tuple[str, str, float, float, Literal["<=", ">="]]] = [
        ("saturation", "saturated_percent", saturated, settings.max_saturated_percent, "<="),
        ("zero clipping", "zero_clipped_percent", clipped, settings.max_clipped_percent, "<="),
        ("dynamic range", "dynamic_range_used_percent", used, settings.min_dynamic_range_percent, ">="),
    ]
    if snr is not None:
        rows.append(("SNR", "snr", snr, settings.min_snr, ">="))
    if sampling is not None:
        rows.append(("sampling", "pixel_over_nyquist", sampling, 1.0, "<="))
    table = []
    for check, metric, value, limit, cmp in rows:
        v = Verdict.check(
            metric, float(value), float(limit), cmp, "default" if check == "sampling" else "settings", channel
        )
        result.verdicts.append(v)
        table.append(
            {"check": check, "metric": metric, "value": float(value), "limit": float(limit), "comparison": cmp,
             "passed": v.passed, "weight": CHECK_WEIGHTS[check]}
        )  # fmt: skip
    checks = pd.DataFrame(table)
    result.tables["checks"] = checks
    rating = 100.0 * float((checks["weight"] * checks["passed"]).sum() / checks["weight"].sum())
    add(
        "quality_rating",
        rating,
        "percent",
        "weighted share of the checks passed (weights in the checks table)",
    )
    failed = checks.loc[~checks["passed"], "check"].tolist()
    if failed:
        result.warnings.append(f"Checks failed: {', '.join(failed)}.")
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "image quality: done")
    return result

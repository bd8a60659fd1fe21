"""``analyze_image_quality``: saturation, clipping, dynamic range, noise, SNR, focus, sampling, bleaching, a rating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis.image_quality.bleaching import bleaching_of
from microscope_qc.analysis.image_quality.checks import focus_measure, immerkaer_noise, infer_bit_depth
from microscope_qc.analysis.image_quality.regions import Regions, photon_noise, region_snr, regions_of
from microscope_qc.analysis.image_quality.result import ImageQualityResult
from microscope_qc.analysis.image_quality.settings import ImageQualitySettings
from microscope_qc.instrument import Setting, Source
from microscope_qc.results import (
    AnalysisCancelled,
    AnalysisError,
    CancelCheck,
    Limits,
    Metric,
    ProgressCallback,
    Verdict,
)
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_image_quality", "CHECK_WEIGHTS"]

#: how much each check counts in the rating
CHECK_WEIGHTS = {
    "saturation": 3.0,
    "zero clipping": 2.0,
    "dynamic range": 1.0,
    "SNR": 2.0,
    "sampling": 1.0,
    "bleaching": 1.0,
}


def analyze_image_quality(
    image: Any,
    settings: ImageQualitySettings | None = None,
    *,
    file_bit_depth: int | None = None,
    pixel_size_um: float | None = None,
    nyquist_um: float | None = None,
    signal_mask: npt.ArrayLike | None = None,
    background_mask: npt.ArrayLike | None = None,
    region_names: tuple[str, str] = ("", ""),
    series: Any | None = None,
    frame_interval_s: float | None = None,
    channel: int = 0,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ImageQualityResult:
    """Check one image: saturated and zero-clipped pixels, range used, noise, SNR, focus, sampling.

    With the detector's gain and offset, the signal and noise in electrons; with a time series,
    the bleaching across it.

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
    signal_mask, background_mask : array_like, optional
        (Y, X) boolean masks of the user's signal and background regions for SNR and CNR; one
        alone: the other is the rest of the image; neither: Otsu's threshold splits the image.
    region_names : (str, str)
        How the signal and background regions are named (recorded in the settings).
    series : array_like, optional
        A (T, Y, X) time series of the checked plane (``image`` is usually its first frame): the
        signal per frame, its exponential decay and the bleaching check.
    frame_interval_s : float, optional
        Time between the series' frames: the half-life in seconds.
    channel : int
        The file's channel (recorded on the metrics).
    limits : Limits, optional
        Facility limits.
    progress : callable, optional
        Progress report.
    cancel : callable, optional
        Returns True to stop (reading a long series).

    Returns
    -------
    ImageQualityResult
        The metrics, one verdict per check, the checks table and the rating (0–100).

    Raises
    ------
    AnalysisError
        Not a 2D image, smaller than 8 × 8 px, non-finite values, a constant image, regions that
        do not fit the image or overlap, a series of fewer than 3 frames or without signal.
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
    if cancel is not None and cancel():
        raise AnalysisCancelled()
    if progress:
        progress(0.5, "image quality: SNR and focus")
    regions = regions_of(
        a,
        None if signal_mask is None else np.asarray(signal_mask, bool),
        None if background_mask is None else np.asarray(background_mask, bool),
        region_names,
    )
    result.regions_method = regions.method
    result.settings["snr_regions"] = Setting(
        regions.description,
        None,
        Source.USER if regions.method == "regions" else Source.DEFAULT,
        regions.method,
    )
    fg, bg = regions.signal, regions.background
    snr = None
    if fg.any() and bg.any() and noise > 0:
        snr, cnr = region_snr(a, regions, noise)
        how = "signal regions" if regions.method == "regions" else "Otsu foreground"
        noise_how = "SD of the background regions" if regions.method == "regions" else "noise SD"
        if not np.isfinite(snr):
            snr = None
            result.warnings.append(
                "No SNR: the background regions are flat (SD 0); draw them over noisy background."
            )
        else:
            add("snr", snr, None, f"(mean {how} − mean background) / {noise_how}")
        if np.isfinite(cnr):
            add("cnr", cnr, None, "(mean signal − mean background) / √(var signal + var background)")
        add(
            "foreground_percent",
            100.0 * np.count_nonzero(fg) / n,
            "percent",
            f"share of the pixels in the {how}",
        )
        _photons(result, a, regions, settings, add)
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
    if series is not None:
        lost = _bleaching(
            result, series, regions.signal, regions.background, frame_interval_s, add, progress, cancel
        )
        rows.append(("bleaching", "bleached_percent", lost, settings.max_bleached_percent, "<="))
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


_Add = Callable[[str, float, "str | None", str], None]


def _photons(
    result: ImageQualityResult,
    a: npt.NDArray[np.float64],
    regions: Regions,
    settings: ImageQualitySettings,
    add: _Add,
) -> None:
    """The signal region in electrons and its noise against the shot-noise limit (gain and offset known)."""
    gain, offset = settings.conversion_gain_e_per_dn, settings.offset_dn
    if gain is None and offset is None:
        return
    if gain is None or offset is None:
        result.warnings.append(
            "No photon conversion: it needs both the detector's gain (e-/DN) and its offset (DN); "
            f"only the {'gain' if gain is not None else 'offset'} is given."
        )
        return
    p = photon_noise(a, regions, gain, offset)
    if p is None:
        result.warnings.append(
            "No photon conversion: the signal region's mean is not above the offset, or it is too thin for its "
            "noise (fewer than 16 pixels with their 3 × 3 neighbourhood inside it)."
        )
        return
    add("signal_mean_e", p.signal_e, "e-", "mean of the signal region above the offset, in photo-electrons")
    add("background_mean_e", p.background_e, "e-", "mean of the background region above the offset")
    add("signal_noise_e", p.noise_e, "e-", "noise SD in the signal region (Immerkær), in photo-electrons")
    add("shot_noise_e", p.shot_noise_e, "e-", "the shot-noise limit: the region's mean of √(electrons)")
    add(
        "noise_over_shot_noise",
        p.noise_over_shot,
        None,
        "signal region's noise / shot-noise limit (1: limited)",
    )
    add("excess_noise_e", p.excess_noise_e, "e-", "√(noise² − shot noise²): what the detector and sample add")
    if p.noise_over_shot < 0.8:
        result.warnings.append(
            f"The signal's noise is {p.noise_over_shot:.2f} × the shot-noise limit, below what photons allow: the "
            "gain or offset do not fit this image (another camera mode, gain or readout speed?), or the image was "
            "smoothed or denoised."
        )


def _bleaching(
    result: ImageQualityResult,
    series: Any,
    signal: npt.NDArray[np.bool_],
    background: npt.NDArray[np.bool_],
    frame_interval_s: float | None,
    add: _Add,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> float:
    """Measure the bleaching of the series; add its metrics and table; return the share lost."""
    b = bleaching_of(series, signal, background, frame_interval_s, progress, cancel)
    result.tables["bleaching"] = b.table
    channel = result.channel
    add(
        "bleached_percent",
        b.lost_percent,
        "percent",
        "signal above background lost from the first frame to the last",
    )
    result.metrics.append(
        Metric("bleaching_rate_per_frame", b.rate_per_frame, "1/frame", b.rate_se, channel,
               "k of the fitted decay A·exp(−k·frame)")
    )  # fmt: skip
    if np.isfinite(b.half_life_frames):
        result.metrics.append(
            Metric("bleaching_half_life_frames", b.half_life_frames, "frames", b.half_life_se, channel,
                   "ln 2 / k: frames until half the signal is lost")
        )  # fmt: skip
        if frame_interval_s is not None:
            result.metrics.append(
                Metric("bleaching_half_life_s", b.half_life_frames * frame_interval_s, "s",
                       b.half_life_se * frame_interval_s, channel, "the half-life times the frame interval")
            )  # fmt: skip
    else:
        result.warnings.append("The signal does not decay over the series (fitted rate ≤ 0): no half-life.")
    if frame_interval_s is not None:
        result.settings["frame_interval_s"] = Setting(frame_interval_s, "s", Source.USER)
    return b.lost_percent

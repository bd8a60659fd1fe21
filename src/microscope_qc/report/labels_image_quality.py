"""Label entries of the image-quality measurement (QUAREP WG10).

Kept apart from :mod:`microscope_qc.report.labels` (which turns them into
:class:`~microscope_qc.report.labels.Label` tables and adds them to ``LABELS``); plain
``(text, unit, description)`` tuples, so this module imports nothing.
"""

from __future__ import annotations

__all__ = ["IMAGE_QUALITY_ENTRIES"]

_Entry = tuple[str, "str | None", str]

IMAGE_QUALITY_ENTRIES: dict[str, _Entry] = {
    # metrics
    "saturated_percent": ("Saturated pixels", "percent", "at the maximum of the bit depth"),
    "zero_clipped_percent": ("Zero-clipped pixels", "percent", ""),
    "dynamic_range_used_percent": (
        "Dynamic range used",
        "percent",
        "0.1–99.9 percentile range / detector range",
    ),
    "noise_sd_counts": ("Noise SD", "counts", "Immerkær's estimator"),
    "noise_sd_e": ("Noise SD in electrons", "e-", ""),
    "snr": (
        "Signal-to-noise ratio",
        None,
        "signal regions (or Otsu foreground) above background, over the noise SD",
    ),
    "cnr": ("Contrast-to-noise ratio", None, ""),
    "foreground_percent": ("Signal region (or Otsu foreground)", "percent", "share of the pixels"),
    "signal_mean_e": ("Signal in electrons", "e-", "mean of the signal region above the offset"),
    "background_mean_e": ("Background in electrons", "e-", "mean of the background region above the offset"),
    "signal_noise_e": (
        "Noise SD of the signal in electrons",
        "e-",
        "Immerkær's estimator in the signal region",
    ),
    "shot_noise_e": ("Shot-noise limit", "e-", "the signal region's mean of √(electrons)"),
    "noise_over_shot_noise": ("Noise over the shot-noise limit", None, "1: shot-noise limited"),
    "excess_noise_e": ("Noise above shot noise", "e-", "√(noise² − shot noise²)"),
    "bleached_percent": ("Signal lost to bleaching", "percent", "first frame to last, above background"),
    "bleaching_rate_per_frame": ("Bleaching rate", "1/frame", "k of the fitted A·exp(−k·frame)"),
    "bleaching_half_life_frames": ("Bleaching half-life", "frames", "ln 2 / k"),
    "bleaching_half_life_s": ("Bleaching half-life", "s", "ln 2 / k times the frame interval"),
    "focus_high_frequency_share": ("Focus: structure power above half Nyquist", None, "larger is sharper"),
    "pixel_over_nyquist": ("Pixel size / Nyquist pixel size", None, "≤ 1: sampled at Nyquist"),
    "quality_rating": ("Quality rating", "percent", "weighted share of the checks passed"),
    # table: checks
    "check": ("Check", None, ""),
    "metric": ("Metric", None, ""),
    "value": ("Value", None, ""),
    "limit": ("Limit", None, ""),
    "comparison": ("Pass if", None, ""),
    "passed": ("Passed", None, ""),
    "weight": ("Weight in the rating", None, ""),
    # table: bleaching
    "frame": ("Frame", None, "time point, from 0"),
    "time_s": ("Time", "s", "frame × frame interval"),
    "mean_signal_region": ("Mean of the signal region", "counts", ""),
    "mean_background_region": ("Mean of the background region", "counts", ""),
    "signal": ("Signal above background", "counts", "signal region − background region"),
    "fit": ("Fitted decay", "counts", "A·exp(−k·frame)"),
    # batch tables (batch.csv, worst_images.csv, failed_files.csv)
    "rank": ("Rank", None, "1: the worst image"),
    "file": ("File", None, ""),
    "failed_checks": ("Failed checks", None, "value against limit"),
    "snr_regions": ("SNR regions", None, "the user's regions, or Otsu's split"),
    "results": ("Results folder", None, ""),
    "error": ("Error", None, "why the file could not be checked"),
}

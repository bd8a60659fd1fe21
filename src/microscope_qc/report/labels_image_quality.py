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
    "snr": ("Signal-to-noise ratio", None, "Otsu foreground above background, over the noise SD"),
    "cnr": ("Contrast-to-noise ratio", None, ""),
    "foreground_percent": ("Foreground (Otsu)", "percent", ""),
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
}

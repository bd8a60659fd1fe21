"""Image quality of any image (QUAREP WG10): saturation, clipping, range, noise, SNR, focus, sampling, rating.

The names below load on first use (:mod:`microscope_qc._lazy`): importing
:class:`ImageQualitySettings` reads the settings module only (docs/image-quality.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.image_quality.analyze import CHECK_WEIGHTS, analyze_image_quality
    from microscope_qc.analysis.image_quality.checks import (
        focus_measure,
        immerkaer_noise,
        infer_bit_depth,
        otsu_threshold,
    )
    from microscope_qc.analysis.image_quality.result import ImageQualityResult
    from microscope_qc.analysis.image_quality.settings import ImageQualitySettings

__all__ = [
    "ImageQualitySettings",
    "ImageQualityResult",
    "analyze_image_quality",
    "CHECK_WEIGHTS",
    "focus_measure",
    "immerkaer_noise",
    "infer_bit_depth",
    "otsu_threshold",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ImageQualitySettings": "settings",
        "ImageQualityResult": "result",
        **dict.fromkeys(("analyze_image_quality", "CHECK_WEIGHTS"), "analyze"),
        **dict.fromkeys(("focus_measure", "immerkaer_noise", "infer_bit_depth", "otsu_threshold"), "checks"),
    },
)

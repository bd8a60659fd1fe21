"""Resolution without beads: Fourier ring correlation and decorrelation analysis.

FRC between two independent images of the same field, or of one photon-converted image split
binomially (1/7 and half-bit thresholds); decorrelation analysis of one image (Descloux,
Grußmayer & Radenovic, Nat Methods 2019), as published (docs/resolution.md).

The names below load on first use (:mod:`microscope_qc._lazy`): importing
:class:`ResolutionSettings` reads the settings module only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.resolution.analyze import analyze_resolution, choose_method
    from microscope_qc.analysis.resolution.decorrelation import (
        DecorrelationCurves,
        dcorr_max,
        decorrelation_analysis,
    )
    from microscope_qc.analysis.resolution.frc import (
        ONE_SEVENTH,
        FRCCurve,
        binomial_split,
        frc_curve,
        half_bit_threshold,
        threshold_crossing,
    )
    from microscope_qc.analysis.resolution.result import ResolutionResult
    from microscope_qc.analysis.resolution.settings import FRCThreshold, ResolutionMethod, ResolutionSettings

__all__ = [
    "ResolutionSettings",
    "ResolutionMethod",
    "FRCThreshold",
    "ResolutionResult",
    "analyze_resolution",
    "choose_method",
    "decorrelation_analysis",
    "dcorr_max",
    "DecorrelationCurves",
    "frc_curve",
    "FRCCurve",
    "binomial_split",
    "half_bit_threshold",
    "threshold_crossing",
    "ONE_SEVENTH",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(("ResolutionSettings", "ResolutionMethod", "FRCThreshold"), "settings"),
        "ResolutionResult": "result",
        **dict.fromkeys(("analyze_resolution", "choose_method"), "analyze"),
        **dict.fromkeys(("decorrelation_analysis", "dcorr_max", "DecorrelationCurves"), "decorrelation"),
        **dict.fromkeys(
            (
                "frc_curve",
                "FRCCurve",
                "binomial_split",
                "half_bit_threshold",
                "threshold_crossing",
                "ONE_SEVENTH",
            ),
            "frc",
        ),
    },
)

"""Settings of the mirror (axial resolution) analysis (light to import: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass

from microscope_qc.instrument import Setting
from microscope_qc.setting_spec import setting, settings_provenance

__all__ = ["MirrorSettings"]


@dataclass
class MirrorSettings:
    """Parameters of :func:`~microscope_qc.analysis.mirror.analyze_mirror`."""

    band_px: int = setting(
        16,
        "column band",
        "width of the column bands fitted one by one across the field (pixels of x)",
        unit="px",
        flag="band",
        minimum=1,
        maximum=4096,
    )
    min_r2: float = setting(
        0.9,
        "minimum R²",
        "bands whose Gaussian fit explains less are reported and left out of the field statistics",
        flag="min-r2",
        minimum=0.0,
        maximum=1.0,
    )
    tolerance_um: float | None = setting(
        None,
        "pass if FWHM ≤",
        "pass if the axial FWHM of the ROI-averaged profile is at most this (default: no verdict)",
        unit="um",
        flag="tolerance",
        minimum=0.0,
    )
    tolerance_ratio: float | None = setting(
        None,
        "pass if FWHM / theory ≤",
        "pass if the axial FWHM over the confocal reflection theory is at most this (default: no verdict)",
        flag="tolerance-ratio",
        minimum=0.0,
    )
    max_cv_percent: float | None = setting(
        None,
        "pass if band CV ≤",
        "pass if the CV of the band FWHMs across the field is at most this (default: no verdict)",
        unit="percent",
        flag="max-cv",
        minimum=0.0,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)

"""Label entries of the mirror (axial resolution) measurement.

Kept apart from :mod:`microscope_qc.report.labels` (which turns them into
:class:`~microscope_qc.report.labels.Label` tables and adds them to ``LABELS``); plain
``(text, unit, description)`` tuples, so this module imports nothing.
"""

from __future__ import annotations

__all__ = ["MIRROR_ENTRIES"]

_Entry = tuple[str, "str | None", str]

MIRROR_ENTRIES: dict[str, _Entry] = {
    # metrics
    "fwhm_z_um": ("Axial FWHM (ROI-averaged profile, MetroloJ)", "um", ""),
    "fit_r2": ("Fit R² of the ROI-averaged profile", None, ""),
    "n_bands": ("Column bands", None, ""),
    "n_bands_ok": ("Column bands with a good fit", None, ""),
    "band_fwhm_median_um": ("Median axial FWHM over the bands", "um", ""),
    "band_fwhm_min_um": ("Smallest band axial FWHM", "um", ""),
    "band_fwhm_max_um": ("Largest band axial FWHM", "um", ""),
    "band_fwhm_cv_percent": ("CV of the band axial FWHMs", "percent", "variation across the field"),
    "tilt_deg": ("Mirror tilt in the XZ plane", "deg", ""),
    "theory_fwhm_z_um": ("Theoretical axial FWHM (confocal reflection, plane mirror)", "um", ""),
    "ratio_to_theory": ("Axial FWHM / theory (MetroloJ profile)", None, ""),
    "band_ratio_to_theory": ("Median band axial FWHM / theory", None, ""),
    # tables: bands, profile
    "band": ("Band", None, ""),
    "x_start_px": ("First column", "px", ""),
    "x_end_px": ("Column after the last", "px", ""),
    "x_um": ("Band centre x", "um", ""),
    "fwhm_um": ("Axial FWHM", "um", ""),
    "fwhm_se_um": ("Axial FWHM standard error", "um", ""),
    "centre_um": ("Reflection centre z", "um", ""),
    "r2": ("Fit R²", None, ""),
    "status": ("Status", None, "ok, poor fit (R² below the limit) or fit failed"),
    "z_um": ("Position z", "um", ""),
    "intensity": ("Mean intensity", "counts", ""),
    "fit": ("Gaussian fit", "counts", ""),
}

"""Microscope settings and the optical theory every measurement compares against.

Formulas follow ``METRICS.md`` §1. Each theoretical value is offered twice where the
reference tools and the physics disagree: the MetroloJ_QC (v1.3) formula, so that ratios
match years of facility history, and a better estimate beside it, each labelled.
Wavelengths are in nanometres, every returned length in micrometres.
"""

from __future__ import annotations

from microscope_qc.instrument.settings import (
    FWHM_PER_SIGMA,
    ChannelSettings,
    MicroscopeSettings,
    Modality,
    Setting,
    SettingsError,
    Source,
    TheoreticalResolution,
    settings_from_metadata,
)
from microscope_qc.instrument.theory import (
    SHEET_THICKNESS,
    bead_fwhm_um,
    correct_for_bead,
    gaussian_psf_sigma,
    light_sheet_axial_fwhm_um,
    metroloj_resolution,
    nyquist_sampling,
    physical_resolution,
)

__all__ = [
    "FWHM_PER_SIGMA",
    "Modality",
    "Source",
    "Setting",
    "ChannelSettings",
    "MicroscopeSettings",
    "TheoreticalResolution",
    "metroloj_resolution",
    "physical_resolution",
    "nyquist_sampling",
    "gaussian_psf_sigma",
    "light_sheet_axial_fwhm_um",
    "SHEET_THICKNESS",
    "bead_fwhm_um",
    "correct_for_bead",
    "SettingsError",
    "settings_from_metadata",
]

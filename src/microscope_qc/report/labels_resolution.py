"""Label entries of the resolution measurement (FRC, decorrelation).

Kept apart from :mod:`microscope_qc.report.labels` (which turns them into
:class:`~microscope_qc.report.labels.Label` tables and adds them to ``LABELS``); plain
``(text, unit, description)`` tuples, so this module imports nothing.
"""

from __future__ import annotations

__all__ = ["RESOLUTION_ENTRIES"]

_Entry = tuple[str, "str | None", str]

RESOLUTION_ENTRIES: dict[str, _Entry] = {
    # metrics
    "resolution_um": ("Resolution", "um", "1/cut-off frequency of the method used (FRC or decorrelation)"),
    "resolution_px": ("Resolution in pixels", "px", ""),
    "cutoff_frequency_per_um": ("Cut-off frequency", "per_um", ""),
    "frc_resolution_1_7_um": ("FRC resolution (1/7 threshold)", "um", ""),
    "frc_resolution_half_bit_um": ("FRC resolution (half-bit threshold)", "um", ""),
    "frc_resolution_x_um": (
        "FRC resolution along x",
        "um",
        "ring sectors within 22.5° of the x axis, the chosen threshold",
    ),
    "frc_resolution_y_um": (
        "FRC resolution along y",
        "um",
        "ring sectors within 22.5° of the y axis, the chosen threshold",
    ),
    "frc_anisotropy": ("FRC anisotropy (x / y)", None, ""),
    "decorrelation_kc": ("Decorrelation cut-off kc (Nyquist = 1)", None, ""),
    "decorrelation_a0": ("Decorrelation peak height A₀", None, "of the unfiltered curve; an SNR indicator"),
    # tables: curve (FRC or decorrelation), peaks
    "frequency_per_um": ("Spatial frequency", "per_um", ""),
    "frc": ("FRC", None, "for a split image: after the half-data correction 2·FRC/(1 + FRC)"),
    "frc_split": ("FRC of the two half-photon images", None, "before the half-data correction"),
    "frc_x": ("FRC along x", None, "ring sectors within 22.5° of the x axis"),
    "frc_y": ("FRC along y", None, "ring sectors within 22.5° of the y axis"),
    "threshold_1_7": ("1/7 threshold", None, ""),
    "threshold_half_bit": ("Half-bit threshold", None, "van Heel & Schatz (2005)"),
    "n_pixels": ("Pixels in the ring", None, ""),
    "curve": ("Decorrelation curve", None, "0: unfiltered; then one per high-pass filter"),
    "g": ("High-pass parameter g", None, "filter 1 − exp(−2 g² k²), k normalised to Nyquist = 1"),
    "radius_normalised": ("Radius of the low-pass disc (Nyquist = 1)", None, ""),
    "d": ("Decorrelation d(r)", None, ""),
    "kc": ("Peak position kc (Nyquist = 1)", None, "0: the curve has no peak"),
    "amplitude": ("Peak height", None, ""),
}

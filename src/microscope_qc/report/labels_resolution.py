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
    "theory_resolution_um": (
        "Theoretical resolution (Abbe)",
        "um",
        "λem / (2 NA), given the NA and emission",
    ),
    "ratio_to_theory": ("Resolution / theory", None, "the resolution over Abbe's limit"),
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
    "map_valid_tiles_percent": ("Map tiles with a resolution", "percent", "share of the local map's tiles"),
    "map_resolution_median_um": ("Local resolution, median of the tiles", "um", ""),
    "map_resolution_best_um": ("Local resolution, finest tile", "um", ""),
    "map_resolution_worst_um": ("Local resolution, coarsest tile", "um", ""),
    "map_anisotropy_median": (
        "Local anisotropy (x / y), median of the tiles",
        None,
        "resolution along x over resolution along y: above 1, coarser along x",
    ),
    # tables: curve (FRC or decorrelation), peaks, tiles (the local map)
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
    "tile": ("Tile", None, "row-major index in the map"),
    "tile_row": ("Map row", None, ""),
    "tile_column": ("Map column", None, ""),
    "y_px": ("Tile's first row", "px", ""),
    "x_px": ("Tile's first column", "px", ""),
    "tile_px": ("Tile side", "px", ""),
    "centre_y_um": ("Tile centre y", "um", "pixel centres at integer positions × pixel size"),
    "centre_x_um": ("Tile centre x", "um", "pixel centres at integer positions × pixel size"),
    "tile_resolution_um": ("Tile resolution", "um", "empty: no resolution (see reason)"),
    "tile_resolution_x_um": ("Tile resolution along x", "um", "sectors within 22.5° of the x axis"),
    "tile_resolution_y_um": ("Tile resolution along y", "um", "sectors within 22.5° of the y axis"),
    "tile_anisotropy": ("Tile anisotropy (x / y)", None, ""),
    "valid": ("Tile has a resolution", None, ""),
    "reason": ("Why the tile has none", None, ""),
}

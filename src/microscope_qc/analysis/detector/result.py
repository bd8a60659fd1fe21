"""The result of the detector analysis (its settings are in :mod:`.settings`).

Made to be drawn: the curves are tables (one row per point, with the fit's model values and
which rows the fits used), the maps are arrays in ``images``, and the fit ranges are numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from microscope_qc.results import Result

__all__ = ["DetectorResult", "TABLES", "IMAGES"]

#: the tables a result may hold, per mode (written as CSV files)
TABLES: dict[str, tuple[str, ...]] = {
    "emva": ("photon_transfer", "dark_levels", "spatial"),
    "single-scene": ("photon_transfer", "frames"),
    "dark": ("defect_pixels",),
    "cv": ("cv",),
    "noisee": ("noisee", "beads"),
}

#: the maps a result may hold in ``images`` (arrays of the frame's shape unless said)
IMAGES: dict[str, str] = {
    "dsnu_map": "EMVA: average dark image minus its mean (DN, float32)",
    "prnu_map": "EMVA: (average bright − average dark) / its mean − 1 (relative, float32)",
    "dark_noise_map": "EMVA and single-scene: per-pixel temporal SD of the dark stack (DN, float32)",
    "mean_dark": "dark mode: the mean dark image (DN, float32)",
    "noise_map": "dark mode: per-pixel temporal SD (DN, float32)",
    "hot_pixels": "dark mode: bool map",
    "warm_pixels": "dark mode: bool map",
    "cold_pixels": "dark mode: bool map",
    "excluded_pixels": "single-scene: bool map of the pixels left out (hot, cold, noisiest)",
    "mean_image": "single-scene and NoiSee beads: temporal mean of the bright frames (float32)",
    "kymographs": "NoiSee beads: (beads, T, 2·7 + 1) float32, x through each bead's maximum over time",
}


@dataclass
class DetectorResult(Result):
    """Result of :func:`analyze_detector`.

    ``tables`` holds the curves (see :data:`TABLES`), ``images`` the maps (see :data:`IMAGES`).
    """

    #: the mode that was run
    mode: str = "emva"
    #: ranges of the fits, as (low, high) signal above dark in DN: "gain", "linearity" (EMVA)
    fit_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: the fitted lines: "gain" (slope K, DN/e⁻, through the origin), "ptc" (single-scene:
    #: slope DN/e⁻ and intercept DN²), "linearity" (slope, intercept)
    fits: dict[str, dict[str, float]] = field(default_factory=dict)

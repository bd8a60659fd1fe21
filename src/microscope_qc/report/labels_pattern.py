"""Label entries of the pattern-slide measurement: the field of rings', with the line pairs' and the ladder's.

Kept apart from :mod:`microscope_qc.report.labels` (which turns them into
:class:`~microscope_qc.report.labels.Label` tables and adds them to ``LABELS``); plain
``(text, unit, description)`` tuples, so this module imports nothing but its sibling
:mod:`microscope_qc.report.labels_pattern_lines`.
"""

from __future__ import annotations

from microscope_qc.report.labels_pattern_lines import PATTERN_LADDER_ENTRIES, PATTERN_LINES_ENTRIES

__all__ = ["PATTERN_ENTRIES", "PATTERN_RINGS_ENTRIES"]

_Entry = tuple[str, "str | None", str]

PATTERN_RINGS_ENTRIES: dict[str, _Entry] = {
    # metrics of one channel's grid
    "n_spots": ("Spots on the grid", None, ""),
    "n_off_grid": ("Spots off the grid", None, ""),
    "n_missing": ("Missing grid positions", None, ""),
    "pitch_um": ("Grid pitch (measured)", "um", ""),
    "nominal_pitch_um": ("Nominal grid pitch", "um", ""),
    "magnification_error_percent": ("Magnification error vs nominal", "percent", ""),
    "rotation_deg": ("Grid rotation", "deg", ""),
    "distortion_max_um": ("Largest distortion", "um", ""),
    "distortion_rms_um": ("RMS distortion", "um", ""),
    "distortion_max_percent": ("Largest distortion (% of the half-diagonal)", "percent", ""),
    "distortion_rms_percent": ("RMS distortion (% of the half-diagonal)", "percent", ""),
    "residual_rms_um": ("RMS residual after the grid model", "um", ""),
    "residual_max_um": ("Largest residual after the grid model", "um", ""),
    "radial_k1_percent": ("Radial distortion k1 (at the corner)", "percent", ""),
    "radial_k2_percent": ("Radial distortion k2 (at the corner)", "percent", ""),
    "radial_distortion_corner_percent": ("Radial distortion at the corner", "percent", ""),
    "grid_model_parameters": ("Parameters of the chosen grid model", None, ""),
    "fwhm_median_um": ("Median spot FWHM", "um", ""),
    "fwhm_min_um": ("Smallest spot FWHM", "um", ""),
    "fwhm_max_um": ("Largest spot FWHM", "um", ""),
    "fwhm_cv_percent": ("CV of the spot FWHMs over the field", "percent", ""),
    "uniformity_percent": ("Uniformity U of the spot intensities (MetroloJ_QC)", "percent", ""),
    "field_uniformity_percent": ("Field uniformity FU of the spot intensities (MetroloJ_QC)", "percent", ""),
    "centering_accuracy_percent": (
        "Centring accuracy CA of the spot intensities (MetroloJ_QC)",
        "percent",
        "",
    ),
    "intensity_cv_percent": ("CV of the spot intensities", "percent", ""),
    # metrics of a channel pair (the moving channel's)
    "n_matched": ("Spots matched to the reference channel", None, ""),
    "registration_shift_x_um": ("Shift x to the reference channel (field centre)", "um", ""),
    "registration_shift_y_um": ("Shift y to the reference channel (field centre)", "um", ""),
    "registration_magnification_percent": (
        "Magnification difference to the reference channel",
        "percent",
        "",
    ),
    "registration_rotation_deg": ("Rotation to the reference channel", "deg", ""),
    "registration_residual_rms_um": ("RMS residual of the channel registration", "um", ""),
    # table columns: spots, missing, models, pairs
    "channel": ("Channel", None, ""),
    "spot": ("Spot", None, ""),
    "status": (
        "Status",
        None,
        "on grid, off grid (no grid neighbour), outlier (far from the grid model), edge or fit failed",
    ),
    "grid_i": (
        "Grid column index",
        None,
        "along the grid's x-like axis, 0 at the spot nearest the field centre",
    ),
    "grid_j": ("Grid row index", None, "along the grid's y-like axis"),
    "x_um": ("Position x", "um", ""),
    "y_um": ("Position y", "um", ""),
    "x_se_um": ("Position x standard error", "um", ""),
    "y_se_um": ("Position y standard error", "um", ""),
    "ideal_x_um": ("Ideal grid position x", "um", ""),
    "ideal_y_um": ("Ideal grid position y", "um", ""),
    "distortion_x_um": ("Distortion x", "um", "position minus the ideal (undistorted) grid"),
    "distortion_y_um": ("Distortion y", "um", "position minus the ideal (undistorted) grid"),
    "distortion_um": ("Distortion", "um", "length of the distortion vector"),
    "residual_x_um": ("Residual x after the grid model", "um", ""),
    "residual_y_um": ("Residual y after the grid model", "um", ""),
    "residual_um": ("Residual after the grid model", "um", ""),
    "fwhm_um": ("Spot FWHM", "um", "geometric mean of the principal axes of the fitted 2D Gaussian"),
    "fwhm_se_um": ("Spot FWHM standard error", "um", ""),
    "intensity": (
        "Spot intensity",
        "counts",
        "integrated intensity of the fitted 2D Gaussian (counts × pixels)",
    ),
    "r2": ("Fit R²", None, ""),
    "model": ("Grid model", None, ""),
    "bic": ("BIC", None, "Bayesian information criterion: the lowest is chosen"),
    "chosen": ("Chosen", None, ""),
    "channel_ref": ("Reference channel", None, ""),
    "channel_moving": ("Moving channel", None, ""),
    "shift_x_um": ("Shift x (field centre)", "um", ""),
    "shift_y_um": ("Shift y (field centre)", "um", ""),
    "shift_x_se_um": ("Shift x standard error", "um", ""),
    "shift_y_se_um": ("Shift y standard error", "um", ""),
    "magnification_percent": ("Magnification difference", "percent", ""),
    "magnification_se_percent": ("Magnification difference standard error", "percent", ""),
    "rotation_se_deg": ("Rotation standard error", "deg", ""),
    "residual_rms_x_um": ("RMS residual x", "um", ""),
    "residual_rms_y_um": ("RMS residual y", "um", ""),
}

#: the names two kinds share with different descriptions: one entry that says both
_SHARED: dict[str, _Entry] = {
    "status": (
        "Status",
        None,
        "a spot of a field of rings: on grid, off grid (no grid neighbour), outlier (far from the grid model), "
        "edge or fit failed; a ladder step: ok, saturated or clipped at 0",
    ),
    "background_counts": (
        "Background",
        "counts",
        "the level the line groups' contrast, or the ladder's steps, are measured above",
    ),
}


def _merged(*tables: dict[str, _Entry]) -> dict[str, _Entry]:
    """One table of every kind's entries; a name the kinds share has one entry (the same, or ``_SHARED``)."""
    out: dict[str, _Entry] = {}
    for table in tables:
        for name, entry in table.items():
            if name in out and out[name] != entry and name not in _SHARED:
                raise ValueError(f"the pattern label {name!r} differs between kinds: {out[name]} and {entry}")
            out.setdefault(name, entry)
    return {**out, **_SHARED}


#: every entry of the measurement: a field of rings, line pairs and gratings, a grey-level ladder
PATTERN_ENTRIES: dict[str, _Entry] = _merged(
    PATTERN_RINGS_ENTRIES, PATTERN_LINES_ENTRIES, PATTERN_LADDER_ENTRIES
)

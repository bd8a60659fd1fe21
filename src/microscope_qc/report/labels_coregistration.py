"""Label entries of the chromatic co-registration measurement (its bead columns are the PSF's, added there).

Kept apart from :mod:`microscope_qc.report.labels` (which turns them into
:class:`~microscope_qc.report.labels.Label` tables and adds them to ``LABELS``); plain
``(text, unit, description)`` tuples, so this module imports nothing.
"""

from __future__ import annotations

__all__ = ["COREGISTRATION_ENTRIES"]

_Entry = tuple[str, "str | None", str]


def _L(text: str, unit: str | None = None, description: str = "") -> _Entry:
    return (text, unit, description)


def _xyz(pattern: str, text: str, unit: str | None, axes: str = "xyz") -> dict[str, _Entry]:
    """Entries for a name with one variant per axis: ``pattern`` and ``text`` hold ``{a}``."""
    return {pattern.format(a=a): (text.format(a=a), unit, "") for a in axes}


COREGISTRATION_ENTRIES: dict[str, _Entry] = {
    # beads table
    "channel_bead": _L("Bead in its channel"),
    "fwhm_x_um": _L("Lateral FWHM x", "um"),
    "fwhm_z_um": _L("Axial FWHM z", "um"),
    "r2_xy": _L("Fit R² (xy)"),
    "matched_pairs": _L("Matched partners", description="channel pair and partner bead of every match"),
    # pairs and shifts tables
    "channel_ref": _L("Reference channel"),
    "channel_moving": _L("Moving channel"),
    "bead_ref": _L("Reference bead"),
    "bead_moving": _L("Moving bead"),
    "n_matched": _L("Matched beads"),
    "origin": _L("Position from", description="'detected' automatically or given by the 'user'"),
    "position_index": _L("Given position (row)", description="row of the given positions; −1 when detected"),
    "match_gate_um": _L("Matching distance limit", "um"),
    **_xyz("shift_{a}_um", "Shift {a}", "um"),
    **_xyz("shift_{a}_se_um", "Shift {a} standard error", "um"),
    **_xyz("shift_{a}_median_um", "Median shift {a}", "um"),
    **_xyz("shift_{a}_sd_um", "Shift {a} spread (SD)", "um"),
    "distance_3d_um": _L("3D distance", "um"),
    "distance_3d_se_um": _L("3D distance standard error", "um"),
    "lateral_distance_um": _L("Lateral distance (ISO)", "um"),
    "lateral_distance_se_um": _L("Lateral distance standard error", "um"),
    "axial_distance_um": _L("Axial distance (ISO)", "um"),
    "axial_distance_se_um": _L("Axial distance standard error", "um"),
    "ratio": _L("Co-registration ratio d / r (MetroloJ_QC)"),
    "ratio_se": _L("Co-registration ratio standard error"),
    "reference_distance_um": _L("Reference distance r (resolution ellipsoid)", "um"),
    "model": _L("Registration model"),
    **_xyz("residual_rms_{a}_um", "Residual {a} after the model (RMS)", "um"),
    **_xyz("residual_{a}_um", "Residual {a} after the model", "um"),
    "bic_translation": _L("BIC, translation model"),
    "bic_affine": _L("BIC, affine model"),
    "bic_poly2": _L("BIC, quadratic model"),
    "magnification_percent": _L("Magnification difference", "percent"),
    "magnification_se_percent": _L("Magnification difference standard error", "percent"),
    "rotation_deg": _L("Rotation", "deg"),
    "rotation_se_deg": _L("Rotation standard error", "deg"),
    "magnification_significant": _L("Magnification difference significant (> 2 SE)"),
    "rotation_significant": _L("Rotation significant (> 2 SE)"),
    **_xyz("significant_terms_{a}", "Significant model terms ({a})", None),
}

"""Label entries of the pattern measurement's line groups, gratings and grey-level ladder.

Kept apart from :mod:`microscope_qc.report.labels` (which turns them into
:class:`~microscope_qc.report.labels.Label` tables and adds them to ``LABELS`` under "pattern",
with the rings' entries); plain ``(text, unit, description)`` tuples, so this module imports nothing.
"""

from __future__ import annotations

__all__ = ["PATTERN_LINES_ENTRIES", "PATTERN_LADDER_ENTRIES"]

_Entry = tuple[str, "str | None", str]

PATTERN_LINES_ENTRIES: dict[str, _Entry] = {
    # metrics
    "n_groups": ("Line groups found", None, ""),
    "n_line_groups": ("Groups of line pairs", None, ""),
    "n_gratings": ("Gratings", None, ""),
    "n_resolved": ("Resolved groups", None, ""),
    "smallest_resolved_spacing_um": ("Smallest resolved line spacing", "um", ""),
    "resolved_spacing_interpolated_um": ("Resolved spacing (interpolated at the criterion)", "um", ""),
    "lsf_fwhm_um": ("Line-spread function FWHM", "um", ""),
    "slide_rotation_deg": ("Slide rotation", "deg", ""),
    "spacing_error_max_percent": ("Largest spacing error", "percent", ""),
    # tables: groups, profiles
    "channel": ("Channel", None, ""),
    "group": ("Group", None, ""),
    "kind": ("Kind", None, "lines, grating, unresolved or line (isolated)"),
    "centre_y_px": ("Centre y", "px", ""),
    "centre_x_px": ("Centre x", "px", ""),
    "angle_deg": ("Line direction", "deg", "from the image x axis towards +y"),
    "coherence": ("Orientation coherence", None, "structure tensor (λ₁ − λ₂)/(λ₁ + λ₂)"),
    "length_um": ("Line length", "um", ""),
    "width_um": ("Group width at half maximum", "um", ""),
    "n_lines": ("Lines", None, ""),
    "spacing_um": ("Line spacing", "um", "centre to centre"),
    "spacing_se_um": ("Line spacing standard error", "um", ""),
    "spacing_method": ("Spacing method", None, ""),
    "nominal_spacing_um": ("Nominal spacing", "um", ""),
    "spacing_error_percent": ("Spacing error", "percent", "measured / nominal − 1"),
    "frequency_per_um": ("Spatial frequency", "per_um", "1 / spacing"),
    "contrast": ("Michelson contrast", None, "(Imax − Imin)/(Imax + Imin), mean over the line pairs"),
    "contrast_se": ("Contrast standard error", None, ""),
    "dip_percent": ("Dip between lines", "percent", "1 − Imin/Imax"),
    "resolved": ("Resolved", None, "dip at least the criterion"),
    "lsf_fwhm_se_um": ("LSF FWHM standard error", "um", ""),
    "background_counts": ("Background", "counts", "the level the contrast is measured above"),
    "touches_edge": ("Touches the image edge", None, "the group may be cut"),
    "u_um": ("Position across the lines", "um", ""),
    "profile_mean": ("Mean intensity across the lines", "counts", ""),
    "profile_sem": ("Standard error of the profile", "counts", ""),
}

PATTERN_LADDER_ENTRIES: dict[str, _Entry] = {
    # metrics
    "n_steps": ("Grey-level steps", None, ""),
    "n_steps_saturated": ("Saturated or clipped steps", None, ""),
    "background_counts": ("Background", "counts", ""),
    "dynamic_range_used_percent": ("Dynamic range used", "percent", ""),
    "brightest_step_percent": ("Brightest step (of the full scale)", "percent", ""),
    "slope_counts_per_level": ("Response slope", "counts", "counts per unit of nominal level"),
    "intercept_counts": ("Response intercept", "counts", ""),
    "linearity_r2": ("Linearity R²", None, ""),
    "max_deviation_percent": ("Largest deviation from linearity", "percent", "of the fitted range"),
    "curvature_p_value": ("Curvature p-value", None, ""),
    "response_exponent": ("Response exponent γ", None, ""),
    "nonlinear": ("Nonlinear response", None, "1: curvature significant and beyond the tolerance"),
    # table: steps
    "channel": ("Channel", None, ""),
    "step": ("Step", None, ""),
    "centre_y_px": ("Centre y", "px", ""),
    "centre_x_px": ("Centre x", "px", ""),
    "area_px": ("Pixels measured", "px", "the step's interior"),
    "nominal_level": ("Nominal level", None, ""),
    "mean": ("Mean intensity", "counts", ""),
    "sd": ("Intensity SD", "counts", ""),
    "sem": ("Standard error of the mean", "counts", ""),
    "saturated_percent": ("Pixels at full scale", "percent", ""),
    "status": ("Status", None, "ok, saturated or clipped at 0"),
    "fit": ("Straight-line fit", "counts", ""),
    "deviation_percent": ("Deviation from the line", "percent", "of the fitted range"),
}

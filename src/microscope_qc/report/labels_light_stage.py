"""Label entries of the light-source (QUAREP WG1) and stage (QUAREP WG6) measurements.

Kept apart from :mod:`microscope_qc.report.labels` (which turns them into
:class:`~microscope_qc.report.labels.Label` tables and adds them to ``LABELS``) so that module
stays small; plain ``(text, unit, description)`` tuples, so this module imports nothing.
"""

from __future__ import annotations

__all__ = ["LIGHT_SOURCE_ENTRIES", "STAGE_ENTRIES", "EXTRA_UNITS"]

#: display spellings of the units these measurements add
EXTRA_UNITS: dict[str, str] = {
    "mW/h": "mW/h",
    "counts/h": "counts/h",
    "percent/h": "%/h",
    "mW/percent": "mW/%",
    "counts/percent": "counts/%",
    "C": "°C",
    "um/s": "µm/s",
    "um/min": "µm/min",
    "frame": "frame",
}

_Entry = tuple[str, "str | None", str]


def _abs(name: str, text: str, description: str = "") -> dict[str, _Entry]:
    """An absolute quantity, in mW for power logs and in counts for image series."""
    return {
        name.format(u="mw"): (text, "mW", description),
        name.format(u="counts"): (text.replace("power", "intensity"), "counts", description),
    }


def _per(name: str, text: str, unit: str) -> dict[str, _Entry]:
    return {
        name.format(u="mw"): (text, f"mW{unit}", ""),
        name.format(u="counts"): (text.replace("power", "intensity"), f"counts{unit}", ""),
    }


LIGHT_SOURCE_ENTRIES: dict[str, _Entry] = {
    # metrics
    "n_readings": ("Readings analysed", None, ""),
    "duration_s": ("Log duration", "s", ""),
    "sampling_interval_s": ("Sampling interval", "s", ""),
    "n_plateaus": ("Plateaus", None, ""),
    "warmup_time_s": ("Warm-up time", "s", ""),
    **_abs("final_plateau_{u}", "Final plateau power"),
    "mean_power_mw": ("Mean power after warm-up", "mW", ""),
    "mean_intensity_counts": ("Mean intensity after warm-up", "counts", ""),
    "stability_percent": ("Stability S", "percent", ""),
    "stability_after_warmup_percent": ("Stability S after warm-up", "percent", ""),
    "short_term_stability_percent": ("Short-term stability S", "percent", ""),
    "cv_percent": ("Coefficient of variation", "percent", ""),
    **_per("drift_{u}_per_h", "Power drift", "/h"),
    "drift_percent_per_h": ("Relative drift", "percent/h", ""),
    "allan_deviation_min_percent": ("Smallest Allan deviation", "percent", ""),
    "allan_tau_min_s": ("Averaging time of the smallest Allan deviation", "s", ""),
    "power_change_percent": ("Power change from the previous record", "percent", ""),
    "temperature_range_c": ("Temperature range", "C", ""),
    "worst_plateau_stability_percent": ("Lowest plateau stability S", "percent", ""),
    "worst_plateau_cv_percent": ("Highest plateau CV", "percent", ""),
    **_per("linearity_slope_{u}_per_percent", "Linearity slope (OLS)", "/percent"),
    **_abs("linearity_intercept_{u}", "Linearity intercept (OLS)"),
    "linearity_r2": ("Linearity R² (OLS)", None, ""),
    **_per("linearity_origin_slope_{u}_per_percent", "Linearity slope through the origin", "/percent"),
    "linearity_origin_r2": ("Linearity R² through the origin", None, ""),
    "linearity_max_residual_percent": ("Largest linearity residual", "percent", ""),
    # tables: readings, plateaus, allan, problems
    "t_s": ("Time from the first reading", "s", ""),
    "power": ("Power", None, "mW for power-meter logs, counts (mean intensity) for image series"),
    "channel": ("Light", None, "one per wavelength of the log, in increasing order"),
    "wavelength_nm": ("Wavelength", "nm", ""),
    "setpoint_percent": ("Set-point", "percent", ""),
    "temperature_c": ("Temperature", "C", ""),
    "plateau": ("Plateau", None, "−1: light off or a transition between plateaus"),
    "after_warmup": ("After warm-up", None, ""),
    "row": ("Line in the file", None, ""),
    "start_s": ("Plateau start", "s", ""),
    "end_s": ("Plateau end", "s", ""),
    "mean": ("Mean", None, "of the plateau, in the unit of power"),
    "sd": ("Standard deviation", None, "ddof = 1, in the unit of power"),
    "residual": ("Linearity residual (OLS)", None, "observed − fitted, in the unit of power"),
    "origin_residual": ("Linearity residual (through the origin)", None, "observed − fitted"),
    "tau_s": ("Averaging time τ", "s", ""),
    "adev_percent": ("Allan deviation", "percent", ""),
    "n_terms": ("Terms in the Allan sum", None, ""),
    "problem": ("Problem", None, "why the reading or frame was left out"),
}

STAGE_ENTRIES: dict[str, _Entry] = {
    # metrics
    "n_frames": ("Frames", None, ""),
    "n_localised": ("Frames localised", None, ""),
    **{f"sd_{a}_um": (f"Position SD {a}", "um", "") for a in "xyz"},
    "sd_max_um": ("Largest position SD", "um", ""),
    **{
        f"iso_repeatability_unidirectional_{a}_um": (f"ISO 230-2 unidirectional repeatability {a}", "um", "")
        for a in "xy"
    },
    **{f"iso_reversal_{a}_um": (f"ISO 230-2 reversal value (backlash) {a}", "um", "") for a in "xy"},
    **{
        f"iso_repeatability_bidirectional_{a}_um": (f"ISO 230-2 bidirectional repeatability {a}", "um", "")
        for a in "xy"
    },
    "duration_s": ("Duration", "s", ""),
    "n_bridged": ("Frames bridged", None, ""),
    "stabilisation_time_s": ("Stabilisation time (MetroloJ_QC)", "s", ""),
    "drift_velocity_um_per_min": ("Lateral drift velocity", "um/min", ""),
    **{f"drift_velocity_{a}_um_per_min": (f"Drift velocity {a}", "um/min", "") for a in "xy"},
    "focus_drift_rate_um_per_min": ("Focus drift rate", "um/min", ""),
    "focus_drift_um": ("Focus drift", "um", ""),
    "total_displacement_um": ("Displacement at the end", "um", ""),
    "max_displacement_um": ("Largest displacement", "um", ""),
    "mean_velocity_before_um_per_min": ("Mean velocity before stabilisation", "um/min", ""),
    "mean_velocity_after_um_per_min": ("Mean velocity after stabilisation", "um/min", ""),
    **{f"sd_after_{a}_um": (f"Position SD {a} after stabilisation", "um", "") for a in "xyz"},
    # positions
    "frame": ("Frame", None, ""),
    "t_s": ("Time", "s", ""),
    **{f"{a}_um": (f"Position {a}", "um", "") for a in "xyz"},
    **{f"{a}_se_um": (f"Position {a} standard error", "um", "") for a in "xyz"},
    "status": ("Status", None, "ok, or why the frame was left out (no bead, 2 beads, fit failed)"),
    "n_spots": ("Spots found", None, ""),
    "cycle": ("Cycle", None, ""),
    "distance_um": ("Move distance", "um", "NaN in iso.csv: every distance pooled"),
    "direction": ("Move direction", None, "the diagonal the stage moved along before the frame"),
    "dx_um": ("Move x", "um", "the excursion before the frame; the stage came back the opposite way"),
    "dy_um": ("Move y", "um", ""),
    **{
        f"error_{a}_um": (f"Repositioning error {a}", "um", "position − mean position of its distance")
        for a in "xyz"
    },
    **{f"rel_{a}_um": (f"Position {a} relative to t0", "um", "") for a in "xyz"},
    "displacement_um": ("Displacement from t0", "um", ""),
    "step_um": ("Displacement from the previous frame", "um", ""),
    "velocity_um_per_min": ("Velocity", "um/min", ""),
    "bridged": ("Bridged (no bead)", None, ""),
    # groups, iso, msd
    "axis": ("Axis", None, ""),
    "n": ("Frames", None, ""),
    "mean_um": ("Mean position", "um", ""),
    "sd_um": ("Position SD", "um", "ddof = 1"),
    "sd_se_um": ("Position SD standard error", "um", ""),
    "n_plus": ("Readings approached in +", None, ""),
    "n_minus": ("Readings approached in −", None, ""),
    "s_plus_um": ("SD approached in + (s↑)", "um", ""),
    "s_minus_um": ("SD approached in − (s↓)", "um", ""),
    "repeatability_plus_um": ("Unidirectional repeatability + (4·s↑)", "um", ""),
    "repeatability_minus_um": ("Unidirectional repeatability − (4·s↓)", "um", ""),
    "reversal_um": ("Reversal value B", "um", ""),
    "repeatability_bidirectional_um": ("Bidirectional repeatability R", "um", ""),
    "lag_frames": ("Lag", "frame", ""),
    "lag_s": ("Lag", "s", ""),
    "msd_um2": ("Mean squared displacement", "um2", ""),
    "n_pairs": ("Pairs", None, ""),
}

"""Human names and units of the detector measurement's metrics and table columns.

Plain data (name → (label, unit, note)); :mod:`microscope_qc.report.labels` turns it into
:class:`~microscope_qc.report.labels.Label` entries (kept apart so that labels.py stays short).
"""

from __future__ import annotations

__all__ = ["DETECTOR_LABEL_DATA"]

_METRICS: dict[str, tuple[str, str | None, str]] = {
    # EMVA 1288
    "system_gain_dn_per_e": ("System gain K", "DN/e-", ""),
    "conversion_gain_e_per_dn": ("Conversion gain 1/K", "e-/DN", ""),
    "dark_noise_dn": ("Temporal dark noise", "DN", ""),
    "dark_noise_e": ("Temporal dark noise σd", "e-", ""),
    "saturation_capacity_e": ("Saturation capacity", "e-", ""),
    "saturation_signal_dn": ("Saturation signal above dark", "DN", ""),
    "sensitivity_threshold_e": ("Absolute sensitivity threshold", "e-", ""),
    "sensitivity_threshold_photons": ("Absolute sensitivity threshold", "photons", ""),
    "dynamic_range_db": ("Dynamic range", "dB", ""),
    "snr_max_db": ("Maximum SNR", "dB", ""),
    "responsivity_dn_per_photon": ("Responsivity R", "DN/photon", ""),
    "quantum_efficiency_percent": ("Quantum efficiency η", "percent", ""),
    "linearity_error_min_percent": ("Linearity error LE min", "percent", ""),
    "linearity_error_max_percent": ("Linearity error LE max", "percent", ""),
    "dark_current_mean_e_per_s": ("Dark current (from the mean)", "e-/s", ""),
    "dark_current_variance_e_per_s": ("Dark current (from the variance)", "e-/s", ""),
    "offset_dn": ("Offset (mean dark level)", "DN", ""),
    "dsnu_e": ("DSNU", "e-", ""),
    "dsnu_dn": ("DSNU", "DN", ""),
    "dsnu_row_e": ("DSNU, row part", "e-", ""),
    "dsnu_row_dn": ("DSNU, row part", "DN", ""),
    "dsnu_column_e": ("DSNU, column part", "e-", ""),
    "dsnu_column_dn": ("DSNU, column part", "DN", ""),
    "dsnu_pixel_e": ("DSNU, pixel part", "e-", ""),
    "dsnu_pixel_dn": ("DSNU, pixel part", "DN", ""),
    "prnu_percent": ("PRNU", "percent", ""),
    "prnu_row_percent": ("PRNU, row part", "percent", ""),
    "prnu_column_percent": ("PRNU, column part", "percent", ""),
    "prnu_pixel_percent": ("PRNU, pixel part", "percent", ""),
    # dark mode (MetroloJ_QC camera noise)
    "noise_median_dn": ("Median temporal noise", "DN", ""),
    "noise_rms_dn": ("RMS temporal noise", "DN", ""),
    "noise_median_e": ("Median temporal noise", "e-", ""),
    "noise_rms_e": ("RMS temporal noise", "e-", ""),
    "warm_pixels_percent": ("Warm pixels", "percent", ""),
    "cold_pixels_percent": ("Cold pixels", "percent", ""),
    "hot_pixels_percent": ("Hot (saturated) pixels", "percent", ""),
    "warm_pixels": ("Warm pixels", None, "count"),
    "cold_pixels": ("Cold pixels", None, "count"),
    "hot_pixels": ("Hot (saturated) pixels", None, "count"),
    # single-scene photon transfer (QUAREP WG2)
    "read_noise_dn": ("Read noise", "DN", ""),
    "read_noise_e": ("Read noise", "e-", ""),
    "brightness_fluctuation_percent": ("Brightness fluctuation between frames (SD)", "percent", ""),
    "offset_drift_dn": ("Offset drift over the dark frames (max − min)", "DN", ""),
    "excluded_pixels_percent": ("Pixels excluded (hot, cold, noisiest)", "percent", ""),
    # CV (MetroloJ_QC)
    "cv_percent": ("CV (MetroloJ_QC)", "percent", ""),
    "cv_relative": ("CV relative to the best", None, ""),
    # NoiSee
    "snr": ("SNR (NoiSee)", None, ""),
    "sbr": ("SBR (NoiSee)", None, ""),
    "dark_frames": ("Dark frames averaged", None, ""),
    "snr_median": ("Median bead SNR (NoiSee)", None, ""),
    "beads": ("Beads measured", None, ""),
    "beads_saturated": ("Saturated beads left out", None, ""),
    "drift_px": ("Largest bead drift over the series", "px", ""),
}

_COLUMNS: dict[str, tuple[str, str | None, str]] = {
    "exposure_ms": ("Exposure time", "ms", ""),
    "photons": ("Photons per pixel", "photons", "mean photons per pixel during the exposure"),
    "frames": ("Frames", None, "frames taken at this condition (or the frame's index)"),
    "frame": ("Frame", None, "index of the frame (detector or channel) in the input"),
    "mean_dn": ("Mean", "DN", ""),
    "dark_mean_dn": ("Dark mean", "DN", ""),
    "variance_dn2": ("Temporal variance", "DN²", ""),
    "dark_variance_dn2": ("Dark temporal variance", "DN²", ""),
    "saturated_percent": ("Saturated pixels", "percent", ""),
    "signal_dn": ("Signal above dark", "DN", ""),
    "signal_e": ("Signal above dark", "e-", ""),
    "in_gain_fit": ("In the gain fit", None, "the point is in the photon-transfer fit range"),
    "variance_model_dn2": ("Photon-transfer model variance", "DN²", "σ²_y.dark + K·signal"),
    "snr": ("SNR", None, ""),
    "snr_model": ("SNR, EMVA model", None, "μ_e / √(σ²_y.dark/K² + μ_e)"),
    "in_linearity_fit": ("In the linearity fit", None, "the point is in the linearity fit range"),
    "linearity_fit_dn": ("Linear fit", "DN", ""),
    "linearity_error_percent": ("Linearity error", "percent", ""),
    "stack": ("Stack", None, "dark or bright"),
    "spatial_variance_dn2": ("Spatial variance", "DN²", "temporal part removed"),
    "row_variance_dn2": ("Row spatial variance", "DN²", ""),
    "column_variance_dn2": ("Column spatial variance", "DN²", ""),
    "pixel_variance_dn2": ("Pixel spatial variance", "DN²", ""),
    "temporal_variance_dn2": ("Mean temporal variance of the stack", "DN²", ""),
    "y": ("y", "px", ""),
    "x": ("x", "px", ""),
    "kind": ("Kind", None, "hot, warm or cold"),
    "noise_dn": ("Temporal noise", "DN", ""),
    "roi": ("Region", None, ""),
    "pixels": ("Pixels", None, "number of pixels in the region"),
    "sd_dn": ("SD", "DN", ""),
    "cv_se_percent": ("CV standard error", "percent", ""),
    "saturated_pixels": ("Saturated pixels", None, ""),
    "bin": ("Bin", None, "photon-transfer bin (by mean signal)"),
    "weight": ("Fit weight", None, ""),
    "variance_se_dn2": ("Standard error of the variance", "DN²", ""),
    "relative_brightness": ("Relative brightness", None, "frame mean / mean of all frames"),
    "bead": ("Bead", None, ""),
    "saturated": ("Saturated", None, "left out of the SNR"),
    "max_dn": ("Maximum over time", "DN", ""),
    "drift_x_px": ("Drift along x", "px", "largest shift of the kymograph centroid"),
}

#: every detector metric and column: name -> (label, unit, note)
DETECTOR_LABEL_DATA: dict[str, tuple[str, str | None, str]] = {**_METRICS, **_COLUMNS}

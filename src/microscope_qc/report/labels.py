"""Human labels (name + unit) for every metric and item-table column, one table per measurement.

Metric names such as ``fwhm_x_um`` are the results contract: they stay as they are in
``results.json`` and in the CSV columns. Everything a person reads — report tables, figure
titles and axes, widgets, trend plots — shows the label from these tables instead, so one
quantity is called the same everywhere::

    >>> heading("psf", "fwhm_x_um")
    'Lateral FWHM x (µm)'
    >>> label("field", "uniformity_percent").text
    'Uniformity U (MetroloJ_QC)'

A label is a name and a unit, not a definition: what a metric means is in
``Metric.description`` (results.json) and in METRICS.md. ``Label.description`` is only filled
for item-table columns that have no metric of the same name to carry one.

Names not in a table get a readable generic label derived from the snake_case name and its unit
suffix (``label`` never raises); :func:`has_label` tells whether a name has an explicit entry,
which the test suite requires for every metric and column the analyses produce.

Qt-free: the report, history, registry and widgets all import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from microscope_qc.report.labels_coregistration import COREGISTRATION_ENTRIES
from microscope_qc.report.labels_detector import DETECTOR_LABEL_DATA
from microscope_qc.report.labels_image_quality import IMAGE_QUALITY_ENTRIES
from microscope_qc.report.labels_light_stage import EXTRA_UNITS, LIGHT_SOURCE_ENTRIES, STAGE_ENTRIES
from microscope_qc.report.labels_mirror import MIRROR_ENTRIES
from microscope_qc.report.labels_pattern import PATTERN_ENTRIES
from microscope_qc.report.labels_resolution import RESOLUTION_ENTRIES

__all__ = [
    "Label",
    "PSF_LABELS",
    "FIELD_LABELS",
    "COREGISTRATION_LABELS",
    "DETECTOR_LABELS",
    "LIGHT_SOURCE_LABELS",
    "STAGE_LABELS",
    "RESOLUTION_LABELS",
    "MIRROR_LABELS",
    "IMAGE_QUALITY_LABELS",
    "PATTERN_LABELS",
    "FIELD_PROFILE_LABELS",
    "LABELS",
    "MEASUREMENT_LABELS",
    "label",
    "has_label",
    "heading",
    "display_unit",
    "base_name",
    "markdown_tables",
]


@dataclass(frozen=True)
class Label:
    """A human name for a metric or table column.

    Attributes
    ----------
    text
        The name a physicist recognises, without the unit (``"Lateral FWHM x"``).
    unit
        The unit as written in the results contract (``"um"``, ``"percent"``, ``"deg"``, ``"px"``...),
        or None for dimensionless numbers and text; shown through :func:`display_unit`.
    description
        Optional one-line explanation for columns that have no metric description.
    """

    text: str
    unit: str | None = None
    description: str = ""

    @property
    def unit_text(self) -> str:
        """The unit as displayed (``"µm"``, ``"%"``, ``"°"``), empty when dimensionless."""
        return display_unit(self.unit)

    @property
    def heading(self) -> str:
        """``text (unit)``, or just ``text`` when dimensionless: for table headers and axis labels."""
        unit = self.unit_text
        return f"{self.text} ({unit})" if unit else self.text


_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "um": "µm",
        "um2": "µm²",
        "um3": "µm³",
        "per_um": "µm⁻¹",
        "um/um": "µm/µm",
        "nm": "nm",
        "mm": "mm",
        "percent": "%",
        "deg": "°",
        "rad": "rad",
        "px": "px",
        "counts": "counts",
        "s": "s",
        "ms": "ms",
        "mw": "mW",
        "mW": "mW",
        "e-": "e⁻",
        "e-/DN": "e⁻/DN",
        "DN/e-": "DN/e⁻",
        "e-/s": "e⁻/s",
        **EXTRA_UNITS,
    }
)


def display_unit(unit: str | None) -> str:
    """The unit as a person reads it: ``"um"`` → ``"µm"``, ``"percent"`` → ``"%"``, ``"deg"`` → ``"°"``.

    Units without a special spelling are returned unchanged (``"nm"``, ``"px"``); None gives ``""``.

    Parameters
    ----------
    unit : str or None
        The unit as stored (results.json, CSV).

    Returns
    -------
    str
        The unit for display.
    """
    if unit is None:
        return ""
    return _UNITS.get(unit, unit)


# ------------------------------------------------------------------------------------ helpers


def _L(text: str, unit: str | None = None, description: str = "") -> Label:
    return Label(text, unit, description)


def _xyz(
    pattern: str, text: str, unit: str | None, axes: str = "xyz", description: str = ""
) -> dict[str, Label]:
    """Entries for a name with one variant per axis: ``pattern`` and ``text`` hold ``{a}``."""
    return {pattern.format(a=a): Label(text.format(a=a), unit, description) for a in axes}


def _fwhm_text(a: str) -> str:
    return f"Axial FWHM {a}" if a == "z" else f"Lateral FWHM {a}"


#: Columns shared by the bead tables of the PSF and co-registration measurements.
_BEAD_COLUMNS: dict[str, Label] = {
    "bead_id": _L("Bead"),
    "channel": _L("Channel"),
    "status": _L("Status", description="accepted or rejected"),
    "reason": _L("Rejection reason"),
    "reason_detail": _L("Rejection detail"),
    "peak_value": _L("Peak intensity", "counts"),
    **_xyz("{a}_um", "Position {a}", "um"),
    **_xyz("{a}_se_um", "Position {a} standard error", "um"),
}

# ------------------------------------------------------------------------------------ PSF

_PSF: dict[str, Label] = {
    **_BEAD_COLUMNS,
    # bead table
    "origin": _L("Origin", description="detected, or given as a position"),
    **_xyz("{a}_px", "Detected position {a}", "px"),
    "z_um": _L("Focal position z₀", "um", "fitted axial centre of the bead"),
    "significance": _L("Detection significance (noise SD)"),
    **{f"fwhm_{a}_um": _L(_fwhm_text(a), "um") for a in "xyz"},
    **{f"fwhm_{a}_se_um": _L(f"{_fwhm_text(a)} standard error", "um") for a in "xyz"},
    **{f"fwhm_{a}_corrected_um": _L(f"{_fwhm_text(a)}, bead size removed", "um") for a in "xyz"},
    **{f"fwhm_{a}_ratio": _L(f"{_fwhm_text(a)} / theory") for a in "xyz"},
    **{f"fwhm_{a}_spread_um": _L(f"{_fwhm_text(a)} spread over beads (robust SD)", "um") for a in "xyz"},
    **{f"fwhm_{a}_crb_um": _L(f"{_fwhm_text(a)} Cramér–Rao bound", "um") for a in "xyz"},
    "fwhm_major_um": _L("FWHM major axis (xy)", "um"),
    "fwhm_minor_um": _L("FWHM minor axis (xy)", "um"),
    "theta_deg": _L("PSF orientation θ", "deg", "angle of the major axis of the 2D fit"),
    "theta_se_deg": _L("PSF orientation θ standard error", "deg"),
    "lateral_asymmetry": _L("Lateral asymmetry (MetroloJ_QC)"),
    "principal_axis_ratio": _L("Principal-axis ratio (minor / major)"),
    "sbr": _L("Signal-to-background ratio"),
    "r2_x": _L("Fit R² (x)"),
    "r2_y": _L("Fit R² (y)"),
    "r2_xy": _L("Fit R² (xy)"),
    "r2_z": _L("Fit R² (z)"),
    "r2_3d": _L("Fit R² (3D)"),
    "amplitude": _L("Fitted amplitude", "counts"),
    "background": _L("Fitted background", "counts"),
    **{f"fwhm_axis{k}_3d_um": _L(f"Principal-axis FWHM {k} (3D fit)", "um") for k in (1, 2, 3)},
    **{f"fwhm_{a}_3d_um": _L(f"FWHM {a} (3D fit)", "um") for a in "xyz"},
    **{f"fwhm_{a}_3d_se_um": _L(f"FWHM {a} (3D fit) standard error", "um") for a in "xyz"},
    # headline metrics
    "n_candidates": _L("Candidate beads"),
    "n_accepted": _L("Accepted beads"),
    "theoretical_fwhm_xy_um": _L("Theoretical lateral FWHM (MetroloJ_QC)", "um"),
    "theoretical_fwhm_z_um": _L("Theoretical axial FWHM (MetroloJ_QC)", "um"),
    "theoretical_fwhm_xy_physical_um": _L("Theoretical lateral FWHM (Airy)", "um"),
    "theoretical_fwhm_z_physical_um": _L("Theoretical axial FWHM (non-paraxial)", "um"),
    "nyquist_xy_um": _L("Nyquist pixel size", "um"),
    "nyquist_z_um": _L("Nyquist z step", "um"),
    "sampling_ratio_xy": _L("Sampling ratio xy (pixel / Nyquist)"),
    "sampling_ratio_z": _L("Sampling ratio z (step / Nyquist)"),
    "focal_tilt_deg": _L("Focal-plane tilt", "deg"),
    "focal_tilt_range_um": _L("Focus difference across the field (tilt)", "um"),
    "focal_residual_rms_um": _L("Focal-surface residual (RMS)", "um"),
    "field_curvature_um": _L("Field curvature (focus shift at the corner)", "um"),
    # does the model describe the data (structured residuals), 3D fit validity
    "structured_residual_xy": _L(
        "Structured residual (xy fit)", description="share of the signal the 2D Gaussian misses"
    ),
    "structured_residual_z": _L(
        "Structured residual (z fit)", description="share of the signal the axial Gaussian misses"
    ),
    "structured_residual_3d": _L(
        "Structured residual (3D fit)", description="share of the signal the 3D Gaussian misses"
    ),
    "fit_3d_ok": _L("3D fit describes the data", description="False: not used, see the warning"),
    # aberration signatures through focus
    "aberrations": _L("Aberrations found", description="astigmatic, tilted, or empty"),
    "astigmatic_separation_um": _L("Astigmatic focal separation", "um"),
    "astigmatic_separation_se_um": _L("Astigmatic focal separation standard error", "um"),
    "astigmatic_separation_xy_um": _L("Astigmatic focal separation, x focus − y focus", "um"),
    "astigmatic_separation_xy_se_um": _L("Astigmatic focal separation x − y standard error", "um"),
    "astigmatic_separation_diag_um": _L("Astigmatic focal separation, +45° focus − −45° focus", "um"),
    "astigmatic_separation_diag_se_um": _L("Astigmatic focal separation +45° − −45° standard error", "um"),
    "astigmatism_axis_deg": _L(
        "Astigmatism axis", "deg", "direction narrowest at the deeper focus, from +x towards +y"
    ),
    "ellipticity_below": _L("Ellipticity below focus (x − y)/(x + y)"),
    "ellipticity_above": _L("Ellipticity above focus (x − y)/(x + y)"),
    "psf_tilt_um_per_um": _L("PSF tilt (lateral shift per z)", "um/um"),
    "psf_tilt_se_um_per_um": _L("PSF tilt standard error", "um/um"),
    "psf_tilt_x_um_per_um": _L("PSF tilt along x", "um/um"),
    "psf_tilt_y_um_per_um": _L("PSF tilt along y", "um/um"),
    "psf_bow_um": _L("Coma-like bow of the PSF centre", "um"),
    "psf_bow_se_um": _L("Coma-like bow standard error", "um"),
    "coma_axis_deg": _L(
        "Coma direction", "deg", "direction the PSF centre bows towards away from focus, from +x towards +y"
    ),
    "axial_asymmetry": _L(
        "Axial asymmetry",
        description="(above − below) / (above + below) focus, 0.5–2.5 axial FWHM; 0: symmetric",
    ),
    "axial_asymmetry_se": _L("Axial asymmetry standard error"),
    "spherical_waves": _L(
        "Spherical aberration (RMS)",
        "waves",
        "signed RMS wavefront error of the Gibson–Lanni fit of the axial profile; + : denser immersion / thicker coverslip",
    ),
    "spherical_waves_se": _L("Spherical aberration standard error", "waves"),
    "spherical_index_mismatch": _L(
        "Equivalent immersion-index error",
        description="Δn of the immersion medium over a 150 µm working distance giving the same aberration",
    ),
    "spherical_index_mismatch_se": _L("Equivalent immersion-index error standard error"),
    "spherical_coverslip_um": _L(
        "Equivalent coverslip-thickness error",
        "um",
        "thickness error from the 170 µm design giving the same aberration",
    ),
    "spherical_coverslip_um_se": _L("Equivalent coverslip-thickness error standard error", "um"),
    "spherical_limit_waves": _L("Spherical aberration limit (Maréchal)", "waves"),
    "focus_tolerance_um": _L("Focus tolerance (Maréchal defocus)", "um"),
    "saturated_beads_fraction": _L("Saturated beads (fraction of candidates)"),
    "strehl": _L(
        "Strehl ratio",
        description="peak / energy within 1.5 µm in focus, relative to the ideal vectorial PSF (same pixel, bead)",
    ),
    "strehl_ratio": _L(
        "Strehl ratio",
        description="mean over beads of peak / energy within 1.5 µm, relative to the ideal vectorial PSF",
    ),
    "peak_fraction": _L("Peak fraction", description="in-focus peak / energy within 1.5 µm"),
    "halo_fraction": _L(
        "Halo fraction", description="in-focus energy beyond 2.5 ideal FWHM / energy within 1.5 µm"
    ),
    "ideal_halo_fraction": _L("Halo fraction of the ideal PSF"),
    "aberration_strehl": _L(
        "Strehl explained by the aberrations",
        description="Maréchal exp(−(2πσ)²), σ: spherical, astigmatism and coma measured, in quadrature",
    ),
    "residual_strehl": _L(
        "Unexplained Strehl", description="Strehl ratio / Strehl explained by the measured aberrations"
    ),
    "through_focus_planes": _L("Planes fitted through focus"),
    "astigmatism_limit_um": _L("Astigmatism limit (Maréchal)", "um"),
    "tilt_limit_um_per_um": _L("PSF tilt limit", "um/um"),
}

# ------------------------------------------------------------------------------------ field

_CORNERS = {
    "top_left": "top left",
    "top_centre": "top centre",
    "top_right": "top right",
    "middle_left": "middle left",
    "middle_right": "middle right",
    "bottom_left": "bottom left",
    "bottom_centre": "bottom centre",
    "bottom_right": "bottom right",
}
#: microscope-metrics spells its regions the American way; the names are its contract
_MM_REGIONS = {
    "top_left": "top left",
    "top_center": "top centre",
    "top_right": "top right",
    "middle_left": "middle left",
    "middle_center": "centre",
    "middle_right": "middle right",
    "bottom_left": "bottom left",
    "bottom_center": "bottom centre",
    "bottom_right": "bottom right",
}
_MM = "(microscope-metrics)"

_FIELD: dict[str, Label] = {
    # MetroloJ_QC
    "uniformity_percent": _L("Uniformity U (MetroloJ_QC)", "percent"),
    "field_uniformity_percent": _L("Field uniformity FU (MetroloJ_QC)", "percent"),
    "centering_accuracy_percent": _L("Centring accuracy CA (MetroloJ_QC)", "percent"),
    **_xyz("reference_zone_centroid_{a}_px", "Reference-zone centroid {a}", "px", "xy"),
    "reference_zone_area_percent": _L("Reference-zone area", "percent"),
    **_xyz("centre_of_intensity_{a}_px", "Centre of intensity {a}", "px", "xy"),
    **_xyz("max_position_{a}_px", "Position of the maximum {a}", "px", "xy"),
    **_xyz("metroloj_max_{a}_px", "Last maximum pixel {a} (MetroloJ_QC report)", "px", "xy"),
    **_xyz(
        "metroloj_100pct_zone_centroid_{a}_px", "100 % zone centroid {a} (MetroloJ_QC report)", "px", "xy"
    ),
    **{f"relative_intensity_{k}": _L(f"Relative intensity, {v}") for k, v in _CORNERS.items()},
    "cv_percent": _L("Coefficient of variation", "percent"),
    "signal_to_noise": _L("Signal-to-noise ratio (median / pixel noise)"),
    "saturated_percent": _L("Saturated pixels", "percent"),
    "zero_clipped_percent": _L("Zero-clipped pixels", "percent"),
    # microscope-metrics
    "mm_center_region_intensity_fraction": _L(f"Centre-region intensity fraction {_MM}"),
    "mm_center_region_area_fraction": _L(f"Centre-region area fraction {_MM}"),
    **_xyz("mm_center_of_mass_{a}_px", "Centre-region centroid {a} " + _MM, "px", "xy"),
    **_xyz("mm_center_fitted_{a}_px", "Fitted illumination centre {a} " + _MM, "px", "xy"),
    **_xyz("mm_max_intensity_pos_{a}_px", "Position of the maximum {a} " + _MM, "px", "xy"),
    "mm_max_intensity": _L(f"Maximum intensity {_MM}", "counts"),
    **{
        f"mm_{k}_intensity_mean": _L(f"Mean intensity, {v} region {_MM}", "counts")
        for k, v in _MM_REGIONS.items()
    },
    **{f"mm_{k}_intensity_ratio": _L(f"Intensity ratio, {v} region {_MM}") for k, v in _MM_REGIONS.items()},
    # illumination model
    **_xyz("illumination_centre_{a}_px", "Illumination centre {a} (model)", "px", "xy"),
    "illumination_centre_offset_percent": _L("Illumination-centre offset (of half diagonal)", "percent"),
    "illumination_centre_offset_um": _L("Illumination-centre offset", "um"),
    "corner_falloff_percent": _L("Corner fall-off (mean)", "percent"),
    "corner_falloff_max_percent": _L("Corner fall-off (worst corner)", "percent"),
    "model_r2": _L("Illumination model R²"),
    **_xyz("illumination_fwhm_{a}_px", "Illumination FWHM {a} (Gaussian model)", "px", "xy"),
    "defect_count": _L("Dust and defects"),
    "analysed_fraction_percent": _L("Analysed share of the field", "percent"),
    "defect_area_percent": _L("Dust and defect area", "percent"),
    "residual_cv_percent": _L("Coefficient of variation after flat-field correction", "percent"),
    # profiles table
    "channel": _L("Channel"),
    "profile": _L("Profile"),
    "distance_px": _L("Distance along the profile", "px"),
    "raw": _L("Raw intensity", "counts"),
    "blurred": _L("Blurred intensity", "counts"),
    "model": _L("Model intensity", "counts"),
}

#: Names of the four intensity profiles (values of the ``profile`` column of profiles.csv).
FIELD_PROFILE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "diagonal_tl_br": "Diagonal, top left → bottom right",
        "diagonal_bl_tr": "Diagonal, bottom left → top right",
        "horizontal_centre": "Horizontal centre line",
        "vertical_centre": "Vertical centre line",
    }
)

# ------------------------------------------------------------------------------------ co-registration

_COREG: dict[str, Label] = {**_BEAD_COLUMNS, **{k: Label(*v) for k, v in COREGISTRATION_ENTRIES.items()}}

PSF_LABELS: Mapping[str, Label] = MappingProxyType(_PSF)
FIELD_LABELS: Mapping[str, Label] = MappingProxyType(_FIELD)
COREGISTRATION_LABELS: Mapping[str, Label] = MappingProxyType(_COREG)
DETECTOR_LABELS: Mapping[str, Label] = MappingProxyType(
    {k: Label(*v) for k, v in DETECTOR_LABEL_DATA.items()}
)
LIGHT_SOURCE_LABELS: Mapping[str, Label] = MappingProxyType(
    {k: Label(*v) for k, v in LIGHT_SOURCE_ENTRIES.items()}
)
STAGE_LABELS: Mapping[str, Label] = MappingProxyType({k: Label(*v) for k, v in STAGE_ENTRIES.items()})
RESOLUTION_LABELS: Mapping[str, Label] = MappingProxyType(
    {k: Label(*v) for k, v in RESOLUTION_ENTRIES.items()}
)
MIRROR_LABELS: Mapping[str, Label] = MappingProxyType({k: Label(*v) for k, v in MIRROR_ENTRIES.items()})
IMAGE_QUALITY_LABELS: Mapping[str, Label] = MappingProxyType(
    {k: Label(*v) for k, v in IMAGE_QUALITY_ENTRIES.items()}
)
PATTERN_LABELS: Mapping[str, Label] = MappingProxyType({k: Label(*v) for k, v in PATTERN_ENTRIES.items()})

#: One label table per measurement, keyed by the measurement's stem.
LABELS: Mapping[str, Mapping[str, Label]] = MappingProxyType(
    {
        "psf": PSF_LABELS,
        "field": FIELD_LABELS,
        "coregistration": COREGISTRATION_LABELS,
        "detector": DETECTOR_LABELS,
        "light-source": LIGHT_SOURCE_LABELS,
        "stage": STAGE_LABELS,
        "resolution": RESOLUTION_LABELS,
        "mirror": MIRROR_LABELS,
        "image-quality": IMAGE_QUALITY_LABELS,
        "pattern": PATTERN_LABELS,
    }
)

#: Short human names of the measurements, for table cells and plot titles (the registry holds the long titles).
MEASUREMENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "psf": "PSF",
        "field": "Field illumination",
        "coregistration": "Co-registration",
        "detector": "Detector",
        "light-source": "Light source",
        "stage": "Stage and focus",
        "resolution": "Resolution (FRC, decorrelation)",
        "mirror": "Axial resolution (mirror)",
        "image-quality": "Image quality",
        "pattern": "Pattern slide",
    }
)

# ------------------------------------------------------------------------------------ look-up

_CHANNEL_SUFFIX = re.compile(r"@ch\d+$")
#: unit suffixes of metric names, longest first so that ``_um2`` wins over ``_um``
_SUFFIXES = ("per_um", "percent", "um2", "um3", "deg", "rad", "um", "nm", "mm", "px", "ms", "s")


def base_name(name: str) -> str:
    """Strip the ``@ch<N>`` suffix results.json adds for multichannel results from a metric name.

    Parameters
    ----------
    name : str
        The metric name, with or without the suffix.

    Returns
    -------
    str
        The name without the suffix.
    """
    return _CHANNEL_SUFFIX.sub("", name)


def _table(measurement: str | None, name: str) -> Mapping[str, Label]:
    if measurement is not None:
        return LABELS.get(measurement, {})
    # a name means the same in every measurement (DESIGN.md), so any table that has it will do
    return next((t for t in LABELS.values() if name in t), {})


def has_label(measurement: str | None, name: str) -> bool:
    """Tell whether ``name`` (``@ch<N>`` suffix ignored) has an explicit entry in the measurement's table.

    Parameters
    ----------
    measurement : str or None
        The measurement; None looks in every table.
    name : str
        The metric or column name.

    Returns
    -------
    bool
        True when there is an entry.
    """
    name = base_name(str(name))
    return name in _table(measurement, name)


def _generic(name: str) -> Label:
    """``fwhm_x_um`` → Label("fwhm x", "um"): the unit suffix split off, underscores to spaces."""
    for suffix in _SUFFIXES:
        if name.endswith("_" + suffix) and len(name) > len(suffix) + 1:
            stem = name[: -len(suffix) - 1]
            return Label(stem.replace("_", " "), suffix)
    return Label(name.replace("_", " "), None)


def label(measurement: str | None, name: str) -> Label:
    """The label of a metric or item-table column of ``measurement``; never raises.

    ``name`` may carry results.json's ``@ch<N>`` suffix. ``measurement=None`` looks in every
    table (for callers that only know the metric name, such as a history trend). Names without
    an entry (or an unknown measurement) get a generic label derived from the name:
    ``fwhm_x_um`` → "fwhm x" in µm.

    Parameters
    ----------
    measurement : str or None
        The measurement; None looks in every table.
    name : str
        The metric or column name.

    Returns
    -------
    Label
        The human name and unit.
    """
    name = base_name(str(name))
    found = _table(measurement, name).get(name)
    return found if found is not None else _generic(name)


def heading(measurement: str | None, name: str) -> str:
    """Return the label with its unit, e.g. ``"Lateral FWHM x (µm)"``: for table headers and axis labels.

    Parameters
    ----------
    measurement : str or None
        The measurement; None looks in every table.
    name : str
        The metric or column name.

    Returns
    -------
    str
        The heading.
    """
    return label(measurement, name).heading


def markdown_tables() -> str:
    """Render every label table as Markdown; docs/labels.md is this text (a test keeps it up to date).

    Returns
    -------
    str
        The Markdown.
    """
    lines = [
        "# Labels",
        "",
        "What reports, plots and widgets call each metric and item-table column. The names in the first",
        "column are the results contract (results.json keys and CSV columns) and never change; the labels",
        "beside them are for people. Generated from `src/microscope_qc/report/labels.py` by",
        "`python -c 'from microscope_qc.report.labels import markdown_tables as m; print(m(), end=\"\")' > docs/labels.md`;",
        "the test suite checks that it is up to date.",
        "What each metric means is in the `description` of every metric in results.json.",
    ]
    for measurement, table in LABELS.items():
        lines += ["", f"## {MEASUREMENT_LABELS.get(measurement, measurement)} (`{measurement}`)", ""]
        lines += ["| name | label | unit | note |", "|---|---|---|---|"]
        for name in sorted(table):
            lab = table[name]
            cells = (f"`{name}`", lab.text, lab.unit_text, lab.description)
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "Field-illumination profiles (values of the `profile` column of profiles.csv):", ""]
    lines += ["| profile | label |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in FIELD_PROFILE_LABELS.items()]
    return "\n".join(lines) + "\n"

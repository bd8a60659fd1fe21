"""Field illumination / flatness from images of a homogeneous fluorescent slide (QUAREP WG3, ISO 21073).

Three families of numbers, each under its own names (METRICS.md §3):

* **MetroloJ_QC-compatible** (to the letter, its defaults: Gaussian blur σ = 2 px, 10 % iso-intensity
  steps): uniformity U, field uniformity FU, centring accuracy CA, the reference (90–100 %) zone and
  its centroid, centre of intensity, maximum position, intensities relative to the maximum at the
  corners and edge midpoints, four profiles.
* **microscope-metrics-compatible** (its defaults: σ = 5 px, corner fraction 0.1): the centre
  region found by its adaptive binning, its centres (region centroid, Gaussian fits of the max
  projections, maximum position) and the mean and ratio-to-maximum of its nine regions — with its
  region names, whose "top/bottom" run along x (its array indexing is transposed).
* **Model-based** (beyond both): a smooth illumination model (2D Gaussian or a polynomial) fitted
  with the shared engine, giving the illumination centre with its standard error, the corner
  fall-off, a residual map separating dust and slide defects from the illumination shape, and a
  flat-field correction image with the residual CV after correction; saturated and zero-clipped
  pixels are counted and fail a check without stopping the analysis.

An optional mask (True = analysed pixel; :func:`mask_from_shapes` builds one from include and
exclude polygons) restricts the MetroloJ_QC and model-based numbers to the analysed pixels; the
microscope-metrics numbers stay whole-image (docs/field.md, "Restricting the analysis").

Positions are in pixels, numpy/napari convention (a pixel's centre at its integer index, (y, x));
ImageJ-based tools report 0.5 px more.

The names below load on first use (:mod:`microscope_qc._lazy`): ``from microscope_qc.analysis.field
import FieldSettings`` reads the settings only, which is all the command line needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.field.analyze import analyze_field, combine_flats
    from microscope_qc.analysis.field.masks import (
        MIN_ANALYSED_PERCENT,
        MIN_ANALYSED_PIXELS,
        check_mask,
        describe_shapes,
        mask_from_shapes,
        polygon_from_shape,
    )
    from microscope_qc.analysis.field.metroloj import (
        EDGE_POINTS,
        PROFILE_NAMES,
        iso_intensity_map,
        metroloj_field_metrics,
    )
    from microscope_qc.analysis.field.mm import MM_REGIONS, microscope_metrics_field, mm_blur
    from microscope_qc.analysis.field.result import ChannelField, FieldResult
    from microscope_qc.analysis.field.reuse import StepIndependentCache
    from microscope_qc.analysis.field.settings import FieldSettings

__all__ = [
    "FieldSettings",
    "FieldResult",
    "ChannelField",
    "analyze_field",
    "combine_flats",
    "mask_from_shapes",
    "polygon_from_shape",
    "describe_shapes",
    "MIN_ANALYSED_PIXELS",
    "MIN_ANALYSED_PERCENT",
    "iso_intensity_map",
    "metroloj_field_metrics",
    "microscope_metrics_field",
    "MM_REGIONS",
    "PROFILE_NAMES",
    "EDGE_POINTS",
    "check_mask",
    "mm_blur",
    "StepIndependentCache",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "analyze_field": "analyze",
        "combine_flats": "analyze",
        **dict.fromkeys(
            (
                "MIN_ANALYSED_PERCENT",
                "MIN_ANALYSED_PIXELS",
                "check_mask",
                "describe_shapes",
                "mask_from_shapes",
                "polygon_from_shape",
            ),
            "masks",
        ),
        **dict.fromkeys(
            ("EDGE_POINTS", "PROFILE_NAMES", "iso_intensity_map", "metroloj_field_metrics"), "metroloj"
        ),
        **dict.fromkeys(("MM_REGIONS", "microscope_metrics_field", "mm_blur"), "mm"),
        "ChannelField": "result",
        "FieldResult": "result",
        "FieldSettings": "settings",
        "StepIndependentCache": "reuse",
    },
)

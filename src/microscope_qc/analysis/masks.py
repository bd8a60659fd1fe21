"""Analysis masks from shapes; they live in :mod:`microscope_qc.analysis.field.masks` (kept importable here)."""

from microscope_qc.analysis.field.masks import (
    MIN_ANALYSED_PERCENT,
    MIN_ANALYSED_PIXELS,
    check_mask,
    describe_shapes,
    mask_from_shapes,
    polygon_from_shape,
)

__all__ = [
    "MIN_ANALYSED_PIXELS",
    "MIN_ANALYSED_PERCENT",
    "check_mask",
    "describe_shapes",
    "mask_from_shapes",
    "polygon_from_shape",
]

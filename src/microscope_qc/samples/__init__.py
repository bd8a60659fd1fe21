"""Synthetic data with known ground truth, for tests, teaching and napari's File ▸ Open Sample.

Beads are rendered as 3D Gaussians sampled at voxel centres (the same model the fits use,
so the truth is exact), optionally elliptical and rotated (astigmatism), on a tilted and
curved focal surface, with a smooth uneven background, Poisson shot noise, camera gain,
offset and Gaussian read noise, and a few hot pixels.
"""

from __future__ import annotations

from microscope_qc.samples.beads import (
    BeadMetadata,
    BeadSample,
    BeadSampleSpec,
    LayerDataTuple,
    make_bead_stack,
    napari_psf_aberrated,
    napari_psf_beads,
    psf_aberrated_sample,
    psf_beads_sample,
)
from microscope_qc.samples.flats import (
    FlatSample,
    FlatSampleSpec,
    flat_field_misaligned_sample,
    flat_field_sample,
    make_flat_field,
    napari_flat_field,
    napari_flat_field_misaligned,
)
from microscope_qc.samples.multicolour import (
    ChannelTransform,
    MulticolourSample,
    coregistration_sample,
    make_multicolour_beads,
    napari_coregistration,
    transform_points,
)

__all__ = [
    "BeadSampleSpec",
    "BeadSample",
    "make_bead_stack",
    "psf_beads_sample",
    "psf_aberrated_sample",
    "napari_psf_beads",
    "napari_psf_aberrated",
    "FlatSampleSpec",
    "FlatSample",
    "make_flat_field",
    "flat_field_sample",
    "flat_field_misaligned_sample",
    "napari_flat_field",
    "napari_flat_field_misaligned",
    "ChannelTransform",
    "MulticolourSample",
    "make_multicolour_beads",
    "coregistration_sample",
    "transform_points",
    "napari_coregistration",
    "BeadMetadata",
    "LayerDataTuple",
]

"""Synthetic data with known ground truth, for tests, teaching and napari's File ▸ Open Sample.

Beads are rendered as 3D Gaussians sampled at voxel centres (the same model the fits use,
so the truth is exact), optionally elliptical and rotated (astigmatism), on a tilted and
curved focal surface, with a smooth uneven background, Poisson shot noise, camera gain,
offset and Gaussian read noise, and a few hot pixels.

The workshop gallery's realistic bead stacks come from a vectorial PSF model instead
(:mod:`.psf_render`, :mod:`.psf_gallery`, :mod:`.psf_faults`); :mod:`.fault_samples` builds
faulty instruments for the other measurements from the generators here.

The names below load on first use (:mod:`microscope_qc._lazy`), so that listing the samples
(``microscope-qc sample --help``) imports no numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
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
    from microscope_qc.samples.cameras import (
        CAMERAS,
        Camera,
        CameraSpec,
        DetectorSample,
        detector_sample,
        emva_series,
        napari_detector_ccd,
        napari_detector_emccd,
        napari_detector_pmt,
        napari_detector_scmos,
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
    from microscope_qc.samples.image_quality import (
        ImageQualitySample,
        image_quality_sample,
        napari_image_quality,
    )
    from microscope_qc.samples.light_source import (
        ImageSeriesSample,
        LogSample,
        light_source_linearity_sample,
        light_source_log_sample,
        light_source_pulsed_sample,
        light_source_series_sample,
        napari_light_source_linearity,
        napari_light_source_log,
        napari_light_source_pulsed,
        napari_light_source_series,
    )
    from microscope_qc.samples.mirror import (
        MirrorSample,
        mirror_fwhm_truth,
        mirror_good_sample,
        mirror_sample,
        napari_mirror,
    )
    from microscope_qc.samples.multicolour import (
        ChannelTransform,
        MulticolourSample,
        coregistration_sample,
        make_multicolour_beads,
        napari_coregistration,
        transform_points,
    )
    from microscope_qc.samples.pattern import (
        PatternSample,
        grid_truth_positions,
        napari_pattern_rings,
        pattern_rings_sample,
    )
    from microscope_qc.samples.pattern_lines import (
        PatternLinesSample,
        napari_pattern_ladder,
        napari_pattern_lines,
        pattern_ladder_sample,
        pattern_lines_sample,
    )
    from microscope_qc.samples.resolution import (
        ResolutionSample,
        band_limited_structure,
        napari_resolution_pair,
        resolution_halves_sample,
        resolution_sample,
    )
    from microscope_qc.samples.stage import (
        StageSample,
        napari_stage_drift,
        napari_stage_repeatability,
        render_bead,
        stage_drift_sample,
        stage_repeatability_sample,
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
    "CameraSpec",
    "Camera",
    "DetectorSample",
    "CAMERAS",
    "emva_series",
    "detector_sample",
    "napari_detector_scmos",
    "napari_detector_ccd",
    "napari_detector_emccd",
    "napari_detector_pmt",
    "LogSample",
    "ImageSeriesSample",
    "light_source_log_sample",
    "light_source_pulsed_sample",
    "light_source_linearity_sample",
    "light_source_series_sample",
    "napari_light_source_log",
    "napari_light_source_pulsed",
    "napari_light_source_linearity",
    "napari_light_source_series",
    "StageSample",
    "render_bead",
    "stage_repeatability_sample",
    "stage_drift_sample",
    "napari_stage_repeatability",
    "napari_stage_drift",
    "ResolutionSample",
    "band_limited_structure",
    "resolution_sample",
    "resolution_halves_sample",
    "napari_resolution_pair",
    "MirrorSample",
    "mirror_sample",
    "mirror_fwhm_truth",
    "mirror_good_sample",
    "napari_mirror",
    "ImageQualitySample",
    "image_quality_sample",
    "napari_image_quality",
    "PatternSample",
    "pattern_rings_sample",
    "grid_truth_positions",
    "napari_pattern_rings",
    "PatternLinesSample",
    "pattern_lines_sample",
    "pattern_ladder_sample",
    "napari_pattern_lines",
    "napari_pattern_ladder",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "BeadMetadata": "beads",
        "BeadSample": "beads",
        "BeadSampleSpec": "beads",
        "LayerDataTuple": "beads",
        "make_bead_stack": "beads",
        "napari_psf_aberrated": "beads",
        "napari_psf_beads": "beads",
        "psf_aberrated_sample": "beads",
        "psf_beads_sample": "beads",
        "FlatSample": "flats",
        "FlatSampleSpec": "flats",
        "flat_field_misaligned_sample": "flats",
        "flat_field_sample": "flats",
        "make_flat_field": "flats",
        "napari_flat_field": "flats",
        "napari_flat_field_misaligned": "flats",
        **dict.fromkeys(
            ("PatternSample", "pattern_rings_sample", "grid_truth_positions", "napari_pattern_rings"),
            "pattern",
        ),
        **dict.fromkeys(
            (
                "PatternLinesSample",
                "pattern_lines_sample",
                "pattern_ladder_sample",
                "napari_pattern_lines",
                "napari_pattern_ladder",
            ),
            "pattern_lines",
        ),
        "ChannelTransform": "multicolour",
        "MulticolourSample": "multicolour",
        "coregistration_sample": "multicolour",
        "make_multicolour_beads": "multicolour",
        "napari_coregistration": "multicolour",
        "transform_points": "multicolour",
        "CameraSpec": "cameras",
        "Camera": "cameras",
        "DetectorSample": "cameras",
        "CAMERAS": "cameras",
        "emva_series": "cameras",
        "detector_sample": "cameras",
        "napari_detector_scmos": "cameras",
        "napari_detector_ccd": "cameras",
        "napari_detector_emccd": "cameras",
        "napari_detector_pmt": "cameras",
        **dict.fromkeys(
            (
                "LogSample",
                "ImageSeriesSample",
                "light_source_log_sample",
                "light_source_pulsed_sample",
                "light_source_linearity_sample",
                "light_source_series_sample",
                "napari_light_source_log",
                "napari_light_source_pulsed",
                "napari_light_source_linearity",
                "napari_light_source_series",
            ),
            "light_source",
        ),
        **dict.fromkeys(
            (
                "StageSample",
                "render_bead",
                "stage_repeatability_sample",
                "stage_drift_sample",
                "napari_stage_repeatability",
                "napari_stage_drift",
            ),
            "stage",
        ),
        **dict.fromkeys(
            (
                "ResolutionSample",
                "band_limited_structure",
                "resolution_sample",
                "resolution_halves_sample",
                "napari_resolution_pair",
            ),
            "resolution",
        ),
        **dict.fromkeys(
            ("MirrorSample", "mirror_sample", "mirror_fwhm_truth", "mirror_good_sample", "napari_mirror"),
            "mirror",
        ),
        **dict.fromkeys(
            ("ImageQualitySample", "image_quality_sample", "napari_image_quality"), "image_quality"
        ),
    },
)

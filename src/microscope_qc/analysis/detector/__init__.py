"""Detector performance: EMVA 1288, QUAREP WG2 single-scene photon transfer, MetroloJ_QC dark noise and CV, NoiSee.

Five modes, one entry point (:func:`analyze_detector`), frames streamed one or two at a time:

* ``emva`` — EMVA 1288 release 4.0 "linear" from bright and dark frame pairs at increasing
  exposure or light: system gain K, temporal dark noise, saturation capacity, absolute
  sensitivity threshold, dynamic range, SNR curve, linearity error, dark current, DSNU₁₂₈₈ and
  PRNU₁₂₈₈ (row, column, pixel), quantum efficiency when photon counts are given.
* ``single-scene`` — QUAREP WG2 photon transfer from ~20 frames of one static non-uniform scene
  and ~20 darks (cameras and point-scanning detectors).
* ``dark`` — MetroloJ_QC camera noise: offset, DSNU, temporal noise map, warm/cold/hot pixels.
* ``cv`` — MetroloJ_QC CV per region, for point detectors.
* ``noisee`` — NoiSee SNR and SBR (fluorescein) or bead SNR over time (beads).

docs/detector.md has the formulas, how to acquire the frames and which mode fits which detector.
The names below load on first use (:mod:`microscope_qc._lazy`): ``from
microscope_qc.analysis.detector import DetectorSettings`` reads the settings only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.detector.analyze import MIN_SPATIAL_FRAMES, analyze_detector
    from microscope_qc.analysis.detector.cv import ROI, cv_standard_error
    from microscope_qc.analysis.detector.emva import line_fit, origin_fit
    from microscope_qc.analysis.detector.frames import FrameSource, StackAccumulator, pair_statistics
    from microscope_qc.analysis.detector.result import IMAGES, TABLES, DetectorResult
    from microscope_qc.analysis.detector.settings import MODES, DetectorMode, DetectorSettings

__all__ = [
    "DetectorSettings",
    "DetectorMode",
    "MODES",
    "DetectorResult",
    "TABLES",
    "IMAGES",
    "analyze_detector",
    "MIN_SPATIAL_FRAMES",
    "ROI",
    "cv_standard_error",
    "line_fit",
    "origin_fit",
    "FrameSource",
    "StackAccumulator",
    "pair_statistics",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "analyze_detector": "analyze",
        "MIN_SPATIAL_FRAMES": "analyze",
        "ROI": "cv",
        "cv_standard_error": "cv",
        "line_fit": "emva",
        "origin_fit": "emva",
        "FrameSource": "frames",
        "StackAccumulator": "frames",
        "pair_statistics": "frames",
        "DetectorResult": "result",
        "TABLES": "result",
        "IMAGES": "result",
        "DetectorSettings": "settings",
        "DetectorMode": "settings",
        "MODES": "settings",
    },
)

"""PSF and resolution from sub-resolution bead z-stacks (QUAREP-LiMi WG5).

Pipeline per channel (every step vectorised over beads):

1. candidates — the shared bead detector, or positions given by the user;
2. pre-fit checks — box outside the XY edge, too close to the stack top/bottom,
   too close to a neighbour, saturated;
3. fits — a 1D Gaussian along z through the bead (its centre is the focal plane), then a
   rotated 2D Gaussian in that plane (the QUAREP WG5 standard report); optionally a
   full-covariance 3D Gaussian; or, in ``method="metroloj"``, MetroloJ_QC's 1D fits along
   lines through the brightest voxel;
4. post-fit checks — fit failed, poor fit (R², spot narrower than diffraction allows, centre
   far from the detection), focus too near the stack end, outliers (Tukey fences);
5. summaries and verdicts, field maps (FWHM, asymmetry, focal position) with tilt and field
   curvature, and an averaged bead.

Every candidate stays in the bead table with its status and reason; a failing bead never
stops the run.

The names below load on first use (:mod:`microscope_qc._lazy`): ``from microscope_qc.analysis.psf
import PSFSettings`` reads the settings only, which is all the command line needs to build its
options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.psf.analyze import analyze_psf
    from microscope_qc.analysis.psf.candidates import REASONS, find_beads, position_indices
    from microscope_qc.analysis.psf.candidates import _as_czyx as _as_czyx
    from microscope_qc.analysis.psf.candidates import _check as _check
    from microscope_qc.analysis.psf.candidates import _detect as _detect
    from microscope_qc.analysis.psf.candidates import _Geometry as _Geometry
    from microscope_qc.analysis.psf.candidates import _geometry as _geometry
    from microscope_qc.analysis.psf.candidates import _theory as _theory
    from microscope_qc.analysis.psf.candidates import _tukey_outliers as _tukey_outliers
    from microscope_qc.analysis.psf.candidates import _validate_stack as _validate_stack
    from microscope_qc.analysis.psf.channel import _analyze_channel as _analyze_channel
    from microscope_qc.analysis.psf.fits import _fit_3d as _fit_3d
    from microscope_qc.analysis.psf.fits import _fit_quarep as _fit_quarep
    from microscope_qc.analysis.psf.fits import _line_r2 as _line_r2
    from microscope_qc.analysis.psf.fits import _sbr as _sbr
    from microscope_qc.analysis.psf.maps import AlignedAverage as AlignedAverage
    from microscope_qc.analysis.psf.maps import _average_bead as _average_bead
    from microscope_qc.analysis.psf.maps import _field_maps as _field_maps
    from microscope_qc.analysis.psf.maps import _representative_profiles as _representative_profiles
    from microscope_qc.analysis.psf.maps import render_model
    from microscope_qc.analysis.psf.metroloj import _fit_metroloj as _fit_metroloj
    from microscope_qc.analysis.psf.result import ChannelPSF, PSFResult
    from microscope_qc.analysis.psf.settings import Method as Method
    from microscope_qc.analysis.psf.settings import PSFSettings
    from microscope_qc.analysis.psf.summary import _summarise as _summarise
    from microscope_qc.fitting import box_coordinates as box_coordinates

__all__ = [
    "PSFSettings",
    "PSFResult",
    "ChannelPSF",
    "analyze_psf",
    "render_model",
    "find_beads",
    "position_indices",
    "REASONS",
]

#: where each name is defined; the private ones are what the former module ``analysis/psf.py``
#: exposed and scripts may still import from here
_EXPORTS = {
    "analyze_psf": "analyze",
    **dict.fromkeys(
        (
            "REASONS",
            "_as_czyx",
            "_check",
            "_detect",
            "_Geometry",
            "_geometry",
            "_theory",
            "_tukey_outliers",
            "_validate_stack",
            "find_beads",
            "position_indices",
        ),
        "candidates",
    ),
    "_analyze_channel": "channel",
    **dict.fromkeys(("_fit_3d", "_fit_quarep", "_line_r2", "_sbr"), "fits"),
    **dict.fromkeys(
        ("AlignedAverage", "_average_bead", "_field_maps", "_representative_profiles", "render_model"), "maps"
    ),
    "_fit_metroloj": "metroloj",
    "ChannelPSF": "result",
    "PSFResult": "result",
    "Method": "settings",
    "PSFSettings": "settings",
    "_summarise": "summary",
    "box_coordinates": "microscope_qc.fitting",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

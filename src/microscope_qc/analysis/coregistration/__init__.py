"""Chromatic co-registration from multi-colour beads (QUAREP-LiMi WG4, ISO 21073).

Beads are localised in every channel with the PSF pipeline (the shared detector and fitting
engine: sub-voxel centres with standard errors, every candidate's status), matched between
channels, and each channel pair is summarised:

* shifts Δx, Δy, Δz with standard errors, the 3D distance, the ISO lateral and axial distances, and
  MetroloJ_QC's ratio d / r_ref with the corrected (2024) ellipsoid reference radius (METRICS.md §4);
* a field-dependent registration model — translation, affine (magnification difference, rotation,
  shear; axial offset and tilt) or second-order polynomial — chosen by the Bayesian information
  criterion, with per-bead residuals and the significance of each term; the model is exportable
  and can be applied to correct an image.

``single_bead=True`` reproduces MetroloJ_QC's co-alignment on one large multi-labelled bead.

Coordinates: µm, (x, y, z), origin at the centre of voxel (0, 0, 0) (numpy/napari convention).

The names below load on first use (:mod:`microscope_qc._lazy`): ``from
microscope_qc.analysis.coregistration import CoregistrationSettings`` reads the settings only,
which is all the command line needs to build its options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.coregistration.analyze import _ONE_CHANNEL as _ONE_CHANNEL
    from microscope_qc.analysis.coregistration.analyze import _check as _check
    from microscope_qc.analysis.coregistration.analyze import _identical_channels as _identical_channels
    from microscope_qc.analysis.coregistration.analyze import _numbered as _numbered
    from microscope_qc.analysis.coregistration.analyze import _single_bead_fallback as _single_bead_fallback
    from microscope_qc.analysis.coregistration.analyze import analyze_coregistration
    from microscope_qc.analysis.coregistration.checks import (
        SINGLE_BEAD_NOT_ESTIMABLE as SINGLE_BEAD_NOT_ESTIMABLE,
    )
    from microscope_qc.analysis.coregistration.checks import rejections as rejections
    from microscope_qc.analysis.coregistration.checks import theory_per_channel as theory_per_channel
    from microscope_qc.analysis.coregistration.checks import theory_warning as theory_warning
    from microscope_qc.analysis.coregistration.checks import z_step_warnings as z_step_warnings
    from microscope_qc.analysis.coregistration.localisation import (
        _LOCALISATION_COLUMNS as _LOCALISATION_COLUMNS,
    )
    from microscope_qc.analysis.coregistration.localisation import (
        SINGLE_BEAD_MIN_SHARE as SINGLE_BEAD_MIN_SHARE,
    )
    from microscope_qc.analysis.coregistration.localisation import _localise_2d as _localise_2d
    from microscope_qc.analysis.coregistration.localisation import _localise_3d as _localise_3d
    from microscope_qc.analysis.coregistration.localisation import (
        _localise_single_bead as _localise_single_bead,
    )
    from microscope_qc.analysis.coregistration.localisation import (
        _positions_per_channel as _positions_per_channel,
    )
    from microscope_qc.analysis.coregistration.matching import _pair_metrics as _pair_metrics
    from microscope_qc.analysis.coregistration.matching import _pair_summary as _pair_summary
    from microscope_qc.analysis.coregistration.matching import metroloj_ratio
    from microscope_qc.analysis.coregistration.matching import mutual_nearest as mutual_nearest
    from microscope_qc.analysis.coregistration.model import (
        MODELS,
        RegistrationModel,
        correct_image,
        fit_registration,
    )
    from microscope_qc.analysis.coregistration.model import _design as _design
    from microscope_qc.analysis.coregistration.model import _model_summary as _model_summary
    from microscope_qc.analysis.coregistration.result import CoregistrationResult
    from microscope_qc.analysis.coregistration.settings import CoregistrationSettings, Positions

__all__ = [
    "CoregistrationSettings",
    "CoregistrationResult",
    "RegistrationModel",
    "analyze_coregistration",
    "metroloj_ratio",
    "fit_registration",
    "correct_image",
    "Positions",
    "MODELS",
]

#: where each name is defined; the private ones are what this package exposed when it held the
#: analysis itself, and scripts may still import them from here
_EXPORTS = {
    **dict.fromkeys(
        (
            "analyze_coregistration",
            "_ONE_CHANNEL",
            "_check",
            "_identical_channels",
            "_numbered",
            "_single_bead_fallback",
        ),
        "analyze",
    ),
    **dict.fromkeys(
        (
            "SINGLE_BEAD_NOT_ESTIMABLE",
            "rejections",
            "theory_per_channel",
            "theory_warning",
            "z_step_warnings",
        ),
        "checks",
    ),
    **dict.fromkeys(
        (
            "_LOCALISATION_COLUMNS",
            "SINGLE_BEAD_MIN_SHARE",
            "_localise_2d",
            "_localise_3d",
            "_localise_single_bead",
            "_positions_per_channel",
        ),
        "localisation",
    ),
    **dict.fromkeys(("_pair_metrics", "_pair_summary", "metroloj_ratio", "mutual_nearest"), "matching"),
    **dict.fromkeys(
        ("MODELS", "RegistrationModel", "correct_image", "fit_registration", "_design", "_model_summary"),
        "model",
    ),
    "CoregistrationResult": "result",
    "CoregistrationSettings": "settings",
    "Positions": "settings",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

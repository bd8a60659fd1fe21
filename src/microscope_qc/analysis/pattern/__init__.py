"""Pattern slides (Argolight-type and similar): distortion, co-registration, uniformity and resolution from one image.

What a patterned fluorescent slide measures depends on the part imaged (``PatternSettings.kind``):

* ``rings`` (:mod:`.rings`): a field of rings or spots on a regular grid. Every spot is found with
  the shared detector and localised with the shared fitting engine (a 2D Gaussian: at typical
  resolution a small ring images as a spot), matched to the ideal grid (:mod:`.grid`: pitch and
  orientation found, missing spots walked around) and summarised: field distortion against a
  similarity, affine, radial (barrel/pincushion) or third-order polynomial grid model chosen by
  BIC, magnification and rotation against the nominal pitch, the uniformity of the spot
  intensities (the field tool's MetroloJ_QC numbers), spot FWHM over the field and, for several
  channels, the co-registration tool's registration model between them (:mod:`.channels`);
* ``lines`` (line pairs, gratings) and ``ladder`` (intensity steps): ``analyze_lines`` and
  ``analyze_ladder`` in the sibling modules ``lines`` and ``ladder``, dispatched to by
  :func:`analyze_pattern` when present (:mod:`.analyze`).

The corrections (:mod:`.correction`) turn the fitted models into ``registration.json``
(format version 2), napari affines, and corrected images.

Coordinates: µm, (x, y), origin at the centre of pixel (0, 0) (numpy/napari convention, y down).

The names below load on first use (:mod:`microscope_qc._lazy`): ``from
microscope_qc.analysis.pattern import PatternSettings`` reads the settings only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.pattern.analyze import analyze_pattern, detect_kind
    from microscope_qc.analysis.pattern.correction import (
        correct_channel,
        correct_image,
        read_registration,
    )
    from microscope_qc.analysis.pattern.grid import GridModel, Lattice, find_lattice, fit_grid_models
    from microscope_qc.analysis.pattern.result import REGISTRATION_FORMAT_VERSION, PatternResult
    from microscope_qc.analysis.pattern.rings import analyze_rings
    from microscope_qc.analysis.pattern.settings import GRID_MODELS, PatternSettings

__all__ = [
    "PatternSettings",
    "PatternResult",
    "GRID_MODELS",
    "REGISTRATION_FORMAT_VERSION",
    "analyze_pattern",
    "analyze_rings",
    "detect_kind",
    "GridModel",
    "Lattice",
    "find_lattice",
    "fit_grid_models",
    "correct_image",
    "correct_channel",
    "read_registration",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PatternSettings": "settings",
        "GRID_MODELS": "settings",
        "PatternResult": "result",
        "REGISTRATION_FORMAT_VERSION": "result",
        "analyze_pattern": "analyze",
        "detect_kind": "analyze",
        "analyze_rings": "rings",
        **dict.fromkeys(("GridModel", "Lattice", "find_lattice", "fit_grid_models"), "grid"),
        **dict.fromkeys(("correct_image", "correct_channel", "read_registration"), "correction"),
    },
)

"""Axial resolution from a mirror: MetroloJ's axial-resolution tool and a per-column-band analysis.

An XZ image of a mirror's reflection (confocal reflection mode): the profile averaged over a ROI
fitted with a Gaussian (MetroloJ), and the same fit per column band across the field, with fit
standard errors, the variation across the field, the mirror's tilt and the ratio to the
confocal-reflection theory (docs/mirror.md).

The names below load on first use (:mod:`microscope_qc._lazy`): importing :class:`MirrorSettings`
reads the settings module only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.mirror.analyze import analyze_mirror, fit_profiles, xz_image
    from microscope_qc.analysis.mirror.result import MirrorResult
    from microscope_qc.analysis.mirror.settings import MirrorSettings
    from microscope_qc.analysis.mirror.theory import MIRROR_THEORY_LABEL, mirror_axial_fwhm_um

__all__ = [
    "MirrorSettings",
    "MirrorResult",
    "analyze_mirror",
    "fit_profiles",
    "xz_image",
    "mirror_axial_fwhm_um",
    "MIRROR_THEORY_LABEL",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "MirrorSettings": "settings",
        "MirrorResult": "result",
        **dict.fromkeys(("analyze_mirror", "fit_profiles", "xz_image"), "analyze"),
        **dict.fromkeys(("mirror_axial_fwhm_um", "MIRROR_THEORY_LABEL"), "theory"),
    },
)

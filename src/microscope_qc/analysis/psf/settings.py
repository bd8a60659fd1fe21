"""Analysis parameters of the PSF measurement."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal

from microscope_qc.instrument import MicroscopeSettings, Setting, Source

#: The fitting methods of :class:`PSFSettings`.
Method = Literal["quarep", "metroloj"]


@dataclass
class PSFSettings:
    """Analysis parameters of :func:`~microscope_qc.analysis.psf.analyze_psf`; lengths in µm.

    ``None`` means "derive from the optics" (documented per field); the result records the
    value used and whether it was a default or given by the user.

    Parameters
    ----------
    microscope : MicroscopeSettings
        Optics and sampling; ``voxel_size_um`` is required by the analysis.
    method : {"quarep", "metroloj"}
        ``"quarep"``: a 1D Gaussian along z, then a rotated 2D Gaussian in the focal plane
        (QUAREP WG5); ``"metroloj"``: MetroloJ_QC's 1D fits along lines through the brightest voxel.
    fit_3d : bool
        Also fit a full-covariance 3D Gaussian per bead (``method="quarep"`` only).
    box_xy_um, box_z_um : float, optional
        Fit box side and axial window; default max(2, 8 × theoretical lateral FWHM) and
        max(6, 6 × theoretical axial FWHM).
    min_separation_um : float, optional
        Beads closer than this to a neighbour are rejected; default the box side.
    z_margin_um : float, optional
        Beads whose focus is closer than this to the first/last plane are rejected; default
        bead radius + 2 µm (MetroloJ_QC).
    saturation_value : float, optional
        Default: the largest value of the integer data type (no limit for floating point).
    detection_threshold_sigma : float
        Detection threshold in noise standard deviations.
    min_r2_xy, min_r2_z : float, optional
        Minimum R² of the lateral and axial fits; default 0.9 and 0.8 (PSFj), 0.95 for
        ``method="metroloj"``.
    outlier_fence : float or None
        Tukey fence multiple for outlier rejection; ``None`` disables it.
    tolerance_xy_ratio, tolerance_z_ratio : float
        Pass if measured / theoretical FWHM is at most this (MetroloJ_QC defaults 1.5 and 2.0).
    map_size : int
        Field maps' longer side, in map pixels.
    average_bead : bool
        Compute the aligned average of the accepted beads.
    through_focus_beads : int
        At most this many accepted beads, spread over the field, get 2D fits in every plane near
        focus (astigmatism, ellipticity and tilt through focus); 0 turns that off.
    """

    microscope: MicroscopeSettings = field(default_factory=MicroscopeSettings)
    method: Method = "quarep"
    fit_3d: bool = False
    box_xy_um: float | None = None
    box_z_um: float | None = None
    min_separation_um: float | None = None
    z_margin_um: float | None = None
    saturation_value: float | None = None
    detection_threshold_sigma: float = 6.0
    min_r2_xy: float | None = None
    min_r2_z: float | None = None
    outlier_fence: float | None = 3.0
    tolerance_xy_ratio: float = 1.5
    tolerance_z_ratio: float = 2.0
    map_size: int = 64
    average_bead: bool = True
    # most accepted beads fitted plane by plane for astigmatism and tilt (spread over the field; 0: off)
    through_focus_beads: int = 32

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields (not the microscope) as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source: ``"default"`` when it equals the field's
            default (its default factory's value for fields that have one), else ``"user"``.
        """
        out = {}
        units = {"box_xy_um": "um", "box_z_um": "um", "min_separation_um": "um", "z_margin_um": "um"}
        for f in fields(self):
            if f.name == "microscope":
                continue
            default = _default_of(f)
            value = getattr(self, f.name)
            source = Source.DEFAULT if value == default else Source.USER
            out[f.name] = Setting(value, units.get(f.name), source)
        return out


def _default_of(f: Any) -> Any:
    """A dataclass field's default value: its ``default``, else its ``default_factory()``, else None."""
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None

"""Analysis parameters of the PSF measurement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from microscope_qc.instrument import MicroscopeSettings, Setting
from microscope_qc.setting_spec import detection_threshold_setting, setting, settings_provenance

#: The fitting methods of :class:`PSFSettings`.
Method = Literal["quarep", "metroloj"]

#: How far MetroloJ_QC-compatible line fits reach (:attr:`PSFSettings.metroloj_lines`).
MetroloJLines = Literal["auto", "image", "crop"]


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
    metroloj_lines : {"auto", "image", "crop"}
        ``method="metroloj"`` only: the x and y lines span the whole image (``"image"``,
        MetroloJ_QC's single-bead mode) or MetroloJ_QC's multiple-beads crop around each bead
        (``"crop"``); ``"auto"`` takes the whole image when exactly one bead is fitted, else
        the crop.
    through_focus_beads : int
        At most this many accepted beads, spread over the field, get 2D fits in every plane near
        focus (astigmatism, ellipticity and tilt through focus); 0 turns that off.
    """

    microscope: MicroscopeSettings = field(default_factory=MicroscopeSettings)
    method: Method = setting(
        "quarep",
        "method",
        "quarep: a 1D fit along z and a rotated 2D fit in the focal plane (QUAREP WG5); "
        "metroloj: MetroloJ_QC's 1D fits along lines through the brightest voxel",
        choices=(("quarep", "QUAREP: rotated 2D + axial fits"), ("metroloj", "MetroloJ_QC: line fits")),
    )
    fit_3d: bool = setting(False, "also fit 3D Gaussians", "also fit a full-covariance 3D Gaussian per bead")
    box_xy_um: float | None = setting(
        None,
        "lateral fit box",
        "lateral fit box side (default: 8 × theoretical lateral FWHM, at least 2 µm)",
        unit="um",
        flag="box-xy",
        minimum=0.05,
    )
    box_z_um: float | None = setting(
        None,
        "axial fit window",
        "axial fit window (default: 6 × theoretical axial FWHM, at least 6 µm)",
        unit="um",
        flag="box-z",
        minimum=0.05,
    )
    min_separation_um: float | None = setting(
        None,
        "minimum bead separation",
        "beads closer than this to a neighbour are rejected (default: the box side)",
        unit="um",
        flag="min-separation",
        minimum=0.0,
    )
    z_margin_um: float | None = setting(
        None,
        "z margin",
        "beads focused closer than this to the first or last plane are rejected "
        "(default: bead radius + 2 µm, as MetroloJ_QC)",
        unit="um",
        flag="z-margin",
        minimum=0.0,
    )
    saturation_value: float | None = setting(
        None,
        "saturation value",
        "intensity at which the detector saturates (default: the data type's maximum)",
        unit="counts",
        flag="saturation",
        minimum=0.0,
    )
    detection_threshold_sigma: float = detection_threshold_setting()
    min_r2_xy: float | None = setting(
        None,
        "minimum lateral R²",
        "beads whose lateral fit explains less are rejected (default 0.9, 0.95 for MetroloJ_QC)",
        flag="min-r2-xy",
        minimum=0.0,
        maximum=1.0,
    )
    min_r2_z: float | None = setting(
        None,
        "minimum axial R²",
        "beads whose axial fit explains less are rejected (default 0.8, 0.95 for MetroloJ_QC)",
        flag="min-r2-z",
        minimum=0.0,
        maximum=1.0,
    )
    outlier_fence: float | None = setting(
        3.0,
        "outlier fence",
        "Tukey fence multiple: beads outside the fences of the FWHM distribution are rejected",
        off_flag="no-outliers",
        minimum=0.5,
    )
    tolerance_xy_ratio: float = setting(
        1.5,
        "tolerance xy ratio",
        "pass if lateral FWHM / theory is at most this",
        flag="tolerance-xy",
        minimum=1.0,
        maximum=10.0,
        step=0.1,
    )
    tolerance_z_ratio: float = setting(
        2.0,
        "tolerance z ratio",
        "pass if axial FWHM / theory is at most this",
        flag="tolerance-z",
        minimum=1.0,
        maximum=10.0,
        step=0.1,
    )
    map_size: int = setting(
        64, "map size", "field maps' longer side, in map pixels", unit="px", minimum=8, maximum=1024
    )
    average_bead: bool = setting(
        True, "average the beads", "compute the aligned average of the accepted beads", flag="no-average-bead"
    )
    metroloj_lines: MetroloJLines = setting(
        "auto",
        "MetroloJ_QC line extent",
        "MetroloJ_QC-compatible fits: lines across the whole image (its single-bead mode), across its crop "
        "around each bead (its multiple-beads mode), or auto: the whole image when exactly one bead is fitted",
        choices=(("auto", "auto (as MetroloJ_QC)"), ("image", "whole image"), ("crop", "MetroloJ_QC crop")),
        flag="metroloj-lines",
    )
    through_focus_beads: int = setting(
        16,
        "beads fitted through focus",
        "at most this many accepted beads, spread over the field, get 2D fits in every plane near focus "
        "(astigmatism, ellipticity and tilt); 0 turns that off",
        minimum=0,
        maximum=10000,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields (not the microscope) as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (see :func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)

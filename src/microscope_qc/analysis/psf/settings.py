"""Analysis parameters of the PSF measurement."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from microscope_qc.instrument import (
    MicroscopeSettings,
    Setting,
    Source,
)


@dataclass
class PSFSettings:
    """Analysis parameters of :func:`analyze_psf`; lengths in µm.

    ``None`` means "derive from the optics" (documented per field); the result records the
    value used and whether it was a default or given by the user.
    """

    microscope: MicroscopeSettings = field(default_factory=MicroscopeSettings)
    method: str = (
        "quarep"  # "quarep" (1D z + rotated 2D xy) or "metroloj" (1D lines through the brightest voxel)
    )
    fit_3d: bool = False
    box_xy_um: float | None = None  # default max(2, 8 × theoretical lateral FWHM)
    box_z_um: float | None = None  # default max(6, 6 × theoretical axial FWHM)
    min_separation_um: float | None = None  # default: the box side
    z_margin_um: float | None = None  # default: bead radius + 2 µm (MetroloJ_QC)
    saturation_value: float | None = None  # default: the largest value of the integer data type
    detection_threshold_sigma: float = 6.0
    min_r2_xy: float | None = None  # default 0.9 (PSFj), 0.95 for method="metroloj"
    min_r2_z: float | None = None  # default 0.8 (PSFj), 0.95 for method="metroloj"
    outlier_fence: float | None = 3.0  # Tukey fence multiple; None disables outlier rejection
    tolerance_xy_ratio: float = 1.5
    tolerance_z_ratio: float = 2.0
    map_size: int = 64  # field maps' longer side, in map pixels
    average_bead: bool = True

    def analysis_settings(self) -> dict[str, Setting]:
        """This object's own fields (not the microscope) as provenance records."""
        out = {}
        units = {"box_xy_um": "um", "box_z_um": "um", "min_separation_um": "um", "z_margin_um": "um"}
        for f in fields(self):
            if f.name == "microscope":
                continue
            default = f.default if f.default is not field else None
            value = getattr(self, f.name)
            source = Source.DEFAULT if value == default else Source.USER
            out[f.name] = Setting(value, units.get(f.name), source)
        return out

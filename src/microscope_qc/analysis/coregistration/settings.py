"""Analysis parameters of the co-registration measurement (no numpy: the command line reads them to build its options)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from microscope_qc.instrument import MicroscopeSettings, Setting
from microscope_qc.setting_spec import detection_threshold_setting, setting, settings_provenance

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CoregistrationSettings", "Positions"]

#: bead positions given by the user: one (N, 3) z, y, x (or (N, 2) y, x) array of voxel indices for every
#: channel, or one array per channel index (channels left out are detected automatically)
Positions: TypeAlias = "np.ndarray | Mapping[int, np.ndarray] | None"


@dataclass
class CoregistrationSettings:
    """Parameters of :func:`analyze_coregistration`; lengths in µm."""

    microscope: MicroscopeSettings = field(default_factory=MicroscopeSettings)
    reference_channel: int = setting(
        0, "reference channel", "the channel the others are registered to", minimum=0, maximum=64
    )
    match_gate_um: float | None = setting(
        None,
        "match gate",
        "largest distance of beads matched between channels "
        "(default: 2 × theoretical lateral FWHM of the longer wavelength, as PSFj)",
        unit="um",
        flag="match-gate",
        minimum=0.0,
    )
    model: Literal["auto", "translation", "affine", "poly2"] = setting(
        "auto",
        "registration model",
        "the model mapping one channel onto the reference (auto: the lowest BIC)",
        choices=(
            ("auto", "automatic (lowest BIC)"),
            ("translation", "translation"),
            ("affine", "affine"),
            ("poly2", "polynomial, 2nd order"),
        ),
    )
    tolerance_ratio: float = setting(
        1.0,
        "pass if ratio ≤",
        "pass if the distance / the reference resolution is at most this",
        minimum=0.01,
        maximum=10.0,
        step=0.1,
    )
    single_bead: bool = setting(
        False, "one large bead (MetroloJ_QC co-alignment)", "MetroloJ_QC co-alignment mode: one large bead"
    )
    detection_threshold_sigma: float = detection_threshold_setting()
    box_xy_um: float | None = setting(
        None,
        "lateral fit box",
        "lateral fit box side (default: from the theoretical resolution)",
        unit="um",
        flag="box-xy",
        minimum=0.05,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields (not the microscope) as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (see :func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)

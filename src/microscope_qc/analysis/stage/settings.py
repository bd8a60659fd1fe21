"""Settings of the stage and focus analysis (light to import: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from microscope_qc.instrument import Setting
from microscope_qc.setting_spec import detection_threshold_setting, setting, settings_provenance

__all__ = ["StageSettings", "StageMode", "WG6_DISTANCES_UM"]

#: what the series is: the QUAREP WG6 repeatability protocol, or a bead followed over time
StageMode = Literal["repeatability", "drift"]
#: the two move distances of the QUAREP WG6 repeatability protocol
WG6_DISTANCES_UM = (300.0, 3000.0)


@dataclass
class StageSettings:
    """Parameters of :func:`~microscope_qc.analysis.stage.analyze_stage`."""

    mode: StageMode = setting(
        "repeatability",
        "mode",
        "repeatability: the QUAREP WG6 move protocol, one image after each move; drift: a bead followed over time",
        choices=(("repeatability", "repeatability (QUAREP WG6)"), ("drift", "drift (MetroloJ_QC)")),
    )
    bead_diameter_um: float = setting(
        2.0,
        "bead diameter",
        "diameter of the bead (QUAREP WG6: 1–4 µm); sets the detection filter and the fit box",
        unit="um",
        minimum=0.05,
        maximum=50.0,
        step=0.5,
    )
    detection_threshold_sigma: float = detection_threshold_setting()
    tolerance_um: float = setting(
        0.5,
        "pass if SD ≤",
        "pass if every SD of the bead position (per axis, direction and distance) is at most this (QUAREP WG6 "
        "tool-kit: 0.5 µm)",
        unit="um",
        flag="tolerance",
        minimum=0.0,
        maximum=1000.0,
        step=0.1,
    )
    stabilisation_threshold_um: float | None = setting(
        None,
        "stabilisation threshold",
        "drift: the stage is stable once every frame-to-frame displacement stays below this (default: the "
        "theoretical lateral resolution, as MetroloJ_QC)",
        unit="um",
        flag="stabilisation-threshold",
        minimum=0.0,
    )
    max_gap_frames: int = setting(
        4,
        "bridged gap",
        "drift: frames without a bead are bridged over at most this many frames (MetroloJ_QC: 4)",
        flag="max-gap",
        minimum=0,
        maximum=1000,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)

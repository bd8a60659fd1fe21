"""Settings of the light-source analysis (light to import: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from microscope_qc.instrument import Setting
from microscope_qc.setting_spec import setting, settings_provenance

__all__ = ["LightSourceSettings", "PowerUnit"]

#: how the power column's unit is taken: from its label (with a magnitude check), or forced
PowerUnit = Literal["auto", "W", "mW", "uW", "nW"]


@dataclass
class LightSourceSettings:
    """Parameters of :func:`~microscope_qc.analysis.light_source.analyze_light_source`."""

    warmup_tolerance_percent: float = setting(
        1.0,
        "warm-up band",
        "warm-up ends at the first reading after which every reading stays within ± this of the final plateau",
        unit="percent",
        flag="warmup-tolerance",
        minimum=0.01,
        maximum=50.0,
        step=0.1,
    )
    final_window_percent: float = setting(
        10.0,
        "final plateau window",
        "the final plateau is the mean of the readings in this last part of the log (by time)",
        unit="percent",
        flag="final-window",
        minimum=1.0,
        maximum=50.0,
        step=1.0,
    )
    short_term_window_s: float = setting(
        300.0,
        "short-term window",
        "short-term stability is the worst stability over consecutive windows of this length after warm-up "
        "(QUAREP WG1 short term: 5–10 min)",
        unit="s",
        flag="short-term-window",
        minimum=1.0,
        maximum=86400.0,
    )
    step_threshold_percent: float = setting(
        2.0,
        "plateau step",
        "a jump between consecutive readings larger than this (of the highest power) starts a new plateau",
        unit="percent",
        flag="step-threshold",
        minimum=0.1,
        maximum=100.0,
        step=0.5,
    )
    off_threshold_percent: float = setting(
        5.0,
        "off level",
        "readings below this fraction of the highest power are the light being off (pulses, laser switching)",
        unit="percent",
        flag="off-threshold",
        minimum=0.0,
        maximum=90.0,
        step=1.0,
    )
    min_plateau_readings: int = setting(
        3,
        "shortest plateau",
        "runs of fewer readings between steps are transitions, not plateaus",
        flag="min-plateau",
        minimum=1,
        maximum=10000,
    )
    allan_min_duration_s: float = setting(
        1800.0,
        "Allan deviation from",
        "the Allan deviation is computed for logs at least this long",
        unit="s",
        flag="allan-min-duration",
        minimum=0.0,
        maximum=10**7,
    )
    power_unit: PowerUnit = setting(
        "auto",
        "power unit",
        "unit of the power column: auto reads it from the column label and checks the magnitude",
        choices=(("auto", "from the column label"), ("W", "W"), ("mW", "mW"), ("uW", "µW"), ("nW", "nW")),
    )
    max_cv_percent: float | None = setting(
        None,
        "pass if CV ≤",
        "pass if the coefficient of variation after warm-up is at most this (no published limit: set your facility's)",
        unit="percent",
        flag="max-cv",
        minimum=0.0,
    )
    min_stability_percent: float | None = setting(
        None,
        "pass if stability ≥",
        "pass if the stability S after warm-up is at least this (no published limit: set your facility's)",
        unit="percent",
        flag="min-stability",
        minimum=0.0,
        maximum=100.0,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)

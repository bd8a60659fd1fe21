"""Settings of the line-pattern and grey-level-ladder analyses (light to import: the CLI builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from microscope_qc.instrument import Setting
from microscope_qc.setting_spec import setting, settings_provenance

__all__ = ["LinePatternSettings", "LadderSettings", "RAYLEIGH_DIP_PERCENT"]

#: the dip between two Airy-disc images at the Rayleigh distance: 1 − 2 (2 J₁(v)/v)² at v = 1.9159 (26.5 %;
#: often quoted as 26.4 %)
RAYLEIGH_DIP_PERCENT = 26.5


@dataclass
class LinePatternSettings:
    """Parameters of :func:`~microscope_qc.analysis.pattern.lines.analyze_lines`."""

    group_gap_um: float = setting(
        1.0,
        "group gap",
        "lines closer than this belong to one group; groups must be further apart than this",
        unit="um",
        flag="group-gap",
        minimum=0.05,
        maximum=100.0,
    )
    threshold_fraction: float = setting(
        0.15,
        "line threshold",
        "pixels brighter than the background by this fraction of the brightest structure are pattern",
        flag="line-threshold",
        minimum=0.01,
        maximum=0.9,
    )
    resolved_dip_percent: float = setting(
        RAYLEIGH_DIP_PERCENT,
        "resolved if dip ≥",
        "a line pair is resolved when the intensity between the lines is this much below their peaks "
        "(26.5 %: Rayleigh's criterion for two Airy discs)",
        unit="percent",
        flag="resolved-dip",
        minimum=0.1,
        maximum=99.0,
    )
    min_coherence: float = setting(
        0.5,
        "minimum coherence",
        "regions whose structure tensor is less oriented than this are not line groups (spots, rings)",
        flag="min-coherence",
        minimum=0.0,
        maximum=1.0,
    )
    background: Literal["image", "local"] = setting(
        "image",
        "background",
        "the level contrasts are measured above: the image's (median between the groups) or each group's own "
        "(median of its surroundings, for an uneven background)",
        flag="line-background",
        choices=(("image", "between all groups"), ("local", "around each group")),
    )
    bin_px: float = setting(
        0.25,
        "profile bin",
        "bin of the profile across the lines (pixel centres projected on the across-line axis)",
        unit="px",
        flag="profile-bin",
        minimum=0.05,
        maximum=2.0,
    )
    end_trim_fraction: float = setting(
        0.15,
        "end trim",
        "fraction of a group's length left out at each end of the lines (their blurred ends)",
        flag="end-trim",
        minimum=0.0,
        maximum=0.45,
    )
    max_resolved_spacing_um: float | None = setting(
        None,
        "pass if resolved spacing ≤",
        "pass if the smallest resolved spacing is at most this (default: no verdict)",
        unit="um",
        flag="max-resolved-spacing",
        minimum=0.0,
    )
    max_lsf_fwhm_um: float | None = setting(
        None,
        "pass if LSF FWHM ≤",
        "pass if the line-spread function's FWHM is at most this (default: no verdict)",
        unit="um",
        flag="max-lsf-fwhm",
        minimum=0.0,
    )
    spacing_tolerance_percent: float | None = setting(
        2.0,
        "spacing tolerance",
        "pass if every measured spacing is within this of its nominal spacing (when nominal spacings are given)",
        unit="percent",
        flag="spacing-tolerance",
        minimum=0.0,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)


@dataclass
class LadderSettings:
    """Parameters of :func:`~microscope_qc.analysis.pattern.ladder.analyze_ladder`."""

    bit_depth: int | None = setting(
        None,
        "bit depth",
        "the detector's bits (default: from the pixel type and the data's maximum)",
        flag="bit-depth",
        minimum=1,
        maximum=32,
    )
    threshold_sd: float = setting(
        5.0,
        "step threshold",
        "pixels this many noise SDs above the background belong to a step",
        unit="SD",
        flag="step-threshold",
        minimum=1.0,
        maximum=100.0,
    )
    min_step_px: int = setting(
        100,
        "smallest step",
        "regions of fewer pixels are not steps",
        unit="px",
        flag="min-step",
        minimum=4,
    )
    saturated_percent: float = setting(
        1.0,
        "saturated step",
        "a step with more than this share of its pixels at the full scale (or at 0) is left out of the fit",
        unit="percent",
        flag="saturated-step",
        minimum=0.0,
        maximum=100.0,
    )
    max_deviation_percent: float | None = setting(
        1.0,
        "pass if deviation ≤",
        "pass if no step deviates from the straight-line fit by more than this share of the fitted range",
        unit="percent",
        flag="max-deviation",
        minimum=0.0,
    )
    min_r2: float | None = setting(
        None,
        "pass if R² ≥",
        "pass if the straight-line fit explains at least this (default: no verdict)",
        flag="min-linearity-r2",
        minimum=0.0,
        maximum=1.0,
    )

    def analysis_settings(self) -> dict[str, Setting]:
        """The analysis' own fields as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        return settings_provenance(self)

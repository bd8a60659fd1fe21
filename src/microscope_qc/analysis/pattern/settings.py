"""Settings of the pattern-slide analysis (no numpy: the command line reads them to build its options)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from microscope_qc.analysis.pattern.lines_settings import LadderSettings, LinePatternSettings
from microscope_qc.instrument import MicroscopeSettings, Setting
from microscope_qc.setting_spec import detection_threshold_setting, setting, settings_provenance

__all__ = ["PatternSettings", "PatternKind", "GridModelChoice", "GRID_MODELS", "LINE_FIELDS", "LADDER_FIELDS"]

#: what part of a pattern slide an image shows (``auto``: detected from the image)
PatternKind = Literal["auto", "rings", "lines", "ladder"]
#: the grid models, simplest first; ``auto`` picks the lowest BIC
GridModelChoice = Literal["auto", "similarity", "affine", "radial", "poly3"]
GRID_MODELS: tuple[str, ...] = ("similarity", "affine", "radial", "poly3")


#: the fields each kind's own settings add to :class:`PatternSettings`
LINE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LinePatternSettings))
LADDER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LadderSettings))


@dataclass
class PatternSettings(LinePatternSettings, LadderSettings):
    """Parameters of :func:`~microscope_qc.analysis.pattern.analyze_pattern`; lengths in µm.

    Only ``microscope.voxel_size_um`` (the pixel size) is needed from the microscope settings.

    The measurement has one settings type (one set of command-line options, one form): it holds the
    field-of-rings settings declared here and, inherited, the line-pair settings
    (:class:`~microscope_qc.analysis.pattern.lines_settings.LinePatternSettings`) and the ladder
    settings (:class:`~microscope_qc.analysis.pattern.lines_settings.LadderSettings`), each declared
    once on its own class. :meth:`lines_settings` and :meth:`ladder_settings` give the part each
    analysis takes.
    """

    microscope: MicroscopeSettings = field(default_factory=MicroscopeSettings)
    kind: PatternKind = setting(
        "auto",
        "pattern",
        "the pattern the image shows: a field of rings or spots, line pairs or gratings, an intensity "
        "ladder (auto: detected from the image)",
        choices=(
            ("auto", "detect"),
            ("rings", "field of rings / spots"),
            ("lines", "line pairs / gratings"),
            ("ladder", "intensity ladder"),
        ),
    )
    nominal_pitch_um: float | None = setting(
        None,
        "nominal pitch",
        "the slide's grid pitch (centre to centre) as its maker states it; needed for the magnification "
        "(default: the pitch is measured and no magnification is reported)",
        unit="um",
        flag="pitch",
        minimum=0.01,
        maximum=10000.0,
        step=0.5,
    )
    pitch_tolerance_percent: float = setting(
        10.0,
        "pitch tolerance",
        "refuse the analysis when the measured pitch differs from the nominal pitch by more than this "
        "(a wrong nominal pitch or pixel size)",
        unit="percent",
        flag="pitch-tolerance",
        minimum=0.1,
        maximum=50.0,
    )
    grid_rows: int | None = setting(
        None,
        "grid rows",
        "rows of spots on the slide's grid (default: not checked)",
        flag="grid-rows",
        minimum=2,
        maximum=10000,
    )
    grid_cols: int | None = setting(
        None,
        "grid columns",
        "columns of spots on the slide's grid (default: not checked)",
        flag="grid-cols",
        minimum=2,
        maximum=10000,
    )
    model: GridModelChoice = setting(
        "auto",
        "distortion model",
        "the model of the imaged grid (auto: the lowest BIC): similarity (scale, rotation, shift), affine "
        "(also shear and unequal scales), radial (affine with barrel/pincushion k1, k2) or a 3rd-order "
        "polynomial",
        choices=(
            ("auto", "automatic (lowest BIC)"),
            ("similarity", "similarity"),
            ("affine", "affine"),
            ("radial", "radial (barrel / pincushion)"),
            ("poly3", "polynomial, 3rd order"),
        ),
    )
    registration_model: Literal["auto", "translation", "affine", "poly2"] = setting(
        "auto",
        "channel registration model",
        "the model mapping one channel onto the reference channel (auto: the lowest BIC; the "
        "co-registration measurement's models)",
        flag="registration-model",
        choices=(
            ("auto", "automatic (lowest BIC)"),
            ("translation", "translation"),
            ("affine", "affine"),
            ("poly2", "polynomial, 2nd order"),
        ),
    )
    reference_channel: int = setting(
        0, "reference channel", "the channel the others are registered to", minimum=0, maximum=64
    )
    spot_fwhm_um: float | None = setting(
        None,
        "spot size",
        "the expected FWHM of a spot (ring) image (default: estimated from the image)",
        unit="um",
        flag="spot-fwhm",
        minimum=0.01,
    )
    detection_threshold_sigma: float = detection_threshold_setting()
    tolerance_distortion_percent: float = setting(
        1.0,
        "pass if distortion ≤",
        "pass if the largest distortion is at most this share of the field's half-diagonal "
        "(a house default; set your facility's limit)",
        unit="percent",
        flag="max-distortion",
        minimum=0.0,
        maximum=100.0,
    )
    tolerance_uniformity_percent: float = setting(
        50.0,
        "pass if uniformity ≥",
        "pass if the spot-intensity uniformity U = 100·min/max is at least this (MetroloJ_QC's field limit)",
        unit="percent",
        flag="min-uniformity",
        minimum=0.0,
        maximum=100.0,
    )

    #: the slide's line spacings and grating periods in µm (``--kind lines``), to compare the measured
    #: spacings with; a list, so not a form field (``--nominal-spacings``)
    nominal_spacings_um: tuple[float, ...] | None = None
    #: the ladder steps' nominal levels, any unit, any order (``--kind ladder``; default equally
    #: spaced); ``--nominal-levels``
    nominal_levels: tuple[float, ...] | None = None

    def analysis_settings(self) -> dict[str, Setting]:
        """The field-of-rings analysis' own fields (not the microscope, nor the other kinds') as provenance records.

        Returns
        -------
        dict of str to Setting
            Each field's value, unit and source (:func:`~microscope_qc.setting_spec.settings_provenance`).
        """
        skip = ("microscope", "nominal_spacings_um", "nominal_levels", *LINE_FIELDS, *LADDER_FIELDS)
        return settings_provenance(self, skip=skip)

    def lines_settings(self) -> LinePatternSettings:
        """The settings of the line-pair and grating analysis.

        Returns
        -------
        LinePatternSettings
            This object's line-pattern fields.
        """
        return LinePatternSettings(**{name: getattr(self, name) for name in LINE_FIELDS})

    def ladder_settings(self) -> LadderSettings:
        """The settings of the grey-level ladder analysis.

        Returns
        -------
        LadderSettings
            This object's ladder fields.
        """
        return LadderSettings(**{name: getattr(self, name) for name in LADDER_FIELDS})

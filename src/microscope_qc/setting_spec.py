"""How users see an analysis setting: declared once, on the settings dataclass field.

Each field of a measurement's settings dataclass (e.g.
:class:`~microscope_qc.analysis.psf.PSFSettings`) that a user may change carries a
:class:`SettingSpec` in its ``dataclasses.field`` metadata, made with :func:`setting`. From
these specs the command line generates its options
(:func:`microscope_qc.measurements.options.add_settings_arguments`), the widgets generate their
form fields (``widgets/_settings_form.py``), error messages name the field in the words of the
place the user typed it, and results record each value's unit and source. Adding a setting to
an analysis is one field with one :func:`setting` call.

This module knows neither argparse nor Qt.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Sequence
from dataclasses import MISSING, dataclass
from typing import Any, Literal, Union, get_args, get_origin

from microscope_qc.instrument import Setting, Source

__all__ = [
    "SettingSpec",
    "setting",
    "UserSetting",
    "user_settings",
    "settings_provenance",
    "check_value",
    "validate_settings",
    "detection_threshold_setting",
]

#: the key under which :func:`setting` stores its spec in a field's metadata
METADATA_KEY = "microscope_qc.setting"

#: the value kinds a setting can have (from the field's type annotation)
Kind = Literal["bool", "int", "float", "choice"]


@dataclass(frozen=True)
class SettingSpec:
    """How a user sees and gives one analysis setting.

    Parameters
    ----------
    label : str
        Short human name, as a form field shows it ("blur σ"); error messages use it.
    help : str
        One line saying what it does; the CLI help and the widget tooltip.
    unit : str, optional
        Unit as files record it (``"um"``, ``"px"``, ``"percent"``, ``"SD"``); shown with µm and %.
    flag : str, optional
        The command-line option without its dashes; default: the field name with ``_`` as ``-``.
        For a boolean whose default is True, the flag turns it off (``"no-blur"``).
    off_flag : str, optional
        For an optional setting with a value by default: a flag that sets it to None
        (``"no-outliers"``).
    choices : sequence of (value, label), optional
        Human labels of a choice setting's values; default: the values of its ``Literal`` type.
    minimum, maximum : float, optional
        The range of valid values (inclusive); checked on the command line and in the widgets.
    step : float, optional
        Step of a widget's spin box.
    """

    label: str
    help: str
    unit: str | None = None
    flag: str | None = None
    off_flag: str | None = None
    choices: Sequence[tuple[str, str]] | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None


def setting(default: Any, label: str, help: str, **spec: Any) -> Any:  # noqa: A002 (argparse's word)
    """Declare a settings dataclass field that users may change.

    Parameters
    ----------
    default : Any
        The field's default value (immutable).
    label, help : str
        See :class:`SettingSpec`.
    **spec
        The other :class:`SettingSpec` fields.

    Returns
    -------
    dataclasses.Field
        The field, with its spec in the metadata.
    """
    return dataclasses.field(default=default, metadata={METADATA_KEY: SettingSpec(label, help, **spec)})


def detection_threshold_setting() -> Any:
    """The bead-detection threshold, declared the same way by every analysis that detects beads.

    Returns
    -------
    dataclasses.Field
        A ``detection_threshold_sigma`` field (6 noise SDs by default; ``--threshold`` on the command line).
    """
    return setting(
        6.0,
        "detection threshold",
        "bead detection threshold in noise standard deviations",
        unit="SD",
        flag="threshold",
        minimum=1.0,
        maximum=100.0,
        step=0.5,
    )


@dataclass(frozen=True)
class UserSetting:
    """One user-settable field of a settings dataclass, with its spec and value kind."""

    name: str
    spec: SettingSpec
    default: Any
    kind: Kind
    optional: bool  # None is a valid value ("derive it")
    choices: tuple[tuple[str, str], ...]

    @property
    def flag(self) -> str:
        """The command-line option without its dashes."""
        return self.spec.flag or self.name.replace("_", "-")

    @property
    def unit_text(self) -> str | None:
        """The unit as people write it (µm, %)."""
        return {"um": "µm", "percent": "%"}.get(self.spec.unit or "", self.spec.unit)

    @property
    def display_label(self) -> str:
        """The label with its unit, as a form shows it ("blur σ (px)")."""
        return f"{self.spec.label} ({self.unit_text})" if self.unit_text else self.spec.label


def _kind(annotation: Any) -> tuple[Kind, bool, tuple[str, ...]]:
    """Value kind, optionality and Literal values of a field's (resolved) type annotation."""
    args = get_args(annotation)
    optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in args
    if optional:
        (annotation,) = [a for a in args if a is not type(None)]
    if get_origin(annotation) is Literal:
        return "choice", optional, tuple(str(v) for v in get_args(annotation))
    kinds: dict[Any, Kind] = {bool: "bool", int: "int", float: "float"}
    if annotation not in kinds:
        raise TypeError(f"a user setting must be bool, int, float or a Literal, not {annotation!r}")
    return kinds[annotation], optional, ()


def user_settings(settings_type: type) -> list[UserSetting]:
    """The fields of a settings dataclass that users may change, in declaration order.

    Parameters
    ----------
    settings_type : type
        A dataclass whose user-settable fields were declared with :func:`setting`.

    Returns
    -------
    list of UserSetting
        One per field that has a spec.

    Raises
    ------
    TypeError
        If a field with a spec has a type the forms and the command line cannot handle.
    """
    hints = typing.get_type_hints(settings_type)
    out = []
    for f in dataclasses.fields(settings_type):
        spec = f.metadata.get(METADATA_KEY)
        if spec is None:
            continue
        kind, optional, values = _kind(hints[f.name])
        labels = dict(spec.choices or ())
        choices = tuple((v, labels.get(v, v)) for v in values)
        out.append(UserSetting(f.name, spec, f.default, kind, optional, choices))
    return out


def check_value(item: UserSetting, value: Any) -> str | None:
    """Say what is wrong with a value for a setting, or None when it is valid.

    Parameters
    ----------
    item : UserSetting
        The setting.
    value : Any
        The value (None: "derive it", valid when the setting is optional).

    Returns
    -------
    str or None
        A phrase to follow the setting's name ("must be at least 0"), or None.
    """
    if value is None:
        return None if item.optional else "needs a value"
    if item.kind == "choice":
        allowed = [v for v, _ in item.choices]
        return None if value in allowed else f"must be one of {', '.join(allowed)}"
    if item.kind in ("int", "float") and not isinstance(value, bool):
        if not math.isfinite(float(value)):
            return "must be a finite number"
        lo, hi = item.spec.minimum, item.spec.maximum
        unit = f" {item.unit_text}" if item.unit_text else ""
        if lo is not None and value < lo:
            return f"must be at least {lo:g}{unit}"
        if hi is not None and value > hi:
            return f"must be at most {hi:g}{unit}"
    return None


def validate_settings(settings: Any) -> None:
    """Check every user setting of a settings object against its spec (the Python API's edge).

    The command line and the widgets check values as they are typed; an analysis calls this so
    that a script gets the same answer.

    Parameters
    ----------
    settings : dataclass instance
        The analysis settings.

    Raises
    ------
    SettingsError
        Naming the first setting that is not valid, with its valid range.
    """
    from microscope_qc.instrument import SettingsError

    for item in user_settings(type(settings)):
        value = getattr(settings, item.name)
        problem = check_value(item, value)
        if problem is not None:
            raise SettingsError(f"The {item.spec.label} ({item.name}) {problem}; got {value!r}.")


def _default_of(f: dataclasses.Field[Any]) -> Any:
    """A dataclass field's default value: its ``default``, else its ``default_factory()``, else None."""
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def settings_provenance(settings: Any, skip: Sequence[str] = ("microscope",)) -> dict[str, Setting]:
    """Every analysis field of a settings object as a provenance record.

    Parameters
    ----------
    settings : dataclass instance
        The analysis settings.
    skip : sequence of str
        Fields that are recorded elsewhere (the microscope's own table).

    Returns
    -------
    dict of str to Setting
        Each field's value, unit (from its spec) and source: ``"default"`` when it equals the
        field's default, else ``"user"``.
    """
    out = {}
    for f in dataclasses.fields(settings):
        if f.name in skip:
            continue
        spec = f.metadata.get(METADATA_KEY)
        value = getattr(settings, f.name)
        source = Source.DEFAULT if value == _default_of(f) else Source.USER
        out[f.name] = Setting(value, spec.unit if spec else _unit_from_name(f.name), source)
    return out


def _unit_from_name(name: str) -> str | None:
    """The unit a field name ends with (``pixel_size_um``), for fields users do not set directly."""
    for suffix, unit in (("_um", "um"), ("_px", "px"), ("_percent", "percent"), ("_nm", "nm")):
        if name.endswith(suffix):
            return unit
    return None

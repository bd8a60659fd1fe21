"""Form fields generated from an analysis settings type (the specs on its dataclass fields).

The command line generates its options from the same specs
(:mod:`microscope_qc.setting_spec`), so a setting added to an analysis appears in both, with the
same label, range, default and help text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, LineEdit, SpinBox, Widget
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QToolButton, QVBoxLayout, QWidget

from microscope_qc.instrument import SettingsError
from microscope_qc.setting_spec import UserSetting, check_value, user_settings

__all__ = ["SettingsForm"]

_SPIN_LIMIT = 1e9  # spin boxes need finite bounds


def _field_widget(item: UserSetting) -> Widget:
    """One magicgui widget for a setting: a check box, a choice, a spin box, or a text field
    for settings whose empty value means "derive it" (or "off")."""
    tip = item.spec.help
    if item.kind == "bool":
        box = CheckBox(text=item.display_label, value=bool(item.default), tooltip=tip)
        box.native.setText(item.display_label)  # magicgui shows "_" as a space: "MetroloJ QC"
        return box
    if item.kind == "choice":
        choices = [(text, value) for value, text in item.choices]
        # (a dock lets a long choice shrink, elided: MeasurementDock._build)
        return ComboBox(label=item.display_label, choices=choices, value=item.default, tooltip=tip)
    if item.optional:
        widget = LineEdit(label=item.display_label, value="" if item.default is None else f"{item.default:g}")
        widget.native.setPlaceholderText("auto" if item.default is None else "off")
        widget.tooltip = f"{tip} (leave empty: {'derived' if item.default is None else 'off'})"
        return widget
    lo = item.spec.minimum if item.spec.minimum is not None else -_SPIN_LIMIT
    hi = item.spec.maximum if item.spec.maximum is not None else _SPIN_LIMIT
    if item.kind == "int":
        return SpinBox(label=item.display_label, value=item.default, min=int(lo), max=int(hi), tooltip=tip)
    step = item.spec.step if item.spec.step is not None else 0.1
    return FloatSpinBox(label=item.display_label, value=item.default, min=lo, max=hi, step=step, tooltip=tip)


class SettingsForm:
    """Form fields for some settings of an analysis, in the order given.

    Parameters
    ----------
    settings_type : type
        The analysis settings dataclass.
    names : iterable of str
        The settings shown at once.
    more : iterable of str or None
        Settings shown under a "more settings" toggle; None: every other user setting.
    """

    def __init__(self, settings_type: type, names: Iterable[str], more: Iterable[str] | None = None):
        items = {item.name: item for item in user_settings(settings_type)}
        shown = list(names)
        unknown = [n for n in shown if n not in items]
        if unknown:
            raise KeyError(f"{settings_type.__name__} has no user setting {unknown}")
        hidden = [n for n in items if n not in shown] if more is None else list(more)
        self._items = {n: items[n] for n in shown + hidden}
        self._widgets: dict[str, Widget] = {n: _field_widget(self._items[n]) for n in self._items}
        #: the settings shown at once, for the dock's main form
        self.widgets: list[Widget] = [self._widgets[n] for n in shown]
        #: the names of the settings under the "more settings" toggle
        self.hidden_names = tuple(hidden)
        self.more = Container(widgets=[self._widgets[n] for n in hidden])
        self.more_toggle = QToolButton()
        self.more_toggle.setText(f"more settings ({len(hidden)})")
        self.more_toggle.setCheckable(True)
        self.more_toggle.setArrowType(_arrow(False))
        self.more_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more_toggle.setAutoRaise(True)
        self.more_toggle.toggled.connect(self._show_more)
        self.more.native.setVisible(False)
        #: the toggle and the hidden settings, to put below the main form
        self.more_panel = QWidget()
        layout = QVBoxLayout(self.more_panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.more_toggle)
        layout.addWidget(self.more.native)
        self.more_panel.setVisible(bool(hidden))

    def __getitem__(self, name: str) -> Widget:
        """The widget of a setting."""
        return self._widgets[name]

    @property
    def all_widgets(self) -> list[Widget]:
        """Every field, the hidden ones included (e.g. to react to any change)."""
        return list(self._widgets.values())

    @property
    def field_names(self) -> dict[str, str]:
        """How messages name each setting: ``{setting name: "the 'label (unit)' field"}``."""
        return {n: f"the '{item.display_label}' field" for n, item in self._items.items()}

    def _show_more(self, shown: bool) -> None:
        self.more.native.setVisible(shown)
        self.more_toggle.setArrowType(_arrow(shown))

    def values(self) -> dict[str, Any]:
        """The settings as keyword arguments of the settings type.

        Returns
        -------
        dict
            Every setting in the form.

        Raises
        ------
        SettingsError
            Naming the field in the form's words when a value is not valid.
        """
        out: dict[str, Any] = {}
        for name, item in self._items.items():
            value = self._widgets[name].value
            if item.kind == "bool":
                value = bool(value)
            elif item.kind == "choice":
                value = str(value)
            elif item.optional:
                value = _number(str(value), item)
            else:
                value = int(value) if item.kind == "int" else float(value)
            problem = check_value(item, value)
            if problem is not None:
                raise SettingsError(f"'{item.display_label}' {problem}.")
            out[name] = value
        return out

    def reset(self) -> None:
        """Put every field back to the analysis default."""
        for name, item in self._items.items():
            widget = self._widgets[name]
            if item.optional and item.kind in ("int", "float"):
                widget.value = "" if item.default is None else f"{item.default:g}"
            else:
                widget.value = item.default


def _number(text: str, item: UserSetting) -> float | int | None:
    """Text of an optional number field: empty → None, else the number (a comma as decimal point is fine)."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return int(text) if item.kind == "int" else float(text)
    except ValueError:
        kind = "a whole number" if item.kind == "int" else "a number"
        raise SettingsError(f"'{item.display_label}' must be {kind} or empty; '{text}' is not.") from None


def _arrow(open_: bool) -> Any:
    return Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow

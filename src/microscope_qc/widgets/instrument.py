"""Instrument profile editor (Plugins ▸ Microscope QC ▸ Instrument profile).

A form for the microscope and one editable table per list (objectives, channels, light sources,
detectors, tolerances). Saving validates first and never overwrites another file silently.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.widgets import ComboBox, Container, LineEdit
from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from microscope_qc.instrument import Modality
from microscope_qc.measurements import load_checked_profile
from microscope_qc.profiles import (
    ChannelPreset,
    Detector,
    InstrumentProfile,
    LightSource,
    Objective,
    ProfileError,
    Tolerance,
    save_profile,
)
from microscope_qc.widgets._common import ask_overwrite

if TYPE_CHECKING:
    import napari

__all__ = ["InstrumentWidget"]

LISTS = (
    ("objectives", Objective),
    ("channels", ChannelPreset),
    ("light_sources", LightSource),
    ("detectors", Detector),
    ("tolerances", Tolerance),
)


class _ListTable(QWidget):
    """An editable table of one dataclass type, with add/remove buttons."""

    def __init__(self, kind: type):
        super().__init__()
        self.kind = kind
        self.columns = [f.name for f in fields(kind)]
        self.table = QTableWidget(0, len(self.columns))
        self.table.setHorizontalHeaderLabels(self.columns)
        add, remove = QPushButton("Add row"), QPushButton("Remove selected")
        add.clicked.connect(lambda: self.table.insertRow(self.table.rowCount()))
        remove.clicked.connect(
            lambda: [
                self.table.removeRow(i.row())
                for i in sorted(self.table.selectionModel().selectedRows(), key=lambda i: -i.row())
            ]
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        layout.addLayout(row)

    def set_items(self, items: list) -> None:
        self.table.setRowCount(len(items))
        for r, item in enumerate(items):
            for c, name in enumerate(self.columns):
                v = getattr(item, name)
                self.table.setItem(r, c, QTableWidgetItem("" if v is None else str(v)))

    def items(self) -> list:
        out = []
        types = {f.name: f.type for f in fields(self.kind)}
        for r in range(self.table.rowCount()):
            values: dict[str, Any] = {}
            for c, name in enumerate(self.columns):
                cell = self.table.item(r, c)
                text = cell.text().strip() if cell is not None else ""
                typ = str(types[name])
                if not text:
                    if "None" in typ:
                        values[name] = None
                    elif typ == "str":
                        values[name] = ""
                    continue
                if "float" in typ:
                    try:
                        values[name] = float(text)
                    except ValueError:
                        raise ProfileError(
                            f"{self.kind.__name__} row {r + 1}, {name}: {text!r} is not a number."
                        ) from None
                elif "int" in typ:
                    values[name] = int(float(text))
                else:
                    values[name] = text
            if not any(v not in (None, "") for v in values.values()):
                continue  # an empty row
            try:
                out.append(self.kind(**values))
            except TypeError as exc:
                raise ProfileError(f"{self.kind.__name__} row {r + 1}: {exc}") from None
        return out


class InstrumentWidget(QWidget):
    """Create and edit an instrument profile file."""

    def __init__(self, napari_viewer: napari.viewer.Viewer | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.path: Path | None = None
        self.confirm_overwrite = lambda message: ask_overwrite(self, message)
        self.name = LineEdit(label="name")
        self.modality = ComboBox(label="modality", choices=[m.value for m in Modality])
        self.facility = LineEdit(label="facility")
        self.pinhole = LineEdit(label="pinhole (AU)")
        self.form = Container(widgets=[self.name, self.modality, self.facility, self.pinhole])
        self.tabs = QTabWidget()
        self.tables = {key: _ListTable(kind) for key, kind in LISTS}
        for key, table in self.tables.items():
            self.tabs.addTab(table, key.replace("_", " "))
        new, open_, save, save_as = (QPushButton(t) for t in ("New", "Open…", "Save", "Save as…"))
        new.clicked.connect(self.new)
        open_.clicked.connect(lambda: self.open())
        save.clicked.connect(lambda: self.save(self.path))
        save_as.clicked.connect(lambda: self.save())
        self.status = QLabel("Create a profile or open one (YAML or JSON).")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        for b in (new, open_, save, save_as):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addWidget(self.form.native)
        layout.addWidget(self.tabs, stretch=1)
        layout.addWidget(self.status)

    def new(self) -> None:
        self.set_profile(InstrumentProfile(name=""))
        self.path = None

    def set_profile(self, profile: InstrumentProfile) -> None:
        self.name.value = profile.name
        self.modality.value = profile.modality
        self.facility.value = profile.facility
        self.pinhole.value = "" if profile.pinhole_au is None else f"{profile.pinhole_au:g}"
        for key, _ in LISTS:
            self.tables[key].set_items(getattr(profile, key))

    def profile(self) -> InstrumentProfile:
        """The profile in the editor, validated (raises ProfileError saying what is wrong)."""
        try:
            pinhole = float(self.pinhole.value) if self.pinhole.value.strip() else None
        except ValueError:
            raise ProfileError(f"pinhole {self.pinhole.value!r} is not a number.") from None
        p = InstrumentProfile(
            name=self.name.value.strip(),
            modality=self.modality.value,
            facility=self.facility.value,
            pinhole_au=pinhole,
            **{key: self.tables[key].items() for key, _ in LISTS},
        )
        p.validate()
        return p

    def open(self, path: str | Path | None = None) -> InstrumentProfile | None:
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Open instrument profile", "", "Profiles (*.yaml *.yml *.json)"
            )
            if not chosen:
                return None
            path = chosen
        try:
            profile = load_checked_profile(path)
        except ProfileError as exc:
            self.status.setText(f"<b>Cannot open:</b> {exc}")
            return None
        self.set_profile(profile)
        self.path = Path(path)
        self.status.setText(f"Opened {self.path}")
        return profile

    def save(self, path: str | Path | None = None) -> Path | None:
        """Validate and save; saving over another existing file asks first."""
        try:
            profile = self.profile()
        except ProfileError as exc:
            self.status.setText(f"<b>Not saved:</b> {exc}")
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self,
                "Save instrument profile",
                f"{profile.name or 'instrument'}.yaml",
                "Profiles (*.yaml *.json)",
            )
            if not chosen:
                return None
            path = chosen
        path = Path(path)
        overwrite = path.exists() and (path == self.path or self.confirm_overwrite(f"{path} exists."))
        if path.exists() and not overwrite:
            self.status.setText("Not saved; the existing file was kept.")
            return None
        written = save_profile(profile, path, overwrite=overwrite)
        self.path = written
        self.status.setText(f"Saved {written}")
        return written

"""The microscope-settings form every bead-based widget shares: pre-filled from the layer, always editable,
showing where each value came from."""

from __future__ import annotations

from typing import Any

from magicgui.widgets import ComboBox, FileEdit, LineEdit
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel

from microscope_qc.instrument import (
    ChannelSettings,
    MicroscopeSettings,
    Modality,
    Setting,
    Source,
    settings_from_metadata,
)
from microscope_qc.io import read_metadata
from microscope_qc.measurements import load_checked_profile
from microscope_qc.profiles import InstrumentProfile, ProfileError, check_per_channel, resolve_settings
from microscope_qc.widgets._common import parse_optional_float

__all__ = ["MicroscopeForm"]

_LABELS = (
    ("voxel_size_um", "voxel size"),
    ("modality", "modality"),
    ("na", "NA"),
    ("immersion_index", "immersion n"),
    ("wavelength_ex_nm", "λ ex"),
    ("wavelength_em_nm", "λ em"),
    ("bead_diameter_um", "bead"),
)


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def _fmt_list(values: list[float | None]) -> str:
    if all(v is None for v in values):
        return ""
    if len(set(values)) == 1:
        return _fmt(values[0])
    return ", ".join(_fmt(v) for v in values)


class MicroscopeForm:
    """magicgui fields for the microscope settings plus a provenance line.

    ``widgets`` go into the host's form; ``sources_label`` under it. Wavelength fields take one
    value for every channel or a comma-separated value per channel.
    """

    #: setting name → the field(s) holding it, for messages in the widget's own words
    FIELD_NAMES = {
        "voxel_size_um": "the voxel size in the 'voxel z/y/x (µm)' fields",
        "na": "the numerical aperture in the 'NA' field",
        "immersion_index": "the immersion refractive index in the 'immersion n' field",
        "modality": "the modality in the 'modality' field",
        "wavelength_ex_nm": "the excitation wavelength in the 'λ excitation (nm)' field",
        "wavelength_em_nm": "the emission wavelength in the 'λ emission (nm)' field",
        "bead_diameter_um": "the bead diameter in the 'bead diameter (µm)' field",
        "pinhole_au": "the pinhole in the 'pinhole (AU)' field",
        "sheet_thickness_um": "the light-sheet thickness in the 'sheet thickness (µm)' field",
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
    }

    def __init__(self, with_bead: bool = True):
        self.with_bead = with_bead
        self.voxel_z = LineEdit(label="voxel z (µm)")
        self.voxel_y = LineEdit(label="voxel y (µm)")
        self.voxel_x = LineEdit(label="voxel x (µm)")
        self.modality = ComboBox(label="modality", choices=["", *(m.value for m in Modality)])
        self.na = LineEdit(label="NA")
        self.immersion_index = LineEdit(label="immersion n")
        self.wavelength_ex_nm = LineEdit(label="λ excitation (nm)")
        self.wavelength_em_nm = LineEdit(label="λ emission (nm)")
        self.bead_diameter_um = LineEdit(label="bead diameter (µm)")
        self.pinhole_au = LineEdit(label="pinhole (AU)", tooltip="confocal pinhole diameter in Airy units")
        self.sheet_thickness_um = LineEdit(
            label="sheet thickness (µm)",
            tooltip="light-sheet modality: the FWHM of the light sheet, which sets the axial resolution",
        )
        self.profile_file = FileEdit(
            label="instrument profile", mode="r", filter="*.yaml *.yml *.json", nullable=True
        )
        self.objective = ComboBox(label="objective", choices=[])
        self.channel_preset = ComboBox(label="channel preset", choices=[])
        self.profile: InstrumentProfile | None = None
        self._layer = None
        self.widgets = [
            self.profile_file,
            self.objective,
            self.channel_preset,
            self.voxel_z,
            self.voxel_y,
            self.voxel_x,
            self.modality,
            self.na,
            self.immersion_index,
            self.wavelength_ex_nm,
            self.wavelength_em_nm,
            self.pinhole_au,
            self.sheet_thickness_um,
        ]
        if with_bead:
            self.widgets.append(self.bead_diameter_um)
        self.sources_label = QLabel()
        self.sources_label.setWordWrap(True)
        self.sources_label.setTextFormat(Qt.TextFormat.RichText)
        self.sources: dict[str, Setting] = {}
        self.n_channels = 1
        self.channel_names = ["channel 0"]
        self._prefilling = False
        for w, key in (
            (self.voxel_z, "voxel_size_um"),
            (self.voxel_y, "voxel_size_um"),
            (self.voxel_x, "voxel_size_um"),
            (self.modality, "modality"),
            (self.na, "na"),
            (self.immersion_index, "immersion_index"),
            (self.wavelength_ex_nm, "wavelength_ex_nm"),
            (self.wavelength_em_nm, "wavelength_em_nm"),
            (self.bead_diameter_um, "bead_diameter_um"),
            (self.pinhole_au, "pinhole_au"),
            (self.sheet_thickness_um, "sheet_thickness_um"),
        ):
            w.changed.connect(lambda *_, k=key: self._mark_user(k))
        self.profile_file.changed.connect(self._load_profile)
        self.objective.changed.connect(self._apply_profile)
        self.channel_preset.changed.connect(self._apply_profile)
        self.message = ""

    def _load_profile(self, *_: Any) -> None:
        path = self.profile_file.value
        if not path or not str(path).strip() or str(path) == ".":
            self.profile = None
            return
        try:
            self.profile = load_checked_profile(path)
        except ProfileError as exc:
            self.profile = None
            self.message = str(exc)
            self.sources_label.setText(f"<span style='color:#f55'>{exc}</span>")
            return
        self.objective.choices = [o.name for o in self.profile.objectives]
        self.channel_preset.choices = [""] + [c.name for c in self.profile.channels]
        self._apply_profile()

    def _apply_profile(self, *_: Any) -> None:
        """Fill what the file does not say from the chosen objective and channel (file values still win)."""
        if self.profile is None or not self.objective.value or self._layer is None:
            return
        self.prefill(self._layer, self.n_channels)

    def prefill(self, layer: Any, n_channels: int) -> str | None:
        """Fill from our samples' metadata, else the source file's metadata, else the layer scale.

        Returns an error message if the file's metadata could not be read.
        """
        problem = None
        self._layer = layer
        self._prefilling = True
        try:
            ms = MicroscopeSettings(
                channels=tuple(ChannelSettings(f"channel {i}") for i in range(n_channels))
            )
            meta = layer.metadata if isinstance(layer.metadata, dict) else {}
            sample = meta.get("microscope_qc")
            path = getattr(getattr(layer, "source", None), "path", None)
            if sample and "settings" in sample:
                s = sample["settings"]
                origin = sample.get("source", "layer metadata")
                ms = ms.with_values(
                    Source.FILE, **{k: v for k, v in s.items() if not k.startswith("wavelength")}
                )
                ms = ms.with_wavelengths(s.get("wavelength_ex_nm"), s.get("wavelength_em_nm"), Source.FILE)
                ms.sources = {k: Setting(v.value, v.unit, Source.FILE, origin) for k, v in ms.sources.items()}
            elif path:
                try:
                    # a layer of a multi-scene file carries its scene (the plugin's reader)
                    ms = settings_from_metadata(read_metadata(path, meta.get("scene")), n_channels)
                except OSError as exc:
                    problem = f"Could not read the metadata of {path}: {exc}"
            presets = [self.channel_preset.value] * n_channels if self.channel_preset.value else None
            ms = resolve_settings(ms, self.profile, self.objective.value or None, presets)
            if ms.voxel_size_um is None and layer.ndim >= 3 and tuple(layer.scale[-3:]) != (1.0, 1.0, 1.0):
                ms = ms.with_values(Source.FILE, voxel_size_um=tuple(float(v) for v in layer.scale[-3:]))
                ms.sources["voxel_size_um"] = Setting(
                    ms.voxel_size_um, "um", Source.FILE, "napari layer scale"
                )
            vox = ms.voxel_size_um or (None, None, None)
            for w, v in zip((self.voxel_z, self.voxel_y, self.voxel_x), vox, strict=True):
                w.value = _fmt(v)
            self.modality.value = str(ms.modality) if ms.modality else ""
            self.na.value = _fmt(ms.na)
            self.immersion_index.value = _fmt(ms.immersion_index)
            self.wavelength_ex_nm.value = _fmt_list([c.wavelength_ex_nm for c in ms.channels])
            self.wavelength_em_nm.value = _fmt_list([c.wavelength_em_nm for c in ms.channels])
            self.bead_diameter_um.value = _fmt(ms.bead_diameter_um)
            self.pinhole_au.value = _fmt(ms.pinhole_au)
            self.sheet_thickness_um.value = _fmt(ms.sheet_thickness_um)
            self.sources = dict(ms.sources)
            self.n_channels = n_channels
            self.channel_names = [c.name for c in ms.channels]
        finally:
            self._prefilling = False
        self.show_sources()
        return problem

    def _mark_user(self, key: str) -> None:
        if self._prefilling:
            return
        self.sources[key] = Setting(None, None, Source.USER)
        self.show_sources()

    def show_sources(self) -> None:
        """One line per origin: which settings came from the file (and which field), the user, or are missing."""
        groups: dict[str, list[str]] = {}
        for key, label in _LABELS:
            src = self.sources.get(key)
            if src is None:
                origin = "<span style='color:#e8a33d'>missing (type it in)</span>"
            elif src.source in (Source.FILE, Source.INSTRUMENT):
                origin = f"from {src.detail or src.source}"
            else:
                origin = "typed by you"
            groups.setdefault(origin, []).append(label)
        lines = [f"{origin}: {', '.join(labels)}" for origin, labels in groups.items()]
        self.sources_label.setText("<small>" + "<br>".join(lines) + "</small>")

    def microscope_settings(self) -> MicroscopeSettings:
        """The settings typed or pre-filled, each with its source (ValueError on text that is not a number)."""

        def number(w) -> float | None:
            return parse_optional_float(w.value, w.label)

        vox = [number(w) for w in (self.voxel_z, self.voxel_y, self.voxel_x)]
        if any(v is not None for v in vox) and not all(v is not None for v in vox):
            empty = [
                w.label
                for w, v in zip((self.voxel_z, self.voxel_y, self.voxel_x), vox, strict=True)
                if v is None
            ]
            raise ValueError(f"Give all three voxel sizes: {', '.join(repr(e) for e in empty)} is empty.")
        values: dict[str, Any] = {
            "voxel_size_um": tuple(vox) if all(v is not None for v in vox) else None,
            "na": number(self.na),
            "immersion_index": number(self.immersion_index),
            "bead_diameter_um": number(self.bead_diameter_um) if self.with_bead else None,
            "pinhole_au": number(self.pinhole_au),
            "sheet_thickness_um": number(self.sheet_thickness_um),
            "modality": self.modality.value or None,
        }
        ms = MicroscopeSettings(channels=tuple(ChannelSettings(n) for n in self.channel_names))
        ms = ms.with_values(Source.USER, **values)
        ex = (
            [
                parse_optional_float(v, self.wavelength_ex_nm.label)
                for v in self.wavelength_ex_nm.value.split(",")
            ]
            if self.wavelength_ex_nm.value.strip()
            else None
        )
        em = (
            [
                parse_optional_float(v, self.wavelength_em_nm.label)
                for v in self.wavelength_em_nm.value.split(",")
            ]
            if self.wavelength_em_nm.value.strip()
            else None
        )
        check_per_channel(ex, len(ms.channels), "wavelength_ex_nm")
        check_per_channel(em, len(ms.channels), "wavelength_em_nm")
        ms = ms.with_wavelengths(ex, em, Source.USER)
        for key, src in self.sources.items():
            if key in ms.sources and src.source in (Source.FILE, Source.INSTRUMENT):
                ms.sources[key] = Setting(ms.sources[key].value, ms.sources[key].unit, src.source, src.detail)
        return ms

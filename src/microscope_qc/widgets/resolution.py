"""Resolution without beads dock widget (Layers ▸ Measure ▸ Resolution without beads).

The input is one image layer (a stack: its middle plane, as the command line does) and optionally
a second, independent image of the same field ('second image') for the two-image FRC; with one
image the FRC splits it by photons (it needs the conversion gain) or the decorrelation analysis
runs. The analysis is the one the command line runs. The dock plots the FRC curve with its 1/7 and
half-bit thresholds, or the decorrelation curves with their peaks, and the resolution is in the
summary. With the local map (on by default), the resolution of every tile is drawn over the image
as an Image layer ('resolution map'), the x / y anisotropy as a second, hidden one; a new
measurement replaces them, one without a map removes them.

The bundled two-image sample names each image's partner in its layer metadata
(``samples.resolution.PAIR_KEY``): picking one of them as the 'image' picks the other as the
'second image'; any other choice stays the user's.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, LineEdit
from qtpy.QtWidgets import QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.resolution import ResolutionResult, ResolutionSettings
from microscope_qc.measurements.resolution import RESOLUTION, map_files
from microscope_qc.samples.resolution import PAIR_KEY
from microscope_qc.widgets._base import MeasurementDock, scrolling
from microscope_qc.widgets._common import (
    METRIC_COLUMNS,
    METRIC_HEADERS,
    export_from_widget,
    metrics_frame,
    parse_optional_float,
    user_message,
    verdict_lines,
)
from microscope_qc.widgets._image_quality_inputs import optics_of
from microscope_qc.widgets._layers import image_layers, layer_key, prebuild
from microscope_qc.widgets._resolution_layers import MAP_ROLES, map_specs
from microscope_qc.widgets._resolution_plots import resolution_plot
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import LinePlot

if TYPE_CHECKING:
    import napari

__all__ = ["ResolutionWidget"]


class ResolutionWidget(MeasurementDock):
    """Measure the resolution an image reaches without beads: FRC (two images, or one split by
    photons) or decorrelation analysis."""

    measurement = RESOLUTION
    field_names = {
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
        "voxel_size_um": "the 'pixel size (µm)' field",
        "pair": "the 'second image' field",
    }

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer,
            parent,
            "Pick the 'image' (and a 'second image' of the same field for the two-image FRC), then Measure.",
        )
        self.result: ResolutionResult | None = None
        self._layer = None
        #: the 'second image' this dock picked itself (from the sample's metadata), else None
        self._auto_pair: Any = None
        #: the image whose partner was looked for (once per image)
        self._partner_checked: Any = None
        self.layer_combo = ComboBox(label="image", choices=self._layers, nullable=True)
        self.layer_combo.tooltip = "(Y, X); a stack: its middle plane."
        self.pair_combo = ComboBox(label="second image", choices=self._layers, nullable=True)
        self.pair_combo.tooltip = (
            "A second, independent image of the same field (same size): two-image FRC. "
            "Empty: one-image FRC (give the conversion gain) or decorrelation."
        )
        self.pixel = LineEdit(label="pixel size (µm)")
        self.pixel.tooltip = "Square pixels; from the layer's scale."
        self.na = LineEdit(label="NA")
        self.na.tooltip = (
            "The objective's NA, for Abbe's limit λem / (2 NA) (optional; from the file when it has it)."
        )
        self.wavelength = LineEdit(label="λ em (nm)")
        self.wavelength.tooltip = (
            "Emission wavelength, for Abbe's limit (optional; from the file when it has it)."
        )
        self.analysis = SettingsForm(
            ResolutionSettings,
            ["method", "frc_threshold", "conversion_gain_e_per_dn", "offset_counts", "local_map", "tile_px"],
        )
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.form = Container(
            widgets=[
                self.layer_combo,
                self.pair_combo,
                self.pixel,
                self.na,
                self.wavelength,
                *self.analysis.widgets,
            ]
        )
        self.run_button = QPushButton("Measure")
        self.plot = LinePlot()
        plots = QWidget()
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addWidget(self.plot)
        plots_layout.addStretch(1)
        self.table = ResultsTable()
        self.curve_table = ResultsTable()
        self.tiles_table = ResultsTable()
        self._build(
            [self.form.native, self.analysis.more_panel],
            [self.run_button],
            [
                ("Curves", scrolling(plots)),
                ("Metrics", self.table),
                ("Curve data", self.curve_table),
                ("Tiles", self.tiles_table),
            ],
        )
        self.run_button.clicked.connect(self.measure)
        self.layer_combo.changed.connect(self._layer_changed)
        self.pair_combo.changed.connect(self._pair_changed)
        self._watch_layers(self._refresh_layers)
        self._layer_changed()

    # ------------------------------------------------------------------ inputs
    def _layers(self, *_: Any) -> list:
        return image_layers(self.viewer, min_ndim=2)

    def _refresh_layers(self, *_: Any) -> None:
        current, pair = self.layer_combo.value, self.pair_combo.value
        self.layer_combo.reset_choices()
        self.pair_combo.reset_choices()
        choices = self._layers()
        keys = {layer_key(c) for c in choices}
        if layer_key(current) not in keys:
            self.layer_combo.value = choices[0] if choices else None
        if pair is not None and layer_key(pair) not in keys:
            self.pair_combo.value = None
        self._pick_partner()

    def _pick_partner(self) -> None:
        """Pick the bundled sample's partner image as the 'second image', once per image (the
        user's choice stays, an emptied 'second image' too)."""
        layer, pair = self.layer_combo.value, self.pair_combo.value
        key = layer_key(layer)
        if layer is None or key == self._partner_checked:
            return
        meta = layer.metadata if isinstance(layer.metadata, dict) else {}
        name = meta.get(PAIR_KEY)
        partner = next((c for c in self._layers() if c.name == name), None) if name else None
        if partner is None:
            if pair is not None and layer_key(pair) == layer_key(self._auto_pair):
                # the image is no longer the sample's: its partner was our choice, not the user's
                self._auto_pair = None
                self.pair_combo.value = None
            if not name:  # a plain image (else: decided when its partner arrives)
                self._partner_checked = key
            return
        self._partner_checked = key
        if layer_key(partner) != key and (pair is None or layer_key(pair) == layer_key(self._auto_pair)):
            self._auto_pair = partner
            self.pair_combo.value = partner

    def _layer_changed(self, *_: Any) -> None:
        """Fill the pixel size from the layer's scale."""
        layer = self.layer_combo.value
        if layer is None:
            return
        if self.result is not None and layer_key(layer) != layer_key(self._layer):
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
        self._pick_partner()
        if float(layer.scale[-1]) != 1.0:
            self.pixel.value = f"{float(layer.scale[-1]):g}"
        optics = optics_of(layer)  # the file's optics fill the empty fields
        for field, value in ((self.na, optics["na"]), (self.wavelength, optics["wavelength_em_nm"])):
            if value and not field.value:
                field.value = f"{float(value):g}"
        self.say(f"'{layer.name}': {layer.data.shape[-2]} × {layer.data.shape[-1]} px. Measure.")

    def _pair_changed(self, *_: Any) -> None:
        pair = self.pair_combo.value
        if self._auto_pair is not None and layer_key(pair) != layer_key(self._auto_pair):
            self._auto_pair = None  # the user chose: leave the choice alone from now on
        if self.result is not None:
            self.clear_result(note=None)

    def settings(self) -> ResolutionSettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return ResolutionSettings(**self.analysis.values())

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Compute the FRC or decorrelation curves in the background."""
        if self.busy:
            return
        layer, pair_layer = self.layer_combo.value, self.pair_combo.value
        if layer is None:
            self.error("Pick the 'image' first.")
            return
        if pair_layer is not None and layer_key(pair_layer) == layer_key(layer):
            self.error(
                "'second image' is the 'image' itself: pick an independent image of the field, or none."
            )
            return
        try:
            settings = self.settings()
            pixel = parse_optional_float(self.pixel.value, "pixel size (µm)")
            if pixel is None or not pixel > 0:
                raise ValueError(f"'pixel size (µm)' must be a positive number; '{self.pixel.value}' is not.")
            na = parse_optional_float(self.na.value, "NA")
            em = parse_optional_float(self.wavelength.value, "λ em (nm)")
            for value, text, label in ((na, self.na.value, "NA"), (em, self.wavelength.value, "λ em (nm)")):
                if value is not None and not value > 0:
                    raise ValueError(f"'{label}' must be a positive number or empty; '{text}' is not.")
            image, note = _plane(layer, "image")
            pair, pair_note = _plane(pair_layer, "second image") if pair_layer is not None else (None, None)
        except ValueError as exc:
            self.error(user_message(exc, self.field_names))
            return
        if pair is not None and pair.shape != image.shape:
            self.error(
                f"'second image' '{pair_layer.name}' is {pair.shape[1]} × {pair.shape[0]} px, the 'image' "
                f"{image.shape[1]} × {image.shape[0]}: pick an image of the same size."
            )
            return
        analyze = self.measurement.analyze
        name, pair_name = layer.name, pair_layer.name if pair_layer is not None else None
        scale, translate = tuple(layer.scale), tuple(layer.translate)
        existing = self.layers.roles()

        def work(progress, cancel):
            result = analyze(
                image,
                settings,
                pixel_size_um=pixel,
                pair=pair,
                na=na,
                wavelength_em_nm=em,
                progress=progress,
                cancel=cancel,
            )
            from microscope_qc.instrument import Setting, Source

            result.warnings.extend(n for n in (note, pair_note) if n)
            result.settings["pixel_size_um"] = Setting(
                float(pixel), "um", Source.USER, f"the 'pixel size (µm)' field (layer '{name}')"
            )
            if pair_name is not None:
                result.settings["pair_file"] = Setting(f"layer '{pair_name}'", None, Source.USER)
            specs = map_specs(result, scale, translate)
            prebuild(specs, existing)
            return result, resolution_plot(result), specs

        self._layer = layer
        self._start(work, "Computing the resolution curves…")

    def _on_done(self, value: Any) -> None:
        result, plot, specs = value
        super()._on_done(result)
        self.summary.setText(_summary_html(result))
        steps = self.layers.plan(specs, self._layer)
        drawn = {s.role for s in specs}
        steps["steps"] += [lambda r=role: self._remove(r) for role in MAP_ROLES if role not in drawn]
        self.drawing.run(**steps, done=lambda: self._drawn(result, plot), finished=self._select_map)

    def _select_map(self) -> None:
        """Show the map's layer controls, not those of the hidden anisotropy map (added last)."""
        shown = self.layers.find("map")
        if shown is not None:
            self.viewer.layers.selection.active = shown

    def _remove(self, role: str) -> None:
        """Remove a map layer an earlier run drew (this run has no map)."""
        layer = self.layers.find(role)
        if layer is not None:
            self.viewer.layers.remove(layer)

    def _drawn(self, result: ResolutionResult, plot: tuple) -> None:
        title, curves, xl, yl, options = plot
        self.plot.set_curves(title, curves, xl, yl, **options)
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        self.curve_table.set_frame(result.curve)
        if "tiles" in result.tables:
            self.tiles_table.set_frame(result.tables["tiles"])
        self.export_button.setEnabled(True)
        where = (
            " The map of the tiles is over the image ('resolution map')." if result.map is not None else ""
        )
        self.say(f"Done. The curves are in the 'Curves' tab.{where} Export… to save.")

    def _clear_tables(self) -> None:
        self.table.clear()
        self.curve_table.clear()
        self.tiles_table.clear()
        self.plot.clear()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, the tables as CSV and report.html, as the command line does; never
        overwrites silently."""
        return export_from_widget(self, folder, self._layer, map_files)


def _plane(layer: Any, field: str) -> tuple[np.ndarray, str | None]:
    """The (Y, X) plane analysed: the layer itself, or the middle plane of a stack (and a note)."""
    if getattr(layer, "rgb", False):
        raise ValueError(f"'{field}' '{layer.name}' is an RGB image: pick one channel.")
    data = np.asarray(layer.data)
    if data.ndim == 2:
        return data, None
    if data.ndim > 3:
        raise ValueError(
            f"'{field}' '{layer.name}' has {data.ndim} axes: give (Y, X) or (Z, Y, X), one channel."
        )
    z = data.shape[0] // 2
    return data[z], f"layer '{layer.name}': plane {z} of {data.shape[0]} analysed (the middle of the stack)."


def _fmt(value: float | None, digits: str = ".3g") -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, digits)


_METHODS = {
    "frc": "FRC of two images",
    "frc-split": "FRC of one image split by photons",
    "decorrelation": "decorrelation analysis",
}


def _summary_html(result: ResolutionResult) -> str:
    m = {x.name: x.value for x in result.metrics}
    text = f"Method: {_METHODS.get(result.method, result.method)}<br>"
    if "resolution_um" in m:
        text += (
            f"Resolution <b>{_fmt(m['resolution_um'])} µm</b> ({_fmt(m.get('resolution_px'))} px) · cut-off "
            f"{_fmt(m.get('cutoff_frequency_per_um'))} /µm"
        )
    else:
        text += "<b>No resolution</b> (see the warning)"
    if "frc_resolution_1_7_um" in m or "frc_resolution_half_bit_um" in m:
        text += (
            f"<br>FRC 1/7: {_fmt(m.get('frc_resolution_1_7_um'))} µm · half-bit: "
            f"{_fmt(m.get('frc_resolution_half_bit_um'))} µm"
        )
    if "frc_anisotropy" in m:
        text += (
            f"<br>Along x {_fmt(m.get('frc_resolution_x_um'))} µm, y {_fmt(m.get('frc_resolution_y_um'))} µm "
            f"(x / y {_fmt(m['frc_anisotropy'])})"
        )
    if "map_valid_tiles_percent" in m:
        text += (
            f"<br>Map: median {_fmt(m.get('map_resolution_median_um'))} µm (finest "
            f"{_fmt(m.get('map_resolution_best_um'))}, coarsest {_fmt(m.get('map_resolution_worst_um'))}) · "
            f"x / y {_fmt(m.get('map_anisotropy_median'))} · {_fmt(m['map_valid_tiles_percent'], '.0f')} % of "
            "tiles measured"
        )
    if "decorrelation_a0" in m:
        text += f"<br>Decorrelation A₀ {_fmt(m['decorrelation_a0'])} · k<sub>c</sub> {_fmt(m.get('decorrelation_kc'))}"
    verdicts = verdict_lines("resolution", result.verdicts)
    if verdicts:
        text += "<br>" + verdicts
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

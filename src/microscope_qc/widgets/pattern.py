"""Pattern-slide dock widget (Layers ▸ Measure ▸ Pattern slide (rings, line pairs)).

Pick the image of a patterned slide (one layer, a multichannel layer (C, Y, X), or a second layer
for a second channel or camera); *Measure* runs the analysis the command line's ``pattern``
command runs (the registry entry's ``analyze``) in a worker. For a field of rings it draws, per
channel, the spots filled by their residual after the grid model, the distortion vectors
(exaggerated by the factor the dock shows), the ideal grid, and one map (distortion, FWHM or
intensity over the field, chosen in the *Maps* tab). The *Correction* tab applies the fitted
correction to any image layer live, as its napari ``affine``, and removes it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FloatSpinBox, LineEdit
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.pattern import PatternResult, PatternSettings
from microscope_qc.instrument import ChannelSettings, MicroscopeSettings, Setting, Source
from microscope_qc.measurements.pattern import PATTERN
from microscope_qc.report.labels import heading, label
from microscope_qc.widgets._base import MeasurementDock, scrolling
from microscope_qc.widgets._common import (
    METRIC_COLUMNS,
    METRIC_HEADERS,
    export_from_widget,
    metrics_frame,
    user_message,
)
from microscope_qc.widgets._layers import image_layers, layer_key, prebuild, tag_of
from microscope_qc.widgets._pattern_layers import (
    MAP_QUANTITIES,
    Placement,
    auto_factor,
    channel_name,
    layer_affine,
    legend_html,
    map_spec,
    pattern_specs,
    vector_specs,
)
from microscope_qc.widgets._pattern_lines import GROUP_COLUMNS, is_lines, lines_plots, lines_specs
from microscope_qc.widgets._pattern_summary import pixel_text, planes_of, summary_html
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import ColourScale, LinePlot

if TYPE_CHECKING:
    import napari

__all__ = ["PatternWidget"]

SPOT_COLUMNS = [
    "channel", "spot", "status", "grid_i", "grid_j", "x_um", "y_um", "distortion_um", "residual_um",
    "fwhm_um", "intensity", "r2", "x_se_um", "y_se_um",
]  # fmt: skip
ONTO = [
    ("the reference channel (channel registration)", "reference"),
    ("the slide (grid magnification and rotation removed)", "slide"),
]


def _header(name: str) -> tuple[str, str]:
    lab = label("pattern", name)
    return heading("pattern", name), f"{lab.description or lab.text} — column '{name}' in the exported CSV"


class PatternWidget(MeasurementDock):
    """Distortion, magnification, uniformity, spot FWHM and channel registration from a pattern slide."""

    measurement = PATTERN
    field_names = {
        "voxel_size_um": "the 'pixel size (µm)' field",
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
    }

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer,
            parent,
            "Pick the pattern image in 'image' (and a 'second channel' layer, if any), then Measure.",
        )
        self.result: PatternResult | None = None
        self._lead: Any = None
        self._inputs: list = []
        self._image_key: Any = None
        self._place: Placement | None = None
        self._factor_auto = True
        self._setting_factor = False
        #: layers corrected by this dock: key → (layer, its affine before the correction)
        self._originals: dict[Any, tuple[Any, np.ndarray]] = {}
        #: the 'second channel' this dock picked itself (else None: the user's choice is kept)
        self._auto_second: Any = None

        self.layer_combo = ComboBox(label="image", choices=self._image_layers, nullable=True)
        self.layer_combo.tooltip = (
            "(Y, X); (C, Y, X) with at most 8 channels; a (Z, Y, X) stack: its sharpest plane."
        )
        self.second_combo = ComboBox(label="second channel", choices=self._image_layers, nullable=True)
        self.second_combo.tooltip = (
            "Another channel or camera of the same field (same size): registered to the reference channel."
        )
        self.pixel = LineEdit(label="pixel size (µm)")
        self.pixel.tooltip = "Square pixels: one value; else 'y, x'. Pre-filled from the image layer's scale."
        self.pixel_source = QLabel()
        self.pixel_source.setWordWrap(True)
        self.analysis = SettingsForm(
            PatternSettings, ["kind", "nominal_pitch_um", "model", "reference_channel"]
        )
        self.nominal_pitch, self.model = self.analysis["nominal_pitch_um"], self.analysis["model"]
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.exaggeration = FloatSpinBox(
            label="vector exaggeration ×", value=10.0, min=1.0, max=100000.0, step=10.0
        )
        self.exaggeration.tooltip = (
            "Distortion vectors are drawn this many times longer than they are (set automatically at the "
            "first Measure: the longest about half a grid pitch, until you change it)."
        )
        self.form = Container(
            widgets=[
                self.layer_combo,
                self.second_combo,
                self.pixel,
                *self.analysis.widgets,
                self.exaggeration,
            ]
        )
        self.run_button = QPushButton("Measure")
        self._lines_page = scrolling(self._lines_tab())
        self.table = ResultsTable()
        # a few hundred spots per channel: columns sized from the first rows (Qt measures 1000 by
        # default, seconds of the GUI thread for a two-channel grid)
        self.table.horizontalHeader().setResizeContentsPrecision(100)
        self.metrics_table = ResultsTable()
        self.legend = QLabel(legend_html(None, self.exaggeration.value))
        for lab in (self.legend,):
            lab.setWordWrap(True)
            lab.setTextFormat(Qt.TextFormat.RichText)
            lab.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._build(
            [self.form.native, self.pixel_source, self.analysis.more_panel],
            [self.run_button],
            [
                ("Spots / groups", self.table),
                ("Maps", self._maps_tab()),
                ("Line pairs", self._lines_page),
                ("Correction", scrolling(self._correction_tab())),
                ("Metrics", self.metrics_table),
                ("Legend", scrolling(self.legend)),
            ],
        )
        self.run_button.clicked.connect(self.measure)
        self.layer_combo.changed.connect(self._image_changed)
        self.second_combo.changed.connect(self._second_changed)
        self.exaggeration.changed.connect(self._factor_changed)
        self.table.row_selected(self._on_row_selected)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ tabs
    def _maps_tab(self) -> QWidget:
        self.map_choice = ComboBox(
            label="map shown", choices=[(what, key) for key, (what, _) in MAP_QUANTITIES.items()]
        )
        self.map_channel = ComboBox(label="of channel", choices=[])
        self.colour_scale = ColourScale()
        note = QLabel(
            "<small>The map layer ('pattern map: …') is hidden at first: tick its eye in the layer list. Values "
            "between the spots are interpolated linearly; the model's distortion covers the whole field.</small>"
        )
        note.setWordWrap(True)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(Container(widgets=[self.map_choice, self.map_channel]).native)
        layout.addWidget(self.colour_scale)
        layout.addWidget(note)
        layout.addStretch(1)
        self.map_choice.changed.connect(self._show_map)
        self.map_channel.changed.connect(self._show_map)
        return tab

    def _lines_tab(self) -> QWidget:
        self.profile_plot, self.contrast_plot = LinePlot(), LinePlot()
        note = QLabel(
            "<small>For an image of line pairs or gratings: each group's profile across its lines (the "
            "orientation is found, not assumed; drawn over the image as 'pattern line groups'), and the "
            "Michelson contrast of each group against its spacing. A group is resolved when the dip between "
            "its lines is at least the 'resolved if dip ≥' setting (26.5 %: Rayleigh).</small>"
        )
        note.setWordWrap(True)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.profile_plot, self.contrast_plot, note):
            layout.addWidget(w)
        layout.addStretch(1)
        return tab

    def _correction_tab(self) -> QWidget:
        self.correct_target = ComboBox(
            label="apply the fitted correction to layer", choices=self._image_layers, nullable=True
        )
        self.correct_channel = ComboBox(label="with the model of channel", choices=[])
        self.correct_onto = ComboBox(label="onto", choices=ONTO, value="reference")
        self.apply_button = QPushButton("Apply correction")
        self.remove_button = QPushButton("Remove correction")
        self.apply_button.setEnabled(False)
        self.remove_button.setEnabled(False)
        self.correction_note = QLabel(
            "<small>The correction is the layer's napari <i>affine</i> (world µm): nothing is resampled, and "
            "<i>Remove correction</i> puts the layer's own affine back. A channel is mapped onto the reference "
            "channel with the linear part of the channel registration (a 2nd-order model: its linear part at the "
            "field centre); 'the slide' removes the grid's magnification and rotation, so that world distances "
            "are slide µm. Export… writes registration.json for <code>microscope-qc correct</code>, which "
            "also removes the non-linear distortion.</small>"
        )
        self.correction_note.setWordWrap(True)
        self.correction_note.setTextFormat(Qt.TextFormat.RichText)
        form = Container(widgets=[self.correct_target, self.correct_channel, self.correct_onto])
        for combo in form.native.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.remove_button)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(form.native)
        layout.addLayout(buttons)
        layout.addWidget(self.correction_note)
        layout.addStretch(1)
        self.apply_button.clicked.connect(self.apply_correction)
        self.remove_button.clicked.connect(self.remove_correction)
        self.correct_target.changed.connect(self._target_changed)
        return tab

    # ------------------------------------------------------------------ inputs
    def _image_layers(self, *_: Any) -> list:
        return image_layers(self.viewer, min_ndim=2)

    def _refresh_layers(self, *_: Any) -> None:
        current, second, target = (
            self.layer_combo.value,
            self.second_combo.value,
            self.correct_target.value,
        )
        for combo in (self.layer_combo, self.second_combo, self.correct_target):
            combo.reset_choices()
        choices = self._image_layers()
        keys = {layer_key(c) for c in choices}
        if layer_key(current) not in keys:
            self.layer_combo.value = choices[0] if choices else None
        elif layer_key(current) != self._image_key:
            self._image_changed()
        if second is not None and layer_key(second) not in keys:
            self.second_combo.value = None
        if target is not None and layer_key(target) not in keys:
            self.correct_target.value = None
        # a corrected layer that left the viewer needs no restoring
        self._originals = {k: v for k, v in self._originals.items() if k in keys}
        self._update_correction_buttons()

    def _image_changed(self, *_: Any) -> None:
        layer = self.layer_combo.value
        if layer_key(layer) == self._image_key:
            return
        had = self._image_key is not None
        self._image_key = layer_key(layer)
        if layer is None:
            self.say(self.hint)
            return
        if had:  # the results of another image must not pass for this one's
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
            self._factor_auto = True
        self._pick_second(layer)
        text, where = pixel_text(layer)
        self.pixel.value = text
        self.pixel_source.setText(f"<small>pixel size: {where}</small>")
        self.say(f"'{layer.name}': {layer.data.shape[-1]} × {layer.data.shape[-2]} px. Measure.")

    def _pick_second(self, layer: Any) -> None:
        """The other channel of the same acquisition (the bundled sample's, or the other layer read from
        the same file, same size) becomes the 'second channel'; a choice of the user's stays."""
        current = self.second_combo.value
        if current is not None and layer_key(current) not in (layer_key(self._auto_second), layer_key(layer)):
            return

        def same_acquisition(c: Any) -> bool:
            if layer_key(c) == layer_key(layer) or c.ndim != 2 or c.data.shape != layer.data.shape:
                return False
            path = getattr(layer.source, "path", None)
            if path is not None:
                return bool(getattr(c.source, "path", None) == path)
            truth = layer.metadata.get("truth")
            return truth is not None and c.metadata.get("truth") == truth

        same = [c for c in self._image_layers() if same_acquisition(c)]
        self._auto_second = same[0] if len(same) == 1 else None
        self.second_combo.value = self._auto_second

    def _second_changed(self, *_: Any) -> None:
        if self.result is not None:
            self.clear_result(note=None)
            self.layers.mark_stale(None, "other channels picked")

    def settings(self, pixel: tuple[float, float], names: list[str], source: Setting) -> PatternSettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        ms = MicroscopeSettings(channels=tuple(ChannelSettings(n) for n in names))
        ms = ms.with_values(source.source, voxel_size_um=(pixel[0], pixel[0], pixel[1]))
        ms.sources["voxel_size_um"] = Setting(ms.voxel_size_um, "um", source.source, source.detail)
        return PatternSettings(microscope=ms, **self.analysis.values())

    def _pixel(self, layer: Any) -> tuple[tuple[float, float], Setting]:
        parts = [p for p in self.pixel.value.replace(";", ",").split(",") if p.strip()]
        try:
            values = [float(p.strip()) for p in parts]
        except ValueError:
            values = []
        if len(values) not in (1, 2) or not all(np.isfinite(v) and v > 0 for v in values):
            raise ValueError(
                f"'pixel size (µm)' must be one positive number, or 'y, x'; '{self.pixel.value}' is not."
            )
        yx = (values[0], values[-1])
        text, where = pixel_text(layer)
        if text and self.pixel.value.strip() == text:
            return yx, Setting(list(yx), "um", Source.FILE, where)
        return yx, Setting(list(yx), "um", Source.USER, "the 'pixel size (µm)' field")

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Analyse the pattern in the background (the CLI's analysis); overlays when it finishes."""
        if self.busy:
            return
        layer, second = self.layer_combo.value, self.second_combo.value
        if layer is None:
            self.error("Pick the pattern image in 'image' first.")
            return
        try:
            data, names = planes_of(layer, second)
            pixel, source = self._pixel(layer)
            settings = self.settings(pixel, names, source)
        except ValueError as exc:
            self.error(f"Cannot measure: {user_message(exc, self.field_names).rstrip('.')}.")
            return
        analyze = self.measurement.analyze
        place = Placement.of(layer)
        factor = None if self._factor_auto else float(self.exaggeration.value)
        quantity = self.map_choice.value or "distortion_model"
        existing = self.layers.roles()

        def work(progress, cancel):
            result = analyze(data, settings, progress=progress, cancel=cancel)
            specs: list = []
            used, plots = factor, None
            if isinstance(result, PatternResult):
                used = factor if factor is not None else auto_factor(result)
                progress(0.98, "preparing the overlays")
                specs = pattern_specs(result, place, used, quantity)
            elif is_lines(result):
                specs = lines_specs(result, place.scale, place.translate)
                plots = lines_plots(result)
            prebuild(specs, existing)
            return result, specs, used, plots

        self._lead, self._inputs, self._place = layer, [x for x in (layer, second) if x is not None], place
        self._start(work, "Measuring…")

    def _on_done(self, value: Any) -> None:
        result, specs, factor, plots = value
        super()._on_done(result)
        self.summary.setText(summary_html(result))
        plan = self.layers.plan(specs, self._lead)
        self.drawing.run(
            **plan, done=lambda: self._measured(result, factor, plots), finished=self._layers_added
        )

    def _measured(self, result: Any, factor: float | None, plots: Any = None) -> None:
        self.metrics_table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        self.export_button.setEnabled(True)
        if plots is not None:
            for plot, (title, curves, xl, yl, options) in zip(
                (self.profile_plot, self.contrast_plot), plots, strict=True
            ):
                plot.set_curves(title, curves, xl, yl, **options)
            # one stacked curve per group: room for them above the legend
            self.profile_plot.setMinimumHeight(self.profile_plot.minimumHeight() + 12 * len(plots[0][1]))
            self.table.set_frame(result.tables["groups"], GROUP_COLUMNS, _header)
            self.tabs.setCurrentIndex(self.tabs.indexOf(self._lines_page))
            n = len(result.tables["groups"])
            self.say(
                f"Done: {n} line groups; profiles and contrast in the 'Line pairs' tab. Export… to save."
            )
            return
        if not isinstance(result, PatternResult):  # e.g. a grey-level ladder: its table as it comes
            first = next(iter(result.tables.values()), None)
            if first is not None:
                self.table.set_frame(first, header=_header)
            self.say(
                "Done. The numbers are in the Summary, Spots / groups and Metrics tabs. Export… to save."
            )
            return
        if factor is not None and factor != self.exaggeration.value:
            self._setting_factor = True
            try:
                self.exaggeration.value = factor
            finally:
                self._setting_factor = False
        self.table.set_frame(result.spots, SPOT_COLUMNS, _header)
        self.legend.setText(legend_html(result, float(self.exaggeration.value)))
        channels = [(channel_name(result, c), c) for c in result.channels]
        for combo in (self.map_channel, self.correct_channel):
            if [c[1] for c in channels] != list(combo.choices):
                combo.choices = channels
        self._target_changed()
        self._update_correction_buttons()
        n = int((result.spots.status == "on grid").sum())
        self.say(
            f"Done: {n} spots on the grid over {len(result.channels)} channel(s). Vectors ×{self.exaggeration.value:g}; "
            "spot colours and the maps are explained in the Legend and Maps tabs. Export… to save."
        )

    def _layers_added(self) -> None:
        self._draw_colour_scale()
        if self._lead is not None and layer_key(self.viewer.layers.selection.active) != layer_key(self._lead):
            self.viewer.layers.selection.active = self._lead

    def _clear_tables(self) -> None:
        self.table.clear()
        self.metrics_table.clear()
        self.profile_plot.clear()
        self.contrast_plot.clear()
        self.colour_scale.follow(None, "")
        self._update_correction_buttons()

    # ------------------------------------------------------------------ vectors and maps
    def _factor_changed(self, *_: Any) -> None:
        if self._setting_factor:
            return
        self._factor_auto = False
        if self.result is None or self._place is None or self.busy:
            return
        factor = float(self.exaggeration.value)
        for spec in vector_specs(self.result, self._place, factor):
            self.layers.apply(spec, self._lead)
        self.legend.setText(legend_html(self.result, factor))

    def _show_map(self, *_: Any) -> None:
        """Put the chosen quantity and channel in the map layer (in place, its visibility kept)."""
        if self.result is None or self._place is None or self.drawing.busy:
            return
        quantity = self.map_choice.value
        c = self.map_channel.value if self.map_channel.value is not None else self.result.reference_channel
        spec = map_spec(self.result, self._place, quantity, c)
        if spec is None:
            self.error(f"The result has no '{MAP_QUANTITIES[quantity][0]}' map for channel {c}.")
            return
        self.layers.apply(spec, self._lead)
        self._draw_colour_scale()

    def _draw_colour_scale(self) -> None:
        layer = self.layers.find("map")
        quantity = tag_of(layer).get("quantity", "distortion_model") if layer is not None else ""
        what, unit = MAP_QUANTITIES.get(quantity, ("", ""))
        self.colour_scale.follow(layer, f"{what} ({unit})" if layer is not None else "")

    def _on_row_selected(self, frame_row: int) -> None:
        if self.result is None or self._place is None:
            return
        x, y = (float(self.table.source.value(frame_row, k)) for k in ("x_um", "y_um"))
        if np.isfinite(x) and np.isfinite(y):
            ty, tx = self._place.translate
            self.viewer.camera.center = (y + ty, x + tx)

    # ------------------------------------------------------------------ correction
    def _target_changed(self, *_: Any) -> None:
        """A target that is one of the analysed channels' layers takes that channel's model."""
        target = self.correct_target.value
        for c, lyr in enumerate(self._inputs):
            if layer_key(lyr) == layer_key(target) and c in list(self.correct_channel.choices):
                self.correct_channel.value = c
        self._update_correction_buttons()

    def _update_correction_buttons(self) -> None:
        ok = isinstance(self.result, PatternResult) and bool(self.result.grids)
        self.apply_button.setEnabled(ok and self.correct_target.value is not None)
        self.remove_button.setEnabled(bool(self._originals))

    def apply_correction(self) -> None:
        """Set the target layer's affine from the result's napari affine (its own affine kept underneath)."""
        target, result = self.correct_target.value, self.result
        if target is None or not isinstance(result, PatternResult):
            self.error("Measure first, then pick a layer in 'apply the fitted correction to layer'.")
            return
        c, onto = self.correct_channel.value, self.correct_onto.value
        try:
            matrix = result.napari_affine(int(c), onto)
        except KeyError:
            self.error(
                f"Channel {c} has no model to the reference channel {result.reference_channel}: pick another "
                "channel in 'with the model of channel', or 'the slide' in 'onto'."
            )
            return
        key = layer_key(target)
        before = self._originals.get(key, (target, np.asarray(target.affine.affine_matrix)))[1]
        self._originals[key] = (target, before)
        target.affine = layer_affine(matrix, target.ndim, tuple(target.translate[-2:]), before)
        self._update_correction_buttons()
        what = dict((v, t) for t, v in ONTO)[onto]
        if onto == "reference" and int(c) == result.reference_channel:
            self.say(
                f"'{target.name}' is the reference channel's: onto the reference channel it does not move."
            )
        else:
            self.say(f"Correction of {channel_name(result, int(c))} onto {what} applied to '{target.name}'.")

    def remove_correction(self) -> None:
        """Put back the affine the target layer had (with no target picked: every corrected layer)."""
        target = self.correct_target.value
        keys = [layer_key(target)] if layer_key(target) in self._originals else list(self._originals)
        names = []
        for key in keys:
            layer, before = self._originals.pop(key)
            layer.affine = before
            names.append(f"'{layer.name}'")
        self._update_correction_buttons()
        self.say(f"Correction removed from {', '.join(names)}." if names else "No layer is corrected.")

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """results.json, spots.csv (and the other tables), report.html and registration.json, as the
        command line writes them; never overwrites silently."""

        def extra(result: Any, folder: Path) -> dict:
            if not isinstance(result, PatternResult) or not result.grids:
                return {}
            from microscope_qc.report.pattern import write_registration

            return {
                "registration": (
                    folder / "registration.json",
                    lambda path, ow: write_registration(result, path, overwrite=ow),
                )
            }

        return export_from_widget(self, folder, self._lead, extra)

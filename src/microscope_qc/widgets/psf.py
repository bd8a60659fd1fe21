"""PSF / resolution dock widget (Layers ▸ Measure ▸ PSF / resolution (beads)).

Thin by design: it snapshots the layer and the form on the GUI thread, calls
:func:`microscope_qc.analysis.psf.analyze_psf` (the function the CLI calls) in a worker
thread, builds the result layers there too, and applies them on the GUI thread in steps.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container
from qtpy.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.psf import PSFResult, PSFSettings, analyze_psf, find_beads
from microscope_qc.measurements.psf import PSF
from microscope_qc.profiles import limits_of
from microscope_qc.report.labels import display_unit, heading, label
from microscope_qc.report.numbers import with_uncertainty
from microscope_qc.widgets._base import MeasurementDock, scrolling
from microscope_qc.widgets._common import export_from_widget, open_features_table, verdict_lines
from microscope_qc.widgets._layers import image_layers, layer_key, prebuild, tag_of
from microscope_qc.widgets._microscope_form import MicroscopeForm
from microscope_qc.widgets._psf_layers import (
    DEFAULT_MAP,
    POSITIONS_NAME,
    SELECTED_COLOUR,
    STATUS_COLOURS,
    Geometry,
    bead_box,
    map_spec,
    positions_spec,
    psf_specs,
)
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import ColourScale, ImageStrip, montage_rgba

if TYPE_CHECKING:
    import napari

__all__ = ["PSFWidget", "POSITIONS_LAYER"]

#: name of the editable bead-positions layer (found again by its tag, not by this name)
POSITIONS_LAYER = POSITIONS_NAME
TABLE_COLUMNS = [
    "bead_id", "channel", "status", "reason", "fwhm_x_um", "fwhm_y_um", "fwhm_z_um",
    "fwhm_x_se_um", "fwhm_z_se_um", "lateral_asymmetry", "sbr", "r2_xy", "r2_z", "reason_detail",
]  # fmt: skip
_FORM_FIELDS = (
    "voxel_z", "voxel_y", "voxel_x", "modality", "na", "immersion_index",
    "wavelength_ex_nm", "wavelength_em_nm", "bead_diameter_um",
)  # fmt: skip


def _header(name: str) -> tuple[str, str]:
    lab = label("psf", name)
    return heading("psf", name), f"{lab.description or lab.text} — column '{name}' in beads.csv"


class PSFWidget(MeasurementDock):
    """Measure lateral and axial resolution from a bead z-stack.

    Workflow: pick the image layer → check the pre-filled settings (from the file's metadata
    or the sample; every field editable) → *Detect beads* (editable points layer: add, move or
    delete beads) → *Measure* → inspect overlays and the table → *Export*.
    """

    measurement = PSF
    field_names = MicroscopeForm.FIELD_NAMES

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(napari_viewer, parent, "Pick a bead z-stack in 'image'.")
        self.result: PSFResult | None = None
        self._result_layer = None
        self._geometry: Geometry | None = None
        self._image_key = None

        self.layer_combo = ComboBox(label="image", choices=self._image_layers, nullable=True)
        self.microscope = MicroscopeForm()
        for name in _FORM_FIELDS:  # the form's fields as attributes of the widget, for scripts and tests
            setattr(self, name, getattr(self.microscope, name))
        self.analysis = SettingsForm(
            PSFSettings,
            ["method", "fit_3d", "tolerance_xy_ratio", "tolerance_z_ratio", "detection_threshold_sigma"],
        )
        # the main fields as attributes too, under the names scripts and tests know
        self.method, self.fit_3d = self.analysis["method"], self.analysis["fit_3d"]
        self.tolerance_xy, self.tolerance_z = (
            self.analysis["tolerance_xy_ratio"],
            self.analysis["tolerance_z_ratio"],
        )
        self.threshold = self.analysis["detection_threshold_sigma"]
        self.field_names = {**MicroscopeForm.FIELD_NAMES, **self.analysis.field_names}
        self.use_positions = CheckBox(text=f"measure the beads in '{POSITIONS_LAYER}'", value=True)
        self.form = Container(
            widgets=[
                self.layer_combo,
                *self.microscope.widgets,
                *self.analysis.widgets,
                self.use_positions,
            ]
        )
        self.sources_label = self.microscope.sources_label
        self.detect_button = QPushButton("Detect beads")
        self.measure_button = QPushButton("Measure")
        self.table = ResultsTable()
        self.features_button = QPushButton("Show in napari's features table")
        self.features_button.setToolTip("The same per-bead values, in napari's own table for the beads layer")
        beads_tab = QWidget()
        beads_layout = QVBoxLayout(beads_tab)
        beads_layout.setContentsMargins(0, 0, 0, 0)
        beads_layout.addWidget(self.table, stretch=1)
        beads_layout.addWidget(self.features_button)
        self.map_choice = ComboBox(label="map shown", choices=[], nullable=False)
        self.colour_scale = ColourScale()
        self.map_note = QLabel(
            "<small>The map layer is hidden at first: tick its eye in the layer list. Values between beads "
            "are interpolated linearly; outside the beads' hull there is no value.</small>"
        )
        self.map_note.setWordWrap(True)
        maps_tab = QWidget()
        maps_layout = QVBoxLayout(maps_tab)
        maps_layout.addWidget(self.map_choice.native)
        maps_layout.addWidget(self.colour_scale)
        maps_layout.addWidget(self.map_note)
        maps_layout.addStretch(1)
        self.bead_views = ImageStrip()
        self._build(
            [self.form.native, self.analysis.more_panel, self.sources_label],
            [self.detect_button, self.measure_button],
            [("Beads", beads_tab), ("Bead views", scrolling(self.bead_views)), ("Maps", maps_tab)],
        )

        self.microscope.profile_file.changed.connect(self._profile_to_history)
        self.microscope.objective.changed.connect(self._profile_to_history)
        self.detect_button.clicked.connect(self.detect)
        self.measure_button.clicked.connect(self.measure)
        self.features_button.clicked.connect(self.show_features_table)
        self.table.row_selected(self._on_row_selected)
        self.map_choice.changed.connect(self._show_map)
        self.layer_combo.changed.connect(self._image_changed)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ inputs
    def _image_layers(self, *_: Any) -> list:
        return image_layers(self.viewer)

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.value
        self.layer_combo.reset_choices()
        choices = self._image_layers()
        if not any(layer_key(c) == layer_key(current) for c in choices):
            self.layer_combo.value = choices[-1] if choices else None
        elif self.layer_combo.value is not None and layer_key(self.layer_combo.value) != self._image_key:
            self._image_changed()

    def _image_changed(self, *_: Any) -> None:
        layer = self.layer_combo.value
        if layer_key(layer) == self._image_key:
            return
        had_result = self._image_key is not None
        self._image_key = layer_key(layer)
        if layer is None:
            self.say(self.hint)
            return
        if had_result:  # inputs and results of the earlier image must not pass for this one's
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
        problem = self.microscope.prefill(layer, layer.data.shape[0] if layer.ndim == 4 else 1)
        if problem:
            self.error(problem)
        elif had_result:
            self.say(f"Image changed to '{layer.name}'. Detect beads or Measure.")
        else:
            self.say(f"'{layer.name}': check the settings, then Detect beads or Measure.")

    # kept for scripts written against earlier versions
    _prefill = _image_changed

    def settings(self) -> PSFSettings:
        """The analysis settings from the form, with each value's source (ValueError naming the field)."""
        return PSFSettings(microscope=self.microscope.microscope_settings(), **self.analysis.values())

    # ------------------------------------------------------------------ actions
    def _snapshot(self) -> tuple[Any, PSFSettings] | None:
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick a bead z-stack in 'image' first.")
            return None
        if layer.ndim < 3 or layer.data.shape[-3] < 2:
            self.error(
                f"'{layer.name}' is a single plane: the PSF needs a bead z-stack (Z, Y, X); pick one in 'image'."
            )
            return None
        try:
            settings = self.settings()
        except ValueError as exc:
            self.error(str(exc))
            return None
        return layer, settings

    def detect(self) -> None:
        """Detect beads in the background and put them in an editable points layer."""
        snap = self._snapshot()
        if snap is None or self.busy:
            return
        layer, settings = snap
        data = layer.data
        stack = data[0] if layer.ndim == 4 else data
        geo = Geometry.of(layer)

        def work(progress, cancel):
            progress(0.1, "detecting beads")
            pos = find_beads(stack, settings)
            return "detect", pos, [positions_spec(pos, geo)]

        self._result_layer = layer
        self._start(work, "Detecting beads…")

    def measure(self) -> None:
        """Run the PSF analysis in the background; overlays and the table appear when it finishes."""
        snap = self._snapshot()
        if snap is None or self.busy:
            return
        layer, settings = snap
        positions, note = None, ""
        if self.use_positions.value:
            positions, note = self._positions_for(layer)
        data = layer.data
        geo = Geometry.of(layer)
        limits = limits_of(self.microscope.profile) if self.microscope.profile is not None else None
        map_name = self.map_choice.value or DEFAULT_MAP
        existing = self.layers.roles()

        def work(progress, cancel):
            result = analyze_psf(
                data, settings, positions=positions, limits=limits, progress=progress, cancel=cancel
            )
            progress(0.97, "preparing the overlays")
            specs = psf_specs(result, geo, map_name)
            prebuild(specs, existing)
            return "measure", result, specs

        self._result_layer = layer
        self._geometry = geo
        self._start(work, "Measuring…" + (f" ({note})" if note else ""))

    def _positions_for(self, layer) -> tuple[np.ndarray | None, str]:
        """User-edited bead positions in the image's voxel indices (z, y, x), or None, and a note."""
        _, idx, note = self.layers.edited_positions("positions", layer)
        return idx, note

    # ------------------------------------------------------------------ results
    def _on_done(self, value: Any) -> None:
        kind, payload, specs = value
        self._drop_pending_progress()  # a step still waiting to be shown must not follow the outcome
        self.progress.setValue(1000)
        layer = self._result_layer
        plan = self.layers.plan(specs, layer)
        if kind == "detect":
            self.drawing.run(**plan, done=lambda: self._detected(len(payload)))
            return
        self.result = payload
        # the beads and the numbers in one turn; the hidden map and model layers after them
        self.drawing.run(**plan, done=lambda: self._measured(payload), finished=self._layers_added)
        self.summary.setText(_summary_html(payload))

    def _detected(self, n: int) -> None:
        self.say(
            f"{n} beads found. In '{POSITIONS_LAYER}' add (click), move (select mode, drag) or delete "
            "(select, Delete) beads, then Measure."
        )

    def _measured(self, result: PSFResult) -> None:
        beads = result.beads
        self.table.set_frame(beads, TABLE_COLUMNS, _header, sort_by="bead_id")
        self._draw_bead_views(None)
        maps = list(result.channels[0].maps) if result.channels else []
        choices = [(heading("psf", m), m) for m in maps]
        if [c[1] for c in choices] != list(self.map_choice.choices):
            current = self.map_choice.value
            self.map_choice.choices = choices
            if current in maps:
                self.map_choice.value = current
        n_acc = int((beads["status"] == "accepted").sum())
        positions = self.layers.find("positions")
        if positions is not None and positions.visible:
            positions.visible = False  # the rings show the beads now; the input stays editable
        self.say(
            f"Done: {n_acc} of {len(beads)} beads accepted (green ring: accepted, red: rejected, reason in the "
            "table). Select a table row to go to its bead."
            + (" The positions layer is hidden; show it to edit the beads." if positions is not None else "")
        )
        self.export_button.setEnabled(True)

    def _layers_added(self) -> None:
        """Every layer is there (the hidden ones come after the result): the map the combo names, its
        colour scale, and the image selected again (adding a layer selects it)."""
        self._show_map()
        active = self.viewer.layers.selection.active
        if self._result_layer is not None and (
            active is None or layer_key(active) != layer_key(self._result_layer)
        ):
            self.viewer.layers.selection.active = self._result_layer

    # ------------------------------------------------------------------ maps
    def _show_map(self, *_: Any) -> None:
        """Show the chosen quantity in each channel's map layer (in place; its own colour limits)."""
        if self.result is None or self._result_layer is None or self.drawing.busy:
            return  # while drawing, the map is shown when its layer is there (_layers_added)
        name = self.map_choice.value
        many = len(self.result.channels) > 1
        for chan in self.result.channels:
            if name not in chan.maps:
                continue
            spec = map_spec(
                chan,
                name,
                np.asarray(self._result_layer.translate[-3:]),
                f" ch{chan.channel}" if many else "",
            )
            self.layers.apply(spec, self._result_layer)
        self._draw_colour_scale()

    def _draw_colour_scale(self, *_: Any) -> None:
        """The map's colour scale (quantity and unit) in the dock, following the layer's colormap and limits."""
        layer = self.layers.find("map ch0")
        quantity = tag_of(layer).get("quantity", DEFAULT_MAP) if layer is not None else DEFAULT_MAP
        self.colour_scale.follow(layer, heading("psf", quantity))

    def _clear_tables(self) -> None:
        self.table.clear()
        self.colour_scale.follow(None, "")
        self.bead_views.show_images([])

    def _on_row_selected(self, frame_row: int) -> None:
        if self.result is None:
            return
        self.go_to_bead(int(self.table.source.value(frame_row, "bead_id")))

    def _bead_index(self, bead_id: int) -> np.ndarray:
        row = self.result.beads.set_index("bead_id").loc[bead_id]
        dz, dy, dx = self.result.voxel_size_um
        idx = np.array([row["z_um"] / dz, row["y_um"] / dy, row["x_um"] / dx])
        if not np.isfinite(idx).all():
            idx = np.array([row["z_px"], row["y_px"], row["x_px"]], dtype=float)
        return idx

    def go_to_bead(self, bead_id: int) -> None:
        """Centre the view on a bead, move to its focal plane, highlight it and show its projections."""
        layer = self._result_layer
        idx = self._bead_index(bead_id)
        world = idx * np.asarray(layer.scale[-3:]) + np.asarray(layer.translate[-3:])
        n = self.viewer.dims.ndim
        self.viewer.dims.set_point(n - 3, float(world[0]))
        self.viewer.scene.camera.center = tuple(world[-self.viewer.dims.ndisplay :])
        self._highlight(bead_id)
        self._draw_bead_views(bead_id)

    def _highlight(self, bead_id: int) -> None:
        """Mark the selected bead in its channel's points layer: cyan and larger (in place, no new layer)."""
        for chan in self.result.channels:
            points = self.layers.find(f"beads ch{chan.channel}")
            if points is None or "bead_id" not in points.features:
                continue
            ids = np.asarray(points.features["bead_id"])
            status = np.asarray(points.features["status"])
            colours = np.array([STATUS_COLOURS.get(s, STATUS_COLOURS["rejected"]) for s in status]).reshape(
                -1, 4
            )
            sizes = np.full(len(ids), max(2 * chan.box_shape[1] // 3, 4), dtype=float)
            hit = ids == bead_id
            colours[hit] = SELECTED_COLOUR
            sizes[hit] *= 1.6
            points.border_color = colours
            points.size = sizes
            points.selected_data = set(np.flatnonzero(hit).tolist())

    def _draw_bead_views(self, bead_id: int | None) -> None:
        """Maximum projections (XY, XZ, YZ) of the selected bead above those of the averaged bead."""
        result, layer = self.result, self._result_layer
        items = []
        if result is not None and layer is not None and result.channels:
            chan = result.channels[0]
            voxel = result.voxel_size_um
            if bead_id is not None:
                stack = layer.data[0] if layer.ndim == 4 else layer.data
                box = bead_box(stack, self._bead_index(bead_id), chan.box_shape)
                items.append((f"bead {bead_id} — XY | XZ | YZ maximum projections", montage_rgba(box, voxel)))
            if chan.averaged_bead is not None:
                items.append(
                    (
                        f"average of {chan.averaged_bead_count} beads — XY | XZ | YZ (bar: 1 µm)",
                        montage_rgba(chan.averaged_bead, voxel),
                    )
                )
        self.bead_views.show_images(items)

    def show_features_table(self) -> None:
        """Open napari's features table on the beads layer."""
        beads = self.layers.find("beads ch0")
        if beads is None:
            self.error("Measure first: the features table shows the beads layer's values.")
            return
        open_features_table(self.viewer, beads)

    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, beads.csv and report.html (the CLI's files) to ``folder``; never overwrites silently."""
        layer = self._result_layer
        return export_from_widget(self, folder, layer)

    def _profile_to_history(self, *_: Any) -> None:
        profile = self.microscope.profile
        if profile is not None:
            self.history_options.instrument.value = profile.name
            self.history_options.objective.value = self.microscope.objective.value or ""
            self.history_options.channel.value = self.microscope.channel_preset.value or ""


def _summary_html(result: PSFResult) -> str:
    parts = []
    for chan in result.channels:
        c = chan.channel
        cells = []
        for name in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "focal_tilt_deg", "field_curvature_um"):
            try:
                m = result.metric(name, c)
            except KeyError:
                if name.startswith("fwhm"):
                    cells.append(f"{label('psf', name).text}: —")
                continue
            unit = display_unit(m.unit)
            digits = 3 if unit == "µm" else 2
            sep = "" if unit == "°" else " "
            number = with_uncertainty(m.value, m.uncertainty, f".{digits}f")
            cells.append(f"{label('psf', name).text}: <b>{number}{sep}{unit}</b>")
        lines = verdict_lines("psf", [v for v in result.verdicts if v.channel == c])
        parts.append(
            f"<b>{html.escape(chan.name)}</b>: " + " · ".join(cells) + (f"<br>{lines}" if lines else "")
        )
    for w in result.warnings:
        parts.append(f"<span style='color:#e8a33d'>⚠ {html.escape(w)}</span>")
    return "<br>".join(parts)

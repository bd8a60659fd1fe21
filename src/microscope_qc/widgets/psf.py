"""PSF / resolution dock widget (Layers ▸ Measure ▸ PSF / resolution (beads)).

Thin by design: it snapshots the layer and the form on the GUI thread, calls
:func:`microscope_qc.analysis.psf.analyze_psf` (the function the CLI calls) in a worker
thread, and turns the result into layers, a table and exports.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from microscope_qc.analysis.psf import PSFResult, PSFSettings, analyze_psf, find_beads, render_model
from microscope_qc.report.psf import psf_figures
from microscope_qc.widgets._base import MeasurementDock
from microscope_qc.widgets._common import (
    export_from_widget,
    set_layer,
)
from microscope_qc.widgets._microscope_form import MicroscopeForm

if TYPE_CHECKING:
    import napari

#: comparison signs as text that rich-text labels do not mistake for tags
_SYMBOL = {"<=": "≤", ">=": "≥"}

__all__ = ["PSFWidget"]

STATUS_COLOURS = {"accepted": [0.10, 0.75, 0.35, 1.0], "rejected": [0.95, 0.25, 0.20, 1.0]}
POSITIONS_LAYER = "PSF bead positions"
TABLE_COLUMNS = [
    "bead_id", "channel", "status", "reason", "fwhm_x_um", "fwhm_y_um", "fwhm_z_um",
    "fwhm_x_se_um", "fwhm_z_se_um", "lateral_asymmetry", "sbr", "r2_xy", "r2_z", "reason_detail",
]  # fmt: skip
_FORM_FIELDS = (
    "voxel_z", "voxel_y", "voxel_x", "modality", "na", "immersion_index",
    "wavelength_ex_nm", "wavelength_em_nm", "bead_diameter_um",
)  # fmt: skip


class PSFWidget(MeasurementDock):
    """Measure lateral and axial resolution from a bead z-stack.

    Workflow: pick the image layer → check the pre-filled settings (from the file's metadata
    or the sample; every field editable) → *Detect beads* (editable points layer: add or delete
    beads) → *Measure* → inspect overlays and the table → *Export*.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(napari_viewer, parent, "Pick a bead z-stack.")
        self.result: PSFResult | None = None
        self._result_layer = None
        self._pending: str | None = None

        self.layer_combo = ComboBox(label="image", choices=self._image_layers, nullable=True)
        self.microscope = MicroscopeForm()
        for name in _FORM_FIELDS:  # the form's fields as attributes of the widget, for scripts and tests
            setattr(self, name, getattr(self.microscope, name))
        self.method = ComboBox(label="method", choices=["quarep", "metroloj"], value="quarep")
        self.fit_3d = CheckBox(text="also fit 3D Gaussians", value=False)
        self.tolerance_xy = FloatSpinBox(label="tolerance xy ratio", value=1.5, min=1.0, max=10.0, step=0.1)
        self.tolerance_z = FloatSpinBox(label="tolerance z ratio", value=2.0, min=1.0, max=10.0, step=0.1)
        self.threshold = FloatSpinBox(
            label="detection threshold (SD)", value=6.0, min=1.0, max=100.0, step=0.5
        )
        self.use_positions = CheckBox(text=f"use the '{POSITIONS_LAYER}' layer", value=True)
        self.form = Container(
            widgets=[
                self.layer_combo,
                *self.microscope.widgets,
                self.method,
                self.fit_3d,
                self.tolerance_xy,
                self.tolerance_z,
                self.threshold,
                self.use_positions,
            ]
        )
        self.sources_label = self.microscope.sources_label
        self.detect_button = QPushButton("Detect beads")
        self.measure_button = QPushButton("Measure")
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self._build(
            [self.form.native, self.sources_label], [self.detect_button, self.measure_button], [self.table]
        )

        self.microscope.profile_file.changed.connect(self._profile_to_history)
        self.microscope.objective.changed.connect(self._profile_to_history)
        self.detect_button.clicked.connect(self.detect)
        self.measure_button.clicked.connect(self.measure)
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        self.layer_combo.changed.connect(self._prefill)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ settings
    def _image_layers(self, *_: Any) -> list:
        return [layer for layer in self.viewer.layers if type(layer).__name__ == "Image" and layer.ndim >= 2]

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.value
        self.layer_combo.reset_choices()
        choices = self._image_layers()
        if current not in choices:
            # prefer a bead stack over our own overlays
            candidates = [lyr for lyr in choices if not lyr.name.startswith("PSF ")]
            self.layer_combo.value = candidates[-1] if candidates else None
            self._prefill()

    def _prefill(self, *_: Any) -> None:
        layer = self.layer_combo.value
        if layer is None:
            return
        problem = self.microscope.prefill(layer, layer.data.shape[0] if layer.ndim == 4 else 1)
        if problem:
            self.status.setText(problem)

    def settings(self) -> PSFSettings:
        """The analysis settings from the form, with each value's source (raises ValueError on bad text)."""
        ms = self.microscope.microscope_settings()
        return PSFSettings(
            microscope=ms,
            method=self.method.value,
            fit_3d=bool(self.fit_3d.value),
            tolerance_xy_ratio=float(self.tolerance_xy.value),
            tolerance_z_ratio=float(self.tolerance_z.value),
            detection_threshold_sigma=float(self.threshold.value),
        )

    # ------------------------------------------------------------------ actions
    def _snapshot(self) -> tuple[Any, PSFSettings] | None:
        layer = self.layer_combo.value
        if layer is None:
            self.status.setText("Pick an image layer first.")
            return None
        try:
            settings = self.settings()
        except ValueError as exc:
            self.status.setText(f"A setting is not a number: {exc}")
            return None
        return layer, settings

    def detect(self) -> None:
        """Detect beads in the background and put them in an editable points layer."""
        snap = self._snapshot()
        if snap is None or self.task.running:
            return
        layer, settings = snap
        data = layer.data
        stack = data[0] if layer.ndim == 4 else data

        def work(progress, cancel):
            progress(0.1, "detecting beads")
            return find_beads(stack, settings)

        self._pending = "detect"
        self._result_layer = layer
        self._start(work, "Detecting beads…")

    def measure(self) -> None:
        """Run the PSF analysis in the background; overlays and the table appear when it finishes."""
        snap = self._snapshot()
        if snap is None or self.task.running:
            return
        layer, settings = snap
        positions = self._positions_for(layer) if self.use_positions.value else None
        data = layer.data

        def work(progress, cancel):
            return analyze_psf(data, settings, positions=positions, progress=progress, cancel=cancel)

        self._pending = "measure"
        self._result_layer = layer
        self._start(work, "Measuring…")

    def _positions_for(self, layer) -> np.ndarray | None:
        """User-edited bead positions in the image's voxel indices (z, y, x), or None."""
        if POSITIONS_LAYER not in self.viewer.layers:
            return None
        pts = self.viewer.layers[POSITIONS_LAYER]
        if len(pts.data) == 0:
            return None
        world = np.asarray(pts.data)[:, -3:] * np.asarray(pts.scale)[-3:] + np.asarray(pts.translate)[-3:]
        return (world - np.asarray(layer.translate)[-3:]) / np.asarray(layer.scale)[-3:]

    # ------------------------------------------------------------------ results
    def _on_done(self, value: Any) -> None:
        self.progress.setValue(1000)
        layer = self._result_layer
        if self._pending == "detect":
            pos = np.asarray(value, dtype=float)
            set_layer(
                self.viewer, POSITIONS_LAYER, pos, "points",
                scale=layer.scale[-3:], translate=layer.translate[-3:], size=8,
                face_color="transparent", border_color="yellow",
            )  # fmt: skip
            pts = self.viewer.layers[POSITIONS_LAYER]
            pts.mode = "add"
            self.status.setText(
                f"{len(pos)} beads found. Add (click) or delete (select, Delete) beads in '{POSITIONS_LAYER}', then Measure."
            )
            return
        if self.microscope.profile is not None:
            from microscope_qc.profiles import apply_tolerances

            apply_tolerances(value, self.microscope.profile)
        self.result = value
        self._show_result(value, layer)

    def _show_result(self, result: PSFResult, layer) -> None:
        beads = result.beads
        scale = np.asarray(layer.scale[-3:])
        translate = np.asarray(layer.translate[-3:])
        dz, dy, dx = result.voxel_size_um
        for chan in result.channels:
            c = chan.channel
            tab = beads[beads["channel"] == c].reset_index(drop=True)
            # 2D markers (y, x): visible in every plane, so no bead hides off-slice; z is in the features
            fitted = np.column_stack([tab["y_um"] / dy, tab["x_um"] / dx])
            detected = tab[["y_px", "x_px"]].to_numpy(float)
            pos = np.where(np.isfinite(fitted), fitted, detected)
            colours = np.array([STATUS_COLOURS[s] for s in tab["status"]]) if len(tab) else np.zeros((0, 4))
            suffix = f" ch{c}" if len(result.channels) > 1 else ""
            set_layer(
                self.viewer,
                f"PSF beads{suffix}",
                pos,
                "points",
                features=tab,
                scale=scale[-2:],
                translate=translate[-2:],
                size=2 * chan.box_shape[1] // 3,
                face_color="transparent",
                border_color=colours,
                border_width=0.12,
                text={"string": "{bead_id}", "size": 8, "color": "white", "anchor": "upper_left"},
            )
            shape = layer.data.shape[-3:]
            set_layer(
                self.viewer, f"PSF fit model{suffix}", render_model(result, shape, c), "image",
                scale=scale, translate=translate, colormap="magma", blending="additive", visible=False,
            )  # fmt: skip
            for name, m in chan.maps.items():
                set_layer(
                    self.viewer, f"PSF map {name}{suffix}", m, "image",
                    scale=chan.map_scale_um, translate=np.asarray(chan.map_translate_um) + translate[-2:],
                    colormap="viridis", opacity=0.6, visible=False,
                )  # fmt: skip
            if chan.averaged_bead is not None:
                set_layer(
                    self.viewer, f"PSF averaged bead{suffix}", chan.averaged_bead, "image",
                    scale=scale, translate=translate, colormap="magma", visible=False,
                )  # fmt: skip
        self._fill_table(beads)
        self.summary.setText(_summary_html(result))
        n_acc = int((beads["status"] == "accepted").sum())
        self.status.setText(f"Done: {n_acc} of {len(beads)} beads accepted. Select a row to go to its bead.")
        self.export_button.setEnabled(True)
        self.viewer.layers.selection.active = layer

    def _fill_table(self, beads) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(beads))
        for r, (_, row) in enumerate(beads.iterrows()):
            for k, name in enumerate(TABLE_COLUMNS):
                value = row.get(name, "")
                item = QTableWidgetItem()
                if isinstance(value, float | np.floating):
                    item.setData(
                        Qt.ItemDataRole.DisplayRole,
                        None if not math.isfinite(value) else round(float(value), 4),
                    )
                elif isinstance(value, int | np.integer):
                    item.setData(Qt.ItemDataRole.DisplayRole, int(value))
                else:
                    item.setText(str(value))
                self.table.setItem(r, k, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(0, Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()

    def _on_row_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.result is None:
            return
        bead_id = int(self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.DisplayRole))
        self.go_to_bead(bead_id)

    def go_to_bead(self, bead_id: int) -> None:
        """Centre the view on a bead and move to its focal plane."""
        layer = self._result_layer
        row = self.result.beads.set_index("bead_id").loc[bead_id]
        dz, dy, dx = self.result.voxel_size_um
        idx = np.array([row["z_um"] / dz, row["y_um"] / dy, row["x_um"] / dx])
        if not np.isfinite(idx).all():
            idx = np.array([row["z_px"], row["y_px"], row["x_px"]], dtype=float)
        world = idx * np.asarray(layer.scale[-3:]) + np.asarray(layer.translate[-3:])
        n = self.viewer.dims.ndim
        self.viewer.dims.set_point(n - 3, float(world[0]))
        self.viewer.scene.camera.center = tuple(world[-self.viewer.dims.ndisplay :])

    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, beads.csv and report.html (the CLI's files) to ``folder``; never overwrites silently."""
        layer = self._result_layer
        return export_from_widget(
            self, folder, layer, psf_figures, f"PSF / resolution: {layer.name if layer else ''}"
        )

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
        for name in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um"):
            try:
                m = result.metric(name, c)
                cells.append(f"{name[:6].replace('_', ' ')}: <b>{m.value:.3f} ± {m.uncertainty:.3f} µm</b>")
            except KeyError:
                cells.append(f"{name}: —")
        verdicts = [v for v in result.verdicts if v.channel == c]
        vtext = "<br>".join(
            f"<span style='color:{'#3c3' if v.passed else '#f55'}'>{'PASS' if v.passed else 'FAIL'}: {v.metric} "
            f"{v.value:.2f} (limit {_SYMBOL[v.comparison]} {v.threshold:g})</span>"
            for v in verdicts
        )
        parts.append(f"<b>{chan.name}</b>: " + " · ".join(cells) + (f"<br>{vtext}" if vtext else ""))
    for w in result.warnings:
        parts.append(f"<span style='color:#e8a33d'>⚠ {html.escape(w)}</span>")
    return "<br>".join(parts)

"""Stage and focus dock widget (Layers ▸ Measure ▸ Stage and focus precision and drift, QUAREP WG6).

The input is an image layer whose first axis is the frames: (T, Y, X) for 2D frames or
(T, Z, Y, X). Repeatability mode takes the move before each frame from a CSV ('moves CSV'), from
the layer's metadata (the napari sample), or assumes the QUAREP WG6 order; drift mode needs the
frame interval. The analysis is the one the command line runs. The bead's path is drawn as a
Tracks layer and its localised positions as Points, over the image; the dock shows the
repositioning errors per direction (repeatability) or the displacement against time (drift).
"""

from __future__ import annotations

import csv
import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from magicgui.widgets import ComboBox, Container, FileEdit, LineEdit
from qtpy.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.stage import StageResult, StageSettings
from microscope_qc.measurements.stage import STAGE
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
from microscope_qc.widgets._layers import image_layers, layer_key, prebuild
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._stage_layers import drift_plot, error_plot, stage_specs
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import LinePlot

if TYPE_CHECKING:
    import napari

__all__ = ["StageWidget"]

#: the per-frame table's columns shown in the dock (those the mode has)
FRAME_COLUMNS = [
    "frame", "t_s", "status", "direction", "distance_um", "x_um", "y_um", "z_um",
    "error_x_um", "error_y_um", "displacement_um", "step_um", "velocity_um_per_min", "bridged",
]  # fmt: skip


class StageWidget(MeasurementDock):
    """Measure stage repositioning (repeatability) or drift from one bead followed over frames."""

    measurement = STAGE
    field_names = {
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
        "voxel_size_um": "the 'voxel z/y/x (µm)' fields",
        "frame_interval_s": "the 'frame interval (s)' field",
    }

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer,
            parent,
            "Pick the series of one bead in 'bead series' (first axis: frames), then Measure.",
        )
        self.result: StageResult | None = None
        self._layer = None
        self.layer_combo = ComboBox(label="bead series", choices=self._layers, nullable=True)
        self.layer_combo.tooltip = "(T, Y, X) or (T, Z, Y, X): one bead, one frame per move or time point."
        self.analysis = SettingsForm(
            StageSettings, ["mode", "bead_diameter_um", "tolerance_um", "stabilisation_threshold_um"]
        )
        self.mode = self.analysis["mode"]
        self.moves_file = FileEdit(label="moves CSV", mode="r", filter="*.csv *.tsv *.txt", nullable=True)
        self.moves_file.tooltip = (
            "Repeatability: the move before each frame (columns dx_um, dy_um, or direction and distance_um). "
            "Empty: the layer's own moves if it has them, else the QUAREP WG6 order."
        )
        self.frame_interval = LineEdit(label="frame interval (s)")
        self.frame_interval.tooltip = "Drift: time between frames."
        self.voxel_z = LineEdit(label="voxel z (µm)")
        self.voxel_y = LineEdit(label="voxel y (µm)")
        self.voxel_x = LineEdit(label="voxel x (µm)")
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.form = Container(
            widgets=[
                self.layer_combo,
                self.analysis.widgets[0],
                self.moves_file,
                self.frame_interval,
                *self.analysis.widgets[1:],
                self.voxel_z,
                self.voxel_y,
                self.voxel_x,
            ]
        )
        self.run_button = QPushButton("Measure")
        self.errors_plot = LinePlot()
        self.drift_plot = LinePlot()
        plots = QWidget()
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addWidget(self.errors_plot)
        plots_layout.addWidget(self.drift_plot)
        plots_layout.addStretch(1)
        self.table = ResultsTable()
        self.frames_table = ResultsTable()
        self.groups_table = ResultsTable()
        self.iso_table = ResultsTable()
        repeat = self._repeat_tab = QWidget()
        repeat_layout = QVBoxLayout(repeat)
        repeat_layout.setContentsMargins(0, 0, 0, 0)
        for title, table in (("Mean and SD per distance, direction and axis", self.groups_table),
                             ("ISO 230-2 per distance and axis", self.iso_table)):  # fmt: skip
            repeat_layout.addWidget(QLabel(f"<small><b>{title}</b></small>"))
            repeat_layout.addWidget(table)
        self._build(
            [self.form.native, self.analysis.more_panel],
            [self.run_button],
            [
                ("Plot", scrolling(plots)),
                ("Metrics", self.table),
                ("Frames", self.frames_table),
                ("Repeatability", repeat),
            ],
        )
        self.run_button.clicked.connect(self.measure)
        self.layer_combo.changed.connect(self._layer_changed)
        self.mode.changed.connect(self._mode_changed)
        self._watch_layers(self._refresh_layers)
        self._mode_changed()

    # ------------------------------------------------------------------ inputs
    def _layers(self, *_: Any) -> list:
        return image_layers(self.viewer, min_ndim=3)

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.value
        self.layer_combo.reset_choices()
        choices = self._layers()
        if layer_key(current) not in {layer_key(c) for c in choices}:
            self.layer_combo.value = choices[0] if choices else None

    def _mode_changed(self, *_: Any) -> None:
        drift = self.mode.value == "drift"
        self.moves_file.visible = not drift
        self.frame_interval.visible = drift
        self.analysis["stabilisation_threshold_um"].visible = drift

    def _layer_changed(self, *_: Any) -> None:
        """Fill the voxel size from the layer's scale and the timing from its metadata."""
        layer = self.layer_combo.value
        if layer is None:
            return
        if self.result is not None and layer_key(layer) != layer_key(self._layer):
            # the shown result and its layers belong to the other series
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
        scale = [float(s) for s in layer.scale]
        spatial = scale[1:]
        if len(spatial) == 2:
            spatial = [1.0, *spatial]
        from_file = _file_voxel(layer) if all(s == 1.0 for s in scale) else None
        if from_file is not None:  # a reader that did not carry the pixel size: the file's metadata
            spatial = list(from_file)
        for field, value in zip((self.voxel_z, self.voxel_y, self.voxel_x), spatial[-3:], strict=True):
            field.value = f"{value:g}"
        meta = layer.metadata if isinstance(layer.metadata, dict) else {}
        interval = meta.get("frame_interval_s")
        if isinstance(interval, (int, float)) and math.isfinite(interval):
            self.frame_interval.value = f"{interval:g}"
            if meta.get("moves") is None:
                self.mode.value = "drift"
        if meta.get("moves") is not None:
            self.mode.value = "repeatability"
        threshold, field = meta.get("stabilisation_threshold_um"), self.analysis["stabilisation_threshold_um"]
        if isinstance(threshold, (int, float)) and not str(field.value).strip():
            field.value = f"{threshold:g}"  # a series that states its own (the sample), unless one is typed
        self.say(f"'{layer.name}': {layer.data.shape[0]} frames. Measure.")

    def settings(self) -> StageSettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return StageSettings(**self.analysis.values())

    def _voxel(self) -> tuple[float, float, float]:
        values = []
        for name, field in (("z", self.voxel_z), ("y", self.voxel_y), ("x", self.voxel_x)):
            v = parse_optional_float(field.value, f"voxel {name} (µm)")
            if name != "z" and (v is None or v <= 0):
                raise ValueError(f"'voxel {name} (µm)' must be a positive number (the pixel size).")
            values.append(1.0 if v is None or v <= 0 else v)
        return values[0], values[1], values[2]

    def _moves(self, layer, settings: StageSettings) -> tuple[pd.DataFrame | None, str]:
        path = self.moves_file.value
        given = path is not None and str(path) not in ("", ".")
        if settings.mode == "drift":
            if given:
                raise ValueError("'moves CSV' is for mode repeatability; clear it for a drift series.")
            return None, ""
        if given:
            try:
                return pd.read_csv(Path(path), sep=None, engine="python"), str(Path(path).resolve())
            except (
                OSError,
                UnicodeDecodeError,
                csv.Error,
                pd.errors.ParserError,
                pd.errors.EmptyDataError,
            ) as exc:
                raise ValueError(f"'moves CSV' {path}: cannot read it as CSV ({exc}).") from None
        meta = layer.metadata if isinstance(layer.metadata, dict) else {}
        if isinstance(meta.get("moves"), dict):
            return pd.DataFrame(meta["moves"]), "the layer's metadata"
        return None, ""

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Localise the bead in every frame and analyse, in the background."""
        if self.busy:
            return
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick the 'bead series' first.")
            return
        if layer.ndim > 4:
            self.error(
                f"'bead series' '{layer.name}' has {layer.ndim} axes: give (T, Y, X) or (T, Z, Y, X), one channel."
            )
            return
        try:
            settings = self.settings()
            voxel = self._voxel()
            interval = parse_optional_float(self.frame_interval.value, "frame interval (s)")
            moves, moves_from = self._moves(layer, settings)
        except ValueError as exc:
            self.error(user_message(exc, self.field_names))
            return
        data = np.asarray(layer.data)
        frames = [data[t] if data.ndim == 4 else data[t][None] for t in range(data.shape[0])]
        scale, translate = tuple(layer.scale), tuple(layer.translate)
        existing = self.layers.roles()
        analyze = self.measurement.analyze
        name = layer.name

        def work(progress, cancel):
            result = analyze(
                frames, settings, voxel_size_um=voxel, frame_interval_s=interval, moves=moves,
                progress=progress, cancel=cancel,
            )  # fmt: skip
            from microscope_qc.instrument import Setting, Source

            how = f"{len(frames)} frames along the first axis of layer '{name}'"
            result.settings["frames"] = Setting(how, None, Source.DEFAULT)
            if moves_from:
                result.settings["moves_file"] = Setting(moves_from, None, Source.USER)
            specs = stage_specs(result, voxel, data.ndim, scale, translate)
            prebuild(specs, existing)
            plot = error_plot(result) if result.mode == "repeatability" else drift_plot(result)
            return result, specs, plot

        self._layer = layer
        self._start(work, f"Localising the bead in {len(frames)} frames…")

    def _on_done(self, value: Any) -> None:
        result, specs, plot = value
        super()._on_done(result)
        self.summary.setText(_summary_html(result))
        self.drawing.run(**self.layers.plan(specs, self._layer), done=lambda: self._drawn(result, plot))

    def _drawn(self, result: StageResult, plot: tuple) -> None:
        title, curves, xl, yl, options = plot
        drift = result.mode == "drift"
        target, other = (self.drift_plot, self.errors_plot) if drift else (self.errors_plot, self.drift_plot)
        target.set_curves(title, curves, xl, yl, **options)
        target.setVisible(True)
        other.clear()
        other.setVisible(False)
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        pos = result.positions
        self.frames_table.set_frame(pos, [c for c in FRAME_COLUMNS if c in pos.columns])
        self.tabs.setTabVisible(self.tabs.indexOf(self._repeat_tab), not drift)  # no groups in drift mode
        for table, name in ((self.groups_table, "groups"), (self.iso_table, "iso")):
            if name in result.tables:
                table.set_frame(result.tables[name])
            else:
                table.clear()
        self.export_button.setEnabled(True)
        self.say("Done. 'stage bead track' and 'stage bead positions' are over the image; Export… to save.")

    def _clear_tables(self) -> None:
        for t in (self.table, self.frames_table, self.groups_table, self.iso_table):
            t.clear()
        self.errors_plot.clear()
        self.drift_plot.clear()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, the tables as CSV and report.html, as the command line does; never
        overwrites silently."""
        return export_from_widget(self, folder, self._layer)


def _file_voxel(layer: Any) -> tuple[float, float, float] | None:
    """The (z, y, x) voxel size recorded in the layer's file, if it came from one that says."""
    path = getattr(getattr(layer, "source", None), "path", None)
    if not path or not Path(path).is_file():
        return None
    try:
        from microscope_qc.io import read_metadata

        voxel = read_metadata(path).voxel_size_um.value
    except Exception:  # noqa: BLE001 (any file a reader opened; no metadata is the answer)
        return None
    return None if voxel is None else (float(voxel[0]), float(voxel[1]), float(voxel[2]))


def _fmt(value: float | None, digits: str = ".3g") -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, digits)


def _summary_html(result: StageResult) -> str:
    m = {x.name: x.value for x in result.metrics}
    text = f"{int(m.get('n_localised', 0))} of {int(m.get('n_frames', 0))} frames localised<br>"
    if result.mode == "repeatability":
        text += (
            f"Repositioning SD x <b>{_fmt(m.get('sd_x_um'))} µm</b> · y <b>{_fmt(m.get('sd_y_um'))} µm</b> · "
            f"largest SD (per axis, direction, distance) <b>{_fmt(m.get('sd_max_um'))} µm</b><br>"
            f"ISO 230-2 reversal x {_fmt(m.get('iso_reversal_x_um'))} µm, y {_fmt(m.get('iso_reversal_y_um'))} µm · "
            f"bidirectional repeatability x {_fmt(m.get('iso_repeatability_bidirectional_x_um'))} µm, "
            f"y {_fmt(m.get('iso_repeatability_bidirectional_y_um'))} µm"
        )
    else:
        text += (
            f"Drift velocity <b>{_fmt(m.get('drift_velocity_um_per_min'))} µm/min</b> · stabilisation time "
            f"<b>{_fmt(m.get('stabilisation_time_s'), '.0f')} s</b> · total displacement "
            f"{_fmt(m.get('total_displacement_um'))} µm"
        )
        if "focus_drift_rate_um_per_min" in m:
            text += f" · focus drift {_fmt(m['focus_drift_rate_um_per_min'])} µm/min"
    verdicts = verdict_lines("stage", result.verdicts)
    if verdicts:
        text += "<br>" + verdicts
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

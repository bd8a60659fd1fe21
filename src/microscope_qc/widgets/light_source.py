"""Light-source dock widget (Layers ▸ Measure ▸ Light source power and stability, QUAREP WG1).

The input is a power-meter log (a CSV/TSV file, or a layer that carries a log's text, as the
napari samples do) or an image layer holding a time series of a uniform sample (first axis:
time). The analysis is the one the command line runs; the dock shows power against time (plateaus,
warm-up, drift), a linearity plot, and the metrics and plateau tables. Nothing is drawn on the
canvas: a log has no image, and a series' result is a time course.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, LineEdit
from qtpy.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.light_source import LightSourceResult, LightSourceSettings, parse_power_log
from microscope_qc.measurements.light_source import LIGHT_SOURCE, LOG_SUFFIXES
from microscope_qc.results import AnalysisError
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
from microscope_qc.widgets._layers import image_layers, layer_key
from microscope_qc.widgets._light_source_plots import light_names, linearity_plot, power_plot
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import LinePlot

if TYPE_CHECKING:
    import napari

__all__ = ["LightSourceWidget"]

#: the layer metadata key under which a log's text travels (the napari samples put it there)
LOG_TEXT_KEY = "power_log_text"
#: the plateau table's columns shown in the dock, with their headings
PLATEAU_HEADERS = {
    "channel": ("Light", "Channel: one per wavelength of the log"),
    "wavelength_nm": ("λ (nm)", "Wavelength"),
    "plateau": ("Plateau", "Plateau index"),
    "start_s": ("Start (s)", "First reading of the plateau"),
    "end_s": ("End (s)", "Last reading of the plateau"),
    "n_readings": ("Readings", "Readings in the plateau"),
    "setpoint_percent": ("Set-point (%)", "Set-point of the light, from the log"),
    "mean": ("Mean", "Mean power of the plateau (the result's unit)"),
    "sd": ("SD", "Standard deviation of the plateau"),
    "cv_percent": ("CV (%)", "Coefficient of variation of the plateau"),
    "stability_percent": ("Stability S (%)", "100 (1 − (max − min)/(max + min)) over the plateau"),
    "residual": ("Fit residual", "Residual of the plateau mean from the linearity fit"),
}


@dataclass
class _LogSource:
    """Where a log came from: its file, or None for a log carried by a layer."""

    path: str | None


@dataclass
class _LogInput:
    """What an export records as the input of a log: its bytes (as the command line does), name, file."""

    data: np.ndarray
    name: str
    source: Any


class LightSourceWidget(MeasurementDock):
    """Measure power, stability, warm-up, drift, plateaus and linearity of a light source."""

    measurement = LIGHT_SOURCE
    field_names = {
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
        "frame_interval_s": "the 'frame interval (s)' field",
    }

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer,
            parent,
            "Give a power-meter log in 'power-meter log', or pick a log or an image series of a uniform "
            "sample in 'series or log layer'.",
        )
        self.result: LightSourceResult | None = None
        self._input: Any = None
        self.log_file = FileEdit(
            label="power-meter log",
            mode="r",
            filter=" ".join(f"*{s}" for s in LOG_SUFFIXES),
            nullable=True,
        )
        self.log_file.tooltip = (
            "A CSV/TSV log of a power meter (Thorlabs, QUAREP tool kit or generic columns)."
        )
        self.layer_combo = ComboBox(label="series or log layer", choices=self._layers, nullable=True)
        self.layer_combo.tooltip = (
            "An image time series of a uniform sample (first axis: time), or a layer carrying a log "
            "(the napari samples). Used when no log file is given."
        )
        self.wavelength = LineEdit(label="wavelength (nm)")
        self.wavelength.tooltip = "The wavelength of a log without a wavelength column (recorded only)."
        self.frame_interval = LineEdit(label="frame interval (s)")
        self.frame_interval.tooltip = "Image series: time between frames."
        self.dark_level = LineEdit(label="dark level (counts)")
        self.dark_level.tooltip = "Image series: camera offset subtracted from every frame."
        self.previous_power = LineEdit(label="previous power (mW)")
        self.previous_power.tooltip = "Logs: the mean power of an earlier record, for the power change in % (the command line's --previous-power)."
        self.analysis = SettingsForm(
            LightSourceSettings,
            ["warmup_tolerance_percent", "final_window_percent", "step_threshold_percent", "power_unit"],
        )
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.form = Container(
            widgets=[
                self.log_file,
                self.layer_combo,
                self.wavelength,
                self.frame_interval,
                self.dark_level,
                self.previous_power,
                *self.analysis.widgets,
            ]
        )
        self.run_button = QPushButton("Measure")
        self.power_plot = LinePlot()
        self.linearity_plot = LinePlot()
        self.linearity_note = QLabel()
        self.linearity_note.setWordWrap(True)
        self.table = ResultsTable()
        self.plateau_table = ResultsTable()
        plots = QWidget()
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addWidget(self.power_plot)
        plots_layout.addWidget(self.linearity_plot)
        plots_layout.addWidget(self.linearity_note)
        plots_layout.addStretch(1)
        self._build(
            [self.form.native, self.analysis.more_panel],
            [self.run_button],
            [("Plots", scrolling(plots)), ("Metrics", self.table), ("Plateaus", self.plateau_table)],
        )
        self.run_button.clicked.connect(self.measure)
        self.layer_combo.changed.connect(self._layer_changed)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ inputs
    def _layers(self, *_: Any) -> list:
        return image_layers(self.viewer)

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.value
        self.layer_combo.reset_choices()
        keys = {layer_key(c) for c in self._layers()}
        if layer_key(current) not in keys:
            choices = self._layers()
            self.layer_combo.value = choices[0] if choices else None

    def _layer_changed(self, *_: Any) -> None:
        """Fill the series' timing and dark level from the layer's metadata when it has them."""
        layer = self.layer_combo.value
        if layer is None:
            return
        meta = layer.metadata if isinstance(layer.metadata, dict) else {}
        for key, field in (("frame_interval_s", self.frame_interval), ("dark_level", self.dark_level)):
            value = meta.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                field.value = f"{value:g}"

    def _log_path(self) -> Path | None:
        value = self.log_file.value
        if value is None or str(value) in ("", "."):
            return None
        return Path(value)

    def settings(self) -> LightSourceSettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return LightSourceSettings(**self.analysis.values())

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Analyse the log or series in the background."""
        if self.busy:
            return
        path, layer = self._log_path(), self.layer_combo.value
        try:
            settings = self.settings()
            wavelength = parse_optional_float(self.wavelength.value, "wavelength (nm)")
            interval = parse_optional_float(self.frame_interval.value, "frame interval (s)")
            dark = parse_optional_float(self.dark_level.value, "dark level (counts)")
            previous = parse_optional_float(self.previous_power.value, "previous power (mW)")
        except ValueError as exc:
            self.error(user_message(exc, self.field_names))
            return
        if path is not None and not path.is_file():
            self.error(f"'power-meter log': {path} is not a file; pick the log, or clear the field.")
            return
        text: str | None = None
        series: np.ndarray | None = None
        if path is not None:
            name = path.name
        elif layer is None:
            self.error("Give a 'power-meter log' file, or pick a 'series or log layer'.")
            return
        else:
            name = layer.name
            meta = layer.metadata if isinstance(layer.metadata, dict) else {}
            if isinstance(meta.get(LOG_TEXT_KEY), str):
                text = meta[LOG_TEXT_KEY]
            else:
                series = np.asarray(layer.data)
                if series.ndim < 2 or series.shape[0] < 3:
                    self.error(
                        f"'series or log layer' '{layer.name}' is {series.shape}: pick a time series "
                        "(first axis: time, at least 3 frames)."
                    )
                    return
        analyze = self.measurement.analyze
        tolerance = settings.warmup_tolerance_percent
        common = {
            "wavelength_nm": wavelength,
            "previous_power": previous,
            "previous_source": "the value given in 'previous power (mW)'",
        }

        def work(progress, cancel):
            raw: bytes | None = None
            nonlocal text
            if path is not None:
                raw = path.read_bytes()
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = raw.decode("latin-1")
            if text is not None:
                try:
                    log = parse_power_log(text, name, settings.power_unit)
                except AnalysisError as exc:
                    where = "'power-meter log'" if path is not None else f"'series or log layer' '{name}'"
                    raise AnalysisError(f"{where}: {exc}") from None
                raw = raw if raw is not None else text.encode()
                result = analyze(log, settings, progress=progress, cancel=cancel, **common)
            else:
                result = analyze(
                    series, settings, frame_interval_s=interval, dark=dark, progress=progress, cancel=cancel,
                    **common,
                )  # fmt: skip
                from microscope_qc.instrument import Setting, Source

                how = f"{len(series)} frames along the first axis of layer '{name}'"
                result.settings["frames"] = Setting(how, None, Source.DEFAULT)
                if interval is not None:  # as the command line records --frame-interval
                    result.settings["frame_interval_s"] = Setting(interval, "s", Source.USER)
            return result, raw, power_plot(result, tolerance), linearity_plot(result)

        if path is not None:
            self._input = ("file", path)
        elif text is not None:
            self._input = ("layer-log", layer)
        else:
            self._input = ("series", layer)
        self._start(work, f"Measuring {name}…")

    def _on_done(self, value: Any) -> None:
        result, raw, power, linearity = value
        super()._on_done(result)
        kind, what = self._input
        if raw is not None:  # recorded as the command line records a log: its bytes and file
            source = _LogSource(str(what) if kind == "file" else None)
            self._export_input = _LogInput(np.frombuffer(raw, dtype=np.uint8), what.name, source)
        else:
            self._export_input = what
        self.summary.setText(_summary_html(result))
        title, curves, xl, yl, options = power
        self.power_plot.set_curves(title, curves, xl, yl, **options)
        if linearity is None:
            self.linearity_plot.clear()
            self.linearity_plot.setVisible(False)
            self.linearity_note.setText("No linearity plot: no light has plateaus at two or more set-points.")
        else:
            title, curves, xl, yl, options = linearity
            self.linearity_plot.setVisible(True)
            self.linearity_plot.set_curves(title, curves, xl, yl, **options)
            self.linearity_note.setText("")
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        plateaus = result.plateaus
        columns = [c for c in PLATEAU_HEADERS if c in plateaus.columns]
        self.plateau_table.set_frame(plateaus, columns, header=PLATEAU_HEADERS.get)
        self.export_button.setEnabled(True)
        self.say("Done. Change a setting and Measure again; Export… to save.")

    def _clear_tables(self) -> None:
        self.table.clear()
        self.plateau_table.clear()
        self.power_plot.clear()
        self.linearity_plot.clear()
        self.linearity_note.setText("")

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, the tables as CSV and report.html, as the command line does; never
        overwrites silently."""
        return export_from_widget(self, folder, getattr(self, "_export_input", None))


def _fmt(value: float, digits: str = ".4g") -> str:
    return "—" if not math.isfinite(value) else format(value, digits)


def _summary_html(result: LightSourceResult) -> str:
    names = light_names(result)
    unit = result.unit
    by_channel: dict[int, dict[str, float]] = {}
    for m in result.metrics:
        by_channel.setdefault(m.channel if m.channel is not None else 0, {})[m.name] = m.value
    lines = []
    for k, metrics in sorted(by_channel.items()):
        label = names[k] if k < len(names) else f"light {k}"
        mean = metrics.get(f"mean_power_{unit.lower()}", metrics.get("mean_intensity_counts", math.nan))
        parts = [f"<b>{html.escape(label)}</b>: mean <b>{_fmt(mean)} {unit}</b>"]
        if "stability_after_warmup_percent" in metrics:
            parts.append(
                f"stability S after warm-up <b>{_fmt(metrics['stability_after_warmup_percent'], '.2f')} %</b>"
            )
        if "cv_percent" in metrics:
            parts.append(f"CV {_fmt(metrics['cv_percent'], '.3f')} %")
        if "drift_percent_per_h" in metrics:
            parts.append(f"drift {_fmt(metrics['drift_percent_per_h'], '+.2f')} %/h")
        if "warmup_time_s" in metrics:
            parts.append(f"warm-up {_fmt(metrics['warmup_time_s'], '.0f')} s")
        if "n_plateaus" in metrics:
            parts.append(f"{int(metrics['n_plateaus'])} plateau(s)")
        if "power_change_percent" in metrics:
            parts.append(f"change from the previous record {_fmt(metrics['power_change_percent'], '+.2f')} %")
        if "linearity_r2" in metrics:
            parts.append(f"linearity R² {_fmt(metrics['linearity_r2'], '.5f')}")
        lines.append(" · ".join(parts))
    text = "<br>".join(lines)
    verdicts = verdict_lines("light-source", result.verdicts)
    if verdicts:
        text += "<br>" + verdicts
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

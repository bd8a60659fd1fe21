"""Detector performance dock widget (Layers ▸ Measure ▸ Detector performance).

Frames come from image layers (one multi-frame layer or several layers) or a folder; EMVA frame
tables from a file or the layer's metadata. The analysis is the command line's
(:func:`microscope_qc.analysis.detector.analyze_detector`), run in a worker with progress and
cancel; the maps and defect pixels are napari layers updated in place; the photon-transfer and
SNR curves are painted in the dock, with the gain fit range shaded: drag its edge (or change
'gain fit up to') and the fit re-runs. In cv and NoiSee modes, editing the regions layer re-runs
the (cheap) analysis, so the CV per region follows the drawing.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, Select
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.detector import DetectorSettings
from microscope_qc.instrument import Setting, Source
from microscope_qc.measurements.detector import DETECTOR
from microscope_qc.report import InputInfo
from microscope_qc.widgets._base import MeasurementDock, scrolling
from microscope_qc.widgets._common import (
    METRIC_COLUMNS,
    METRIC_HEADERS,
    ask_folder,
    export_with_confirmation,
    metrics_frame,
    record_after_export,
    user_message,
    verdict_lines,
)
from microscope_qc.widgets._detector_inputs import LayerFrames, frame_table_of, region_masks
from microscope_qc.widgets._detector_layers import REGIONS_ROLE, detector_specs, regions_spec
from microscope_qc.widgets._detector_plots import CurvePlot
from microscope_qc.widgets._layers import image_layers, layer_key, prebuild
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable

if TYPE_CHECKING:
    import napari

__all__ = ["DetectorWidget", "MODE_FIELDS"]

#: the settings each mode uses, shown in the form when that mode is picked
MODE_FIELDS: dict[str, tuple[str, ...]] = {
    "emva": ("gain_fit_max_percent", "linearity_min_percent", "linearity_max_percent"),
    "single-scene": ("outlier_sigma", "noisiest_percent", "ptc_bins"),
    "dark": ("warm_cold_percent",),
    "cv": (),
    "noisee": ("noisee_kind", "detection_threshold_sigma"),
}
_SHOWN = ("mode", *dict.fromkeys(n for names in MODE_FIELDS.values() for n in names))
#: settings whose change re-runs the analysis at once (once a result is shown)
_LIVE = ("gain_fit_max_percent", "linearity_min_percent", "linearity_max_percent")
_MIN_FRAMES = {"emva": 4, "single-scene": 2, "dark": 2, "cv": 1, "noisee": 1}
_LAYERS, _FOLDER = "image layers", "folder"


class DetectorWidget(MeasurementDock):
    """Measure a camera's or point detector's performance from raw frames."""

    measurement = DETECTOR
    field_names = {
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
        "frame_table": "the 'frame table' field",
        "dark_frames": "the 'dark frames' field",
    }

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer,
            parent,
            "Pick the frames (a multi-frame image layer, several layers or a folder), the mode, then Measure.",
        )
        self._source_key: Any = None
        self._scheduled_rerun = False
        self._input: tuple[InputInfo, str] | None = None
        self._fit_percent = 70.0
        self.source = ComboBox(label="frames from", choices=[_LAYERS, _FOLDER], value=_LAYERS)
        self.frames = Select(label="frames", choices=self._image_layers)
        self.frames.tooltip = (
            "One multi-frame layer (every plane is a frame) or several layers, in this order."
        )
        self.folder = FileEdit(label="frame folder", mode="d")
        self.folder.tooltip = "A folder of TIFF files, read in name order; every plane is a frame."
        self.frame_table = FileEdit(label="frame table", mode="r", filter="*.csv *.yaml *.yml")
        self.frame_table.tooltip = (
            "EMVA: exposure_ms, photons (optional) and kind (bright/dark) per frame or per pair (CSV or "
            "YAML). Empty: the table in the layer's metadata, or the one beside the folder's files."
        )
        self.darks = Select(label="dark frames", choices=self._image_layers)
        self.darks.tooltip = "single-scene and NoiSee: the dark frames (shutter closed)."
        self.dark_folder = FileEdit(label="dark folder", mode="d")
        self.dark_folder.tooltip = (
            "single-scene and NoiSee: a folder of dark frames (TIFF files, name order)."
        )
        for select in (self.frames, self.darks):
            select.native.setMaximumHeight(70)
            select.native.setMinimumWidth(60)  # long layer names must not widen the dock
        self.analysis = SettingsForm(DetectorSettings, list(_SHOWN))
        self.mode = self.analysis["mode"]
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.form = Container(
            widgets=[
                self.source,
                self.frames,
                self.folder,
                self.frame_table,
                self.darks,
                *self.analysis.widgets,
            ]
        )
        self.regions_button = QPushButton("Draw regions")
        self.regions_button.setToolTip(
            "Adds a shapes layer on the frames: draw rectangles or polygons; the CV per region follows."
        )
        self.regions_button.clicked.connect(self.draw_regions)
        self.run_button = QPushButton("Measure")
        self.table = ResultsTable()
        self.region_table = ResultsTable()
        self.ptc_plot = CurvePlot("Photon transfer: temporal variance vs signal")
        self.snr_plot = CurvePlot("SNR vs signal")
        curves = QWidget()
        curves_layout = QVBoxLayout(curves)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(self.ptc_plot)
        curves_layout.addWidget(self.snr_plot)
        self._build(
            [self.form.native, self.regions_button, self.analysis.more_panel],
            [self.run_button],
            [("Metrics", self.table), ("Curves", scrolling(curves)), ("Regions", self.region_table)],
        )
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.measure)
        self.run_button.clicked.connect(self.measure)
        self.ptc_plot.range_dragged.connect(self._fit_range_dragged)
        for name in _LIVE:
            self.analysis[name].changed.connect(self._schedule)
        self.mode.changed.connect(self._mode_changed)
        self.source.changed.connect(self._mode_changed)
        self.source.changed.connect(self._frames_changed)
        self.frames.changed.connect(self._frames_changed)
        self._watch_layers(self._refresh_layers)
        self._mode_changed()

    # ------------------------------------------------------------------ inputs
    def _image_layers(self, *_: Any) -> list:
        return image_layers(self.viewer)

    @property
    def busy(self) -> bool:
        return super().busy or self._debounce.isActive()

    def _refresh_layers(self, *_: Any) -> None:
        picked = [layer_key(x) for x in self.frames.value]
        self.frames.reset_choices()
        self.darks.reset_choices()
        if not picked or not [x for x in self.frames.value if layer_key(x) in picked]:
            choices = self._image_layers()
            stacks = [x for x in choices if x.ndim >= 3 and not x.rgb]
            self.frames.value = stacks[:1] if stacks else []
        self._frames_changed()

    def _picked(self, select: Select) -> list:
        """The layers picked in a list, in the order the list shows them (the frames' order)."""
        order = {layer_key(x): i for i, x in enumerate(self._image_layers())}
        return sorted(select.value, key=lambda x: order.get(layer_key(x), len(order)))

    def _first_layer(self) -> Any | None:
        if self.source.value != _LAYERS:
            return None
        value = self._picked(self.frames)
        return value[0] if value else None

    def _frames_changed(self, *_: Any) -> None:
        layer = self._first_layer()
        key = layer_key(layer)
        if key == self._source_key:
            return
        first = self._source_key is None and self.result is None
        self._source_key = key
        self._debounce.stop()
        if not first:
            self.clear_result(note=None)
            if layer is not None:
                self.layers.mark_stale(layer)

    def _mode_changed(self, *_: Any) -> None:
        mode = str(self.mode.value)
        used = set(MODE_FIELDS[mode])
        for name in _SHOWN[1:]:
            self.analysis[name].visible = name in used
        layers = self.source.value == _LAYERS
        self.frames.visible = layers
        self.folder.visible = not layers
        self.frame_table.visible = mode == "emva"
        self.darks.visible = mode in ("single-scene", "noisee") and layers
        self.dark_folder.visible = mode in ("single-scene", "noisee") and not layers
        self.regions_button.setVisible(mode in ("cv", "noisee") and layers)

    def settings(self) -> DetectorSettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return DetectorSettings(**self.analysis.values())

    def _schedule(self, *_: Any) -> None:
        if self.result is not None:
            self._debounce.start()

    def _fit_range_dragged(self, upper_dn: float) -> None:
        """The user dragged the shaded gain-fit range: set 'gain fit up to' (the fit re-runs)."""
        result = self.result
        if result is None or "gain" not in result.fit_ranges:
            return
        saturation = result.fit_ranges["gain"][1] / (self._fit_percent / 100)
        percent = float(np.clip(100 * upper_dn / saturation, 10.0, 100.0))
        self.analysis["gain_fit_max_percent"].value = round(percent, 1)

    # ------------------------------------------------------------------ regions
    def draw_regions(self) -> None:
        """Add (or select) the shapes layer of the regions for the picked frames."""
        layer = self._first_layer()
        if layer is None:
            self.error("Pick the 'frames' first: the regions belong to one image.")
            return
        shapes = self.layers.find(REGIONS_ROLE)
        if shapes is None or not self.layers.is_current(REGIONS_ROLE, layer):
            shapes = self.layers.apply(
                regions_spec(tuple(layer.scale[-2:]), tuple(layer.translate[-2:])), layer
            )
            shapes.events.data.connect(self._regions_edited)
        self.viewer.layers.selection.active = shapes
        shapes.mode = "add_rectangle"
        self.say(f"Draw in '{shapes.name}' (rectangle, or the polygon tool); each shape is one region.")

    def _regions_edited(self, *_: Any) -> None:
        if str(self.mode.value) in ("cv", "noisee"):
            self._schedule()

    def _regions(self, layer: Any) -> list[tuple[np.ndarray, str]]:
        """The drawn regions of ``layer`` as (y, x) pixel vertices and shape type."""
        shapes = self.layers.find(REGIONS_ROLE)
        if layer is None or shapes is None or not self.layers.is_current(REGIONS_ROLE, layer):
            return []
        scale, translate = np.asarray(layer.scale[-2:]), np.asarray(layer.translate[-2:])
        s_scale, s_translate = np.asarray(shapes.scale[-2:]), np.asarray(shapes.translate[-2:])
        out = []
        for poly, kind in zip(shapes.data, shapes.shape_type, strict=True):
            world = np.asarray(poly)[:, -2:] * s_scale + s_translate
            out.append(((world - translate) / scale, str(kind)))
        return out

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Snapshot the inputs and analyse in the background (once more after a busy run)."""
        if self.task.running or self.drawing.busy:
            self._scheduled_rerun = True
            return
        try:
            settings = self.settings()
            work = self._work(settings)
        except ValueError as exc:  # SettingsError and AnalysisError are ValueErrors
            self.clear_result("failed run")
            self.error(user_message(exc, self.field_names))
            return
        self._fit_percent = settings.gain_fit_max_percent
        self._start(work, "Measuring…")

    def _work(self, settings: DetectorSettings) -> Any:
        """The worker function for the current inputs (raises naming the field when they cannot work)."""
        from microscope_qc.analysis.detector import analyze_detector

        mode = settings.mode
        table_path = _path_of(self.frame_table) if mode == "emva" else None
        if table_path is not None and not table_path.is_file():
            raise ValueError(f"'frame table' {table_path}: no such file.")
        layer = self._first_layer()
        if self.source.value == _LAYERS:
            picked = self._picked(self.frames)
            if any(x.rgb for x in picked):
                raise ValueError("'frames': pick raw (single-channel) frames, not an RGB image.")
            frames = LayerFrames([(x.name, x.data) for x in picked], "frames")
            metadata = dict(picked[0].metadata) if len(picked) == 1 else None
            name = ", ".join(x.name for x in picked)
            path = getattr(getattr(picked[0], "source", None), "path", None) if len(picked) == 1 else None
            folder = None
        else:
            folder = _path_of(self.folder)
            if folder is None or not folder.is_dir():
                raise ValueError("Pick a folder of TIFF frames in 'frame folder'.")
            frames, metadata, name, path = None, None, folder.name, str(folder.resolve())
        if frames is not None and len(frames) < _MIN_FRAMES[mode]:
            raise ValueError(
                f"'frames' holds {len(frames)} frame(s); {mode} needs at least {_MIN_FRAMES[mode]}"
                + (" (a bright and a dark pair per level)." if mode == "emva" else ".")
            )
        dark_layers = (
            self._picked(self.darks) if mode in ("single-scene", "noisee") and folder is None else []
        )
        darks = LayerFrames([(x.name, x.data) for x in dark_layers], "dark frames") if dark_layers else None
        if darks is not None and frames is not None and darks.frame_shape != frames.frame_shape:
            raise ValueError(
                f"'dark frames' are {darks.frame_shape}, the frames {frames.frame_shape}: pick darks of this camera."
            )
        dark_folder = _path_of(self.dark_folder) if mode in ("single-scene", "noisee") and folder else None
        if dark_folder is not None and not dark_folder.is_dir():
            raise ValueError(f"'dark folder' {dark_folder}: no such folder.")
        drawn = self._regions(layer) if mode in ("cv", "noisee") else []
        scale = tuple(layer.scale[-2:]) if layer is not None else (1.0, 1.0)
        translate = tuple(layer.translate[-2:]) if layer is not None else (0.0, 0.0)
        existing = self.layers.roles()

        def work(progress, cancel):
            series = frames if frames is not None else _folder_frames(folder)
            dark_series = darks if dark_folder is None else _folder_frames(dark_folder)
            kwargs: dict[str, Any] = {}
            table = None
            if mode == "emva":
                found = table_path or (_folder_table(folder) if folder is not None else None)
                table = frame_table_of(found, metadata, len(series))
                if table is not None:
                    kwargs.update(exposure_ms=table.exposure_ms, photons=table.photons, dark=table.dark)
            rois = region_masks(drawn, _shape_of(series)) if drawn else None
            result = analyze_detector(
                series, settings, darks=dark_series, rois=rois, progress=progress, cancel=cancel, **kwargs
            )
            if table is not None:
                result.settings["frame_table"] = Setting(
                    table.source, None, Source.USER if table_path else Source.FILE
                )
            if dark_layers:
                result.settings["dark_files"] = Setting(
                    ", ".join(x.name for x in dark_layers), None, Source.USER
                )
            if rois:
                result.settings["rois"] = Setting(
                    "; ".join(f"{n} ({int(m.sum())} px)" for n, m in rois), None, Source.USER
                )
            info = _input_info(series, path)
            specs = detector_specs(result, scale, translate)
            prebuild(specs, existing)
            return result, specs, (info, name)

        return work

    def _on_finished(self) -> None:
        super()._on_finished()
        self._maybe_rerun()

    def _maybe_rerun(self) -> None:
        if self._scheduled_rerun and not self.busy:
            self._scheduled_rerun = False
            self.measure()

    def _on_done(self, value: Any) -> None:
        result, specs, self._input = value
        super()._on_done(result)
        layer = self._first_layer()
        self.summary.setText(summary_html(result))
        self.drawing.run(
            [lambda s=s: self.layers.apply(s, layer) for s in specs], lambda: self._drawn(result)
        )

    def _drawn(self, result: Any) -> None:
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        self._plot(result)
        regions = result.tables.get("cv", result.tables.get("noisee"))
        if regions is not None:
            first = [c for c in _REGION_FIRST if c in regions.columns]
            columns = first + [c for c in regions.columns if c not in first]
            self.region_table.set_frame(regions, columns, header=column_header)
        else:
            self.region_table.clear()
        self.export_button.setEnabled(True)
        hint = " Drag the shaded fit range's edge to change it." if "gain" in result.fit_ranges else ""
        self.say(f"Done.{hint} Export… to save.")
        layer = self._first_layer()
        if layer is not None and str(self.mode.value) not in ("cv", "noisee"):
            self.viewer.layers.selection.active = layer  # not a hidden map's controls
        self._maybe_rerun()

    def _plot(self, result: Any) -> None:
        ptc = result.tables.get("photon_transfer")
        if ptc is None or result.mode not in ("emva", "single-scene"):
            note = "(no curve in this mode: emva and single-scene have one)"
            self.ptc_plot.clear(note)
            self.snr_plot.clear(note)
            return
        if result.mode == "emva":
            band = result.fit_ranges.get("gain")
            self.ptc_plot.set_curve(
                ptc["signal_dn"], ptc["variance_dn2"], model=ptc["variance_model_dn2"], used=ptc["in_gain_fit"],
                band=band, xlabel="signal above dark μ_y − μ_y.dark (DN)", ylabel="variance σ²_y (DN²)",
                adjustable=True,
            )  # fmt: skip
            # a fully clipped pair has no temporal variance left: its SNR is meaningless
            ok = (ptc["variance_dn2"] > ptc["dark_variance_dn2"]).to_numpy()
            self.snr_plot.set_curve(
                ptc["signal_dn"].where(ok), ptc["snr"].where(ok), model=ptc["snr_model"], used=ptc["in_gain_fit"], band=band,
                log=True, xlabel="signal above dark (DN)", ylabel="SNR",
            )  # fmt: skip
            return
        self.ptc_plot.set_curve(
            ptc["mean_dn"], ptc["variance_dn2"], model=ptc["variance_model_dn2"],
            used=np.ones(len(ptc), bool), xlabel="mean (DN)", ylabel="temporal variance (DN²)",
        )  # fmt: skip
        self.snr_plot.clear("(the SNR curve comes from an EMVA series)")

    def _clear_tables(self) -> None:
        self.table.clear()
        self.region_table.clear()
        self.ptc_plot.clear()
        self.snr_plot.clear()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write what the command line writes (results.json, the curves' CSVs, report.html); never overwrites silently."""
        if self.result is None or self._input is None:
            self.say("Nothing to export yet: Measure first.")
            return None
        target = Path(folder) if folder else ask_folder(self)
        if target is None:
            return None
        info, name = self._input
        entry = self.measurement
        paths = export_with_confirmation(
            self.result, target, info, entry.figures, f"{entry.title}: {name}", self.confirm_overwrite,
            tuple(entry.extra_outputs), self.findings,
        )  # fmt: skip
        if paths is None:
            self.say("Export cancelled; existing files were kept.")
            return None
        self.say(f"Exported to {target}")
        record_after_export(self, info, paths)
        return paths


def _path_of(field: FileEdit) -> Path | None:
    """The path typed or picked in a file field; None when it is empty."""
    text = str(field.line_edit.value).strip()
    return Path(text) if text not in ("", ".") else None


def _folder_frames(folder: Path | None) -> Any:
    """The frames of a folder as the command line reads them (every plane of its TIFFs, in name order)."""
    from microscope_qc.io import read_image
    from microscope_qc.measurements.detector import _all_timepoints
    from microscope_qc.measurements.detector_inputs import LazyFrames, expand_inputs

    assert folder is not None
    return LazyFrames(_all_timepoints([read_image(p) for p in expand_inputs([folder])]))


def _folder_table(folder: Path) -> Path | None:
    from microscope_qc.measurements.detector_inputs import expand_inputs, find_frame_table

    return find_frame_table(expand_inputs([folder]))


def _shape_of(series: Any) -> tuple[int, int]:
    shape = np.asarray(series[0]).shape
    return int(shape[-2]), int(shape[-1])


def _input_info(series: Any, path: str | None) -> InputInfo:
    """Provenance of the frames: their file or folder, and a checksum of every frame's pixels."""
    import hashlib

    digest = hashlib.sha256()
    for i in range(len(series)):
        digest.update(np.ascontiguousarray(series[i]).tobytes())
    y, x = _shape_of(series)
    dtype = str(getattr(series, "dtype", None) or np.asarray(series[0]).dtype)
    return InputInfo(
        path if path and Path(path).exists() else None, digest.hexdigest(), (len(series), y, x), dtype
    )


#: the region table's leading columns (the CV first: it is what the tab is for)
_REGION_FIRST = ("roi", "frame", "cv_percent", "cv_se_percent", "cv_relative", "snr", "sbr")
_UNITS = (("_percent", "%"), ("_dn2", "DN²"), ("_dn", "DN"), ("_px", "px"), ("_e", "e⁻"))
_WORDS = {"roi": "region", "sd": "SD", "cv": "CV", "se": "SE", "snr": "SNR", "sbr": "SBR"}


def column_header(name: str) -> tuple[str, str]:
    """A table heading with its unit for an exported CSV column (``cv_se_percent`` → "CV SE (%)"),
    and, as tooltip, the column's name in the CSV."""
    unit, stem = "", name
    for suffix, text in _UNITS:
        if name.endswith(suffix):
            stem, unit = name[: -len(suffix)], text
            break
    words = [_WORDS.get(w, w) for w in stem.split("_")]
    heading = " ".join(words)
    heading = heading[:1].upper() + heading[1:]
    return (f"{heading} ({unit})" if unit else heading), f"column in the exported CSV: {name}"


def summary_html(result: Any) -> str:
    """The headline numbers of a detector result, with uncertainties, verdicts and warnings."""
    from microscope_qc.report.labels import display_unit, label

    headline = {
        "emva": ("conversion_gain_e_per_dn", "system_gain_dn_per_e", "dark_noise_e", "saturation_capacity_e",
                 "dynamic_range_db", "snr_max_db", "dsnu_e", "prnu_percent", "quantum_efficiency_percent"),
        "single-scene": ("conversion_gain_e_per_dn", "read_noise_dn", "offset_dn"),
        "dark": ("offset_dn", "noise_rms_dn", "noise_median_dn", "dsnu_dn", "hot_pixels_percent",
                 "warm_pixels_percent", "cold_pixels_percent"),
        "cv": ("cv_percent",),
        "noisee": ("snr", "sbr"),
    }.get(result.mode, ())  # fmt: skip
    lines = []
    for m in result.metrics:
        if m.name not in headline:
            continue
        unc = f" ± {m.uncertainty:.2g}" if m.uncertainty is not None and np.isfinite(m.uncertainty) else ""
        chan = f" (frame {m.channel})" if m.channel is not None else ""
        text = label(result.measurement, m.name).text
        lines.append(
            f"{html.escape(text)}{chan}: <b>{m.value:.4g}{unc} {html.escape(display_unit(m.unit))}</b>"
        )
    out = "<br>".join(lines) or "No headline numbers for this mode; see the Metrics tab."
    verdicts = verdict_lines("detector", result.verdicts)
    if verdicts:
        out += "<br>" + verdicts
    for w in result.warnings:
        out += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return out

"""Image quality dock widget (Layers ▸ Measure ▸ Image quality, QUAREP WG10).

The input is one image layer (a z-stack: its middle plane, as the command line does; a time series:
its first frame, and every frame for the bleaching), optionally with signal and background regions
drawn in Shapes layers (without them, Otsu's threshold splits the image, as on the command line).
The Nyquist pixel of the sampling check is derived from the optics fields by the command line's
function. The saturated and zero-clipped pixels are drawn over the image as a Labels layer (1
saturated, red; 2 zero-clipped, blue); the dock shows the checks with their limits and weights, the
rating in the summary, and the bleaching curve with its fit.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from magicgui.widgets import ComboBox, Container, LineEdit, PushButton
from qtpy.QtWidgets import QPushButton, QWidget

from microscope_qc.analysis.image_quality import ImageQualityResult, ImageQualitySettings
from microscope_qc.analysis.image_quality.sampling import nyquist_pixel_um
from microscope_qc.instrument import Modality
from microscope_qc.measurements.image_quality import IMAGE_QUALITY
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
from microscope_qc.widgets._image_quality_inputs import is_time_series, optics_of, shapes_vertices, union_mask
from microscope_qc.widgets._layers import LayerSpec, image_layers, layer_key, prebuild
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import LinePlot

if TYPE_CHECKING:
    import napari

__all__ = ["ImageQualityWidget", "clipping_spec", "CLIP_COLOURS", "SIGNAL_LAYER", "BACKGROUND_LAYER"]

#: the names of the Shapes layers 'Draw regions' adds
SIGNAL_LAYER, BACKGROUND_LAYER = "signal regions", "background regions"
_Z, _TIME = "z-stack: its middle plane", "time series: bleaching"
_OPTICS = (
    ("modality", "modality"),
    ("na", "NA"),
    ("immersion_index", "immersion n"),
    ("wavelength_ex_nm", "λ excitation (nm)"),
    ("wavelength_em_nm", "λ emission (nm)"),
)

#: the overlay's label values and colours
CLIP_COLOURS = {1: "#ff3030", 2: "#30a0ff"}
CHECK_COLUMNS = ["check", "passed", "weight", "value", "comparison", "limit", "metric"]
CHECK_HEADERS = {
    "check": ("Check", "What is checked (the 'check' column of checks.csv)"),
    "value": ("Value", "The measured value ('value')"),
    "comparison": ("Pass if", "How the value is compared with the limit ('comparison')"),
    "limit": ("Limit", "The limit, from the settings ('limit')"),
    "passed": ("Passed", "Whether the check passed ('passed')"),
    "weight": ("Weight", "How much the check counts in the rating ('weight')"),
    "metric": ("Metric", "The metric in results.json ('metric')"),
}


class ImageQualityWidget(MeasurementDock):
    """Check one image: saturated and zero-clipped pixels, range used, noise, SNR/CNR, focus, sampling."""

    measurement = IMAGE_QUALITY
    field_names = {
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
        "voxel_size_um": "the 'pixel size (µm)' field",
    }

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(napari_viewer, parent, "Pick the 'image' to check, then Measure.")
        self.result: ImageQualityResult | None = None
        self._layer = None
        self.layer_combo = ComboBox(label="image", choices=self._layers, nullable=True)
        self.layer_combo.tooltip = (
            "(Y, X) raw counts; a z-stack: its middle plane; a time series: bleaching too."
        )
        self.stack = ComboBox(label="first axis", choices=[_Z, _TIME], value=_Z)
        self.stack.tooltip = (
            "A 3D layer: a z-stack (its middle plane is checked) or a time series (its first frame is checked, "
            "every frame gives the bleaching). Files the plugin opened say which."
        )
        self.frame_interval = LineEdit(label="frame interval (s)")
        self.frame_interval.tooltip = (
            "A time series: seconds between frames, for the half-life in seconds (optional)."
        )
        self.signal_combo = ComboBox(label="signal regions", choices=self._shapes_layers, nullable=True)
        self.signal_combo.tooltip = (
            "A Shapes layer whose rectangles/polygons are the signal for SNR and CNR (optional; alone, the "
            "background is the rest of the image; neither: Otsu's threshold)."
        )
        self.background_combo = ComboBox(
            label="background regions", choices=self._shapes_layers, nullable=True
        )
        self.background_combo.tooltip = (
            "A Shapes layer whose shapes are the background for SNR and CNR (optional; alone, the signal is the "
            "rest of the image)."
        )
        self.regions_button = PushButton(text="Draw regions")
        self.regions_button.tooltip = (
            f"Adds the Shapes layers '{SIGNAL_LAYER}' and '{BACKGROUND_LAYER}' over the image (if missing) and "
            "picks them: draw rectangles or polygons in each."
        )
        self.pixel = LineEdit(label="pixel size (µm)")
        self.pixel.tooltip = "For the sampling check (with the optics below); optional."
        self.optics: dict[str, Any] = {}
        for key, text in _OPTICS:
            if key == "modality":
                w = ComboBox(label=text, choices=["", *(m.value for m in Modality)])
            else:
                w = LineEdit(label=text)
            w.tooltip = "The sampling check's Nyquist pixel is derived from the modality, NA, immersion n and wavelength."
            self.optics[key] = w
        self.analysis = SettingsForm(
            ImageQualitySettings,
            [
                "bit_depth",
                "max_saturated_percent",
                "max_clipped_percent",
                "min_dynamic_range_percent",
                "min_snr",
            ],
        )
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.form = Container(
            widgets=[
                self.layer_combo,
                self.stack,
                self.frame_interval,
                self.signal_combo,
                self.background_combo,
                self.regions_button,
                self.pixel,
                *self.optics.values(),
                *self.analysis.widgets,
            ]
        )
        self.run_button = QPushButton("Measure")
        self.checks_table = ResultsTable()
        self.table = ResultsTable()
        self.bleaching_plot = LinePlot()
        self._build(
            [self.form.native, self.analysis.more_panel],
            [self.run_button],
            [
                ("Checks", self.checks_table),
                ("Metrics", self.table),
                ("Bleaching", scrolling(self.bleaching_plot)),
            ],
        )
        for combo in (self.signal_combo, self.background_combo):  # long labels: a narrower box keeps the form
            combo.native.setMinimumContentsLength(6)  # within the dock (no sideways scrolling)
        self.run_button.clicked.connect(self.measure)
        self.regions_button.changed.connect(self.draw_regions)
        self.stack.changed.connect(self._stack_changed)
        self.layer_combo.changed.connect(self._layer_changed)
        self._watch_layers(self._refresh_layers)
        self._layer_changed()

    # ------------------------------------------------------------------ inputs
    def _layers(self, *_: Any) -> list:
        return image_layers(self.viewer, min_ndim=2)

    def _shapes_layers(self, *_: Any) -> list:
        import napari

        return [lyr for lyr in self.viewer.layers if isinstance(lyr, napari.layers.Shapes)]

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.value
        self.layer_combo.reset_choices()
        choices = self._layers()
        if layer_key(current) not in {layer_key(c) for c in choices}:
            self.layer_combo.value = choices[0] if choices else None
        for combo in (self.signal_combo, self.background_combo):
            kept = combo.value
            combo.reset_choices()
            if kept is not None and layer_key(kept) not in {layer_key(c) for c in self._shapes_layers()}:
                combo.value = None

    def draw_regions(self, *_: Any) -> None:
        """Add (or pick) the signal and background Shapes layers over the image; draw in the signal one."""
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick the 'image' first: the regions belong to one image.")
            return
        made = []
        for name, combo, colour in (
            (SIGNAL_LAYER, self.signal_combo, "#ffd000"),
            (BACKGROUND_LAYER, self.background_combo, "#00d0ff"),
        ):
            shapes = next((lyr for lyr in self._shapes_layers() if lyr.name == name), None)
            if shapes is None:
                shapes = self.viewer.add_shapes(
                    name=name,
                    ndim=2,
                    scale=tuple(layer.scale[-2:]),
                    translate=tuple(layer.translate[-2:]),
                    edge_color=colour,
                    face_color="transparent",
                    edge_width=max(2.0, min(layer.data.shape[-2:]) / 200),  # pixels: visible at any zoom
                )
                made.append(name)
            combo.reset_choices()
            combo.value = shapes
        signal = self.signal_combo.value
        self.viewer.layers.selection.active = signal
        signal.mode = "add_rectangle"
        self.say(
            f"Draw the signal in '{SIGNAL_LAYER}' and the background in '{BACKGROUND_LAYER}' (rectangles or "
            "polygons), then Measure."
        )

    def _stack_changed(self, *_: Any) -> None:
        layer = self.layer_combo.value
        self.frame_interval.visible = layer is not None and layer.ndim >= 3 and self.stack.value == _TIME

    def _layer_changed(self, *_: Any) -> None:
        layer = self.layer_combo.value
        if layer is None:
            return
        if self.result is not None and layer_key(layer) != layer_key(self._layer):
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
        if float(layer.scale[-1]) != 1.0:
            self.pixel.value = f"{float(layer.scale[-1]):g}"
        self.stack.visible = layer.ndim >= 3
        self.stack.value = _TIME if is_time_series(layer) else _Z
        self._stack_changed()
        for key, value in optics_of(layer).items():
            if value is None:
                continue
            if key == "modality":
                try:
                    self.optics[key].value = Modality.parse(str(value)).value
                except ValueError:  # a modality the file names that we do not know: left for the user
                    continue
            else:
                self.optics[key].value = f"{float(value):g}"
        self.say(f"'{layer.name}': {layer.data.shape[-2]} × {layer.data.shape[-1]} px. Measure.")

    def settings(self) -> ImageQualitySettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return ImageQualitySettings(**self.analysis.values())

    @staticmethod
    def _positive(field: Any, name: str) -> float | None:
        v = parse_optional_float(field.value, name)
        if v is not None and not v > 0:
            raise ValueError(f"'{name}' must be a positive number; '{field.value}' is not.")
        return v

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Run the checks in the background."""
        if self.busy:
            return
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick the 'image' first.")
            return
        if getattr(layer, "rgb", False) or layer.ndim > 4:
            self.error(
                f"'image' '{layer.name}' is {'RGB' if layer.rgb else f'{layer.ndim}D'}: give one (Y, X) plane, a "
                "z-stack or a time series."
            )
            return
        try:
            settings = self.settings()
            pixel = self._positive(self.pixel, "pixel size (µm)")
            interval = self._positive(self.frame_interval, "frame interval (s)")
            optics = {k: self._positive(w, w.label) for k, w in self.optics.items() if k != "modality"}
            nyquist, why = nyquist_pixel_um(self.optics["modality"].value or None, **optics)
        except ValueError as exc:
            self.error(user_message(exc, self.field_names))
            return
        data = layer.data
        time = layer.ndim == 4 or (layer.ndim == 3 and self.stack.value == _TIME)
        z = None
        if layer.ndim == 4:
            z = data.shape[1] // 2
            series, plane = data[:, z], np.asarray(data[0, z])
        elif time:
            series, plane = data, np.asarray(data[0])
        else:
            series = None
            z = data.shape[0] // 2 if data.ndim == 3 else None
            plane = np.asarray(data[z]) if z is not None else np.asarray(data)
        shape = (int(plane.shape[0]), int(plane.shape[1]))
        masks: dict[str, Any] = {}
        names = ["", ""]
        try:
            for i, (kind, combo) in enumerate(
                (("signal", self.signal_combo), ("background", self.background_combo))
            ):
                shapes = combo.value
                if shapes is not None:
                    masks[kind] = union_mask(shapes_vertices(shapes, layer), shape, f"{kind} regions")
                    names[i] = (
                        f"'{shapes.name}' ({len(shapes.data)} shape{'s' if len(shapes.data) != 1 else ''})"
                    )
        except AnalysisError as exc:
            self.error(str(exc))
            return
        scale, translate = tuple(layer.scale), tuple(layer.translate)
        existing = self.layers.roles()
        analyze = self.measurement.analyze
        n_planes = int(data.shape[0]) if data.ndim == 3 else None  # (T, Z, Y, X): one plane over all
        checked = 0 if time else z

        def work(progress, cancel):
            result = analyze(
                plane,
                settings,
                pixel_size_um=pixel,
                nyquist_um=nyquist,
                signal_mask=masks.get("signal"),
                background_mask=masks.get("background"),
                region_names=tuple(names),
                series=series,
                frame_interval_s=interval if time else None,
                progress=progress,
                cancel=cancel,
            )
            if time:
                result.warnings.append(
                    f"Frame 0 of {data.shape[0]} checked; every frame gives the bleaching."
                )
            elif z is not None:
                result.warnings.append(f"Plane {z} of {data.shape[0]} checked (the middle of the stack).")
            if nyquist is None:
                result.warnings.append(f"No sampling check: {why}; fill the optics fields.")
            specs = [clipping_spec(plane, result.bit_depth, n_planes, checked, scale, translate)]
            prebuild(specs, existing)
            return result, specs

        self._layer = layer
        self._start(work, "Checking the image…")

    def _on_done(self, value: Any) -> None:
        result, specs = value
        super()._on_done(result)
        self.summary.setText(_summary_html(result))
        self.drawing.run(**self.layers.plan(specs, self._layer), done=lambda: self._drawn(result))

    def _drawn(self, result: ImageQualityResult) -> None:
        self.checks_table.set_frame(
            result.checks, CHECK_COLUMNS, header=lambda c: CHECK_HEADERS.get(c, (c, c))
        )
        self._plot_bleaching(result)
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        self.export_button.setEnabled(True)
        self.say("Done. Saturated (red) and zero-clipped (blue) pixels are over the image; Export… to save.")

    def _plot_bleaching(self, result: ImageQualityResult) -> None:
        table = result.tables.get("bleaching")
        if table is None:
            self.bleaching_plot.set_curves("No time series: no bleaching measured.", [], "", "")
            return
        x_name = "time_s" if "time_s" in table.columns else "frame"
        x = table[x_name].to_numpy(float)
        self.bleaching_plot.set_curves(
            "Signal above background per frame, and the fitted decay",
            [
                ("measured", "#4da3ff", x, table["signal"].to_numpy(float)),
                ("A·exp(−k·frame)", "#ff7f0e", x, table["fit"].to_numpy(float)),
            ],
            "time (s)" if x_name == "time_s" else "frame",
            "signal (counts)",
            scatter=("measured",),
        )

    def _clear_tables(self) -> None:
        self.checks_table.clear()
        self.table.clear()
        self.bleaching_plot.clear()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, the tables as CSV and report.html, as the command line does; never
        overwrites silently."""
        return export_from_widget(self, folder, self._layer)


def clipping_spec(
    plane: np.ndarray,
    bit_depth: int,
    n_planes: int | None,
    z: int | None,
    scale: tuple[float, ...],
    translate: tuple[float, ...],
) -> LayerSpec:
    """The saturated (1) and zero-clipped (2) pixels of the checked plane as a Labels layer over the
    image (for a stack: the checked plane, the others empty)."""
    from napari.utils.colormaps import DirectLabelColormap

    a = np.asarray(plane)
    labels2d = np.zeros(a.shape, np.uint8)
    labels2d[a >= 2.0**bit_depth - 1] = 1
    labels2d[a <= 0] = 2
    if n_planes is not None and z is not None:
        labels = np.zeros((n_planes, *a.shape), np.uint8)
        labels[z] = labels2d
    else:
        labels = labels2d
    colours: dict[Any, Any] = {None: "transparent", 0: "transparent", **CLIP_COLOURS}
    n = labels.ndim
    return LayerSpec(
        "clipping",
        "labels",
        "image quality: saturated (red), zero-clipped (blue) pixels",
        labels,
        update={"scale": tuple(scale[-n:]), "translate": tuple(translate[-n:]), "features": _features()},
        style={"colormap": DirectLabelColormap(color_dict=colours), "opacity": 0.9},
    )


def _features() -> pd.DataFrame:
    return pd.DataFrame({"index": [0, 1, 2], "pixel": ["", "saturated", "zero-clipped"]})


def _fmt(value: float | None, digits: str = ".3g") -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, digits)


def _summary_html(result: ImageQualityResult) -> str:
    m = {x.name: x.value for x in result.metrics}
    rating = m.get("quality_rating")
    text = (
        f"Quality rating <b>{_fmt(rating, '.0f')} %</b> (weighted share of the checks passed)<br>"
        f"Saturated {_fmt(m.get('saturated_percent'))} % of {result.bit_depth} bits · zero-clipped "
        f"{_fmt(m.get('zero_clipped_percent'))} % · dynamic range used {_fmt(m.get('dynamic_range_used_percent'))} %<br>"
        f"Noise SD {_fmt(m.get('noise_sd_counts'))} counts · SNR {_fmt(m.get('snr'))} · CNR {_fmt(m.get('cnr'))} · "
        f"focus (high-frequency share) {_fmt(m.get('focus_high_frequency_share'))}"
    )
    regions = result.settings.get("snr_regions")
    if regions is not None:
        text += f"<br>SNR regions: {html.escape(str(regions.value), quote=False)}"
    if "pixel_over_nyquist" in m:
        text += f"<br>Pixel / Nyquist pixel {_fmt(m['pixel_over_nyquist'])}"
    if "signal_mean_e" in m:
        text += (
            f"<br>Signal {_fmt(m['signal_mean_e'])} e⁻ (background {_fmt(m['background_mean_e'])} e⁻) · noise "
            f"{_fmt(m['signal_noise_e'])} e⁻ = {_fmt(m['noise_over_shot_noise'])} × the shot-noise limit "
            f"{_fmt(m['shot_noise_e'])} e⁻"
        )
    if "bleached_percent" in m:
        half = m.get("bleaching_half_life_frames")
        text += f"<br>Bleaching: {_fmt(m['bleached_percent'])} % lost over the series"
        if half is not None:
            text += f" · half-life {_fmt(half)} frames"
            if "bleaching_half_life_s" in m:
                text += f" ({_fmt(m['bleaching_half_life_s'])} s)"
    verdicts = verdict_lines("image-quality", result.verdicts)
    if verdicts:
        text += "<br>" + verdicts
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

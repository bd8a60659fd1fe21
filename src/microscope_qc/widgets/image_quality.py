"""Image quality dock widget (Layers ▸ Measure ▸ Image quality, QUAREP WG10).

The input is one image layer (a stack: its middle plane, as the command line does). The analysis
is the one the command line runs. The saturated and zero-clipped pixels are drawn over the image as
a Labels layer (1 saturated, red; 2 zero-clipped, blue); the dock shows the checks with their
limits and weights, and the rating in the summary.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from magicgui.widgets import ComboBox, Container, LineEdit
from qtpy.QtWidgets import QPushButton, QWidget

from microscope_qc.analysis.image_quality import ImageQualityResult, ImageQualitySettings
from microscope_qc.measurements.image_quality import IMAGE_QUALITY
from microscope_qc.widgets._base import MeasurementDock
from microscope_qc.widgets._common import (
    METRIC_COLUMNS,
    METRIC_HEADERS,
    export_from_widget,
    metrics_frame,
    parse_optional_float,
    user_message,
    verdict_lines,
)
from microscope_qc.widgets._layers import LayerSpec, image_layers, layer_key, prebuild
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable

if TYPE_CHECKING:
    import napari

__all__ = ["ImageQualityWidget", "clipping_spec", "CLIP_COLOURS"]

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
        self.layer_combo.tooltip = "(Y, X) raw counts; a stack: its middle plane."
        self.pixel = LineEdit(label="pixel size (µm)")
        self.pixel.tooltip = "For the sampling check (with 'Nyquist pixel (µm)'); optional."
        self.nyquist = LineEdit(label="Nyquist pixel (µm)")
        self.nyquist.tooltip = "The Nyquist pixel size of the optics (optional): the sampling check."
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
        self.form = Container(widgets=[self.layer_combo, self.pixel, self.nyquist, *self.analysis.widgets])
        self.run_button = QPushButton("Measure")
        self.checks_table = ResultsTable()
        self.table = ResultsTable()
        self._build(
            [self.form.native, self.analysis.more_panel],
            [self.run_button],
            [("Checks", self.checks_table), ("Metrics", self.table)],
        )
        self.run_button.clicked.connect(self.measure)
        self.layer_combo.changed.connect(self._layer_changed)
        self._watch_layers(self._refresh_layers)
        self._layer_changed()

    # ------------------------------------------------------------------ inputs
    def _layers(self, *_: Any) -> list:
        return image_layers(self.viewer, min_ndim=2)

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.value
        self.layer_combo.reset_choices()
        choices = self._layers()
        if layer_key(current) not in {layer_key(c) for c in choices}:
            self.layer_combo.value = choices[0] if choices else None

    def _layer_changed(self, *_: Any) -> None:
        layer = self.layer_combo.value
        if layer is None:
            return
        if self.result is not None and layer_key(layer) != layer_key(self._layer):
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
        if float(layer.scale[-1]) != 1.0:
            self.pixel.value = f"{float(layer.scale[-1]):g}"
        self.say(f"'{layer.name}': {layer.data.shape[-2]} × {layer.data.shape[-1]} px. Measure.")

    def settings(self) -> ImageQualitySettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return ImageQualitySettings(**self.analysis.values())

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Run the checks in the background."""
        if self.busy:
            return
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick the 'image' first.")
            return
        if getattr(layer, "rgb", False) or layer.ndim > 3:
            self.error(
                f"'image' '{layer.name}' is {'RGB' if layer.rgb else f'{layer.ndim}D'}: give one (Y, X) plane."
            )
            return
        try:
            settings = self.settings()
            values = {}
            for name, field in (("pixel size (µm)", self.pixel), ("Nyquist pixel (µm)", self.nyquist)):
                v = parse_optional_float(field.value, name)
                if v is not None and not v > 0:
                    raise ValueError(f"'{name}' must be a positive number; '{field.value}' is not.")
                values[name] = v
        except ValueError as exc:
            self.error(user_message(exc, self.field_names))
            return
        data = np.asarray(layer.data)
        z = data.shape[0] // 2 if data.ndim == 3 else None
        plane = data[z] if z is not None else data
        scale, translate = tuple(layer.scale), tuple(layer.translate)
        existing = self.layers.roles()
        analyze = self.measurement.analyze
        pixel, nyquist = values["pixel size (µm)"], values["Nyquist pixel (µm)"]

        def work(progress, cancel):
            result = analyze(plane, settings, pixel_size_um=pixel, nyquist_um=nyquist, progress=progress)
            if z is not None:
                result.warnings.append(f"Plane {z} of {data.shape[0]} checked (the middle of the stack).")
            if nyquist is None:
                result.warnings.append(
                    "No sampling check: give the 'pixel size (µm)' and the 'Nyquist pixel (µm)'."
                )
            specs = [
                clipping_spec(
                    plane, result.bit_depth, data.shape[0] if z is not None else None, z, scale, translate
                )
            ]
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
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        self.export_button.setEnabled(True)
        self.say("Done. Saturated (red) and zero-clipped (blue) pixels are over the image; Export… to save.")

    def _clear_tables(self) -> None:
        self.checks_table.clear()
        self.table.clear()

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
    if "pixel_over_nyquist" in m:
        text += f"<br>Pixel / Nyquist pixel {_fmt(m['pixel_over_nyquist'])}"
    verdicts = verdict_lines("image-quality", result.verdicts)
    if verdicts:
        text += "<br>" + verdicts
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

"""Axial resolution from a mirror dock widget (Layers ▸ Measure ▸ Axial resolution from a mirror).

The input is an XZ image layer of a mirror's reflection (rows are z planes; the layer's scale
gives the z step and the x pixel size) or a (Z, Y, X) stack, averaged over y. The region analysed
is the first rectangle of a Shapes layer ('ROI'), or the whole image. The analysis is the one the
command line runs. Each column band's FWHM is drawn over the image as two bars at its half-maximum
edges; the dock plots the ROI-averaged profile with its Gaussian fit (MetroloJ's number).
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, LineEdit
from qtpy.QtWidgets import QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.mirror import MirrorResult, MirrorSettings
from microscope_qc.measurements.mirror import MIRROR
from microscope_qc.report.numbers import with_uncertainty
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
from microscope_qc.widgets._layers import image_layers, layer_key, prebuild, tag_of
from microscope_qc.widgets._mirror_layers import mirror_specs, profile_plot
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import LinePlot

if TYPE_CHECKING:
    import napari

__all__ = ["MirrorWidget", "roi_from_shapes"]

BAND_COLUMNS = [
    "band",
    "x_start_px",
    "x_end_px",
    "x_um",
    "fwhm_um",
    "fwhm_se_um",
    "centre_um",
    "r2",
    "status",
]


class MirrorWidget(MeasurementDock):
    """Measure the axial FWHM of a mirror's reflection in an XZ image (MetroloJ), per column band too."""

    measurement = MIRROR
    field_names = {
        "overwrite": "answer Yes to replace them",
        "history": "the 'history' field",
        "voxel_size_um": "the 'z step (µm)' field",
    }

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer,
            parent,
            "Pick the XZ image of the mirror in 'XZ image' (optionally a rectangle in 'ROI'), then Measure.",
        )
        self.result: MirrorResult | None = None
        self._layer = None
        self.layer_combo = ComboBox(label="XZ image", choices=self._layers, nullable=True)
        self.layer_combo.tooltip = "(Z, X): rows are z planes; or (Z, Y, X), averaged over y."
        self.roi_combo = ComboBox(label="ROI", choices=self._shapes, nullable=True)
        self.roi_combo.tooltip = (
            "A Shapes layer: its first rectangle is the region analysed. Empty: the whole image."
        )
        self.z_step = LineEdit(label="z step (µm)")
        self.z_step.tooltip = "Plane spacing (the layer's scale along z)."
        self.x_step = LineEdit(label="pixel x (µm)")
        self.x_step.tooltip = "Pixel size along x (band positions and the tilt); empty: in pixels, no tilt."
        self.wavelength = LineEdit(label="wavelength (nm)")
        self.wavelength.tooltip = "Illumination wavelength, for the theoretical axial FWHM (optional)."
        self.na = LineEdit(label="NA")
        self.immersion = LineEdit(label="immersion index")
        self.analysis = SettingsForm(MirrorSettings, ["band_px", "min_r2", "tolerance_um"])
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.form = Container(
            widgets=[
                self.layer_combo,
                self.roi_combo,
                self.z_step,
                self.x_step,
                self.wavelength,
                self.na,
                self.immersion,
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
        self.bands_table = ResultsTable()
        self._build(
            [self.form.native, self.analysis.more_panel],
            [self.run_button],
            [("Profile", scrolling(plots)), ("Metrics", self.table), ("Bands", self.bands_table)],
        )
        self.run_button.clicked.connect(self.measure)
        self.layer_combo.changed.connect(self._layer_changed)
        self._watch_layers(self._refresh_layers)
        self._layer_changed()

    # ------------------------------------------------------------------ inputs
    def _layers(self, *_: Any) -> list:
        return image_layers(self.viewer, min_ndim=2)

    def _shapes(self, *_: Any) -> list:
        import napari

        return [
            lyr for lyr in self.viewer.layers if isinstance(lyr, napari.layers.Shapes) and tag_of(lyr) is None
        ]

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_combo.value
        self.layer_combo.reset_choices()
        self.roi_combo.reset_choices()
        choices = self._layers()
        if layer_key(current) not in {layer_key(c) for c in choices}:
            self.layer_combo.value = choices[0] if choices else None

    def _layer_changed(self, *_: Any) -> None:
        """Fill the z step and the pixel size from the layer's scale, the optics from the file's metadata."""
        layer = self.layer_combo.value
        if layer is None:
            return
        if self.result is not None and layer_key(layer) != layer_key(self._layer):
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
        scale = [float(s) for s in layer.scale]
        if not all(s == 1.0 for s in scale):
            self.z_step.value = f"{scale[0]:g}"
            self.x_step.value = f"{scale[-1]:g}"
        optics = optics_of(layer)  # the file's optics fill the empty fields
        wavelength = optics["wavelength_ex_nm"] or optics["wavelength_em_nm"]
        for field, value in (
            (self.wavelength, wavelength),
            (self.na, optics["na"]),
            (self.immersion, optics["immersion_index"]),
        ):
            if value and not field.value:
                field.value = f"{float(value):g}"
        self.say(f"'{layer.name}': {layer.data.shape[0]} z planes × {layer.data.shape[-1]} columns. Measure.")

    def settings(self) -> MirrorSettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return MirrorSettings(**self.analysis.values())

    def _positive(self, field: LineEdit, label: str, required: bool = False) -> float | None:
        value = parse_optional_float(field.value, label)
        if value is None and required:
            raise ValueError(f"'{label}' is empty: give it (the layer's scale did not say).")
        if value is not None and not value > 0:
            raise ValueError(f"'{label}' must be a positive number; '{field.value}' is not.")
        return value

    def _roi(self, layer) -> tuple[int, int, int, int] | None:
        shapes = self.roi_combo.value
        if shapes is None:
            return None
        rects = [d for d, t in zip(shapes.data, shapes.shape_type, strict=True) if t == "rectangle"]
        if not rects:
            raise ValueError(
                f"'ROI' layer '{shapes.name}' has no rectangle: draw one, or empty the 'ROI' field."
            )
        return roi_from_shapes(rects[0], shapes, layer)

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Fit the mirror's axial profile in the background."""
        if self.busy:
            return
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick the 'XZ image' first.")
            return
        if layer.ndim > 3:
            self.error(
                f"'XZ image' '{layer.name}' has {layer.ndim} axes: give (Z, X) or (Z, Y, X), one channel."
            )
            return
        try:
            settings = self.settings()
            z_step = self._positive(self.z_step, "z step (µm)", required=True)
            x_step = self._positive(self.x_step, "pixel x (µm)")
            wavelength = self._positive(self.wavelength, "wavelength (nm)")
            na = self._positive(self.na, "NA")
            immersion = self._positive(self.immersion, "immersion index")
            roi = self._roi(layer)
        except ValueError as exc:
            self.error(user_message(exc, self.field_names))
            return
        data = np.asarray(layer.data)
        scale, translate = tuple(layer.scale), tuple(layer.translate)
        existing = self.layers.roles()
        analyze = self.measurement.analyze
        name = layer.name
        assert z_step is not None

        def work(progress, cancel):
            result = analyze(
                data, settings, z_step_um=z_step, x_step_um=x_step, roi=roi, wavelength_nm=wavelength,
                na=na, immersion_index=immersion, progress=progress, cancel=cancel,
            )  # fmt: skip
            from microscope_qc.instrument import Setting, Source

            result.settings["z_step_um"] = Setting(
                float(z_step), "um", Source.USER, f"the z step: the 'z step (µm)' field (layer '{name}')"
            )
            specs = mirror_specs(result, z_step, data.ndim, scale, translate)
            prebuild(specs, existing)
            return result, specs, profile_plot(result)

        self._layer = layer
        self._start(work, "Fitting the mirror's axial profile…")

    def _on_done(self, value: Any) -> None:
        result, specs, plot = value
        super()._on_done(result)
        self.summary.setText(_summary_html(result))
        self.drawing.run(**self.layers.plan(specs, self._layer), done=lambda: self._drawn(result, plot))

    def _drawn(self, result: MirrorResult, plot: tuple) -> None:
        title, curves, xl, yl, options = plot
        self.plot.set_curves(title, curves, xl, yl, **options)
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        self.bands_table.set_frame(result.bands, [c for c in BAND_COLUMNS if c in result.bands.columns])
        self.export_button.setEnabled(True)
        self.say("Done. The band FWHMs are drawn over the image ('mirror band FWHM'); Export… to save.")

    def _clear_tables(self) -> None:
        self.table.clear()
        self.bands_table.clear()
        self.plot.clear()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, the tables as CSV and report.html, as the command line does; never
        overwrites silently."""
        return export_from_widget(self, folder, self._layer)


def roi_from_shapes(rect: Any, shapes: Any, image: Any) -> tuple[int, int, int, int]:
    """A rectangle of a Shapes layer as the (x0, z0, width, height) pixel ROI of the image (the
    bounding box of its last two axes, through world coordinates, its edges rounded to whole pixels,
    clipped to the image)."""
    pts = np.asarray(rect, float)[:, -2:]
    s_scale, s_translate = np.asarray(shapes.scale, float)[-2:], np.asarray(shapes.translate, float)[-2:]
    i_scale, i_translate = (
        np.asarray(image.scale, float)[[0, -1]],
        np.asarray(image.translate, float)[[0, -1]],
    )
    px = (pts * s_scale + s_translate - i_translate) / i_scale
    nz, nx = image.data.shape[0], image.data.shape[-1]
    z0, x0 = (max(round(float(v)), 0) for v in px.min(axis=0))
    z1, x1 = min(round(float(px[:, 0].max())), nz), min(round(float(px[:, 1].max())), nx)
    return x0, z0, max(x1 - x0, 0), max(z1 - z0, 0)


def _fmt(value: float | None, digits: str = ".3g") -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, digits)


def _summary_html(result: MirrorResult) -> str:
    m = {x.name: x for x in result.metrics}

    def v(name: str) -> float | None:
        return m[name].value if name in m else None

    f = m["fwhm_z_um"]
    text = (
        f"Axial FWHM (ROI average, MetroloJ) <b>{with_uncertainty(f.value, f.uncertainty, '.3g')} µm</b> "
        f"(R² {_fmt(v('fit_r2'), '.4f')})<br>"
        f"Column bands: {int(v('n_bands_ok') or 0)} of {int(v('n_bands') or 0)} fitted well · median "
        f"<b>{_fmt(v('band_fwhm_median_um'))} µm</b> (range {_fmt(v('band_fwhm_min_um'))}–"
        f"{_fmt(v('band_fwhm_max_um'))}) · CV {_fmt(v('band_fwhm_cv_percent'))} % · tilt {_fmt(v('tilt_deg'))}°"
    )
    if "theory_fwhm_z_um" in m:
        text += f"<br>Theory {_fmt(v('theory_fwhm_z_um'))} µm · ratio {_fmt(v('ratio_to_theory'))}"
    verdicts = verdict_lines("mirror", result.verdicts)
    if verdicts:
        text += "<br>" + verdicts
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

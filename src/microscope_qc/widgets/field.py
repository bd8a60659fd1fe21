"""Field illumination dock widget (Layers ▸ Measure ▸ Field illumination / flatness).

Changing σ, the step or the model re-runs the analysis in a worker after a short pause
(debounced), so the overlays follow the controls live without ever blocking the viewer.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from napari.utils.colormaps import DirectLabelColormap
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QPushButton, QTableWidget, QWidget

from microscope_qc.analysis.field import FieldResult, FieldSettings, analyze_field
from microscope_qc.report.field import field_figures, write_flat_field
from microscope_qc.widgets._base import MeasurementDock
from microscope_qc.widgets._common import (
    export_from_widget,
    fill_metrics_table,
    set_layer,
)

if TYPE_CHECKING:
    import napari

#: comparison signs as text that rich-text labels do not mistake for tags
_SYMBOL = {"<=": "≤", ">=": "≥"}

__all__ = ["FieldWidget"]

CENTRE_COLOURS = {
    "image centre": "white",
    "reference zone centroid": "orange",
    "fitted illumination centre": "cyan",
    "centre of intensity": "magenta",
    "maximum": "yellow",
}


def _iso_colormap(step: float) -> DirectLabelColormap:
    """Label k + 1 ↔ class k·step %, coloured from dark blue (0 %) to dark red (100 %)."""
    from matplotlib import colormaps

    n = int(round(100 / step)) + 1
    turbo = colormaps["turbo"]
    colours = {k + 1: turbo(k / max(n - 1, 1)) for k in range(n)}
    colours[None] = (0, 0, 0, 0)
    colours[0] = (0, 0, 0, 0)
    return DirectLabelColormap(color_dict=colours)


class FieldWidget(MeasurementDock):
    """Measure flatness of a fluorescent-slide image, with live overlays."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(napari_viewer, parent, "Pick the image of a homogeneous fluorescent slide.")
        self.result: FieldResult | None = None
        self._layer = None
        self._rerun = False

        self.layer_combo = ComboBox(label="flat image", choices=self._image_layers, nullable=True)
        self.dark_combo = ComboBox(label="dark image", choices=self._image_layers, nullable=True, value=None)
        self.blur = CheckBox(text="Gaussian blur (MetroloJ_QC)", value=True)
        self.sigma = FloatSpinBox(label="blur σ (px)", value=2.0, min=0.0, max=50.0, step=0.5)
        self.step = FloatSpinBox(label="iso step (%)", value=10.0, min=1.0, max=50.0, step=1.0)
        self.model = ComboBox(
            label="illumination model", choices=["gaussian", "poly2", "poly4"], value="gaussian"
        )
        self.tolerance_u = FloatSpinBox(label="pass if U ≥ (%)", value=50.0, min=0.0, max=100.0)
        self.tolerance_ca = FloatSpinBox(label="pass if CA ≥ (%)", value=50.0, min=0.0, max=100.0)
        self.live = CheckBox(text="update live", value=True)
        self.write_flat = CheckBox(text="export also flat_field.tif", value=False)
        self.form = Container(
            widgets=[
                self.layer_combo,
                self.dark_combo,
                self.blur,
                self.sigma,
                self.step,
                self.model,
                self.tolerance_u,
                self.tolerance_ca,
                self.live,
                self.write_flat,
            ]
        )
        self.run_button = QPushButton("Measure")
        self.figure = Figure(figsize=(4, 2.4), tight_layout=True)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(200)
        self.table = QTableWidget(0, 5)
        self._build([self.form.native], [self.run_button], [self.canvas, self.table])

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.measure)
        self.run_button.clicked.connect(self.measure)
        for w in (self.blur, self.sigma, self.step, self.model, self.tolerance_u, self.tolerance_ca):
            w.changed.connect(self._schedule)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ inputs
    def _image_layers(self, *_: Any) -> list:
        return [
            lyr
            for lyr in self.viewer.layers
            if type(lyr).__name__ == "Image" and not lyr.name.startswith("field ") and lyr.ndim >= 2
        ]

    def _refresh_layers(self, *_: Any) -> None:
        current, dark = self.layer_combo.value, self.dark_combo.value
        self.layer_combo.reset_choices()
        self.dark_combo.reset_choices()
        choices = self._image_layers()
        if current not in choices:
            flats = [lyr for lyr in choices if "dark" not in lyr.name.lower()]
            self.layer_combo.value = flats[0] if flats else None
        if dark not in choices:
            darks = [lyr for lyr in choices if "dark" in lyr.name.lower()]
            self.dark_combo.value = darks[0] if darks else None

    def settings(self) -> FieldSettings:
        return FieldSettings(
            blur=bool(self.blur.value),
            sigma_px=float(self.sigma.value),
            step_percent=float(self.step.value),
            model=str(self.model.value),
            tolerance_uniformity_percent=float(self.tolerance_u.value),
            tolerance_centering_percent=float(self.tolerance_ca.value),
        )

    def _schedule(self, *_: Any) -> None:
        if self.live.value and self.result is not None:
            self._debounce.start()

    # ------------------------------------------------------------------ run
    def measure(self) -> None:
        """Analyse in the background (or, if a run is in progress, once more when it ends)."""
        layer = self.layer_combo.value
        if layer is None:
            self.status.setText("Pick the flat-field image layer first.")
            return
        if self.task.running:
            self._rerun = True
            return
        settings = self.settings()
        data = np.asarray(layer.data)
        dark_layer = self.dark_combo.value
        dark = np.asarray(dark_layer.data) if dark_layer is not None and dark_layer is not layer else None

        def work(progress, cancel):
            return analyze_field(
                data, settings, dark=dark, channel_names=[layer.name], progress=progress, cancel=cancel
            )

        self._layer = layer
        self._start(work, "Measuring…")

    def _on_finished(self) -> None:
        super()._on_finished()
        if self._rerun:  # the controls changed while the last run was busy
            self._rerun = False
            self.measure()

    def _on_done(self, result: FieldResult) -> None:
        super()._on_done(result)
        self._show(result)
        self.export_button.setEnabled(True)
        self.status.setText("Done. Change σ, step or model to update; Export… to save.")

    # ------------------------------------------------------------------ overlays
    def _show(self, result: FieldResult) -> None:
        layer = self._layer
        scale, translate = np.asarray(layer.scale[-2:]), np.asarray(layer.translate[-2:])
        chan = result.channels[0]
        step = self.settings().step_percent
        labels = (chan.iso_map.astype(np.int32) // int(round(step)) + 1).astype(np.int32)
        geo = {"scale": scale, "translate": translate}
        set_layer(
            self.viewer,
            "field iso-intensity",
            labels,
            "labels",
            opacity=0.45,
            colormap=_iso_colormap(step),
            **geo,
        )
        zone = set_layer(
            self.viewer, "field reference zone", chan.reference_zone.astype(np.int32), "labels", **geo
        )
        zone.contour = 2
        set_layer(self.viewer, "field model", chan.model, "image", colormap="viridis", visible=False, **geo)
        lim = float(np.percentile(np.abs(chan.residual), 99.5)) or 0.01
        set_layer(
            self.viewer,
            "field residual",
            chan.residual,
            "image",
            colormap="PiYG",
            contrast_limits=(-lim, lim),
            visible=False,
            **geo,
        )
        names = list(chan.centres)
        pts = np.array([chan.centres[n] for n in names], dtype=float)
        set_layer(
            self.viewer,
            "field centres",
            pts,
            "points",
            features={"name": names},
            face_color=[CENTRE_COLOURS.get(n, "white") for n in names],
            size=max(layer.data.shape[-2:]) / 60,
            text={"string": "{name}", "size": 9, "color": "white", "anchor": "upper_left"},
            **geo,
        )
        lines = [np.array([p["start"], p["end"]]) for p in chan.profiles.values()]
        set_layer(
            self.viewer,
            "field profiles",
            lines,
            "shapes",
            shape_type="line",
            edge_color="cyan",
            edge_width=max(layer.data.shape[-2:]) / 300,
            **geo,
        )
        self._plot_profiles(chan)
        fill_metrics_table(self.table, result)
        self.summary.setText(_summary_html(result))
        self.viewer.layers.selection.active = layer

    def _plot_profiles(self, chan) -> None:
        self.figure.clear()
        ax = self.figure.add_subplot()
        for name, p in chan.profiles.items():
            x = p["distance_px"] / max(p["distance_px"][-1], 1)
            ax.plot(x, p["blurred"] / chan.blurred.max(), label=name.replace("_", " "), lw=1)
        ax.set_xlabel("position along profile (fraction)")
        ax.set_ylabel("intensity / max")
        ax.legend(fontsize=6)
        self.canvas.draw_idle()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, profiles.csv, report.html (and flat_field.tif if ticked); never overwrites silently."""

        def extra(result, folder: Path):
            if not self.write_flat.value:
                return {}
            return {
                "flat_field": (
                    folder / "flat_field.tif",
                    lambda path, ow: write_flat_field(result, path, overwrite=ow),
                )
            }

        title = f"Field illumination: {self._layer.name if self._layer else ''}"
        return export_from_widget(self, folder, self._layer, field_figures, title, extra)


def _summary_html(result: FieldResult) -> str:
    def m(name: str) -> float:
        return result.metric(name).value

    verdicts = "<br>".join(
        f"<span style='color:{'#3c3' if v.passed else '#f55'}'>{'PASS' if v.passed else 'FAIL'}: {v.metric} "
        f"{v.value:.3g} (limit {_SYMBOL[v.comparison]} {v.threshold:g})</span>"
        for v in result.verdicts
    )
    centre = result.metric("illumination_centre_offset_percent")
    text = (
        f"U <b>{m('uniformity_percent'):.1f} %</b> · FU <b>{m('field_uniformity_percent'):.1f} %</b> · "
        f"CA <b>{m('centering_accuracy_percent'):.1f} %</b><br>illumination centre off by "
        f"<b>{centre.value:.1f} ± {centre.uncertainty:.2g} %</b> of the half diagonal · corner fall-off "
        f"<b>{m('corner_falloff_percent'):.1f} %</b> · {int(m('defect_count'))} dust/defects · CV after "
        f"correction {m('residual_cv_percent'):.2f} %<br>{verdicts}"
    )
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

"""Field illumination dock widget (Layers ▸ Measure ▸ Field illumination / flatness).

Changing σ, the step or the model re-runs the analysis in a worker at once (a change made while a
run is busy queues one more run, with the latest values); a drawn region or another dark image
re-runs it after a short pause. The overlays follow the controls live without blocking the
viewer: they are built in the worker and updated in place, keeping the user's display choices.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from microscope_qc.analysis.field import FieldResult, FieldSettings, StepIndependentCache, analyze_field
from microscope_qc.analysis.masks import describe_shapes, mask_from_shapes, polygon_from_shape
from microscope_qc.measurements.field import FIELD
from microscope_qc.report.field import write_flat_field
from microscope_qc.widgets._base import MeasurementDock, scrolling
from microscope_qc.widgets._common import (
    METRIC_COLUMNS,
    METRIC_HEADERS,
    export_from_widget,
    metrics_frame,
    user_message,
    verdict_lines,
)
from microscope_qc.widgets._field_layers import (
    ROI_ROLES,
    field_specs,
    legend_html,
    profile_curves,
    roi_spec,
)
from microscope_qc.widgets._layers import image_layers, layer_key, prebuild, same_layer
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable
from microscope_qc.widgets._views import ColourScale, LinePlot

if TYPE_CHECKING:
    import napari

__all__ = ["FieldWidget"]


class FieldWidget(MeasurementDock):
    """Measure flatness of a fluorescent-slide image, with live overlays."""

    measurement = FIELD
    field_names = {"overwrite": "answer Yes to replace them", "history": "the 'history' field"}

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer, parent, "Pick the image of a homogeneous fluorescent slide in 'flat image'."
        )
        self.result: FieldResult | None = None
        self._layer = None
        self._image_key = None
        self._rerun = False
        # 'update live' re-analyses the same image: what another step does not change is kept
        self._reuse = StepIndependentCache()
        self._refusing_dark = False

        self.layer_combo = ComboBox(label="flat image", choices=self._image_layers, nullable=True)
        self.dark_combo = ComboBox(label="dark image", choices=self._image_layers, nullable=True, value=None)
        self.analysis = SettingsForm(
            FieldSettings,
            [
                "blur",
                "sigma_px",
                "step_percent",
                "model",
                "tolerance_uniformity_percent",
                "tolerance_centering_percent",
            ],
        )
        # the main fields as attributes too, under the names scripts and tests know
        self.blur, self.sigma, self.step = (self.analysis[n] for n in ("blur", "sigma_px", "step_percent"))
        self.model = self.analysis["model"]
        self.tolerance_u = self.analysis["tolerance_uniformity_percent"]
        self.tolerance_ca = self.analysis["tolerance_centering_percent"]
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.live = CheckBox(text="update live", value=True)
        self.write_flat = CheckBox(text="export also the flat-field correction image", value=False)
        self.write_flat.tooltip = (
            "Writes flat_field.tif beside the results: divide images by it to correct them."
        )
        self.form = Container(
            widgets=[
                self.layer_combo,
                self.dark_combo,
                *self.analysis.widgets,
                self.live,
                self.write_flat,
            ]
        )
        self.include_button = QPushButton("Draw region to analyse")
        self.exclude_button = QPushButton("Draw region to exclude")
        for b, kind in ((self.include_button, "include"), (self.exclude_button, "exclude")):
            b.setToolTip(
                "Adds a shapes layer for this image: draw rectangles or polygons; the analysis follows."
            )
            b.clicked.connect(lambda *_, k=kind: self.draw_region(k))
        roi_row = QWidget()
        roi_layout = QHBoxLayout(roi_row)
        roi_layout.setContentsMargins(0, 0, 0, 0)
        roi_layout.addWidget(self.include_button)
        roi_layout.addWidget(self.exclude_button)
        self.run_button = QPushButton("Measure")
        self.profiles = LinePlot()
        self.table = ResultsTable()
        self.legend = QLabel(legend_html(10.0, True))
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.model_scale, self.residual_scale = ColourScale(), ColourScale()
        legend_tab = QWidget()
        legend_layout = QVBoxLayout(legend_tab)
        for w in (self.legend, self.model_scale, self.residual_scale):
            legend_layout.addWidget(w)
        legend_layout.addStretch(1)
        self._build(
            [self.form.native, self.analysis.more_panel, roi_row],
            [self.run_button],
            [
                ("Metrics", self.table),
                ("Profiles", scrolling(self.profiles)),
                ("Legend", scrolling(legend_tab)),
            ],
        )

        # a settings change runs at once; a region edit or another dark image once they pause for
        # INPUT_PAUSE_MS
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.timeout.connect(self._measure_live)
        self.run_button.clicked.connect(lambda: self.measure())
        for w in self.analysis.all_widgets:
            w.changed.connect(self._schedule)
        self.dark_combo.changed.connect(self._dark_changed)
        self.layer_combo.changed.connect(self._image_changed)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ inputs
    def _image_layers(self, *_: Any) -> list:
        return image_layers(self.viewer)

    @property
    def busy(self) -> bool:
        return super().busy or self._debounce.isActive()

    def _refresh_layers(self, *_: Any) -> None:
        current, dark = self.layer_combo.value, self.dark_combo.value
        self.layer_combo.reset_choices()
        self.dark_combo.reset_choices()
        choices = self._image_layers()
        keys = {layer_key(c) for c in choices}
        if layer_key(current) not in keys:
            flats = [lyr for lyr in choices if "dark" not in lyr.name.lower()]
            self.layer_combo.value = flats[0] if flats else None
        if dark is not None and layer_key(dark) not in keys:
            self.dark_combo.value = None
        if self.layer_combo.value is not None and layer_key(self.layer_combo.value) != self._image_key:
            self._image_changed()

    def _matching_dark(self, flat) -> Any | None:
        """The dark image that goes with ``flat``: same shape, named after it ('X (dark)', 'X_dark')."""
        for lyr in self._image_layers():
            rest = lyr.name.lower().replace(flat.name.lower(), "", 1)
            if (
                rest != lyr.name.lower()
                and re.sub(r"[\W_]+", "", rest) in ("dark", "darkframe", "darkimage")
                and not same_layer(lyr, flat)
                and lyr.data.shape == flat.data.shape
            ):
                return lyr
        return None

    def _image_changed(self, *_: Any) -> None:
        layer = self.layer_combo.value
        if layer_key(layer) == self._image_key:
            return
        first = self._image_key is None
        self._image_key = layer_key(layer)
        self._debounce.stop()
        if layer is None:
            self.say(self.hint)
            return
        # a dark frame belongs to one flat: never carry it over to another image silently
        self.dark_combo.value = self._matching_dark(layer)
        if not first:
            self.clear_result(note=None)
            self.layers.mark_stale(layer)
        dark = self.dark_combo.value
        self.say(
            f"'{layer.name}': dark image "
            + (f"'{dark.name}'" if dark is not None else "none (pick one in 'dark image' if you have it)")
            + ". Measure, or draw a region first."
        )

    def _dark_changed(self, *_: Any) -> None:
        if self._refusing_dark:
            return
        dark, flat = self.dark_combo.value, self.layer_combo.value
        if dark is not None and flat is not None and dark.data.shape != flat.data.shape:
            self._refusing_dark = True
            try:
                self.dark_combo.value = None  # nothing re-runs: the message stays until the user acts
            finally:
                self._refusing_dark = False
            self.error(
                f"'dark image' '{dark.name}' is {dark.data.shape}, the flat image is {flat.data.shape}: "
                "pick a dark image of the same size (or none)."
            )
            return
        self._schedule(delay_ms=self.INPUT_PAUSE_MS)  # a layer change (even the viewer closing) may cause it

    def settings(self) -> FieldSettings:
        """The analysis settings from the form (SettingsError naming the field)."""
        return FieldSettings(**self.analysis.values())

    #: pause after a region edit (a drag sends many edits) or another dark image before the analysis follows
    INPUT_PAUSE_MS = 250

    def _schedule(self, *_: Any, delay_ms: int = 0) -> None:
        """With 'update live' on and a result shown, measure again: now, or after ``delay_ms``
        (restarted by each change); if a run is busy, once more when it ends (with the latest values)."""
        if not (self.live.value and self.result is not None):
            return
        if self.task.running or self.drawing.busy:
            self._rerun = True
        elif delay_ms > 0:
            self._debounce.start(delay_ms)
        else:
            self._debounce.stop()
            self.measure(quiet=True)

    def _region_edited(self, *_: Any) -> None:
        self._schedule(delay_ms=self.INPUT_PAUSE_MS)

    # ------------------------------------------------------------------ regions
    def draw_region(self, kind: str) -> None:
        """Add (or select) the shapes layer for regions to analyse (``include``) or to exclude."""
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick the 'flat image' first: a region belongs to one image.")
            return
        role = ROI_ROLES[kind]
        shapes = self.layers.find(role)
        if shapes is None or not self.layers.is_current(role, layer):
            shapes = self.layers.apply(roi_spec(kind, layer.scale[-2:], layer.translate[-2:]), layer)
            shapes.events.data.connect(self._region_edited)
        self.viewer.layers.selection.active = shapes
        shapes.mode = "add_rectangle"
        self.say(
            f"Draw in '{shapes.name}' (rectangle, or pick the polygon tool); "
            + ("only what lies inside is analysed." if kind == "include" else "what lies inside is left out.")
        )

    def _regions(self, layer) -> tuple[list[tuple], list[tuple]]:
        """Drawn regions of this image as ((y, x) pixel vertices, shape type): (include, exclude)."""
        out: dict[str, list[tuple]] = {"include": [], "exclude": []}
        scale, translate = np.asarray(layer.scale[-2:]), np.asarray(layer.translate[-2:])
        for kind, role in ROI_ROLES.items():
            shapes = self.layers.find(role)
            if shapes is None or not self.layers.is_current(role, layer):
                continue
            s_scale, s_translate = np.asarray(shapes.scale[-2:]), np.asarray(shapes.translate[-2:])
            for poly, shape_type in zip(shapes.data, shapes.shape_type, strict=True):
                world = np.asarray(poly)[:, -2:] * s_scale + s_translate
                out[kind].append(((world - translate) / scale, shape_type))
        return out["include"], out["exclude"]

    # ------------------------------------------------------------------ run
    def _measure_live(self) -> None:
        self.measure(quiet=True)

    def measure(self, quiet: bool = False) -> None:
        """Analyse in the background (or, if a run is in progress, once more when it ends).

        ``quiet``: a live update, which leaves the buttons enabled (a click on Measure during it
        measures once more when it ends).
        """
        layer = self.layer_combo.value
        if layer is None:
            self.error("Pick the 'flat image' first.")
            return
        if self.task.running or self.drawing.busy:
            self._rerun = True
            return
        try:
            settings = self.settings()
        except ValueError as exc:
            self.error(user_message(exc, self.field_names))
            return
        data = np.asarray(layer.data)
        dark_layer = self.dark_combo.value
        dark = (
            np.asarray(dark_layer.data)
            if dark_layer is not None and not same_layer(dark_layer, layer)
            else None
        )
        include, exclude = self._regions(layer)
        scale, translate = tuple(layer.scale[-2:]), tuple(layer.translate[-2:])
        names = [layer.name] if data.ndim == 2 else None
        step = settings.step_percent
        existing = self.layers.roles()
        reuse = self._reuse

        def work(progress, cancel):
            mask, described = None, None
            if include or exclude:
                inc = [polygon_from_shape(v, t) for v, t in include]
                exc = [polygon_from_shape(v, t) for v, t in exclude]
                mask = mask_from_shapes(data.shape[-2:], inc, exc)
                described = f"drawn in napari: {describe_shapes(inc, exc)}"
            result = analyze_field(
                data, settings, dark=dark, mask=mask, channel_names=names, progress=progress,
                cancel=cancel, mask_description=described, reuse=reuse,
            )  # fmt: skip
            specs = field_specs(result, scale, translate, step)
            prebuild(specs, existing)
            return result, specs, profile_curves(result)

        self._layer = layer
        self._start(work, "Measuring…", quiet=quiet)

    def _on_finished(self) -> None:
        super()._on_finished()
        self._maybe_rerun()

    def _maybe_rerun(self) -> None:
        if self._rerun and not self.busy:  # the controls changed while the last run was busy
            self._rerun = False
            self.measure(quiet=True)

    def _on_done(self, value: Any) -> None:
        result, specs, curves = value
        super()._on_done(result)
        layer = self._layer
        self.summary.setText(_summary_html(result))
        # the overlays on the canvas and the numbers in the dock in one turn; hidden layers after
        self.drawing.run(
            **self.layers.plan(specs, layer),
            done=lambda: self._drawn(result, curves),
            finished=self._layers_added,
        )

    def _drawn(self, result: FieldResult, curves: list) -> None:
        chan = result.channels[0]
        self.profiles.set_curves(
            "MetroloJ_QC profiles (blurred image)",
            curves,
            "position along the profile (fraction of its length)",
            "intensity / maximum",
        )
        self.table.set_frame(metrics_frame(result), METRIC_COLUMNS, header=METRIC_HEADERS.get)
        self.legend.setText(legend_html(result.settings["step_percent"].value, chan.model is not None))
        self.export_button.setEnabled(True)
        self.say("Done. Change σ, the step, the model or a region to update; Export… to save.")

    def _layers_added(self) -> None:
        self.model_scale.follow(self.layers.find("model"), "Illumination model (counts)")
        self.residual_scale.follow(self.layers.find("residual"), "Residual: image / model − 1")
        active = self.viewer.layers.selection.active
        if self._layer is not None and (active is None or not same_layer(active, self._layer)):
            self.viewer.layers.selection.active = self._layer
        self._maybe_rerun()

    def _clear_tables(self) -> None:
        self.table.clear()
        self.profiles.clear()
        self.model_scale.follow(None, "")
        self.residual_scale.follow(None, "")

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

        return export_from_widget(self, folder, self._layer, extra)


def _summary_html(result: FieldResult) -> str:
    def m(name: str) -> float:
        return result.metric(name).value

    centre = result.metric("illumination_centre_offset_percent")
    unc = (
        ""
        if centre.uncertainty is None or not np.isfinite(centre.uncertainty)
        else f" ± {centre.uncertainty:.2g}"
    )
    text = (
        f"Uniformity U <b>{m('uniformity_percent'):.1f} %</b> · field uniformity FU "
        f"<b>{m('field_uniformity_percent'):.1f} %</b> · centring accuracy CA "
        f"<b>{m('centering_accuracy_percent'):.1f} %</b><br>illumination centre off by "
        f"<b>{centre.value:.1f}{unc} %</b> of the half diagonal · corner fall-off "
        f"<b>{m('corner_falloff_percent'):.1f} %</b> · {int(m('defect_count'))} dust/defects · CV after "
        f"correction {m('residual_cv_percent'):.2f} %<br>{verdict_lines('field', result.verdicts)}"
    )
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

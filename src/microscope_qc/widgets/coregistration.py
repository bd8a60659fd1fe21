"""Chromatic co-registration dock widget (Layers ▸ Measure ▸ Chromatic co-registration).

Pick one multichannel layer (C, Z, Y, X) / (C, Y, X) or one layer per channel; *Measure* localises
and matches the beads in a worker; the shifts appear as exaggerated vectors (and the residuals
after the registration model); *Apply correction* resamples the other channels onto the reference.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, LineEdit, Select, SpinBox
from qtpy.QtWidgets import (
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from microscope_qc.analysis.coregistration import (
    CoregistrationResult,
    CoregistrationSettings,
    analyze_coregistration,
    correct_image,
)
from microscope_qc.report.coregistration import coregistration_figures, write_models
from microscope_qc.widgets._base import MeasurementDock
from microscope_qc.widgets._common import (
    export_from_widget,
    parse_optional_float,
    set_layer,
)
from microscope_qc.widgets._microscope_form import MicroscopeForm

if TYPE_CHECKING:
    import napari

__all__ = ["CoregistrationWidget"]

CHANNEL_COLOURS = ["lime", "magenta", "cyan", "yellow", "orange"]
PAIR_COLUMNS = [
    "channel_ref", "channel_moving", "n_matched", "shift_x_um", "shift_y_um", "shift_z_um",
    "shift_x_se_um", "distance_3d_um", "ratio", "model", "magnification_percent", "rotation_deg",
]  # fmt: skip


class CoregistrationWidget(MeasurementDock):
    """Measure and correct chromatic shifts from multi-colour beads."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(napari_viewer, parent, "Pick a multichannel bead image, or one layer per channel.")
        self.result: CoregistrationResult | None = None
        self._layers: list = []
        self._voxel = (1.0, 1.0, 1.0)
        self._pending = ""

        self.layers_select = Select(label="image(s)", choices=self._image_layers)
        self.microscope = MicroscopeForm()
        self.reference = SpinBox(label="reference channel", value=0, min=0, max=16)
        self.gate = LineEdit(label="match gate (µm)", value="")
        self.model = ComboBox(label="model", choices=["auto", "translation", "affine", "poly2"], value="auto")
        self.tolerance = FloatSpinBox(label="pass if ratio ≤", value=1.0, min=0.01, max=10.0, step=0.1)
        self.single_bead = CheckBox(text="one large bead (MetroloJ_QC co-alignment)", value=False)
        self.exaggeration = FloatSpinBox(
            label="vector exaggeration ×", value=50.0, min=1.0, max=10000.0, step=10.0
        )
        self.form = Container(
            widgets=[
                self.layers_select,
                *self.microscope.widgets,
                self.reference,
                self.gate,
                self.model,
                self.tolerance,
                self.single_bead,
                self.exaggeration,
            ]
        )
        self.run_button = QPushButton("Measure")
        self.correct_button = QPushButton("Apply correction")
        self.table = QTableWidget(0, len(PAIR_COLUMNS))
        self.table.setHorizontalHeaderLabels(PAIR_COLUMNS)
        self._build(
            [self.form.native, self.microscope.sources_label],
            [self.run_button, self.correct_button],
            [self.table],
        )
        self.correct_button.setEnabled(False)
        self.run_button.clicked.connect(self.measure)
        self.correct_button.clicked.connect(self.apply_correction)
        self.layers_select.changed.connect(self._prefill)
        self.exaggeration.changed.connect(self._draw_vectors)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ inputs
    def _image_layers(self, *_: Any) -> list:
        return [
            lyr
            for lyr in self.viewer.layers
            if type(lyr).__name__ == "Image" and not lyr.name.startswith("corrected ")
        ]

    def _refresh_layers(self, *_: Any) -> None:
        current = [lyr for lyr in (self.layers_select.value or []) if lyr in self._image_layers()]
        self.layers_select.reset_choices()
        if not current:
            multi = [lyr for lyr in self._image_layers() if lyr.ndim == 4]
            current = multi[-1:] if multi else []
        self.layers_select.value = current
        self._prefill()

    def _selected(self) -> list:
        return list(self.layers_select.value or [])

    def _prefill(self, *_: Any) -> None:
        layers = self._selected()
        if not layers:
            return
        first = layers[0]
        n_ch = (
            first.data.shape[0] if len(layers) == 1 and first.ndim >= 3 and first.ndim == 4 else len(layers)
        )
        problem = self.microscope.prefill(first, max(n_ch, 1))
        if problem:
            self.status.setText(problem)

    def _data(self) -> tuple[np.ndarray, Any]:
        layers = self._selected()
        if len(layers) == 1:
            data = np.asarray(layers[0].data)
            if data.ndim == 3 and data.shape[0] > 8:
                raise ValueError(
                    "one 3D layer is a single channel: pick the multichannel layer or one layer per channel"
                )
            return data, layers[0]
        if len(layers) < 2:
            raise ValueError("pick the multichannel layer, or at least two layers (one per channel)")
        return np.stack([np.asarray(lyr.data) for lyr in layers]), layers[0]

    def settings(self) -> CoregistrationSettings:
        return CoregistrationSettings(
            microscope=self.microscope.microscope_settings(),
            reference_channel=int(self.reference.value),
            match_gate_um=parse_optional_float(self.gate.value),
            model=str(self.model.value),
            tolerance_ratio=float(self.tolerance.value),
            single_bead=bool(self.single_bead.value),
        )

    # ------------------------------------------------------------------ run
    def _run(self, work, message: str, kind: str) -> None:
        self._pending = kind
        self._start(work, message)

    def measure(self) -> None:
        """Localise, match and model in the background."""
        if self.task.running:
            return
        try:
            data, layer = self._data()
            settings = self.settings()
        except ValueError as exc:
            self.status.setText(f"Cannot measure: {exc}.")
            return
        self._layers = self._selected()
        self._voxel = settings.microscope.voxel_size_um or (1.0, 1.0, 1.0)

        def work(progress, cancel):
            return analyze_coregistration(data, settings, progress=progress, cancel=cancel)

        self._run(work, "Measuring…", "measure")

    def apply_correction(self) -> None:
        """Resample every channel with a model onto the reference channel's grid (in the background)."""
        if self.result is None or not self.result.models or self.task.running:
            return
        data, _ = self._data()
        if data.ndim == 3:
            data = data[:, None]
        models = dict(self.result.models)
        ref = int(self.reference.value)
        voxel = self.result.voxel_size_um

        def work(progress, cancel):
            # a model (i, j) maps reference channel i onto channel j: resample j onto i's grid
            todo = [(j, m) for (i, j), m in models.items() if i == ref]
            out = {}
            for k, (j, model) in enumerate(todo):
                progress(k / max(len(todo), 1), f"correcting channel {j}")
                out[j] = correct_image(data[j], model, voxel)
            return out

        self._run(work, "Correcting…", "correct")

    def _on_finished(self) -> None:
        super()._on_finished()
        self.correct_button.setEnabled(bool(self.result is not None and self.result.models))

    def _on_done(self, value: Any) -> None:
        self.progress.setValue(1000)
        if self._pending == "correct":
            scale = self._layers[0].scale[-3:]
            data, _ = self._data()
            ref = int(self.reference.value)
            set_layer(
                self.viewer,
                f"corrected reference (channel {ref})",
                np.asarray(data[ref]),
                "image",
                scale=scale,
                colormap="green",
                blending="additive",
            )
            for ch, img in value.items():
                set_layer(
                    self.viewer,
                    f"corrected channel {ch}",
                    img if img.shape[0] > 1 else img[0],
                    "image",
                    scale=scale,
                    colormap="magenta",
                    blending="additive",
                )
            self.status.setText(
                "Corrected channels added: compare them with the originals (green = reference)."
            )
            return
        if self.microscope.profile is not None:
            from microscope_qc.profiles import apply_tolerances

            apply_tolerances(value, self.microscope.profile)
        self.result = value
        self._show(value)
        self.export_button.setEnabled(True)

    # ------------------------------------------------------------------ overlays
    def _show(self, result: CoregistrationResult) -> None:
        dz, dy, dx = result.voxel_size_um
        beads = result.beads
        scale = np.array([dz, dy, dx])
        for c in range(len(result.channel_names)):
            sel = beads[(beads.channel == c) & beads.x_um.notna()]
            pos = (
                np.column_stack([sel.z_um / dz, sel.y_um / dy, sel.x_um / dx])
                if len(sel)
                else np.zeros((0, 3))
            )
            set_layer(
                self.viewer,
                f"co-registration beads ch{c}",
                pos[:, 1:],
                "points",
                features=sel.reset_index(drop=True),
                scale=scale[1:],
                size=8,
                face_color="transparent",
                border_color=CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)],
            )
        self._draw_vectors()
        self._fill_table(result.tables["pairs"])
        self.summary.setText(_summary_html(result))
        self.status.setText(
            "Done. Vectors are exaggerated by the factor above; Apply correction to see the improvement."
        )

    def _draw_vectors(self, *_: Any) -> None:
        result = self.result
        if result is None:
            return
        dz, dy, dx = result.voxel_size_um
        f = float(self.exaggeration.value)
        sh = result.tables["shifts"]
        if sh.empty:
            return
        origin = np.column_stack([sh.y_um / dy, sh.x_um / dx])
        for name, cols, colour in (
            ("co-registration shifts", ("shift_y_um", "shift_x_um"), "orange"),
            ("co-registration residuals", ("residual_y_um", "residual_x_um"), "cyan"),
        ):
            vec = np.column_stack([sh[cols[0]] / dy, sh[cols[1]] / dx]) * f
            if not np.isfinite(vec).all():
                continue
            data = np.stack([origin, vec], axis=1)
            layer = set_layer(
                self.viewer,
                f"{name} ×{f:g}",
                data,
                "vectors",
                scale=(dy, dx),
                edge_color=colour,
                edge_width=2,
            )
            # keep one layer per kind: drop those drawn with another factor
            for other in [
                lyr for lyr in self.viewer.layers if lyr.name.startswith(name) and lyr is not layer
            ]:
                self.viewer.layers.remove(other)

    def _fill_table(self, pairs) -> None:
        self.table.setRowCount(len(pairs))
        for r, (_, row) in enumerate(pairs.iterrows()):
            for k, col in enumerate(PAIR_COLUMNS):
                v = row.get(col, "")
                text = f"{v:.4g}" if isinstance(v, float | np.floating) else str(v)
                self.table.setItem(r, k, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    # ------------------------------------------------------------------ export
    def export(self, folder: str | Path | None = None) -> dict[str, Path] | None:
        """Write results.json, beads/pairs/shifts.csv, report.html and registration.json; never overwrites silently."""

        def extra(result, folder: Path):
            if not result.models:
                return {}
            return {
                "registration": (
                    folder / "registration.json",
                    lambda path, ow: write_models(result, path, overwrite=ow),
                )
            }

        layer = self._layers[0] if self._layers else None
        title = f"Chromatic co-registration: {layer.name if layer else ''}"
        return export_from_widget(self, folder, layer, coregistration_figures, title, extra)


def _summary_html(result: CoregistrationResult) -> str:
    parts = []
    for m in result.metrics:
        if m.name in (
            "shift_x_um",
            "shift_y_um",
            "shift_z_um",
            "distance_3d_um",
            "ratio",
            "magnification_percent",
            "rotation_deg",
        ):
            unit = {"um": " µm", "percent": " %", "deg": "°"}.get(m.unit or "", "")
            value = m.value * 1000 if m.unit == "um" else m.value
            unc = (m.uncertainty or 0) * (1000 if m.unit == "um" else 1)
            unit = " nm" if m.unit == "um" else unit
            parts.append(f"ch{m.channel} {m.name.replace('_um', '')}: <b>{value:.3g} ± {unc:.2g}{unit}</b>")
    text = " · ".join(parts)
    for v in result.verdicts:
        colour = "#3c3" if v.passed else "#f55"
        text += f"<br><span style='color:{colour}'>{'PASS' if v.passed else 'FAIL'}: ch{v.channel} ratio {v.value:.2f} (limit ≤ {v.threshold:g})</span>"
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

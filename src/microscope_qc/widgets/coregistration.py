"""Chromatic co-registration dock widget (Layers ▸ Measure ▸ Chromatic co-registration).

Pick one multichannel layer (C, Z, Y, X) / (C, Y, X) or one layer per channel; *Detect beads*
puts editable bead positions in a points layer (shared by all channels, or per channel through
its ``channel`` feature); *Measure* localises and matches the beads in a worker; the shifts
appear as exaggerated vectors (and the residuals after the registration model); *Apply
correction* resamples the other channels onto the reference.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, Container, FloatSpinBox, Select
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel, QPushButton, QWidget

from microscope_qc.analysis.coregistration import (
    CoregistrationResult,
    CoregistrationSettings,
    analyze_coregistration,
    correct_image,
)
from microscope_qc.analysis.psf import PSFSettings, find_beads
from microscope_qc.measurements.coregistration import COREGISTRATION
from microscope_qc.profiles import limits_of
from microscope_qc.report.coregistration import write_models
from microscope_qc.report.labels import heading, label
from microscope_qc.widgets._base import MeasurementDock, scrolling
from microscope_qc.widgets._common import (
    export_from_widget,
    transpose_for_display,
    verdict_lines,
)
from microscope_qc.widgets._layers import LayerSpec, image_layers, layer_key, prebuild
from microscope_qc.widgets._microscope_form import MicroscopeForm
from microscope_qc.widgets._settings_form import SettingsForm
from microscope_qc.widgets._table import ResultsTable

if TYPE_CHECKING:
    import napari

__all__ = ["CoregistrationWidget"]

CHANNEL_COLOURS = ["lime", "magenta", "cyan", "yellow", "orange"]
PAIR_COLUMNS = [
    "channel_ref", "channel_moving", "n_matched", "shift_x_um", "shift_y_um", "shift_z_um",
    "shift_x_se_um", "distance_3d_um", "ratio", "model", "magnification_percent", "rotation_deg",
]  # fmt: skip
VECTOR_KINDS = (
    ("shifts", "co-registration shifts", ("shift_y_um", "shift_x_um"), "orange"),
    ("residuals", "co-registration residuals after the model", ("residual_y_um", "residual_x_um"), "cyan"),
)


def _header(name: str) -> tuple[str, str]:
    lab = label("coregistration", name)
    return heading("coregistration", name), f"{lab.description or lab.text} — column '{name}' in pairs.csv"


def vector_specs(result: CoregistrationResult, factor: float) -> list[LayerSpec]:
    """Shift and residual vectors, exaggerated by ``factor``, one layer per kind."""
    dz, dy, dx = result.voxel_size_um
    sh = result.tables["shifts"]
    specs = []
    if sh.empty:
        return specs
    origin = np.column_stack([sh.y_um / dy, sh.x_um / dx])
    for role, name, cols, colour in VECTOR_KINDS:
        if not set(cols) <= set(sh.columns):
            continue
        vec = np.column_stack([sh[cols[0]] / dy, sh[cols[1]] / dx]) * factor
        ok = np.isfinite(vec).all(axis=1) & np.isfinite(origin).all(axis=1)
        # the residuals start hidden, as the field's residual map does: a check of the model, added
        # after the result is shown (each new layer costs napari 0.1–0.3 s under software OpenGL)
        specs.append(
            LayerSpec(
                role,
                "vectors",
                f"{name} (×{factor:g})",
                np.stack([origin[ok], vec[ok]], axis=1),
                update={"scale": (dy, dx)},
                style={"edge_color": colour, "edge_width": 2, "visible": role != "residuals"},
            )
        )
    return specs


def bead_specs(result: CoregistrationResult) -> list[LayerSpec]:
    """Every channel's localised beads in one Points layer, ringed in the channel's colour (one
    layer instead of one per channel: napari adds each layer at a cost of 0.1–0.3 s under software
    OpenGL, benchmarks/widgets.py); the ``channel`` feature says which channel a bead belongs to."""
    dz, dy, dx = result.voxel_size_um
    beads = result.beads
    sel = beads[beads.x_um.notna()].reset_index(drop=True)
    pos = np.column_stack([sel.y_um / dy, sel.x_um / dx]) if len(sel) else np.zeros((0, 2))
    colours = [CHANNEL_COLOURS[int(c) % len(CHANNEL_COLOURS)] for c in sel.channel]
    names = ", ".join(str(n) for n in result.channel_names)
    return [
        LayerSpec(
            "beads",
            "points",
            f"co-registration beads ({names})",
            pos,
            update={"features": sel, "scale": (dy, dx), "border_color": colours or "white"},
            style={"size": 8, "face_color": "transparent"},
        )
    ]


def lead_channels(layers: list) -> int:
    """How many channels the picked layers hold: a (C, Z, Y, X) layer's C, else one per layer."""
    if not layers:
        return 0
    lead = layers[0]
    if len(layers) == 1:
        return (
            int(lead.data.shape[0]) if lead.ndim == 4 or (lead.ndim == 3 and lead.data.shape[0] <= 8) else 1
        )
    return len(layers)


_LEGEND = (
    "<b>Beads</b>: rings in each channel's colour — "
    + ", ".join(
        f"<span style='color:{c}'>■</span>&nbsp;channel&nbsp;{k}" for k, c in enumerate(CHANNEL_COLOURS)
    )
    + "<br><b>Vectors</b>, from each reference bead, exaggerated by the factor in the form:<br>"
    "<span style='color:orange'>■</span> shift of the bead in the other channel<br>"
    "<span style='color:cyan'>■</span> what is left after the registration model (residual; a hidden "
    "layer: tick its eye in the layer list)<br>"
    "<small>Vectors show the lateral (x, y) part; the axial shift z is in the summary and the table. "
    "After <i>Apply correction</i>, the corrected channels are drawn in green (reference) and magenta: "
    "white where they overlap.</small>"
)


class CoregistrationWidget(MeasurementDock):
    """Measure and correct chromatic shifts from multi-colour beads."""

    measurement = COREGISTRATION
    field_names = {**MicroscopeForm.FIELD_NAMES, "match_gate_um": "the 'match gate (µm)' field"}

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(
            napari_viewer, parent, "Pick a multichannel bead image, or one layer per channel, in 'image(s)'."
        )
        self.result: CoregistrationResult | None = None
        self._layers: list = []
        self._selection_key: tuple = ()

        self.layers_select = Select(label="image(s)", choices=self._image_layers)
        self.layers_select.native.setMaximumHeight(90)
        self.microscope = MicroscopeForm()
        self.analysis = SettingsForm(
            CoregistrationSettings,
            ["reference_channel", "match_gate_um", "model", "tolerance_ratio", "single_bead"],
        )
        # the main fields as attributes too, under the names scripts and tests know
        self.reference, self.gate = self.analysis["reference_channel"], self.analysis["match_gate_um"]
        self.model, self.tolerance = self.analysis["model"], self.analysis["tolerance_ratio"]
        self.single_bead = self.analysis["single_bead"]
        self.field_names = {**self.field_names, **self.analysis.field_names}
        self.use_positions = CheckBox(
            text="measure the beads in 'co-registration bead positions'", value=True
        )
        self.exaggeration = FloatSpinBox(
            label="vector exaggeration ×", value=50.0, min=1.0, max=10000.0, step=10.0
        )
        self.form = Container(
            widgets=[
                self.layers_select,
                *self.microscope.widgets,
                *self.analysis.widgets,
                self.use_positions,
                self.exaggeration,
            ]
        )
        self.detect_button = QPushButton("Detect beads")
        self.run_button = QPushButton("Measure")
        self.correct_button = QPushButton("Apply correction")
        self.table = ResultsTable()
        self.legend = QLabel(_LEGEND)
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._build(
            [self.form.native, self.analysis.more_panel, self.microscope.sources_label],
            [self.detect_button, self.run_button, self.correct_button],
            [("Channel pairs", self.table), ("Legend", scrolling(self.legend))],
        )
        self.correct_button.setEnabled(False)
        self.detect_button.clicked.connect(self.detect)
        self.run_button.clicked.connect(self.measure)
        self.correct_button.clicked.connect(self.apply_correction)
        self.layers_select.changed.connect(self._selection_changed)
        self.exaggeration.changed.connect(self._redraw_vectors)
        self._watch_layers(self._refresh_layers)

    # ------------------------------------------------------------------ inputs
    def _image_layers(self, *_: Any) -> list:
        return image_layers(self.viewer)

    def _refresh_layers(self, *_: Any) -> None:
        keys = {layer_key(lyr) for lyr in self._image_layers()}
        current = [lyr for lyr in (self.layers_select.value or []) if layer_key(lyr) in keys]
        self.layers_select.reset_choices()
        if not current:
            multi = [lyr for lyr in self._image_layers() if lyr.ndim == 4]
            current = multi[-1:] if multi else []
        self.layers_select.value = current
        self._selection_changed()

    def _selected(self) -> list:
        return list(self.layers_select.value or [])

    def _selection_changed(self, *_: Any) -> None:
        layers = self._selected()
        key = tuple(layer_key(lyr) for lyr in layers)
        if key == self._selection_key:
            return
        first = not self._selection_key
        self._selection_key = key
        if not layers:
            self.say(self.hint)
            return
        n_ch = lead_channels(layers)
        self.reference.max = max(n_ch - 1, 0)
        if not first:  # results and positions of other images must not pass for these
            self.clear_result(note=None)
            self.layers.mark_stale(layers[0])
            self.correct_button.setEnabled(False)
        lead = layers[0]
        n_ch = lead.data.shape[0] if len(layers) == 1 and lead.ndim == 4 else len(layers)
        problem = self.microscope.prefill(lead, max(n_ch, 1))
        if problem:
            self.error(problem)
        else:
            self.say(
                f"{n_ch} channel(s) from {', '.join(repr(lyr.name) for lyr in layers)}: Detect beads or Measure."
            )

    _prefill = _selection_changed

    def _data(self) -> tuple[np.ndarray, Any]:
        layers = self._selected()
        if len(layers) == 1:
            data = np.asarray(layers[0].data)
            if data.ndim == 2 or (data.ndim == 3 and data.shape[0] > 8):
                raise ValueError(
                    f"'{layers[0].name}' is a single channel: in 'image(s)' pick the multichannel layer "
                    "or one layer per channel (Ctrl/Cmd-click)"
                )
            return data, layers[0]
        if len(layers) < 2:
            raise ValueError(
                "in 'image(s)' pick the multichannel layer, or at least two layers (one per channel)"
            )
        shapes = {lyr.data.shape for lyr in layers}
        if len(shapes) > 1:
            raise ValueError(
                f"the layers picked in 'image(s)' differ in size ({sorted(shapes)}); pick one field"
            )
        return np.stack([np.asarray(lyr.data) for lyr in layers]), layers[0]

    def settings(self) -> CoregistrationSettings:
        return CoregistrationSettings(
            microscope=self.microscope.microscope_settings(),
            **self.analysis.values(),
        )

    def _positions(self, lead, n_ch: int) -> tuple[Any, str]:
        """The edited positions: shared (channel −1) and per channel, as voxel indices; and a note."""
        if not self.use_positions.value:
            return None, ""
        pts, idx, note = self.layers.edited_positions("positions", lead)
        if idx is None:
            return None, note
        chans = np.asarray(pts.features["channel"]) if "channel" in pts.features else np.full(len(idx), -1)
        shared = idx[chans < 0]
        own = {int(c): idx[chans == c] for c in np.unique(chans[chans >= 0])}
        if not own:
            return shared, ""
        return {c: np.vstack([shared, own.get(c, np.zeros((0, 3)))]) for c in range(n_ch)}, ""

    # ------------------------------------------------------------------ run
    def detect(self) -> None:
        """Detect beads on the reference channel into an editable points layer (shared by all channels)."""
        if self.busy:
            return
        try:
            data, lead = self._data()
            settings = self.settings()
        except ValueError as exc:
            self.error(f"Cannot detect: {str(exc).rstrip('.')}.")
            return
        ref = int(self.reference.value)
        if data.ndim != 4 or data.shape[1] < 2:
            self.error(
                "Detect beads works on z-stacks; on a single plane, Measure (automatic) or click beads in."
            )
            return
        ms = settings.microscope
        channel_ms = ms.channels[min(ref, len(ms.channels) - 1)]
        stack = data[min(ref, data.shape[0] - 1)]
        scale, translate = tuple(lead.scale[-3:]), tuple(lead.translate[-3:])

        def work(progress, cancel):
            from dataclasses import replace

            ps = PSFSettings(microscope=replace(ms, channels=(channel_ms,)))
            pos = find_beads(stack, ps)
            spec = LayerSpec(
                "positions",
                "points",
                "co-registration bead positions",
                pos.astype(float),
                update={
                    "scale": scale,
                    "translate": translate,
                    "features": {"channel": np.full(len(pos), -1)},
                },
                style={
                    "size": 8,
                    "face_color": "transparent",
                    "border_color": "yellow",
                    "feature_defaults": {"channel": -1},
                },
            )
            return "detect", len(pos), [spec]

        self._layers = self._selected()
        self._start(work, "Detecting beads…")

    def measure(self) -> None:
        """Localise, match and model in the background."""
        if self.busy:
            return
        try:
            data, lead = self._data()
            settings = self.settings()
            positions, note = self._positions(lead, data.shape[0])
        except ValueError as exc:
            self.error(f"Cannot measure: {str(exc).rstrip('.')}.")
            return
        self._layers = self._selected()
        factor = float(self.exaggeration.value)
        limits = limits_of(self.microscope.profile) if self.microscope.profile is not None else None

        existing = self.layers.roles()

        def work(progress, cancel):
            result = analyze_coregistration(
                data, settings, positions=positions, limits=limits, progress=progress, cancel=cancel
            )
            specs = bead_specs(result) + vector_specs(result, factor)
            prebuild(specs, existing)
            return "measure", result, specs

        self._start(work, "Measuring…" + (f" ({note})" if note else ""))

    def apply_correction(self) -> None:
        """Resample every channel with a model onto the reference channel's grid (in the background)."""
        if self.result is None or not self.result.models or self.busy:
            return
        data, lead = self._data()
        if data.ndim == 3:
            data = data[:, None]
        models = dict(self.result.models)
        ref = int(self.reference.value)
        voxel = self.result.voxel_size_um
        scale = tuple(lead.scale[-3:])

        def work(progress, cancel):
            # a model (i, j) maps reference channel i onto channel j: resample j onto i's grid
            todo = [(j, m) for (i, j), m in models.items() if i == ref]
            specs = [
                LayerSpec(
                    "corrected reference",
                    "image",
                    f"corrected: reference channel {ref}",
                    np.asarray(data[ref]),
                    update={"scale": scale},
                    style={"colormap": "green", "blending": "additive"},
                )  # fmt: skip
            ]
            for k, (j, model) in enumerate(todo):
                progress(k / max(len(todo), 1), f"correcting channel {j}")
                img = correct_image(data[j], model, voxel)
                specs.append(
                    LayerSpec(
                        f"corrected ch{j}",
                        "image",
                        f"corrected: channel {j}",
                        img if img.shape[0] > 1 else img[0],
                        update={"scale": scale},
                        style={"colormap": "magenta", "blending": "additive"},
                    )  # fmt: skip
                )
            return "correct", len(todo), specs

        self._start(work, "Correcting…")

    def _on_finished(self) -> None:
        super()._on_finished()
        self.correct_button.setEnabled(bool(self.result is not None and self.result.models))

    def _on_done(self, value: Any) -> None:
        kind, payload, specs = value
        self._drop_pending_progress()  # a step still waiting to be shown must not follow the outcome
        self.progress.setValue(1000)
        lead = self._layers[0] if self._layers else None
        plan = self.layers.plan(specs, lead)
        if kind == "detect":
            self.drawing.run(**plan, done=lambda: self.say(
                f"{payload} beads found on the reference channel. Edit them in 'co-registration bead positions' "
                "(add, move, delete); set a point's 'channel' feature to use it for one channel only; then Measure."
            ))  # fmt: skip
            return
        if kind == "correct":
            self.drawing.run(**plan, done=lambda: self.say(
                "Corrected channels drawn: compare them with the originals (green = reference)."
            ))  # fmt: skip
            return
        self.result = payload
        self.summary.setText(_summary_html(payload))
        self.drawing.run(**plan, done=lambda: self._measured(payload))

    def _measured(self, result: CoregistrationResult) -> None:
        pairs = result.tables["pairs"]
        columns = [
            c for c in PAIR_COLUMNS if c in pairs.columns and c not in ("channel_ref", "channel_moving")
        ]
        tall = transpose_for_display(
            pairs, columns, _header, lambda r: f"channel {r['channel_moving']} → {r['channel_ref']}"
        )
        self.table.set_frame(tall, header=lambda c: (c if c != "quantity" else "Quantity", c))
        self.export_button.setEnabled(True)
        self.correct_button.setEnabled(bool(result.models))
        self.say(
            "Done. Vectors are exaggerated by the factor above; Apply correction to see the improvement."
        )

    def _redraw_vectors(self, *_: Any) -> None:
        if self.result is None or not self._layers:
            return
        for spec in vector_specs(self.result, float(self.exaggeration.value)):
            self.layers.apply(spec, self._layers[0])

    def _clear_tables(self) -> None:
        self.table.clear()

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
        return export_from_widget(self, folder, layer, extra)


_SUMMARY_METRICS = (
    "shift_x_um", "shift_y_um", "shift_z_um", "distance_3d_um", "ratio", "magnification_percent", "rotation_deg",
)  # fmt: skip


def _summary_html(result: CoregistrationResult) -> str:
    parts = []
    for m in result.metrics:
        if m.name not in _SUMMARY_METRICS:
            continue
        scale, unit = (
            (1000.0, " nm") if m.unit == "um" else (1.0, {"percent": " %", "deg": "°"}.get(m.unit or "", ""))
        )
        unc = (
            ""
            if m.uncertainty is None or not np.isfinite(m.uncertainty)
            else f" ± {m.uncertainty * scale:.2g}"
        )
        name = html.escape(label("coregistration", m.name).text)
        parts.append(f"ch{m.channel} {name}: <b>{m.value * scale:.3g}{unc}{unit}</b>")
    text = " · ".join(parts)
    lines = verdict_lines("coregistration", result.verdicts)
    if lines:
        text += "<br>" + lines
    for w in result.warnings:
        text += f"<br><span style='color:#e8a33d'>⚠ {html.escape(w)}</span>"
    return text

"""Pieces every dock widget shares: background runs with progress and cancel, layer upkeep, export."""

from __future__ import annotations

import hashlib
import html
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from napari.qt.threading import create_worker
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QFileDialog, QMessageBox, QWidget

from microscope_qc.io import sha256_file
from microscope_qc.report import ExportExistsError, InputInfo, export_result
from microscope_qc.results import AnalysisCancelled

__all__ = [
    "BackgroundTask",
    "input_info_for_layer",
    "export_with_confirmation",
    "parse_optional_float",
]


class _ProgressRelay(QObject):
    """Carries progress from the worker thread to the GUI thread (queued signal)."""

    progress = Signal(float, str)


class BackgroundTask:
    """Runs ``fn(progress, cancel)`` in a napari thread worker; one task at a time.

    ``on_progress(fraction, message)``, ``on_done(value)`` and ``on_error(exc)`` are called
    on the GUI thread. :meth:`cancel` asks the running function to stop at its next check.
    """

    def __init__(
        self,
        on_progress: Callable[[float, str], None],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_finished: Callable[[], None] | None = None,
    ):
        self._relay = _ProgressRelay()
        self._relay.progress.connect(on_progress)
        self._on_done = on_done
        self._on_error = on_error
        self._on_finished = on_finished
        self._cancel = threading.Event()
        self.worker = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, fn: Callable[[Callable[[float, str], None], Callable[[], bool]], Any]) -> None:
        if self.running:
            raise RuntimeError("A computation is already running; cancel it or wait for it to finish.")
        self._cancel.clear()
        emit = self._relay.progress.emit
        # errors are shown by on_error; _ignore_errors stops superqt re-raising them in the GUI thread
        worker = create_worker(fn, emit, self._cancel.is_set, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._on_done)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._finished)
        self.worker = worker
        worker.start()

    def cancel(self) -> None:
        self._cancel.set()

    def _finished(self) -> None:
        self.worker = None
        if self._on_finished is not None:
            self._on_finished()


def user_message(exc: BaseException, field_names: dict[str, str]) -> str:
    """An error's text in a widget's words: settings named as the widget's fields, not CLI flags."""
    render = getattr(exc, "render", None)
    text = render(field_names) if callable(render) else str(exc)
    return text or type(exc).__name__


def is_cancel(exc: BaseException) -> bool:
    return isinstance(exc, AnalysisCancelled)


def input_info_for_layer(layer) -> InputInfo:
    """Provenance of a layer: its source file (with checksum) or, for in-memory data, a checksum of the pixels."""
    data = np.asarray(layer.data)
    path = getattr(getattr(layer, "source", None), "path", None)
    if path and Path(path).is_file():
        return InputInfo(str(Path(path).resolve()), sha256_file(path), data.shape, str(data.dtype))
    digest = hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()
    return InputInfo(None, digest, data.shape, str(data.dtype))


def ask_folder(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Export results to folder")
    return Path(folder) if folder else None


def ask_overwrite(parent: QWidget, message: str) -> bool:
    answer = QMessageBox.question(
        parent,
        "Replace existing results?",
        f"{message}\n\nReplace them?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def export_with_confirmation(
    result,
    folder: Path,
    info: InputInfo,
    figures,
    title: str,
    confirm: Callable[[str], bool],
    optional_files: tuple[str, ...] = (),
    findings=None,
):
    """Export; when files exist, ask ``confirm`` and overwrite only on yes (an earlier export's
    optional files, e.g. a flat-field image, are then removed). Returns the paths or None.
    ``findings``: the dock's findings of the result, written to results.json and the report."""
    try:
        return export_result(result, folder, info, figures, title, findings=findings)
    except ExportExistsError as exc:
        if not confirm(user_message(exc, {"overwrite": "answer Yes to replace them"})):
            return None
        return export_result(
            result,
            folder,
            info,
            figures,
            title,
            overwrite=True,
            optional_files=optional_files,
            findings=findings,
        )


def parse_optional_float(text: str, field: str = "") -> float | None:
    """'' → None; a number → float; anything else raises ValueError naming ``field``."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        where = f"'{field}'" if field else "This field"
        raise ValueError(f"{where} must be a number; '{text}' is not.") from None
    if not math.isfinite(value):
        raise ValueError(f"'{field or 'This field'}' must be a finite number, not '{text}'.")
    return value


def verdict_lines(measurement: str, verdicts) -> str:
    """PASS/FAIL lines (green/red rich text) worded by ``report.verdicts.verdict_text``."""
    from microscope_qc.report.verdicts import verdict_text

    return "<br>".join(
        f"<span style='color:{'#3c3' if v.passed else '#f55'}'>{html.escape(verdict_text(measurement, v))}</span>"
        for v in verdicts
    )


def metrics_frame(result) -> pd.DataFrame:
    """A result's metrics as a table: label, channel, value, uncertainty, unit, metric name."""
    from microscope_qc.report.labels import display_unit, label

    rows = []
    for m in result.metrics:
        lab = label(result.measurement, m.name)
        unc = m.uncertainty if m.uncertainty is not None and np.isfinite(m.uncertainty) else None
        rows.append(
            {
                "quantity": lab.text,
                "channel": m.channel,
                "value": m.value,
                "uncertainty": unc,
                "unit": display_unit(m.unit),
                "metric": m.name,
            }
        )
    return pd.DataFrame(rows, columns=["quantity", "channel", "value", "uncertainty", "unit", "metric"])


METRIC_HEADERS = {
    "quantity": (
        "Quantity",
        "What was measured (hover a row's name in the exported files: the 'metric' column)",
    ),
    "channel": ("Channel", "Channel index"),
    "value": ("Value", "The measured value"),
    "uncertainty": ("±", "Standard error or spread; empty where it cannot be estimated"),
    "unit": ("Unit", "Unit of value and ±"),
}
#: the columns of a metrics table shown in a dock (the metric's file name stays in the frame)
METRIC_COLUMNS = ["quantity", "value", "uncertainty", "unit", "channel"]


def transpose_for_display(frame: pd.DataFrame, columns: list[str], header, name_of_row) -> pd.DataFrame:
    """A few wide rows (e.g. one channel pair) as a tall table: one row per quantity, one column per row."""
    out = {"quantity": [header(c)[0] for c in columns]}
    for _, row in frame.iterrows():
        out[name_of_row(row)] = [row.get(c) for c in columns]
    return pd.DataFrame(out)


def open_features_table(viewer, layer) -> None:
    """Open napari's own features-table dock and point it at ``layer``."""
    viewer.layers.selection.active = layer
    viewer.window.add_plugin_dock_widget("napari", "Features table widget")


class HistoryOptions:
    """'Record in the QC history' controls shared by the measurement widgets (used on export)."""

    def __init__(self):
        from magicgui.widgets import CheckBox, Container, LineEdit

        from microscope_qc.history import default_history_url

        self.record = CheckBox(text="record in the QC history on export", value=False)
        self.instrument = LineEdit(label="instrument")
        self.objective = LineEdit(label="objective")
        self.channel = LineEdit(label="channel")
        self.location = LineEdit(label="history", value=default_history_url())
        self.details = Container(widgets=[self.instrument, self.objective, self.channel, self.location])
        self.container = Container(widgets=[self.record, self.details])
        # the details take room only when recording is switched on
        self.record.changed.connect(self._show_details)
        self._show_details()

    def _show_details(self, *_: Any) -> None:
        # Qt keeps an explicitly hidden child hidden when its parent is shown later
        self.details.native.setVisible(bool(self.record.value))

    def record_result(
        self, result, info: InputInfo, report_path: Path, acquired_at: str | None = None, faults=()
    ) -> str | None:
        """Store the run if recording is on, with the fault codes its findings name; returns its
        uuid (raises HistoryError with the reason)."""
        from microscope_qc.history import HistoryStore, RunRecord

        if not self.record.value:
            return None
        record = RunRecord.for_export(
            self.instrument.value, info, report_path, self.objective.value, self.channel.value, acquired_at,
            faults,
        )  # fmt: skip
        return HistoryStore(self.location.value).record(result, record)


def record_after_export(widget, info: InputInfo, paths: dict) -> None:
    """Record an exported result in the QC history if the widget's history options say so."""
    from microscope_qc.history import HistoryError

    acquired = None
    if info.path:  # the acquisition date recorded in the file, when there is one
        try:
            from microscope_qc.io import read_metadata

            acquired = read_metadata(info.path).acquisition_date.value
        except OSError:
            acquired = None
    try:
        from microscope_qc.findings import faults_found

        faults = faults_found(getattr(widget, "findings", None) or ())
        run = widget.history_options.record_result(widget.result, info, paths["html"], acquired, faults)
    except HistoryError as exc:
        widget.status.setText(f"Exported, but <b>not recorded</b>: {exc}")
        return
    if run:
        widget.status.setText(f"Exported and recorded in the QC history (run {run[:8]}).")


def export_from_widget(widget, folder, layer, extra_files=None) -> dict[str, Path] | None:
    """The export button of every measurement widget: the CLI's files, nothing overwritten without
    asking, optional extra files, then recording in the QC history if asked.

    The report's figures and title come from the widget's registry entry (``widget.measurement``),
    as the command line's do.

    ``extra_files(result, folder) -> {name: (target path, writer(path, overwrite))}`` adds files such
    as a flat-field image or a registration model.
    """
    if widget.result is None:
        widget.status.setText("Nothing to export yet: Measure first.")
        return None
    folder = Path(folder) if folder else ask_folder(widget)
    if folder is None:
        return None
    info = input_info_for_layer(layer)
    entry = widget.measurement
    title = f"{entry.title}: {layer.name if layer is not None else ''}"
    paths = export_with_confirmation(
        widget.result,
        folder,
        info,
        entry.figures,
        title,
        widget.confirm_overwrite,
        tuple(entry.extra_outputs),
        widget.findings,
    )
    if paths is None:
        widget.status.setText("Export cancelled; existing files were kept.")
        return None
    for name, (target, writer) in (extra_files(widget.result, folder) if extra_files else {}).items():
        if not target.exists() or widget.confirm_overwrite(f"{target} exists."):
            paths[name] = writer(target, True)
    widget.status.setText(f"Exported to {folder}")
    record_after_export(widget, info, paths)
    return paths

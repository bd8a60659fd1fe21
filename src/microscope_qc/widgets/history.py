"""QC history dock widget (Plugins ▸ Microscope QC ▸ QC history): browse runs, plot trends,
open reports, make the period report for a publication."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.widgets import ComboBox, Container, LineEdit, SpinBox
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtCore import QUrl
from qtpy.QtGui import QDesktopServices
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from microscope_qc.history import HistoryError, HistoryStore, default_history_url, detect_drift
from microscope_qc.history.report import draw_trend, period_report
from microscope_qc.widgets._common import BackgroundTask, ask_folder, is_cancel

if TYPE_CHECKING:
    import napari

__all__ = ["HistoryWidget"]

RUN_COLUMNS = ["acquired_at", "measurement", "objective", "channel", "passed", "analysed_at", "uuid"]


class HistoryWidget(QWidget):
    """Runs of one instrument, a metric's trend with the drift indicator, reports."""

    def __init__(self, napari_viewer: napari.viewer.Viewer | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.store: HistoryStore | None = None
        self.location = LineEdit(label="history", value=default_history_url())
        self.instrument = ComboBox(label="instrument", choices=[])
        self.metric = ComboBox(label="metric", choices=[])
        self.channel = SpinBox(label="channel", value=0, min=-1, max=16, tooltip="-1: all channels")
        self.last_n = SpinBox(label="drift over last N runs", value=10, min=3, max=1000)
        self.start = LineEdit(label="report from (YYYY-MM-DD)")
        self.end = LineEdit(label="report to (YYYY-MM-DD)")
        self.form = Container(
            widgets=[
                self.location,
                self.instrument,
                self.metric,
                self.channel,
                self.last_n,
                self.start,
                self.end,
            ]
        )
        self.open_button = QPushButton("Open history")
        self.report_button = QPushButton("Open run's report")
        self.period_button = QPushButton("Period report…")
        self.table = QTableWidget(0, len(RUN_COLUMNS))
        self.table.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figure = Figure(figsize=(4, 2.5), tight_layout=True)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(220)
        self.drift_label = QLabel()
        self.status = QLabel("Open a history database (a file, created on first use, or a database URL).")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form.native)
        row = QHBoxLayout()
        for b in (self.open_button, self.report_button, self.period_button):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.canvas)
        layout.addWidget(self.drift_label)
        self.task = BackgroundTask(lambda f, m: None, self._report_done, self._report_error)
        self.open_button.clicked.connect(lambda: self.open())
        self.report_button.clicked.connect(self.open_selected_report)
        self.period_button.clicked.connect(lambda: self.make_period_report())
        self.instrument.changed.connect(self._load_runs)
        self.metric.changed.connect(self._plot)
        self.channel.changed.connect(self._plot)
        self.last_n.changed.connect(self._plot)

    def open(self, location: str | None = None) -> None:
        try:
            self.store = HistoryStore(location or self.location.value)
        except HistoryError as exc:
            self.status.setText(f"<b>Cannot open:</b> {exc}")
            self.store = None
            return
        if location:
            self.location.value = location
        names = self.store.instruments()
        self.instrument.choices = names
        self.status.setText(
            f"{len(names)} instrument(s) in {self.store.url}"
            if names
            else "The history is empty: record runs with --record or from a widget."
        )
        if names:
            self.instrument.value = names[0]
            self._load_runs()

    def _load_runs(self, *_: Any) -> None:
        if self.store is None or not self.instrument.value:
            return
        self.runs = self.store.runs(self.instrument.value)
        self.table.setRowCount(len(self.runs))
        for r, (_, row) in enumerate(self.runs.iterrows()):
            for c, col in enumerate(RUN_COLUMNS):
                v = row[col]
                text = ("pass" if v else "FAIL") if col == "passed" else ("" if v is None else str(v))
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.metric.choices = self.store.metric_names(self.instrument.value)
        self._plot()

    def series(self):
        if self.store is None or not self.metric.value:
            return None
        ch = int(self.channel.value)
        return self.store.metric_series(self.instrument.value, self.metric.value, None if ch < 0 else ch)

    def _plot(self, *_: Any) -> None:
        series = self.series()
        self.figure.clear()
        if series is None:
            self.canvas.draw_idle()
            return
        drift = detect_drift(series, int(self.last_n.value))
        limits = self.store.thresholds(self.instrument.value, self.metric.value)
        draw_trend(self.figure.add_subplot(), series, self.metric.value, limits, drift)
        self.drift_label.setText(drift.text)
        self.canvas.draw_idle()

    def selected_run(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), RUN_COLUMNS.index("uuid")).text() if rows else None

    def open_selected_report(self) -> bool:
        run = self.selected_run()
        if run is None or self.store is None:
            self.status.setText("Select a run first.")
            return False
        path = self.store.run(run)["run"]["report_path"]
        if not path or not Path(path).exists():
            self.status.setText(
                f"The report of this run is missing ({path or 'not recorded'}); re-export it from the run's results."
            )
            return False
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        return True

    def make_period_report(self, folder: str | Path | None = None) -> None:
        """Write the period report (HTML, PDF, JSON, OME companion) in the background."""
        if self.store is None or not self.instrument.value:
            self.status.setText("Open a history and pick an instrument first.")
            return
        start, end = self.start.value.strip(), self.end.value.strip()
        if not start or not end:
            self.status.setText("Give the period: from and to dates (YYYY-MM-DD).")
            return
        folder = Path(folder) if folder else ask_folder(self)
        if folder is None:
            return
        store, instrument = self.store, self.instrument.value

        def work(progress, cancel):
            rep = period_report(store, instrument, start, end)
            return rep.write(folder, ome_companion=True)

        self.status.setText("Writing the period report…")
        self.task.start(work)

    def _report_done(self, paths) -> None:
        self.status.setText("Wrote " + ", ".join(str(p) for p in paths.values()))

    def _report_error(self, exc: BaseException) -> None:
        self.status.setText("Cancelled." if is_cancel(exc) else f"<b>No report:</b> {exc}")

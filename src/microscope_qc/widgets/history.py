"""QC history dock widget (Plugins ▸ Microscope QC ▸ QC history): browse runs, plot trends,
open reports, make the period report for a publication.

Every failure ends as one line in the status, never as a traceback: the widget names its own fields
("history", "report from (YYYY-MM-DD)"), never command-line options.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.widgets import ComboBox, Container, LineEdit, SpinBox
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtCore import Qt, QUrl
from qtpy.QtGui import QDesktopServices
from qtpy.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from microscope_qc.history import (
    HistoryError,
    HistoryNotFound,
    HistoryStore,
    default_history_url,
    detect_drift,
)
from microscope_qc.history.report import draw_trend, period_report, period_report_paths
from microscope_qc.widgets._common import BackgroundTask, ask_folder, is_cancel

if TYPE_CHECKING:
    import napari

__all__ = ["HistoryWidget"]

RUN_COLUMNS = ["acquired_at", "measurement", "objective", "channel", "passed", "analysed_at", "uuid"]
RUN_HEADERS = {
    "acquired_at": "Acquired",
    "measurement": "Measurement",
    "objective": "Objective",
    "channel": "Channel",
    "passed": "Verdict",
    "analysed_at": "Analysed",
    "uuid": "Run id",
}

#: the labels of the form fields, used in the messages that point at them
HISTORY_FIELD = "history"
START_FIELD = "report from (YYYY-MM-DD)"
END_FIELD = "report to (YYYY-MM-DD)"

HOW_TO_RECORD = (
    "tick 'record in the QC history on export' in a measurement widget (PSF, field illumination, "
    "chromatic co-registration), give the instrument, and export a result"
)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _metric_text(name: str) -> str:
    """The text shown for a metric in the metric list (the value stays the raw metric name)."""
    from microscope_qc.report.labels import heading

    return heading(None, name)


def _one_line(exc: BaseException) -> str:
    """An exception as one line for the status (drivers and libraries write several)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def _ask_yes_no(parent: QWidget, title: str, message: str) -> bool:
    """A Yes/No question; No is the default answer."""
    answer = QMessageBox.question(
        parent,
        title,
        message,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _parse_date(text: str, field: str) -> str:
    """``text`` as an ISO date, or a ValueError naming the field and the expected format."""
    text = text.strip()
    if not text:
        raise ValueError(f"Fill in '{field}' with a date, e.g. {date.today():%Y-%m-%d}.")
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{field}' holds '{text}', which is not a date: write it as YYYY-MM-DD, e.g. {date.today():%Y-%m-%d}."
        ) from None
    return text


def _guarded(action: str) -> Callable:
    """Wrap a slot so that any exception ends as one line in the status, not as a traceback."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(self: HistoryWidget, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the user sees it in the status line
                self.say(_one_line(exc), f"{action}:")
                return None

        return wrapper

    return decorate


class HistoryWidget(QWidget):
    """Runs of one instrument, a metric's trend with the drift indicator, reports.

    ``confirm_create(message) -> bool`` (asked before a new, empty history is created),
    ``confirm_overwrite(message) -> bool`` (before an existing period report is replaced) and
    ``open_url(QUrl) -> bool`` (opens a run's report) can be replaced, e.g. in tests.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        # napari passes a proxy of the viewer: keep it, never compare it by identity or class name
        self.viewer = napari_viewer
        self.store: HistoryStore | None = None
        self.runs = None
        self.confirm_create: Callable[[str], bool] = lambda message: _ask_yes_no(
            self, "Create a QC history?", message
        )
        self.confirm_overwrite: Callable[[str], bool] = lambda message: _ask_yes_no(
            self, "Replace the existing report?", f"{message}\n\nReplace them?"
        )
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl

        self.location = LineEdit(
            label=HISTORY_FIELD,
            value=default_history_url(),
            tooltip="a history file (SQLite) or a database URL, e.g. postgresql+psycopg://user@host/qc",
        )
        self.instrument = ComboBox(label="instrument", choices=[])
        self.metric = ComboBox(label="metric", choices=[])
        self.channel = SpinBox(label="channel", value=0, min=-1, max=16, tooltip="-1: all channels")
        self.last_n = SpinBox(label="drift over last N runs", value=10, min=3, max=1000)
        self.start = LineEdit(label=START_FIELD)
        self.end = LineEdit(label=END_FIELD)
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
        self.table.setHorizontalHeaderLabels([RUN_HEADERS.get(c, c) for c in RUN_COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(140)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.figure = Figure(figsize=(4, 2.5), tight_layout=True)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(200)
        self.drift_label = QLabel()
        self.drift_label.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        # paths and errors in the status can be selected and copied
        self.status.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.say(f"Give the '{HISTORY_FIELD}' location (a file, or a database URL) and press Open history.")

        # everything in a scroll area: the dock fits a small window, every control stays reachable,
        # and the runs table takes the room there is
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.form.native)
        row = QHBoxLayout()
        for b in (self.open_button, self.report_button, self.period_button):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.canvas)
        layout.addWidget(self.drift_label)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        self.task = BackgroundTask(lambda f, m: None, self._report_done, self._report_error)
        self.open_button.clicked.connect(lambda: self.open())
        self.report_button.clicked.connect(lambda: self.open_selected_report())
        self.period_button.clicked.connect(lambda: self.make_period_report())
        self.instrument.changed.connect(self._load_runs)
        self.metric.changed.connect(self._plot)
        self.channel.changed.connect(self._plot)
        self.last_n.changed.connect(self._plot)

    # ------------------------------------------------------------------ status
    def say(self, text: str, lead: str | None = None) -> None:
        """Show ``text`` (plain text, escaped) in the status line, after an optional bold ``lead``."""
        body = html.escape(text, quote=False).replace("\n", "<br>")
        self.status.setText(f"<b>{html.escape(lead, quote=False)}</b> {body}" if lead else body)

    # ------------------------------------------------------------------ opening
    @_guarded("Cannot open the history")
    def open(self, location: str | None = None) -> bool:
        """Open the history at ``location`` (default: the 'history' field); returns whether it is open.

        A location that holds no history is created only after ``confirm_create`` says yes.
        """
        if location is not None:
            self.location.value = str(location)
        text = str(self.location.value).strip()
        if not text:
            self.say(f"Fill in '{HISTORY_FIELD}': a history file or a database URL.")
            return False
        self._clear()
        try:
            store = HistoryStore(text, create=False)
        except HistoryNotFound as exc:
            store = self._create_after_asking(text, exc)
            if store is None:
                return False
        except HistoryError as exc:
            self.say(_one_line(exc), "Cannot open the history:")
            return False
        self.store = store
        names = store.instruments()
        with self.instrument.changed.blocked():
            self.instrument.choices = names
            if names:
                self.instrument.value = names[0]
        if not names:
            self.say(f"The history at {store.display_url} is empty: {HOW_TO_RECORD}.")
            return True
        self.say(f"{len(names)} instrument(s) in {store.display_url}")
        self._load_runs()
        return True

    def _clear(self) -> None:
        """Forget the open history: no runs, instruments, metrics or trend are shown."""
        self.store = None
        self.runs = None
        self.table.setRowCount(0)
        with self.instrument.changed.blocked():
            self.instrument.choices = []
        with self.metric.changed.blocked():
            self.metric.choices = []
        self._plot()

    def _create_after_asking(self, text: str, missing: HistoryNotFound) -> HistoryStore | None:
        """Ask before creating a new, empty history; on no, create nothing and say how to go on."""
        question = f"No QC history at {missing.location}. Create a new, empty one?"
        folder_note = ""
        if missing.missing_folder is not None:
            parent = Path(missing.location).parent
            folder_note = f"The folder {missing.missing_folder} does not exist" + (
                "." if parent == missing.missing_folder else f" (nor {parent})."
            )
            question += f"\n\n{folder_note} Creating the history creates {parent} too."
        if not self.confirm_create(question):
            self.say(
                f"No QC history at {missing.location}; nothing was created. "
                + (f"{folder_note} " if folder_note else "")
                + f"Check '{HISTORY_FIELD}' for a typo and press Open history, or press it again and "
                "answer Yes to start a new, empty history there.",
                "Not opened:",
            )
            return None
        try:
            return HistoryStore(text, create=True)
        except HistoryError as exc:
            self.say(_one_line(exc), "Cannot create the history:")
            return None

    @_guarded("Cannot read the runs")
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
        names = self.store.metric_names(self.instrument.value)
        keep = self.metric.value
        with self.metric.changed.blocked():
            self.metric.choices = [(_metric_text(n), n) for n in names]
            if keep in names:
                self.metric.value = keep
        self._plot()

    def series(self):
        if self.store is None or not self.metric.value:
            return None
        ch = int(self.channel.value)
        return self.store.metric_series(self.instrument.value, self.metric.value, None if ch < 0 else ch)

    @_guarded("Cannot draw the trend")
    def _plot(self, *_: Any) -> None:
        series = self.series()
        self.figure.clear()
        if series is None:
            self.drift_label.setText("")
            self.canvas.draw_idle()
            return
        drift = detect_drift(series, int(self.last_n.value))
        limits = self.store.thresholds(self.instrument.value, self.metric.value)
        draw_trend(self.figure.add_subplot(), series, self.metric.value, limits, drift)
        self.drift_label.setText(drift.text)
        self.canvas.draw_idle()

    # ------------------------------------------------------------------ a run's report
    def selected_run(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), RUN_COLUMNS.index("uuid")).text() if rows else None

    @_guarded("Cannot open the report")
    def open_selected_report(self) -> bool:
        """Open the selected run's HTML report; without a program to open it, show and copy its path."""
        if self.store is None:
            self.say("Open a history first.")
            return False
        run = self.selected_run()
        if run is None:
            self.say("Select a run in the table first.")
            return False
        path = self.store.run(run)["run"]["report_path"]
        if not path or not Path(path).exists():
            self.say(
                f"The report of this run is missing ({path or 'not recorded'}); re-export it from the run's results."
            )
            return False
        if self.open_url(QUrl.fromLocalFile(str(path))):
            self.say(f"Opened the report of run {run[:8]}.")
            return True
        QApplication.clipboard().setText(str(path))
        self.say(
            f"{path}\n(copied to the clipboard: paste it into a web browser's address bar)",
            "No program to open the report was found. Its path:",
        )
        return False

    # ------------------------------------------------------------------ period report
    @_guarded("No report")
    def make_period_report(self, folder: str | Path | None = None) -> bool:
        """Write the period report (HTML, PDF, JSON, OME companion) in the background; returns whether it started.

        An existing report in the folder is replaced only after ``confirm_overwrite`` says yes.
        """
        if self.store is None or not self.instrument.value:
            self.say("Open a history and pick an instrument first.")
            return False
        if self.task.running:
            self.say("A period report is being written; wait for it to finish.")
            return False
        try:
            start = _parse_date(self.start.value, START_FIELD)
            end = _parse_date(self.end.value, END_FIELD)
        except ValueError as exc:
            self.say(str(exc), "No report:")
            return False
        if start > end:
            self.say(f"'{START_FIELD}' ({start}) is after '{END_FIELD}' ({end}); swap them.", "No report:")
            return False
        folder = Path(folder) if folder else ask_folder(self)
        if folder is None:
            return False
        existing = [p for p in period_report_paths(folder, ome_companion=True).values() if p.exists()]
        overwrite = False
        if existing:
            names = ", ".join(p.name for p in existing)
            if not self.confirm_overwrite(f"{folder} already holds a period report ({names})."):
                self.say(
                    f"Kept the existing period report in {folder}; nothing was written. "
                    "Choose another folder to keep both.",
                    "Not written:",
                )
                return False
            overwrite = True
        store, instrument, last_n = self.store, self.instrument.value, int(self.last_n.value)

        def work(progress, cancel):
            rep = period_report(store, instrument, start, end, last_n=last_n)
            return rep.write(folder, overwrite=overwrite, ome_companion=True)

        self.say("Writing the period report…")
        self.task.start(work)
        return True

    def _report_done(self, paths) -> None:
        self.say(", ".join(str(p) for p in paths.values()), "Wrote the period report:")

    def _report_error(self, exc: BaseException) -> None:
        if is_cancel(exc):
            self.say("Cancelled.")
        else:
            self.say(_one_line(exc), "No report:")

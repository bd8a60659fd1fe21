"""The skeleton every measurement dock widget shares.

Layout, top to bottom, in a vertical splitter the user can drag: the form in a scroll area (so
the dock fits a small screen whatever is ticked), then the action buttons with Cancel and
Export, progress, the status line and the results in tabs (summary with the findings under it,
table, plots).

Findings: whatever sets ``self.result`` also draws ``measurement.findings(result)`` (the registry
entry's rule table) under the summary, each finding's text marked by its severity, its evidence in
the tooltip; the dock keeps them in ``self.findings`` for the export and the QC history.

Behaviour: runs in a worker with progress and cancel; results are drawn in steps by a
:class:`DrawQueue`; a failed run clears the previous result (summary, table, Export) and marks
its layers as not current; messages name the widget's own fields (``field_names``).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from microscope_qc.findings import Evidence, Finding, Severity
from microscope_qc.results import Result
from microscope_qc.widgets._common import (
    BackgroundTask,
    HistoryOptions,
    ask_overwrite,
    is_cancel,
    user_message,
)
from microscope_qc.widgets._layers import DrawQueue, ResultLayers, warm_up

__all__ = ["MeasurementDock", "user_message", "scrolling"]

#: how the dock marks each severity (readable on napari's dark and light themes)
_SEVERITY_COLOURS = {"fault": "#f55", "note": "#e0a000", "ok": "#3a3"}
_SEVERITY_RANK = {Severity.FAULT: 0, Severity.NOTE: 1, Severity.OK: 2}


def _evidence_line(e: Evidence) -> str:
    """One evidence number for a tooltip: "label: value ± SE unit (limit …)"."""
    value = f"{e.value:.4g}" + (f" ± {e.uncertainty:.2g}" if e.uncertainty is not None else "")
    unit = {"percent": "%", "um": "µm"}.get(e.unit, e.unit)
    limit = f" (limit {e.limit})" if e.limit else ""
    return f"{e.label}: {value}{' ' + unit if unit else ''}{limit}"


#: shortest time between two progress updates on screen
PROGRESS_INTERVAL_MS = 500
#: no progress is shown before a run is this old (the status line says what runs from the click on):
#: a run of a second or less then repaints nothing while it works. Any repaint of the dock recomposes
#: the whole window through OpenGL (napari's canvas is an OpenGL widget): about 20 ms of CPU each under
#: software OpenGL, taken from the analysis on a 2-core machine (benchmarks/widgets.py)
PROGRESS_DELAY_MS = 1000


def scrolling(widget: QWidget, min_height: int = 0) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    # as needed, not off: in a narrow dock (several docks tabbed) a long check box label would
    # otherwise be cut off at the right edge with no way to see it
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setWidget(widget)
    area.setMinimumHeight(min_height)
    return area


class MeasurementDock(QWidget):
    """Base of the measurement widgets; subclasses build their form and implement ``_on_done``."""

    #: the registry entry of the measurement (title, analysis, figures, labels): set by subclasses
    measurement: Any = None

    @property
    def owner(self) -> str:
        """Tag owner of this widget's layers: the measurement's name."""
        return self.measurement.name

    #: setting name → how this widget names the field that holds it (for error messages)
    field_names: dict[str, str] = {}

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None, hint: str = ""):
        super().__init__(parent)
        self.viewer = napari_viewer
        #: what the measurement's rule table says about the shown result (None: nothing shown)
        self.findings: list[Finding] | None = None
        self.findings_box = QWidget()
        self.findings_labels: list[QLabel] = []
        self._findings_layout = QVBoxLayout(self.findings_box)
        self._findings_layout.setContentsMargins(0, 6, 0, 0)
        self.findings_box.setVisible(False)
        self.result = None
        self.hint = hint
        warm_up()
        self.layers = ResultLayers(napari_viewer, self.owner)
        #: called with a message when an export would replace files; returns True to replace
        self.confirm_overwrite: Callable[[str], bool] = lambda message: ask_overwrite(self, message)
        self.cancel_button = QPushButton("Cancel")
        self.export_button = QPushButton("Export…")
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumHeight(14)
        self.status = QLabel(hint)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.history_options = HistoryOptions()
        self.task = BackgroundTask(self._on_progress, self._on_done, self._on_error, self._on_finished)
        # progress is shown from PROGRESS_DELAY_MS into a run, at most every PROGRESS_INTERVAL_MS:
        # each shown step repaints the dock, which with napari's OpenGL canvas in the same window
        # recomposes the window; under software OpenGL that takes CPU time the analysis needs
        self._pending_progress: tuple[float, str] | None = None
        self._run_started = 0.0
        self._progress_shown = False
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._show_pending_progress)
        self.drawing = DrawQueue(self, on_error=self._on_draw_error)
        self._action_buttons: list[QPushButton] = []
        self.cancel_button.clicked.connect(self.cancel)
        # subclasses define export(folder=None); looked up when clicked
        self.export_button.clicked.connect(lambda: self.export())

    # ------------------------------------------------------------------ layout
    def _build(self, top: list[QWidget], actions: list[QPushButton], tabs: list[tuple[str, QWidget]]) -> None:
        """Lay out ``top`` (the form) in a scroll area; ``actions`` + Cancel + Export; progress,
        status; the summary and ``tabs`` in a tab widget; all in a draggable vertical splitter."""
        self._action_buttons = list(actions)
        form = QWidget()
        form_layout = QVBoxLayout(form)
        form_layout.setContentsMargins(0, 0, 0, 0)
        for w in top:
            form_layout.addWidget(w)
        form_layout.addWidget(self.history_options.container.native)
        form_layout.addStretch(1)
        for combo in form.findChildren(QComboBox):
            # a long layer name or choice must not widen the form past the dock (its right edge was
            # clipped): the box may shrink below its longest item, which then shows elided
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        self.form_area = scrolling(form, min_height=120)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        for b in (*actions, self.cancel_button, self.export_button):
            row.addWidget(b)
        lower_layout.addLayout(row)
        lower_layout.addWidget(self.progress)
        lower_layout.addWidget(self.status)
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        summary_layout.addWidget(self.summary)
        summary_layout.addWidget(self.findings_box)
        summary_layout.addStretch(1)
        self.tabs.addTab(scrolling(summary), "Summary")
        for title, w in tabs:
            self.tabs.addTab(w, title)
        lower_layout.addWidget(self.tabs, stretch=1)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.form_area)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)
        self.setMinimumWidth(340)
        self._sized = False

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """On first show, give the form what it needs (at most 60 %) and the results the rest."""
        super().showEvent(event)
        if not self._sized and self.splitter.height() > 0:
            self._sized = True
            total = sum(self.splitter.sizes()) or self.splitter.height()
            form = min(self.form_area.widget().sizeHint().height() + 8, int(0.6 * total))
            self.splitter.setSizes([form, max(total - form, 1)])

    def _watch_layers(self, callback) -> None:
        events = self.viewer.layers.events
        for ev in (events.inserted, events.removed):
            ev.connect(callback)
        callback()

    # ------------------------------------------------------------------ result and findings
    @property
    def result(self) -> Any:
        """The shown result; setting it draws its findings (None clears them)."""
        return self._result

    @result.setter
    def result(self, value: Any) -> None:
        self._result = value
        self._show_findings(value)

    def _show_findings(self, result: Any) -> None:
        for label in self.findings_labels:
            self._findings_layout.removeWidget(label)
            label.deleteLater()
        self.findings_labels = []
        rule_table = getattr(self.measurement, "findings", None)
        self.findings = None
        if result is None or rule_table is None or not isinstance(result, Result):
            self.findings_box.setVisible(False)
            return
        try:
            self.findings = list(rule_table(result))
        except Exception as exc:  # a rule that cannot read this result must not lose the result
            self._add_finding_label(
                f"<span style='color:{_SEVERITY_COLOURS['fault']}'>The findings could not be derived: "
                f"{html.escape(str(exc))}</span>",
                "",
            )
            self.findings_box.setVisible(True)
            return
        found = sorted(self.findings, key=lambda f: _SEVERITY_RANK[f.severity])
        n = sum(f.severity is Severity.FAULT for f in found)
        head = f"{n} fault{'s' if n != 1 else ''}" if n else "no fault"
        self._add_finding_label(
            f"<b>Findings</b> — {head}" if found else "<b>Findings</b>: none could be checked", ""
        )
        for f in found:
            colour = _SEVERITY_COLOURS[f.severity.value]
            channel = f" [{html.escape(f.channel)}]" if f.channel else ""
            self._add_finding_label(
                f"<span style='color:{colour}'><b>{f.severity.value.upper()}</b></span>{channel} {html.escape(f.text)}",
                "\n".join(_evidence_line(e) for e in f.evidence),
                f.fault,
            )
        self.findings_box.setVisible(True)

    def _add_finding_label(self, text: str, tooltip: str, fault: str = "") -> None:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setToolTip(tooltip)
        label.setProperty("fault", fault)
        self._findings_layout.addWidget(label)
        self.findings_labels.append(label)

    # ------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """True while a computation runs or its results are being drawn."""
        return self.task.running or self.drawing.busy

    def say(self, text: str) -> None:
        """Status line, as plain text (messages may hold '<' or '&')."""
        self.status.setText(html.escape(text, quote=False))

    def error(self, text: str) -> None:
        self.status.setText(f"<span style='color:#f55'><b>{html.escape(text, quote=False)}</b></span>")

    def clear_result(self, note: str | None = "not current") -> None:
        """Forget the shown result: summary, table, Export; with a ``note``, its layers are hidden
        and renamed with it (they no longer show the current result)."""
        self.result = None
        self.summary.setText("")
        self.export_button.setEnabled(False)
        self._clear_tables()
        if note:
            self.layers.mark_stale(None, note)

    def _clear_tables(self) -> None:
        """Subclasses empty their result tables."""

    # ------------------------------------------------------------------ running
    def _start(self, work, message: str, *, quiet: bool = False) -> None:
        """Run ``work(progress, cancel)`` in a worker; the actions are disabled until it ends.

        The worker starts first: the dock's own updates (status, buttons) then run beside it. The
        progress bar and Cancel appear with the first progress shown (:data:`PROGRESS_DELAY_MS`
        into the run), so a short run repaints the dock only for its status line. ``quiet``: a run
        the user did not click for (a live update) leaves the buttons as they are; its dock must
        then take a click during the run itself (e.g. measure once more when the run ends).
        """
        self.drawing.cancel()
        self._drop_pending_progress()
        self._run_started = time.perf_counter()
        self._progress_shown = False
        self.task.start(work)
        self.say(message)
        if not quiet:
            for b in self._action_buttons:
                b.setEnabled(False)

    def cancel(self) -> None:
        self.task.cancel()
        self.say("Cancelling…")

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._progress_timer.isActive():
            # keep the latest fraction, and the latest message that said something
            last_message = self._pending_progress[1] if self._pending_progress else ""
            self._pending_progress = (fraction, message or last_message)
            return
        wait_ms = PROGRESS_DELAY_MS - (time.perf_counter() - self._run_started) * 1000
        if wait_ms > 0:  # too early: shown when the run is PROGRESS_DELAY_MS old, if still running
            self._pending_progress = (fraction, message)
            self._progress_timer.start(int(wait_ms) + 1)
            return
        self._pending_progress = None
        self._show_progress(fraction, message)
        self._progress_timer.start(PROGRESS_INTERVAL_MS)

    def _show_pending_progress(self) -> None:
        if self._pending_progress is not None:
            fraction, message = self._pending_progress
            self._pending_progress = None
            self._show_progress(fraction, message)
            self._progress_timer.start(PROGRESS_INTERVAL_MS)

    def _show_progress(self, fraction: float, message: str) -> None:
        if not self._progress_shown:  # the run is long enough for progress (and a Cancel) to help
            self._progress_shown = True
            self.cancel_button.setEnabled(True)
        value = int(1000 * fraction)
        if value != self.progress.value():
            self.progress.setValue(value)
        if message and html.escape(message, quote=False) != self.status.text():
            self.say(message)

    def _drop_pending_progress(self) -> None:
        """A run ended: later progress of it must not overwrite its outcome."""
        self._progress_timer.stop()
        self._pending_progress = None

    def _on_finished(self) -> None:
        for b in self._action_buttons:  # setting a state a widget has already repaints nothing
            b.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_error(self, exc: BaseException) -> None:
        self._drop_pending_progress()
        self.progress.setValue(0)
        if is_cancel(exc):
            self.say("Cancelled; nothing was changed.")
            return
        self.clear_result("failed run")
        self.error(f"Could not analyse: {user_message(exc, self.field_names)}")

    def _on_draw_error(self, exc: BaseException) -> None:
        self.clear_result("drawing failed")
        self.error(f"The result could not be drawn: {exc}")

    def _on_done(self, value: Any) -> None:
        """Subclasses draw overlays here; the base only keeps the result."""
        self._drop_pending_progress()
        self.progress.setValue(1000)
        self.result = value

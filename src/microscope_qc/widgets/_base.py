"""The skeleton every measurement dock widget shares: form on top, action buttons with Cancel and
Export, progress, status, summary, a results table, and the QC-history options."""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from microscope_qc.widgets._common import BackgroundTask, HistoryOptions, ask_overwrite, is_cancel

__all__ = ["MeasurementDock"]


class MeasurementDock(QWidget):
    """Base of the measurement widgets; subclasses build their form and implement ``_on_done``."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None, hint: str = ""):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.result: Any = None
        #: called with a message when an export would replace files; returns True to replace
        self.confirm_overwrite = lambda message: ask_overwrite(self, message)
        self.cancel_button = QPushButton("Cancel")
        self.export_button = QPushButton("Export…")
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel(hint)
        self.status.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.history_options = HistoryOptions()
        self.task = BackgroundTask(self._on_progress, self._on_done, self._on_error, self._on_finished)
        self._action_buttons: list[QPushButton] = []
        self.cancel_button.clicked.connect(self.cancel)
        # subclasses define export(folder=None); looked up when clicked
        self.export_button.clicked.connect(lambda: self.export())

    def _build(self, top: list[QWidget], actions: list[QPushButton], bottom: list[QWidget]) -> None:
        """Lay out: ``top`` widgets, a row of ``actions`` + Cancel + Export, progress, status,
        summary, ``bottom`` widgets (the last one stretches), history options."""
        self._action_buttons = list(actions)
        layout = QVBoxLayout(self)
        for w in top:
            layout.addWidget(w)
        row = QHBoxLayout()
        for b in (*actions, self.cancel_button, self.export_button):
            row.addWidget(b)
        layout.addLayout(row)
        for w in (self.progress, self.status, self.summary):
            layout.addWidget(w)
        for k, w in enumerate(bottom):
            layout.addWidget(w, stretch=1 if k == len(bottom) - 1 else 0)
        layout.addWidget(self.history_options.container.native)

    def _watch_layers(self, callback) -> None:
        events = self.viewer.layers.events
        for ev in (events.inserted, events.removed):
            ev.connect(callback)
        callback()

    def _start(self, work, message: str) -> None:
        """Run ``work(progress, cancel)`` in a worker; the actions are disabled until it ends."""
        self.status.setText(message)
        self.progress.setValue(0)
        for b in self._action_buttons:
            b.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.task.start(work)

    def cancel(self) -> None:
        self.task.cancel()
        self.status.setText("Cancelling…")

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(1000 * fraction))
        if message:
            self.status.setText(message)

    def _on_finished(self) -> None:
        for b in self._action_buttons:
            b.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_error(self, exc: BaseException) -> None:
        self.progress.setValue(0)
        self.status.setText(
            "Cancelled; nothing was changed." if is_cancel(exc) else f"<b>Could not analyse:</b> {exc}"
        )

    def _on_done(self, value: Any) -> None:
        """Subclasses draw overlays here; the base only keeps the result."""
        self.progress.setValue(1000)
        self.result = value

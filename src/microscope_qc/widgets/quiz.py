"""Workshop quiz dock (Plugins ▸ Microscope QC ▸ Workshop quiz): what is wrong with this microscope?

*New sample* loads an unknown gallery sample into the viewer under a neutral name ("Quiz sample
3"; the truth is removed from its layers), the hint names the tool to measure it with, the
learner ticks a diagnosis and *Check my answer* reveals the truth, its remedy, the sample's
explanation and the numbers that give it away (measured in the background by
:meth:`microscope_qc.quiz.Round.reveal`). Everything runs offline: the samples are synthetic.
"""

from __future__ import annotations

import html
from typing import Any

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from microscope_qc.quiz import NOTHING_WRONG, Quiz, Reveal, Round, format_evidence, neutral_layer_data
from microscope_qc.widgets._base import scrolling
from microscope_qc.widgets._common import BackgroundTask, is_cancel, user_message

__all__ = ["QuizWidget"]

PLUGIN = "napari-microscope-qc"
#: the metadata tag of the quiz's sample layers (the round number only: it says nothing of the truth)
TAG = "microscope_qc_quiz"

_STATUS_STYLE = {
    "fault": ("#f55", "the tool flags it"),
    "fail": ("#f55", "FAIL"),
    "note": ("#fa3", "note"),
    "ok": ("#3c3", "not found"),
    "pass": ("#3c3", "PASS"),
    "not measured": ("#999", "not measured"),
    "value": ("#999", ""),
}


def _manifest() -> Any:
    from npe2 import PluginManager

    pm = PluginManager.instance()
    if PLUGIN not in pm:
        pm.discover()
    return pm.get_manifest(PLUGIN)


def tool_of(measurement_name: str) -> str | None:
    """The display name of the dock that measures ``measurement_name`` (None if it has none)."""
    module = f"microscope_qc.widgets.{measurement_name.replace('-', '_')}"
    mf = _manifest()
    commands = {c.id: c.python_name for c in mf.contributions.commands or ()}
    for w in mf.contributions.widgets or ():
        if commands.get(w.command, "").split(":")[0] == module:
            return str(w.display_name)
    return None


def _quiz_layers(r: Round) -> list[tuple[Any, ...]]:
    """The layer data of napari's File ▸ Open Sample entry of the round's sample, with nothing that
    gives the answer away (built in the worker)."""
    for contrib in _manifest().contributions.sample_data or ():
        if contrib.key == r.key:
            secrets = (r.key, r.sample.title, str(contrib.display_name))
            return neutral_layer_data([tuple(t) for t in contrib.open()], r.label, secrets)
    raise KeyError(f"napari has no sample '{r.key}' of {PLUGIN}.")


class QuizWidget(QWidget):
    """The workshop quiz: a new unknown sample, a diagnosis, the reveal and the score."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.quiz: Quiz | None = None
        self._round: Round | None = None
        self.boxes: dict[str, QCheckBox] = {}
        self.task = BackgroundTask(self._on_progress, self._on_done, self._on_error, self._on_finished)
        self._on_result: Any = None

        intro = QLabel(
            "What is wrong with this microscope? Load an unknown sample, measure it with the tool "
            "named below, tick your diagnosis, then check your answer."
        )
        intro.setWordWrap(True)
        self.new_button = QPushButton("New sample")
        self.new_button.clicked.connect(lambda: self.new_sample())
        self.score_label = QLabel("Score: no answers yet")
        top = QHBoxLayout()
        top.addWidget(self.new_button)
        top.addWidget(self.score_label, stretch=1)

        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.tool_button = QPushButton("Open the tool")
        self.tool_button.clicked.connect(lambda: self.open_tool())
        self.tool_button.setVisible(False)

        self.choices_box = QGroupBox("Your diagnosis (tick every fault you see)")
        self.choices_layout = QVBoxLayout(self.choices_box)
        self.choices_box.setVisible(False)
        self.check_button = QPushButton("Check my answer")
        self.check_button.clicked.connect(lambda: self.check())
        self.check_button.setEnabled(False)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumHeight(14)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.reveal_label = QLabel("")
        self.reveal_label.setWordWrap(True)
        self.reveal_label.setTextFormat(Qt.TextFormat.RichText)
        self.reveal_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.reveal_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)

        # one scroll area for everything: in a short dock (several docks stacked) the choices keep
        # their height and the dock scrolls, rather than squeezing the check boxes into each other
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(top)
        for item in (self.hint, self.tool_button, self.choices_box, self.check_button, self.progress):
            layout.addWidget(item)
        for item in (self.status, line, self.reveal_label):
            layout.addWidget(item)
        layout.addStretch(1)
        self.scroll = scrolling(content)
        self._scroll_to_reveal = False
        self.scroll.verticalScrollBar().rangeChanged.connect(self._scroll_range_changed)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.scroll)
        self.setMinimumWidth(340)

    # ------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """True while a sample is built or an answer is measured."""
        return self.task.running

    @property
    def layer_names(self) -> list[str]:
        """The names of the current quiz sample's layers."""
        return [ly.name for ly in self.viewer.layers if ly.metadata.get(TAG) == self._round_number()]

    def _round_number(self) -> int | None:
        return None if self._round is None else self._round.number

    def say(self, text: str) -> None:
        self.status.setText(html.escape(text, quote=False))

    def error(self, text: str) -> None:
        self.status.setText(f"<span style='color:#f55'><b>{html.escape(text, quote=False)}</b></span>")

    def _update_score(self) -> None:
        if self.quiz is None:
            return
        right, answered = self.quiz.score
        if answered:
            self.score_label.setText(f"Score: {right} of {answered} right")

    # ------------------------------------------------------------------ new sample
    def new_sample(self, key: str | None = None) -> None:
        """Deal the next sample (or the one with this gallery key) and load it in the background."""
        if self.quiz is None:
            try:
                self.quiz = Quiz()
            except ValueError as exc:
                self.error(str(exc))
                return
        r = self.quiz.new_round(key)
        self._start(
            lambda progress, cancel: _quiz_layers(r),
            lambda layers: self._show_round(r, layers),
            f"Loading {r.label}…",
        )

    def _show_round(self, r: Round, layers: list[tuple[Any, ...]]) -> None:
        for layer in [ly for ly in self.viewer.layers if TAG in ly.metadata]:
            self.viewer.layers.remove(layer)  # the previous quiz sample (result layers stay)
        for data, kwargs, *kind in layers:
            kwargs["metadata"] = {**kwargs.get("metadata", {}), TAG: r.number}
            getattr(self.viewer, f"add_{kind[0] if kind else 'image'}")(data, **kwargs)
        self._round = r
        tool = tool_of(r.measurement.name)
        names = ", ".join(f"<b>{html.escape(n)}</b>" for n in self.layer_names)
        where = (
            f"Open <b>Layers ▸ Measure ▸ {html.escape(tool)} (Microscope QC)</b>"
            if tool
            else f"Run <code>microscope-qc {r.measurement.name}</code>"
        )
        self.hint.setText(f"{names}: {where} and measure it with the default settings. What is wrong?")
        self.tool_button.setText(f"Open {tool}" if tool else "Open the tool")
        self.tool_button.setVisible(tool is not None)
        self._tool = tool
        for box in self.boxes.values():
            box.setParent(None)
            box.deleteLater()
        self.boxes = {}
        for c in r.choices:
            box = QCheckBox(c.title)
            box.toggled.connect(lambda on, code=c.code: self._ticked(code, on))
            self.choices_layout.addWidget(box)
            self.boxes[c.code] = box
        self.choices_box.setVisible(True)
        self.choices_box.setEnabled(True)
        self.check_button.setEnabled(True)
        self.reveal_label.setText("")
        self.say(f"{r.label} is loaded.")

    def _ticked(self, code: str, on: bool) -> None:
        if not on:
            return
        for other, box in self.boxes.items():  # "nothing wrong" excludes every fault, and back
            if (code == NOTHING_WRONG) != (other == NOTHING_WRONG) and box.isChecked():
                box.setChecked(False)

    def open_tool(self) -> None:
        """Open the dock that measures the current sample."""
        if getattr(self, "_tool", None):
            self.viewer.window.add_plugin_dock_widget(PLUGIN, self._tool)

    # ------------------------------------------------------------------ answer
    def pick(self, *codes: str) -> None:
        """Tick these choices only (what a learner does with the check boxes)."""
        for box in self.boxes.values():
            box.setChecked(False)
        for code in codes:
            self.boxes[code].setChecked(True)

    def check(self) -> None:
        """Record the ticked diagnosis, update the score and measure the reveal in the background."""
        r = self._round
        if r is None:
            return
        try:
            r.answer(code for code, box in self.boxes.items() if box.isChecked())
        except ValueError as exc:
            self.error(str(exc))
            return
        self.choices_box.setEnabled(False)
        self.check_button.setEnabled(False)
        self._update_score()
        self._start(r.reveal, self._show_reveal, f"Measuring {r.label} to show what gives it away…")

    def _show_reveal(self, rv: Reveal) -> None:
        self.reveal_label.setText(reveal_html(rv, self._round))
        self.say("Correct!" if rv.correct else "Not quite: see below.")
        # bring the reveal into view (the choices above it are done with)
        self._scroll_to_reveal = True  # once the longer text has grown the scroll range
        QTimer.singleShot(0, lambda: self._scroll_range_changed(0, self.scroll.verticalScrollBar().maximum()))

    def _scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._scroll_to_reveal and maximum > 0:
            self._scroll_to_reveal = False
            self.scroll.verticalScrollBar().setValue(min(self.check_button.y(), maximum))

    # ------------------------------------------------------------------ worker
    def _start(self, work: Any, on_result: Any, message: str) -> None:
        self._on_result = on_result
        self.task.start(work)
        self.new_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self.progress.setValue(0)
        self.say(message)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(1000 * fraction))
        if message:
            self.say(message)

    def _on_done(self, value: Any) -> None:
        self.progress.setValue(1000)
        if self._on_result is not None:
            self._on_result(value)

    def _on_error(self, exc: BaseException) -> None:
        self.progress.setValue(0)
        self.error("Cancelled." if is_cancel(exc) else f"Could not do it: {user_message(exc, {})}")

    def _on_finished(self) -> None:
        self.new_button.setEnabled(True)
        r = self._round
        self.check_button.setEnabled(r is not None and r.answered is None)


def _badge(status: str) -> str:
    colour, text = _STATUS_STYLE.get(status, ("#999", status))
    return f" <span style='color:{colour}'>[{html.escape(text)}]</span>" if text else ""


def reveal_html(rv: Reveal, r: Round | None = None) -> str:
    """The reveal as rich text: verdict, truth with remedies, explanation, evidence, truth parameters."""
    from microscope_qc.findings import FAULTS

    esc = html.escape
    out = [
        "<p style='font-size:large'><b><span style='color:#3c3'>✔ Correct!</span></b></p>"
        if rv.correct
        else "<p style='font-size:large'><b><span style='color:#f55'>✘ Not quite.</span></b></p>"
    ]
    answer = "; ".join(FAULTS[c].title for c in sorted(rv.answer)) or "nothing wrong"
    out.append(f"<p>Your answer: {esc(answer)}.</p>")
    if rv.truth:
        items = "".join(
            f"<li><b>{esc(FAULTS[c].title)}</b>{'' if c in rv.answer else ' (missed)'}: {esc(FAULTS[c].remedy)}.</li>"
            for c in rv.truth
        )
        out.append(f"<p><b>The truth:</b></p><ul>{items}</ul>")
    else:
        out.append("<p><b>The truth:</b> nothing wrong: a good instrument.</p>")
    within = sorted(rv.wrong & set(rv.noted))
    absent = sorted(rv.wrong - set(rv.noted))
    if within:
        out.append(
            "<p>Present but within tolerance (noted, not a fault): "
            + esc("; ".join(FAULTS[c].title for c in within))
            + ".</p>"
        )
    if absent:
        out.append("<p>Not in this sample: " + esc("; ".join(FAULTS[c].title for c in absent)) + ".</p>")
    if rv.explanation:
        out.append(f"<p><i>{esc(rv.explanation)}</i></p>")
    tool = f" ({esc(r.measurement.title)}, default settings)" if r is not None else ""
    if rv.analysis_error:
        out.append(f"<p style='color:#f55'>The numbers could not be computed: {esc(rv.analysis_error)}</p>")
    elif rv.evidence:
        note = {
            "findings": "",
            "verdicts": " This tool states no findings yet: its pass/fail verdicts are shown.",
            "metrics": " This tool states no findings yet: its headline numbers are shown.",
        }[rv.evidence_source]
        out.append(f"<p><b>The numbers that give it away</b>{tool}.{esc(note)}</p>")
        for g in rv.evidence:
            if not g.text and len(g.evidence) == 1 and g.evidence[0].label == g.heading:
                # a verdict: one line, its number after its name
                number = format_evidence(g.evidence[0])[len(g.heading) + 2 :]
                out.append(f"<p><b>{esc(g.heading)}</b>: {esc(number)}{_badge(g.status)}</p>")
                continue
            text = f": {esc(g.text)}" if g.text else ""
            numbers = "".join(f"<li>{esc(format_evidence(e))}</li>" for e in g.evidence)
            out.append(f"<p><b>{esc(g.heading)}</b>{_badge(g.status)}{text}</p><ul>{numbers}</ul>")
    if rv.truth_parameters:
        rows = "".join(
            f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>" for k, v in rv.truth_parameters.items()
        )
        out.append(f"<p><b>How the sample was made</b> (its truth):</p><table>{rows}</table>")
    if r is not None:
        out.append(f"<p style='color:#999'>Sample: {esc(r.key)} ({esc(r.sample.title)}).</p>")
    return "".join(out)

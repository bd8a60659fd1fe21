"""Click to result in napari, as users feel it: run under a display.

    xvfb-run -a -s "-screen 0 1600x1000x24" env PYTHONPATH=src python benchmarks/widgets.py [N]

For each bundled sample, opened through napari's File ▸ Open Sample path (``viewer.open_sample``),
with its widget opened the way napari's menu opens it (``add_plugin_dock_widget``, which hands the
widget a proxy of the viewer), the Measure button is clicked (``QPushButton.click``) and the Qt event
loop is spun (``QApplication.processEvents``) until the result is shown:

* the summary and the table are filled, every overlay layer is in the viewer, and
* the canvas has finished one draw after the last layer was applied. That draw is seen through
  vispy's ``draw`` event of napari's canvas, reached through the window's private ``_qt_viewer``
  (napari has no public hook for "the canvas was painted"); the benchmark only listens to it.

Each click → shown time is split into: the worker (click → analysis returned → layer data and
layer objects prepared), the hand-over to the GUI thread, applying the layers (adding or updating
them: napari's controls, visuals and layer list), filling the table, and the canvas draw.

Also, for the field widget, a setting changed with *update live* on: the time from the change until
the redrawn overlay is on the canvas. During each run a 20 ms timer in the event loop gives the
longest stall of the viewer while the worker analyses and while the result is drawn.

The first of the first Measures is printed too: run with one sample, it is a session's first
(imports, caches and napari's first visuals of a kind are paid there; the minimum hides them).

Baselines measured in the same run: the analysis call alone, napari's own ``viewer.add_image`` of
the same data followed by one canvas draw, one canvas draw with nothing changed, and one status-line
change of the dock. Each number is the minimum of N runs (default 3); the first Measure of a viewer
(which adds the layers) is repeated in N fresh viewers. Nothing is asserted; it prints what it
measured.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import napari
import numpy as np
from qtpy.QtCore import QEventLoop, QTimer

PLUGIN = "napari-microscope-qc"
now = time.perf_counter


def pump(app, until: Callable[[], bool], timeout: float = 120.0) -> None:
    """Run Qt's event loop (as napari does: idle until an event comes) until ``until()`` holds.

    A 10 ms timer checks the condition; the times reported come from callbacks, not from this check.
    """
    if until():
        return
    loop = QEventLoop()
    t0 = now()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: (until() or now() - t0 > timeout) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()


def settle(app, seconds: float = 0.4) -> None:
    t0 = now()
    pump(app, lambda: now() - t0 >= seconds)


def canvas_events(viewer) -> Any:
    """vispy's event group of napari's canvas (private path: napari exposes no paint hook)."""
    return viewer.window._qt_viewer.canvas.events


@dataclass
class Probe:
    """Timestamps of one run, recorded by wrappers around the widget's own steps."""

    marks: dict[str, float] = field(default_factory=dict)
    draws: list[tuple[float, float]] = field(default_factory=list)
    #: a 20 ms timer's ticks: the longest gap between two is the longest event-loop stall
    ticks: list[float] = field(default_factory=list)
    _draw_start: float = 0.0
    _beat: Any = None

    def beat(self, on: bool) -> None:
        if self._beat is None:
            self._beat = QTimer()
            self._beat.setInterval(20)
            self._beat.timeout.connect(lambda: self.ticks.append(now()))
        if on:
            self.ticks = [now()]
            self._beat.start()
        else:
            self._beat.stop()
            self.ticks.append(now())

    def longest_stall(self, since: float, until: float) -> float:
        t = np.array(self.ticks)
        if len(t) < 2:
            return 0.0
        gaps = np.diff(t)
        sel = (t[1:] > since) & (t[:-1] < until)
        return float(gaps[sel].max() * 1000) if sel.any() else 0.0

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, now())

    def reset(self) -> None:
        self.marks = {}

    def draw_after(self, t: float) -> tuple[float, float] | None:
        """The first complete canvas draw that started after ``t``."""
        for start, end in self.draws:
            if start >= t:
                return start, end
        return None


def instrument(viewer, w, analysis_module: Any, analysis_name: str) -> Probe:
    """Wrap the widget's steps to record when each happens (benchmark only; the widget is unchanged)."""
    probe = Probe()
    events = canvas_events(viewer)

    def draw_start(_event=None) -> None:
        probe._draw_start = now()

    def draw_end(_event=None) -> None:
        probe.draws.append((probe._draw_start, now()))

    events.draw.connect(draw_start, position="first")
    events.draw.connect(draw_end, position="last")

    analyse = getattr(analysis_module, analysis_name)

    def timed_analysis(*args, **kwargs):
        probe.mark("analysis_start")
        try:
            return analyse(*args, **kwargs)
        finally:
            probe.mark("analysis_end")

    setattr(analysis_module, analysis_name, timed_analysis)

    start = w.task.start

    def timed_start(fn):
        def work(progress, cancel):
            probe.mark("work_start")
            try:
                return fn(progress, cancel)
            finally:
                probe.mark("work_end")

        probe.mark("task_start")
        start(work)

    w.task.start = timed_start
    on_done = w.task._on_done

    def timed_done(value):
        probe.mark("gui_received")
        on_done(value)

    w.task._on_done = timed_done
    run = w.drawing.run

    def timed_run(steps, done=None, later=None, finished=None, batch=False):
        def first():
            probe.mark("apply_start")

        def filled():
            probe.mark("layers_applied")
            if done is not None:
                done()
            probe.mark("result_filled")

        def all_added():
            if finished is not None:
                finished()
            probe.mark("all_added")

        if "later" in inspect.signature(run).parameters:
            run([first, *steps], filled, later, all_added, batch)
        else:  # the DrawQueue before hidden layers were deferred (to measure that version)
            run([first, *steps], lambda: (filled(), all_added()))

    w.drawing.run = timed_run
    set_frame = w.table.set_frame

    def timed_set_frame(*args, **kwargs):
        t0 = now()
        set_frame(*args, **kwargs)
        probe.marks["table_ms"] = (now() - t0) * 1000

    w.table.set_frame = timed_set_frame
    return probe


def drawn_after(app, probe: Probe, mark: str) -> float:
    """End of the first canvas draw after ``mark`` (waiting for it)."""
    t = probe.marks.get(mark, now())
    pump(app, lambda: probe.draw_after(t) is not None, 10.0)
    hit = probe.draw_after(t)
    return hit[1] if hit else now()


def shown(app, w, probe: Probe, timeout: float = 120.0) -> tuple[float, float]:
    """Spin the event loop until the result is shown, then until every layer is added and drawn.

    Returns both times (perf_counter): the result (summary, table, the layers it shows) on screen,
    and the layers that start hidden added too.
    """
    pump(app, lambda: "result_filled" in probe.marks, timeout)
    result = max(drawn_after(app, probe, "layers_applied"), probe.marks.get("result_filled", 0.0))
    pump(app, lambda: not w.busy, timeout)
    everything = drawn_after(app, probe, "all_added") if "all_added" in probe.marks else result
    return result, max(result, everything)


def split(probe: Probe, t0: float, times: tuple[float, float]) -> dict[str, float]:
    t_shown, t_all = times
    m = probe.marks
    applied = m.get("layers_applied", t_shown)
    draw = probe.draw_after(applied)
    return {
        "total": (t_shown - t0) * 1000,
        "all": (t_all - t0) * 1000,
        "to_worker": (m.get("work_start", t0) - t0) * 1000,
        "analysis": (m.get("analysis_end", t0) - m.get("analysis_start", t0)) * 1000,
        "prepare": (m.get("work_end", t0) - m.get("analysis_end", t0)) * 1000,
        "handover": (m.get("gui_received", t0) - m.get("work_end", t0)) * 1000,
        "layers": (applied - m.get("apply_start", applied)) * 1000,
        "table": m.get("table_ms", 0.0),
        "draw": ((draw[1] - draw[0]) * 1000) if draw else 0.0,
        "to_draw_end": ((t_shown - applied) * 1000) if draw else 0.0,
        "stall_analysing": probe.longest_stall(t0, m.get("gui_received", t0)),
        "stall_drawing": probe.longest_stall(m.get("gui_received", t0), t_all),
    }


def fmt(parts: dict[str, float]) -> str:
    return (
        f"{parts['total']:5.0f} ms = wait for worker {parts['to_worker']:.0f} + analysis {parts['analysis']:.0f}"
        f" + layer data {parts['prepare']:.0f} + hand-over {parts['handover']:.0f} + layers {parts['layers']:.0f}"
        f" + dock and canvas {parts['to_draw_end']:.0f} (table {parts['table']:.0f}, canvas draw {parts['draw']:.0f});"
        f" every layer added and drawn {parts['all']:.0f} ms; longest event-loop stall while analysing"
        f" {parts['stall_analysing']:.0f} ms, while drawing {parts['stall_drawing']:.0f} ms"
    )


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the shortest total (its parts add up)."""
    return min(runs, key=lambda r: r["total"])


@dataclass
class Case:
    sample: str
    widget: str
    button: str
    module: str
    analysis: str
    prepare: Callable[[Any], None]
    change: Callable[[Any, int], None]
    alone: Callable[[Any], None]


def open_viewer(case: Case):
    import importlib

    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    app = napari.qt.get_qapp()
    viewer.open_sample(PLUGIN, case.sample)
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, case.widget)
    case.prepare(w)
    settle(app)
    probe = instrument(viewer, w, importlib.import_module(case.module), case.analysis)
    return viewer, app, w, probe


def click(app, w, probe: Probe, button: str) -> dict[str, float]:
    probe.reset()
    settle(app, 0.3)
    probe.beat(True)
    t0 = now()
    getattr(w, button).click()
    times = shown(app, w, probe)
    probe.beat(False)
    return split(probe, t0, times)


def baselines(viewer, app, w, probe: Probe, case: Case, n: int) -> dict[str, float]:
    out: dict[str, list[float]] = {"alone": [], "add_image": [], "redraw": [], "status": []}
    events = canvas_events(viewer)
    source = viewer.layers[0]
    for k in range(n):
        t0 = now()
        case.alone(w)
        out["alone"].append((now() - t0) * 1000)
        settle(app, 0.2)
        t0 = now()
        layer = viewer.add_image(np.asarray(source.data), scale=source.scale, name="baseline")
        pump(app, lambda t0=t0: probe.draw_after(t0) is not None, 10.0)
        out["add_image"].append((probe.draw_after(t0)[1] - t0) * 1000)
        viewer.layers.remove(layer)
        settle(app, 0.3)
        t0 = now()
        events.draw.source.update()
        pump(app, lambda t0=t0: probe.draw_after(t0) is not None, 10.0)
        start, end = probe.draw_after(t0)
        out["redraw"].append((end - start) * 1000)
        settle(app, 0.2)
        t0 = now()
        w.say(f"baseline status {k}")
        app.processEvents()
        out["status"].append((now() - t0) * 1000)
        settle(app, 0.2)
    w.say("")
    return {k: min(v) for k, v in out.items()}


def measure_case(case: Case, n: int) -> None:
    first_runs, again_runs, live_runs = [], [], []
    base: dict[str, float] = {}
    for k in range(n):
        viewer, app, w, probe = open_viewer(case)
        first_runs.append(click(app, w, probe, case.button))
        n_layers = len(w.layers.roles())
        if k == 0:
            for j in range(n):
                case.change(w, j)
                pump(app, lambda w=w: not w.busy)
                again_runs.append(click(app, w, probe, case.button))
            if hasattr(w, "live"):
                live_runs = live_updates(app, w, probe, n)
            base = baselines(viewer, app, w, probe, case, n)
        viewer.close()
        settle(app, 0.2)
    print(f"{case.sample} ({case.widget}), {n_layers} result layers; min of {n}:")
    print(f"  first Measure (adds the layers): {fmt(best(first_runs))}")
    print(
        f"    the first of those N, in a process where no measurement ran before (run one sample alone for a "
        f"session's first): {fmt(first_runs[0])}"
    )
    print(f"  Measure again (updates them):    {fmt(best(again_runs))}")
    if live_runs:
        lb = best(live_runs)
        print(
            f"  'update live', step changed:     {lb['total']:5.0f} ms = debounce {lb['to_worker']:.0f}"
            f" + analysis {lb['analysis']:.0f} + layer data {lb['prepare']:.0f} + hand-over {lb['handover']:.0f}"
            f" + layers {lb['layers']:.0f} + dock and canvas {lb['to_draw_end']:.0f} (table {lb['table']:.0f},"
            f" canvas draw {lb['draw']:.0f}); longest stall {lb['stall_drawing']:.0f} ms"
        )
    print(
        f"  baseline: analysis call alone {base['alone']:.0f} ms; napari add_image of the same data + one draw "
        f"{base['add_image']:.0f} ms; one canvas draw {base['redraw']:.0f} ms; one status-line change "
        f"{base['status']:.0f} ms",
        flush=True,
    )


def live_updates(app, w, probe: Probe, n: int) -> list[dict[str, float]]:
    """Change the step with 'update live' on: time until the redrawn overlay is on the canvas."""
    w.live.value = True
    runs = []
    for k in range(n):
        probe.reset()
        settle(app, 0.3)
        probe.beat(True)
        t0 = now()
        w.step.value = (20.0, 10.0, 5.0)[k % 3] if w.step.value != (20.0, 10.0, 5.0)[k % 3] else 25.0
        times = shown(app, w, probe)
        probe.beat(False)
        runs.append(split(probe, t0, times))
    w.live.value = False
    return runs


def _psf_alone(w) -> None:
    from microscope_qc.analysis.psf import analyze_psf

    analyze_psf(w.layer_combo.value.data, w.settings())


def _field_alone(w) -> None:
    from microscope_qc.analysis.field import analyze_field

    dark = w.dark_combo.value
    analyze_field(
        np.asarray(w.layer_combo.value.data),
        w.settings(),
        dark=None if dark is None else np.asarray(dark.data),
    )


def _coreg_alone(w) -> None:
    from microscope_qc.analysis.coregistration import analyze_coregistration

    analyze_coregistration(w._data()[0], w.settings())


def _psf_prepare(w) -> None:
    w.use_positions.value = False


def _field_prepare(w) -> None:
    w.live.value = False


PSF = ("PSF / resolution (beads)", "measure_button", "microscope_qc.widgets.psf", "analyze_psf")
FIELD = ("Field illumination / flatness", "run_button", "microscope_qc.widgets.field", "analyze_field")
COREG = (
    "Chromatic co-registration",
    "run_button",
    "microscope_qc.widgets.coregistration",
    "analyze_coregistration",
)
CASES = [
    Case("psf-beads", *PSF, _psf_prepare, lambda w, j: setattr(w.threshold, "value", 7.0 + j), _psf_alone),
    Case(
        "psf-aberrated", *PSF, _psf_prepare, lambda w, j: setattr(w.threshold, "value", 7.0 + j), _psf_alone
    ),
    Case(
        "flat-field",
        *FIELD,
        _field_prepare,
        lambda w, j: setattr(w.step, "value", 5.0 * (1 + j % 3)),
        _field_alone,
    ),
    Case(
        "flat-field-misaligned",
        *FIELD,
        _field_prepare,
        lambda w, j: setattr(w.step, "value", 5.0 * (1 + j % 3)),
        _field_alone,
    ),
    Case(
        "two-colour-beads",
        *COREG,
        lambda w: None,
        lambda w, j: setattr(w.model, "value", ("affine", "translation")[j % 2]),
        _coreg_alone,
    ),
]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    only = sys.argv[2:]
    napari.qt.get_qapp()
    print(f"napari {napari.__version__}; times in ms, click → result shown, minimum of {n} runs", flush=True)
    for case in CASES:
        if not only or case.sample in only:
            measure_case(case, n)


if __name__ == "__main__":
    main()

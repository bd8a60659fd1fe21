"""Click to result in napari, as users feel it: run under a display (``xvfb-run -a python benchmarks/widgets.py``).

For each measurement widget, opened the way napari's menu opens it, on its bundled sample:

* click → result: from the Measure click until the numbers and overlays are all on screen;
* the longest event-loop stall (a 20 ms heartbeat timer), split into the analysis (worker) phase,
  the first draw (which adds the layers) and a re-run (which updates them in place);
* baselines measured in the same run: the analysis call alone, and napari's own cost of adding one
  small image and one points layer to this viewer (what a first draw cannot go below).

Nothing is asserted; it prints what it measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import napari
import numpy as np
from qtpy.QtCore import QTimer

PLUGIN = "napari-microscope-qc"


class Heartbeat:
    def __init__(self):
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.ticks.append(time.perf_counter())

    def longest_ms(self, since: float = 0.0, until: float = float("inf")) -> float:
        t = np.array(self.ticks)
        gaps = np.diff(t)
        sel = (t[1:] > since) & (t[:-1] < until)
        return float(gaps[sel].max() * 1000) if sel.any() else 0.0


def pump(app, until: Callable[[], bool], timeout: float = 120.0) -> None:
    t0 = time.perf_counter()
    while not until() and time.perf_counter() - t0 < timeout:
        app.processEvents()
        time.sleep(0.002)


def settle(app, seconds: float = 0.5) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
        time.sleep(0.005)


def napari_add_cost(viewer, app) -> tuple[float, float]:
    """Milliseconds napari takes to add (and paint) a 64 × 64 image and a 24-point layer."""
    out = []
    for make in (
        lambda: viewer.add_image(
            np.random.default_rng(0).random((64, 64), np.float32), name="baseline image"
        ),
        lambda: viewer.add_points(np.random.default_rng(0).random((24, 2)) * 64, name="baseline points"),
    ):
        t0 = time.perf_counter()
        layer = make()
        app.processEvents()
        out.append((time.perf_counter() - t0) * 1000)
        viewer.layers.remove(layer)
        settle(app, 0.2)
    return out[0], out[1]


def repaint_cost(w, app) -> float:
    """Longest event-loop stall (ms) when the dock changes one thing: its status line, then its progress bar.

    With napari's OpenGL canvas in the same window, any widget repaint recomposes the window; on a
    software renderer (a virtual display) that alone is what the stall of one progress step cannot
    go below.
    """
    beat = Heartbeat()
    beat.start()
    for k in range(4):
        w.say(f"baseline step {k} of 4")
        settle(app, 0.15)
        w.progress.setValue(250 * (k + 1))
        settle(app, 0.15)
    beat.stop()
    w.progress.setValue(0)
    w.say("")
    return beat.longest_ms()


def run(name: str, sample: str, button: str, prepare, change, analysis_only) -> None:
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1600, 1000)
    app = napari.qt.get_qapp()
    viewer.open_sample(PLUGIN, sample)
    t_open = time.perf_counter()
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    open_ms = (time.perf_counter() - t_open) * 1000
    prepare(w)
    settle(app)
    image_ms, points_ms = napari_add_cost(viewer, app)
    repaint_ms = repaint_cost(w, app)
    t0 = time.perf_counter()
    analysis_only(w)
    alone_ms = (time.perf_counter() - t0) * 1000
    settle(app)

    beat = Heartbeat()
    beat.start()
    t0 = time.perf_counter()
    getattr(w, button).click()
    pump(app, lambda: not w.task.running)
    t_worker = time.perf_counter()
    pump(app, lambda: not w.busy)
    first_ms = (time.perf_counter() - t0) * 1000
    settle(app, 0.3)
    beat.stop()
    stall_analysis = beat.longest_ms(until=t_worker)
    stall_first_draw = beat.longest_ms(since=t_worker)
    n_layers = len(w.layers.roles())

    change(w)
    pump(app, lambda: not w.busy)
    settle(app)
    beat.start()
    t0 = time.perf_counter()
    getattr(w, button).click()
    pump(app, lambda: not w.busy)
    rerun_ms = (time.perf_counter() - t0) * 1000
    settle(app, 0.3)
    beat.stop()
    print(
        f"{name}: dock opened in {open_ms:.0f} ms; analysis call alone {alone_ms:.0f} ms\n"
        f"  first Measure: click → result {first_ms:.0f} ms, {n_layers} layers added; longest stall "
        f"{stall_analysis:.0f} ms while analysing, {stall_first_draw:.0f} ms while adding the layers\n"
        f"  re-run (in place): click → result {rerun_ms:.0f} ms; longest stall {beat.longest_ms():.0f} ms; "
        f"draw steps {', '.join(f'{d * 1000:.0f}' for d in w.drawing.durations)} ms\n"
        f"  baseline, napari adding a 64² image: {image_ms:.0f} ms, 24 points: {points_ms:.0f} ms; "
        f"one status-line or progress-bar change: {repaint_ms:.0f} ms"
    )
    viewer.close()


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


def main() -> None:
    run(
        "PSF / resolution (beads)",
        "psf-beads",
        "measure_button",
        lambda w: setattr(w.use_positions, "value", False),
        lambda w: setattr(w.threshold, "value", 8.0),
        _psf_alone,
    )
    run(
        "Field illumination / flatness",
        "flat-field",
        "run_button",
        lambda w: setattr(w.live, "value", False),
        lambda w: setattr(w.step, "value", 5.0),
        _field_alone,
    )
    run(
        "Chromatic co-registration",
        "two-colour-beads",
        "run_button",
        lambda w: None,
        lambda w: setattr(w.model, "value", "affine"),
        _coreg_alone,
    )


if __name__ == "__main__":
    main()

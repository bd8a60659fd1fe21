"""Progress in the dock: nothing repaints during the first moments of a run (the status line says
what runs from the click on), later steps are coalesced, and no step shows after the outcome."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget


@pytest.fixture
def dock(make_napari_viewer, ui):
    from microscope_qc.samples import napari_psf_beads

    viewer = make_napari_viewer()
    data, kwargs, _ = napari_psf_beads()[0]
    viewer.add_image(data, **kwargs)
    return ui.open_dock(viewer, "PSF / resolution (beads)")[1]


def test_early_steps_wait_and_coalesce(dock):
    w = dock
    w.say("Measuring…")
    w._run_started = time.perf_counter()
    w._on_progress(0.2, "fitting beads")
    w._on_progress(0.4, "")  # no message: the last one that said something is kept
    assert w.progress.value() <= 0 and w.status.text() == "Measuring…"  # nothing repainted yet
    w._show_pending_progress()  # what the timer does when the run is old enough
    assert w.progress.value() == 400 and w.status.text() == "fitting beads"


def test_a_step_still_waiting_never_overwrites_the_outcome(dock, qtbot, ui):
    w = dock

    def work(progress, cancel):
        progress(0.5, "still fitting")
        return "detect", np.zeros((0, 3)), []

    w._start(work, "Detecting beads…")
    ui.wait_idle(qtbot, w)
    qtbot.wait(600)  # longer than the delay of the first step shown
    assert w.status.text().startswith("0 beads found") and w.progress.value() == 1000

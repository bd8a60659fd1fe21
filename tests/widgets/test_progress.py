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
    qtbot.wait(1200)  # longer than the delay of the first step shown
    assert w.status.text().startswith("0 beads found") and w.progress.value() == 1000


def test_a_short_run_shows_no_progress_a_long_one_offers_cancel(dock, qtbot, ui):
    from microscope_qc.analysis._common import check_cancel

    w = dock
    w.progress.setValue(1000)  # as a finished run leaves it
    w._start(lambda progress, cancel: (progress(0.5, "half"), ("detect", np.zeros((0, 3)), []))[1], "Quick…")
    assert not w.cancel_button.isEnabled() and w.progress.value() == 1000  # nothing to repaint
    ui.wait_idle(qtbot, w)
    assert not w.cancel_button.isEnabled() and w.progress.value() == 1000

    def slow(progress, cancel):
        for k in range(200):
            progress(k / 200, "working")
            check_cancel(cancel, "The test run")
            time.sleep(0.02)
        return "detect", np.zeros((0, 3)), []

    w._start(slow, "Slow…")
    assert not w.cancel_button.isEnabled()
    qtbot.waitUntil(w.cancel_button.isEnabled, timeout=3000)  # with the first progress shown
    assert 0 < w.progress.value() < 1000 and w.status.text() == "working"
    ui.click(qtbot, w.cancel_button)
    ui.wait_idle(qtbot, w)
    assert w.status.text().startswith("Cancelled") and not w.cancel_button.isEnabled()

"""How results are drawn: what the result needs first (new layers in one turn), hidden layers after
it in the order the specs give, in-place updates afterwards; no timing asserted."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget


def _specs(value: float):
    from microscope_qc.widgets._layers import LayerSpec

    image = np.full((16, 16), value, np.float32)
    return [
        LayerSpec("hidden map", "image", "a hidden map", image, style={"visible": False}),
        LayerSpec("shown map", "image", "a shown map", image + 1),
        LayerSpec("marks", "points", "some marks", np.array([[value, 2.0], [3.0, 4.0]])),
    ]


def _run(qtbot, queue, plan, log):
    queue.run(**plan, done=lambda: log.append("done"), finished=lambda: log.append("finished"))
    qtbot.waitUntil(lambda: not queue.busy, timeout=30000)


def test_result_first_hidden_layers_after_it_in_the_specs_order(make_napari_viewer, qtbot):
    from microscope_qc.widgets._layers import DrawQueue, ResultLayers

    viewer = make_napari_viewer()
    source = viewer.add_image(np.zeros((16, 16), np.float32), name="image")
    layers, queue = ResultLayers(viewer, "test"), DrawQueue()
    plan = layers.plan(_specs(1.0), source)
    assert plan["batch"] and len(plan["steps"]) == 2 and len(plan["later"]) == 1
    log: list[str] = []
    plan["steps"] = [*plan["steps"], lambda: log.append(sorted(layers.roles()))]
    plan["later"] = [*plan["later"], lambda: log.append(sorted(layers.roles()))]
    _run(qtbot, queue, plan, log)
    # the shown layers were there before the dock was filled; the hidden one came after, then "finished"
    assert log == [["marks", "shown map"], "done", ["hidden map", "marks", "shown map"], "finished"]
    names = [lyr.name for lyr in viewer.layers]
    assert names == ["image", "a hidden map", "a shown map", "some marks"]  # as if added in the specs' order
    assert not layers.find("hidden map").visible


def test_second_run_updates_the_same_layers_in_place(make_napari_viewer, qtbot):
    from microscope_qc.widgets._layers import DrawQueue, ResultLayers

    viewer = make_napari_viewer()
    source = viewer.add_image(np.zeros((16, 16), np.float32), name="image")
    layers, queue = ResultLayers(viewer, "test"), DrawQueue()
    _run(qtbot, queue, layers.plan(_specs(1.0), source), [])
    ids = [lyr.unique_id for lyr in viewer.layers]
    plan = layers.plan(_specs(5.0), source)
    assert not plan["batch"] and not plan["later"]  # nothing to add: in-place updates, cheap turns
    _run(qtbot, queue, plan, [])
    assert [lyr.unique_id for lyr in viewer.layers] == ids
    assert float(layers.find("hidden map").data[0, 0]) == 5.0 and layers.find("marks").data[0, 0] == 5.0


def test_batch_runs_its_steps_in_one_turn_and_cancel_stops_everything(qtbot):
    from qtpy.QtCore import QTimer

    from microscope_qc.widgets._layers import DrawQueue

    queue = DrawQueue()
    log: list[str] = []

    def slow(name: str):
        def step():
            QTimer.singleShot(0, lambda: log.append("a turn passed"))
            t = __import__("time").perf_counter()
            while __import__("time").perf_counter() - t < 0.05:  # longer than the turn's budget
                pass
            log.append(name)

        return step

    queue.run([slow("a"), slow("b"), slow("c")], batch=True)
    qtbot.waitUntil(lambda: not queue.busy, timeout=10000)
    assert log[:3] == ["a", "b", "c"]  # no event-loop turn between them
    log.clear()
    queue.run([slow("a"), slow("b"), slow("c")])
    qtbot.waitUntil(lambda: not queue.busy, timeout=10000)
    assert log.index("a turn passed") < log.index("c")  # unbatched: turns between costly steps
    queue.run([slow("a")], later=[slow("late")], finished=lambda: log.append("finished"))
    queue.cancel()
    assert not queue.busy
    qtbot.wait(100)
    assert "late" not in log and "finished" not in log

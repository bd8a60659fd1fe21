"""The field-illumination widget as users meet it: opened from napari's menu, overlays updated in
place by live re-runs, a dark frame never carried to another image, regions drawn and honoured."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Field illumination / flatness"


@pytest.fixture
def viewer_with_flat(make_napari_viewer):
    from microscope_qc.samples import napari_flat_field

    viewer = make_napari_viewer()
    for data, kwargs, _ in napari_flat_field():
        viewer.add_image(data, **kwargs)
    return viewer


def test_measure_overlays_live_update_in_place_and_export(viewer_with_flat, qtbot, tmp_path, ui):
    viewer = viewer_with_flat
    _, w = ui.open_dock(viewer, NAME)
    assert w.layer_combo.value.name == "synthetic flat"
    assert w.dark_combo.value.name == "synthetic flat (dark)"
    ui.click(qtbot, w.run_button)
    assert w.task.running
    ui.wait_idle(qtbot, w)
    roles = set(w.layers.roles())
    assert {"iso", "zone", "centres", "profiles", "model", "residual"} <= roles
    iso = w.layers.find("iso")
    assert iso.data.max() == 100 and set(np.unique(iso.data)) <= set(range(0, 101, 10))  # classes in %
    assert len(w.layers.find("profiles").data) == 4
    centres = w.layers.find("centres")
    assert "fitted illumination centre" in list(centres.features["name"])
    assert set(np.atleast_1d(centres.text.values)) <= {""}  # a legend in the dock, no piled-up labels
    assert "Iso-intensity classes" in w.legend.text() and "90–100\u00a0%" in w.legend.text()
    assert "Illumination model" in w.model_scale.title.text() and w.model_scale.limits_text[1]
    assert len(w.profiles.curves) == 4 and "profiles" in w.profiles.title  # the four profiles, plotted
    truth = viewer.layers["synthetic flat"].metadata["truth"]
    assert w.result.metric("illumination_centre_x_px").value == pytest.approx(truth["centre_x_px"], abs=5)
    assert w.table.rowCount() == len(w.result.metrics)
    # the user's display choices survive live re-runs; the layers are the same objects
    iso.opacity = 0.8
    ids = [lyr.unique_id for lyr in viewer.layers]
    w.step.value = 20.0
    assert w.busy
    # a live re-run leaves Measure enabled (no flicker); a click during it measures once more after it
    assert w.run_button.isEnabled() and w.task.running
    hits = w._reuse.hits
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert [lyr.unique_id for lyr in viewer.layers] == ids
    assert set(np.unique(w.layers.find("iso").data)) <= set(range(0, 101, 20))
    assert w._reuse.hits == hits + 2  # both re-runs took the step-independent work from the first
    assert w.layers.find("iso").opacity == pytest.approx(0.8)
    # export, with the flat-field image
    w.write_flat.value = True
    paths = w.export(tmp_path / "out")
    doc = json.loads(paths["json"].read_text())
    assert doc["measurement"] == "field"
    assert doc["settings"]["step_percent"] == {
        **doc["settings"]["step_percent"],
        "value": 20.0,
        "source": "user",
    }
    assert (tmp_path / "out" / "flat_field.tif").exists() and (tmp_path / "out" / "profiles.csv").exists()
    w.confirm_overwrite = lambda msg: False
    before = paths["json"].read_bytes()
    assert w.export(tmp_path / "out") is None
    assert paths["json"].read_bytes() == before


def test_hidden_layers_sit_below_the_overlays_and_live_changes_end_on_the_latest_values(
    viewer_with_flat, qtbot, ui
):
    viewer = viewer_with_flat
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    order = [w.layers.find(r).unique_id for r in ("iso", "zone", "model", "residual", "profiles", "centres")]
    ids = [lyr.unique_id for lyr in viewer.layers]
    assert (
        sorted(order, key=ids.index) == order
    )  # the order of the specs, though model and residual came later
    assert not w.layers.find("model").visible and w.model_scale.limits_text[1]  # its colour scale follows it
    assert viewer.layers.selection.active.name == "synthetic flat"  # the image, not the last layer added
    # two changes in a row while the first runs: one more run, with the latest values
    w.step.value = 20.0
    w.step.value = 25.0
    ui.wait_idle(qtbot, w)
    assert w.result.settings["step_percent"].value == 25.0
    assert set(np.unique(w.layers.find("iso").data)) <= {0.0, 25.0, 50.0, 75.0, 100.0}
    assert "25" in w.layers.find("iso").name and [lyr.unique_id for lyr in viewer.layers] == ids
    # a change of σ moves the profiles: the plot follows
    before = [np.copy(y) for *_, y in w.profiles.curves]
    w.sigma.value = float(w.sigma.value) * 3
    ui.wait_idle(qtbot, w)
    assert any(
        not np.allclose(a, b, equal_nan=True) for a, (*_, b) in zip(before, w.profiles.curves, strict=True)
    )


def test_dark_frame_is_not_carried_to_another_image(viewer_with_flat, qtbot, ui):
    from microscope_qc.analysis.field import FieldSettings, analyze_field
    from microscope_qc.samples import napari_flat_field_misaligned

    viewer = viewer_with_flat
    (other, kwargs, _), *_ = napari_flat_field_misaligned()
    viewer.add_image(other, **{**kwargs, "name": "second slide"})  # no dark image of its own
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    w.layer_combo.value = viewer.layers["second slide"]
    assert w.dark_combo.value is None  # the first slide's dark frame does not follow
    assert "dark image" in w.status.text()
    assert not w.layers.find("iso").visible and "synthetic flat" in w.layers.find("iso").name
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    expected = analyze_field(other, FieldSettings()).metric("uniformity_percent").value
    assert w.result.metric("uniformity_percent").value == pytest.approx(expected, rel=1e-9)
    assert w.layers.find("iso").visible
    # a dark image of another size is refused in the widget's words
    viewer.add_image(np.zeros((10, 10), np.uint16), name="tiny dark")
    w.dark_combo.value = viewer.layers["tiny dark"]
    assert w.dark_combo.value is None and "'dark image'" in w.status.text()
    qtbot.wait(600)  # no live re-run wipes the message away
    assert not w.busy and "'dark image'" in w.status.text()


def test_drawn_exclusion_is_honoured_and_recorded(viewer_with_flat, qtbot, tmp_path, ui):
    viewer = viewer_with_flat
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    whole = w.result.metric("analysed_fraction_percent").value
    assert whole == pytest.approx(100.0)
    ui.click(qtbot, w.exclude_button)
    shapes = w.layers.find("roi exclude")
    assert shapes is not None and viewer.layers.selection.active.name == shapes.name
    h, wd = viewer.layers["synthetic flat"].data.shape
    shapes.add_rectangles(np.array([[0, 0], [h / 2 - 1, wd - 1]]))  # the top half, in pixels (scale 1)
    ui.wait_idle(qtbot, w)  # live: the edit re-runs the analysis
    assert w.result.metric("analysed_fraction_percent").value == pytest.approx(50.0, abs=0.5)
    paths = w.export(tmp_path / "roi")
    doc = json.loads(paths["json"].read_text())
    assert "exclude 1 rectangle" in json.dumps(doc["settings"])


def test_bad_input_is_reported(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.add_image(np.full((64, 64), 7, dtype=np.uint16), name="constant")
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert "constant" in w.status.text() and w.result is None
    viewer.add_image(np.random.default_rng(1).poisson(100, (30, 64, 64)).astype(np.uint16), name="a stack")
    w.layer_combo.value = viewer.layers["a stack"]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert "z-stack or time series" in w.status.text() and "index" not in w.status.text()


def test_no_event_loop_stall_while_measuring_and_redrawing(viewer_with_flat, qtbot, ui):
    """The analysis phase and live re-runs (in place) never stall the viewer > 100 ms (see the PSF test
    for why the very first draw is reported by benchmarks/widgets.py, and for the three tries)."""
    _, w = ui.open_dock(viewer_with_flat, NAME)
    analysing, live = [], []
    for step in (5.0, 20.0, 10.0):
        with ui.Heartbeat() as beat:
            ui.click(qtbot, w.run_button)
            qtbot.waitUntil(lambda: not w.task.running, timeout=90000)
        analysing.append(beat.longest_stall_ms)
        ui.wait_idle(qtbot, w)
        with ui.Heartbeat() as beat:
            w.step.value = step  # a live re-run: new iso classes, same layers
            ui.wait_idle(qtbot, w)
        live.append(beat.longest_stall_ms)
        assert set(np.unique(w.layers.find("iso").data)) <= {j * step for j in range(int(100 / step) + 1)}
        if min(analysing) <= 100 and min(live) <= 100:
            break
    assert min(analysing) <= 100, f"the viewer froze during the analysis: {analysing} ms"
    assert min(live) <= 100, f"the viewer froze on live re-runs: {live} ms"

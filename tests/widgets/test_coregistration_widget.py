"""The co-registration widget as users meet it: opened from napari's menu (a viewer proxy), vectors
that appear and stay, editable bead positions, correction and export."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Chromatic co-registration"


@pytest.fixture
def viewer_with_beads(make_napari_viewer):
    from microscope_qc.samples import napari_coregistration

    viewer = make_napari_viewer()
    data, kwargs, _ = napari_coregistration()[0]
    layer = viewer.add_image(data, **kwargs)
    return viewer, layer, data


def test_measure_vectors_appear_and_update_in_place(viewer_with_beads, qtbot, tmp_path, ui):
    viewer, layer, data = viewer_with_beads
    _, w = ui.open_dock(viewer, NAME)
    assert [lyr.name for lyr in w.layers_select.value] == [layer.name]
    assert w.microscope.wavelength_em_nm.value == "520, 610"
    ui.click(qtbot, w.run_button)
    assert w.task.running
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    beads = w.layers.find("beads")  # both channels in one layer, ringed in their colours
    assert set(beads.features["channel"]) == {0, 1} and len(beads.data) == len(beads.features)
    ringed = {tuple(c) for c in np.round(beads.border_color, 3)}
    assert len(ringed) == 2
    vec = w.layers.find("shifts")
    assert vec is not None and vec.name in [lyr.name for lyr in viewer.layers], (
        "no shift vectors after Measure"
    )
    assert vec.data.shape == (30, 2, 2) and vec.visible
    residuals = w.layers.find("residuals")  # added after the result is shown, hidden
    assert residuals is not None and not residuals.visible and len(residuals.data) == 30
    sh = w.result.tables["shifts"]
    np.testing.assert_allclose(vec.data[:, 1, 1], sh.shift_x_um / 0.065 * 50, rtol=1e-6)
    # a new exaggeration redraws the same layer, keeping the user's colour
    vec.edge_color = "red"
    uid = vec.unique_id
    w.exaggeration.value = 100.0
    vec = w.layers.find("shifts")
    assert vec.unique_id == uid and "×100" in vec.name
    np.testing.assert_allclose(vec.data[:, 1, 1], sh.shift_x_um / 0.065 * 100, rtol=1e-6)
    assert tuple(np.round(vec.edge_color[0][:3], 2)) == (1.0, 0.0, 0.0)
    assert w.table.headers() == ["Quantity", "channel 1 → 0"]  # one pair: shown as a tall table
    quantities = list(w.table.source.frame["quantity"])
    assert "Shift x (µm)" in quantities and not any("_" in q.replace("MetroloJ_QC", "") for q in quantities)
    assert "Vectors" in w.legend.text()
    # correction, drawn as tagged layers
    ui.click(qtbot, w.correct_button)
    ui.wait_idle(qtbot, w)
    corrected = w.layers.find("corrected ch1")
    assert corrected is not None and corrected.data.shape == data.shape[1:]
    # a re-run keeps every layer object
    ids = [lyr.unique_id for lyr in viewer.layers]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert [lyr.unique_id for lyr in viewer.layers] == ids
    # export
    paths = w.export(tmp_path / "out")
    assert json.loads(paths["json"].read_text())["measurement"] == "coregistration"
    assert (tmp_path / "out" / "pairs.csv").exists() and (tmp_path / "out" / "registration.json").exists()
    w.confirm_overwrite = lambda msg: False
    assert w.export(tmp_path / "out") is None


def test_edited_positions_are_measured(viewer_with_beads, qtbot, ui):
    viewer, layer, _ = viewer_with_beads
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.detect_button)
    ui.wait_idle(qtbot, w)
    pts = w.layers.find("positions")
    assert pts is not None and len(pts.data) >= 25, w.status.text()
    pts.data = pts.data[:10]  # the user keeps ten beads
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is not None, w.status.text()
    pair = w.result.tables["pairs"].iloc[0]
    assert pair["n_matched"] <= 10
    truth = layer.metadata["truth"].pivot(index="bead", columns="channel", values="x_um")
    expected = float((truth[1] - truth[0]).mean())  # 0.1 % magnification spreads it by ~10 nm over the field
    assert w.result.metric("shift_x_um", 1).value == pytest.approx(expected, abs=0.015)


def test_single_channel_is_refused_in_the_widgets_words(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.add_image(
        np.random.default_rng(0).poisson(10, (20, 64, 64)).astype(np.uint16),
        name="one",
        scale=(0.2, 0.1, 0.1),
    )
    _, w = ui.open_dock(viewer, NAME)
    w.layers_select.value = [viewer.layers["one"]]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert "single channel" in w.status.text() and "'image(s)'" in w.status.text()
    assert w.result is None

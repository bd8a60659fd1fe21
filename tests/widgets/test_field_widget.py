"""The field-illumination widget driven headless: overlays, live updates, export."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget


@pytest.fixture
def viewer_with_flat(make_napari_viewer):
    from microscope_qc.samples import napari_flat_field

    viewer = make_napari_viewer()
    for data, kwargs, _ in napari_flat_field():
        viewer.add_image(data, **kwargs)
    return viewer


def _wait(qtbot, widget):
    qtbot.waitUntil(lambda: not widget.task.running and not widget._debounce.isActive(), timeout=60000)


def test_measure_overlays_live_update_and_export(viewer_with_flat, qtbot, tmp_path):
    from microscope_qc.widgets.field import FieldWidget

    viewer = viewer_with_flat
    w = FieldWidget(viewer)
    assert w.layer_combo.value.name == "synthetic flat"
    assert w.dark_combo.value.name == "synthetic flat (dark)"
    w.measure()
    assert w.task.running
    _wait(qtbot, w)
    names = {lyr.name for lyr in viewer.layers}
    assert {
        "field iso-intensity",
        "field reference zone",
        "field centres",
        "field profiles",
        "field model",
        "field residual",
    } <= names
    iso = viewer.layers["field iso-intensity"].data
    assert iso.max() == 11  # 10 % steps: 0 %, ..., 100 % → labels 1..11
    assert len(viewer.layers["field profiles"].data) == 4
    centres = viewer.layers["field centres"]
    assert "fitted illumination centre" in list(centres.features["name"])
    truth = viewer.layers["synthetic flat"].metadata["truth"]
    fitted = w.result.metric("illumination_centre_x_px").value
    assert fitted == pytest.approx(truth["centre_x_px"], abs=5)
    assert w.table.rowCount() == len(w.result.metrics)
    # live: a new step re-runs by itself and the labels follow
    w.step.value = 20.0
    assert w._debounce.isActive()
    _wait(qtbot, w)
    assert viewer.layers["field iso-intensity"].data.max() == 6
    assert sum(1 for lyr in viewer.layers if lyr.name == "field iso-intensity") == 1
    # export, with the flat-field image
    w.write_flat.value = True
    paths = w.export(tmp_path / "out")
    doc = json.loads(paths["json"].read_text())
    assert doc["measurement"] == "field"
    assert (
        doc["settings"]["step_percent"]["value"] == 20.0
        and doc["settings"]["step_percent"]["source"] == "user"
    )
    assert (tmp_path / "out" / "flat_field.tif").exists() and (tmp_path / "out" / "profiles.csv").exists()
    w.confirm_overwrite = lambda msg: False
    before = paths["json"].read_bytes()
    assert w.export(tmp_path / "out") is None
    assert paths["json"].read_bytes() == before


def test_bad_input_is_reported(make_napari_viewer, qtbot):
    from microscope_qc.widgets.field import FieldWidget

    viewer = make_napari_viewer()
    viewer.add_image(np.full((64, 64), 7, dtype=np.uint16), name="constant")
    w = FieldWidget(viewer)
    w.measure()
    _wait(qtbot, w)
    assert "constant" in w.status.text() and w.result is None

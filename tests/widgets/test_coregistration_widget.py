"""The co-registration widget driven headless: measure, vectors, correction, export."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget


def _wait(qtbot, widget):
    qtbot.waitUntil(lambda: not widget.task.running, timeout=60000)


def test_measure_vectors_correct_export(make_napari_viewer, qtbot, tmp_path):
    from microscope_qc.samples import napari_coregistration
    from microscope_qc.widgets.coregistration import CoregistrationWidget

    viewer = make_napari_viewer()
    data, kwargs, _ = napari_coregistration()[0]
    layer = viewer.add_image(data, **kwargs)
    w = CoregistrationWidget(viewer)
    assert w.layers_select.value == [layer]
    assert w.microscope.wavelength_em_nm.value == "520, 610"
    w.measure()
    assert w.task.running
    _wait(qtbot, w)
    assert w.result is not None, w.status.text()
    names = [lyr.name for lyr in viewer.layers]
    assert "co-registration beads ch0" in names and "co-registration beads ch1" in names
    vec = viewer.layers["co-registration shifts ×50"]
    assert vec.data.shape == (30, 2, 2)
    # exaggeration: the vectors are 50 × the shift in pixels
    sh = w.result.tables["shifts"]
    np.testing.assert_allclose(vec.data[:, 1, 1], sh.shift_x_um / 0.065 * 50, rtol=1e-6)
    w.exaggeration.value = 100.0
    assert "co-registration shifts ×100" in [lyr.name for lyr in viewer.layers]
    assert "co-registration shifts ×50" not in [lyr.name for lyr in viewer.layers]
    assert w.table.rowCount() == 1
    # correction
    w.apply_correction()
    _wait(qtbot, w)
    assert "corrected channel 1" in [lyr.name for lyr in viewer.layers]
    assert viewer.layers["corrected channel 1"].data.shape == data.shape[1:]
    # export
    paths = w.export(tmp_path / "out")
    assert json.loads(paths["json"].read_text())["measurement"] == "coregistration"
    assert (tmp_path / "out" / "pairs.csv").exists() and (tmp_path / "out" / "registration.json").exists()
    w.confirm_overwrite = lambda msg: False
    assert w.export(tmp_path / "out") is None


def test_single_channel_is_refused(make_napari_viewer, qtbot):
    from microscope_qc.widgets.coregistration import CoregistrationWidget

    viewer = make_napari_viewer()
    viewer.add_image(
        np.random.default_rng(0).poisson(10, (20, 64, 64)).astype(np.uint16),
        name="one",
        scale=(0.2, 0.1, 0.1),
    )
    w = CoregistrationWidget(viewer)
    w.layers_select.value = [viewer.layers["one"]]
    w.measure()
    _wait(qtbot, w)
    assert "single channel" in w.status.text() or "two channels" in w.status.text()
    assert w.result is None

"""The QC history and instrument-profile widgets driven headless; recording from a measurement widget."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget


def test_instrument_editor_round_trip(make_napari_viewer, tmp_path):
    from qtpy.QtWidgets import QTableWidgetItem

    from microscope_qc.profiles import load_profile
    from microscope_qc.widgets.instrument import InstrumentWidget

    w = InstrumentWidget(make_napari_viewer())
    w.new()
    w.name.value = "Scope B"
    w.modality.value = "confocal"
    table = w.tables["objectives"].table
    table.insertRow(0)
    for c, v in enumerate(["63x oil", "63", "1.4", "oil", "1.518", "Plan Apo"]):
        table.setItem(0, c, QTableWidgetItem(v))
    tol = w.tables["tolerances"].table
    tol.insertRow(0)
    for c, v in enumerate(["fwhm_x_ratio", "", "1.3"]):
        tol.setItem(0, c, QTableWidgetItem(v))
    path = w.save(tmp_path / "b.yaml")
    p = load_profile(path)
    assert (
        p.name == "Scope B"
        and p.objectives[0].na == 1.4
        and p.tolerances[0].max == 1.3
        and p.tolerances[0].min is None
    )
    # invalid input is refused with the reason, and nothing is written
    table.setItem(0, 2, QTableWidgetItem("1.6"))
    assert w.save(tmp_path / "c.yaml") is None
    assert "immersion index" in w.status.text() and not (tmp_path / "c.yaml").exists()
    # another existing file is not overwritten without asking
    w.confirm_overwrite = lambda msg: False
    table.setItem(0, 2, QTableWidgetItem("1.3"))
    (tmp_path / "d.yaml").write_text("keep me")
    assert w.save(tmp_path / "d.yaml") is None
    assert (tmp_path / "d.yaml").read_text() == "keep me"
    w2 = InstrumentWidget(None)
    assert w2.open(path).name == "Scope B"


def test_record_from_widget_and_browse_history(make_napari_viewer, qtbot, tmp_path):
    from microscope_qc.samples import napari_flat_field
    from microscope_qc.widgets.field import FieldWidget
    from microscope_qc.widgets.history import HistoryWidget

    viewer = make_napari_viewer()
    for data, kwargs, _ in napari_flat_field():
        viewer.add_image(data, **kwargs)
    hist = tmp_path / "h.sqlite"
    fw = FieldWidget(viewer)
    fw.history_options.record.value = True
    fw.history_options.location.value = str(hist)
    fw.history_options.instrument.value = "Scope F"
    for k in range(3):
        fw.measure()
        qtbot.waitUntil(lambda: not fw.task.running, timeout=60000)
        fw.export(tmp_path / f"e{k}")
        assert "recorded" in fw.status.text()
    hw = HistoryWidget(viewer)
    hw.open(str(hist))
    assert hw.instrument.value == "Scope F"
    assert hw.table.rowCount() == 3
    hw.metric.value = "uniformity_percent"
    assert len(hw.series()) == 3
    assert "runs" in hw.drift_label.text()
    hw.start.value, hw.end.value = "2000-01-01", "2100-01-01"
    hw.make_period_report(tmp_path / "period")
    qtbot.waitUntil(lambda: not hw.task.running, timeout=60000)
    assert (tmp_path / "period" / "qc_period_report.pdf").exists(), hw.status.text()
    # a run whose report file is gone: a clear message, nothing opened
    import shutil

    shutil.rmtree(tmp_path / "e0")
    hw.table.selectRow(0)
    assert not hw.open_selected_report()
    assert "missing" in hw.status.text()


def test_corrupted_history_is_reported(make_napari_viewer, tmp_path):
    from microscope_qc.widgets.history import HistoryWidget

    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\x00garbage" * 100)
    hw = HistoryWidget(make_napari_viewer())
    hw.open(str(bad))
    assert "not a QC history" in hw.status.text() and hw.store is None
    assert np.frombuffer(bad.read_bytes(), np.uint8).size == 800


def test_instrument_profile_prefills_a_measurement_widget(make_napari_viewer, tmp_path):
    from microscope_qc.profiles import ChannelPreset, InstrumentProfile, Objective, save_profile
    from microscope_qc.widgets.psf import PSFWidget

    path = save_profile(
        InstrumentProfile(
            "Scope P",
            "widefield",
            objectives=[Objective("100x", 100, 1.45, "oil", 1.518)],
            channels=[ChannelPreset("GFP", 488, 515)],
        ),
        tmp_path / "p.yaml",
    )
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((10, 32, 32), np.uint16), name="no metadata", scale=(0.2, 0.1, 0.1))
    w = PSFWidget(viewer)
    assert w.na.value == ""  # nothing known yet
    w.microscope.profile_file.value = path
    w.microscope.channel_preset.value = "GFP"
    assert w.microscope.objective.value == "100x"
    assert float(w.na.value) == 1.45 and float(w.immersion_index.value) == 1.518
    assert float(w.wavelength_em_nm.value) == 515
    ms = w.settings().microscope
    assert (
        ms.source_of("na").source == "instrument"
        and ms.source_of("voxel_size_um").detail == "napari layer scale"
    )
    assert w.history_options.instrument.value == "Scope P"

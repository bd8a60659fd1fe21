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


# ---------------------------------------------------------------------------- the QC history widget as users meet it


def _history_with_runs(tmp_path, n=3):
    """A history of instrument 'Scope H' with ``n`` recorded runs, each with a report file."""
    from microscope_qc.history import HistoryStore, RunRecord
    from microscope_qc.results import Metric, Result, Verdict

    path = tmp_path / "hist" / "h.sqlite"
    store = HistoryStore(path)
    for k in range(n):
        r = Result(measurement="field")
        r.metrics = [Metric("uniformity_percent", 90.0 - k, "%", 0.5, 0, "U")]
        r.verdicts = [Verdict("uniformity_percent", True, 90.0 - k, 80.0, ">=", "default", 0)]
        report = tmp_path / f"run{k}" / "report.html"
        report.parent.mkdir()
        report.write_text("<html>run</html>")
        store.record(r, RunRecord("Scope H", acquired_at=f"2026-03-0{k + 1}", report_path=str(report)))
    return path


def _no_cli_flags(text):
    assert "--" not in text, text


def test_missing_history_is_created_only_after_asking(make_napari_viewer, tmp_path):
    from microscope_qc.widgets.history import HistoryWidget

    hw = HistoryWidget(make_napari_viewer())
    asked = []
    hw.confirm_create = lambda message: asked.append(message) or False
    typo = tmp_path / "qc-hsitory" / "h.sqlite"
    assert not hw.open(str(typo))
    assert asked and asked[0].startswith(f"No QC history at {typo}. Create a new, empty one?")
    assert f"The folder {tmp_path / 'qc-hsitory'} does not exist" in asked[0]
    status = hw.status.text()
    assert "nothing was created" in status and str(tmp_path / "qc-hsitory") in status
    assert "'history'" in status and hw.store is None
    _no_cli_flags(status)
    assert list(tmp_path.iterdir()) == []  # no folder, no file
    # yes: a new, empty history, and how to fill it from the measurement widgets
    hw.confirm_create = lambda message: True
    assert hw.open(str(typo))
    assert typo.exists() and hw.store is not None
    status = hw.status.text()
    assert "empty" in status and "record in the QC history on export" in status
    _no_cli_flags(status)
    # an existing history opens without asking
    hw.confirm_create = lambda message: pytest.fail("asked although the history exists")
    assert hw.open(str(_history_with_runs(tmp_path)))
    assert hw.instrument.value == "Scope H" and hw.table.rowCount() == 3
    # a failed open shows nothing of the previous history
    hw.confirm_create = lambda message: False
    assert not hw.open(str(typo.with_name("other.sqlite")))
    assert hw.store is None and hw.table.rowCount() == 0 and hw.instrument.value is None


def test_database_problems_end_in_the_status_line(make_napari_viewer, monkeypatch, tmp_path):
    import sys

    import microscope_qc.widgets.history as history_widget
    from microscope_qc.widgets.history import HistoryWidget

    # the PostgreSQL driver absent (whether or not it is installed here)
    for module in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, module, None)
    hw = HistoryWidget(make_napari_viewer())
    hw.confirm_create = lambda message: pytest.fail("nothing to create on a server that cannot be reached")
    assert not hw.open("postgresql://qc:secret@db.example/qc")
    status = hw.status.text()
    assert "Cannot open" in status and "psycopg[binary]" in status and "secret" not in status
    assert hw.store is None
    assert not hw.open("postgresql://qc@db.example:notaport/qc")
    assert "valid database URL" in hw.status.text() and "<br>" not in hw.status.text()
    # anything unexpected is shown too, never raised to Qt
    monkeypatch.setattr(
        history_widget, "HistoryStore", lambda *a, **k: (_ for _ in ()).throw(OSError("disk on fire"))
    )
    assert hw.open(str(tmp_path / "h.sqlite")) is None
    assert "disk on fire" in hw.status.text()


def test_period_report_dates_and_existing_report(make_napari_viewer, qtbot, tmp_path):
    from microscope_qc.widgets.history import HistoryWidget

    hw = HistoryWidget(make_napari_viewer())
    hw.open(str(_history_with_runs(tmp_path)))
    out = tmp_path / "period"
    # dates: the field is named, with the expected format
    hw.start.value, hw.end.value = "2026-13-01", "2026-12-31"
    assert not hw.make_period_report(out)
    assert "'report from (YYYY-MM-DD)'" in hw.status.text() and "2026-13-01" in hw.status.text()
    hw.start.value, hw.end.value = "2026-01-01", "31/12/2026"
    assert not hw.make_period_report(out)
    assert "'report to (YYYY-MM-DD)'" in hw.status.text() and "YYYY-MM-DD" in hw.status.text()
    hw.start.value, hw.end.value = "2026-12-31", "2026-01-01"
    assert not hw.make_period_report(out) and "after" in hw.status.text()
    _no_cli_flags(hw.status.text())
    assert not out.exists()
    hw.start.value, hw.end.value = "2026-01-01", "2026-12-31"
    hw.confirm_overwrite = lambda message: pytest.fail("asked although the folder is empty")
    assert hw.make_period_report(out)
    qtbot.waitUntil(lambda: not hw.task.running, timeout=60000)
    assert (out / "qc_period_report.pdf").exists(), hw.status.text()
    # a report is there: No keeps it and says so
    (out / "qc_period_report.json").write_text("mine")
    asked = []
    hw.confirm_overwrite = lambda message: asked.append(message) or False
    assert not hw.make_period_report(out)
    assert "qc_period_report.json" in asked[0]
    assert "Kept the existing period report" in hw.status.text()
    assert (out / "qc_period_report.json").read_text() == "mine"
    # Yes replaces it
    hw.confirm_overwrite = lambda message: True
    assert hw.make_period_report(out)
    qtbot.waitUntil(lambda: not hw.task.running, timeout=60000)
    assert "Wrote the period report" in hw.status.text()
    assert '"instrument": "Scope H"' in (out / "qc_period_report.json").read_text()


def test_report_path_shown_and_copied_without_a_browser(make_napari_viewer, tmp_path):
    from qtpy.QtWidgets import QApplication

    from microscope_qc.widgets.history import HistoryWidget

    hw = HistoryWidget(make_napari_viewer())
    hw.open(str(_history_with_runs(tmp_path)))
    opened = []
    hw.open_url = lambda url: opened.append(url.toLocalFile()) or False
    assert not hw.open_selected_report()
    assert "Select a run" in hw.status.text()
    hw.table.selectRow(1)
    assert not hw.open_selected_report()
    path = str(tmp_path / "run1" / "report.html")
    assert opened == [path]
    assert path in hw.status.text() and "clipboard" in hw.status.text()
    assert QApplication.clipboard().text() == path
    hw.open_url = lambda url: True
    assert hw.open_selected_report() and "Opened" in hw.status.text()


def test_metric_list_keeps_raw_names_as_values(make_napari_viewer, tmp_path, monkeypatch):
    import microscope_qc.widgets.history as history_widget
    from microscope_qc.widgets.history import HistoryWidget

    monkeypatch.setattr(history_widget, "_metric_text", lambda name: name.replace("_", " "))
    hw = HistoryWidget(make_napari_viewer())
    hw.open(str(_history_with_runs(tmp_path)))
    assert hw.metric.value == "uniformity_percent"
    assert hw.metric.native.currentText() == "uniformity percent"
    assert len(hw.series()) == 3


def test_opened_from_the_plugins_menu(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    """As napari opens it: through the plugin manifest, with a proxy of the viewer; real clicks."""
    from napari.utils._proxies import PublicOnlyProxy
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication

    import microscope_qc.widgets.history as history_widget

    viewer = make_napari_viewer()
    _dock, hw = viewer.window.add_plugin_dock_widget("napari-microscope-qc", "QC history")
    # the class of the tree under test (PYTHONPATH first), not another installed copy
    assert type(hw) is history_widget.HistoryWidget
    assert isinstance(hw.viewer, PublicOnlyProxy)
    new = tmp_path / "new" / "h.sqlite"
    hw.location.value = str(new)
    hw.confirm_create = lambda message: False
    qtbot.mouseClick(hw.open_button, Qt.MouseButton.LeftButton)
    assert "nothing was created" in hw.status.text() and not new.parent.exists()
    hw.confirm_create = lambda message: True
    qtbot.mouseClick(hw.open_button, Qt.MouseButton.LeftButton)
    assert "empty" in hw.status.text() and new.exists()
    hw.location.value = str(_history_with_runs(tmp_path))
    qtbot.mouseClick(hw.open_button, Qt.MouseButton.LeftButton)
    assert hw.table.rowCount() == 3 and hw.instrument.value == "Scope H"
    hw.table.selectRow(0)
    hw.open_url = lambda url: False
    qtbot.mouseClick(hw.report_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == str(tmp_path / "run0" / "report.html")
    monkeypatch.setattr(history_widget, "ask_folder", lambda parent: tmp_path / "period")
    hw.start.value, hw.end.value = "2026-01-01", "2026-12-31"
    qtbot.mouseClick(hw.period_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not hw.task.running, timeout=60000)
    assert (tmp_path / "period" / "qc_period_report.html").exists(), hw.status.text()


def test_dock_fits_a_1280_by_800_window(make_napari_viewer, qtbot, tmp_path):
    from qtpy.QtWidgets import QApplication, QSizePolicy

    viewer = make_napari_viewer(show=True)
    dock, hw = viewer.window.add_plugin_dock_widget("napari-microscope-qc", "QC history")
    hw.open(str(_history_with_runs(tmp_path)))
    window = viewer.window._qt_window
    window.showNormal()
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.height() <= 800, timeout=5000)
    QApplication.processEvents()
    assert dock.height() <= 800
    assert hw.table.sizePolicy().verticalPolicy() == QSizePolicy.Policy.Expanding
    controls = [w.native for w in hw.form] + [
        hw.open_button,
        hw.report_button,
        hw.period_button,
        hw.status,
        hw.table,
        hw.canvas,
    ]
    for control in controls:
        hw.scroll.ensureWidgetVisible(control)
        QApplication.processEvents()
        assert not control.visibleRegion().isEmpty(), control
    # the table takes the room a taller window gives
    before = hw.table.height()
    window.resize(1280, 1000)
    qtbot.waitUntil(lambda: hw.table.height() > before, timeout=5000)

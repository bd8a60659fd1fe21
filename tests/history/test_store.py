"""QC history: SQLite files, locations, drivers and URLs, trends, period reports.

What both back ends must do (round trips, migrations, concurrent writers, refusals, failed writes)
is tested on SQLite and PostgreSQL in ``test_backends.py``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from tests.history.fakes import fake_result

from microscope_qc.history import SCHEMA_VERSION, HistoryError, HistoryStore, RunRecord, detect_drift
from microscope_qc.history.report import period_report


def test_export_import_round_trip_parquet(tmp_path):
    a = HistoryStore(tmp_path / "a.sqlite")
    for k in range(3):
        a.record(
            fake_result(0.2 + k / 100, passed=k != 1),
            RunRecord("scope", "60x", acquired_at=f"2026-01-0{k + 1}T10:00:00+00:00"),
        )
    # CSV: tests/history/test_backends.py, on both back ends
    a.export(tmp_path / "parquet", "parquet")
    b = HistoryStore(tmp_path / "b.sqlite")
    assert b.import_(tmp_path / "parquet") == 3
    assert b.import_(tmp_path / "parquet") == 0  # idempotent
    ra, rb = a.runs("scope"), b.runs("scope")
    cols = ["uuid", "measurement", "objective", "acquired_at", "passed", "settings_json"]
    pd.testing.assert_frame_equal(ra[cols].reset_index(drop=True), rb[cols].reset_index(drop=True))
    sa_ = a.metric_series("scope", "fwhm_x_um")
    sb = b.metric_series("scope", "fwhm_x_um")
    np.testing.assert_array_equal(sa_["value"].to_numpy(), sb["value"].to_numpy())
    with pytest.raises(FileExistsError):
        a.export(tmp_path / "parquet", "parquet")


def test_a_file_that_is_no_database_is_refused_untouched(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all" * 10)
    before = hashlib.sha256(bad.read_bytes()).hexdigest()
    with pytest.raises(HistoryError, match="not a QC history"):
        HistoryStore(bad)
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == before
    # a newer schema: tests/history/test_backends.py, on both back ends


def _series(values, unc=0.004):
    t0 = datetime(2026, 1, 1)
    return pd.DataFrame(
        {
            "time": pd.to_datetime([t0 + timedelta(days=7 * k) for k in range(len(values))], utc=True),
            "value": values,
            "uncertainty": unc,
            "passed": True,
            "unit": "um",
        }
    )


def test_drift_found_and_noise_not():
    rng = np.random.default_rng(0)
    drift = detect_drift(_series(0.20 + 0.004 * np.arange(12) + rng.normal(0, 0.004, 12)), last_n=12)
    assert drift.significant and drift.slope_per_day > 0
    false_alarms = sum(
        detect_drift(_series(0.20 + rng.normal(0, 0.004, 12)), last_n=12).significant for _ in range(200)
    )
    print(f"drift detected; false alarms on pure noise: {false_alarms}/200")
    assert false_alarms <= 6  # alpha = 0.01: about 2 expected
    assert not detect_drift(_series([0.2, 0.21])).significant  # too few runs


@pytest.mark.slow
def test_period_report_lists_exactly_the_runs_in_range(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite")
    dates = ["2026-01-05", "2026-02-10", "2026-03-15", "2026-04-20", "2026-05-25"]
    for k, d in enumerate(dates):
        store.record(
            fake_result(0.2 + k / 200, passed=k != 3),
            RunRecord("scope", "60x/1.4 oil", acquired_at=f"{d}T12:00:00+00:00"),
        )
    store.record(fake_result(0.3), RunRecord("another scope", acquired_at="2026-03-01T12:00:00+00:00"))
    rep = period_report(store, "scope", "2026-02-10", "2026-04-20")
    assert list(rep.runs["acquired_at"].str[:10]) == dates[1:4]
    assert rep.summary["psf"]["fwhm_x_um"]["n"] == 3
    assert (
        "60x/1.4 oil" in rep.methods_text
        and "NA 1.4" in rep.methods_text
        and "1 of 3 runs failed" in rep.methods_text
    )
    paths = rep.write(tmp_path / "out", ome_companion=True)
    doc = json.loads(paths["json"].read_text())
    assert doc["schema"] == "napari-microscope-qc/qc-period/1" and len(doc["runs"]) == 3
    assert doc["runs"][0]["verdicts"][0]["threshold"] == 1.5
    assert paths["pdf"].read_bytes()[:4] == b"%PDF"
    assert "data:image/png;base64," in paths["html"].read_text()
    assert "MapAnnotation" in paths["ome"].read_text()
    with pytest.raises(FileExistsError):
        rep.write(tmp_path / "out")
    with pytest.raises(HistoryError, match="starts"):
        period_report(store, "scope", "2026-05-01", "2026-01-01")


def test_missing_history_is_not_created_when_reading(tmp_path, capsys):
    from microscope_qc.cli import main
    from microscope_qc.history import HistoryNotFound

    typo = tmp_path / "qc-hsitory" / "2026" / "h.sqlite"
    with pytest.raises(HistoryNotFound) as info:
        HistoryStore(typo, create=False)
    assert info.value.missing_folder == tmp_path / "qc-hsitory"
    assert str(tmp_path / "qc-hsitory") in str(info.value)
    assert not (tmp_path / "qc-hsitory").exists()
    # an empty file is no history either, and stays as it was
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(HistoryNotFound):
        HistoryStore(empty, create=False)
    assert empty.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["empty.sqlite"]
    # read-only CLI commands refuse instead of creating folders and an empty database
    for cmd in (["list"], ["show", "abc"], ["trend", "--instrument", "A", "--metric", "m"]):
        assert main(["history", "--history", str(typo), *cmd]) == 2
        err = capsys.readouterr().err
        assert "No QC history" in err and "nothing was created" in err
    assert not (tmp_path / "qc-hsitory").exists()
    # creating (the default, used when recording) still works, folders included
    store = HistoryStore(typo)
    assert typo.exists() and store.instruments() == []
    assert HistoryStore(typo, create=False).schema_version == SCHEMA_VERSION


def test_missing_database_driver_names_the_package(monkeypatch):
    import sys

    # whether or not a driver is installed here: make its import fail
    for module in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(HistoryError) as info:
        HistoryStore("postgresql+psycopg://qc:secret@db.example/qc", create=False)
    text = str(info.value)
    assert 'pip install "napari-microscope-qc[postgres]"' in text and 'pip install "psycopg[binary]"' in text
    assert "secret" not in text and "\n" not in text
    with pytest.raises(HistoryError, match=r'pip install "psycopg2-binary"'):
        HistoryStore("postgresql+psycopg2://qc@db.example/qc")
    # postgresql:// and postgres:// use psycopg, the driver of the [postgres] extra, with any SQLAlchemy 2
    for url in ("postgresql://qc@db.example/qc", "postgres://qc@db.example/qc"):
        with pytest.raises(
            HistoryError, match=r"'psycopg'.*pip install \"napari-microscope-qc\[postgres\]\""
        ):
            HistoryStore(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://qc:secret@db.example:notaport/qc", "valid database URL"),
        ("://db.example/qc", "valid database URL"),
        ("nosuchdb://db.example/qc", "unknown database type 'nosuchdb'"),
    ],
)
def test_malformed_url_gives_one_clear_line(url, expected):
    with pytest.raises(HistoryError) as info:
        HistoryStore(url)
    text = str(info.value)
    assert expected in text and "\n" not in text and "secret" not in text


def test_unreachable_server_gives_one_clear_line(monkeypatch):
    import sqlalchemy as sa

    def refuse():
        raise sqlite3.OperationalError(
            'connection to server at "db.example" (10.0.0.1), port 5432 failed: Connection refused\n'
            "\tIs the server running on that host and accepting TCP/IP connections?"
        )

    # a server URL whose connection fails the way a driver reports it
    monkeypatch.setattr(
        "microscope_qc.history.store.make_engine",
        lambda url, display: sa.create_engine("sqlite://", creator=refuse),
    )
    with pytest.raises(HistoryError) as info:
        HistoryStore("postgresql://qc:secret@db.example/qc")
    text = str(info.value)
    assert "Connection refused" in text and "Check the server" in text
    assert "\n" not in text and "secret" not in text


@pytest.mark.slow
def test_period_report_refuses_to_overwrite(tmp_path):
    from microscope_qc.history.report import period_report_paths

    store = HistoryStore(tmp_path / "h.sqlite")
    store.record(fake_result(0.2), RunRecord("scope", acquired_at="2026-02-01"))
    rep = period_report(store, "scope", "2026-01-01", "2026-12-31")
    paths = rep.write(tmp_path / "out", ome_companion=True)
    assert paths == period_report_paths(tmp_path / "out", ome_companion=True)
    paths["json"].write_text("mine")
    with pytest.raises(FileExistsError, match="qc_period_report.html"):
        rep.write(tmp_path / "out", ome_companion=True)
    assert paths["json"].read_text() == "mine"
    rep.write(tmp_path / "out", ome_companion=True, overwrite=True)
    assert json.loads(paths["json"].read_text())["instrument"] == "scope"

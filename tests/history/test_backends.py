"""The QC history on each back end (SQLite file, PostgreSQL server): round trips, migrations,
concurrent writers, refusals, a writer killed or a connection dropped in the middle of a write.

Every test here runs twice through the ``history_db`` fixture (``tests/history/conftest.py``).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import signal

import pandas as pd
import pytest
import sqlalchemy as sa
from tests.history.fakes import fake_result

from microscope_qc.history import SCHEMA_VERSION, HistoryError, HistoryStore, RunRecord

N_WRITERS, N_RUNS = 8, 50


def _context():
    # fork: the writers start at once (no fresh interpreter importing pandas and SQLAlchemy each)
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def test_record_round_trip_exact(history_db):
    store = HistoryStore(history_db.url)
    assert store.schema_version == SCHEMA_VERSION
    u = store.record(
        fake_result(0.2345678901234),
        RunRecord("scope", "60x/1.4", "GFP", acquired_at="2026-03-01T09:00:00+00:00",
                  input_sha256="ab" * 32, report_path="/x/report.html",
                  faults=("stage_backlash", "hot_pixels")),
    )  # fmt: skip
    got = store.run(u)
    run = got["run"]
    assert json.loads(run["faults_json"]) == ["hot_pixels", "stage_backlash"]
    assert run["instrument"] == "scope" and run["objective"] == "60x/1.4" and run["channel"] == "GFP"
    assert run["input_sha256"] == "ab" * 32 and run["report_path"] == "/x/report.html" and run["passed"]
    assert json.loads(run["warnings_json"]) == ["a warning"]
    assert json.loads(run["settings_json"])["na"]["source"] == "file"
    m = got["metrics"].set_index("name")
    assert m.loc["fwhm_x_um", "value"] == 0.2345678901234  # bit-exact
    assert m.loc["fwhm_x_um", "uncertainty"] == 0.005 and m.loc["fwhm_x_um", "unit"] == "um"
    assert pd.isna(m.loc["n_accepted", "uncertainty"])
    v = got["verdicts"].iloc[0]
    assert v["threshold"] == 1.5 and v["comparison"] == "<=" and v["source"] == "default (MetroloJ_QC)"
    series = store.metric_series("scope", "fwhm_x_um")
    assert list(series["value"]) == [0.2345678901234] and bool(series["passed"].iloc[0])
    assert store.thresholds("scope", "fwhm_x_ratio") == [("<=", 1.5)]
    assert store.metric_names("scope") == ["fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "n_accepted"]


def test_period_filter_and_order_are_by_date_text(history_db):
    # ISO strings compared byte by byte on both back ends (PostgreSQL: whatever the locale)
    store = HistoryStore(history_db.url)
    dates = [
        "2026-01-05T12:00:00+00:00",
        "2026-02-10",
        "2026-03-15T08:00:00+00:00",
        "2026-04-20T23:59:59+00:00",
    ]
    for k, d in enumerate(reversed(dates)):
        store.record(fake_result(0.2 + k / 100), RunRecord("scope", acquired_at=d))
    store.record(fake_result(0.3), RunRecord("scope", analysed_at="2026-05-01T00:00:00+00:00"))
    assert list(store.runs("scope")["acquired_at"].fillna("-")) == [*dates, "-"]
    assert list(store.runs("scope", start="2026-02-10", end="2026-04-20")["acquired_at"]) == dates[1:]
    assert len(store.runs("scope", start="2026-04-21")) == 1  # by its analysis date
    assert list(store.metric_series("scope", "fwhm_x_um")["time"].dt.strftime("%m-%d")) == [
        "01-05", "02-10", "03-15", "04-20", "05-01"
    ]  # fmt: skip


def test_export_import_round_trip(history_db, tmp_path):
    a = HistoryStore(history_db.url)
    for k in range(3):
        a.record(fake_result(0.2 + k / 100, passed=k != 1),
                 RunRecord("scope", "60x", acquired_at=f"2026-01-0{k + 1}T10:00:00+00:00"))  # fmt: skip
    a.export(tmp_path / "csv", "csv")
    b = HistoryStore(tmp_path / "b.sqlite")  # to the other back end and back
    assert b.import_(tmp_path / "csv") == 3
    b.record(fake_result(0.5), RunRecord("scope", acquired_at="2026-01-09T10:00:00+00:00"))
    b.export(tmp_path / "back", "csv")
    assert a.import_(tmp_path / "back") == 1 and a.import_(tmp_path / "back") == 0
    cols = ["uuid", "measurement", "objective", "acquired_at", "passed", "settings_json"]
    pd.testing.assert_frame_equal(a.runs("scope")[cols], b.runs("scope")[cols])
    assert list(a.metric_series("scope", "fwhm_x_um")["value"]) == [0.2 + k / 100 for k in range(3)] + [0.5]


def _writer(url: str, k: int, n: int, barrier) -> None:
    barrier.wait(60)  # all writers open the new history, and write, at the same time
    store = HistoryStore(url)
    for i in range(n):
        store.record(fake_result(0.2 + i / 1000),
                     RunRecord(f"scope {k}", acquired_at=f"2026-02-01T10:{i:02d}:00+00:00", input_path=f"{k}/{i}"))  # fmt: skip


def test_concurrent_writers_lose_nothing(history_db):
    # the history does not exist yet: one of them creates it, under a lock, the others wait for it
    ctx = _context()
    barrier = ctx.Barrier(N_WRITERS)
    procs = [ctx.Process(target=_writer, args=(history_db.url, k, N_RUNS, barrier)) for k in range(N_WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0] * N_WRITERS
    store = HistoryStore(history_db.url, create=False)
    assert store.schema_version == SCHEMA_VERSION
    assert history_db.scalar("SELECT count(*) FROM schema_info") == 1
    runs = store.runs()
    assert len(runs) == N_WRITERS * N_RUNS and runs["uuid"].is_unique and runs["input_path"].is_unique
    assert set(runs["input_path"]) == {f"{k}/{i}" for k in range(N_WRITERS) for i in range(N_RUNS)}
    for k in range(N_WRITERS):
        assert len(store.runs(f"scope {k}")) == N_RUNS
    assert history_db.scalar("SELECT count(*) FROM metrics") == N_WRITERS * N_RUNS * 4
    assert history_db.scalar("SELECT count(*) FROM verdicts") == N_WRITERS * N_RUNS
    # every run has its own four metrics: none went to another run, none is missing
    assert history_db.scalar(
        "SELECT count(*) FROM (SELECT run_id FROM metrics GROUP BY run_id HAVING count(*) = 4) AS full_runs"
    ) == N_WRITERS * N_RUNS  # fmt: skip


def _version_1_script(kind: str) -> list[str]:
    key = "SERIAL PRIMARY KEY" if kind == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    return [
        "CREATE TABLE schema_info (version INTEGER NOT NULL)",
        "INSERT INTO schema_info VALUES (1)",
        f"""CREATE TABLE runs (id {key}, uuid VARCHAR(36) NOT NULL UNIQUE,
          measurement VARCHAR(64) NOT NULL, instrument VARCHAR(200) NOT NULL, objective VARCHAR(200) NOT NULL,
          channel VARCHAR(200) NOT NULL, acquired_at VARCHAR(40), analysed_at VARCHAR(40) NOT NULL,
          software_version VARCHAR(40) NOT NULL, input_path TEXT, input_sha256 VARCHAR(64), passed BOOLEAN NOT NULL,
          settings_json TEXT NOT NULL)""",
        f"""CREATE TABLE metrics (id {key}, run_id INTEGER NOT NULL REFERENCES runs(id),
          name VARCHAR(120) NOT NULL, channel INTEGER, value FLOAT, unit VARCHAR(40), uncertainty FLOAT)""",
        f"""CREATE TABLE verdicts (id {key}, run_id INTEGER NOT NULL REFERENCES runs(id),
          metric VARCHAR(120) NOT NULL, channel INTEGER, passed BOOLEAN NOT NULL, value FLOAT, threshold FLOAT,
          comparison VARCHAR(4) NOT NULL, source VARCHAR(200) NOT NULL)""",
        """INSERT INTO runs (uuid, measurement, instrument, objective, channel, acquired_at, analysed_at,
          software_version, input_path, input_sha256, passed, settings_json)
          VALUES ('old-run', 'psf', 'scope', '', '', '2025-05-01', '2025-05-02', '0.0.1', NULL, NULL, TRUE, '{}')""",
        "INSERT INTO metrics (run_id, name, channel, value, unit, uncertainty) VALUES (1, 'fwhm_x_um', 0, 0.25, 'um', 0.01)",
    ]


def test_migration_from_version_1(history_db):
    history_db.execute(*_version_1_script(history_db.kind))
    store = HistoryStore(history_db.url)
    assert store.schema_version == SCHEMA_VERSION
    old = store.run("old-run")
    assert old["metrics"].iloc[0]["value"] == 0.25 and old["run"]["report_path"] is None
    assert json.loads(old["run"]["warnings_json"]) == [] and json.loads(old["run"]["faults_json"]) == []
    store.record(fake_result(0.3), RunRecord("scope", report_path="/r.html"))
    assert len(store.runs("scope")) == 2
    assert HistoryStore(history_db.url, create=False).schema_version == SCHEMA_VERSION  # migrated once


def test_migration_from_version_2_adds_the_runs_faults(history_db):
    store = HistoryStore(history_db.url)
    u = store.record(fake_result(0.3), RunRecord("scope", report_path="/r.html"))
    history_db.execute("ALTER TABLE runs DROP COLUMN faults_json", "UPDATE schema_info SET version = 2")
    store = HistoryStore(history_db.url)
    assert store.schema_version == SCHEMA_VERSION == 3
    assert json.loads(store.run(u)["run"]["faults_json"]) == []
    v = store.record(fake_result(0.3), RunRecord("scope", faults=("noisy_camera",)))
    assert json.loads(store.run(v)["run"]["faults_json"]) == ["noisy_camera"]


def test_newer_schema_is_refused_untouched(history_db):
    HistoryStore(history_db.url).record(fake_result(0.2), RunRecord("scope"))
    history_db.execute("UPDATE schema_info SET version = 99")
    before = history_db.fingerprint()
    digest = hashlib.sha256(history_db.path().read_bytes()).hexdigest() if history_db.kind == "sqlite" else ""
    for create in (True, False):
        with pytest.raises(HistoryError, match=r"newer napari-microscope-qc \(schema 99") as info:
            HistoryStore(history_db.url, create=create)
        assert "left untouched" in str(info.value) and "\n" not in str(info.value)
    assert history_db.fingerprint() == before
    if history_db.kind == "sqlite":
        assert hashlib.sha256(history_db.path().read_bytes()).hexdigest() == digest


def test_schema_version_missing_is_a_history_error(history_db):
    store = HistoryStore(history_db.url)
    history_db.execute("DELETE FROM schema_info")
    with pytest.raises(HistoryError, match="schema version is missing"):
        _ = store.schema_version
    with pytest.raises(HistoryError, match="schema version is missing; the database was left untouched"):
        HistoryStore(history_db.url)


def test_unknown_instrument_and_run(history_db):
    store = HistoryStore(history_db.url)
    store.record(fake_result(0.2), RunRecord("scope"))
    with pytest.raises(HistoryError, match="known instruments: scope"):
        store.runs("other scope")
    with pytest.raises(HistoryError, match="No run"):
        store.run("nope")
    with pytest.raises(HistoryError, match="instrument name"):
        store.record(fake_result(0.2), RunRecord(""))


def _killed_writer(url: str) -> None:
    store = HistoryStore(url)

    @sa.event.listens_for(store.engine, "after_cursor_execute")
    def _die(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO METRICS"):
            os.kill(os.getpid(), signal.SIGKILL)  # the run's row and its metrics sent, no COMMIT yet

    store.record(fake_result(0.3), RunRecord("scope", uuid="killed-run"))


def test_writer_killed_mid_write_leaves_nothing_half_written(history_db):
    store = HistoryStore(history_db.url)
    store.record(fake_result(0.2), RunRecord("scope", uuid="before"))
    store.engine.dispose()
    proc = _context().Process(target=_killed_writer, args=(history_db.url,))
    proc.start()
    proc.join(120)
    assert proc.exitcode == -signal.SIGKILL
    reopened = HistoryStore(history_db.url)
    assert list(reopened.runs()["uuid"]) == ["before"]
    with pytest.raises(HistoryError, match="No run 'killed-run'"):
        reopened.run("killed-run")
    assert history_db.scalar("SELECT count(*) FROM metrics") == 4
    assert history_db.scalar("SELECT count(*) FROM verdicts") == 1
    reopened.record(fake_result(0.3), RunRecord("scope", uuid="after"))  # still writable
    assert list(reopened.runs()["uuid"]) == ["before", "after"]


def test_a_failed_write_is_rolled_back_whole_with_a_clear_error(history_db, monkeypatch):
    """The connection dropped by the server (PostgreSQL: the backend terminated) or the file failing
    (SQLite: an I/O error) after the run's row was sent: one line, nothing half-written."""
    store = HistoryStore(history_db.url)
    store.record(fake_result(0.2), RunRecord("scope", uuid="before"))
    state = {"done": False}

    @sa.event.listens_for(store.engine, "after_cursor_execute")
    def _drop(conn, cursor, statement, *args):
        if state["done"] or not statement.lstrip().upper().startswith("INSERT INTO RUNS"):
            return
        state["done"] = True
        if history_db.kind == "postgresql":
            _terminate(history_db, cursor.connection.info.backend_pid)
        else:
            import sqlite3

            raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(HistoryError) as info:
        store.record(fake_result(0.3), RunRecord("scope", uuid="dropped-run"))
    text = str(info.value)
    assert "recording run dropped-run" in text and "Nothing of it was written" in text and "\n" not in text
    if history_db.kind == "postgresql":
        assert text.startswith(
            f"The connection to the QC history at {HistoryStore(history_db.url).display_url} was lost"
        )
    else:
        assert "disk I/O error" in text
    assert history_db.scalar("SELECT count(*) FROM runs") == 1
    assert history_db.scalar("SELECT count(*) FROM metrics") == 4
    assert history_db.scalar("SELECT count(*) FROM verdicts") == 1
    store.record(fake_result(0.4), RunRecord("scope", uuid="after"))  # a new connection: writing again works
    assert list(store.runs()["uuid"]) == ["before", "after"]


def _terminate(history_db, pid: int) -> None:
    """End a server process from another connection and wait until it has gone."""
    import time

    with history_db.server.admin() as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                return
            time.sleep(0.05)
    raise AssertionError(f"server process {pid} still there")

"""The QC history on a facility PostgreSQL server: the roles and backups of docs/history.md, the
command line with a postgresql:// URL end to end, a server that cannot be reached."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.history.fakes import fake_result

from microscope_qc.cli import main
from microscope_qc.history import SCHEMA_VERSION, HistoryError, HistoryStore, RunRecord

pytestmark = pytest.mark.postgres

DOCS = Path(__file__).resolve().parents[2] / "docs" / "history.md"


def _facility_sql() -> list[list[str]]:
    """The SQL blocks of the 'Facility server' section, each as its statements."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Facility server") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
    return [[s.strip() for s in block.split(";") if s.strip()] for block in blocks]


def test_roles_of_the_docs_viewer_reads_writer_records_nobody_rewrites(postgres_server):
    import psycopg

    superuser, owner = _facility_sql()
    with postgres_server.admin() as admin:
        for statement in superuser:
            admin.execute(statement)
    url = {role: postgres_server.url("qc", role) for role in ("qc_owner", "qc_writer", "qc_viewer")}
    HistoryStore(url["qc_owner"]).record(fake_result(0.2), RunRecord("scope", uuid="by-owner"))  # creates
    with psycopg.connect(url["qc_owner"], autocommit=True) as conn:
        for statement in owner:
            conn.execute(statement)

    writer = HistoryStore(url["qc_writer"], create=False)
    writer.record(fake_result(0.21), RunRecord("scope", uuid="by-writer"))
    viewer = HistoryStore(url["qc_viewer"], create=False)
    assert list(viewer.runs("scope")["uuid"]) == ["by-owner", "by-writer"]
    assert viewer.run("by-writer")["metrics"].set_index("name").loc["fwhm_x_um", "value"] == 0.21
    assert len(viewer.metric_series("scope", "fwhm_x_um")) == 2
    with pytest.raises(HistoryError) as info:
        viewer.record(fake_result(0.3), RunRecord("scope", uuid="by-viewer"))
    text = str(info.value)
    assert "may not do this (recording run by-viewer: permission denied for table runs)" in text
    assert "read-only role" in text and "\n" not in text
    assert len(viewer.runs("scope")) == 2
    for statement in ("UPDATE runs SET passed = FALSE", "DELETE FROM runs"):
        with psycopg.connect(url["qc_writer"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    # a viewer given an empty database does not get tables created on its behalf, it is told why
    with postgres_server.admin() as admin:
        admin.execute("CREATE DATABASE qc_empty OWNER qc_owner")
    empty = {role: postgres_server.url("qc_empty", role) for role in url}
    with pytest.raises(HistoryError, match="may not do this"):
        HistoryStore(empty["qc_viewer"])
    # an older schema is migrated by the owner only; the others are told so and change nothing
    HistoryStore(empty["qc_owner"])
    with psycopg.connect(empty["qc_owner"], autocommit=True) as conn:
        for statement in owner:
            conn.execute(statement)
        conn.execute("ALTER TABLE runs DROP COLUMN report_path")
        conn.execute("ALTER TABLE runs DROP COLUMN warnings_json")
        conn.execute("ALTER TABLE runs DROP COLUMN faults_json")
        conn.execute("UPDATE schema_info SET version = 1")
    with pytest.raises(
        HistoryError, match=r"may not do this \(opening the history: must be owner of table runs"
    ):
        HistoryStore(empty["qc_writer"])
    assert HistoryStore(empty["qc_owner"]).schema_version == SCHEMA_VERSION
    HistoryStore(empty["qc_writer"]).record(fake_result(0.2), RunRecord("scope"))


def test_backup_with_pg_dump_restores_every_run(postgres_db, tmp_path):
    store = HistoryStore(postgres_db.url)
    for k in range(3):
        store.record(fake_result(0.2 + k / 100), RunRecord("scope", acquired_at=f"2026-01-0{k + 1}"))
    server = postgres_db.server
    dump = tmp_path / "qc.dump"
    bindir = server.bindir
    subprocess.run(
        [str(bindir / "pg_dump"), "--format=custom", f"--file={dump}", postgres_db.url], check=True
    )
    restored = server.create_database(postgres_db.database + "_restored")
    subprocess.run([str(bindir / "pg_restore"), f"--dbname={restored}", str(dump)], check=True)
    back = HistoryStore(restored, create=False)
    assert back.runs("scope").drop(columns="id").equals(store.runs("scope").drop(columns="id"))
    assert back.metric_series("scope", "fwhm_x_um")["value"].tolist() == [0.2, 0.2 + 1 / 100, 0.2 + 2 / 100]
    back.record(fake_result(0.3), RunRecord("scope"))  # the restored sequences go on after the last id
    assert len(back.runs("scope")) == 4


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once closed


def test_unreachable_server_is_one_line_without_the_password():
    pytest.importorskip("psycopg", reason='the driver: pip install "napari-microscope-qc[postgres]"')
    url = f"postgresql://qc:secret@127.0.0.1:{_closed_port()}/qc"
    with pytest.raises(HistoryError) as info:
        HistoryStore(url, create=False)
    text = str(info.value)
    assert text.startswith("Cannot open the QC history at postgresql+psycopg://qc:***@127.0.0.1:")
    assert "Connection refused" in text and "Check the server" in text
    assert "secret" not in text and "\n" not in text


@pytest.mark.slow
def test_command_line_with_a_postgresql_url_end_to_end(postgres_db, tmp_path, capsys, monkeypatch):
    log = tmp_path / "log.csv"
    assert main(["sample", "light-source-log", str(log)]) == 0
    url = postgres_db.url  # postgresql://postgres@127.0.0.1:PORT/DB, as a user writes it
    common = ["-q", "--instrument-name", "Scope A"]
    assert (
        main(["light-source", str(log), "--out", str(tmp_path / "a"), "--record", "--history", url, *common])
        == 0
    )
    monkeypatch.setenv("MICROSCOPE_QC_HISTORY", url)  # the same server through the environment
    assert main(["light-source", str(log), "--out", str(tmp_path / "b"), "--record", *common]) == 0
    assert main(["light-source", str(log), "--out", str(tmp_path / "c"), "--compare-history", *common]) == 0
    metrics = json.loads((tmp_path / "c" / "log" / "results.json").read_text())["metrics"]
    assert metrics["power_change_percent"]["value"] == pytest.approx(0.0, abs=1e-9)
    capsys.readouterr()
    assert main(["history", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("Scope A") == 2 and "light-source" in listed
    uuid = HistoryStore(url, create=False).runs("Scope A")["uuid"].iloc[0]
    assert main(["history", "--history", url, "show", uuid]) == 0
    assert "mean_power_mw" in capsys.readouterr().out
    assert main(["history", "trend", "--instrument", "Scope A", "--metric", "mean_power_mw"]) == 0
    assert main(["history", "export", str(tmp_path / "export")]) == 0
    assert (tmp_path / "export" / "runs.csv").read_text().count("Scope A") == 2
    # the installed command in its own process, the URL from the environment
    done = subprocess.run(
        [sys.executable, "-m", "microscope_qc.cli", "history", "list", "--instrument", "Scope A"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Scope A") == 2
    # a server that cannot be reached: one line, exit status 2, for reading and for recording
    down = f"postgresql://qc:secret@127.0.0.1:{_closed_port()}/qc"
    capsys.readouterr()
    assert main(["history", "--history", down, "list"]) == 2
    err = capsys.readouterr().err
    assert "Cannot open the QC history" in err and "secret" not in err and err.count("\n") == 1
    out = tmp_path / "d"
    assert main(["light-source", str(log), "--out", str(out), "--record", "--history", down, *common]) != 0
    err = capsys.readouterr().err
    assert "Cannot open the QC history" in err and "Traceback" not in err


def test_connection_lost_at_commit_says_the_outcome_is_unknown(postgres_db):
    import sqlalchemy as sa
    from tests.history.test_backends import _terminate

    store = HistoryStore(postgres_db.url)

    @sa.event.listens_for(store.engine, "commit")
    def _drop(conn):  # the COMMIT is about to be sent: the server goes first
        _terminate(postgres_db, conn.connection.dbapi_connection.info.backend_pid)

    with pytest.raises(HistoryError) as info:
        store.record(fake_result(0.3), RunRecord("scope", uuid="at-commit"))
    text = str(info.value)
    assert "was lost while committing (recording run at-commit)" in text and "may or may not" in text
    assert "\n" not in text
    sa.event.remove(store.engine, "commit", _drop)
    assert postgres_db.scalar("SELECT count(*) FROM runs") == 0  # here it was not: the server died first

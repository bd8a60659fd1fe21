"""The QC-history tests run against SQLite and against a throwaway PostgreSQL server.

The server (``tests/pg_server.py``) starts once per test run, when the first PostgreSQL variant
needs it; each test gets a fresh database on it. Where the server programs or the driver are
missing the PostgreSQL variants skip, saying why, unless ``$MICROSCOPE_QC_REQUIRE_POSTGRES`` is set
(CI sets it: there they must run).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.pg_server import PostgresServer, PostgresUnavailable, postgres_required, start_postgres

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required here ($MICROSCOPE_QC_REQUIRE_POSTGRES) but: {exc}")
        pytest.skip(f"PostgreSQL variant skipped: {exc}")
    yield server
    server.stop()


@dataclass
class HistoryDB:
    """One empty history location of a back end, and raw access to it beside the store."""

    kind: str  # "sqlite" or "postgresql"
    url: str  # what HistoryStore and --history take: a file path or a postgresql:// URL
    server: PostgresServer | None = None
    database: str = ""

    def engine(self):
        import sqlalchemy as sa

        from microscope_qc.history.locations import _to_url

        return sa.create_engine(_to_url(self.url))

    def execute(self, *statements: str) -> None:
        """Run SQL statements in one transaction, beside the store."""
        import sqlalchemy as sa

        engine = self.engine()
        with engine.begin() as conn:
            for sql in statements:
                conn.execute(sa.text(sql))
        engine.dispose()

    def scalar(self, sql: str) -> Any:
        import sqlalchemy as sa

        engine = self.engine()
        with engine.connect() as conn:
            value = conn.execute(sa.text(sql)).scalar()
        engine.dispose()
        return value

    def fingerprint(self) -> tuple:
        """Every table, its columns and all of its rows: equal before and after means untouched."""
        import sqlalchemy as sa

        engine = self.engine()
        out = []
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            for table in sorted(insp.get_table_names()):
                columns = [c["name"] for c in insp.get_columns(table)]
                rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()
                out.append((table, tuple(columns), tuple(sorted(map(tuple, rows), key=repr))))
        engine.dispose()
        return tuple(out)

    def path(self) -> Path:
        assert self.kind == "sqlite"
        return Path(self.url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history_db(request, tmp_path) -> HistoryDB:
    """An empty history location: a SQLite file, or a new database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return HistoryDB("sqlite", str(tmp_path / "history.sqlite"))
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"qc_test_{next(_databases)}"
    return HistoryDB("postgresql", server.create_database(name), server, name)


@pytest.fixture
def postgres_db(request) -> HistoryDB:
    """A new, empty database on the throwaway PostgreSQL server (for PostgreSQL-only tests)."""
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"qc_test_{next(_databases)}"
    return HistoryDB("postgresql", server.create_database(name), server, name)

"""The database under a QC history: its engine, opening it (schema check, migrations), and its errors.

SQLite and PostgreSQL are both used through SQLAlchemy Core. What differs is set up here: SQLite's
WAL journal, busy timeout and transactions that hold DDL too (a write takes the write lock when it
begins); PostgreSQL's connection check before use, a connection timeout and an advisory lock. Either
way one process at a time creates or migrates the tables, in one transaction. A database error
(a server gone, a connection dropped in the middle of a write, a role without the right to write)
becomes a :class:`HistoryError` of one line that says what happened to the data and what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import sqlalchemy as sa

from microscope_qc.history.locations import (
    DRIVER_EXTRAS,
    DRIVER_PACKAGES,
    HistoryError,
    HistoryNotFound,
    _first_line,
)
from microscope_qc.history.schema import MIGRATIONS, SCHEMA_VERSION, schema_info
from microscope_qc.history.schema import metadata as _meta

__all__ = ["make_engine", "open_schema", "database_errors", "Stage", "WRITE_OPTION"]

#: what a block of database work is, for its error message (see :func:`database_errors`)
Stage = Literal["open", "read", "write", "commit"]

#: key of the PostgreSQL advisory lock held while the tables are checked, created or migrated
_SCHEMA_LOCK = 7_420_610_2026

#: execution option of a connection whose transactions write (SQLite: BEGIN IMMEDIATE)
WRITE_OPTION = "microscope_qc_write"

#: seconds to wait for a database server before saying it cannot be reached
CONNECT_TIMEOUT_S = 10

#: SQLSTATE codes (PostgreSQL) of a connection that went away: the server shut down or the
#: administrator terminated the session (class 57P), or the connection itself failed (class 08)
_LOST_CLASSES = ("08", "57P")
_NO_PRIVILEGE = "42501"


def make_engine(url: sa.engine.URL, display_url: str) -> sa.Engine:
    """The SQLAlchemy engine for a history URL; a missing driver or a malformed URL becomes a HistoryError.

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        The history's URL (``sqlite:///PATH``, ``postgresql+psycopg://...``).
    display_url : str
        The URL as shown to the user (password hidden).

    Returns
    -------
    sqlalchemy.Engine
        The engine.

    Raises
    ------
    HistoryError
        If the driver is not installed (naming what to install), the database type is unknown or
        the URL is malformed.
    """
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except ImportError as exc:
        try:
            driver = url.get_dialect().driver
        except Exception:  # noqa: BLE001 - only for the message
            driver = url.get_driver_name()
        package = DRIVER_PACKAGES.get(driver.lower(), exc.name or driver)
        extra = DRIVER_EXTRAS.get(driver.lower())
        install = (
            f'pip install "{extra}" (or pip install "{package}")' if extra else f'pip install "{package}"'
        )
        raise HistoryError(
            f"The database driver {driver!r} that SQLAlchemy uses for {url.drivername}:// URLs is not "
            f"installed: {install} in the Python environment that runs napari-microscope-qc, "
            "then open the history again."
        ) from exc
    except sa.exc.NoSuchModuleError as exc:
        raise HistoryError(
            f"{display_url}: unknown database type {url.drivername!r}; use a file path, "
            "sqlite:///PATH or postgresql://user@host/database."
        ) from exc
    except (sa.exc.ArgumentError, ValueError, TypeError) as exc:
        raise HistoryError(f"{display_url} is not a valid database URL ({_first_line(exc)}).") from exc


def _sqlite_engine(url: sa.engine.URL) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # the DB-API connection is untyped
        # transactions begun by _begin below, not by the sqlite3 module (which leaves DDL outside them)
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        _use_wal(cur)
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # a write takes the file's write lock at once (waiting up to the busy timeout), so that two
        # writers never both hold a read snapshot they cannot upgrade; reads do not block writers
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _use_wal(cur: Any) -> None:
    """Put the SQLite file in WAL mode (persistent: done once, by the first connection that can).

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without
    its busy wait, while another process has it open (eight writers opening a new history at
    once); it is retried for up to the busy timeout. A file already in WAL mode is left as it is.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + 60.0
    while True:
        try:
            (mode,) = cur.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                cur.execute(
                    "PRAGMA journal_mode=WAL"
                )  # outside any transaction: SQLite refuses it inside one
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def open_schema(engine: sa.Engine, display_url: str, sqlite: bool, create: bool) -> None:
    """Check the history's schema: create the tables in an empty database, migrate an older one.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The history's engine.
    display_url : str
        The URL as shown to the user.
    sqlite : bool
        The history is a SQLite file (for the messages).
    create : bool
        Create the tables when the database has none; False raises :class:`HistoryNotFound`.

    Raises
    ------
    HistoryError
        If the database holds other tables, no schema version or a newer one (left untouched), or
        cannot be opened (one line with the reason).
    """
    with database_errors(display_url, sqlite, "opening the history", "open"), engine.connect() as conn:
        # first a read: an existing history of this version (nearly always) is opened without a lock;
        # to create or migrate, again under the write lock, since another process may have done it since
        for locked in (False, True):
            if locked:
                conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                if locked and engine.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                version = _schema_version(conn, display_url)
                if version == SCHEMA_VERSION:
                    return
                if version is None and not create:
                    raise HistoryNotFound(display_url)
                if not locked:
                    continue
                if version is None:
                    _meta.create_all(conn)
                    conn.execute(schema_info.insert().values(version=SCHEMA_VERSION))
                    return
                while version < SCHEMA_VERSION:
                    MIGRATIONS[version](conn)
                    version += 1
                    conn.execute(schema_info.update().values(version=version))


def _schema_version(conn: sa.Connection, display_url: str) -> int | None:
    """The schema version of the database, None when it holds no tables; refuses what is no QC history or newer."""
    tables = set(sa.inspect(conn).get_table_names())
    if not tables:
        return None
    if "schema_info" not in tables or "runs" not in tables:
        raise HistoryError(
            f"{display_url} holds tables that are not a QC history ({', '.join(sorted(tables))}); left untouched."
        )
    version = conn.execute(sa.select(schema_info.c.version)).scalar()
    if version is None:
        raise HistoryError(f"{display_url}: the schema version is missing; the database was left untouched.")
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{display_url} was written by a newer napari-microscope-qc (schema {version}, this version reads "
            f"up to {SCHEMA_VERSION}); upgrade the software. The database was left untouched."
        )
    return int(version)


@contextmanager
def database_errors(display_url: str, sqlite: bool, doing: str, stage: Stage) -> Iterator[None]:
    """Turn the database errors raised inside the block into a one-line :class:`HistoryError`.

    Parameters
    ----------
    display_url : str
        The history's location as shown to the user (password hidden).
    sqlite : bool
        The history is a SQLite file.
    doing : str
        What the block does, for the message ("recording the run").
    stage : {"open", "read", "write", "commit"}
        What the block is: opening the history (a failure asks to check the location), reading,
        the statements of a write transaction (a failure rolls it all back) or its COMMIT (a
        connection lost there leaves the outcome unknown).

    Yields
    ------
    None
        The block runs inside.

    Raises
    ------
    HistoryError
        For any :class:`sqlalchemy.exc.DBAPIError` raised in the block.
    """
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise _history_error(exc, display_url, sqlite, doing, stage) from exc


def _history_error(
    exc: sa.exc.DBAPIError, display_url: str, sqlite: bool, doing: str, stage: Stage
) -> HistoryError:
    orig = exc.orig if exc.orig is not None else exc
    reason = _first_line(orig).rstrip(".")
    code = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    lost = bool(exc.connection_invalidated) or code.startswith(_LOST_CLASSES)
    if code == _NO_PRIVILEGE:
        return HistoryError(
            f"The database user of {display_url} may not do this ({doing}: {reason}). A read-only role can "
            "list, show, plot, report and export but not record or import, and only the tables' owner "
            "migrates an older history; ask the database administrator (see 'Facility server' in the QC "
            "history documentation)."
        )
    if stage == "open":
        if sqlite:
            return HistoryError(
                f"{display_url} cannot be opened as a QC history ({reason}); it was left untouched."
            )
        return HistoryError(
            f"Cannot open the QC history at {display_url}: {reason}. Check the server name, port, database, "
            "user and password, and that the server is reachable."
        )
    where = "The connection to the QC history at" if lost else "The QC history at"
    what = "was lost while" if lost else "failed while"
    if stage == "commit" and lost:
        return HistoryError(
            f"{where} {display_url} {what} committing ({doing}): {reason}. It may or may not have been "
            "stored; look for it (history list) before doing it again."
        )
    if stage in ("write", "commit"):
        return HistoryError(
            f"{where} {display_url} {what} {doing}: {reason}. Nothing of it was written (the transaction "
            "was rolled back); do it again once the database is reachable."
        )
    return HistoryError(
        f"{where} {display_url} {what} {doing}: {reason}. Try again once the database is reachable."
    )

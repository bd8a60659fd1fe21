"""Putting a SQLite history in WAL mode survives other processes holding the file (CI saw it fail once)."""

from __future__ import annotations

import sqlite3

import pytest

from microscope_qc.history.database import _use_wal


class _Cursor:
    """A DB-API cursor whose first ``locked`` calls fail as SQLite does while another process opens the file."""

    def __init__(self, locked: int, error: str = "database is locked"):
        self.locked, self.error, self.mode, self.calls = locked, error, "delete", 0

    def execute(self, sql: str) -> _Cursor:
        self.calls += 1
        if self.locked:
            self.locked -= 1
            raise sqlite3.OperationalError(self.error)
        if sql.endswith("=WAL"):
            self.mode = "wal"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.mode,)


def test_a_locked_file_is_tried_again_until_it_is_in_wal_mode():
    cur = _Cursor(locked=3)
    _use_wal(cur)
    assert cur.mode == "wal"


def test_a_file_already_in_wal_mode_is_not_switched_again():
    cur = _Cursor(locked=0)
    cur.mode = "wal"
    _use_wal(cur)
    assert cur.calls == 1


def test_other_errors_are_not_retried():
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _use_wal(_Cursor(locked=1, error="disk I/O error"))

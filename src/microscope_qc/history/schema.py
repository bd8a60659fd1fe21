"""The QC history's database schema (SQLAlchemy Core tables) and its migrations.

A database records the schema version it was written with; older versions are migrated forward
by :data:`MIGRATIONS` when opened, newer ones are refused untouched.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "schema_info", "runs", "metrics", "verdicts", "metadata"]

#: Version of the schema this code writes. Older databases are migrated forward on open.
SCHEMA_VERSION = 3

metadata = sa.MetaData()
schema_info = sa.Table("schema_info", metadata, sa.Column("version", sa.Integer, nullable=False))
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uuid", sa.String(36), nullable=False, unique=True),
    sa.Column("measurement", sa.String(64), nullable=False, index=True),
    sa.Column("instrument", sa.String(200), nullable=False, index=True),
    sa.Column("objective", sa.String(200), nullable=False, default=""),
    sa.Column("channel", sa.String(200), nullable=False, default=""),
    sa.Column("acquired_at", sa.String(40), nullable=True),
    sa.Column("analysed_at", sa.String(40), nullable=False),
    sa.Column("software_version", sa.String(40), nullable=False),
    sa.Column("input_path", sa.Text, nullable=True),
    sa.Column("input_sha256", sa.String(64), nullable=True),
    sa.Column("report_path", sa.Text, nullable=True),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("settings_json", sa.Text, nullable=False, default="{}"),
    sa.Column("warnings_json", sa.Text, nullable=False, default="[]"),
    # the fault codes the run's findings name (microscope_qc.findings.FAULTS), a JSON list
    sa.Column("faults_json", sa.Text, nullable=False, default="[]"),
)
metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(120), nullable=False, index=True),
    sa.Column("channel", sa.Integer, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("unit", sa.String(40), nullable=True),
    sa.Column("uncertainty", sa.Float, nullable=True),
)
verdicts = sa.Table(
    "verdicts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("metric", sa.String(120), nullable=False),
    sa.Column("channel", sa.Integer, nullable=True),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("comparison", sa.String(4), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
)


def _migrate_1_to_2(conn: sa.Connection) -> None:
    """Version 2 added the report path and the warnings of each run."""
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN report_path TEXT"))
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN warnings_json TEXT NOT NULL DEFAULT '[]'"))


def _migrate_2_to_3(conn: sa.Connection) -> None:
    """Version 3 added the fault codes each run's findings name."""
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN faults_json TEXT NOT NULL DEFAULT '[]'"))


MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3}

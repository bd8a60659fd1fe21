"""The QC history store: every analysis run, its metrics and verdicts, over time.

Written through SQLAlchemy Core, so the default embedded SQLite file (created when a run is first
recorded; ``create=False`` opens without ever creating) can be replaced by a shared PostgreSQL server
by URL (``postgresql://user@host/qc``; the ``[postgres]`` extra installs its driver). The schema is
versioned and migrated forward on open (:mod:`.database`); a database written by a newer version, or
a file that is not a database, is refused with a clear error and never modified. Every write is one
transaction, rolled back whole if anything fails before its COMMIT (a dropped connection included);
concurrent writers are serialised by the database (SQLite: WAL journal and a busy timeout). Database
errors reach the caller as one-line :class:`HistoryError` messages.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import sqlalchemy as sa

from microscope_qc import __version__
from microscope_qc.history.database import WRITE_OPTION, database_errors, make_engine, open_schema
from microscope_qc.history.locations import (
    HistoryError,
    HistoryNotFound,
    _first_line,
    _first_missing_folder,
    _hide_password,
    _to_url,
    default_history_url,
)
from microscope_qc.history.schema import SCHEMA_VERSION, metrics, runs, schema_info, verdicts
from microscope_qc.periods import PeriodError, check_period
from microscope_qc.results import Result

if TYPE_CHECKING:
    from microscope_qc.report import InputInfo

__all__ = [
    "SCHEMA_VERSION",
    "HistoryError",
    "HistoryNotFound",
    "HistoryStore",
    "RunRecord",
    "default_history_url",
]


def _num(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class RunRecord:
    """What is recorded beside a Result: which instrument, when, from which file, where its report is."""

    instrument: str
    objective: str = ""
    channel: str = ""
    acquired_at: str | None = None
    input_path: str | None = None
    input_sha256: str | None = None
    report_path: str | None = None
    analysed_at: str | None = None
    uuid: str | None = None
    #: the fault codes the run's findings name (severity FAULT), see :mod:`microscope_qc.findings`
    faults: tuple[str, ...] = ()

    @classmethod
    def for_export(
        cls,
        instrument: str,
        info: InputInfo,
        report_path: str | Path,
        objective: str = "",
        channel: str = "",
        acquired_at: str | None = None,
        faults: Iterable[str] = (),
    ) -> RunRecord:
        """The record of an exported run, the same from the command line and from a widget.

        Parameters
        ----------
        instrument : str
            The instrument's name.
        info : InputInfo
            The export's input (file path and checksum).
        report_path : str or Path
            The HTML report written.
        objective : str
            The objective's name, if known.
        channel : str
            The channel preset(s), if known.
        acquired_at : str, optional
            The acquisition date (ISO), if the file has one.
        faults : iterable of str
            The fault codes the run's findings name (:func:`microscope_qc.findings.faults_found`).

        Returns
        -------
        RunRecord
            The record to pass to :meth:`HistoryStore.record`.

        Raises
        ------
        HistoryError
            If the instrument name is empty.
        """
        if not instrument or not instrument.strip():
            raise HistoryError("Give the instrument's name to record the run in the QC history.")
        return cls(
            instrument=instrument.strip(),
            objective=(objective or "").strip(),
            channel=(channel or "").strip(),
            acquired_at=acquired_at,
            input_path=info.path,
            input_sha256=info.sha256,
            report_path=str(Path(report_path).resolve()),
            faults=tuple(sorted(set(faults))),
        )


class HistoryStore:
    """A QC history database.

    Parameters
    ----------
    location
        A file path (SQLite) or an SQLAlchemy URL (e.g. ``postgresql://user@host/qc``, which uses psycopg);
        default :func:`default_history_url`.
    create
        When the location holds no QC history yet: ``True`` (default) creates an empty one (and the
        folders of a SQLite file); ``False`` raises :class:`HistoryNotFound` and creates nothing.

    Raises
    ------
    HistoryError
        With a one-line reason and what to do: not a database, newer schema, malformed URL,
        database driver not installed (names the package), server unreachable.
    """

    def __init__(self, location: str | Path | None = None, create: bool = True):
        self.url = _to_url(location or default_history_url())
        try:
            url = sa.engine.make_url(self.url)
            backend = url.get_backend_name()
        except (sa.exc.ArgumentError, ValueError, TypeError) as exc:
            raise HistoryError(
                f"{_hide_password(str(location))} is neither a file path nor a valid database URL ({_first_line(exc)}); give a file "
                "such as ~/qc/history.sqlite or a URL such as postgresql://user@host/qc."
            ) from exc
        #: the URL to show: the password hidden
        self.display_url = url.render_as_string(hide_password=True)
        self.is_sqlite = backend == "sqlite"
        if self.is_sqlite and url.database not in (None, "", ":memory:"):
            path = Path(url.database)
            self.display_url = str(path)
            if path.is_dir():
                raise HistoryError(
                    f"{path} is a folder; give a file in it for the QC history, e.g. {path / 'history.sqlite'}."
                )
            if not path.exists() or path.stat().st_size == 0:
                if not create:
                    raise HistoryNotFound(str(path), _first_missing_folder(path))
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise HistoryError(
                        f"Cannot create the folder {path.parent} for the QC history: {_first_line(exc)}."
                    ) from exc
            else:
                with open(path, "rb") as fh:
                    if fh.read(16) != b"SQLite format 3\x00":
                        raise HistoryError(
                            f"{path} is not a QC history database (not an SQLite file); it was left untouched. "
                            "Point {history} at another file or move this one away."
                        )
        self.engine = make_engine(url, self.display_url)
        open_schema(self.engine, self.display_url, self.is_sqlite, create)

    @contextmanager
    def _connect(self, doing: str) -> Iterator[sa.Connection]:
        """A connection for reading; a database error in the block becomes a one-line HistoryError."""
        with database_errors(self.display_url, self.is_sqlite, doing, "read"), self.engine.connect() as conn:
            yield conn

    def _ordered(self, text: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """ISO date strings compared and sorted byte by byte whatever the database's locale (PostgreSQL: C)."""
        return sa.collate(text, "C") if self.engine.dialect.name == "postgresql" else text

    @property
    def schema_version(self) -> int:
        """The schema version of the open history.

        Raises
        ------
        HistoryError
            If the database holds no schema version.
        """
        with self._connect("reading the schema version") as conn:
            version = conn.execute(sa.select(schema_info.c.version)).scalar()
        if version is None:
            raise HistoryError(f"{self.display_url}: the schema version is missing.")
        return int(version)

    # ------------------------------------------------------------------ writing
    def record(self, result: Result, record: RunRecord) -> str:
        """Store one run (all metrics and verdicts) in one transaction.

        Parameters
        ----------
        result : Result
            The analysis result.
        record : RunRecord
            Where the run came from (instrument, input, report, dates).

        Returns
        -------
        str
            The run's uuid.

        Raises
        ------
        HistoryError
            If the record names no instrument.
        """
        if not record.instrument:
            raise HistoryError("A run needs an instrument name to be recorded.")
        run_uuid = record.uuid or str(uuid.uuid4())
        doc = result.to_dict()
        row = {
            "uuid": run_uuid,
            "measurement": result.measurement,
            "instrument": record.instrument,
            "objective": record.objective,
            "channel": record.channel,
            "acquired_at": record.acquired_at,
            "analysed_at": record.analysed_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "software_version": __version__,
            "input_path": record.input_path,
            "input_sha256": record.input_sha256,
            "report_path": record.report_path,
            "passed": bool(result.passed),
            "settings_json": json.dumps(doc["settings"]),
            "warnings_json": json.dumps(doc["warnings"]),
            "faults_json": json.dumps(sorted(set(record.faults))),
        }
        metric_rows = [
            {
                "name": m.name,
                "channel": m.channel,
                "value": _num(m.value),
                "unit": m.unit,
                "uncertainty": _num(m.uncertainty),
            }
            for m in result.metrics
        ]
        verdict_rows = [
            {
                "metric": v.metric,
                "channel": v.channel,
                "passed": bool(v.passed),
                "value": _num(v.value),
                "threshold": _num(v.threshold),
                "comparison": v.comparison,
                "source": v.source,
            }
            for v in result.verdicts
        ]
        self._insert(row, metric_rows, verdict_rows)
        return run_uuid

    def _insert(
        self, row: dict[str, Any], metric_rows: list[dict[str, Any]], verdict_rows: list[dict[str, Any]]
    ) -> None:
        doing = f"recording run {row['uuid']}"
        # one transaction: a failure before the COMMIT (a dropped connection too) rolls all of it back
        with database_errors(self.display_url, self.is_sqlite, doing, "write"), self.engine.connect() as conn:
            trans = conn.execution_options(**{WRITE_OPTION: True}).begin()
            key = conn.execute(runs.insert().values(**row)).inserted_primary_key
            if key is None:  # pragma: no cover - every supported database returns the new key
                raise HistoryError(f"{self.display_url} did not return the new run's id.")
            run_id = key[0]
            if metric_rows:
                conn.execute(metrics.insert(), [{**m, "run_id": run_id} for m in metric_rows])
            if verdict_rows:
                conn.execute(verdicts.insert(), [{**v, "run_id": run_id} for v in verdict_rows])
            with database_errors(self.display_url, self.is_sqlite, doing, "commit"):
                trans.commit()

    # ------------------------------------------------------------------ reading
    def instruments(self) -> list[str]:
        """Return the names of every instrument with recorded runs, sorted.

        Returns
        -------
        list of str
            The instrument names.
        """
        with self._connect("listing the instruments") as conn:
            return [
                r[0]
                for r in conn.execute(sa.select(runs.c.instrument).distinct().order_by(runs.c.instrument))
            ]

    def runs(
        self,
        instrument: str | None = None,
        measurement: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> pd.DataFrame:
        """Return the runs as a table, oldest first.

        ``start``/``end`` (ISO dates, inclusive) filter on the acquisition date, or the analysis
        date when the acquisition date is unknown.
        """
        try:
            start, end = check_period(start, end)
        except PeriodError as exc:
            raise HistoryError(str(exc)) from None
        when = self._ordered(sa.func.coalesce(runs.c.acquired_at, runs.c.analysed_at))
        q = sa.select(runs).order_by(when, runs.c.id)
        if instrument:
            q = q.where(runs.c.instrument == instrument)
        if measurement:
            q = q.where(runs.c.measurement == measurement)
        if start:
            q = q.where(when >= start)
        if end:
            q = q.where(when <= _end_of_day(end))
        with self._connect("reading the runs") as conn:
            df = pd.read_sql(q, conn)
        if instrument and df.empty and instrument not in self.instruments():
            known = ", ".join(self.instruments()) or "none yet"
            raise HistoryError(
                f"No runs of instrument {instrument!r} in the history; known instruments: {known}."
            )
        return df

    def run(self, run_uuid: str) -> dict[str, Any]:
        """Return one run with its metrics and verdicts.

        Parameters
        ----------
        run_uuid : str
            The run's uuid.

        Returns
        -------
        dict
            ``{"run": dict of the run's fields, "metrics": DataFrame, "verdicts": DataFrame}``.

        Raises
        ------
        HistoryError
            If there is no run with that uuid.
        """
        with self._connect(f"reading run {run_uuid}") as conn:
            row = conn.execute(sa.select(runs).where(runs.c.uuid == run_uuid)).mappings().first()
            if row is None:
                raise HistoryError(f"No run {run_uuid!r} in the history.")
            ms = pd.read_sql(sa.select(metrics).where(metrics.c.run_id == row["id"]), conn)
            vs = pd.read_sql(sa.select(verdicts).where(verdicts.c.run_id == row["id"]), conn)
        return {
            "run": dict(row),
            "metrics": ms.drop(columns=["id", "run_id"]),
            "verdicts": vs.drop(columns=["id", "run_id"]),
        }

    def metric_series(
        self, instrument: str, metric: str, channel: int | None = None, measurement: str | None = None
    ) -> pd.DataFrame:
        """Return the values of one metric over time for one instrument.

        Parameters
        ----------
        instrument : str
            The instrument's name.
        metric : str
            The metric's name.
        channel : int, optional
            Only this channel; None: every channel.
        measurement : str, optional
            Only this measurement; None: any.

        Returns
        -------
        pandas.DataFrame
            Columns time, value, uncertainty, unit, passed and run uuid, oldest first.

        Raises
        ------
        HistoryError
            If the instrument has no runs in the history.
        """
        when = self._ordered(sa.func.coalesce(runs.c.acquired_at, runs.c.analysed_at)).label("time")
        q = (
            sa.select(
                when,
                metrics.c.value,
                metrics.c.uncertainty,
                metrics.c.unit,
                metrics.c.channel,
                runs.c.passed,
                runs.c.uuid,
                runs.c.objective,
                runs.c.channel.label("channel_name"),
            )
            .join(runs, metrics.c.run_id == runs.c.id)
            .where(runs.c.instrument == instrument, metrics.c.name == metric)
            .order_by(when)
        )
        if channel is not None:
            q = q.where(metrics.c.channel == channel)
        if measurement:
            q = q.where(runs.c.measurement == measurement)
        with self._connect(f"reading {metric}") as conn:
            df = pd.read_sql(q, conn)
        if df.empty and instrument not in self.instruments():
            raise HistoryError(f"No runs of instrument {instrument!r} in the history.")
        df["time"] = pd.to_datetime(df["time"], utc=True, format="ISO8601")
        return df

    def thresholds(self, instrument: str, metric: str) -> list[tuple[str, float]]:
        """Return the distinct limits this metric was judged against for an instrument.

        Parameters
        ----------
        instrument : str
            The instrument's name.
        metric : str
            The metric's name.

        Returns
        -------
        list of tuple of (str, float)
            (comparison, threshold) pairs, sorted.
        """
        q = (
            sa.select(verdicts.c.comparison, verdicts.c.threshold)
            .distinct()
            .join(runs, verdicts.c.run_id == runs.c.id)
            .where(runs.c.instrument == instrument, verdicts.c.metric == metric)
        )
        with self._connect(f"reading the limits of {metric}") as conn:
            return sorted((c, float(t)) for c, t in conn.execute(q) if t is not None)

    def metric_names(self, instrument: str | None = None) -> list[str]:
        """Return the names of every recorded metric, sorted.

        Parameters
        ----------
        instrument : str, optional
            Only metrics recorded for this instrument; None: any instrument.

        Returns
        -------
        list of str
            The metric names.
        """
        q = (
            sa.select(metrics.c.name)
            .distinct()
            .join(runs, metrics.c.run_id == runs.c.id)
            .order_by(metrics.c.name)
        )
        if instrument:
            q = q.where(runs.c.instrument == instrument)
        with self._connect("listing the metrics") as conn:
            return [r[0] for r in conn.execute(q)]

    # ------------------------------------------------------------------ export / import
    def export(
        self, folder: str | Path, fmt: Literal["csv", "parquet"] = "csv", overwrite: bool = False
    ) -> dict[str, Path]:
        """Write runs, metrics and verdicts as three CSV or Parquet files (see :func:`.transfer.export_tables`)."""
        from microscope_qc.history.transfer import export_tables

        return export_tables(self, folder, fmt, overwrite)

    def import_(self, folder: str | Path) -> int:
        """Read an export back, skipping runs already present (see :func:`.transfer.import_tables`)."""
        from microscope_qc.history.transfer import import_tables

        return import_tables(self, folder)


def _end_of_day(end: str) -> str:
    """An inclusive end date: every ISO timestamp of that day sorts before this string."""
    return end + "T23:59:59.999999+99:99" if len(end) == 10 else end

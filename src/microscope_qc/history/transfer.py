"""Exporting a QC history to CSV or Parquet files, and importing such an export back.

An export is three tables (runs, metrics, verdicts) linked by run uuid; an import skips runs
already present.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import sqlalchemy as sa

from microscope_qc.history.locations import HistoryError
from microscope_qc.history.schema import metrics, runs, verdicts
from microscope_qc.io import atomic_write

if TYPE_CHECKING:
    from microscope_qc.history.store import HistoryStore

__all__ = ["export_tables", "import_tables"]


def export_tables(
    store: HistoryStore, folder: str | Path, fmt: Literal["csv", "parquet"] = "csv", overwrite: bool = False
) -> dict[str, Path]:
    """Write runs, metrics and verdicts as three CSV or Parquet files (linked by run uuid).

    Parameters
    ----------
    folder : str or Path
        Where to write ``runs``, ``metrics`` and ``verdicts``.
    fmt : {"csv", "parquet"}
        The file format.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    dict of str to Path
        The files written, by table.

    Raises
    ------
    HistoryError
        If the format is neither csv nor parquet.
    FileExistsError
        If a file exists and ``overwrite`` is False.
    """
    folder = Path(folder)
    ext = {"csv": ".csv", "parquet": ".parquet"}.get(fmt)
    if ext is None:
        raise HistoryError(f"Export format must be csv or parquet, not {fmt!r}.")
    targets = {name: folder / f"{name}{ext}" for name in ("runs", "metrics", "verdicts")}
    existing = [p.name for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{folder} already holds {', '.join(existing)}; choose another folder or allow overwriting."
        )
    folder.mkdir(parents=True, exist_ok=True)
    with store._connect("exporting the history") as conn:
        r = pd.read_sql(sa.select(runs), conn)
        ids = dict(zip(r["id"], r["uuid"], strict=True))
        m = pd.read_sql(sa.select(metrics), conn)
        v = pd.read_sql(sa.select(verdicts), conn)
    tables = {
        "runs": r.drop(columns=["id"]),
        "metrics": m.assign(run_uuid=m["run_id"].map(ids)).drop(columns=["id", "run_id"]),
        "verdicts": v.assign(run_uuid=v["run_id"].map(ids)).drop(columns=["id", "run_id"]),
    }
    for name, df in tables.items():
        if fmt == "csv":
            atomic_write(targets[name], df.to_csv(index=False))
        else:
            buf = io.BytesIO()
            try:
                df.to_parquet(buf, index=False)
            except ImportError as exc:
                raise HistoryError(
                    "Parquet export needs pyarrow: pip install 'napari-microscope-qc[parquet]'."
                ) from exc
            atomic_write(targets[name], buf.getvalue())
    return targets


def import_tables(store: HistoryStore, folder: str | Path) -> int:
    """Read an export back; runs already present (same uuid) are skipped.

    Parameters
    ----------
    folder : str or Path
        A folder written by :func:`export_tables`.

    Returns
    -------
    int
        The number of runs added.

    Raises
    ------
    HistoryError
        If files of the export are missing.
    """
    folder = Path(folder)
    ext = ".parquet" if (folder / "runs.parquet").exists() else ".csv"
    paths = {name: folder / f"{name}{ext}" for name in ("runs", "metrics", "verdicts")}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise HistoryError(f"Cannot import: missing {', '.join(missing)}.")
    read = (
        pd.read_parquet
        if ext == ".parquet"
        else (lambda p: pd.read_csv(p, keep_default_na=True, dtype={"uuid": str, "run_uuid": str}))
    )
    r, m, v = (read(paths[k]) for k in ("runs", "metrics", "verdicts"))
    with store._connect("reading the runs already present") as conn:
        known = {row[0] for row in conn.execute(sa.select(runs.c.uuid))}
    added = 0
    for _, row in r.iterrows():
        if row["uuid"] in known:
            continue
        run_row = {c.name: _clean(row.get(c.name)) for c in runs.columns if c.name != "id"}
        run_row["passed"] = bool(run_row["passed"]) if run_row["passed"] is not None else False
        for key in ("objective", "channel"):
            run_row[key] = run_row[key] or ""
        for key, default in (("settings_json", "{}"), ("warnings_json", "[]"), ("faults_json", "[]")):
            run_row[key] = run_row[key] or default
        ms = [
            {c: _clean(x) for c, x in d.items() if c != "run_uuid"}
            for d in m[m["run_uuid"] == row["uuid"]].to_dict("records")
        ]
        vs = [
            {c: _clean(x) for c, x in d.items() if c != "run_uuid"}
            for d in v[v["run_uuid"] == row["uuid"]].to_dict("records")
        ]
        for d in ms:
            d["channel"] = None if d["channel"] is None else int(d["channel"])
        for d in vs:
            d["channel"] = None if d["channel"] is None else int(d["channel"])
            d["passed"] = bool(d["passed"])
        store._insert(run_row, ms, vs)
        added += 1
    return added


def _clean(v: Any) -> Any:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):
        return v.item()
    return v

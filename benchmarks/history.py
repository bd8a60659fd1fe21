"""QC-history writes: runs recorded per second into a SQLite file and into a PostgreSQL server, measured now.

Each run is one :meth:`HistoryStore.record` call, one transaction: the run's row, its metrics and
its verdicts (``--metrics`` metrics, a verdict for every fifth), as a measurement records it.

- one writer: ``--runs`` runs one after the other (best of ``--repeat``);
- concurrent writers: ``--writers`` processes recording ``--runs`` / ``--writers`` runs each, started
  together; the rate is all runs over the time from the start signal until the last one finished.

Both back ends are durable as configured out of the box: SQLite in WAL mode with its default
``synchronous=FULL`` (a sync per commit), a throwaway PostgreSQL server (``tests/pg_server.py``:
``initdb`` and ``pg_ctl`` in a temporary folder, fsync on) on this machine, over TCP to 127.0.0.1.
A server on another machine adds the network round trips. When no PostgreSQL server can be started
here (no server programs or no psycopg) its lines say why, and SQLite is measured alone.

Run:  python benchmarks/history.py [--runs 400] [--writers 8] [--metrics 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.pg_server import PostgresUnavailable, start_postgres  # noqa: E402

from microscope_qc.history import HistoryStore, RunRecord  # noqa: E402
from microscope_qc.results import Metric, Result, Verdict  # noqa: E402


def make_result(n_metrics: int, k: int) -> Result:
    r = Result(measurement="psf")
    r.metrics = [Metric(f"metric_{j}", 0.2 + k / 1e4 + j, "um", 0.005, j % 3, "") for j in range(n_metrics)]
    r.verdicts = [
        Verdict(f"metric_{j}", True, 0.2 + j, 1.5 + j, "<=", "benchmark", j % 3)
        for j in range(0, n_metrics, 5)
    ]
    r.warnings = []
    return r


def record_many(url: str, n: int, n_metrics: int, tag: str) -> None:
    store = HistoryStore(url)
    for k in range(n):
        store.record(make_result(n_metrics, k), RunRecord(f"scope {tag}", input_path=f"{tag}/{k}"))
    store.engine.dispose()


def _writer(url: str, n: int, n_metrics: int, tag: str, barrier) -> None:
    store = HistoryStore(url)
    barrier.wait(120)
    for k in range(n):
        store.record(make_result(n_metrics, k), RunRecord(f"scope {tag}", input_path=f"{tag}/{k}"))
    store.engine.dispose()


def one_writer(url: str, n: int, n_metrics: int, repeat: int) -> float:
    HistoryStore(url).engine.dispose()  # create the tables outside the timing
    best = float("inf")
    for r in range(repeat):
        t0 = time.perf_counter()
        record_many(url, n, n_metrics, f"seq-{r}")
        best = min(best, time.perf_counter() - t0)
    return n / best


def concurrent_writers(url: str, n: int, writers: int, n_metrics: int) -> tuple[float, int]:
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    each = max(1, n // writers)
    barrier = ctx.Barrier(writers + 1)
    procs = [
        ctx.Process(target=_writer, args=(url, each, n_metrics, f"w{w}", barrier)) for w in range(writers)
    ]
    for p in procs:
        p.start()
    barrier.wait(120)
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError("a writer failed")
    stored = sum(len(HistoryStore(url).runs(f"scope w{w}")) for w in range(writers))
    return each * writers / elapsed, stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--metrics", type=int, default=30, help="metrics per run (a verdict for every fifth)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(
        f"{args.runs} runs of {args.metrics} metrics and {len(range(0, args.metrics, 5))} verdicts each; "
        f"{os.cpu_count()} CPUs; SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory(prefix="microscope-qc-bench-") as tmp:
        sqlite_a = str(Path(tmp) / "a.sqlite")
        with HistoryStore(sqlite_a).engine.connect() as conn:  # as the store configures it
            journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                conn.exec_driver_sql("PRAGMA synchronous").scalar()
            ]
        backends: list[tuple[str, str, str]] = [
            (f"SQLite (journal {journal}, synchronous {sync})", sqlite_a, str(Path(tmp) / "b.sqlite"))
        ]
        server = None
        try:
            server = start_postgres(durable=True)
        except (PostgresUnavailable, RuntimeError) as exc:
            print(f"PostgreSQL: not measured: {exc}")
        if server is not None:
            with server.admin() as admin:
                version = admin.execute("SHOW server_version").fetchone()[0].split()[0]
                fsync = admin.execute("SHOW fsync").fetchone()[0]
                commit = admin.execute("SHOW synchronous_commit").fetchone()[0]
            backends.append(
                (f"PostgreSQL {version} (fsync {fsync}, synchronous_commit {commit}, TCP 127.0.0.1)",
                 server.create_database("bench_a"), server.create_database("bench_b"))
            )  # fmt: skip
        try:
            print(f"{'back end':66} {'one writer':>14} {f'{args.writers} writers':>14}")
            for name, url_seq, url_conc in backends:
                seq = one_writer(url_seq, args.runs, args.metrics, args.repeat)
                conc, stored = concurrent_writers(url_conc, args.runs, args.writers, args.metrics)
                expected = args.writers * max(1, args.runs // args.writers)
                note = "" if stored == expected else f"  ({stored} of {expected} runs stored!)"
                print(f"{name:66} {seq:>9.0f} runs/s {conc:>9.0f} runs/s{note}")
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()

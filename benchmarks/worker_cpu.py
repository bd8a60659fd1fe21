"""What one automatic-run job costs inside a worker: a local process pool against a dask worker, measured now.

Writes N small QC files (``benchmarks/run.py``'s: PSF, flat field, two-colour beads), then runs
:func:`microscope_qc.autorun.batch.run_job` on each, after a warm-up job of each kind, in

- a local process pool of 2 (spawned interpreters, as ``microscope-qc run --workers 2``),
- a dask ``LocalCluster`` of 2 single-threaded worker processes (as ``--scheduler`` uses one),
- the same cluster with the job wrapped so that glibc's trim settings are those a dask worker
  starts with (``MALLOC_TRIM_THRESHOLD_=65536``) throughout, i.e. without
  :func:`~microscope_qc.autorun.batch.reused_heap` (the in-run baseline for that fix),

and prints per measurement the mean wall time of a job, its process's user and system CPU time
and minor page faults during the job. On a loaded machine the wall times follow the load; the CPU
times and page faults much less. Every number is measured in this run.

Run:  python benchmarks/worker_cpu.py [--files 12]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

from microscope_qc.autorun.batch import Job, run_job  # noqa: E402

MEASUREMENT = {"psf": "psf", "flat": "field", "coreg": "coregistration"}


def timed(job: Job, fixed_trim: bool = False) -> tuple[str, float, float, float, int, str]:
    """Run one job; its measurement, wall, user and system CPU seconds and minor faults of its process."""
    import contextlib

    from microscope_qc.autorun import batch

    saved = batch.reused_heap
    if fixed_trim:  # the job as it ran before reused_heap: the worker's malloc settings throughout
        batch.reused_heap = contextlib.nullcontext  # type: ignore[assignment]
    t0, c0, r0 = time.perf_counter(), os.times(), resource.getrusage(resource.RUSAGE_SELF)
    try:
        outcome = run_job(job)
    finally:
        batch.reused_heap = saved
    c1, r1 = os.times(), resource.getrusage(resource.RUSAGE_SELF)
    return (
        job.measurement,
        time.perf_counter() - t0,
        c1.user - c0.user,
        c1.system - c0.system,
        r1.ru_minflt - r0.ru_minflt,
        outcome.status,
    )


def timed_fixed_trim(job: Job) -> tuple[str, float, float, float, int, str]:
    """:func:`timed` without :func:`reused_heap`."""
    return timed(job, fixed_trim=True)


def make_jobs(folder: Path, n: int) -> list[Job]:
    """Write ``n`` QC files (a third of each kind) and their jobs."""
    from run import _write

    jobs = []
    for k in range(n):
        kind = ("psf", "flat", "coreg")[k % 3]
        path = folder / f"{kind}_{k:04d}.ome.tif"
        _write((kind, k, str(path)))
        out = folder / "out" / path.stem
        argv = (str(path), "--out", str(out), "--overwrite", "--quiet")
        jobs.append(Job(path, kind, MEASUREMENT[kind], "A", argv, out, ""))
    return jobs


def report(name: str, rows: list[Any]) -> None:
    """One line per measurement: mean wall, user, system seconds and page faults of a job."""
    errors = [r for r in rows if r[5] == "error"]
    for m in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == m]
        wall, user, system, faults = (sum(r[k] for r in mine) / len(mine) for k in (1, 2, 3, 4))
        print(f"  {name:<34} {m:<15} {wall:6.2f} {user:6.2f} {system:6.2f} {faults:9.0f}")
    if errors:
        print(f"  ({len(errors)} job(s) ended in an error)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=12, help="QC files (default 12)")
    n = ap.parse_args().files
    print(f"{os.cpu_count()} CPU(s); load average at the start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="qc-worker-bench-") as tmp:
        jobs = make_jobs(Path(tmp), n)
        print(f"\n  {'where':<34} {'measurement':<15} {'wall s':>6} {'user s':>6} {'sys s':>6} {'faults':>9}")
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(timed, jobs[:3]))
            report("process pool of 2", list(pool.map(timed, jobs)))
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("dask distributed is not installed: the cluster runs are left out")
            return
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            trim = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
            for name, fn in (
                ("dask worker", timed),
                ("dask worker, without reused_heap", timed_fixed_trim),
            ):
                client.gather(client.map(fn, jobs[:3], pure=False))
                report(name, client.gather(client.map(fn, jobs, pure=False)))
            print(f"\n  the dask workers' MALLOC_TRIM_THRESHOLD_: {sorted(set(map(str, trim.values())))}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

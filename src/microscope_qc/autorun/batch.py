"""Running the analyses of an automatic run: here, in a local process pool, or on a dask cluster.

A :class:`Job` is one file with the measurement command's options; :func:`run_job` analyses it
exactly as ``microscope-qc <measurement> FILE --out DIR OPTIONS`` does (the same parser, the same
:func:`microscope_qc.cli_analysis.analyse`) and returns an :class:`Outcome`, never raising. Workers
only read and write their own output folder: the coordinating process records every outcome in the
QC history, so concurrent workers never write to the history (whatever its database).
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from microscope_qc.heap import M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, glibc

if TYPE_CHECKING:
    from types import TracebackType

    from microscope_qc.cli_analysis import Analysed

__all__ = ["Job", "Outcome", "run_job", "Executor", "ClusterMissing"]

Status = Literal["passed", "failed", "error", "skipped"]

#: the extra that installs dask's ``distributed`` (for ``--scheduler``)
CLUSTER_EXTRA = 'pip install "napari-microscope-qc[cluster]"'


class ClusterMissing(RuntimeError):
    """``--scheduler`` was given but the ``distributed`` package is not installed."""


@dataclass(frozen=True)
class Job:
    """One file to analyse."""

    path: Path
    #: the rule that matched it
    rule: str
    measurement: str
    instrument: str
    #: the measurement command's arguments: the file, ``--out``, the rule's options
    argv: tuple[str, ...]
    out_dir: Path
    sha256: str
    #: the scene of a multi-scene file (None: the file's only one, or the one its options name)
    scene: int | None = None


@dataclass
class Outcome:
    """What became of one file."""

    job: Job
    #: passed: every verdict passed; failed: a verdict failed; error: not analysed (see ``error``);
    #: skipped: already in the QC history
    status: Status
    error: str | None = None
    seconds: float = 0.0
    analysed: Analysed | None = None
    #: the QC history's uuid of this run (recorded), or of the earlier run (skipped)
    run_uuid: str | None = None
    note: str | None = None


#: glibc's mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
#: while a job runs in a process whose environment fixed glibc's trim threshold: arrays up to this
#: size come from the heap (glibc's own dynamic limit), and the heap keeps up to twice that free
_JOB_MMAP_THRESHOLD = 32 * 2**20


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (Linux), else None (:func:`microscope_qc.heap.glibc`)."""
    return glibc()


@contextmanager
def reused_heap() -> Iterator[None]:
    """Let glibc reuse freed memory for the job's arrays, as it does by default; give it back after.

    dask's workers start with ``MALLOC_TRIM_THRESHOLD_=65536`` (so that freed memory goes back to
    the system). Setting it turns off glibc's dynamic mmap threshold: every array over 128 KiB is
    then mapped fresh and its pages zeroed on first touch, 10–15× the page faults of a plain
    process, which made each analysis take twice the CPU time in a dask worker
    (``benchmarks/run.py``). While the job runs, arrays up to 32 MiB come from the heap again;
    afterwards the previous settings return and the free heap is given back to the system
    (``malloc_trim``). Elsewhere (no such variable, not glibc) nothing changes.

    Yields
    ------
    None
    """
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_", "")
    libc = _glibc() if trim.isdigit() else None
    if libc is None:
        yield
        return
    trim_value = int(trim)
    libc.mallopt(_M_MMAP_THRESHOLD, _JOB_MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, 2 * _JOB_MMAP_THRESHOLD)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)  # glibc's default, which the variable left fixed
        libc.mallopt(_M_TRIM_THRESHOLD, trim_value)
        libc.malloc_trim(0)


def run_job(job: Job) -> Outcome:
    """Analyse one file as its measurement's command does; never raises.

    Parameters
    ----------
    job : Job
        The file and the command's arguments.

    Returns
    -------
    Outcome
        ``passed`` or ``failed`` (the verdicts) with the result, or ``error`` with the message the
        command would print.
    """
    import logging
    import warnings

    from microscope_qc.cli_analysis import analyse, failure_message, parse_measurement_options
    from microscope_qc.measurements import get_measurement

    logging.getLogger("bioio").setLevel(logging.ERROR)  # as microscope-qc's main() does
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="bioio.*")
    warnings.filterwarnings("ignore", module="bioio_tifffile.*")
    t0 = time.perf_counter()
    try:
        m = get_measurement(job.measurement)
        args = parse_measurement_options(m, job.argv)
        scene = job.scene if job.scene is not None else getattr(args, "scene", None)
        label = job.path.name if scene is None else f"{job.path.name} (scene {scene})"
        with reused_heap():
            done = analyse(m, [job.path], job.out_dir, args, label, scene=scene)
    except Exception as exc:  # one file only: the batch goes on
        return Outcome(job, "error", failure_message(exc), time.perf_counter() - t0)
    return Outcome(job, "passed" if done.result.passed else "failed", None, time.perf_counter() - t0, done)


class Executor:
    """Runs jobs here (``workers=1``), in a local process pool, or on a dask distributed cluster.

    Use as a context manager; the pool or the cluster connection lives until it is left, so that a
    watch keeps its workers warm between batches.

    Parameters
    ----------
    workers : int
        Processes on this machine (1: in this process).
    scheduler : str, optional
        The address of a running dask distributed scheduler (``tcp://host:8786``); its workers must
        have microscope-qc installed and see the files at the same paths.

    Raises
    ------
    ClusterMissing
        If ``scheduler`` is given and ``distributed`` is not installed (the message names the extra).
    """

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.workers = workers
        self.scheduler = scheduler
        self._pool: Any = None
        self._client: Any = None
        if scheduler is not None:
            try:
                import distributed  # noqa: F401
            except ImportError:
                raise ClusterMissing(
                    f"--scheduler needs dask's distributed package, which is not installed: {CLUSTER_EXTRA}."
                ) from None

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _start(self) -> None:
        if self.scheduler is not None and self._client is None:
            from distributed import Client

            self._client = Client(self.scheduler, timeout="20s")  # type: ignore[no-untyped-call]
        elif self.scheduler is None and self.workers > 1 and self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: a fresh interpreter per worker (no threads or locks inherited from this one)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def describe(self) -> str:
        """How the jobs run, for the summary.

        Returns
        -------
        str
            E.g. ``"2 local processes"`` or ``"dask cluster tcp://host:8786"``.
        """
        if self.scheduler is not None:
            return f"dask cluster {self.scheduler}"
        return "this process" if self.workers <= 1 else f"{self.workers} local processes"

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        """Run the jobs; yield each outcome as it is done (not in order).

        Parameters
        ----------
        jobs : sequence of Job
            The files to analyse.

        Yields
        ------
        Outcome
            One per job; a job whose worker died is an ``error`` naming what happened.
        """
        if not jobs:
            return
        self._start()
        if self._client is not None:
            from distributed import as_completed as dask_completed

            futures = self._client.map(run_job, list(jobs), pure=False)
            owner = {f.key: j for f, j in zip(futures, jobs, strict=True)}
            for fut in dask_completed(futures):  # type: ignore[no-untyped-call]
                try:
                    yield fut.result()
                except Exception as exc:  # a worker lost, a job that cannot be sent
                    yield Outcome(
                        owner[fut.key], "error", f"the cluster could not run it: {type(exc).__name__}: {exc}"
                    )
            return
        if self._pool is None:
            for job in jobs:
                yield run_job(job)
            return
        from concurrent.futures import as_completed

        submitted = {self._pool.submit(run_job, job): job for job in jobs}
        for fut in as_completed(submitted):
            try:
                yield fut.result()
            except Exception as exc:  # a worker process that died (out of memory, killed)
                yield Outcome(
                    submitted[fut], "error", f"its worker process failed: {type(exc).__name__}: {exc}"
                )

    def close(self) -> None:
        """Stop the pool, or disconnect from the cluster (the cluster itself keeps running)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

"""``microscope-qc run FOLDER... --config qc.yaml``: automatic QC runs, nightly or watching.

Only argparse is imported here; reading, the analyses, YAML and the history load when the command
runs (``microscope-qc --help`` stays light, tests/test_cli_startup.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.cli_messages import EXIT_BAD_INPUT, EXIT_FAILED_VERDICT, error_message

if TYPE_CHECKING:
    from microscope_qc.autorun.batch import Executor, Outcome
    from microscope_qc.autorun.config import RunConfig
    from microscope_qc.history import HistoryStore

__all__ = ["add_run_arguments", "run_command", "RUN_HELP"]

RUN_HELP = "analyse the QC files found in folders by the rules of a configuration (nightly or watching)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, not {text!r}") from None
    if not 0 <= value <= 86400 * 366:
        raise argparse.ArgumentTypeError(f"a number of seconds from 0, not {text}")
    return value


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of ``microscope-qc run``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The sub-command's parser.
    """
    p.add_argument("folders", nargs="+", type=Path, metavar="FOLDER", help="folders to look in (recursively)")
    p.add_argument(
        "--config", "-c", type=Path, required=True, metavar="YAML", help="the rules (docs/automatic-runs.md)"
    )
    p.add_argument(
        "--out",
        "-o",
        type=Path,
        metavar="DIR",
        help="where each run's folder is written (default: the configuration's `out:`)",
    )
    p.add_argument("--run-name", metavar="NAME", help="the run folder's name (default: run-YYYYMMDD-HHMMSS)")
    p.add_argument(
        "--overwrite", action="store_true", help="allow a named run folder that holds files, replacing them"
    )
    p.add_argument(
        "--history",
        metavar="LOCATION",
        help="QC history: a file or SQLAlchemy URL (default: the configuration's `history:`, else the user's)",
    )
    p.add_argument(
        "--rerun", action="store_true", help="analyse files even when the QC history holds them already"
    )
    p.add_argument(
        "--strict", action="store_true", help=f"exit {EXIT_FAILED_VERDICT} if any file fails a verdict"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print only the summary and errors")
    g = p.add_argument_group("parallel runs")
    g.add_argument(
        "--workers", type=_positive_int, default=1, metavar="N", help="processes on this machine (default 1)"
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help='a running dask distributed scheduler, e.g. tcp://host:8786 (needs "napari-microscope-qc[cluster]")',
    )
    g = p.add_argument_group("watch mode")
    g.add_argument(
        "--watch", action="store_true", help="keep watching the folders; analyse new files when complete"
    )
    g.add_argument(
        "--stable-seconds",
        type=_seconds,
        metavar="S",
        help="a file is complete when its size held this long (default: the configuration's, else 10)",
    )
    g.add_argument(
        "--watch-timeout",
        type=_seconds,
        metavar="S",
        help="stop watching after S seconds (default: until Ctrl-C)",
    )


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class _Runner:
    """One or more batches of a run command (one batch; or one per set of new files when watching)."""

    def __init__(self, args: argparse.Namespace, config: RunConfig, store: HistoryStore, executor: Executor):
        self.args, self.config, self.store, self.executor = args, config, store, executor
        self.out: Path = args.out if args.out is not None else config.out  # type: ignore[assignment]
        self.failed_verdicts = 0
        self.errors = 0

    def _print(self, o: Outcome) -> None:
        if self.args.quiet and o.status != "error":
            return
        name = o.job.path.name if o.job.scene is None else f"{o.job.path.name} (scene {o.job.scene})"
        if o.status == "error":
            print(f"error: {name}: {o.error}", file=sys.stderr)
        else:
            verdict = "PASS" if o.status == "passed" else "FAIL"
            print(
                f"  {name}: {o.job.measurement}, {o.job.instrument}: {verdict} ({o.seconds:.1f} s)",
                file=sys.stderr,
            )

    def batch(self, files: list[tuple[Path, Path]], name: str | None) -> Path | None:
        from microscope_qc.autorun.runner import execute_plan, known_checksums, new_run_folder, plan_run
        from microscope_qc.autorun.summary import summary_document, write_summary

        started = _now()
        run_dir = new_run_folder(self.out, name, self.args.overwrite)
        plan = plan_run(
            self.config, files, run_dir, known_checksums(self.store), self.args.overwrite, self.args.rerun
        )
        if self.args.watch and not plan.jobs and not any(o.status == "error" for o in plan.decided):
            return None  # nothing new: no run folder for a watch's wake-up
        if not self.args.quiet:
            print(
                f"{_count(len(plan.jobs), 'analysis', 'analyses')} to do, "
                f"{sum(o.note == 'already in the QC history' for o in plan.decided)} already in the QC history, "
                f"{sum(o.status == 'skipped' and o.note != 'already in the QC history' for o in plan.decided)} "
                f"duplicate(s), {_count(len(plan.unmatched), 'file', 'files')} matched no rule → {run_dir}",
                file=sys.stderr,
            )
        outcomes = execute_plan(plan, self.executor, self.store, self._print)
        for o in plan.decided:
            if o.status == "error":
                self._print(o)
        info: dict[str, Any] = {
            "started": started,
            "finished": _now(),
            "config": str(self.config.path.resolve()),
            "folders": [str(f.resolve()) for f in self.args.folders],
            "executor": self.executor.describe(),
            "history": self.store.display_url,
        }
        doc = summary_document(outcomes, plan.unmatched, run_dir, info)
        json_path, html_path = write_summary(doc, run_dir, self.args.overwrite)
        c = doc["counts"]
        self.failed_verdicts += c["failed"]
        self.errors += c["errors"]
        for inst, row in doc["instruments"].items():
            print(
                f"{inst}: {row['status'].upper()} ({row['passed']} passed, {row['failed']} failed, "
                f"{row['errors']} errors, {row['skipped']} skipped)"
            )
        print(f"summary: {html_path}")
        return run_dir


def run_command(args: argparse.Namespace) -> int:
    """Run ``microscope-qc run``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (:func:`add_run_arguments`).

    Returns
    -------
    int
        0 when every file found was analysed or skipped, 2 for a configuration error or a file
        that could not be analysed, 3 with ``--strict`` when a file failed a verdict.
    """
    from microscope_qc.autorun.batch import ClusterMissing, Executor
    from microscope_qc.autorun.config import ConfigError, load_config
    from microscope_qc.autorun.watch import WatchMissing, check_watch_available

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    for folder in args.folders:
        if not folder.is_dir():
            return _fail(f"{folder} is not a folder{'' if folder.exists() else ' (it does not exist)'}.")
    if args.out is None and config.out is None:
        return _fail(f"give --out DIR, or `out:` in {args.config}: where the run's results and summary go.")
    if args.scheduler is not None and args.workers != 1:
        return _fail("give --workers N (this machine) or --scheduler ADDRESS (a dask cluster), not both.")
    if args.watch and args.run_name is not None:
        return _fail("--run-name names one run; a watch writes a run folder per batch of new files.")
    try:
        if args.watch:
            check_watch_available()
        executor = Executor(args.workers, args.scheduler)
    except (ClusterMissing, WatchMissing) as exc:
        return _fail(str(exc))
    try:
        from microscope_qc.history import HistoryError, HistoryStore

        store = HistoryStore(args.history or config.history)
    except HistoryError as exc:
        return _fail(error_message(exc))
    runner = _Runner(args, config, store, executor)
    try:
        with executor:
            code = _run(runner, args, config)
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr)
        return 0
    except (FileExistsError, OSError, HistoryError) as exc:
        return _fail(error_message(exc) if isinstance(exc, HistoryError) else str(exc))
    return code


def _run(runner: _Runner, args: argparse.Namespace, config: RunConfig) -> int:
    from microscope_qc.autorun.runner import find_files
    from microscope_qc.autorun.watch import watch_folders

    if not args.watch:
        runner.batch(find_files(args.folders, [runner.out]), args.run_name)
    else:
        roots = [f.resolve() for f in args.folders]
        out = runner.out.resolve()

        def root_of(path: Path) -> Path | None:
            if path == out or out in path.parents or path.name.startswith("."):
                return None
            return next((r for r in roots if r in path.parents), None)

        def wanted(path: Path) -> bool:  # patterns only: metadata is read once the file is complete
            root = root_of(path)
            if root is None:
                return False
            rel = path.relative_to(root).as_posix()
            return any(r.matches_name(rel) for r in config.rules)

        def ready(paths: list[Path]) -> None:
            pairs = [(r, p) for p in paths if (r := root_of(p)) is not None]
            if pairs:
                runner.batch(pairs, None)

        stable = args.stable_seconds if args.stable_seconds is not None else config.stable_seconds
        if not args.quiet:
            print(
                f"watching {', '.join(map(str, roots))} (a file is complete after {stable:g} s unchanged)",
                file=sys.stderr,
            )

        def existing() -> list[Path]:
            return [p for _, p in find_files(roots, [runner.out]) if wanted(p)]

        watch_folders(
            roots,
            wanted,
            ready,
            existing,
            stable,
            args.watch_timeout,
            poll_seconds=min(0.5, max(0.05, stable / 4)),
        )
    if runner.errors:
        return EXIT_BAD_INPUT
    if args.strict and runner.failed_verdicts:
        return EXIT_FAILED_VERDICT
    return 0


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"

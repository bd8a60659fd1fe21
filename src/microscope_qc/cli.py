"""``microscope-qc``: every measurement headless, in batch, with the same outputs as the widgets.

    microscope-qc psf FILE... --out DIR [options]
    microscope-qc sample psf-beads OUT.ome.tif
    microscope-qc correct IMAGE... --registration registration.json --out DIR
    microscope-qc list

Exit status: 0 when every file was analysed (whatever the verdicts; add ``--strict`` to
exit 3 on a failed verdict), 2 when any file could not be analysed (bad input, missing
settings, existing outputs) — the message says which and why.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc import __version__
from microscope_qc.autorun.command import RUN_HELP, add_run_arguments, run_command
from microscope_qc.cli_admin import add_history_commands, add_instrument_commands, run_history, run_instrument
from microscope_qc.cli_analysis import (
    analyse,
    failure_message,
    finding_lines,
    measurement_arguments,
    record_run,
)
from microscope_qc.cli_correct import add_correct_command, run_correct
from microscope_qc.cli_messages import CLI_NAMES, EXIT_BAD_INPUT, EXIT_FAILED_VERDICT, error_message
from microscope_qc.history import HistoryError
from microscope_qc.measurements import (
    MEASUREMENTS,
    BatchItem,
    DeferredParser,
    all_samples,
    find_sample,
    get_measurement,
    profile_from_args,
)
from microscope_qc.report.numbers import with_uncertainty
from microscope_qc.results import AnalysisError, Result

# Reading, the analyses, reports, profiles and the history are imported by the command that
# uses them: ``microscope-qc --help`` imports neither numpy nor SciPy, pandas, matplotlib,
# SQLAlchemy or bioio (tests/test_cli_startup.py).

if TYPE_CHECKING:
    from microscope_qc.history import HistoryStore
    from microscope_qc.measurements import Measurement

    _SubParsers = argparse._SubParsersAction[DeferredParser]

__all__ = ["main", "build_parser", "CLI_NAMES", "error_message"]


def build_parser() -> argparse.ArgumentParser:
    """Build the ``microscope-qc`` argument parser: one sub-command per measurement, and more.

    Returns
    -------
    argparse.ArgumentParser
        The parser, with the measurements' sub-commands and ``sample``, ``list``, ``history``
        and ``instrument``.
    """
    parser = argparse.ArgumentParser(
        prog="microscope-qc",
        description="Light-microscope quality control (QUAREP-LiMi): the napari-microscope-qc analyses, headless.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=DeferredParser)
    for m in MEASUREMENTS.values():
        p = sub.add_parser(
            m.name, help=m.title, description=f"{m.title}. {m.summary}", fill=measurement_arguments(m)
        )
        p.set_defaults(measurement=m.name)
    s = sub.add_parser(
        "sample",
        help="write a synthetic sample with known truth",
        description="Write a synthetic sample, or list the gallery (--list).",
    )
    known = all_samples()
    s.add_argument(
        "kind",
        nargs="?",
        choices=[*known, *(a for _, sample in known.values() for a in sample.aliases)],
        metavar="KIND",
        help="; ".join(f"{k}: {sample.title} ({m.name})" for k, (m, sample) in known.items()).replace(
            "%", "%%"
        ),
    )
    s.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="output file, .ome.tif (.csv for a power-meter log; the truth is written beside it)",
    )
    s.add_argument(
        "--seed",
        type=_seed,
        default=None,
        metavar="N",
        help="random seed, 0 or more (default: the documented one)",
    )
    s.add_argument("--overwrite", action="store_true", help="replace the files if they exist")
    s.add_argument(
        "--list",
        action="store_true",
        help="list the gallery by measurement: key, the faults built in (or 'good'), title",
    )
    sub.add_parser("list", help="list the measurements")
    sub.add_parser(
        "run",
        help=RUN_HELP,
        description="Automatic QC runs: find QC acquisitions in folders by the rules of a configuration, "
        "analyse each new one as its measurement's command does, record it in the QC history and write a "
        "run folder with a summary (docs/automatic-runs.md).",
        fill=add_run_arguments,
    )
    add_correct_command(sub)
    add_history_commands(sub)
    add_instrument_commands(sub)
    return parser


def _summary_rows(
    path: Path, result: Result, columns: Sequence[str], scene: int | None = None
) -> list[list[str]]:
    rows = []
    channels: Sequence[int | None] = sorted({m.channel for m in result.metrics if m.channel is not None}) or [
        None
    ]
    for c in channels:
        row = [path.name if scene is None else f"{path.name} [scene {scene}]", "" if c is None else str(c)]
        for name in columns:
            try:
                m = result.metric(name, c)
            except KeyError:
                row.append("—")
                continue
            if isinstance(m.value, float) and not math.isfinite(m.value):
                row.append("—")
            elif m.uncertainty is not None and math.isfinite(m.uncertainty):
                row.append(with_uncertainty(float(m.value), float(m.uncertainty)))
            elif m.uncertainty is not None:  # NaN: not estimable (a warning says why), never "± 0"
                row.append(f"{m.value:.3f} ± n/a")
            elif float(m.value).is_integer():
                row.append(f"{int(m.value)}")
            else:
                row.append(f"{m.value:.3f}")
        verdicts = [v for v in result.verdicts if v.channel == c]
        row.append("—" if not verdicts else ("PASS" if all(v.passed for v in verdicts) else "FAIL"))
        rows.append(row)
    return rows


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)))


def _scene_jobs(files: list[Path], scene: int | None) -> tuple[list[list[Path]], list[int | None], int]:
    """One analysis per file and scene: every scene of a multi-scene file, or only ``--scene``.

    Returns the jobs, their scenes (None for a single-scene file) and the number of files refused
    (a ``--scene`` the file does not have; the message is printed here).
    """
    from microscope_qc.io import ImageReadError, scene_count

    groups: list[list[Path]] = []
    scenes: list[int | None] = []
    refused = 0
    for f in files:
        try:
            n = scene_count(f)
        except ImageReadError:
            n = 1  # read_image reports what is wrong with the file
        if scene is not None and not 0 <= scene < n:
            print(f"error: {f.name}: has {n} scene(s); --scene {scene} does not exist.", file=sys.stderr)
            refused += 1
            continue
        for s in [scene] if scene is not None else range(n):
            groups.append([f])
            scenes.append(s if n > 1 else None)
    return groups, scenes, refused


def _out_dirs(groups: list[list[Path]]) -> list[str]:
    """One output folder name per analysis: the file stem, made unique when stems collide."""
    from microscope_qc.io import sha256_file

    names = [g[0].name.split(".")[0] + ("_combined" if len(g) > 1 else "") for g in groups]
    out: list[str] = []
    for name, g in zip(names, groups, strict=True):
        same_stem = {str(h[0]) for h, other in zip(groups, names, strict=True) if other == name}
        if len(same_stem) > 1 and g[0].exists():  # different files (not scenes of one file) collide
            name = f"{name}_{sha256_file(g[0])[:8]}"
        out.append(name)
    return out


def _unwritable(folder: Path) -> str | None:
    """Why results cannot be written into ``folder`` (checked before any analysis), or None."""
    import tempfile

    if folder.exists() and not folder.is_dir():
        return "it is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".microscope-qc-probe-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _history_baseline(
    m: Measurement[Any], args: argparse.Namespace
) -> dict[str, dict[int, tuple[float, str]]]:
    """The last recorded value of each of the measurement's baseline metrics, per channel, for this instrument."""
    from microscope_qc.history import HistoryNotFound, HistoryStore

    profile = profile_from_args(args)
    name = profile.name if profile is not None else args.instrument_name
    if not name:
        raise HistoryError(
            "reading earlier results from the QC history needs an instrument: --instrument PROFILE or "
            "--instrument-name NAME."
        )
    try:  # reading a baseline never creates a history
        store = HistoryStore(args.history, create=False)
    except HistoryNotFound:
        return {}  # nothing recorded yet: no baseline
    out: dict[str, dict[int, tuple[float, str]]] = {}
    for key in m.cli.history_baseline:  # "metric" of this measurement, or "measurement:metric" of another
        measurement, _, metric = key.rpartition(":")
        try:
            series = store.metric_series(name, metric, measurement=measurement or m.name)
        except HistoryError:  # the instrument has no runs yet
            continue
        last = series.dropna(subset=["value"]).groupby("channel", dropna=False).tail(1)
        out[key] = {
            int(c) if c is not None and c == c else 0: (float(v), str(t.date()))
            for c, v, t in zip(last["channel"], last["value"], last["time"], strict=True)
        }
    return out


def _run_measurement(args: argparse.Namespace) -> int:
    from microscope_qc.heap import reuse_freed_memory
    from microscope_qc.profiles import ProfileError

    reuse_freed_memory()  # the process exits after this run: keep freed arrays' memory for the next ones
    m = get_measurement(args.measurement)
    if m.cli.check_args is not None:
        try:
            m.cli.check_args(args)
        except AnalysisError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if m.cli.history_baseline and getattr(args, "compare_history", False):
        try:
            args.history_baseline = _history_baseline(m, args)
        except (HistoryError, ProfileError) as exc:
            print(f"error: {error_message(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
    problem = _unwritable(args.out)
    if problem is not None:
        print(f"error: cannot write the results to --out {args.out}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    groups = m.cli.jobs(args) if m.cli.jobs is not None else [[f] for f in args.files]
    scenes: list[int | None] = [None] * len(groups)
    if m.cli.jobs is None and m.cli.read is None:  # one file per analysis: every scene, or --scene
        groups, scenes, failures = _scene_jobs(args.files, getattr(args, "scene", None))
    else:
        failures = 0
    unexpanded = failures  # files whose scenes could not be listed (or lack the scene asked for)
    rows, failed_verdicts, found_lines = [], 0, []
    items: list[BatchItem] = []  # every job's result or error, for a measurement's batch summary
    store: HistoryStore | None = None
    stems = [f"{d}_scene{s}" if s is not None else d for d, s in zip(_out_dirs(groups), scenes, strict=True)]
    for paths, stem, scene in zip(groups, stems, scenes, strict=True):
        label = paths[0].name if len(paths) == 1 else f"{paths[0].name} (+{len(paths) - 1} combined)"
        if scene is not None:
            label = f"{label} (scene {scene})"
        t0 = time.perf_counter()

        def progress(frac: float, msg: str, name: str = label) -> None:
            # a live progress line on a terminal; logs get only the per-file summary below
            if not args.quiet and sys.stderr.isatty():
                print(f"\r  {name}: {frac:4.0%} {msg[:60]:<60}", end="", file=sys.stderr, flush=True)

        out_dir = args.out / stem
        try:
            done = analyse(m, paths, out_dir, args, label, progress, scene=scene)
            if not args.quiet and sys.stderr.isatty():
                print(file=sys.stderr)
            if args.record:
                if store is None:
                    from microscope_qc.history import HistoryStore

                    store = HistoryStore(args.history)
                record_run(store, done, args)
        except Exception as exc:  # one item only, whatever it is: a bug must not cost the rest of the batch
            if not args.quiet:
                print(file=sys.stderr)
            why = failure_message(exc)
            print(f"error: {label}: {why}", file=sys.stderr)
            items.append(BatchItem(label, paths[0], None, why))
            failures += 1
            continue
        result = done.result
        for w in result.warnings:
            print(f"warning: {label}: {w}", file=sys.stderr)
        failed_verdicts += not result.passed
        items.append(BatchItem(label, paths[0], result, None, out_dir))
        rows.extend(_summary_rows(paths[0], result, m.cli.summary_columns, scene))
        found_lines += finding_lines(label, done.findings)
        if not args.quiet:
            print(f"  {label}: {time.perf_counter() - t0:.2f} s → {out_dir}", file=sys.stderr)
    if rows:
        _print_table(["file", "ch", *m.cli.summary_columns, "verdict"], rows)
    if found_lines:
        print("\nFindings (faults, then notes; report.html lists every check):")
        for line in found_lines:
            print(f"  {line}")
    if m.cli.after_batch is not None:
        try:
            for line in m.cli.after_batch(items, args):
                print(line)
        except OSError as exc:  # ExportExistsError is a FileExistsError
            print(f"error: the batch summary: {error_message(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if failures:
        print(f"{failures} of {len(groups) + unexpanded} analyses could not be done.", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.strict and failed_verdicts:
        return EXIT_FAILED_VERDICT
    return 0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed is a whole number, not {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"the seed is from 0 to {2**32 - 1}, not {value}")
    return value


def _write_sample(args: argparse.Namespace) -> int:
    if args.list:
        from microscope_qc.measurements.gallery_docs import gallery_listing

        print(gallery_listing())
        return 0
    if args.kind is None or args.path is None:
        print(
            "error: give a sample and a file, e.g. microscope-qc sample psf-good beads.ome.tif "
            "(microscope-qc sample --list shows the samples)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    name = args.path.name.lower()
    _, sample = find_sample(args.kind)
    if not name.endswith(sample.suffixes):
        kind = "OME-TIFF" if sample.suffixes[0].startswith(".ome") else sample.suffixes[0].lstrip(".").upper()
        print(
            f"error: this sample is written as {kind}: name the file with {sample.suffixes[0]}, e.g. "
            f"{args.path.with_name(args.path.name.split('.')[0] + sample.suffixes[0])}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        written = sample.write_new(args.path, args.seed, args.overwrite)
    except FileExistsError as exc:
        print(f"error: {error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``microscope-qc`` console script.

    Parameters
    ----------
    argv : list of str, optional
        The arguments; None: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 when every file was analysed, 2 when any could not be, 3 with
        ``--strict`` when a verdict failed.
    """
    logging.getLogger("bioio").setLevel(logging.ERROR)
    # tifffile logs what it finds wrong in a damaged file (page offsets, OME indices) once per page;
    # the command says in one line, per file, that the file is damaged
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="bioio.*")
    warnings.filterwarnings("ignore", module="bioio_tifffile.*")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        for m in MEASUREMENTS.values():
            print(f"{m.name:<16}{m.title}")
        return 0
    if args.command == "sample":
        return _write_sample(args)
    if args.command == "run":
        return run_command(args)
    if args.command == "correct":
        return run_correct(args)
    if args.command == "history":
        return run_history(args)
    if args.command == "instrument":
        return run_instrument(args)
    return _run_measurement(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

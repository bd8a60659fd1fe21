"""One automatic run: find the QC files, skip those already recorded, analyse, record, summarise.

The coordinating process (this module) finds the files, hashes them, asks the QC history which
checksums it already holds, hands the rest to an :class:`~microscope_qc.autorun.batch.Executor`
and records every analysed file itself, one transaction each, as outcomes arrive.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from microscope_qc.autorun.batch import Executor, Job, Outcome
from microscope_qc.autorun.config import Rule, RunConfig, metadata_values

if TYPE_CHECKING:
    from microscope_qc.history import HistoryStore

__all__ = ["RunPlan", "find_files", "plan_run", "execute_plan", "new_run_folder", "known_checksums"]


@dataclass
class RunPlan:
    """What a run will do: jobs to run, files skipped or not analysable, files no rule matched."""

    run_dir: Path
    jobs: list[Job] = field(default_factory=list)
    #: outcomes decided before any analysis: skipped (already recorded) and errors (unreadable)
    decided: list[Outcome] = field(default_factory=list)
    unmatched: list[Path] = field(default_factory=list)


def find_files(folders: Iterable[Path], exclude: Iterable[Path] = ()) -> list[tuple[Path, Path]]:
    """Every file under the folders (recursively), hidden files and excluded folders left out.

    Parameters
    ----------
    folders : iterable of Path
        Where to look.
    exclude : iterable of Path
        Folders to leave out (the run's own output, when it lies inside a folder looked in).

    Returns
    -------
    list of tuple
        ``(folder, file)`` pairs, sorted by path, each file once.
    """
    skip = [p.resolve() for p in exclude]
    seen: set[Path] = set()
    out: list[tuple[Path, Path]] = []
    for folder in folders:
        root = folder.resolve()
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            kept = []
            for d in sorted(dirnames):
                sub = here / d
                if d.startswith(".") or sub.resolve() in skip or _is_output(sub):
                    continue
                if d.lower().endswith(".zarr"):  # an OME-Zarr store is one image, not a folder of files
                    filenames.append(d)
                    continue
                kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                p = here / name
                if name.startswith(".") or p in seen:
                    continue
                seen.add(p)
                out.append((root, p))
    return out


def _is_output(folder: Path) -> bool:
    """Whether a folder holds this program's results: an earlier run's, or one analysis's export."""
    return (folder / "summary.json").is_file() or (folder / "results.json").is_file()


def _relative(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def match_rule(
    rules: Iterable[Rule], folder: Path, path: Path, metadata: Callable[[Path], dict[str, object]]
) -> Rule | None:
    """The first rule whose patterns and metadata conditions the file meets.

    Parameters
    ----------
    rules : iterable of Rule
        The configuration's rules, in order.
    folder : Path
        The folder the file was found in (patterns see the path relative to it).
    path : Path
        The file.
    metadata : callable
        ``metadata(path)``: the file's :func:`~microscope_qc.autorun.config.metadata_values`
        (called only for a rule with metadata conditions whose patterns match; may raise).

    Returns
    -------
    Rule or None
        The rule, or None when none matches.
    """
    rel = _relative(folder, path)
    for rule in rules:
        if not rule.matches_name(rel):
            continue
        if rule.metadata:
            values = metadata(path)
            if not all(c.matches(values) for c in rule.metadata):
                continue
        return rule
    return None


def _metadata_reader() -> Callable[[Path], dict[str, object]]:
    cache: dict[Path, dict[str, object]] = {}

    def read(path: Path) -> dict[str, object]:
        if path not in cache:
            from microscope_qc.io import read_image

            image = read_image(path)  # lazy: the header only
            cache[path] = metadata_values(image.metadata, image.shape)
        return cache[path]

    return read


def known_checksums(store: HistoryStore) -> dict[tuple[str, str], str]:
    """The runs the QC history holds, by input checksum and measurement.

    Parameters
    ----------
    store : HistoryStore
        The history.

    Returns
    -------
    dict
        ``{(input_sha256, measurement): run uuid}``.
    """
    runs = store.runs()
    if runs.empty:
        return {}
    return {
        (str(sha), str(m)): str(u)
        for sha, m, u in zip(runs["input_sha256"], runs["measurement"], runs["uuid"], strict=True)
        if isinstance(sha, str) and sha
    }


def new_run_folder(out: Path, name: str | None, overwrite: bool) -> Path:
    """The run's folder: ``OUT/NAME``, or ``OUT/run-YYYYMMDD-HHMMSS`` (``-2``, ``-3``... if taken).

    Parameters
    ----------
    out : Path
        Where runs are written.
    name : str, optional
        The run folder's name; None: the local date and time.
    overwrite : bool
        Allow a named folder that already holds files (its files are replaced only where this run
        writes the same names; without it, such a folder is refused).

    Returns
    -------
    Path
        The folder (not yet created).

    Raises
    ------
    FileExistsError
        If the named folder holds files and ``overwrite`` is False.
    """
    if name is not None:
        folder = out / name
        if folder.exists() and any(folder.iterdir()) and not overwrite:
            raise FileExistsError(
                f"The run folder {folder} already holds files; give another --run-name, or --overwrite to "
                "replace them."
            )
        return folder
    stamp = datetime.now().strftime("run-%Y%m%d-%H%M%S")
    folder, k = out / stamp, 1
    while folder.exists():
        k += 1
        folder = out / f"{stamp}-{k}"
    return folder


def plan_run(
    config: RunConfig,
    files: list[tuple[Path, Path]],
    run_dir: Path,
    known: dict[tuple[str, str], str],
    overwrite: bool = False,
    rerun: bool = False,
) -> RunPlan:
    """Match the files to rules, hash them and skip those already recorded.

    Parameters
    ----------
    config : RunConfig
        The rules.
    files : list of tuple
        ``(folder, file)`` pairs (:func:`find_files`).
    run_dir : Path
        The run's folder; each file's results go to a sub-folder named after it.
    known : dict
        :func:`known_checksums` of the history.
    overwrite : bool
        Pass ``--overwrite`` to the exports.
    rerun : bool
        Analyse files even when the history holds them.

    Returns
    -------
    RunPlan
        The jobs, the outcomes decided already (skipped, unreadable) and the unmatched files.
    """
    from microscope_qc.autorun.batch import Outcome
    from microscope_qc.cli_analysis import failure_message
    from microscope_qc.io import sha256_file

    plan = RunPlan(run_dir)
    metadata = _metadata_reader()
    seen: dict[tuple[str, str], Path] = {}
    names: set[str] = set()
    for folder, path in files:
        stub = Job(path, "", "", "", (), run_dir, "")
        try:
            rule = match_rule(config.rules, folder, path, metadata)
        except Exception as exc:  # metadata that cannot be read: the file is listed, the run goes on
            plan.decided.append(
                Outcome(stub, "error", f"its metadata cannot be read: {failure_message(exc)}")
            )
            continue
        if rule is None:
            plan.unmatched.append(path)
            continue
        try:
            sha = sha256_file(path)
        except OSError as exc:
            plan.decided.append(Outcome(stub, "error", f"it cannot be read: {exc.strerror or exc}"))
            continue
        stem = path.name.split(".")[0]
        sub = stem if stem not in names else f"{stem}_{sha[:8]}"
        k = 1
        while sub in names:
            k += 1
            sub = f"{stem}_{sha[:8]}_{k}"
        options = rule.command_options()
        argv = (str(path), "--out", str(run_dir), *options, *(["--overwrite"] if overwrite else []))
        try:  # every scene of a multi-scene file, as the measurement's command does, unless the rule picks one
            scenes: list[int | None] = [None] if "--scene" in options else _scenes(path)
        except Exception as exc:  # noqa: BLE001 (listed with the reader's reason; the run goes on)
            plan.decided.append(Outcome(stub, "error", failure_message(exc)))
            continue
        jobs = [
            Job(
                path,
                rule.name,
                rule.measurement,
                rule.instrument,
                argv if scene is None else (*argv, "--scene", str(scene)),
                run_dir / (sub if scene is None else f"{sub}_scene{scene}"),
                sha,
                scene,
            )
            for scene in scenes
        ]
        key = (sha, rule.measurement)
        if key in seen:
            plan.decided += [Outcome(j, "skipped", note=f"the same file as {seen[key]}") for j in jobs]
            continue
        seen[key] = path
        if key in known and not rerun:
            plan.decided += [
                Outcome(j, "skipped", run_uuid=known[key], note="already in the QC history") for j in jobs
            ]
            continue
        names.add(sub)
        plan.jobs.extend(jobs)
    return plan


def _scenes(path: Path) -> list[int | None]:
    """The scenes to analyse: [None] for a one-scene file, else every scene by number."""
    from microscope_qc.io import scene_count

    n = scene_count(path)
    return [None] if n <= 1 else list(range(n))


def execute_plan(
    plan: RunPlan,
    executor: Executor,
    store: HistoryStore,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run the plan's jobs and record each analysed file in the history (here, one at a time).

    Parameters
    ----------
    plan : RunPlan
        What :func:`plan_run` returned.
    executor : Executor
        Where the analyses run.
    store : HistoryStore
        The history every analysed file is recorded in (by this process only).
    on_outcome : callable, optional
        Called with each outcome as it arrives (progress lines).

    Returns
    -------
    list of Outcome
        The decided outcomes, then the jobs' outcomes in the order of the files.
    """
    from microscope_qc.cli_analysis import failure_message, parse_measurement_options, record_run
    from microscope_qc.measurements import get_measurement

    done: dict[tuple[Path, int | None], Outcome] = {}
    if plan.jobs:
        plan.run_dir.mkdir(parents=True, exist_ok=True)
    for outcome in executor.run(plan.jobs):
        job = outcome.job
        if outcome.analysed is not None:
            try:
                args = parse_measurement_options(get_measurement(job.measurement), job.argv)
                outcome.run_uuid = record_run(store, outcome.analysed, args)
            except Exception as exc:  # analysed and exported, but not recorded: say so, go on
                outcome.status = "error"
                outcome.error = f"analysed, but not recorded in the QC history: {failure_message(exc)}"
        done[job.path, job.scene] = outcome
        if on_outcome is not None:
            on_outcome(outcome)
    return [*plan.decided, *(done[j.path, j.scene] for j in plan.jobs)]

"""Analysing one file (or one group of files) as a measurement's command does it.

Shared by ``microscope-qc <measurement> FILE...`` (:mod:`microscope_qc.cli`) and the automatic runs
(``microscope-qc run``, :mod:`microscope_qc.autorun`): the options of a measurement's command, reading,
the registry entry's ``run`` (its one settings resolution and one call of the analysis), the export
(results.json, CSVs, report.html) and recording in the QC history — one implementation for both.
Reading, the analyses, reports and the history are imported when a file is analysed, not when the
parser is built.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from microscope_qc.cli_messages import EXIT_FAILED_VERDICT, error_message
from microscope_qc.file_check import is_damaged_data_error
from microscope_qc.measurements import (
    InputKind,
    add_common_arguments,
    add_instrument_arguments,
    profile_from_args,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from microscope_qc.findings import Finding
    from microscope_qc.history import HistoryStore
    from microscope_qc.io import ImageData
    from microscope_qc.measurements import Measurement
    from microscope_qc.report import InputInfo
    from microscope_qc.results import ProgressCallback, Result

__all__ = [
    "Analysed",
    "finding_lines",
    "OptionError",
    "measurement_arguments",
    "parse_measurement_options",
    "analyse",
    "record_run",
    "failure_message",
]


def measurement_arguments(m: Measurement[Any]) -> Callable[[argparse.ArgumentParser], None]:
    """Return what adds a measurement's command options to a parser (deferred: see ``DeferredParser``).

    Parameters
    ----------
    m : Measurement
        The registry entry.

    Returns
    -------
    callable
        ``fill(parser)``: adds FILE..., ``--out``, ``--overwrite``, ``--strict``, ``--quiet``, the
        microscope settings, the instrument and history options and the measurement's own options.
    """

    def fill(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "files", nargs="+", type=Path, metavar="FILE", help="image files (TIFF, OME-TIFF, ...)"
        )
        p.add_argument(
            "--out",
            "-o",
            type=Path,
            required=True,
            metavar="DIR",
            help="output folder; one sub-folder per input file",
        )
        p.add_argument(
            "--overwrite", action="store_true", help="replace existing results (never done silently)"
        )
        p.add_argument(
            "--strict", action="store_true", help=f"exit {EXIT_FAILED_VERDICT} if any verdict fails"
        )
        p.add_argument("--quiet", "-q", action="store_true", help="print only the summary table and errors")
        p.add_argument(
            "--scene",
            type=int,
            metavar="S",
            help="analyse only scene S (from 0) of multi-scene files (CZI, ND2, LIF, OME-TIFF, OME-Zarr); "
            "default: every scene, each its own analysis",
        )
        add_common_arguments(p)
        add_instrument_arguments(p)
        m.cli.add_arguments(p)

    return fill


class OptionError(ValueError):
    """Options that a measurement's command would refuse; the message is argparse's (or the check's)."""


class _RaisingParser(argparse.ArgumentParser):
    """A parser that raises :class:`OptionError` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise OptionError(message)


def parse_measurement_options(m: Measurement[Any], argv: Sequence[str]) -> argparse.Namespace:
    """Parse a measurement command's options exactly as ``microscope-qc <name> ARGV`` does.

    Parameters
    ----------
    m : Measurement
        The registry entry.
    argv : sequence of str
        The arguments after the command's name (files, ``--out`` and options).

    Returns
    -------
    argparse.Namespace
        The parsed options, with ``measurement`` set to the entry's name.

    Raises
    ------
    OptionError
        Naming the option that is unknown or whose value is refused, or what the measurement's
        own check of its options says.
    """
    from microscope_qc.results import AnalysisError

    parser = _RaisingParser(prog=f"microscope-qc {m.name}", add_help=False)
    measurement_arguments(m)(parser)
    args = parser.parse_args(list(argv))
    args.measurement = m.name
    if m.cli.check_args is not None:
        try:
            m.cli.check_args(args)
        except AnalysisError as exc:
            raise OptionError(error_message(exc)) from None
    return args


@dataclass
class Analysed:
    """One analysis done and exported."""

    result: Result
    #: the input's path, checksum, shape and metadata, as results.json records them
    info: InputInfo
    #: what the export wrote (``"html"``: report.html, ``"json"``: results.json, ...)
    written: dict[str, Path]
    #: the acquisition date the file records (ISO), or None
    acquired_at: str | None
    #: what the measurement's rule table says about the instrument; None without a rule table
    findings: list[Finding] | None = None


def _hash_in_background(paths: list[Path]) -> Future[list[str]]:
    """Start the inputs' SHA-256 in a thread: hashlib releases the GIL, so it runs beside the analysis."""
    from concurrent.futures import ThreadPoolExecutor

    from microscope_qc.io import sha256_file

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    future = pool.submit(lambda: [sha256_file(p) for p in paths])
    pool.shutdown(wait=False)  # not a `with` block: leaving it would wait for the digest here
    return future


def _input_info(
    paths: list[Path], images: list[ImageData], digests: Future[list[str]], scene: int | None = None
) -> InputInfo:
    from microscope_qc.report import InputInfo

    first = images[0]
    sha = digests.result()  # a file that cannot be read raises its OSError here, for this item only
    combined = None
    if len(paths) > 1:
        combined = [{"path": str(p.resolve()), "sha256": d} for p, d in zip(paths, sha, strict=True)]
    return InputInfo(
        str(paths[0].resolve()),
        sha[0],
        first.shape,
        str(first.dtype),
        first.metadata.as_dict(),
        combined,
        scene,
    )


def analyse(
    m: Measurement[Any],
    paths: list[Path],
    out_dir: Path,
    args: argparse.Namespace,
    label: str,
    progress: ProgressCallback | None = None,
    scene: int | None = None,
) -> Analysed:
    """Read, analyse and export one analysis, as ``microscope-qc <measurement>`` does for each file.

    Parameters
    ----------
    m : Measurement
        The registry entry.
    paths : list of Path
        The input file(s) of this analysis (several when the measurement combines files).
    out_dir : Path
        The folder for its results.json, CSVs and report.html.
    args : argparse.Namespace
        The command's options (:func:`parse_measurement_options`).
    label : str
        How the report's title names the input.
    progress : callable, optional
        ``progress(fraction, message)``.
    scene : int, optional
        The scene of a multi-scene file to read (None: the reader's default, the first).

    Returns
    -------
    Analysed
        The result and what was written.

    Raises
    ------
    Exception
        Whatever reading, the analysis or the export raises (:func:`failure_message` words it).
    """
    from microscope_qc.io import read_image
    from microscope_qc.report import export_result

    if scene is not None:
        images = [read_image(p, scene=scene) for p in paths]
    else:
        images = [(m.cli.read or read_image)(p) for p in paths]
    digests = _hash_in_background(paths)
    result: Result = m.cli.run(images, args, progress)
    n_time = images[0].metadata.extra.get("timepoints", 1)
    if n_time > 1 and InputKind.TIME_SERIES not in m.inputs:
        # the readers take the first time point; say so where the numbers are read
        result.warnings.append(
            f"The file holds {n_time} time points; only the first (t = 0) was analysed. Save each time "
            "point as its own file to analyse them all."
        )
    info = _input_info(paths, images, digests, scene)
    found = None if m.findings is None else list(m.findings(result))
    written = export_result(
        result, out_dir, info, m.figures, f"{m.title}: {label}", args.overwrite, m.extra_outputs, found
    )
    if m.cli.after_export is not None:
        written.update(m.cli.after_export(result, out_dir, args))
    acquired = images[0].metadata.acquisition_date.value
    return Analysed(result, info, written, None if acquired is None else str(acquired), found)


def finding_lines(label: str, findings: Sequence[Finding] | None) -> list[str]:
    """The faults and notes of one analysis as the command line prints them after the verdicts.

    Parameters
    ----------
    label : str
        The file (or files) analysed, as the summary names it.
    findings : sequence of Finding, or None
        What :func:`analyse` returned in :attr:`Analysed.findings`.

    Returns
    -------
    list of str
        One line per FAULT, then per NOTE (checks that found nothing are not printed), e.g.
        ``"beads.ome.tif: FAULT [ch 1] Chromatic shift: ..."``.
    """
    from microscope_qc.findings import Severity

    out = []
    for severity in (Severity.FAULT, Severity.NOTE):
        for f in findings or ():
            if f.severity is severity:
                channel = f" [{f.channel}]" if f.channel else ""
                out.append(f"{label}: {severity.value.upper()}{channel} {f.text}")
    return out


def record_run(store: HistoryStore, analysed: Analysed, args: argparse.Namespace) -> str:
    """Record an exported analysis in the QC history, under the instrument the options name.

    Parameters
    ----------
    store : HistoryStore
        The history.
    analysed : Analysed
        What :func:`analyse` returned.
    args : argparse.Namespace
        The options: ``--instrument`` (a profile, whose name is recorded) or ``--instrument-name``,
        ``--objective``, ``--channel-preset``.

    Returns
    -------
    str
        The run's uuid.

    Raises
    ------
    HistoryError
        If no instrument is named.
    """
    from microscope_qc.findings import faults_found
    from microscope_qc.history import HistoryError, RunRecord

    profile = profile_from_args(args)
    name = profile.name if profile is not None else args.instrument_name
    if not name:
        raise HistoryError("--record needs an instrument: --instrument PROFILE or --instrument-name NAME.")
    record = RunRecord.for_export(
        name,
        analysed.info,
        analysed.written["html"],
        args.objective or "",
        " + ".join(args.channel_preset or []),
        analysed.acquired_at,
        faults_found(analysed.findings or ()),
    )
    return store.record(analysed.result, record)


def failure_message(exc: BaseException) -> str:
    """Word why one analysis could not be done, for the user (never a traceback).

    Parameters
    ----------
    exc : BaseException
        What :func:`analyse` or :func:`record_run` raised.

    Returns
    -------
    str
        The message: the error's own for a known problem (bad input, settings, existing outputs,
        profile, history), the OS's for a file that cannot be read or written, "the file is
        damaged" for pixels that cannot be decoded, and otherwise a bug to report.
    """
    from microscope_qc.errors import QCError
    from microscope_qc.history import HistoryError
    from microscope_qc.instrument import SettingsError
    from microscope_qc.io import ImageReadError
    from microscope_qc.profiles import ProfileError
    from microscope_qc.results import AnalysisError

    # imported here, after a failure, when reading and the analysis have loaded them anyway
    known = (
        QCError,
        AnalysisError,
        FileExistsError,
        ImageReadError,
        ProfileError,
        HistoryError,
        SettingsError,
    )
    if isinstance(exc, known):
        return error_message(exc)
    if isinstance(exc, OSError):  # a file that cannot be read, a disk that fills up
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    if isinstance(exc, Exception) and is_damaged_data_error(exc):
        # pixels are decoded lazily, so a damaged file fails in the analysis
        return (
            f"the file is damaged: its pixel data cannot be decoded ({type(exc).__name__}: "
            f"{str(exc)[:120]}); copy it again or re-export it."
        )
    return (
        f"unexpected {type(exc).__name__}: {exc} — this is a bug in microscope-qc; please report it "
        "with the file. The other files are analysed."
    )

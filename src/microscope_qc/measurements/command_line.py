"""How ``microscope-qc <name>`` adds its options and runs a file.

This is the one part of a registry entry that knows argparse, kept beside
:mod:`~microscope_qc.measurements.entry`, not in it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from microscope_qc.results import Result

if TYPE_CHECKING:
    from microscope_qc.io import ImageData
    from microscope_qc.results import ProgressCallback

__all__ = ["CommandLine", "ResultT", "BatchItem"]

#: the type of a measurement's result (e.g. :class:`~microscope_qc.analysis.psf.PSFResult`)
ResultT = TypeVar("ResultT", bound=Result)


@dataclass(frozen=True)
class BatchItem:
    """One job of a command's run, as a measurement's batch summary sees it."""

    #: how the CLI names the job (the file's name)
    label: str
    #: the job's (first) file
    path: Path
    #: what the analysis returned, or None when the job failed
    result: Result | None
    #: why the job failed (the message printed), or None
    error: str | None = None
    #: where the job's results were written
    out_dir: Path | None = None


@dataclass(frozen=True)
class CommandLine(Generic[ResultT]):
    """How ``microscope-qc <name>`` adds its options and runs (argparse is only used by these)."""

    #: ``add_arguments(parser)``: the measurement's own options
    add_arguments: Callable[[argparse.ArgumentParser], None]
    #: ``run(images, args, progress) -> Result``
    run: Callable[[list[ImageData], argparse.Namespace, ProgressCallback | None], ResultT]
    #: metric names in the summary table printed after each file
    summary_columns: Sequence[str]
    #: how the input files group into analyses (default: one file each)
    jobs: Callable[[argparse.Namespace], list[list[Path]]] | None = None
    #: extra files written after the standard export (e.g. a flat-field image)
    after_export: Callable[[ResultT, Path, argparse.Namespace], dict[str, Path]] | None = None
    #: checks the options once, before any file is read (AnalysisError: one line, exit 2)
    check_args: Callable[[argparse.Namespace], None] | None = None
    #: how one input FILE is opened (default: :func:`microscope_qc.io.read_image`), e.g. a log file
    read: Callable[[Path], ImageData] | None = None
    #: metrics whose last value in the QC history a run compares with when ``args.compare_history``
    #: is set: the CLI puts ``{metric: {channel: (value, date)}}`` into ``args.history_baseline``
    #: (``"measurement:metric"`` for another measurement's, e.g. the detector's gain)
    history_baseline: Sequence[str] = ()
    #: after every job ran: writes the batch's own summary into ``args.out`` and returns lines to
    #: print after the summary table (ExportExistsError or OSError: exit 2)
    after_batch: Callable[[list[BatchItem], argparse.Namespace], list[str]] | None = None

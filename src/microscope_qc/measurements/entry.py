"""What the registry holds for one measurement: plain data, free of Qt and argparse.

The command line, the ``sample`` command, the reports, the history and the widgets learn what a
measurement is from its :class:`Measurement`; only :class:`CommandLine` (how the CLI adds its
options and runs a file) knows about argparse, and it lives beside the entry, not in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from microscope_qc.report import Figure
from microscope_qc.report.labels import Label
from microscope_qc.results import Result

__all__ = ["InputKind", "Sample", "CommandLine", "Measurement"]


class InputKind(StrEnum):
    """What a measurement reads."""

    ZSTACK = "z-stack"
    IMAGE_2D = "2D image"
    MULTICHANNEL = "multichannel image"
    TIME_SERIES = "time series"
    LOG_FILE = "log file"


@dataclass(frozen=True)
class Sample:
    """A synthetic dataset with known truth.

    ``make(seed)`` builds it (seed None: the documented default); ``write(sample, path,
    overwrite)`` writes it as files (the image, and its truth beside it) and returns their paths.
    """

    key: str
    title: str
    make: Callable[[int | None], Any]
    write: Callable[[Any, Path, bool], list[Path]]


@dataclass(frozen=True)
class CommandLine:
    """How ``microscope-qc <name>`` adds its options and runs (argparse is only used by these)."""

    #: ``add_arguments(parser)``: the measurement's own options
    add_arguments: Callable[[Any], None]
    #: ``run(images, args, progress) -> Result``
    run: Callable[..., Result]
    #: metric names in the summary table printed after each file
    summary_columns: Sequence[str]
    #: how the input files group into analyses (default: one file each)
    jobs: Callable[[Any], list[list[Path]]] | None = None
    #: extra files written after the standard export (e.g. a flat-field image)
    after_export: Callable[[Result, Path, Any], dict[str, Path]] | None = None
    #: checks the options once, before any file is read (AnalysisError: one line, exit 2)
    check_args: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Measurement:
    """One QC measurement as the CLI, reports, the history and the widgets see it."""

    name: str
    title: str
    summary: str
    #: ``analyze(data, settings, ...) -> Result``: the function the CLI and the widget both call
    analyze: Callable[..., Result]
    settings_type: type
    inputs: tuple[InputKind, ...]
    #: the per-item table (e.g. "beads"), written as ``<item_table>.csv``; None if there is none
    item_table: str | None
    #: report figures of a result
    figures: Callable[[Result], Sequence[Figure]]
    #: human name and unit of every metric and item-table column
    labels: Mapping[str, Label]
    cli: CommandLine
    #: files written besides results.json, the CSVs and report.html (name → what it holds)
    extra_outputs: Mapping[str, str] = field(default_factory=dict)
    samples: tuple[Sample, ...] = ()

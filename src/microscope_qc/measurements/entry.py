"""What the registry holds for one measurement: plain data, free of Qt and argparse.

The command line, the ``sample`` command, the reports, the history and the widgets learn what a
measurement is from its :class:`Measurement`; only :class:`CommandLine` (how the CLI adds its
options and runs a file) knows about argparse, and it lives beside the entry, not in it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from microscope_qc.measurements.command_line import BatchItem, CommandLine, ResultT
from microscope_qc.report.labels import Label

if TYPE_CHECKING:
    from microscope_qc.findings import Finding
    from microscope_qc.report import Figure

__all__ = ["InputKind", "Sample", "CommandLine", "BatchItem", "Measurement"]

#: the type of a synthetic sample (e.g. :class:`~microscope_qc.samples.BeadSample`)
SampleT = TypeVar("SampleT")


class InputKind(StrEnum):
    """What a measurement reads."""

    ZSTACK = "z-stack"
    IMAGE_2D = "2D image"
    MULTICHANNEL = "multichannel image"
    TIME_SERIES = "time series"
    LOG_FILE = "log file"


@dataclass(frozen=True)
class Sample(Generic[SampleT]):
    """A synthetic dataset with known truth.

    ``make(seed)`` builds it (seed None: the documented default); ``write(sample, path,
    overwrite)`` writes it as files (the image, and its truth beside it) and returns their paths.
    The type parameter ties the two together: ``write`` accepts what ``make`` returns.

    Parameters
    ----------
    key : str
        The name the ``sample`` command and napari know it by, e.g. ``"psf-beads"``.
    title : str
        One line saying what it shows.
    make : callable
        ``make(seed) -> sample``.
    write : callable
        ``write(sample, path, overwrite) -> list of the paths written``.
    aliases : tuple of str
        Earlier keys the ``sample`` command still accepts.
    suffixes : tuple of str
        The endings of the file names it writes (OME-TIFF; ``.csv`` for a power-meter log).
    """

    key: str
    title: str
    make: Callable[[int | None], SampleT]
    write: Callable[[SampleT, Path, bool], list[Path]]
    aliases: tuple[str, ...] = ()
    #: the file names ``write`` accepts (what ``microscope-qc sample`` checks the path against)
    suffixes: tuple[str, ...] = (".ome.tif", ".ome.tiff")
    #: the instrument faults built into it (codes of :data:`microscope_qc.findings.FAULTS`);
    #: empty for a good instrument. The workshop gallery and quiz compare diagnoses with these.
    faults: tuple[str, ...] = ()
    #: faults it contains at a level its measurement should note but not fail (three dust specks,
    #: a handful of hot pixels, unevenness explained by a misalignment): their findings must be at
    #: least a NOTE, never absent or OK
    notes: tuple[str, ...] = ()
    #: one paragraph for the workshop: what the sample shows and what to look for
    explanation: str = ""

    def write_new(self, path: Path, seed: int | None = None, overwrite: bool = False) -> list[Path]:
        """Build the sample and write it as files.

        Parameters
        ----------
        path : Path
            The image file to write; the truth is written beside it.
        seed : int, optional
            Random seed; None: the sample's documented default.
        overwrite : bool
            Replace existing files.

        Returns
        -------
        list of Path
            Every file written, the image first.

        Raises
        ------
        FileExistsError
            If a file exists and ``overwrite`` is False.

        Notes
        -----
        The truth JSON beside the image (``<stem>_truth.json``) gets the sample's key, its
        ``faults``, its ``notes`` and its ``explanation`` first; a writer that writes no JSON truth (a bead
        table as CSV) gets one with these alone.
        """
        truth = path.with_name(path.name.split(".")[0] + "_truth.json")
        if truth.exists() and not overwrite:
            raise FileExistsError(f"{truth} exists; give --overwrite to replace it.")
        written = self.write(self.make(seed), path, overwrite)
        record: dict[str, Any] = {
            "sample": self.key,
            "title": self.title,
            "faults": list(self.faults),
            "notes": list(self.notes),
            "explanation": self.explanation,
        }
        if truth in written:
            record.update({k: v for k, v in json.loads(truth.read_text()).items() if k not in record})
        else:
            written.append(truth)
        truth.write_text(json.dumps(record, indent=2, default=str))
        return written


@dataclass(frozen=True)
class Measurement(Generic[ResultT]):
    """One QC measurement as the CLI, reports, the history and the widgets see it.

    The type parameter is the measurement's result type: its analysis returns it and its
    figures and command-line hooks accept it.

    An entry is cheap to import: ``analyze`` and ``figures`` are functions that import the
    analysis and the plotting code when first called, and ``settings`` returns the settings
    class when asked, so that ``microscope-qc --help`` loads neither (docs/architecture.md).
    """

    name: str
    title: str
    summary: str
    #: ``analyze(data, settings, ...) -> Result``: the function the CLI and the widget both call
    analyze: Callable[..., ResultT]
    #: ``settings()`` returns the settings dataclass (:attr:`settings_type`)
    settings: Callable[[], type]
    inputs: tuple[InputKind, ...]
    #: the per-item table (e.g. "beads"), written as ``<item_table>.csv``; None if there is none
    item_table: str | None
    #: report figures of a result
    figures: Callable[[ResultT], Sequence[Figure]]
    #: human name and unit of every metric and item-table column
    labels: Mapping[str, Label]
    cli: CommandLine[ResultT]
    #: files written besides results.json, the CSVs and report.html (name → what it holds)
    extra_outputs: Mapping[str, str] = field(default_factory=dict)
    #: synthetic samples for this measurement (each with its own sample type)
    samples: tuple[Sample[Any], ...] = ()
    #: the metrics a QC-history period report summarises and plots (others stay in its JSON)
    history_metrics: tuple[str, ...] = ()
    #: the Methods sentence of a period report, from the summary of those metrics
    #: (``{metric: {"median", "min", "max", "n", ...}}``); None when it has nothing to say
    methods_sentence: Callable[[Mapping[str, Mapping[str, Any]]], str | None] | None = None
    #: ``findings(result)``: what the result says about the instrument, in words, from the
    #: measurement's rule table (``analysis/<name>/findings.py``); None until it has one
    findings: Callable[[ResultT], Sequence[Finding]] | None = None

    @property
    def settings_type(self) -> type:
        """The analysis settings dataclass (its ``setting(...)`` fields are the user's options)."""
        return self.settings()

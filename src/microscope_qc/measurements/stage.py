"""Registration of the stage and focus measurement: CLI options (--mode, --moves), run, figures."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import Setting, Source
from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.frames import FRAME_SOURCES
from microscope_qc.measurements.gallery import STAGE_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import STAGE_SAMPLES
from microscope_qc.report.labels import STAGE_LABELS
from microscope_qc.results import AnalysisError

if TYPE_CHECKING:
    from microscope_qc.analysis.stage import StageResult, StageSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = ["run_stage", "analyze_stage", "stage_figures", "stage_settings"]


def analyze_stage(*args: Any, **kwargs: Any) -> StageResult:
    """Call :func:`microscope_qc.analysis.stage.analyze_stage` (imported on the first call)."""
    from microscope_qc.analysis.stage import analyze_stage as analyze

    return analyze(*args, **kwargs)


def stage_figures(result: StageResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.stage.stage_figures` (imported on the first call)."""
    from microscope_qc.report.stage import stage_figures as figures

    return figures(result)


def stage_findings(result: StageResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.stage.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.stage.findings import findings

    return findings(result)


def stage_settings() -> type[StageSettings]:
    """The stage settings class, :class:`~microscope_qc.analysis.stage.StageSettings`."""
    from microscope_qc.analysis.stage import StageSettings

    return StageSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the stage options: the frames, the moves (repeatability), the frame timing (drift).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group(
        "stage inputs",
        "FILE: a series of one bead (time points of one file, one file per frame, or the planes "
        "of a multi-page TIFF)",
    )
    g.add_argument(
        "--frames",
        choices=FRAME_SOURCES,
        default="auto",
        help="where the frames are: the time points of each FILE, files (all FILEs one series, a frame each), or "
        "the planes of a multi-page TIFF (default: time points if the file has several, else its planes)",
    )
    g.add_argument(
        "--moves",
        type=Path,
        metavar="CSV",
        help="repeatability: the move before each frame (columns "
        "dx_um, dy_um, or direction and distance_um); default: the QUAREP WG6 order",
    )
    g.add_argument("--frame-interval", type=float, metavar="S", help="drift: time between frames in seconds")
    add_settings_arguments(parser, stage_settings(), "stage analysis")


def check_stage_args(args: argparse.Namespace) -> None:
    """Read ``--moves`` once, before any image (the CLI calls this first).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.

    Raises
    ------
    AnalysisError
        A move CSV that cannot be read, or one given in drift mode.
    """
    args.moves_table = None
    if args.moves is None:
        return
    if getattr(args, "mode", None) == "drift":
        raise AnalysisError("--moves is for --mode repeatability; a drift series needs none.")
    import csv

    import pandas as pd

    try:
        args.moves_table = pd.read_csv(args.moves, sep=None, engine="python")
    except (OSError, UnicodeDecodeError, csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        # csv.Error: the delimiter sniffer found no columns (an empty or one-word file)
        raise AnalysisError(f"--moves {args.moves}: cannot read it as CSV ({exc}).") from None


def run_stage(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> StageResult:
    """Read the frames, resolve the voxel size and the resolution, then analyse (the CLI entry point).

    Parameters
    ----------
    images : list of ImageData
        The series (its first file's time points, or one file per frame).
    args : argparse.Namespace
        The parsed command-line options.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    StageResult
        The analysis result.

    Raises
    ------
    AnalysisError
        A series or move table that cannot be analysed.
    SettingsError
        No voxel size, no frame interval (drift), no stabilisation threshold (drift).
    """
    from microscope_qc.analysis.stage import StageSettings
    from microscope_qc.instrument import SettingsError, metroloj_resolution
    from microscope_qc.measurements.frames import read_frames

    if not hasattr(args, "moves_table"):
        check_stage_args(args)
    settings = StageSettings(**settings_values_from_args(StageSettings, args))
    channel = (args.channel or [0])[0]
    frames, how = read_frames(images, args.frames, channel)
    ms = microscope_settings(images[0].metadata, images[0].shape[0], overrides_from_args(args), args)
    if ms.voxel_size_um is None:
        raise SettingsError("The voxel size is not in the file; give it (--voxel-size Z Y X, µm).")
    resolution = None
    if settings.mode == "drift" and settings.stabilisation_threshold_um is None and ms.na and ms.modality:
        ch = ms.channels[min(channel, len(ms.channels) - 1)]
        try:
            resolution = metroloj_resolution(
                ms.modality, ms.na, ms.immersion_index or 1.0, ch.wavelength_ex_nm, ch.wavelength_em_nm
            ).lateral_um
        except SettingsError:
            resolution = None
    result = analyze_stage(
        frames,
        settings,
        voxel_size_um=ms.voxel_size_um,
        frame_interval_s=args.frame_interval,
        moves=args.moves_table,
        resolution_um=resolution,
        channel=channel,
        limits=limits_from_args(args),
        progress=progress,
    )
    result.settings["frames"] = Setting(how, None, Source.USER if args.frames != "auto" else Source.DEFAULT)
    vs = ms.sources.get("voxel_size_um")
    if vs is not None:
        result.settings["voxel_size_um"] = Setting(ms.voxel_size_um, "um", vs.source, vs.detail)
    if args.moves is not None:
        result.settings["moves_file"] = Setting(str(args.moves.resolve()), None, Source.USER)
    return result


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    """Each FILE is a series of its own; with --frames files, all FILEs are one series (a frame each)."""
    if args.frames == "files":
        return [list(args.files)]
    return [[f] for f in args.files]


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The stage sentence of a period report's Methods paragraph."""
    if "sd_max_um" not in s:
        return None
    sd = s["sd_max_um"]
    return (
        "Stage repositioning (QUAREP-LiMi WG6 protocol, one bead localised per image) gave a largest SD of "
        f"{1000 * sd['median']:.0f} nm (range {1000 * sd['min']:.0f}–{1000 * sd['max']:.0f} nm, {sd['n']} measurements)."
    )


STAGE = Measurement(
    name="stage",
    title="Stage and focus precision and drift (QUAREP WG6)",
    summary="Repositioning SD per axis, direction and distance, ISO 230-2 repeatability and backlash; or bead drift, "
    "velocity, MSD and MetroloJ_QC stabilisation time.",
    analyze=analyze_stage,
    settings=stage_settings,
    inputs=(InputKind.TIME_SERIES,),
    item_table="positions",
    figures=stage_figures,
    findings=stage_findings,
    labels=STAGE_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_stage,
        summary_columns=(
            "n_localised",
            "sd_x_um",
            "sd_y_um",
            "sd_max_um",
            "iso_reversal_x_um",
            "drift_velocity_um_per_min",
            "stabilisation_time_s",
        ),
        jobs=_jobs,
        check_args=check_stage_args,
    ),
    samples=STAGE_SAMPLES + STAGE_GALLERY,
    history_metrics=("sd_max_um", "sd_x_um", "sd_y_um", "drift_velocity_um_per_min", "stabilisation_time_s"),
    methods_sentence=methods_sentence,
)

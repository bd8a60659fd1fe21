"""Registration of the light-source measurement: reading logs, CLI options, run, history comparison."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import Setting, Source
from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.frames import FRAME_SOURCES
from microscope_qc.measurements.gallery import LIGHT_SOURCE_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import LIGHT_SOURCE_SAMPLES
from microscope_qc.report.labels import LIGHT_SOURCE_LABELS

if TYPE_CHECKING:
    from microscope_qc.analysis.light_source import LightSourceResult, LightSourceSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = [
    "run_light_source",
    "analyze_light_source",
    "light_source_figures",
    "light_source_settings",
    "read_log_or_image",
]

#: file endings read as power-meter logs (every other file is read as an image series)
LOG_SUFFIXES = (".csv", ".tsv", ".txt", ".log", ".dat")
#: the metric the history comparison looks up
_HISTORY_METRIC = "mean_power_mw"


def analyze_light_source(*args: Any, **kwargs: Any) -> LightSourceResult:
    """Call :func:`microscope_qc.analysis.light_source.analyze_light_source` (imported on the first call)."""
    from microscope_qc.analysis.light_source import analyze_light_source as analyze

    return analyze(*args, **kwargs)


def light_source_figures(result: LightSourceResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.light_source.light_source_figures` (imported on the first call)."""
    from microscope_qc.report.light_source import light_source_figures as figures

    return figures(result)


def light_source_findings(result: LightSourceResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.light_source.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.light_source.findings import findings

    return findings(result)


def light_source_settings() -> type[LightSourceSettings]:
    """The light-source settings class, :class:`~microscope_qc.analysis.light_source.LightSourceSettings`."""
    from microscope_qc.analysis.light_source import LightSourceSettings

    return LightSourceSettings


def read_log_or_image(path: Path) -> ImageData:
    """Open one input: a power-meter log (its text, parsed in the run) or an image series.

    Parameters
    ----------
    path : Path
        A log (``.csv``, ``.tsv``, ``.txt``, ``.log``, ``.dat``) or an image file.

    Returns
    -------
    ImageData
        For a log: the text in ``metadata.extra["log_text"]`` and its bytes as ``data`` (for the
        input's shape and checksum in results.json); for an image, :func:`microscope_qc.io.read_image`.
    """
    import numpy as np

    from microscope_qc.io import AcquisitionMetadata, ImageData, read_image

    if path.suffix.lower() not in LOG_SUFFIXES:
        return read_image(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    meta = AcquisitionMetadata(extra={"log_text": text})
    return ImageData(np.frombuffer(raw, dtype=np.uint8), meta, path, "log")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the light-source options: the log's wavelength, the image series' timing and dark, history.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group(
        "light-source inputs",
        "FILE: a power-meter log (.csv, .tsv, .txt) or an image series of a uniform sample",
    )
    g.add_argument(
        "--wavelength", type=float, metavar="NM", help="wavelength of a log without a wavelength column"
    )
    g.add_argument(
        "--frame-interval", type=float, metavar="S", help="image series: time between frames in seconds"
    )
    g.add_argument(
        "--frames", choices=FRAME_SOURCES, default="auto", help="image series: where the frames are"
    )
    g.add_argument(
        "--dark", type=Path, metavar="FILE", help="image series: dark image subtracted from every frame"
    )
    g.add_argument(
        "--dark-level", type=float, metavar="COUNTS", help="image series: dark level subtracted instead"
    )
    h = g.add_mutually_exclusive_group()
    h.add_argument(
        "--previous-power", type=float, metavar="MW", help="compare the mean power with this earlier value"
    )
    h.add_argument(
        "--compare-history",
        action="store_true",
        help="compare the mean power with the last light-source record of this instrument in the QC history",
    )
    add_settings_arguments(parser, light_source_settings(), "light-source analysis")


def _previous_from_history(
    args: argparse.Namespace, warnings: list[str]
) -> tuple[dict[int, float] | None, str]:
    """The previous mean power per light from ``args.history_baseline`` (filled by the CLI)."""
    found = (getattr(args, "history_baseline", None) or {}).get(_HISTORY_METRIC)
    if not found:
        warnings.append("No comparison with the history: no earlier light-source record of this instrument.")
        return None, ""
    dates = sorted({d for _, d in found.values()})
    return {c: v for c, (v, _) in found.items()}, f"the record of {dates[-1]}"


def run_light_source(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> LightSourceResult:
    """Parse the log (or read the image series), then analyse (the CLI entry point).

    Parameters
    ----------
    images : list of ImageData
        One log, or the image series (its first file's time points, or one file per frame).
    args : argparse.Namespace
        The parsed command-line options.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    LightSourceResult
        The analysis result.

    Raises
    ------
    AnalysisError
        A log or series that cannot be analysed (the message says why).
    """
    import numpy as np

    from microscope_qc.analysis.light_source import LightSourceSettings, analyze_light_source, parse_power_log
    from microscope_qc.io import read_image
    from microscope_qc.measurements.frames import read_frames

    settings = LightSourceSettings(**settings_values_from_args(LightSourceSettings, args))
    first = images[0]
    notes: list[str] = []
    previous: dict[int, float] | float | None = args.previous_power
    source = "the value given (--previous-power)"
    if args.compare_history:
        previous, source = _previous_from_history(args, notes)
    name = first.path.name if first.path is not None else "log"
    common: dict[str, Any] = {
        "previous_power": previous,
        "previous_source": source,
        "limits": limits_from_args(args),
        "progress": progress,
    }
    if "log_text" in first.metadata.extra:
        log = parse_power_log(first.metadata.extra["log_text"], name, settings.power_unit)
        result = analyze_light_source(log, settings, wavelength_nm=args.wavelength, **common)
    else:
        frames, how = read_frames(images, args.frames, (args.channel or [0])[0])
        dark: Any = args.dark_level
        if args.dark is not None:
            dark = np.asarray(read_image(args.dark).data[(args.channel or [0])[0]], dtype=float)
        result = analyze_light_source(
            frames,
            settings,
            frame_interval_s=args.frame_interval,
            dark=dark,
            wavelength_nm=args.wavelength,
            **common,
        )
        result.settings["frames"] = Setting(
            how, None, Source.USER if args.frames != "auto" else Source.DEFAULT
        )
        if args.frame_interval is not None:
            result.settings["frame_interval_s"] = Setting(args.frame_interval, "s", Source.USER)
        if args.dark is not None:
            result.settings["dark_file"] = Setting(str(args.dark.resolve()), None, Source.USER)
    result.warnings.extend(notes)
    return result


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    if args.frames == "files":
        return [list(args.files)]
    return [[f] for f in args.files]


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The light-source sentence of a period report's Methods paragraph."""
    if "stability_after_warmup_percent" not in s:
        return None
    st = s["stability_after_warmup_percent"]
    txt = (
        f"Light-source stability S after warm-up (QUAREP-LiMi WG1, power-meter logs) was {st['median']:.2f} % "
        f"(range {st['min']:.2f}–{st['max']:.2f} %, {st['n']} measurements)"
    )
    if "mean_power_mw" in s:
        p = s["mean_power_mw"]
        txt += f"; the mean power at the sample was {p['median']:.3g} mW (range {p['min']:.3g}–{p['max']:.3g} mW)"
    return txt + "."


LIGHT_SOURCE = Measurement(
    name="light-source",
    title="Light source power and stability (QUAREP WG1)",
    summary="Stability S, CV, drift, warm-up, plateaus, linearity and Allan deviation from power-meter logs or an "
    "image series of a uniform sample.",
    analyze=analyze_light_source,
    settings=light_source_settings,
    inputs=(InputKind.TIME_SERIES, InputKind.LOG_FILE),
    item_table="plateaus",
    figures=light_source_figures,
    findings=light_source_findings,
    labels=LIGHT_SOURCE_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_light_source,
        summary_columns=(
            "mean_power_mw",
            "stability_after_warmup_percent",
            "cv_percent",
            "drift_percent_per_h",
            "warmup_time_s",
            "n_plateaus",
        ),
        jobs=_jobs,
        read=read_log_or_image,
        history_baseline=(_HISTORY_METRIC,),
    ),
    samples=LIGHT_SOURCE_SAMPLES + LIGHT_SOURCE_GALLERY,
    history_metrics=(
        "mean_power_mw",
        "stability_after_warmup_percent",
        "cv_percent",
        "drift_percent_per_h",
        "warmup_time_s",
    ),
    methods_sentence=methods_sentence,
)

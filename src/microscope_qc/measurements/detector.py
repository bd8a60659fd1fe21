"""Registration of the detector-performance measurement: CLI options, run, samples."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import Setting, Source
from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.gallery import DETECTOR_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import DETECTOR_SAMPLES
from microscope_qc.report.labels import DETECTOR_LABELS
from microscope_qc.results import AnalysisError

if TYPE_CHECKING:
    from microscope_qc.analysis.detector import DetectorResult, DetectorSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = ["analyze_detector", "detector_figures", "detector_settings", "run_detector", "DETECTOR"]


def analyze_detector(*args: Any, **kwargs: Any) -> DetectorResult:
    """Call :func:`microscope_qc.analysis.detector.analyze_detector` (imported on the first call)."""
    from microscope_qc.analysis.detector import analyze_detector as analyze

    return analyze(*args, **kwargs)


def detector_figures(result: DetectorResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.detector.detector_figures` (imported on the first call)."""
    from microscope_qc.report.detector import detector_figures as figures

    return figures(result)


def detector_findings(result: DetectorResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.detector.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.detector.findings import findings

    return findings(result)


def detector_settings() -> type[DetectorSettings]:
    """The detector settings class, :class:`~microscope_qc.analysis.detector.DetectorSettings`."""
    from microscope_qc.analysis.detector import DetectorSettings

    return DetectorSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the detector options to the measurement's sub-command.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group(
        "detector inputs",
        "FILE may be a folder (its TIFF files in name order are one series). Every plane of every file is a frame.",
    )
    g.add_argument(
        "--frame-table",
        type=Path,
        metavar="TABLE",
        help="emva: CSV or YAML with exposure_ms (or exposure_s, exposure_us), photons (mean per pixel, optional; "
        "gives the QE) and kind (bright/dark) per frame, per pair, or with a 'frames' count per row (default: "
        "<stem>_frames.csv beside the first file, or frames.csv in its folder)",
    )
    g.add_argument(
        "--series",
        action="store_true",
        help="analyse all FILEs as one series (implied by --frame-table); otherwise each FILE or folder is one",
    )
    g.add_argument(
        "--dark",
        action="append",
        type=Path,
        metavar="FILE",
        help="single-scene and noisee: dark frames (repeatable; a folder, or a multi-page file)",
    )
    g.add_argument(
        "--roi",
        action="append",
        metavar="SPEC",
        help="cv and noisee: a region, a rectangle y0,x0,y1,x1 (pixels, corners included) or an ImageJ .roi file "
        "or ROI set .zip (repeatable)",
    )
    add_settings_arguments(parser, detector_settings(), "detector analysis")


def check_detector_args(args: argparse.Namespace) -> None:
    """Parse ``--roi`` once and check the frame table exists (before any file is read).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.

    Raises
    ------
    AnalysisError
        A region SPEC that cannot be used or a missing frame table or dark file.
    """
    from microscope_qc.measurements.detector_inputs import parse_roi_spec

    args.roi_specs = [r for spec in (getattr(args, "roi", None) or []) for r in parse_roi_spec(spec)]
    table = getattr(args, "frame_table", None)
    if table is not None and not table.is_file():
        raise AnalysisError(f"--frame-table {table}: no such file.")
    for d in getattr(args, "dark", None) or []:
        if not d.exists():
            raise AnalysisError(f"--dark {d}: no such file or folder.")


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    from microscope_qc.measurements.detector_inputs import expand_inputs

    files: list[Path] = list(args.files)
    if getattr(args, "series", False) or getattr(args, "frame_table", None) is not None:
        return [expand_inputs(files)]
    return [expand_inputs([f]) for f in files]


def _all_timepoints(images: list[ImageData]) -> list[ImageData]:
    """Every time point of every image (the reader opens the first), in order."""
    from microscope_qc.io import read_image

    out: list[ImageData] = []
    for im in images:
        n_t = int(im.metadata.extra.pop("timepoints", 1))
        out.append(im)
        if im.path is not None:
            out.extend(read_image(im.path, timepoint=t) for t in range(1, n_t))
    return out


def run_detector(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> DetectorResult:
    """Read the series as the options say, then analyse it once (the CLI entry point).

    Parameters
    ----------
    images : list of ImageData
        The series' files, opened (frames are read one at a time).
    args : argparse.Namespace
        The parsed command-line options.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    DetectorResult
        The analysis result.

    Raises
    ------
    AnalysisError
        If the options, the frame table, the darks or the frames cannot be used.
    """
    from microscope_qc.analysis.detector import DetectorSettings, analyze_detector
    from microscope_qc.io import read_image
    from microscope_qc.measurements.detector_inputs import (
        LazyFrames,
        expand_inputs,
        find_frame_table,
        read_frame_table,
        roi_masks,
    )

    if not hasattr(args, "roi_specs"):
        check_detector_args(args)
    settings = DetectorSettings(**settings_values_from_args(DetectorSettings, args))
    channels = list(args.channel) if getattr(args, "channel", None) else None
    frames = LazyFrames(_all_timepoints(images), channels)
    kwargs: dict[str, Any] = {}
    table_path = None
    if settings.mode == "emva":
        paths = [im.path for im in images if im.path is not None]
        table_path = args.frame_table or find_frame_table(paths)
        if table_path is not None:
            table = read_frame_table(table_path, len(frames))
            kwargs.update(exposure_ms=table.exposure_ms, photons=table.photons, dark=table.dark)
    darks = None
    if args.dark:
        dark_images = [read_image(p) for p in expand_inputs(list(args.dark))]
        darks = LazyFrames(_all_timepoints(dark_images), channels)
    rois = None
    if args.roi_specs:
        shape = tuple(int(s) for s in images[0].shape[-2:])
        rois = roi_masks(args.roi_specs, (shape[0], shape[1]))
    result = analyze_detector(
        frames, settings, darks=darks, rois=rois, limits=limits_from_args(args), progress=progress, **kwargs
    )
    if table_path is not None:
        source = Source.USER if args.frame_table else Source.FILE
        result.settings["frame_table"] = Setting(str(Path(table_path).resolve()), None, source)
    if args.dark:
        result.settings["dark_files"] = Setting(
            ", ".join(str(p.resolve()) for p in args.dark), None, Source.USER
        )
    if args.roi_specs:
        result.settings["rois"] = Setting("; ".join(name for name, _ in args.roi_specs), None, Source.USER)
    return result


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The detector sentence of a period report's Methods paragraph."""
    if "conversion_gain_e_per_dn" in s:
        g = s["conversion_gain_e_per_dn"]
        txt = f"The detector's conversion gain (EMVA 1288 photon transfer) was {g['median']:.3g} e⁻/DN (range {g['min']:.3g}–{g['max']:.3g})"
        if "dark_noise_e" in s:
            txt += f", its temporal dark noise {s['dark_noise_e']['median']:.3g} e⁻"
        return txt + "."
    if "noise_rms_dn" in s:
        n = s["noise_rms_dn"]
        return f"The detector's RMS dark noise (MetroloJ_QC camera noise) was {n['median']:.3g} DN (range {n['min']:.3g}–{n['max']:.3g})."
    if "cv_percent" in s:
        c = s["cv_percent"]
        return (
            f"The detector CV (MetroloJ_QC) was {c['median']:.3g} % (range {c['min']:.3g}–{c['max']:.3g} %)."
        )
    return None


DETECTOR = Measurement(
    name="detector",
    title="Detector performance (EMVA 1288, QUAREP)",
    summary="EMVA 1288 and QUAREP WG2 photon transfer, MetroloJ_QC and NoiSee. Photon transfer (gain, read noise, saturation, dynamic range, linearity, DSNU/PRNU, QE), dark noise, "
    "CV per region and NoiSee SNR, from raw frames streamed one at a time.",
    analyze=analyze_detector,
    settings=detector_settings,
    inputs=(InputKind.ZSTACK, InputKind.TIME_SERIES),
    item_table="photon_transfer",
    figures=detector_figures,
    findings=detector_findings,
    labels=DETECTOR_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_detector,
        summary_columns=(
            "conversion_gain_e_per_dn",
            "dark_noise_e",
            "saturation_capacity_e",
            "dynamic_range_db",
            "noise_rms_dn",
            "cv_percent",
            "snr",
        ),
        jobs=_jobs,
        check_args=check_detector_args,
    ),
    samples=DETECTOR_SAMPLES + DETECTOR_GALLERY,
    history_metrics=(
        "conversion_gain_e_per_dn",
        "dark_noise_e",
        "saturation_capacity_e",
        "dynamic_range_db",
        "dsnu_e",
        "prnu_percent",
        "noise_rms_dn",
        "cv_percent",
    ),
    methods_sentence=methods_sentence,
)

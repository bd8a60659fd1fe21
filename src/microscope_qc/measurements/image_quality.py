"""Registration of the image-quality measurement (QUAREP WG10): CLI options, run, figures."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.measurements.entry import BatchItem, CommandLine, InputKind, Measurement
from microscope_qc.measurements.gallery import IMAGE_QUALITY_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import IMAGE_QUALITY_SAMPLES
from microscope_qc.report.labels import IMAGE_QUALITY_LABELS
from microscope_qc.results import AnalysisError

if TYPE_CHECKING:
    from microscope_qc.analysis.image_quality import ImageQualityResult, ImageQualitySettings
    from microscope_qc.findings import Finding
    from microscope_qc.instrument import Setting
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = [
    "run_image_quality",
    "analyze_image_quality",
    "image_quality_figures",
    "image_quality_settings",
    "IMAGE_QUALITY",
]


def analyze_image_quality(*args: Any, **kwargs: Any) -> ImageQualityResult:
    """Call :func:`microscope_qc.analysis.image_quality.analyze_image_quality` (imported on the first call)."""
    from microscope_qc.analysis.image_quality import analyze_image_quality as analyze

    return analyze(*args, **kwargs)


def image_quality_figures(result: ImageQualityResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.image_quality.image_quality_figures` (imported on the first call)."""
    from microscope_qc.report.image_quality import image_quality_figures as figures

    return figures(result)


def image_quality_findings(result: ImageQualityResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.image_quality.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.image_quality.findings import findings

    return findings(result)


def image_quality_settings() -> type[ImageQualitySettings]:
    """The settings class, :class:`~microscope_qc.analysis.image_quality.ImageQualitySettings`."""
    from microscope_qc.analysis.image_quality import ImageQualitySettings

    return ImageQualitySettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the image-quality options: regions, time series, batch, history, then the analysis settings.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group(
        "image-quality inputs",
        "FILE may be a folder: its TIFF files in name order, each checked on its own. With several images, the "
        "batch summary (all images, the worst ranked, the files that failed) is written into --out.",
    )
    spec = "a rectangle y0,x0,y1,x1 (pixels, corners included) or an ImageJ .roi file or ROI set .zip"
    g.add_argument(
        "--signal-roi",
        action="append",
        metavar="SPEC",
        help=f"SNR and CNR: a signal region, {spec} (repeatable; alone: the background is the rest of the image; "
        "neither region given: Otsu's threshold splits the image)",
    )
    g.add_argument(
        "--background-roi",
        action="append",
        metavar="SPEC",
        help=f"SNR and CNR: a background region, {spec} (repeatable; alone: the signal is the rest of the image)",
    )
    g.add_argument(
        "--frame-interval",
        type=float,
        metavar="S",
        help="a time series: seconds between frames, for the bleaching half-life in seconds",
    )
    g.add_argument(
        "--gain-from-history",
        action="store_true",
        dest="compare_history",
        help="take the detector's gain (e-/DN) and offset (DN) from this instrument's last detector run in the QC "
        "history (--gain and --offset win)",
    )
    g.add_argument(
        "--worst",
        type=int,
        default=10,
        metavar="N",
        help="how many of the worst images the printed batch summary lists (default 10; the files list all)",
    )
    add_settings_arguments(parser, image_quality_settings(), "image-quality checks")


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    """Each image is a job of its own; a folder gives its TIFF files."""
    from microscope_qc.measurements.detector_inputs import expand_inputs

    return [[f] for f in expand_inputs(list(args.files))]


def check_image_quality_args(args: argparse.Namespace) -> None:
    """Parse the regions once and refuse an existing batch summary, before any file is read.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.

    Raises
    ------
    AnalysisError
        A region SPEC that cannot be used, a frame interval ≤ 0, or batch summary files that exist
        (without ``--overwrite``).
    """
    from microscope_qc.measurements.detector_inputs import parse_roi_spec
    from microscope_qc.report.image_quality_batch import BATCH_FILES

    for kind in ("signal", "background"):
        given = getattr(args, f"{kind}_roi", None) or []
        try:
            setattr(args, f"{kind}_specs", [r for spec in given for r in parse_roi_spec(spec)])
        except AnalysisError as exc:
            raise AnalysisError(str(exc).replace("--roi", f"--{kind}-roi")) from None
    interval = getattr(args, "frame_interval", None)
    if interval is not None and not (math.isfinite(interval) and interval > 0):
        raise AnalysisError(f"--frame-interval {interval}: give the seconds between frames, a number > 0.")
    if getattr(args, "worst", 10) < 1:
        raise AnalysisError(f"--worst {args.worst}: give how many images to list, 1 or more.")
    if len(_jobs(args)) > 1 and not getattr(args, "overwrite", False):
        existing = [name for name in BATCH_FILES if (args.out / name).exists()]
        if existing:
            raise AnalysisError(
                f"{args.out} already holds the batch summary {', '.join(existing)}; choose another --out or give "
                "--overwrite."
            )


def after_batch(items: list[BatchItem], args: argparse.Namespace) -> list[str]:
    """Write the batch summary (several images) into ``--out`` and return the lines to print.

    Parameters
    ----------
    items : list of BatchItem
        Every job of the run, analysed or failed.
    args : argparse.Namespace
        The parsed command-line options.

    Returns
    -------
    list of str
        The worst images with the checks that pulled them down, and the files that failed.
    """
    if len(items) < 2:
        return []
    from microscope_qc.report.image_quality_batch import write_batch

    _, lines = write_batch(items, args.out, getattr(args, "overwrite", False), getattr(args, "worst", 10))
    return lines


class _Plane:
    """One (channel, z) plane of every time point of a (T, C, Z, Y, X) lazy array, read a frame at a time."""

    def __init__(self, data: Any, channel: int, z: int) -> None:
        self._data, self._c, self._z = data, channel, z
        self.shape = (int(data.shape[0]), int(data.shape[-2]), int(data.shape[-1]))

    def __getitem__(self, t: int) -> Any:
        import numpy as np

        return np.asarray(self._data[t, self._c, self._z])


def _gain_offset(
    settings: ImageQualitySettings, args: argparse.Namespace, channel: int
) -> tuple[ImageQualitySettings, dict[str, Setting], list[str]]:
    """Fill the gain and offset the user did not give from the last detector run in the QC history."""
    from dataclasses import replace

    from microscope_qc.instrument import Setting, Source

    found = getattr(args, "history_baseline", None)
    if found is None:
        return settings, {}, []
    provenance: dict[str, Setting] = {}
    values: dict[str, Any] = {}
    for field, metric, unit in (
        ("conversion_gain_e_per_dn", "conversion_gain_e_per_dn", "e-/DN"),
        ("offset_dn", "offset_dn", "DN"),
    ):
        if getattr(settings, field) is not None:
            continue
        per_channel = found.get(f"detector:{metric}") or {}
        if not per_channel:
            continue
        value, date = per_channel.get(channel, per_channel[min(per_channel)])
        values[field] = value
        provenance[field] = Setting(value, unit, Source.INSTRUMENT, f"QC history: detector run of {date}")
    missing = [
        f
        for f in ("conversion_gain_e_per_dn", "offset_dn")
        if getattr(settings, f) is None and f not in values
    ]
    warnings = []
    if missing:
        warnings.append(
            "--gain-from-history: no earlier detector run of this instrument in the QC history records the "
            + " and the ".join("gain" if f.startswith("conv") else "offset" for f in missing)
            + "; give --gain and --offset, or record a detector run (microscope-qc detector ... --record)."
        )
    return replace(settings, **values), provenance, warnings


def run_image_quality(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> ImageQualityResult:
    """Read the image, resolve bit depth, sampling, regions and the detector's gain, then check it.

    A stack is checked at its middle plane; a time series at its first frame, and all its frames
    give the bleaching.

    Parameters
    ----------
    images : list of ImageData
        The image (one file).
    args : argparse.Namespace
        The parsed command-line options.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    ImageQualityResult
        The analysis result.

    Raises
    ------
    AnalysisError
        An image that cannot be checked.
    """
    import numpy as np

    from microscope_qc.analysis.image_quality import ImageQualitySettings
    from microscope_qc.analysis.image_quality.sampling import nyquist_pixel_um
    from microscope_qc.instrument import Setting, Source
    from microscope_qc.io import read_time_series
    from microscope_qc.measurements.detector_inputs import roi_masks

    if not hasattr(args, "signal_specs"):
        check_image_quality_args(args)
    image = images[0]
    settings = ImageQualitySettings(**settings_values_from_args(ImageQualitySettings, args))
    channel = (args.channel or [0])[0]
    if channel >= image.shape[0]:
        raise AnalysisError(f"Channel {channel} asked for; the file has {image.shape[0]} channel(s).")
    settings, gain_sources, warnings = _gain_offset(settings, args, channel)
    n_z = image.shape[1]
    plane = np.asarray(image.data[channel, n_z // 2])
    ms = microscope_settings(image.metadata, image.shape[0], overrides_from_args(args), args)
    vox = image.metadata.voxel_size_um.value or (None, None, None)
    pixel = ms.voxel_size_um[2] if ms.voxel_size_um else vox[2]
    ch = ms.channels[min(channel, len(ms.channels) - 1)]
    nyquist, why = nyquist_pixel_um(
        ms.modality, ms.na, ms.immersion_index, ch.wavelength_ex_nm, ch.wavelength_em_nm
    )
    masks: dict[str, Any] = {}
    for kind in ("signal", "background"):
        specs = getattr(args, f"{kind}_specs")
        if specs:
            shape = (int(plane.shape[0]), int(plane.shape[1]))
            try:
                found = roi_masks(specs, shape)
            except AnalysisError as exc:
                raise AnalysisError(str(exc).replace("--roi", f"--{kind}-roi")) from None
            masks[kind] = (np.logical_or.reduce([m for _, m in found]), "; ".join(name for name, _ in found))
    n_t = int(image.metadata.extra.get("timepoints", 1))
    series = None
    if n_t > 1 and image.path is not None:
        series = _Plane(read_time_series(image.path).data, channel, n_z // 2)
    bits = image.metadata.bit_depth
    result = analyze_image_quality(
        plane,
        settings,
        file_bit_depth=None if bits.missing else int(bits.value),
        pixel_size_um=pixel,
        nyquist_um=nyquist,
        signal_mask=masks["signal"][0] if "signal" in masks else None,
        background_mask=masks["background"][0] if "background" in masks else None,
        region_names=(masks.get("signal", (None, ""))[1], masks.get("background", (None, ""))[1]),
        series=series,
        frame_interval_s=getattr(args, "frame_interval", None),
        channel=channel,
        limits=limits_from_args(args),
        progress=progress,
    )
    result.settings.update(gain_sources)
    result.warnings.extend(warnings)
    if series is not None:
        result.settings["frame_checked"] = Setting(0, None, Source.DEFAULT, f"time point 0 of {n_t}")
    if n_z > 1:
        result.warnings.append(f"Plane {n_z // 2} of {n_z} checked (the middle of the stack).")
    if nyquist is None:
        result.warnings.append(f"No sampling check: {why}.")
    return result


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The image-quality sentence of a period report's Methods paragraph."""
    if "quality_rating" not in s:
        return None
    r = s["quality_rating"]
    return (
        "Image quality (saturation, zero clipping, dynamic range, SNR, sampling and, for time series, bleaching "
        "checks, weighted) rated "
        f"{r['median']:.0f} % (range {r['min']:.0f}–{r['max']:.0f} %, {r['n']} images)."
    )


IMAGE_QUALITY = Measurement(
    name="image-quality",
    title="Image quality of any image (QUAREP WG10)",
    summary="Saturated and zero-clipped pixels, dynamic range used, noise (in electrons with the detector's gain "
    "and offset), SNR and CNR (your regions or Otsu's), focus, Nyquist sampling, bleaching of a time series, and a "
    "weighted rating of the checks; batches rank the worst images.",
    analyze=analyze_image_quality,
    settings=image_quality_settings,
    inputs=(InputKind.IMAGE_2D, InputKind.TIME_SERIES),
    item_table="checks",
    figures=image_quality_figures,
    findings=image_quality_findings,
    labels=IMAGE_QUALITY_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_image_quality,
        summary_columns=(
            "quality_rating",
            "saturated_percent",
            "zero_clipped_percent",
            "snr",
            "noise_sd_counts",
        ),
        jobs=_jobs,
        check_args=check_image_quality_args,
        history_baseline=("detector:conversion_gain_e_per_dn", "detector:offset_dn"),
        after_batch=after_batch,
    ),
    samples=IMAGE_QUALITY_SAMPLES + IMAGE_QUALITY_GALLERY,
    history_metrics=("quality_rating", "saturated_percent", "snr"),
    methods_sentence=methods_sentence,
)

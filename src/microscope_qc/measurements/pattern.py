"""Registration of the pattern-slide measurement: CLI options (--kind, --pitch, ...), run, figures, corrections."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import PATTERN_SAMPLES
from microscope_qc.report.labels import PATTERN_LABELS

if TYPE_CHECKING:
    from microscope_qc.analysis.pattern import PatternSettings
    from microscope_qc.findings import Finding
    from microscope_qc.instrument import MicroscopeSettings
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback, Result

__all__ = [
    "run_pattern",
    "analyze_pattern",
    "pattern_figures",
    "pattern_findings",
    "pattern_settings",
    "PATTERN",
]


# numpy, the analysis and the figures are imported when first used, not with the registry


def analyze_pattern(*args: Any, **kwargs: Any) -> Result:
    """Call :func:`microscope_qc.analysis.pattern.analyze_pattern` (imported on the first call).

    A field of rings gives a :class:`~microscope_qc.analysis.pattern.PatternResult`; line pairs and
    ladders their own results.
    """
    from microscope_qc.analysis.pattern import analyze_pattern as analyze

    return analyze(*args, **kwargs)


def pattern_figures(result: Result) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.pattern.pattern_figures` (imported on the first call)."""
    from microscope_qc.report.pattern import pattern_figures as figures

    return figures(result)


def pattern_findings(result: Result) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.pattern.findings.pattern_findings` (imported on the first call)."""
    from microscope_qc.analysis.pattern.findings import pattern_findings as findings

    return findings(result)


def pattern_settings() -> type[PatternSettings]:
    """The pattern settings class, :class:`~microscope_qc.analysis.pattern.PatternSettings`."""
    from microscope_qc.analysis.pattern import PatternSettings

    return PatternSettings


def _numbers(text: str) -> tuple[float, ...]:
    """A comma-separated list of positive numbers (``--nominal-spacings 0.1,0.15,0.2``)."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers separated by commas, got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the pattern options: the analysis settings of every kind.

    ``--kind``, ``--pitch``, ``--model``, ... (a field of rings), the line-pair ones (``--group-gap``,
    ``--resolved-dip``, ...) and the ladder ones (``--step-threshold``, ``--max-deviation``, ...).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group(
        "pattern inputs",
        "FILE: an image of a patterned slide (a field of rings or spots, line pairs, an intensity ladder), "
        "one or several channels; a stack is analysed in its sharpest plane",
    )
    g.add_argument(
        "--separate-channels",
        action="store_true",
        help="each FILE is one channel (or camera) of the same field: registered to the first",
    )
    g.add_argument(
        "--nominal-spacings",
        type=_numbers,
        metavar="UM,UM,...",
        help="line pairs and gratings: the slide's line spacings and grating periods in µm, to compare with",
    )
    g.add_argument(
        "--nominal-levels",
        type=_numbers,
        metavar="L,L,...",
        help="grey-level ladder: the steps' nominal levels, any unit, any order (default: equally spaced)",
    )
    from microscope_qc.analysis.pattern.lines_settings import LadderSettings, LinePatternSettings
    from microscope_qc.analysis.pattern.settings import LADDER_FIELDS, LINE_FIELDS

    # one settings type (PatternSettings holds each kind's fields), its options grouped by kind
    add_settings_arguments(parser, pattern_settings(), "pattern analysis", skip=LINE_FIELDS + LADDER_FIELDS)
    add_settings_arguments(parser, LinePatternSettings, "line pairs and gratings (--kind lines)")
    add_settings_arguments(parser, LadderSettings, "grey-level ladder (--kind ladder)")


def run_pattern(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> Result:
    """Resolve the pixel size and the settings, then analyse the pattern (the CLI entry point).

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
    Result
        The analysis result (a PatternResult for a field of rings), judged against the instrument profile's limits when one is given.
    """
    from dataclasses import replace

    import numpy as np

    from microscope_qc.analysis.pattern import PatternSettings
    from microscope_qc.results import AnalysisError

    image = images[0]
    data: Any = image.data
    names = image.metadata.channel_names.value
    n_channels = image.shape[0]
    if len(images) > 1:  # one file per channel or camera: their planes stacked as channels
        shapes = {im.shape[2:] for im in images}
        if len(shapes) != 1:
            raise AnalysisError(
                f"The channel files have different sizes {sorted(shapes)}; they must show the same field."
            )
        data = np.concatenate([np.asarray(im.data) for im in images])
        names = [
            n
            for im in images
            for n in (
                im.metadata.channel_names.value
                or [f"{(im.path.name if im.path else 'file')} {k}" for k in range(im.shape[0])]
            )
        ]
        n_channels = data.shape[0]
    ms = microscope_settings(image.metadata, n_channels, overrides_from_args(args), args)
    ms = _with_plane_pixel_size(ms, image)
    if names and len(names) == len(ms.channels):
        ms = replace(ms, channels=tuple(replace(c, name=n) for c, n in zip(ms.channels, names, strict=True)))
    settings = PatternSettings(
        microscope=ms,
        nominal_spacings_um=getattr(args, "nominal_spacings", None),
        nominal_levels=getattr(args, "nominal_levels", None),
        **settings_values_from_args(PatternSettings, args),
    )
    channels = sorted(set(args.channel)) if args.channel else None
    return analyze_pattern(
        data, settings, channels=channels, limits=limits_from_args(args), progress=progress
    )


def _with_plane_pixel_size(ms: MicroscopeSettings, image: ImageData) -> MicroscopeSettings:
    """A 2D file's pixel size: the file has y and x sizes but no z size, which a pattern does not need."""
    from dataclasses import replace

    from microscope_qc.instrument import Setting, Source

    vox = image.metadata.voxel_size_um
    if ms.voxel_size_um is not None or vox.value is None:
        return ms
    _, vy, vx = vox.value
    if not (vy and vx):
        return ms
    value = (1.0, float(vy), float(vx))  # (z is not used)
    detail = f"{vox.origin}: y and x (the file has no z size)"
    return replace(
        ms,
        voxel_size_um=value,
        sources={**ms.sources, "voxel_size_um": Setting(value, "um", Source.FILE, detail)},
    )


def _jobs(args: argparse.Namespace) -> list[list[Path]]:
    return [list(args.files)] if args.separate_channels else [[f] for f in args.files]


def _after_export(result: Result, out_dir: Path, args: argparse.Namespace) -> dict[str, Path]:
    from microscope_qc.analysis.pattern import PatternResult

    if not isinstance(result, PatternResult) or not result.grids:
        return {}
    from microscope_qc.report.pattern import write_registration

    return {
        "registration": write_registration(result, out_dir / "registration.json", overwrite=args.overwrite)
    }


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The pattern sentence of a period report's Methods paragraph."""
    if "distortion_max_um" not in s:
        return None
    d = s["distortion_max_um"]
    return (
        "Field distortion from a pattern slide's grid of rings (spots fitted with 2D Gaussians, grid model "
        f"chosen by BIC): largest distortion {1000 * d['median']:.0f} nm (range {1000 * d['min']:.0f}–"
        f"{1000 * d['max']:.0f} nm, {d['n']} measurements)."
    )


PATTERN = Measurement(
    name="pattern",
    title="Pattern slide: distortion, co-registration, resolution",
    summary="A patterned slide (Argolight-type). A field of rings: field distortion (grid model chosen by BIC), "
    "magnification and rotation, spot uniformity and FWHM over the field, channel co-registration; corrections "
    "as registration.json. Line pairs and gratings: spacing, contrast, the smallest resolved spacing, the "
    "line-spread FWHM. A grey-level ladder: response linearity and dynamic range. The kind is detected.",
    analyze=analyze_pattern,
    settings=pattern_settings,
    inputs=(InputKind.IMAGE_2D, InputKind.MULTICHANNEL),
    item_table="spots",
    figures=pattern_figures,
    labels=PATTERN_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_pattern,
        summary_columns=(
            "n_spots",
            "pitch_um",
            "magnification_error_percent",
            "rotation_deg",
            "distortion_max_um",
            "uniformity_percent",
            "fwhm_median_um",
            "registration_shift_x_um",
            "registration_shift_y_um",
            "smallest_resolved_spacing_um",
            "lsf_fwhm_um",
            "linearity_r2",
            "max_deviation_percent",
        ),
        jobs=_jobs,
        after_export=_after_export,
    ),
    extra_outputs={"registration.json": "the distortion and registration models, to correct images"},
    samples=PATTERN_SAMPLES,
    history_metrics=(
        "distortion_max_um",
        "magnification_error_percent",
        "uniformity_percent",
        "fwhm_median_um",
        "registration_shift_x_um",
        "registration_shift_y_um",
    ),
    methods_sentence=methods_sentence,
    findings=pattern_findings,
)

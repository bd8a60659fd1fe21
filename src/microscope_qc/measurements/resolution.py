"""Registration of the resolution measurement (FRC, decorrelation): CLI options (--pair), run, figures."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import Setting, Source
from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.gallery import RESOLUTION_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import RESOLUTION_SAMPLES
from microscope_qc.report.labels import RESOLUTION_LABELS

if TYPE_CHECKING:
    from microscope_qc.analysis.resolution import ResolutionResult, ResolutionSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = [
    "run_resolution",
    "analyze_resolution",
    "resolution_figures",
    "resolution_settings",
    "map_files",
    "RESOLUTION",
]


def analyze_resolution(*args: Any, **kwargs: Any) -> ResolutionResult:
    """Call :func:`microscope_qc.analysis.resolution.analyze_resolution` (imported on the first call)."""
    from microscope_qc.analysis.resolution import analyze_resolution as analyze

    return analyze(*args, **kwargs)


def resolution_figures(result: ResolutionResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.resolution.resolution_figures` (imported on the first call)."""
    from microscope_qc.report.resolution import resolution_figures as figures

    return figures(result)


def resolution_findings(result: ResolutionResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.resolution.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.resolution.findings import findings

    return findings(result)


def resolution_settings() -> type[ResolutionSettings]:
    """The resolution settings class, :class:`~microscope_qc.analysis.resolution.ResolutionSettings`."""
    from microscope_qc.analysis.resolution import ResolutionSettings

    return ResolutionSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the resolution options: the second image of a pair, and the analysis settings.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group(
        "resolution inputs",
        "FILE: one image (its middle plane if it is a stack); with --pair, the first of two independent images "
        "of the same field",
    )
    g.add_argument(
        "--pair",
        type=Path,
        metavar="FILE2",
        help="a second, independent image of the same field (same size, square): two-image FRC",
    )
    add_settings_arguments(parser, resolution_settings(), "resolution analysis")


def _plane(image: ImageData, channel: int) -> tuple[Any, str | None]:
    """The (Y, X) plane analysed: the channel's only plane, or its middle one (and a note saying so)."""
    import numpy as np

    from microscope_qc.results import AnalysisError

    n_c, n_z = image.shape[0], image.shape[1]
    if channel >= n_c:
        raise AnalysisError(f"Channel {channel} asked for; {image.path} has {n_c} channel(s).")
    z = n_z // 2
    note = None if n_z == 1 else f"{image.path}: plane {z} of {n_z} analysed (the middle of the stack)."
    return np.asarray(image.data[channel, z]), note


def run_resolution(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> ResolutionResult:
    """Read the image (and its pair), resolve the pixel size, then analyse (the CLI entry point).

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
    ResolutionResult
        The analysis result.

    Raises
    ------
    AnalysisError
        An image or pair that cannot be analysed.
    SettingsError
        No pixel size; FRC with neither a pair nor a gain.
    """
    from microscope_qc.analysis.resolution import ResolutionSettings
    from microscope_qc.instrument import SettingsError
    from microscope_qc.io import read_image

    settings = ResolutionSettings(**settings_values_from_args(ResolutionSettings, args))
    channel = (args.channel or [0])[0]
    image, note = _plane(images[0], channel)
    pair = None
    pair_note = None
    if args.pair is not None:
        second = read_image(args.pair)
        _check_same_pixels(images[0], second, args.pair)
        pair, pair_note = _plane(second, channel)
    ms = microscope_settings(images[0].metadata, images[0].shape[0], overrides_from_args(args), args)
    vs = ms.sources.get("voxel_size_um")
    vy: float | None
    vx: float | None
    if ms.voxel_size_um is not None:
        _, vy, vx = ms.voxel_size_um
    else:  # a 2D image's file has no z size: its y and x sizes are enough here
        vox = images[0].metadata.voxel_size_um
        _, vy, vx = vox.value if vox.value is not None else (None, None, None)
        if not vx:
            raise SettingsError("The pixel size is not in the file; give it ({voxel_size_um}).")
        vs = Setting(float(vx), "um", Source.FILE, vox.origin)
    if not vx:
        raise SettingsError("The pixel size is not known; give it ({voxel_size_um}).")
    ch = ms.channels[min(channel, len(ms.channels) - 1)] if ms.channels else None
    optics: dict[str, float | None] = {
        "na": ms.na,
        "wavelength_em_nm": ch.wavelength_em_nm if ch is not None else None,
    }
    result = analyze_resolution(
        image,
        settings,
        pixel_size_um=float(vx),
        pair=pair,
        na=optics["na"],
        wavelength_em_nm=optics["wavelength_em_nm"],
        channel=channel,
        limits=limits_from_args(args),
        progress=progress,
    )
    result.warnings.extend(n for n in (note, pair_note) if n)
    if vy and abs(vy - vx) > 1e-3 * vx:
        result.warnings.append(f"Pixels are not square ({vy:g} × {vx:g} µm); the x size was used.")
    for name, value in optics.items():
        if value is not None:
            src = ms.source_of(name)
            result.settings[name] = Setting(
                value, "nm" if name == "wavelength_em_nm" else None, src.source, src.detail
            )
    if vs is not None:
        result.settings["pixel_size_um"] = Setting(float(vx), "um", vs.source, vs.detail)
    if args.pair is not None:
        result.settings["pair_file"] = Setting(str(args.pair.resolve()), None, Source.USER)
    return result


def map_files(
    result: ResolutionResult, out_dir: Path
) -> dict[str, tuple[Path, Callable[[Path, bool], Path]]]:
    """The files of a result's local map: ``{name: (path, writer(path, overwrite))}`` (none without a map).

    Parameters
    ----------
    result : ResolutionResult
        The analysis result.
    out_dir : Path
        The export folder.

    Returns
    -------
    dict
        ``resolution_map.ome.tif`` and ``resolution_map.svg`` with their writers.
    """
    if result.map is None:
        return {}
    from microscope_qc.report.resolution import write_map_svg, write_resolution_map

    return {
        "resolution_map": (
            out_dir / "resolution_map.ome.tif",
            lambda path, overwrite: write_resolution_map(result, path, overwrite),
        ),
        "resolution_map_svg": (
            out_dir / "resolution_map.svg",
            lambda path, overwrite: write_map_svg(result, path, overwrite),
        ),
    }


def _after_export(result: ResolutionResult, out_dir: Path, args: argparse.Namespace) -> dict[str, Path]:
    return {name: write(path, args.overwrite) for name, (path, write) in map_files(result, out_dir).items()}


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The resolution sentence of a period report's Methods paragraph."""
    if "resolution_um" not in s:
        return None
    r = s["resolution_um"]
    return (
        "Image resolution without beads (Fourier ring correlation or decorrelation analysis, Descloux et al. 2019) "
        f"was {1000 * r['median']:.0f} nm (range {1000 * r['min']:.0f}–{1000 * r['max']:.0f} nm, {r['n']} "
        "measurements)."
    )


RESOLUTION = Measurement(
    name="resolution",
    title="Resolution without beads (FRC, decorrelation analysis)",
    summary="Fourier ring correlation of two images (or one split by photons), 1/7 and half-bit thresholds; "
    "decorrelation analysis of one image (Descloux et al. 2019).",
    analyze=analyze_resolution,
    settings=resolution_settings,
    inputs=(InputKind.IMAGE_2D,),
    item_table="curve",
    figures=resolution_figures,
    labels=RESOLUTION_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_resolution,
        summary_columns=(
            "resolution_um",
            "resolution_px",
            "frc_resolution_1_7_um",
            "frc_resolution_half_bit_um",
            "decorrelation_a0",
            "map_resolution_median_um",
            "map_anisotropy_median",
        ),
        after_export=_after_export,
    ),
    extra_outputs={
        "resolution_map.ome.tif": "the local resolution (µm) and anisotropy (x / y) maps, one pixel per tile "
        "(unless --no-map)",
        "resolution_map.svg": "the local maps as a figure (unless --no-map)",
        # a table, but present only with a map: an earlier export's is removed when overwriting
        "tiles.csv": "the local map's tiles: position, resolution, anisotropy, why a tile has none",
    },
    samples=RESOLUTION_SAMPLES + RESOLUTION_GALLERY,
    findings=resolution_findings,
    history_metrics=("resolution_um",),
    methods_sentence=methods_sentence,
)


def _check_same_pixels(first: ImageData, second: ImageData, path: Path) -> None:
    """Refuse a pair whose files record different pixel sizes: their FRC would compare unlike frequencies."""
    from microscope_qc.results import AnalysisError

    a, b = first.metadata.voxel_size_um.value, second.metadata.voxel_size_um.value
    if a is None or b is None:
        return
    if any(abs(u - v) > 1e-3 * max(abs(u), abs(v)) for u, v in zip(a[1:], b[1:], strict=True)):
        raise AnalysisError(
            f"The two images of the pair have different pixel sizes ({a[2]:g} µm in the first, {b[2]:g} µm "
            f"in {path.name}): the FRC needs two images of the same field taken with the same settings."
        )

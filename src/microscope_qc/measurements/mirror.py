"""Registration of the mirror (axial resolution) measurement: CLI options (--roi), run, figures."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import Setting, Source
from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.gallery import MIRROR_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import MIRROR_SAMPLES
from microscope_qc.report.labels import MIRROR_LABELS

if TYPE_CHECKING:
    from microscope_qc.analysis.mirror import MirrorResult, MirrorSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = ["run_mirror", "analyze_mirror", "mirror_figures", "mirror_settings", "mirror_findings", "MIRROR"]


def analyze_mirror(*args: Any, **kwargs: Any) -> MirrorResult:
    """Call :func:`microscope_qc.analysis.mirror.analyze_mirror` (imported on the first call)."""
    from microscope_qc.analysis.mirror import analyze_mirror as analyze

    return analyze(*args, **kwargs)


def mirror_figures(result: MirrorResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.mirror.mirror_figures` (imported on the first call)."""
    from microscope_qc.report.mirror import mirror_figures as figures

    return figures(result)


def mirror_findings(result: MirrorResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.mirror.findings.findings`: the rule table (imported on the first call)."""
    from microscope_qc.analysis.mirror.findings import findings

    return findings(result)


def mirror_settings() -> type[MirrorSettings]:
    """The mirror settings class, :class:`~microscope_qc.analysis.mirror.MirrorSettings`."""
    from microscope_qc.analysis.mirror import MirrorSettings

    return MirrorSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the mirror options: the ROI, and the analysis settings.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    g = parser.add_argument_group(
        "mirror inputs",
        "FILE: an XZ image of a mirror's reflection (rows are z planes), or an XZY stack (averaged over y)",
    )
    g.add_argument(
        "--roi",
        type=int,
        nargs=4,
        metavar=("X", "Z", "WIDTH", "HEIGHT"),
        help="the region of the XZ image analysed, in pixels (default: all of it)",
    )
    add_settings_arguments(parser, mirror_settings(), "mirror analysis")


def run_mirror(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> MirrorResult:
    """Read the XZ image, resolve the z step and the optics, then analyse (the CLI entry point).

    A 2D file is an XZ scan: its rows are z planes, spaced by the file's y pixel size (or the Z of
    ``--voxel-size``). A stack is (Z, Y, X), averaged over y.

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
    MirrorResult
        The analysis result.

    Raises
    ------
    AnalysisError
        An image or ROI that cannot be analysed.
    SettingsError
        No z step.
    """
    import numpy as np

    from microscope_qc.analysis.mirror import MirrorSettings
    from microscope_qc.instrument import SettingsError
    from microscope_qc.results import AnalysisError

    image = images[0]
    settings = MirrorSettings(**settings_values_from_args(MirrorSettings, args))
    channel = (args.channel or [0])[0]
    if channel >= image.shape[0]:
        raise AnalysisError(f"Channel {channel} asked for; the file has {image.shape[0]} channel(s).")
    ms = microscope_settings(image.metadata, image.shape[0], overrides_from_args(args), args)
    vox = image.metadata.voxel_size_um.value or (None, None, None)
    given = getattr(args, "voxel_size", None)
    data = np.asarray(image.data[channel])
    if data.shape[0] == 1:  # an XZ scan: rows are z
        data = data[0]
        z_step = float(given[0]) if given else vox[1]
        x_step = float(given[2]) if given else vox[2]
        how = "the z step: the --voxel-size Z" if given else "the z step: the file's row spacing (an XZ scan)"
    else:
        z_step = ms.voxel_size_um[0] if ms.voxel_size_um else vox[0]
        x_step = ms.voxel_size_um[2] if ms.voxel_size_um else vox[2]
        how = "the z step: the stack's plane spacing"
    if not z_step:
        raise SettingsError("The z step is not in the file; give it ({voxel_size_um}).")
    ch = ms.channels[min(channel, len(ms.channels) - 1)]
    result = analyze_mirror(
        data,
        settings,
        z_step_um=float(z_step),
        x_step_um=float(x_step) if x_step else None,
        roi=tuple(args.roi) if args.roi else None,
        wavelength_nm=ch.wavelength_ex_nm or ch.wavelength_em_nm,
        na=ms.na,
        immersion_index=ms.immersion_index,
        channel=channel,
        limits=limits_from_args(args),
        progress=progress,
    )
    result.settings["z_step_um"] = Setting(float(z_step), "um", Source.USER if given else Source.FILE, how)
    return result


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The mirror sentence of a period report's Methods paragraph."""
    if "fwhm_z_um" not in s:
        return None
    f = s["fwhm_z_um"]
    return (
        "The axial FWHM of a mirror's reflection (confocal reflection, Gaussian fit of the ROI-averaged profile as "
        f"MetroloJ) was {1000 * f['median']:.0f} nm (range {1000 * f['min']:.0f}–{1000 * f['max']:.0f} nm, "
        f"{f['n']} measurements)."
    )


MIRROR = Measurement(
    name="mirror",
    title="Axial resolution from a mirror (MetroloJ)",
    summary="Axial FWHM of a mirror reflection: the ROI-averaged profile's Gaussian fit (MetroloJ) and per column "
    "band with SE, variation across the field, tilt, ratio to theory.",
    analyze=analyze_mirror,
    settings=mirror_settings,
    inputs=(InputKind.IMAGE_2D, InputKind.ZSTACK),
    item_table="bands",
    figures=mirror_figures,
    labels=MIRROR_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_mirror,
        summary_columns=(
            "fwhm_z_um",
            "band_fwhm_median_um",
            "band_fwhm_cv_percent",
            "tilt_deg",
            "ratio_to_theory",
        ),
    ),
    samples=MIRROR_SAMPLES + MIRROR_GALLERY,
    findings=mirror_findings,
    history_metrics=("fwhm_z_um", "band_fwhm_median_um", "ratio_to_theory"),
    methods_sentence=methods_sentence,
)

"""Registration of the PSF measurement: CLI options, settings resolution, run, figures."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.gallery import PSF_GALLERY
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import BEAD_SAMPLES
from microscope_qc.report.labels import PSF_LABELS

if TYPE_CHECKING:
    from microscope_qc.analysis.psf import PSFResult, PSFSettings
    from microscope_qc.findings import Finding
    from microscope_qc.io import ImageData
    from microscope_qc.report import Figure
    from microscope_qc.results import ProgressCallback

__all__ = ["run_psf", "analyze_psf", "psf_figures", "psf_findings", "psf_settings"]


# The analysis and the figures are imported when first used, not with the registry: building
# the command line's parser needs only the settings (see docs/architecture.md).


def analyze_psf(*args: Any, **kwargs: Any) -> PSFResult:
    """Call :func:`microscope_qc.analysis.psf.analyze_psf` (imported on the first call)."""
    from microscope_qc.analysis.psf import analyze_psf as analyze

    return analyze(*args, **kwargs)


def psf_figures(result: PSFResult) -> Sequence[Figure]:
    """Call :func:`microscope_qc.report.psf.psf_figures` (imported on the first call)."""
    from microscope_qc.report.psf import psf_figures as figures

    return figures(result)


def psf_findings(result: PSFResult) -> Sequence[Finding]:
    """Call :func:`microscope_qc.analysis.psf.findings.psf_findings` (imported on the first call)."""
    from microscope_qc.analysis.psf.findings import psf_findings as findings

    return findings(result)


def psf_settings() -> type[PSFSettings]:
    """The PSF settings class, :class:`~microscope_qc.analysis.psf.PSFSettings`."""
    from microscope_qc.analysis.psf import PSFSettings

    return PSFSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the PSF options: the bead size, then one option per :class:`PSFSettings` user setting.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    parser.add_argument_group("beads").add_argument(
        "--bead-diameter", type=float, metavar="UM", help="bead diameter in µm (for the size correction)"
    )
    add_settings_arguments(parser, psf_settings(), "PSF analysis")


def run_psf(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> PSFResult:
    """Resolve settings from the file and the options, then analyse (the CLI entry point).

    Parameters
    ----------
    images : list of ImageData
        The bead z-stack (the first image is analysed).
    args : argparse.Namespace
        The parsed command-line options.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    PSFResult
        The analysis result.

    Raises
    ------
    SettingsError
        If a setting the analysis needs is missing.
    AnalysisError
        If the analysis cannot be done.
    """
    from microscope_qc.analysis.psf import PSFSettings

    image = images[0]
    ms = microscope_settings(image.metadata, image.shape[0], overrides_from_args(args), args)
    settings = PSFSettings(microscope=ms, **settings_values_from_args(PSFSettings, args))
    return analyze_psf(
        image.data, settings, channels=args.channel or None, limits=limits_from_args(args), progress=progress
    )


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The PSF sentence of a period report's Methods paragraph."""
    if not all(k in s for k in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um")):
        return None
    x, y, z = s["fwhm_x_um"], s["fwhm_y_um"], s["fwhm_z_um"]
    return (
        "Sub-resolution beads gave a median lateral FWHM of "
        f"{1000 * x['median']:.0f} nm (x; range {1000 * x['min']:.0f}–{1000 * x['max']:.0f} nm) and "
        f"{1000 * y['median']:.0f} nm (y), and an axial FWHM of {1000 * z['median']:.0f} nm "
        f"(range {1000 * z['min']:.0f}–{1000 * z['max']:.0f} nm) over {x['n']} measurements "
        "(1D Gaussian along z and 2D Gaussian in the focal plane, QUAREP-LiMi WG5)."
    )


PSF = Measurement(
    name="psf",
    title="PSF / resolution from beads (QUAREP WG5)",
    summary="Lateral and axial FWHM of sub-resolution beads, field maps, tilt and curvature.",
    analyze=analyze_psf,
    settings=psf_settings,
    inputs=(InputKind.ZSTACK,),
    item_table="beads",
    figures=psf_figures,
    labels=PSF_LABELS,
    cli=CommandLine(
        add_arguments=add_arguments,
        run=run_psf,
        summary_columns=("n_accepted", "fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "fwhm_x_ratio", "fwhm_z_ratio"),
    ),
    samples=BEAD_SAMPLES + PSF_GALLERY,
    history_metrics=("fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "fwhm_x_ratio", "fwhm_z_ratio"),
    methods_sentence=methods_sentence,
    findings=psf_findings,
)

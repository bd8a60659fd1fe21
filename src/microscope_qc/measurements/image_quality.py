"""Registration of the image-quality measurement (QUAREP WG10): CLI options, run, figures."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement
from microscope_qc.measurements.options import (
    add_settings_arguments,
    limits_from_args,
    microscope_settings,
    overrides_from_args,
    settings_values_from_args,
)
from microscope_qc.measurements.sample_files import IMAGE_QUALITY_SAMPLES
from microscope_qc.report.labels import IMAGE_QUALITY_LABELS

if TYPE_CHECKING:
    from microscope_qc.analysis.image_quality import ImageQualityResult, ImageQualitySettings
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


def image_quality_settings() -> type[ImageQualitySettings]:
    """The settings class, :class:`~microscope_qc.analysis.image_quality.ImageQualitySettings`."""
    from microscope_qc.analysis.image_quality import ImageQualitySettings

    return ImageQualitySettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the image-quality options (the analysis settings).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command parser.
    """
    add_settings_arguments(parser, image_quality_settings(), "image-quality checks")


def run_image_quality(
    images: list[ImageData], args: argparse.Namespace, progress: ProgressCallback | None = None
) -> ImageQualityResult:
    """Read the image (its middle plane if a stack), resolve bit depth and sampling, then check it.

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
    from microscope_qc.instrument import SettingsError, nyquist_sampling
    from microscope_qc.results import AnalysisError

    image = images[0]
    settings = ImageQualitySettings(**settings_values_from_args(ImageQualitySettings, args))
    channel = (args.channel or [0])[0]
    if channel >= image.shape[0]:
        raise AnalysisError(f"Channel {channel} asked for; the file has {image.shape[0]} channel(s).")
    n_z = image.shape[1]
    plane = np.asarray(image.data[channel, n_z // 2])
    ms = microscope_settings(image.metadata, image.shape[0], overrides_from_args(args), args)
    vox = image.metadata.voxel_size_um.value or (None, None, None)
    pixel = ms.voxel_size_um[2] if ms.voxel_size_um else vox[2]
    nyquist = None
    if ms.na and ms.modality and ms.immersion_index:
        ch = ms.channels[min(channel, len(ms.channels) - 1)]
        try:
            nyquist = nyquist_sampling(
                ms.modality, ms.na, ms.immersion_index, ch.wavelength_ex_nm, ch.wavelength_em_nm
            )[0]
        except SettingsError:
            nyquist = None
    bits = image.metadata.bit_depth
    result = analyze_image_quality(
        plane,
        settings,
        file_bit_depth=None if bits.missing else int(bits.value),
        pixel_size_um=pixel,
        nyquist_um=nyquist,
        channel=channel,
        limits=limits_from_args(args),
        progress=progress,
    )
    if n_z > 1:
        result.warnings.append(f"Plane {n_z // 2} of {n_z} checked (the middle of the stack).")
    if nyquist is None:
        result.warnings.append(
            "No sampling check: it needs the modality, NA, immersion index and wavelength."
        )
    return result


def methods_sentence(s: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The image-quality sentence of a period report's Methods paragraph."""
    if "quality_rating" not in s:
        return None
    r = s["quality_rating"]
    return (
        "Image quality (saturation, zero clipping, dynamic range, SNR and sampling checks, weighted) rated "
        f"{r['median']:.0f} % (range {r['min']:.0f}–{r['max']:.0f} %, {r['n']} images)."
    )


IMAGE_QUALITY = Measurement(
    name="image-quality",
    title="Image quality of any image (QUAREP WG10)",
    summary="Saturated and zero-clipped pixels, dynamic range used, noise, SNR and CNR, focus, Nyquist sampling, "
    "and a weighted rating of the checks.",
    analyze=analyze_image_quality,
    settings=image_quality_settings,
    inputs=(InputKind.IMAGE_2D,),
    item_table="checks",
    figures=image_quality_figures,
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
    ),
    samples=IMAGE_QUALITY_SAMPLES,
    history_metrics=("quality_rating", "saturated_percent", "snr"),
    methods_sentence=methods_sentence,
)

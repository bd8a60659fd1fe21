"""``analyze_field`` and ``combine_flats``: the field-illumination measurement (see the package docstring)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from microscope_qc.analysis._common import select_channels
from microscope_qc.analysis.field.channel import _analyze_channel, _check
from microscope_qc.analysis.field.masks import (
    check_mask,
)
from microscope_qc.analysis.field.metroloj import (
    _profiles_table,
)
from microscope_qc.analysis.field.result import FieldResult, FieldSettings
from microscope_qc.analysis.field.reuse import StepIndependentCache
from microscope_qc.instrument import MicroscopeSettings, Setting, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, ProgressCallback
from microscope_qc.setting_spec import validate_settings
from microscope_qc.tables import Tables

__all__ = ["analyze_field", "combine_flats"]


# ------------------------------------------------------------------------------------ inputs


def combine_flats(images: list[np.ndarray], method: Literal["mean", "median"] = "mean") -> np.ndarray:
    """Combine several flats into one image.

    ``mean`` for repeats of one field (less noise), ``median`` for different fields of the
    slide (dust and slide defects average out).

    Parameters
    ----------
    images
        Images of one shape.
    method
        ``"mean"`` or ``"median"``.

    Returns
    -------
    numpy.ndarray
        The combined image (float32 for the mean).

    Raises
    ------
    AnalysisError
        No images, images of different shapes, an unknown method.
    """
    if len(images) == 0:
        raise AnalysisError("No images to combine.")
    shapes = {np.shape(i) for i in images}
    if len(shapes) != 1:
        raise AnalysisError(f"Images to combine have different shapes: {sorted(shapes)}.")
    stack = np.stack([np.asarray(i, dtype=np.float32) for i in images])
    if method == "mean":
        mean: np.ndarray = stack.mean(axis=0)
        return mean
    if method == "median":
        return np.median(stack, axis=0)
    raise AnalysisError(f"combine method must be 'mean' or 'median', not {method!r}.")


def _as_cyx(data: Any, what: str = "image") -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim == 2:
        return arr[None]
    if arr.ndim == 4:
        if arr.shape[1] != 1:
            raise AnalysisError(
                f"The {what} is a z-stack ({arr.shape[1]} planes); field illumination takes one 2D image per "
                "channel. Pick the in-focus plane (or a maximum projection) first."
            )
        return arr[:, 0]
    if arr.ndim == 3:
        if arr.shape[0] > 16:
            raise AnalysisError(
                f"The {what} has shape {arr.shape}: that looks like a z-stack or time series of {arr.shape[0]} planes, "
                "but field illumination takes one 2D image per channel, (Y, X) or (C, Y, X). Pick one plane, or "
                "combine repeated images by {combine}."
            )
        return arr
    raise AnalysisError(f"Field illumination takes (Y, X) or (C, Y, X) images; got shape {arr.shape}.")


# ------------------------------------------------------------------------------------ the analysis


def analyze_field(
    data: Any,
    settings: FieldSettings | None = None,
    dark: Any = None,
    mask: Any = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    channel_names: Sequence[str] | None = None,
    mask_description: str | None = None,
    *,
    channels: Sequence[int] | None = None,
    limits: Limits | None = None,
    mask_detail: str | None = None,
    reuse: StepIndependentCache | None = None,
) -> FieldResult:
    """Measure field illumination of flat-field images.

    Parameters
    ----------
    data
        (Y, X) or (C, Y, X) image of a homogeneous fluorescent slide (or (C, 1, Y, X)).
    settings
        Analysis settings (MetroloJ_QC and microscope-metrics defaults).
    dark
        Optional dark image of the same shape (or (Y, X) for all channels), subtracted first.
    mask
        Optional boolean (Y, X) array, True = pixel analysed (every channel); ``None`` = the whole
        image. Build one from polygons with :func:`mask_from_shapes`. The image is blurred whole
        first, then only analysed pixels enter the numbers (docs/field.md, "Restricting the analysis").
    progress, cancel
        ``progress(fraction, message)``; ``cancel()`` returning True stops with :class:`AnalysisCancelled`.
    channel_names
        Names of the image's channels (indexed by channel number), for the report.
    mask_description
        How the mask was made, for the ``roi`` setting (e.g. :func:`describe_shapes`); default "user mask".
    channels
        Analyse only these channels of a (C, Y, X) image (channel numbers); ``None`` = every channel.
        Metrics, verdicts, warnings and :attr:`FieldResult.channels` carry the image's channel
        numbers, and the numbers of a channel are those of analysing it alone. A (C, Y, X) dark
        image is taken channel by channel alike.
    limits
        A facility's limits (e.g. :func:`microscope_qc.profiles.limits_of` of an instrument
        profile), replacing the default verdicts of the metrics they name.
    mask_detail
        Detail of how the mask was made (e.g. the command-line options), for the ``roi`` setting.
    reuse
        For a caller that analyses the same image again with another iso-intensity step (napari's
        'update live'): the work that does not depend on the step is kept in it and taken from it
        when the pixels, dark, mask and other settings are the same. The numbers are unchanged.

    Returns
    -------
    FieldResult
        Metrics per channel (MetroloJ_QC, microscope-metrics ``mm_*``, model-based), verdicts,
        the ``profiles`` table, and per-channel maps in :attr:`FieldResult.channels`.

    Raises
    ------
    AnalysisError
        z-stacks, constant images, NaNs, an image that is entirely saturated, a dark brighter than the flat,
        a mask of the wrong shape or type, a mask leaving fewer than 100 pixels or 1 % of the field,
        a channel that does not exist.
    AnalysisCancelled
        When ``cancel()`` returned True.
    """
    s = settings or FieldSettings()
    validate_settings(s)
    raw = _as_cyx(data)
    if raw.size == 0:
        raise AnalysisError(f"The image is empty (shape {raw.shape}).")
    if raw.dtype.kind not in "uif":
        raise AnalysisError(f"Pixel type {raw.dtype} is not an intensity type.")
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        n = int((~np.isfinite(raw)).sum())
        raise AnalysisError(
            f"The image contains {n} NaN or infinite pixels; replace them or crop them away first."
        )
    if min(raw.shape[-2:]) < 16:
        raise AnalysisError(
            f"The image is {raw.shape[-2]} × {raw.shape[-1]} pixels; field illumination needs at least 16 × 16."
        )
    selected = select_channels(channels, raw.shape[0])
    analysed = None if mask is None else check_mask(mask, raw.shape[-2:])
    dk = None
    if dark is not None:
        dk = _as_cyx(dark, "dark image").astype(np.float64)
        if dk.shape[-2:] != raw.shape[-2:] or dk.shape[0] not in (1, raw.shape[0]):
            raise AnalysisError(f"The dark image {dk.shape} does not match the flat {raw.shape}.")
        if dk.dtype.kind == "f" and not np.isfinite(dk).all():
            raise AnalysisError("The dark image contains NaN or infinite pixels.")
    if s.saturation_value is not None:
        sat = float(s.saturation_value)
    elif s.bit_depth:
        sat = float(2**s.bit_depth - 1)
    elif raw.dtype.kind in "ui":
        sat = float(np.iinfo(raw.dtype).max)
    else:
        sat = math.inf
    result = FieldResult(measurement="field")
    if s.pixel_size_um:
        result.warnings.extend(
            MicroscopeSettings(voxel_size_um=(1.0, s.pixel_size_um, s.pixel_size_um)).plausibility_warnings()
        )
    result.settings = s.analysis_settings()
    result.settings["saturation_value_used"] = Setting(
        None if math.isinf(sat) else sat,
        "counts",
        Source.DEFAULT if s.saturation_value is None else Source.USER,
    )
    result.settings["dark_subtracted"] = Setting(
        dk is not None, None, Source.USER if dk is not None else Source.DEFAULT
    )
    if analysed is None:
        result.settings["roi"] = Setting("whole image", None, Source.DEFAULT)
    else:
        fraction = 100.0 * float(analysed.mean())
        result.settings["roi"] = Setting(
            f"{mask_description or 'user mask'}; {fraction:.3g} % of the field analysed",
            None,
            Source.USER,
            mask_detail,
        )
        result.warnings.append(
            f"Analysis restricted by a mask ({result.settings['roi'].value}): the MetroloJ_QC and model-based "
            "numbers use analysed pixels only (the image is blurred whole first, so excluded pixels within "
            f"~{4 * s.sigma_px:g} px still influence the blurred values next to them); the microscope-metrics "
            "numbers (mm_*) are computed on the whole image, as microscope-metrics has no mask."
        )
    names = list(channel_names or [])
    for k, c in enumerate(selected):
        _check(cancel)
        if progress:
            progress(k / len(selected), f"channel {c}")
        d = None if dk is None else dk[0 if dk.shape[0] == 1 else c]
        name = names[c] if c < len(names) else f"channel {c}"
        chan = _analyze_channel(
            raw[c], d, c, name, s, sat, result, cancel, analysed, first=k == 0, reuse=reuse
        )
        result.channels.append(chan)
    profiles = _profiles_table(result.channels)
    if isinstance(result.tables, Tables):  # kept as columns: the export writes them without pandas
        result.tables.put_columns("profiles", profiles)
    else:
        result.tables["profiles"] = profiles.to_frame()
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "done")
    return result

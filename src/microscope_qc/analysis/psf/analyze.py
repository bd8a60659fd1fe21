"""``analyze_psf``: the PSF measurement of a bead z-stack, channel by channel (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from operator import index
from typing import Any, get_args

import numpy as np
import pandas as pd

from microscope_qc.analysis.psf.candidates import _as_czyx, _check
from microscope_qc.analysis.psf.channel import _analyze_channel
from microscope_qc.analysis.psf.result import PSFResult
from microscope_qc.analysis.psf.settings import Method, PSFSettings
from microscope_qc.array_views import stack_of
from microscope_qc.instrument import Setting, SettingsError, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, ProgressCallback
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_psf"]


def _selected_channels(channels: Sequence[int] | None, n_channels: int) -> list[int]:
    """The file's channel numbers to analyse, checked against the image."""
    if channels is None:
        return list(range(n_channels))
    try:
        selected = [index(c) for c in channels]
    except TypeError:
        raise AnalysisError(f"channels must be whole channel numbers, got {list(channels)!r}.") from None
    valid = "channel 0" if n_channels == 1 else f"channels 0–{n_channels - 1}"
    if not selected:
        raise AnalysisError(f"No channel selected; the image has {n_channels} channel(s) ({valid}).")
    bad = [c for c in selected if not 0 <= c < n_channels]
    if bad:
        raise AnalysisError(
            f"Channel(s) {bad} do not exist; the image has {n_channels} channel(s), valid: {valid}."
        )
    if len(set(selected)) < len(selected):
        raise AnalysisError(f"Channel(s) selected more than once: {selected}; give each channel once.")
    return selected


def analyze_psf(
    data: Any,
    settings: PSFSettings,
    positions: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    *,
    channels: Sequence[int] | None = None,
    limits: Limits | None = None,
) -> PSFResult:
    """Measure the PSF from a bead z-stack.

    Parameters
    ----------
    data : ArrayLike
        (Z, Y, X) or (C, Z, Y, X) array: numpy, or lazy (a memory map, dask or zarr array, the
        TIFF reader's :class:`~microscope_qc.tiff_reader.TiffStack`). A lazy array is never read
        whole: one pass over blocks of planes gives the projection, then only the planes and
        bead columns needed are read (:class:`~microscope_qc.volume.Volume`).
    settings : PSFSettings
        Microscope and analysis settings; ``settings.microscope.voxel_size_um`` is required.
        ``settings.microscope.channels`` describes one channel (used for all) or every
        channel of ``data`` (indexed by the file's channel number, also with ``channels``).
    positions : numpy.ndarray, optional
        (N, 3) bead positions (z, y, x) in voxel indices, or (N, 2) (y, x) with the
        focal plane found automatically; used for every channel instead of detection.
    progress : callable, optional
        ``progress(fraction, message)`` callback.
    cancel : callable, optional
        Called between steps; returning True raises :class:`AnalysisCancelled`.
    channels : sequence of int, optional
        Analyse only these channels of a (C, Z, Y, X) array, in this order. Everything in the
        result (metrics, verdicts, warnings, the bead table, ``ChannelPSF.channel``, the
        ``mip@ch<N>`` images, per-channel settings) carries the file's channel numbers.
        ``None`` (default) analyses every channel.
    limits : Limits, optional
        A facility's limits, applied at the end (:meth:`Limits.apply`): each replaces the
        default verdict of its metric, per channel, with its own threshold and source.

    Returns
    -------
    PSFResult
        Metrics and verdicts per channel, the bead table (every candidate with its status and
        reason) and per-channel arrays (:class:`ChannelPSF`).

    Raises
    ------
    AnalysisError
        Wrong dimensionality, a channel that does not exist, NaNs, a constant image, no beads
        found, or every bead saturated.
    SettingsError
        Missing voxel size, impossible optics, or settings for a different number of channels.
    AnalysisCancelled
        ``cancel()`` returned True.
    """
    ms = settings.microscope
    voxel_um = ms.voxel_size_um
    if voxel_um is None:
        raise SettingsError(
            "The voxel size is not in the file metadata: give {voxel_size_um}. It is never guessed."
        )
    ms.validate()
    if settings.method not in get_args(Method):
        raise AnalysisError(f"method must be 'quarep' or 'metroloj', not {settings.method!r}.")
    validate_settings(settings)
    czyx, n_channels = _as_czyx(data)
    if czyx.shape[1] == 1:
        raise AnalysisError(
            "This is a single plane (a 2D image); PSF analysis needs a z-stack through the beads. "
            "Acquire a stack that extends at least 2 µm above and below the beads."
        )
    if czyx.shape[1] < 5:
        raise AnalysisError(
            f"The stack has {czyx.shape[1]} planes; a z-fit needs at least 5 (better: ±2 µm around the beads)."
        )
    selected = _selected_channels(channels, n_channels)
    if len(ms.channels) not in (1, n_channels):
        raise SettingsError(
            f"Settings describe {len(ms.channels)} channels but the image has {n_channels}; describe one "
            "channel (used for all) or every channel of the image, also when analysing a selection."
        )
    if len(ms.channels) == 1 and n_channels > 1:
        ms = replace(ms, channels=ms.channels * n_channels)
    voxel = (float(voxel_um[0]), float(voxel_um[1]), float(voxel_um[2]))
    result = PSFResult(measurement="psf", voxel_size_um=voxel)
    result.warnings.extend(ms.plausibility_warnings())
    result.settings = {**ms.settings_table(), **settings.analysis_settings()}
    if channels is not None:
        result.settings["channels"] = Setting(list(selected), None, Source.USER)
    rows = []
    for k, c in enumerate(selected):
        _check(cancel)

        def sub(frac: float, msg: str, k: int = k, c: int = c) -> None:
            if progress is not None:
                progress((k + frac) / len(selected), f"channel {c}: {msg}")

        stack = stack_of(czyx, c)
        table, chan = _analyze_channel(stack, c, ms, settings, voxel, positions, result, sub, cancel)
        rows.append(table)
        result.channels.append(chan)
    beads = pd.concat(rows, ignore_index=True)
    beads.insert(0, "bead_id", np.arange(len(beads)))
    result.tables["beads"] = beads
    if limits is not None:
        limits.apply(result)
    if progress is not None:
        progress(1.0, "done")
    return result

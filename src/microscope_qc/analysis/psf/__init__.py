"""PSF and resolution from sub-resolution bead z-stacks (QUAREP-LiMi WG5).

Pipeline per channel (every step vectorised over beads):

1. candidates — the shared bead detector, or positions given by the user;
2. pre-fit checks — box outside the XY edge, too close to the stack top/bottom,
   too close to a neighbour, saturated;
3. fits — a 1D Gaussian along z through the bead (its centre is the focal plane), then a
   rotated 2D Gaussian in that plane (the QUAREP WG5 standard report); optionally a
   full-covariance 3D Gaussian; or, in ``method="metroloj"``, MetroloJ_QC's 1D fits along
   lines through the brightest voxel;
4. post-fit checks — fit failed, poor fit (R², spot narrower than diffraction allows, centre
   far from the detection), focus too near the stack end, outliers (Tukey fences);
5. summaries and verdicts, field maps (FWHM, asymmetry, focal position) with tilt and field
   curvature, and an averaged bead.

Every candidate stays in the bead table with its status and reason; a failing bead never
stops the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.psf.candidates import (
    REASONS,
    _as_czyx,
    _check,
    _detect,
    _Geometry,
    _geometry,
    _theory,
    _tukey_outliers,
    _validate_stack,
    find_beads,
    position_indices,
)
from microscope_qc.analysis.psf.channel import _analyze_channel
from microscope_qc.analysis.psf.fits import _fit_3d, _fit_metroloj, _fit_quarep, _line_r2, _sbr
from microscope_qc.analysis.psf.maps import (
    _average_bead,
    _field_maps,
    _fourier_shift,
    _representative_profiles,
    render_model,
)
from microscope_qc.analysis.psf.result import ChannelPSF, PSFResult
from microscope_qc.analysis.psf.settings import PSFSettings
from microscope_qc.analysis.psf.summary import _summarise
from microscope_qc.fitting import box_coordinates
from microscope_qc.instrument import SettingsError
from microscope_qc.results import AnalysisError, CancelCheck, ProgressCallback

__all__ = [
    "PSFSettings",
    "PSFResult",
    "ChannelPSF",
    "analyze_psf",
    "render_model",
    "find_beads",
    "REASONS",
]

#: Names other modules and tests import from ``microscope_qc.analysis.psf`` beyond ``__all__``.
_COMPAT = (
    position_indices,
    box_coordinates,
    _as_czyx,
    _check,
    _detect,
    _geometry,
    _Geometry,
    _theory,
    _tukey_outliers,
    _validate_stack,
    _fit_3d,
    _fit_metroloj,
    _fit_quarep,
    _line_r2,
    _sbr,
    _average_bead,
    _field_maps,
    _fourier_shift,
    _representative_profiles,
    _summarise,
)


def analyze_psf(
    data: Any,
    settings: PSFSettings,
    positions: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> PSFResult:
    """Measure the PSF from a bead z-stack.

    Parameters
    ----------
    data
        (Z, Y, X) or (C, Z, Y, X) array (numpy or dask; one channel at a time is loaded).
    settings
        Microscope and analysis settings; ``settings.microscope.voxel_size_um`` is required.
    positions
        Optional (N, 3) bead positions (z, y, x) in voxel indices, or (N, 2) (y, x) with the
        focal plane found automatically; used for every channel instead of detection.
    progress
        ``progress(fraction, message)`` callback.
    cancel
        Called between steps; returning True raises :class:`AnalysisCancelled`.

    Returns
    -------
    PSFResult

    Raises
    ------
    AnalysisError
        Wrong dimensionality, NaNs, a constant image, no beads found, or every bead saturated.
    SettingsError
        Missing voxel size or impossible optics.
    """
    ms = settings.microscope
    if ms.voxel_size_um is None:
        raise SettingsError(
            "The voxel size is not in the file metadata: give {voxel_size_um}. It is never guessed."
        )
    ms.validate()
    if settings.method not in ("quarep", "metroloj"):
        raise AnalysisError(f"method must be 'quarep' or 'metroloj', not {settings.method!r}.")
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
    if len(ms.channels) not in (1, n_channels):
        raise SettingsError(f"Settings describe {len(ms.channels)} channels but the image has {n_channels}.")
    if len(ms.channels) == 1 and n_channels > 1:
        from dataclasses import replace

        ms = replace(ms, channels=ms.channels * n_channels)
    voxel = tuple(float(v) for v in ms.voxel_size_um)
    result = PSFResult(measurement="psf", voxel_size_um=voxel)
    result.settings = {**ms.settings_table(), **settings.analysis_settings()}
    rows = []
    for c in range(n_channels):
        _check(cancel)

        def sub(frac: float, msg: str, c: int = c) -> None:
            if progress is not None:
                progress((c + frac) / n_channels, f"channel {c}: {msg}")

        stack = np.asarray(czyx[c])
        table, chan = _analyze_channel(stack, c, ms, settings, voxel, positions, result, sub, cancel)
        rows.append(table)
        result.channels.append(chan)
    beads = pd.concat(rows, ignore_index=True)
    beads.insert(0, "bead_id", np.arange(len(beads)))
    result.tables["beads"] = beads
    if progress is not None:
        progress(1.0, "done")
    return result

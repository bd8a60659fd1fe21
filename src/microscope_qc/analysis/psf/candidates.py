"""Bead candidates: input checks, optics-derived geometry, detection, given positions, rejection reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from microscope_qc.analysis._common import as_czyx, check_cancel
from microscope_qc.analysis.psf.settings import PSFSettings
from microscope_qc.detection import DetectionSettings, detect_beads
from microscope_qc.instrument import (
    FWHM_PER_SIGMA,
    SHEET_THICKNESS,
    MicroscopeSettings,
    Modality,
    SettingsError,
    TheoreticalResolution,
    metroloj_resolution,
    physical_resolution,
)
from microscope_qc.results import AnalysisError, CancelCheck
from microscope_qc.volume import Stack, Volume, in_memory

#: Rejection reasons (the ``reason`` column of the bead table).
REASONS = {
    "outside": "outside the image",
    "saturated": "saturated",
    "neighbour": "too close to a neighbour",
    "edge": "box outside XY edge",
    "z_edge": "too close to stack top/bottom",
    "fit_failed": "fit failed",
    "poor_fit": "poor fit",
    "outlier": "outlier",
}


def _check(cancel: CancelCheck | None) -> None:
    check_cancel(cancel, "PSF analysis")


def _as_czyx(data: Any) -> tuple[Any, int]:
    shape = tuple(getattr(data, "shape", ()))
    return as_czyx(
        data,
        "PSF analysis",
        plane_message=(
            f"PSF analysis needs a z-stack through the beads (Z, Y, X), but got a 2D image {shape}. "
            "Acquire a stack that extends at least 2 µm above and below the beads."
        ),
    )


def _validate_stack(stack: np.ndarray | Volume, c: int) -> None:
    if stack.size == 0:
        raise AnalysisError(f"Channel {c} is empty (shape {stack.shape}); the file holds no pixels.")
    if stack.dtype.kind not in "uif":
        raise AnalysisError(
            f"Channel {c} has pixel type {stack.dtype}; expected integer or floating-point intensities."
        )
    scan = stack.scan() if isinstance(stack, Volume) else None
    if stack.dtype.kind == "f":
        n_nan = int(np.isnan(stack).sum()) if scan is None else scan["nan"]
        if n_nan:
            raise AnalysisError(
                f"Channel {c} contains {n_nan} NaN voxels. Replace them (e.g. with the background value) "
                "or crop them away before measuring the PSF."
            )
        if (scan["inf"] > 0) if scan is not None else not np.isfinite(stack).all():
            raise AnalysisError(f"Channel {c} contains infinite values; check the file's conversion.")
    lo, hi = (stack.min(), stack.max()) if scan is None else (scan["min"], scan["max"])
    if lo == hi:
        raise AnalysisError(f"Channel {c} is constant (every voxel = {lo}): no beads to measure.")


def _tukey_outliers(values: np.ndarray, k: float) -> np.ndarray:
    finite = np.isfinite(values)
    if finite.sum() < 4:
        return np.zeros(values.shape, dtype=bool)
    q1, q3 = np.percentile(values[finite], [25, 75])
    iqr = q3 - q1
    out: np.ndarray = finite & ((values < q1 - k * iqr) | (values > q3 + k * iqr))
    return out


def _theory(
    ms: MicroscopeSettings, channel: int
) -> tuple[TheoreticalResolution | None, TheoreticalResolution | None, list[str]]:
    """MetroloJ_QC and physical theory of one channel, and what is missing for them.

    A light-sheet microscope without its sheet thickness still has a lateral theory (its
    detection objective's); its axial FWHM is then NaN and the formula says why.
    """
    ch = ms.channels[channel]
    modality, na, n = ms.modality, ms.na, ms.immersion_index
    missing = [name for name, v in (("modality", modality), ("NA", na), ("immersion index", n)) if v is None]
    if ch.wavelength_em_nm is None and ch.wavelength_ex_nm is None:
        missing.append("wavelength")
    if missing or modality is None or na is None or n is None:
        return None, None, missing
    sheet = ms.sheet_thickness_um
    lateral_only = modality is Modality.LIGHT_SHEET and sheet is None
    used = Modality.WIDEFIELD if lateral_only else modality  # the detection objective alone
    try:
        t1 = metroloj_resolution(used, na, n, ch.wavelength_ex_nm, ch.wavelength_em_nm, sheet)
    except SettingsError as exc:
        return None, None, [str(exc)]
    t2: TheoreticalResolution | None
    try:
        t2 = physical_resolution(used, na, n, ch.wavelength_ex_nm, ch.wavelength_em_nm, ms.pinhole_au, sheet)
    except SettingsError:
        t2 = None
    if lateral_only:
        note = f"light-sheet detection objective; axial not known without {SHEET_THICKNESS}"
        t1 = replace(t1, axial_um=math.nan, formula=f"{t1.formula}, {note}")
        t2 = None if t2 is None else replace(t2, axial_um=math.nan, formula=f"{t2.formula}, {note}")
    return t1, t2, []


@dataclass(frozen=True)
class _Geometry:
    """Box sizes, limits and start widths of one channel, derived from optics and settings."""

    lat_t: float | None
    hxy: int
    hz: int
    L: int
    min_sep: float
    z_margin: float
    sat: float
    sigma_xy_px: float
    sigma_z_px: float
    bead_d: float


def _geometry(
    ms: MicroscopeSettings,
    s: PSFSettings,
    voxel: tuple[float, float, float],
    theory: TheoreticalResolution | None,
    dtype: np.dtype[Any],
) -> _Geometry:
    dz, dy, dx = voxel
    lat_t = theory.lateral_um if theory else None
    ax_t = theory.axial_um if theory and math.isfinite(theory.axial_um) else None
    box_xy = s.box_xy_um or max(2.0, 8 * lat_t if lat_t else 2.0)
    box_z = s.box_z_um or max(6.0, 6 * ax_t if ax_t else 6.0)
    hxy = max(3, int(math.ceil(box_xy / 2 / max(dy, dx))))
    hz = max(2, int(math.ceil(box_z / 2 / dz)))
    L = 2 * hxy + 1
    bead_d = ms.bead_diameter_um or 0.0
    sat = s.saturation_value
    if sat is None:
        sat = float(np.iinfo(dtype).max) if np.dtype(dtype).kind in "ui" else math.inf
    sigma_xy_px = (lat_t / FWHM_PER_SIGMA / max(dx, dy)) if lat_t else 0.15 / max(dx, dy)
    sigma_z_px = (ax_t / FWHM_PER_SIGMA / dz) if ax_t else 0.6 / dz
    return _Geometry(
        lat_t=lat_t,
        hxy=hxy,
        hz=hz,
        L=L,
        min_sep=s.min_separation_um or L * max(dy, dx),
        z_margin=s.z_margin_um if s.z_margin_um is not None else bead_d / 2 + 2.0,
        sat=sat,
        # the paraxial axial formula overestimates; start nearer the truth
        sigma_xy_px=max(sigma_xy_px, 0.6),
        sigma_z_px=max(sigma_z_px * 0.7, 0.8),
        bead_d=bead_d,
    )


def _detect(
    stack: Stack,
    g: _Geometry,
    s: PSFSettings,
    mip: np.ndarray | None = None,
    column_half: int | None = None,
) -> dict[str, np.ndarray]:
    return detect_beads(
        stack,
        DetectionSettings(
            sigma_px=g.sigma_xy_px,
            threshold_sigma=s.detection_threshold_sigma,
            min_distance_px=max(2, int(round(g.sigma_xy_px * 2))),
        ),
        projection=mip,
        keep_columns=column_half,
    )


def position_indices(
    positions: np.ndarray, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Integer voxel indices of given positions in a (Z, Y, X) stack, and which are outside it.

    Parameters
    ----------
    positions : numpy.ndarray
        (N, 3) z, y, x or (N, 2) y, x positions in voxels (rounded to the nearest voxel).
    shape : tuple of int
        (Z, Y, X) shape of the stack.

    Returns
    -------
    zs, ys, xs : numpy.ndarray
        Integer indices; 0 for positions outside the stack, and ``zs`` is 0 for (N, 2)
        positions (the caller finds the focal plane).
    outside : numpy.ndarray
        Boolean, True for positions outside the stack (non-finite ones included).
    """
    pos = np.asarray(positions, dtype=float)
    nz, h, w = shape
    finite = np.isfinite(pos).all(axis=1)
    pos = np.where(finite[:, None], np.clip(pos, -1, max(nz, h, w)), -1.0)
    ys = np.rint(pos[:, -2]).astype(int)
    xs = np.rint(pos[:, -1]).astype(int)
    zs = np.rint(pos[:, 0]).astype(int) if pos.shape[1] == 3 else np.zeros(len(pos), dtype=int)
    outside = (ys < 0) | (ys >= h) | (xs < 0) | (xs >= w) | (zs < 0) | (zs >= nz)
    zero = np.zeros_like(ys)
    return np.where(outside, zero, zs), np.where(outside, zero, ys), np.where(outside, zero, xs), outside


def find_beads(stack: Any, settings: PSFSettings, channel: int = 0) -> np.ndarray:
    """Bead candidates of one (Z, Y, X) stack, as :func:`analyze_psf` finds them.

    For interactive use: detect, let the user add or remove beads, then pass the edited
    positions to :func:`analyze_psf`.

    Parameters
    ----------
    stack : array-like
        One (Z, Y, X) stack.
    settings : PSFSettings
        Settings; ``settings.microscope.voxel_size_um`` is required.
    channel : int
        Which of ``settings.microscope.channels`` describes this stack (its wavelength sizes
        the detector); the last one if there are fewer.

    Returns
    -------
    numpy.ndarray
        (N, 3) integer voxel indices (z, y, x) of the candidates.

    Raises
    ------
    SettingsError
        The voxel size is missing.
    AnalysisError
        Not a (Z, Y, X) stack, or empty, constant, NaN or non-numeric data.
    """
    voxel = settings.microscope.voxel_size_um
    if voxel is None:
        raise SettingsError("The voxel size is needed to size the bead detector; give it first.")
    shape = tuple(getattr(stack, "shape", np.shape(stack)))
    if len(shape) != 3:
        raise AnalysisError(f"find_beads takes one (Z, Y, X) stack, got shape {shape}.")
    stack = np.asarray(stack) if in_memory(stack) or not hasattr(stack, "dtype") else Volume(stack)
    _validate_stack(stack, channel)
    ms = settings.microscope
    theory, _, _ = _theory(ms, min(channel, len(ms.channels) - 1))
    g = _geometry(ms, settings, voxel, theory, stack.dtype)
    det = _detect(stack, g, settings)
    out: np.ndarray = np.column_stack([det["z"], det["y"], det["x"]]).astype(int)
    return out

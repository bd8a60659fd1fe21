"""Bead centres per channel: the PSF pipeline (3D), 2D Gaussian fits, or one large bead; given positions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.coregistration.result import CoregistrationSettings, Positions
from microscope_qc.analysis.psf import REASONS, PSFSettings, analyze_psf, position_indices
from microscope_qc.detection import DetectionSettings, detect_beads, extract_boxes, snap_to_peaks
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA, MicroscopeSettings, TheoreticalResolution
from microscope_qc.results import AnalysisError
from microscope_qc.volume import Stack

#: what every localisation table has, whichever way the beads were found
_LOCALISATION_COLUMNS = (
    "status",
    "reason",
    "reason_detail",
    "x_um",
    "y_um",
    "z_um",
    "x_se_um",
    "y_se_um",
    "z_se_um",
    "origin",
)


def _snap_radius(
    theory: TheoreticalResolution | None, voxel: tuple[float, float, float]
) -> tuple[int, int, int]:
    """How far (z, y, x voxels) a given position may move to this channel's bead peak: one theoretical FWHM."""
    dz, dy, dx = voxel
    lat = theory.lateral_um if theory else 0.3
    ax = theory.axial_um if theory else 0.8
    return max(2, math.ceil(ax / dz)), max(2, math.ceil(lat / dy)), max(2, math.ceil(lat / dx))


def _localise_3d(
    stack: Stack,
    ms: MicroscopeSettings,
    c: int,
    s: CoregistrationSettings,
    positions: np.ndarray | None = None,
    theory: TheoreticalResolution | None = None,
) -> pd.DataFrame:
    """Bead centres of one channel with the full PSF pipeline (its checks and statuses).

    Given positions are first moved to this channel's own bead peak nearby (:func:`snap_to_peaks`),
    then go through the PSF pipeline's positions path; (N, 2) y, x positions get their focal plane there.
    """
    if positions is not None:
        zs, ys, xs, outside = position_indices(positions, stack.shape)
        assert ms.voxel_size_um is not None  # checked by analyze_coregistration
        rz, ry, rx = _snap_radius(theory, ms.voxel_size_um)
        if positions.shape[1] == 2:
            _, ys, xs = snap_to_peaks(stack.max(axis=0)[None], np.zeros_like(ys), ys, xs, (0, ry, rx))
            snapped = np.column_stack([ys, xs]).astype(float)
        else:
            snapped = np.column_stack(snap_to_peaks(stack, zs, ys, xs, (rz, ry, rx))).astype(float)
        # outside positions stay as given: the pipeline rejects them with their reason
        positions = np.where(outside[:, None], positions, snapped)
    bead_d = ms.bead_diameter_um or 0.0
    box = s.box_xy_um or (max(2.0, 3.0 * bead_d + 1.0) if bead_d else None)
    ps = PSFSettings(
        microscope=replace(ms, channels=(ms.channels[c],)),
        box_xy_um=box,
        detection_threshold_sigma=s.detection_threshold_sigma,
        outlier_fence=None,  # widths do not matter here, only centres
        average_bead=False,
        min_separation_um=None,
        through_focus_beads=0,  # centres only: no astigmatism or tilt through focus
    )
    try:
        r = analyze_psf(stack, ps, positions=positions)
    except KeyError as exc:  # the PSF pipeline's summaries assume at least one fitted bead
        raise AnalysisError("no bead could be fitted: every candidate was rejected before fitting") from exc
    t = r.beads.copy()
    # when every candidate was rejected before fitting, the PSF table has no fitted columns at all
    for name in (*_LOCALISATION_COLUMNS, "fwhm_x_um", "fwhm_z_um", "r2_xy", "peak_value"):
        if name not in t.columns:
            t[name] = np.nan
    return t[[*_LOCALISATION_COLUMNS, "fwhm_x_um", "fwhm_z_um", "r2_xy", "peak_value"]].copy()


def _localise_2d(
    img: np.ndarray,
    ms: MicroscopeSettings,
    c: int,
    s: CoregistrationSettings,
    sigma_px: float,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """Bead centres of one 2D channel: shared detector, 2D Gaussian fits and checks.

    Given (N, 2) y, x positions are moved to this channel's peak nearby instead of detecting;
    the checks are outside, edge, saturation and fit.
    """
    assert ms.voxel_size_um is not None  # checked by analyze_coregistration
    _, dy, dx = ms.voxel_size_um
    stack = img[None]
    h, w = img.shape
    if positions is None:
        det = detect_beads(
            stack, DetectionSettings(sigma_px=sigma_px, threshold_sigma=s.detection_threshold_sigma)
        )
        ys, xs = det["y"], det["x"]
        outside = np.zeros(len(xs), dtype=bool)
        origin = "detected"
    else:
        _, ys, xs, outside = position_indices(positions, stack.shape)
        r = max(2, math.ceil(FWHM_PER_SIGMA * sigma_px))
        _, ys, xs = snap_to_peaks(stack, np.zeros_like(ys), ys, xs, (0, r, r))
        origin = "user"
    n = len(xs)
    if n == 0:
        return pd.DataFrame(columns=list(_LOCALISATION_COLUMNS))
    bead_d = ms.bead_diameter_um or 0.0
    half = max(3, int(math.ceil(max(4 * sigma_px, (1.5 * bead_d + 0.5) / max(dx, dy)))))
    L = 2 * half + 1
    reason = np.where(outside, REASONS["outside"], "")
    edge = (ys - half < 0) | (ys + half >= h) | (xs - half < 0) | (xs + half >= w)
    reason = np.where((reason == "") & edge, REASONS["edge"], reason)
    sat = float(np.iinfo(img.dtype).max) if img.dtype.kind in "ui" else math.inf
    boxes, _ = extract_boxes(stack, np.zeros(n, int), ys, xs, (0, half, half), dtype=np.float64)
    boxes = boxes[:, 0]
    reason = np.where((reason == "") & (boxes.max(axis=(1, 2)) >= sat), "saturated", reason)
    m2 = GaussianModel(2, full=True)
    fit = fit_gaussians(m2, boxes.reshape(n, -1), (L, L), sigma_px)
    (vals, se) = delta_method(lambda p: np.column_stack([p[:, 3], p[:, 2]]), fit.params, fit.covariance)
    reason = np.where((reason == "") & (~fit.success | fit.at_bound), "fit failed", reason)
    reason = np.where((reason == "") & ~(fit.r2 >= 0.9), "poor fit", reason)
    cov = m2.covariance(fit.params)
    out = pd.DataFrame(
        {
            "status": np.where(reason == "", "accepted", "rejected"),
            "reason": reason,
            "reason_detail": np.where(outside, f"given position is outside the {h}×{w} image", ""),
            "x_um": (xs - half + vals[:, 0]) * dx,
            "y_um": (ys - half + vals[:, 1]) * dy,
            "z_um": 0.0,
            "x_se_um": se[:, 0] * dx,
            "y_se_um": se[:, 1] * dy,
            "z_se_um": np.nan,  # one plane: z is not measured, its error not estimable
            "origin": origin,
            "fwhm_x_um": FWHM_PER_SIGMA * np.sqrt(cov[:, 1, 1]) * dx,
            "r2_xy": fit.r2,
            "peak_value": boxes.max(axis=(1, 2)),
        }
    )
    # a position outside the image has no centre (its box was cut from the image's corner)
    out.loc[outside, ["x_um", "y_um", "z_um", "x_se_um", "y_se_um", "z_se_um", "fwhm_x_um", "r2_xy"]] = np.nan
    return out


#: in single-bead mode the largest bright object must hold at least this share of the bright voxels
SINGLE_BEAD_MIN_SHARE = 0.5


def _localise_single_bead(stack: np.ndarray, voxel: tuple[float, float, float]) -> tuple[pd.DataFrame, float]:
    """Centre of one large bead, as MetroloJ_QC's co-alignment takes it: the centroid of the bead object.

    The object is the largest connected region above half the bead's maximum over the background
    (the median), lightly smoothed; the centroid is weighted by intensity above the background. A
    centroid has no noise model and one bead no scatter, so its standard errors are NaN (not
    estimable), never 0. ``fwhm_x_um`` and ``fwhm_z_um`` are the object's extent at half maximum
    (columns × dx, planes × dz).

    Returns
    -------
    table, share
        The one-row localisation table, and the share of all voxels above the threshold that the
        largest object holds (1 for a single bead; small when the image holds many similar objects).
    """
    from scipy import ndimage  # single-bead mode only: the bead-field path stays SciPy-free

    dz, dy, dx = voxel
    img = ndimage.gaussian_filter(stack.astype(np.float32), 1.0)
    background = float(np.median(img))
    thr = background + 0.5 * (float(img.max()) - background)
    labels, n = ndimage.label(img > thr)
    if n == 0:
        raise AnalysisError("No bead above the threshold: is the bead in the image?")
    sizes = ndimage.sum_labels(np.ones_like(img), labels, index=np.arange(1, n + 1))
    k = int(np.argmax(sizes)) + 1
    share = float(sizes[k - 1] / sizes.sum())
    mask = labels == k
    wts = np.where(mask, img - background, 0.0)
    total = wts.sum()
    zz, yy, xx = np.nonzero(mask)
    wv = wts[mask]
    cz, cy, cx = (float((a * wv).sum() / total) for a in (zz, yy, xx))
    touches = bool(mask[:, 0, :].any() or mask[:, -1, :].any() or mask[:, :, 0].any() or mask[:, :, -1].any())
    table = pd.DataFrame(
        {
            "status": ["rejected" if touches else "accepted"],
            "reason": ["box outside XY edge" if touches else ""],
            "reason_detail": ["the bead touches the image edge" if touches else ""],
            "x_um": [cx * dx],
            "y_um": [cy * dy],
            "z_um": [cz * dz if img.shape[0] > 1 else 0.0],
            "x_se_um": [np.nan],
            "y_se_um": [np.nan],
            "z_se_um": [np.nan],
            "origin": ["detected"],
            "fwhm_x_um": [float(xx.max() - xx.min() + 1) * dx],
            "fwhm_z_um": [float(zz.max() - zz.min() + 1) * dz if img.shape[0] > 1 else np.nan],
            "peak_value": [float(img[mask].max())],
        }
    )
    return table, share


def _one_positions_array(pos: Any, what: str, is_3d: bool) -> np.ndarray:
    try:
        arr = np.asarray(pos, dtype=float)
    except (TypeError, ValueError):
        raise AnalysisError(
            f"Bead positions {what} must be an (N, 3) array of z, y, x voxel indices (numbers)."
        ) from None
    if arr.size == 0:
        raise AnalysisError(
            f"No bead positions given {what} (an empty list): give at least one (z, y, x) position, "
            "or none at all for automatic detection."
        )
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise AnalysisError(
            f"Bead positions {what} must be (N, 3) z, y, x or (N, 2) y, x voxel indices; got shape {arr.shape}."
        )
    if not is_3d and arr.shape[1] == 3:
        arr = arr[:, 1:]  # one plane: z does not matter
    return arr


def _positions_per_channel(
    positions: Positions, selected: list[int], n_file: int, is_3d: bool
) -> tuple[list[np.ndarray | None], str]:
    """One positions array (or None: detect) per analysed channel, and the mode.

    The arrays are in the order of ``selected``; the mode is automatic, shared or per-channel.
    Dict keys are the image's channel numbers.
    """
    if positions is None:
        return [None] * len(selected), "automatic"
    if isinstance(positions, Mapping):
        out: list[np.ndarray | None] = [None] * len(selected)
        for key, pos in positions.items():
            if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_file:
                raise AnalysisError(
                    f"Bead positions are given for channel {key!r}, which does not exist (0–{n_file - 1})."
                )
            if int(key) not in selected:
                raise AnalysisError(
                    f"Bead positions are given for channel {key}, which is not analysed "
                    f"(channels {', '.join(map(str, selected))})."
                )
            out[selected.index(int(key))] = _one_positions_array(pos, f"for channel {key}", is_3d)
        return out, "per-channel"
    shared = _one_positions_array(positions, "for every channel", is_3d)
    return [shared] * len(selected), "shared"

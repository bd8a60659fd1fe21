"""MetroloJ_QC's PSF profiler, reproduced: 1D Gaussian fits along whole lines through the brightest voxel.

MetroloJ_QC (``PSFprofiler.getProfileAndFit``) fits ImageJ's "Gaussian"
``y = a + (b − a)·exp(−(x − c)²/(2d²))`` to three profiles through the brightest voxel of
the image it analyses: the whole image row (x) and column (y) in the brightest voxel's plane,
and the whole stack along z. Start values (``CurveFitterPlus.fitProfile``): ``a`` = the
profile's minimum, ``b`` = its maximum, ``c`` = the position of the first maximum,
``d`` = 2 pixels; FWHM = 2·sqrt(2·ln 2)·d. Its "fit goodness" is ImageJ's
``CurveFitter.getFitGoodness``: 1 − (SSE/SSD)·n/(n − 4).

The image MetroloJ_QC analyses is the whole image in its single-bead mode and, in its
multiple-beads mode, a square crop around each bead (``imageTricks.cropROI``) of
2·round(h/pixel) pixels, h = max(5·d_bead, 1.1·(d_bead/2 + 1.0 µm + 0.5 µm)) with the
defaults crop factor 10, background annulus 1.0 µm thick starting 0.5 µm from the bead;
every plane of the stack is kept.
"""

from __future__ import annotations

import math

import numpy as np

from microscope_qc.analysis.psf.candidates import REASONS
from microscope_qc.analysis.psf.fits import Column, FitBatch, _sbr
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA
from microscope_qc.results import ProgressCallback
from microscope_qc.volume import Stack

#: MetroloJ_QC's defaults for the multiple-beads crop: crop factor, background annulus
#: thickness and its distance from the bead edge (µm), and the bead size when none is given.
CROP_FACTOR = 10.0
ANNULUS_THICKNESS_UM = 1.0
ANNULUS_DISTANCE_UM = 0.5
DEFAULT_BEAD_UM = 0.2


def _round_half_up(value: float) -> int:
    """Java's ``Math.round``: the nearest integer, halves rounded up."""
    return int(math.floor(value + 0.5))


def crop_size_px(bead_diameter_um: float | None, pixel_um: float) -> int:
    """Side of MetroloJ_QC's multiple-beads crop, in pixels.

    Parameters
    ----------
    bead_diameter_um : float or None
        Bead diameter; ``None`` or 0 uses MetroloJ_QC's default bead size, 0.2 µm.
    pixel_um : float
        Pixel height in µm (MetroloJ_QC sizes the crop with the pixel height).

    Returns
    -------
    int
        2·round(h/pixel), h = max(5·d, 1.1·(d/2 + 1.5 µm)).
    """
    d = bead_diameter_um or DEFAULT_BEAD_UM
    half_um = max(d * CROP_FACTOR / 2.0, (d / 2.0 + ANNULUS_THICKNESS_UM + ANNULUS_DISTANCE_UM) * 1.1)
    return 2 * _round_half_up(half_um / pixel_um)


def fit_goodness(data: np.ndarray, model: np.ndarray, mask: np.ndarray, n_params: int = 4) -> np.ndarray:
    """ImageJ's ``CurveFitter.getFitGoodness``: 1 − (SSE/SSD)·n/(n − p), per row.

    Parameters
    ----------
    data, model : numpy.ndarray
        (B, N) profiles and fitted values.
    mask : numpy.ndarray of bool
        (B, N), False for points that are not part of the profile.
    n_params : int, optional
        Number of fitted parameters p (4 for ImageJ's "Gaussian").

    Returns
    -------
    numpy.ndarray
        (B,) fit goodness; NaN where n ≤ p or the profile is constant.
    """
    m = mask.astype(float)
    n = m.sum(1)
    mean = (data * m).sum(1) / np.maximum(n, 1)
    ssd = (((data - mean[:, None]) ** 2) * m).sum(1)
    sse = (((data - model) ** 2) * m).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        good: np.ndarray = np.where((ssd > 0) & (n > n_params), 1.0 - sse / ssd * n / (n - n_params), np.nan)
    return good


def _lines(
    stack: Stack, ys: np.ndarray, xs: np.ndarray, crop: int, whole: bool
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """The brightest voxel near each bead and the x, y, z profiles through it.

    The brightest voxel is searched in the ``crop``-pixel square from (y − crop/2, x − crop/2)
    (cut to the image), every plane. The x and y profiles span that square, or the whole image
    if ``whole``; the z profile spans the stack. Returns the brightest voxel's plane and, per
    axis, (values, mask, index of the first element), parts outside the image masked.
    """
    nz, h, w = stack.shape
    b = len(ys)
    rows = np.arange(b)
    y0, x0 = ys - crop // 2, xs - crop // 2
    yy = y0[:, None] + np.arange(crop)[None, :]
    xx = x0[:, None] + np.arange(crop)[None, :]
    vy, vx = (yy >= 0) & (yy < h), (xx >= 0) & (xx < w)
    mip = stack.max(axis=0)
    region = mip[np.clip(yy, 0, h - 1)[:, :, None], np.clip(xx, 0, w - 1)[:, None, :]].astype(float)
    region = np.where(vy[:, :, None] & vx[:, None, :], region, -np.inf)
    # MetroloJ_QC scans the projection row by row and keeps the first strict maximum (numpy's
    # argmax of the C-ordered (y, x) array), then the first plane with the largest value there.
    k = np.argmax(region.reshape(b, -1), axis=1)
    by, bx = yy[rows, k // crop], xx[rows, k % crop]
    bz = np.argmax(stack[:, by, bx], axis=0)
    if whole:
        y0, x0 = np.zeros(b, dtype=int), np.zeros(b, dtype=int)
        yy, xx = np.broadcast_to(np.arange(h), (b, h)), np.broadcast_to(np.arange(w), (b, w))
        vy, vx = np.ones((b, h), dtype=bool), np.ones((b, w), dtype=bool)
    line_x = stack[bz[:, None], by[:, None], np.clip(xx, 0, w - 1)].astype(float)
    line_y = stack[bz[:, None], np.clip(yy, 0, h - 1), bx[:, None]].astype(float)
    line_z = stack[:, by, bx].T.astype(float)
    lines = {
        "x": (np.where(vx, line_x, 0.0), vx, x0),
        "y": (np.where(vy, line_y, 0.0), vy, y0),
        "z": (line_z, np.ones(line_z.shape, dtype=bool), np.zeros(b, dtype=int)),
    }
    return bz, lines


def _fit_metroloj(
    batch: FitBatch,
    col: Column,
    reason: np.ndarray,
    detail: np.ndarray,
    progress: ProgressCallback,
    crop: int,
    whole: bool,
) -> None:
    """MetroloJ_QC PSF profiler: unweighted 1D Gaussians along whole x, y and z lines through the brightest voxel.

    The brightest voxel is searched in the ``crop``-pixel square around each bead (MetroloJ_QC's
    multiple-beads crop); the x and y lines span that crop, or the whole image if ``whole``
    (MetroloJ_QC's single-bead mode); the z line spans the stack.
    """
    stack, idx, ys, xs = batch.stack, batch.idx, batch.ys, batch.xs
    voxel = batch.voxel
    dz, dy, dx = voxel
    if idx.size == 0:
        return
    where = "whole-image" if whole else f"{crop} px crop"
    progress(0.2, f"MetroloJ_QC {where} line fits of {idx.size} beads")
    bz, lines = _lines(stack, ys[idx], xs[idx], crop, whole)
    m1 = GaussianModel(1)
    failed = np.zeros(len(idx), dtype=bool)
    for ax, scale in (("x", dx), ("y", dy), ("z", dz)):
        line, mask, start = lines[ax]
        n = line.shape[1]
        # MetroloJ_QC's start values: a = min, b = max, c = first maximum, d = 2 pixels
        lo = np.where(mask, line, np.inf).min(1)
        k = np.argmax(np.where(mask, line, -np.inf), axis=1)
        hi = line[np.arange(len(idx)), k]
        p0 = m1.params_from_sigma(hi - lo, lo, k[:, None].astype(float), np.full((len(idx), 1), 2.0))
        f = fit_gaussians(m1, line, (n,), 2.0, mask=mask, p0=p0, weighted=False)
        vals, se = delta_method(
            lambda p: np.column_stack([p[:, 2], FWHM_PER_SIGMA / np.abs(p[:, 3])]), f.params, f.covariance
        )
        col(f"fwhm_{ax}_um")[idx] = vals[:, 1] * scale
        col(f"fwhm_{ax}_se_um")[idx] = se[:, 1] * scale
        col(f"{ax}_se_um")[idx] = se[:, 0] * scale
        col(f"r2_{ax}")[idx] = fit_goodness(line, f.model, mask)
        col(f"{ax}_um")[idx] = (start + vals[:, 0]) * scale
        failed |= ~f.success | f.at_bound
        if ax == "x":
            col("amplitude")[idx] = f.params[:, 0]
            col("background")[idx] = f.params[:, 1]
    col("sbr")[idx] = _sbr(
        stack,
        bz,
        col("y_um")[idx],
        col("x_um")[idx],
        (col("fwhm_x_um")[idx] + col("fwhm_y_um")[idx]) / 2,
        voxel,
    )
    for j, i in enumerate(idx):
        if failed[j]:
            reason[i], detail[i] = REASONS["fit_failed"], "a line fit did not converge or ended on a bound"

"""Per-bead fits, vectorised over beads: QUAREP WG5 (1D z + rotated 2D xy) and the 3D Gaussian (MetroloJ_QC's line fits: ``metroloj.py``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from microscope_qc.analysis.psf.candidates import REASONS, _check
from microscope_qc.analysis.psf.misfit import structured_residual_fraction
from microscope_qc.analysis.psf.result import ChannelPSF
from microscope_qc.detection import extract_boxes as _boxes
from microscope_qc.detection import gather as _gather
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA
from microscope_qc.results import CancelCheck, ProgressCallback
from microscope_qc.volume import Stack

#: ``col(name)`` returns the per-candidate column ``name`` (created full of NaN) to fill in place.
Column = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class FitBatch:
    """The candidates of one channel to fit, and how: positions, box half-sizes, voxel, start widths.

    ``zs``, ``ys``, ``xs`` are the voxel indices of every candidate; ``idx`` selects the ones
    to fit (those that passed the pre-fit checks). The fit box is (2·hz + 1, 2·hxy + 1, 2·hxy + 1).
    """

    stack: Stack
    idx: np.ndarray
    zs: np.ndarray
    ys: np.ndarray
    xs: np.ndarray
    hz: int
    hxy: int
    voxel: tuple[float, float, float]
    sigma_xy_px: float
    sigma_z_px: float


def _fit_quarep(
    batch: FitBatch,
    col: Column,
    reason: np.ndarray,
    detail: np.ndarray,
    chan: ChannelPSF,
    progress: ProgressCallback,
    cancel: CancelCheck | None,
) -> None:
    """QUAREP WG5 fits: a 1D Gaussian along z, then a rotated 2D Gaussian in the focal plane.

    The centre of the z fit through each bead is its focal plane. Fills the bead columns and
    ``chan.model_params``.
    """
    stack, idx, zs, ys, xs = batch.stack, batch.idx, batch.zs, batch.ys, batch.xs
    hz, hxy, voxel, sig_xy, sig_z = batch.hz, batch.hxy, batch.voxel, batch.sigma_xy_px, batch.sigma_z_px
    dz, dy, dx = voxel
    nz = stack.shape[0]
    if idx.size == 0:
        return
    progress(0.2, f"fitting {idx.size} beads along z")
    oz = np.arange(-hz, hz + 1)
    zi = zs[idx, None] + oz[None, :]
    prof, valid = _gather(stack, zi, ys[idx, None], xs[idx, None])
    m1 = GaussianModel(1)
    fz = fit_gaussians(m1, prof, (2 * hz + 1,), sig_z, mask=valid)
    z_planes = zi[:, 0] + fz.params[:, 2]
    sz = 1 / fz.params[:, 3]
    vals_z, se_z = delta_method(
        lambda p: np.column_stack([p[:, 2], FWHM_PER_SIGMA / p[:, 3]]), fz.params, fz.covariance
    )
    _, crb_z = delta_method(
        lambda p: np.column_stack([FWHM_PER_SIGMA / p[:, 3]]), fz.params, fz.fisher_inverse
    )
    col("z_um")[idx] = z_planes * dz
    col("z_se_um")[idx] = se_z[:, 0] * dz
    col("fwhm_z_um")[idx] = vals_z[:, 1] * dz
    col("fwhm_z_se_um")[idx] = se_z[:, 1] * dz
    col("fwhm_z_crb_um")[idx] = crb_z[:, 0] * dz
    col("r2_z")[idx] = fz.r2
    col("structured_residual_z")[idx] = structured_residual_fraction(prof, fz.model, (2 * hz + 1,), valid)
    zfail = ~fz.success | fz.at_bound | ~np.isfinite(sz)
    _check(cancel)

    progress(0.4, f"fitting {idx.size} beads in their focal planes")
    zf = np.where(zfail, zs[idx], np.clip(np.rint(z_planes), 0, nz - 1).astype(int))
    off = np.arange(-hxy, hxy + 1)
    L = off.size
    img = _boxes(stack, zf, ys[idx], xs[idx], (0, hxy, hxy), dtype=np.float64)[0][:, 0]
    m2 = GaussianModel(2, full=True)
    scale = np.array([dy, dx])
    fxy = fit_gaussians(m2, img.reshape(len(idx), -1), (L, L), sig_xy)

    def derived(p: np.ndarray) -> np.ndarray:
        cov = m2.covariance(p) * np.outer(scale, scale)[None]
        syy, sxx, sxy = cov[:, 0, 0], cov[:, 1, 1], cov[:, 0, 1]
        tr, det = sxx + syy, sxx * syy - sxy**2
        disc = np.sqrt(np.clip((tr / 2) ** 2 - det, 0, None))
        l1, l2 = tr / 2 + disc, np.clip(tr / 2 - disc, 0, None)
        theta = 0.5 * np.degrees(np.arctan2(2 * sxy, sxx - syy))
        return np.column_stack(
            [
                FWHM_PER_SIGMA * np.sqrt(sxx),
                FWHM_PER_SIGMA * np.sqrt(syy),
                FWHM_PER_SIGMA * np.sqrt(l1),
                FWHM_PER_SIGMA * np.sqrt(l2),
                theta,
                p[:, 3] * dx,
                p[:, 2] * dy,
            ]
        )

    vals, se = delta_method(derived, fxy.params, fxy.covariance)
    _, crb = delta_method(lambda p: derived(p)[:, :2], fxy.params, fxy.fisher_inverse)
    col("fwhm_x_um")[idx], col("fwhm_x_se_um")[idx] = vals[:, 0], se[:, 0]
    col("fwhm_y_um")[idx], col("fwhm_y_se_um")[idx] = vals[:, 1], se[:, 1]
    col("fwhm_major_um")[idx], col("fwhm_minor_um")[idx] = vals[:, 2], vals[:, 3]
    col("principal_axis_ratio")[idx] = vals[:, 3] / vals[:, 2]
    col("theta_deg")[idx], col("theta_se_deg")[idx] = vals[:, 4], se[:, 4]
    col("x_um")[idx] = (xs[idx] - hxy) * dx + vals[:, 5]
    col("y_um")[idx] = (ys[idx] - hxy) * dy + vals[:, 6]
    col("x_se_um")[idx], col("y_se_um")[idx] = se[:, 5], se[:, 6]
    col("fwhm_x_crb_um")[idx], col("fwhm_y_crb_um")[idx] = crb[:, 0], crb[:, 1]
    col("r2_xy")[idx] = fxy.r2
    col("structured_residual_xy")[idx] = structured_residual_fraction(
        img.reshape(len(idx), -1), fxy.model, (L, L)
    )
    col("amplitude")[idx] = fxy.params[:, 0]
    col("background")[idx] = fxy.params[:, 1]
    # R² along the row and the column through the fitted centre
    model = fxy.model.reshape(-1, L, L)
    r = np.clip(np.rint(fxy.params[:, 2]), 0, L - 1).astype(int)
    k = np.clip(np.rint(fxy.params[:, 3]), 0, L - 1).astype(int)
    b = np.arange(len(idx))
    col("r2_x")[idx] = _line_r2(img[b, r, :], model[b, r, :])
    col("r2_y")[idx] = _line_r2(img[b, :, k], model[b, :, k])
    col("sbr")[idx] = _sbr(stack, zf, col("y_um")[idx], col("x_um")[idx], vals[:, :2].mean(1), voxel)
    failed = zfail | ~fxy.success | fxy.at_bound | (fxy.params[:, 0] <= 0)
    for j, i in enumerate(idx):
        if failed[j]:
            reason[i] = REASONS["fit_failed"]
            what = "z" if zfail[j] else "xy"
            detail[i] = f"{what} fit did not converge or ended on a bound (width at its limit)"
    chan.model_params = {
        "index": idx,
        "z_params": fz.params,
        "z_first": zi[:, 0],
        "xy_params": fxy.params,
        "xy_origin": np.column_stack([ys[idx] - hxy, xs[idx] - hxy]),
        "z_plane": zf,
    }


def _fit_3d(batch: FitBatch, reason: np.ndarray, col: Column) -> None:
    """A full-covariance 3D Gaussian per bead still accepted, around the focus the 1D/2D fits found."""
    stack, idx = batch.stack, batch.idx
    hz, hxy, voxel, sig_xy, sig_z = batch.hz, batch.hxy, batch.voxel, batch.sigma_xy_px, batch.sigma_z_px
    idx = idx[reason[idx] == ""]
    if idx.size == 0:
        return
    dz, dy, dx = voxel
    zc = np.rint(col("z_um")[idx] / dz).astype(int)
    yc = np.rint(col("y_um")[idx] / dy).astype(int)
    xc = np.rint(col("x_um")[idx] / dx).astype(int)
    # A 3D Gaussian describes a widefield PSF only near focus: far from it the out-of-focus cone
    # dominates and inflates every width. Fit within ±1.5 measured axial FWHM of the focus.
    fwhm_z = np.nanmedian(col("fwhm_z_um")[idx])
    hz3 = int(min(hz, max(2, math.ceil(1.5 * fwhm_z / dz)))) if np.isfinite(fwhm_z) else hz
    box, valid = _boxes(stack, zc, yc, xc, (hz3, hxy, hxy), dtype=np.float64)
    shape = box.shape[1:]
    m3 = GaussianModel(3, full=True)
    f3 = fit_gaussians(
        m3,
        box.reshape(len(idx), -1),
        shape,
        np.array([sig_z, sig_xy, sig_xy]),
        mask=valid.reshape(len(idx), -1),
    )
    scale = np.array([dz, dy, dx])

    def derived(p: np.ndarray) -> np.ndarray:
        cov = m3.covariance(p) * np.outer(scale, scale)[None]
        eig = np.sort(np.clip(np.linalg.eigvalsh(cov), 0, None), axis=1)[:, ::-1]
        d = np.diagonal(cov, axis1=1, axis2=2)
        out: np.ndarray = FWHM_PER_SIGMA * np.sqrt(np.column_stack([d[:, 2], d[:, 1], d[:, 0], eig]))
        return out

    vals, se = delta_method(derived, f3.params, f3.covariance)
    for j, name in enumerate(
        (
            "fwhm_x_3d_um",
            "fwhm_y_3d_um",
            "fwhm_z_3d_um",
            "fwhm_axis1_3d_um",
            "fwhm_axis2_3d_um",
            "fwhm_axis3_3d_um",
        )
    ):
        col(name)[idx] = np.where(f3.success, vals[:, j], np.nan)
        if j < 3:
            col(name.replace("_um", "_se_um"))[idx] = np.where(f3.success, se[:, j], np.nan)
    col("r2_3d")[idx] = f3.r2
    col("structured_residual_3d")[idx] = structured_residual_fraction(
        box.reshape(len(idx), -1), f3.model, shape, valid.reshape(len(idx), -1)
    )


def _sbr(
    stack: Stack,
    zf: np.ndarray,
    y_um: np.ndarray,
    x_um: np.ndarray,
    fwhm_um: np.ndarray,
    voxel: tuple[float, float, float],
) -> np.ndarray:
    """MetroloJ_QC signal-to-background, in the focal plane.

    The mean inside the bead (radius FWHM/2) over the mean of an annulus from 0.5 to 1.5 µm
    outside it.
    """
    _, dy, dx = voxel
    r_in = np.nan_to_num(fwhm_um / 2, nan=0.1)
    r_out = r_in + 1.5
    R = int(math.ceil(np.max(r_out) / min(dy, dx))) + 1
    off = np.arange(-R, R + 1)
    yc = np.rint(y_um / dy).astype(int)
    xc = np.rint(x_um / dx).astype(int)
    win, valid = _gather(
        stack,
        zf[:, None, None],
        yc[:, None, None] + off[None, :, None],
        xc[:, None, None] + off[None, None, :],
    )
    ry = (yc[:, None, None] + off[None, :, None]) * dy - y_um[:, None, None]
    rx = (xc[:, None, None] + off[None, None, :]) * dx - x_um[:, None, None]
    r = np.hypot(ry, rx)
    inner = valid & (r <= r_in[:, None, None])
    ring = valid & (r >= (r_in + 0.5)[:, None, None]) & (r <= r_out[:, None, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        sbr: np.ndarray = (
            (win * inner).sum((1, 2)) / inner.sum((1, 2)) / ((win * ring).sum((1, 2)) / ring.sum((1, 2)))
        )
    return sbr


def _line_r2(data: np.ndarray, model: np.ndarray) -> np.ndarray:
    ss_res = ((data - model) ** 2).sum(-1)
    ss_tot = ((data - data.mean(-1, keepdims=True)) ** 2).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2: np.ndarray = 1 - ss_res / ss_tot
    return r2

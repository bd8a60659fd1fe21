"""Field maps, focal surface (tilt + curvature), averaged bead, representative profiles, fitted model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from microscope_qc.analysis.psf.delaunay import CollinearPointsError
from microscope_qc.analysis.psf.interpolation import interpolate_linear
from microscope_qc.analysis.psf.result import ChannelPSF, PSFResult
from microscope_qc.detection import extract_boxes as _boxes
from microscope_qc.fitting import GaussianModel, box_coordinates
from microscope_qc.results import Metric
from microscope_qc.volume import Stack


def _field_maps(
    result: PSFResult,
    chan: ChannelPSF,
    acc: pd.DataFrame,
    c: int,
    voxel: tuple[float, float, float],
    shape_yx: tuple[int, int],
    size: int,
) -> None:
    """Interpolated maps over the field and the focal surface (tilt + curvature)."""
    _, dy, dx = voxel
    h, w = shape_yx
    fov_y, fov_x = h * dy, w * dx
    if fov_y >= fov_x:
        gy, gx = size, max(2, int(round(size * fov_x / fov_y)))
    else:
        gx, gy = size, max(2, int(round(size * fov_y / fov_x)))
    sy, sx = fov_y / gy, fov_x / gx
    chan.map_scale_um = (sy, sx)
    # pixel (i, j) of a map covers the image area around ((i + 0.5)·sy, (j + 0.5)·sx) µm; napari puts
    # an image pixel's centre at its index, so the map is translated by half a map pixel minus half an image pixel
    chan.map_translate_um = (sy / 2 - dy / 2, sx / 2 - dx / 2)
    pts = acc[["y_um", "x_um"]].to_numpy()
    finite = np.isfinite(pts).all(1)
    pts = pts[finite]
    if len(pts) < 3:
        result.warnings.append(f"Channel {c}: fewer than 3 accepted beads; no field maps.")
        return
    gyy, gxx = np.meshgrid((np.arange(gy) + 0.5) * sy, (np.arange(gx) + 0.5) * sx, indexing="ij")
    names = [
        n
        for n in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "lateral_asymmetry", "z_um", "theta_deg")
        if n in acc
    ]
    values = acc[names].to_numpy(float)[finite]
    ok = np.isfinite(values).all(axis=1)  # accepted beads have every value; one triangulation serves all maps
    if ok.sum() >= 3:
        try:
            grid = interpolate_linear(pts[ok], values[ok], gyy[:, 0], gxx[0]).astype(np.float32)
        except CollinearPointsError:
            result.warnings.append(f"Channel {c}: the accepted beads are collinear; no field maps.")
        else:
            chan.maps.update({name: grid[..., k] for k, name in enumerate(names)})
    # focal surface z0 = a + b·x + c·y + k·r²  (r from the field centre)
    z0 = acc["z_um"].to_numpy()[finite]
    ok = np.isfinite(z0)
    xs, ys, z0 = pts[ok, 1] - fov_x / 2, pts[ok, 0] - fov_y / 2, z0[ok]
    n = len(z0)
    if n < 3:
        return
    use_curv = n >= 6
    cols = [np.ones(n), xs, ys] + ([xs**2 + ys**2] if use_curv else [])
    X = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(X, z0, rcond=None)
    resid = z0 - X @ coef
    dof = max(n - X.shape[1], 1)
    s2 = float(resid @ resid / dof)
    cov = s2 * np.linalg.pinv(X.T @ X)
    slope = math.hypot(coef[1], coef[2])
    tilt_deg = math.degrees(math.atan(slope))
    if slope > 0:
        g = np.array([0, coef[1] / slope, coef[2] / slope])[:3]
        slope_se = math.sqrt(max(float(g @ cov[:3, :3] @ g), 0.0))
    else:
        slope_se = math.sqrt(max(cov[1, 1], 0.0))
    tilt_se = math.degrees(slope_se / (1 + slope**2))
    corner_r2 = (fov_x / 2) ** 2 + (fov_y / 2) ** 2
    result.metrics += [
        Metric("focal_tilt_deg", tilt_deg, "deg", tilt_se, c, "tilt of the best-fit focal plane"),
        Metric(
            "focal_tilt_range_um",
            abs(coef[1]) * fov_x + abs(coef[2]) * fov_y,
            "um",
            math.sqrt(max(cov[1, 1] * fov_x**2 + cov[2, 2] * fov_y**2, 0.0)),
            c,
            "focus difference across the field from the tilt",
        ),
        Metric(
            "focal_residual_rms_um",
            math.sqrt(s2),
            "um",
            None,
            c,
            "RMS of focal positions around the fitted surface",
        ),
    ]
    if use_curv:
        sag = coef[3] * corner_r2
        result.metrics.append(
            Metric(
                "field_curvature_um",
                sag,
                "um",
                math.sqrt(max(cov[3, 3], 0.0)) * corner_r2,
                c,
                "focal shift at the field corner relative to the centre (paraboloid term)",
            )
        )
    chan.focal_surface = {
        "offset_um": float(coef[0]),
        "slope_x": float(coef[1]),
        "slope_y": float(coef[2]),
        "curvature_per_um": float(coef[3]) if use_curv else 0.0,
    }


def _average_bead(
    stack: Stack,
    chan: ChannelPSF,
    table: pd.DataFrame,
    accepted: pd.Series[bool],
    hz: int,
    hxy: int,
    voxel: tuple[float, float, float],
) -> None:
    """Sub-voxel aligned average of accepted beads (background removed, normalised), via Fourier shifts.

    The beads are boxed, shifted and summed a chunk at a time, so memory stays near one chunk of
    boxes whatever the number of beads.
    """
    dz, dy, dx = voxel
    acc = table[accepted]
    zc = acc["z_um"].to_numpy() / dz
    yc = acc["y_um"].to_numpy() / dy
    xc = acc["x_um"].to_numpy() / dx
    ok = np.isfinite(zc) & np.isfinite(yc) & np.isfinite(xc)
    zc, yc, xc = zc[ok], yc[ok], xc[ok]
    bg = acc["background"].to_numpy()[ok]
    if zc.size == 0:
        return
    zi, yi, xi = np.rint(zc).astype(int), np.rint(yc).astype(int), np.rint(xc).astype(int)
    shifts = np.column_stack([zi - zc, yi - yc, xi - xc])  # move each centre onto the box centre
    average = AlignedAverage((2 * hz + 1, 2 * hxy + 1, 2 * hxy + 1))
    for i in range(0, zc.size, _AVERAGE_CHUNK):
        sl = slice(i, i + _AVERAGE_CHUNK)
        box, valid = _boxes(stack, zi[sl], yi[sl], xi[sl], (hz, hxy, hxy))
        box -= bg[sl].astype(np.float32)[:, None, None, None]
        box[~valid] = 0.0
        average.add(box, shifts[sl])
    if average.count == 0:
        return
    chan.averaged_bead = average.result()
    chan.averaged_bead_count = average.count


#: beads boxed and shifted at a time by :func:`_average_bead`
_AVERAGE_CHUNK = 16


def next_fast_len(n: int) -> int:
    """The smallest length ≥ ``n`` whose only prime factors are 2, 3 and 5 (``scipy.fft.next_fast_len(n, real=True)``).

    Parameters
    ----------
    n : int
        The length needed, ≥ 1.

    Returns
    -------
    int
        A 5-smooth length, which NumPy's real FFT transforms fast.
    """
    m = max(1, int(n))
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


class AlignedAverage:
    """Boxes shifted onto their centre by sub-voxel vectors, each divided by its centre value, averaged.

    The sum is taken in Fourier space. A shift is a phase ramp on a box's spectrum (single precision real FFTs, NumPy's: ``scipy.fft``
    would be faster with two threads but costs more to import, with ``scipy.special``, than the
    shifts of 200 beads take). Each axis is zero-padded to a length the FFT factors well (boxes are
    2·h + 1 long, often prime, which costs about three times as much); the padding also keeps what a
    shift moves past one edge from wrapping onto the other. The inverse transform is linear, so the
    normalised spectra are summed and transformed back once, not once per box: a box's shifted
    centre value, its normaliser, is read from its spectrum directly (the inverse real FFT at one
    voxel). Boxes whose shifted centre is not positive are left out.

    Parameters
    ----------
    shape : tuple of int
        The (Z, Y, X) shape of every box; odd lengths, the centre at their middles.
    """

    def __init__(self, shape: tuple[int, int, int]):
        self.shape = tuple(int(n) for n in shape)
        self.padded = tuple(next_fast_len(n) for n in self.shape)
        pz, py, px = self.padded
        self._freq = (np.fft.fftfreq(pz), np.fft.fftfreq(py), np.fft.rfftfreq(px))
        # the inverse real FFT at the centre voxel: Σ w·F·e^{2πi k·c}/N, w = 2 for the x frequencies
        # a real transform keeps once for two (all but 0 and, for an even length, Nyquist)
        centre = [n // 2 for n in self.shape]
        ramps = [np.exp(2j * np.pi * f * c) for f, c in zip(self._freq, centre, strict=True)]
        weight = np.full(self._freq[2].size, 2.0)
        weight[0] = 1.0
        if px % 2 == 0:
            weight[-1] = 1.0
        ramps[2] = ramps[2] * weight / (pz * py * px)
        self._centre_ramps = [r.astype(np.complex64) for r in ramps]
        self._sum = np.zeros((pz, py, px // 2 + 1), np.complex128)
        self.count = 0

    def add(self, boxes: np.ndarray, shifts: np.ndarray) -> None:
        """Add (B, Z, Y, X) ``boxes`` shifted by (B, 3) ``shifts`` (in voxels, z, y, x)."""
        fz, fy, fx = self._freq
        spec = np.fft.rfftn(boxes, s=self.padded, axes=(1, 2, 3))
        s = np.asarray(shifts).astype(np.float32)
        spec *= np.exp(-2j * np.pi * s[:, 0, None] * fz[None]).astype(np.complex64)[:, :, None, None]
        spec *= np.exp(-2j * np.pi * s[:, 1, None] * fy[None]).astype(np.complex64)[:, None, :, None]
        spec *= np.exp(-2j * np.pi * s[:, 2, None] * fx[None]).astype(np.complex64)[:, None, None, :]
        rz, ry, rx = self._centre_ramps
        peak = (((spec @ rx) @ ry) @ rz).real  # Σ over x, then y, then z (BLAS, not einsum's loops)
        good = peak > 0
        weights = np.where(good, 1.0 / np.where(good, peak, 1.0), 0.0).astype(np.complex64)
        # normalised sum as one BLAS contraction: Σ_b spectrum_b / peak_b
        self._sum += np.tensordot(weights, spec, axes=(0, 0))
        self.count += int(good.sum())

    def result(self) -> np.ndarray:
        """The average so far, (Z, Y, X) float32 (zeros before any box was counted)."""
        total = np.fft.irfftn(self._sum, s=self.padded, axes=(0, 1, 2))
        z, y, x = self.shape
        out: np.ndarray = (total[:z, :y, :x] / max(self.count, 1)).astype(np.float32)
        return out


def _representative_profiles(
    stack: Stack,
    chan: ChannelPSF,
    table: pd.DataFrame,
    accepted: pd.Series[bool],
    hz: int,
    hxy: int,
    voxel: tuple[float, float, float],
) -> None:
    """Data and fitted profiles along x, y, z of the bead whose FWHMs are closest to the medians (for the report)."""
    mp = chan.model_params
    if not mp or not accepted.any():
        return
    fwhm = table.loc[accepted, [f"fwhm_{a}_um" for a in "xyz"]]
    score = (((fwhm - fwhm.median()) / fwhm.median()) ** 2).sum(axis=1, skipna=False)
    pos = table.index.get_loc(score.idxmin())
    if not isinstance(pos, (int, np.integer)):
        raise ValueError("the bead table's index must be unique")
    pos = int(pos)
    row = table.iloc[pos]
    i = int(np.flatnonzero(mp["index"] == pos)[0])
    dz, dy, dx = voxel
    zp, xyp = mp["z_params"][i], mp["xy_params"][i]
    oy, ox = mp["xy_origin"][i]
    zplane = mp["z_plane"][i]
    m1, m2 = GaussianModel(1), GaussianModel(2)
    L = 2 * hxy + 1
    cy, cx = int(round(xyp[2])), int(round(xyp[3]))
    img = stack[zplane, oy : oy + L, ox : ox + L].astype(float)
    fine = np.linspace(0, L - 1, 8 * L)
    fit_x = m2.value(np.column_stack([np.full_like(fine, xyp[2]), fine]), xyp[None])[0]
    fit_y = m2.value(np.column_stack([fine, np.full_like(fine, xyp[3])]), xyp[None])[0]
    zfirst = mp["z_first"][i]
    nz = stack.shape[0]
    zidx = np.arange(zfirst, zfirst + 2 * hz + 1)
    zok = (zidx >= 0) & (zidx < nz)
    y_row, x_col = int(row["y_px"]), int(row["x_px"])
    zprof = stack[zidx[zok], y_row, x_col].astype(float)
    zfine = np.linspace(0, 2 * hz, 8 * (2 * hz + 1))
    fit_z = m1.value(zfine[:, None], zp[None])[0]
    chan.profiles = {
        "bead_id_row": pos,
        "x_um": (ox + np.arange(L)) * dx,
        "x_data": img[min(max(cy, 0), L - 1), :],
        "x_fit_um": (ox + fine) * dx,
        "x_fit": fit_x,
        "y_um": (oy + np.arange(L)) * dy,
        "y_data": img[:, min(max(cx, 0), L - 1)],
        "y_fit_um": (oy + fine) * dy,
        "y_fit": fit_y,
        "z_um": zidx[zok] * dz,
        "z_data": zprof,
        "z_fit_um": (zfirst + zfine) * dz,
        "z_fit": fit_z,
        "fwhm": {a: float(row[f"fwhm_{a}_um"]) for a in "xyz"},
    }


def render_model(result: PSFResult, shape: tuple[int, int, int], channel: int = 0) -> np.ndarray:
    """The fitted beads as a (Z, Y, X) float32 stack, for comparing data and fit slice by slice.

    Each fitted bead is drawn as ``b + A·g_z(z)·g_xy(y, x)`` (its 1D axial Gaussian times its
    2D lateral Gaussian) inside its fit box; elsewhere the value is the median background.

    Parameters
    ----------
    result : PSFResult
        A result of :func:`analyze_psf` (``method="quarep"``; other methods give the background only).
    shape : tuple of int
        (Z, Y, X) shape of the analysed stack.
    channel : int
        The file's channel number, as in ``ChannelPSF.channel``.

    Returns
    -------
    numpy.ndarray
        The (Z, Y, X) float32 model.

    Raises
    ------
    ValueError
        ``channel`` was not analysed.
    """
    chan = next((ch for ch in result.channels if ch.channel == channel), None)
    if chan is None:
        raise ValueError(
            f"Channel {channel} was not analysed; the result has channels {[ch.channel for ch in result.channels]}."
        )
    mp = chan.model_params
    bg = result.beads.loc[result.beads["channel"] == channel, "background"].median()
    out = np.full(shape, np.nan_to_num(bg, nan=0.0), dtype=np.float32)
    if not mp:
        return out
    hz_box, L, _ = chan.box_shape
    m1, m2 = GaussianModel(1), GaussianModel(2)
    zc = np.arange(hz_box, dtype=float)[:, None]
    yxc = box_coordinates((L, L))
    zp = mp["z_params"].copy()
    zp[:, 0], zp[:, 1] = 1.0, 0.0  # normalised axial shape
    gz = m1.value(zc, zp)  # (B, Lz)
    xyp = mp["xy_params"].copy()
    amp, back = xyp[:, 0].copy(), xyp[:, 1].copy()
    xyp[:, 0], xyp[:, 1] = 1.0, 0.0
    gxy = m2.value(yxc, xyp).reshape(-1, L, L)
    nz, h, w = shape
    for j in range(len(mp["index"])):
        z0 = int(mp["z_first"][j])
        oy, ox = (int(v) for v in mp["xy_origin"][j])
        block = back[j] + amp[j] * gz[j][:, None, None] * gxy[j][None]
        zs = slice(max(z0, 0), min(z0 + hz_box, nz))
        bz = slice(zs.start - z0, zs.stop - z0)
        if zs.stop <= zs.start or oy < 0 or ox < 0 or oy + L > h or ox + L > w:
            continue
        out[zs, oy : oy + L, ox : ox + L] = block[bz]
    return out

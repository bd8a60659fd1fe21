"""Pupil phase retrieval from a bead z-stack (Hanser et al., Opt. Lett. 28, 801 (2003); J. Microsc. 216, 32 (2004)).

A Gerchberg–Saxton-type iteration between the back pupil and the measured planes of a widefield
bead: the scalar high-NA model E_z(x) = F⁻¹[P(k) · e^{2πi k_z z}](x), k_z = √((n/λ)² − |k|²),
|k| ≤ NA/λ. Each iteration propagates the pupil to every plane, keeps the field's phase and puts
in the measured amplitude √I, propagates back and averages the planes' pupils within the support.
The retrieved phase (piston, tilt from the bead's sub-pixel offset and defocus from its focus
removed) is fitted with Noll-normalised Zernike polynomials: a coefficient is the RMS wavefront
error of that term, in waves. Several beads give several estimates; their mean and standard error
are the result.

This is a standalone tool (``retrieve_zernikes``), not part of :func:`analyze_psf` (it costs about
a second per bead). It assumes a widefield PSF (one wavelength), scalar propagation, a bead well
below the resolution, and aberrations within ±0.5 waves (no phase unwrapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["NOLL_NAMES", "ZernikeResult", "retrieve_pupil", "zernike_basis", "retrieve_zernikes"]

#: the Noll terms fitted (1–11) and their names
NOLL_NAMES = {
    1: "piston",
    2: "tilt x",
    3: "tilt y",
    4: "defocus",
    5: "astigmatism 45°",
    6: "astigmatism 0°",
    7: "coma y",
    8: "coma x",
    9: "trefoil y",
    10: "trefoil x",
    11: "spherical",
}
#: terms that describe where the bead is, not the optics (left out of the aberration)
POSITION_TERMS = (1, 2, 3, 4)


def zernike_basis(rho: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Noll-normalised Zernike polynomials Z₁–Z₁₁ at the points, (11, N)."""
    r2 = rho**2
    return np.stack(
        [
            np.ones_like(rho),
            2 * rho * np.cos(theta),
            2 * rho * np.sin(theta),
            math.sqrt(3) * (2 * r2 - 1),
            math.sqrt(6) * r2 * np.sin(2 * theta),
            math.sqrt(6) * r2 * np.cos(2 * theta),
            math.sqrt(8) * (3 * r2 - 2) * rho * np.sin(theta),
            math.sqrt(8) * (3 * r2 - 2) * rho * np.cos(theta),
            math.sqrt(8) * r2 * rho * np.sin(3 * theta),
            math.sqrt(8) * r2 * rho * np.cos(3 * theta),
            math.sqrt(5) * (6 * r2**2 - 6 * r2 + 1),
        ]
    )


def retrieve_pupil(
    box: np.ndarray,
    z_um: np.ndarray,
    dxy_um: float,
    na: float,
    n: float,
    wavelength_um: float,
    iterations: int = 60,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Retrieve the complex pupil from planes of one bead.

    Parameters
    ----------
    box : numpy.ndarray
        (Z, L, L) background-subtracted intensities, the bead near the centre pixel (L // 2, L // 2).
    z_um : numpy.ndarray
        (Z,) each plane's distance from the bead's focus, µm.
    dxy_um : float
        Pixel size.
    na, n, wavelength_um : float
        Numerical aperture, immersion index, wavelength.
    iterations : int
        Gerchberg–Saxton iterations.

    Returns
    -------
    pupil : numpy.ndarray
        (L, L) complex pupil on the FFT grid (unshifted).
    rho, theta : numpy.ndarray
        (L, L) normalised pupil radius and angle of each grid point.
    support : numpy.ndarray
        (L, L) bool, |k| ≤ NA/λ.
    """
    L = box.shape[-1]
    f = np.fft.fftfreq(L, d=dxy_um)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    fr = np.hypot(fx, fy)
    cutoff = na / wavelength_um
    support = fr <= cutoff
    kz = np.sqrt(np.clip((n / wavelength_um) ** 2 - fr**2, 0, None))
    prop = np.exp(2j * np.pi * kz[None] * z_um[:, None, None])  # (Z, L, L)
    amp = np.fft.ifftshift(np.sqrt(np.clip(box, 0, None)), axes=(1, 2))
    pupil = support.astype(complex)
    for _ in range(iterations):
        field = np.fft.ifft2(pupil[None] * prop)
        field = amp * np.exp(1j * np.angle(field))
        pupil = (np.fft.fft2(field) * np.conj(prop)).mean(axis=0) * support
    return pupil, np.where(support, fr / cutoff, 0.0), np.arctan2(fy, fx), support


def _fit(pupil: np.ndarray, rho: np.ndarray, theta: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Zernike coefficients (waves RMS) of the pupil's phase, weighted by its amplitude."""
    basis = zernike_basis(rho[support], theta[support])  # (11, N)
    values = pupil[support]
    # remove the bead's tilt and the mean phase first so that the phase does not wrap
    w = np.abs(values)
    coef = np.zeros(basis.shape[0])
    for _ in range(3):
        residual = values * np.exp(-2j * np.pi * (coef @ basis))
        phase = np.angle(residual) / (2 * np.pi)
        sol = np.linalg.lstsq((basis * w).T, phase * w, rcond=None)[0]
        coef = coef + sol
    return coef


@dataclass(frozen=True)
class ZernikeResult:
    """Zernike amplitudes of the retrieved pupil: per bead and their mean with its standard error."""

    per_bead: np.ndarray  # (B, 11) waves RMS, Noll 1–11
    mean: np.ndarray  # (11,)
    se: np.ndarray  # (11,) standard error of the mean over beads (NaN with one bead)

    @property
    def aberration_rms_waves(self) -> float:
        """RMS wavefront error of the optical terms (Noll 5–11)."""
        return float(np.sqrt((self.mean[4:] ** 2).sum()))


def retrieve_zernikes(
    stack: np.ndarray,
    beads_zyx_px: np.ndarray,
    voxel: tuple[float, float, float],
    na: float,
    n: float,
    wavelength_um: float,
    half_box_px: int = 32,
    half_depth_um: float = 2.0,
    iterations: int = 60,
) -> ZernikeResult:
    """Zernike amplitudes (waves RMS) of the pupil from beads of a widefield z-stack.

    Parameters
    ----------
    stack : numpy.ndarray
        (Z, Y, X) bead stack.
    beads_zyx_px : numpy.ndarray
        (B, 3) sub-voxel bead centres (z, y, x), e.g. the PSF analysis' ``z_um/dz``, ``y_um/dy``,
        ``x_um/dx`` of accepted beads.
    voxel : tuple of float
        (dz, dy, dx) µm; dy must equal dx.
    na, n, wavelength_um : float
        Optics (the emission wavelength).
    half_box_px : int
        Half the lateral box (the box must hold the defocused spot at ± ``half_depth_um``).
    half_depth_um : float
        Planes within this distance of the focus are used.
    iterations : int
        Gerchberg–Saxton iterations per bead.

    Returns
    -------
    ZernikeResult
        Per-bead coefficients (Noll 1–11; 1–4 describe the bead's position) and their mean and
        standard error; beads whose box leaves the stack are skipped.

    Raises
    ------
    ValueError
        If no bead's box fits inside the stack or the pixels are not square.
    """
    dz, dy, dx = voxel
    if not math.isclose(dy, dx, rel_tol=1e-6):
        raise ValueError(f"Pupil retrieval needs square pixels; got {dy} × {dx} µm.")
    nz, ny, nx = stack.shape
    hz = int(half_depth_um / dz)
    L = 2 * half_box_px
    out = []
    for zc, yc, xc in np.asarray(beads_zyx_px, dtype=float):
        zi, yi, xi = int(round(zc)), int(round(yc)), int(round(xc))
        if zi - hz < 0 or zi + hz >= nz or yi - half_box_px < 0 or yi + half_box_px > ny:
            continue
        if xi - half_box_px < 0 or xi + half_box_px > nx:
            continue
        box = stack[
            zi - hz : zi + hz + 1, yi - half_box_px : yi + half_box_px, xi - half_box_px : xi + half_box_px
        ]
        box = box.astype(float)
        edge = np.concatenate(
            [box[:, 0, :].ravel(), box[:, -1, :].ravel(), box[:, :, 0].ravel(), box[:, :, -1].ravel()]
        )
        box = box - np.median(edge)
        z_um = (np.arange(zi - hz, zi + hz + 1) - zc) * dz
        pupil, rho, theta, support = retrieve_pupil(box, z_um, dx, na, n, wavelength_um, iterations)
        # the bead sits at (yc, xc), the box centre at (yi, xi): that offset is a tilt, removed by the fit
        out.append(_fit(pupil, rho, theta, support))
    if not out:
        raise ValueError(
            f"No bead's {L}×{L} px box and ±{half_depth_um:g} µm of planes fit inside the {nz}×{ny}×{nx} stack."
        )
    per_bead = np.array(out)
    mean = per_bead.mean(axis=0)
    se = per_bead.std(axis=0, ddof=1) / math.sqrt(len(per_bead)) if len(per_bead) > 1 else np.full(11, np.nan)
    return ZernikeResult(per_bead, mean, se)

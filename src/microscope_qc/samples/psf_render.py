"""Realistic widefield PSFs for the workshop gallery: a vectorial model, pixel integration, bead size.

Two renderers give the PSF of one aberration state on a fine grid (a third of a camera pixel
laterally, half a plane axially):

* :func:`gibson_lanni_psf`: the vectorial Gibson–Lanni model of ``psfmodels`` (Aguet et al.
  2009), for a good objective and for spherical aberration from a refractive-index mismatch or a
  wrong coverslip thickness (what that model describes);
* :func:`pupil_psf`: a vectorial pupil (Richards–Wolf, as Hanser et al. 2004: the dipole
  components' pupil fields, the sine-condition apodisation, the defocus phase of the angular
  spectrum) with a Zernike phase (astigmatism, coma) and optionally a random phase screen (a
  dirty front lens). The field at the image is the pupil's Fourier transform evaluated on the
  output grid only (a matrix Fourier transform, so defocused light does not wrap around).

:func:`bead_blur` convolves either with the bead's sphere and :func:`place_beads` puts beads at
sub-pixel positions: the fine PSF is summed over each camera pixel (pixel integration) for the
bead's third-of-a-pixel phase and interpolated linearly between fine planes. The PSF is rendered
once per aberration state and shifted per bead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Optics",
    "FinePSF",
    "gibson_lanni_psf",
    "pupil_psf",
    "bead_blur",
    "place_beads",
    "camera",
    "axial_profile",
]

#: fine lateral samples per camera pixel (sub-pixel placement in thirds of a pixel)
OVERSAMPLE = 3

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Optics:
    """An objective and its sample; lengths in µm.

    ``ni``/``ni0``: the immersion medium's actual and design index; ``ns``: the sample's;
    ``tg``/``tg0``: the coverslip's actual and design thickness; ``depth_um``: the bead's depth
    below the coverslip.
    """

    na: float = 1.4
    wavelength_um: float = 0.52
    ni: float = 1.518
    ni0: float = 1.518
    ns: float = 1.518
    ng: float = 1.515
    ng0: float = 1.515
    tg: float = 170.0
    tg0: float = 170.0
    depth_um: float = 0.0


@dataclass
class FinePSF:
    """A PSF on a fine grid: ``psf[z, y, x]`` (sum of each plane in focus ≈ 1), with its steps.

    ``z0_um`` is the position (on the stage's axis, deeper positive) of plane 0 relative to the
    bead's *nominal* focus; ``focus_um`` where the axial peak is on that axis (the focal shift).
    """

    psf: FloatArray
    dxy_um: float  # fine lateral step
    dz_um: float  # fine axial step
    z0_um: float
    focus_um: float
    #: what the model's values were divided by (raw = psf · scale), to compare peaks of two pupils
    scale: float = 1.0


def _fine_axes(dxy: float, dz: float, half_xy_px: int, half_z_um: float) -> tuple[FloatArray, FloatArray]:
    """Fine axes: lateral with ``OVERSAMPLE`` samples per pixel (odd count), axial at dz/2."""
    n_xy = OVERSAMPLE * (2 * half_xy_px + 1)
    x = (np.arange(n_xy) - (n_xy - 1) / 2) * (dxy / OVERSAMPLE)
    nz_half = int(math.ceil(half_z_um / (dz / 2)))
    z = np.arange(-nz_half, nz_half + 1) * (dz / 2)
    return x.astype(np.float64), z.astype(np.float64)


def gibson_lanni_psf(
    optics: Optics, dxy: float, dz: float, half_xy_px: int = 20, half_z_um: float = 4.8
) -> FinePSF:
    """The vectorial Gibson–Lanni PSF of ``psfmodels``, centred on its axial peak.

    Parameters
    ----------
    optics : Optics
        Objective, indices, coverslip and bead depth.
    dxy, dz : float
        The camera pixel and the z step (µm); the PSF is rendered at a third and a half of them.
    half_xy_px : int
        Lateral half-width in camera pixels.
    half_z_um : float
        Axial half-range about the peak (µm).

    Returns
    -------
    FinePSF
        The PSF, normalised so that an in-focus plane sums to 1.
    """
    import psfmodels

    params: dict[str, Any] = {
        "NA": optics.na,
        "ni": optics.ni,
        "ni0": optics.ni0,
        "ns": optics.ns,
        "ng": optics.ng,
        "ng0": optics.ng0,
        "tg": optics.tg,
        "tg0": optics.tg0,
        "sf": 1,
    }
    # the axial peak first, on the optical axis only (the focal shift of a mismatch)
    coarse = np.arange(-4.0, 4.0 + 1e-9, 0.02) + optics.depth_um
    line = psfmodels.vectorial_psf(  # type: ignore[no-untyped-call]
        zv=coarse, nx=1, dxy=dxy, pz=optics.depth_um, wvl=optics.wavelength_um, params=params, normalize=False
    )[:, 0, 0]
    focus = float(coarse[int(np.argmax(line))]) - optics.depth_um
    x, z = _fine_axes(dxy, dz, half_xy_px, half_z_um)
    vol = psfmodels.vectorial_psf(  # type: ignore[no-untyped-call]
        zv=z + focus + optics.depth_um,
        nx=len(x),
        dxy=float(x[1] - x[0]),
        pz=optics.depth_um,
        wvl=optics.wavelength_um,
        params=params,
        normalize=False,
    ).astype(np.float64)
    psf, scale = _normalise(vol)
    return FinePSF(psf, float(x[1] - x[0]), float(z[1] - z[0]), float(z[0] + focus), focus, scale)


def _normalise(vol: FloatArray) -> tuple[FloatArray, float]:
    """Scale so that the brightest-peak plane sums to 1 (the photons of a bead in focus)."""
    k = int(np.unravel_index(np.argmax(vol), vol.shape)[0])
    scale = float(vol[k].sum())
    return vol / scale, scale


def zernike(n: int, m: int, rho: FloatArray, phi: FloatArray) -> FloatArray:
    """Noll-normalised Zernike polynomial (RMS 1 over the unit disc), ``m < 0`` for sine terms.

    Parameters
    ----------
    n, m : int
        Radial and azimuthal order.
    rho, phi : ndarray
        Pupil radius (1 at the edge) and azimuth (radians, from +x towards +y).

    Returns
    -------
    ndarray
        The polynomial's values.
    """
    am = abs(m)
    radial = np.zeros_like(rho)
    for k in range((n - am) // 2 + 1):
        c = (-1) ** k * math.factorial(n - k)
        c /= math.factorial(k) * math.factorial((n + am) // 2 - k) * math.factorial((n - am) // 2 - k)
        radial = radial + c * rho ** (n - 2 * k)
    norm = math.sqrt(n + 1) if m == 0 else math.sqrt(2 * (n + 1))
    ang = np.ones_like(phi) if m == 0 else (np.cos(am * phi) if m > 0 else np.sin(am * phi))
    return np.asarray(norm * radial * ang, dtype=np.float64)


def pupil_psf(
    optics: Optics,
    dxy: float,
    dz: float,
    phase_waves: dict[tuple[int, int], float] | None = None,
    screen_waves: float = 0.0,
    screen_corr: float = 0.1,
    half_xy_px: int = 20,
    half_z_um: float = 4.0,
    seed: int = 0,
    n_pupil: int = 48,
) -> FinePSF:
    """A vectorial pupil PSF with Zernike phase (and a random phase screen), index-matched sample.

    Parameters
    ----------
    optics : Optics
        NA, wavelength and the immersion index (the sample is taken as index-matched).
    dxy, dz : float
        Camera pixel and z step (µm).
    phase_waves : dict, optional
        ``{(n, m): amplitude}``: Noll-normalised Zernike terms, amplitudes in waves RMS.
    screen_waves : float
        RMS (waves) of a smooth random phase screen over the pupil (a smudged front lens).
    screen_corr : float
        The screen's correlation length as a fraction of the pupil radius.
    half_xy_px : int
        Lateral half-width in camera pixels.
    half_z_um : float
        Axial half-range (µm).
    seed : int
        Seed of the phase screen.
    n_pupil : int
        Pupil samples across its diameter.

    Returns
    -------
    FinePSF
        The PSF; ``focus_um`` is the depth of its brightest plane.
    """
    n = optics.ni
    kmax = optics.na / optics.wavelength_um
    k = (np.arange(n_pupil) - (n_pupil - 1) / 2) * (2 * kmax / n_pupil)
    ky, kx = np.meshgrid(k, k, indexing="ij")
    kr = np.hypot(kx, ky)
    inside = kr <= kmax
    rho = kr / kmax
    phi = np.arctan2(ky, kx)
    sin_t = np.clip(kr * optics.wavelength_um / n, 0, 0.999999)
    cos_t = np.sqrt(1 - sin_t**2)
    phase = np.zeros_like(kr)
    for (zn, zm), a in (phase_waves or {}).items():
        phase += a * zernike(zn, zm, rho, phi)
    if screen_waves:
        phase += screen_waves * _phase_screen(rho, phi, screen_corr, inside, seed)
    apod = np.where(inside, 1 / np.sqrt(cos_t), 0.0) * np.exp(2j * np.pi * phase)
    # the pupil fields of x, y and z dipoles, each in x and y polarisation (Hanser et al. 2004)
    cp, sp = np.cos(phi), np.sin(phi)
    # (the x dipole's y field equals the y dipole's x field: computed once, counted twice)
    comps = (
        cos_t * cp**2 + sp**2,
        (cos_t - 1) * sp * cp,
        cos_t * sp**2 + cp**2,
        sin_t * cp,
        sin_t * sp,
    )
    weight = np.array([1.0, 2.0, 1.0, 1.0, 1.0])[:, None, None]
    x, z = _fine_axes(dxy, dz, half_xy_px, half_z_um)
    ft = np.exp(2j * np.pi * np.outer(x, k)).astype(np.complex64)  # the matrix Fourier transform
    kz = np.sqrt(np.maximum((n / optics.wavelength_um) ** 2 - kr**2, 0))
    pupils = np.stack([c * apod for c in comps]).astype(np.complex64)  # (5, ky, kx)
    vol = np.empty((len(z), len(x), len(x)))
    for i, zi in enumerate(z):
        p = pupils * np.exp(2j * np.pi * kz * zi).astype(np.complex64)
        field = np.einsum("yk,ckl,xl->cyx", ft, p, ft, optimize=True)  # (5, y, x)
        vol[i] = np.sum(weight * (field.real**2 + field.imag**2), axis=0)
    psf, scale = _normalise(vol)
    focus = float(z[int(np.unravel_index(np.argmax(psf), psf.shape)[0])])
    return FinePSF(psf, float(x[1] - x[0]), dz / 2, float(z[0]), focus, scale)


def _phase_screen(
    rho: FloatArray, phi: FloatArray, corr: float, inside: npt.NDArray[np.bool_], seed: int
) -> FloatArray:
    """A smooth random phase of RMS 1 over the pupil (Gaussian-filtered white noise)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    n = rho.shape[0]
    noise = gaussian_filter(rng.normal(size=rho.shape), sigma=corr * n / 2)
    # a smudge scatters: keep the fine structure, remove what an aligned lens would show as the
    # low-order aberrations (Zernike n ≤ 3: tilt, defocus, astigmatism, coma, trefoil)
    basis = np.stack(
        [zernike(zn, zm, rho, phi)[inside] for zn in range(4) for zm in range(-zn, zn + 1, 2)], 1
    )
    coef, *_ = np.linalg.lstsq(basis, noise[inside], rcond=None)
    noise[inside] -= basis @ coef
    noise[~inside] = 0
    return np.asarray(noise / noise[inside].std(), dtype=np.float64)


def bead_blur(fine: FinePSF, diameter_um: float) -> FinePSF:
    """Convolve the PSF with a uniformly stained sphere (the bead), sampled on the fine grid.

    Parameters
    ----------
    fine : FinePSF
        The PSF.
    diameter_um : float
        Bead diameter (µm); 0 leaves the PSF as it is.

    Returns
    -------
    FinePSF
        The PSF of the bead (same grid).
    """
    if diameter_um <= 0:
        return fine
    from scipy.ndimage import convolve

    r = diameter_um / 2
    sub = 5  # supersampling of each fine voxel for the sphere's volume fraction
    kz = int(math.ceil(r / fine.dz_um))
    kxy = int(math.ceil(r / fine.dxy_um))
    oz = (np.arange((2 * kz + 1) * sub) - ((2 * kz + 1) * sub - 1) / 2) * fine.dz_um / sub
    oxy = (np.arange((2 * kxy + 1) * sub) - ((2 * kxy + 1) * sub - 1) / 2) * fine.dxy_um / sub
    zz, yy, xx = np.meshgrid(oz, oxy, oxy, indexing="ij")
    ball = (zz**2 + yy**2 + xx**2 <= r**2).astype(np.float64)
    kernel = ball.reshape(2 * kz + 1, sub, 2 * kxy + 1, sub, 2 * kxy + 1, sub).sum(axis=(1, 3, 5))
    kernel /= kernel.sum()
    out = convolve(fine.psf, kernel, mode="constant")
    return FinePSF(out, fine.dxy_um, fine.dz_um, fine.z0_um, fine.focus_um, fine.scale)


def _binned(fine: FinePSF) -> dict[tuple[int, int], FloatArray]:
    """The PSF summed over camera pixels for each third-of-a-pixel phase ``(py, px)`` in −1, 0, 1."""
    s = OVERSAMPLE
    nz, ny, nx = fine.psf.shape
    out = {}
    for py in (-1, 0, 1):
        for px in (-1, 0, 1):
            # a bead at +p/3 px: the pixel centred at 0 integrates the PSF from -p/3 - 1/2 px
            a = np.roll(fine.psf, (py, px), axis=(1, 2))
            m = ny // s
            out[(py, px)] = a[:, : m * s, : m * s].reshape(nz, m, s, m, s).sum(axis=(2, 4))
    return out


def place_beads(
    fine: FinePSF,
    shape: tuple[int, int, int],
    voxel_um: tuple[float, float, float],
    zyx_um: FloatArray,
    photons: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Sum beads into a stack: pixel-integrated, at third-of-a-pixel lateral positions.

    Parameters
    ----------
    fine : FinePSF
        The PSF (bead-blurred) on its fine grid.
    shape : tuple of int
        The stack (Z, Y, X).
    voxel_um : tuple of float
        Its voxel size (z, y, x) in µm; the fine grid must be (dz/2, dxy/3).
    zyx_um : ndarray
        (N, 3) requested positions (µm; z of the *nominal* focus, the stage's axis).
    photons : ndarray
        (N,) photons of each bead in its focal plane.

    Returns
    -------
    tuple of ndarray
        The expected photons per voxel, and the (N, 3) true positions of the beads' intensity
        peaks as placed (lateral snapped to a third of a pixel, z including the focal shift).
    """
    nz, h, w = shape
    dz, dy, dx = voxel_um
    binned = _binned(fine)
    fz, m, _ = binned[(0, 0)].shape
    half = (m - 1) // 2
    vol = np.zeros(shape, dtype=np.float64)
    placed = np.empty_like(zyx_um, dtype=np.float64)
    zf = fine.z0_um + np.arange(fz) * fine.dz_um  # fine planes relative to the nominal focus
    planes = np.arange(nz) * dz
    for i, ((z, y, x), n_ph) in enumerate(zip(zyx_um, photons, strict=True)):
        iy, ix = round(y / dy * OVERSAMPLE), round(x / dx * OVERSAMPLE)
        cy, py = divmod(iy + 1, OVERSAMPLE)
        cx, px = divmod(ix + 1, OVERSAMPLE)
        py, px = py - 1, px - 1
        placed[i] = (z + fine.focus_um, (cy + py / OVERSAMPLE) * dy, (cx + px / OVERSAMPLE) * dx)
        # the PSF at each stack plane: linear interpolation between fine planes
        rel = planes - z
        j = np.clip((rel - fine.z0_um) / fine.dz_um, 0, fz - 1)
        j0 = np.minimum(np.floor(j).astype(int), fz - 2)
        t = (j - j0)[:, None, None]
        outside = (rel < zf[0]) | (rel > zf[-1])
        b = binned[(py, px)]
        stack = (1 - t) * b[j0] + t * b[j0 + 1]
        stack[outside] = 0
        y0, x0 = cy - half, cx - half
        ys, xs = slice(max(y0, 0), min(y0 + m, h)), slice(max(x0, 0), min(x0 + m, w))
        vol[:, ys, xs] += n_ph * stack[:, ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    return vol, placed


def camera(
    photons: FloatArray,
    rng: np.random.Generator,
    background: float = 10.0,
    offset_adu: float = 100.0,
    gain_adu_per_e: float = 1.0,
    read_noise_e: float = 1.5,
    full_scale: int = 65535,
) -> npt.NDArray[np.uint16]:
    """Poisson photon noise, gain, camera offset, Gaussian read noise, rounding and clipping.

    Parameters
    ----------
    photons : ndarray
        Expected signal photons per voxel.
    rng : numpy.random.Generator
        Random numbers.
    background : float
        Background photons per voxel.
    offset_adu, gain_adu_per_e, read_noise_e : float
        Camera offset (ADU), gain and read noise (electrons).
    full_scale : int
        The largest value the camera records (4095 for 12 bits); brighter pixels saturate.

    Returns
    -------
    ndarray of uint16
        The image in ADU.
    """
    e = rng.poisson(photons + background).astype(np.float64)
    adu = (e + rng.normal(0, read_noise_e, photons.shape)) * gain_adu_per_e + offset_adu
    return np.clip(np.rint(adu), 0, full_scale).astype(np.uint16)


def axial_profile(fine: FinePSF) -> tuple[FloatArray, FloatArray]:
    """The PSF's intensity on its axis through the brightest pixel, against z from the focus.

    Parameters
    ----------
    fine : FinePSF
        The PSF.

    Returns
    -------
    tuple of ndarray
        z (µm, 0 at the peak; deeper positive) and the intensity.
    """
    k, y, x = np.unravel_index(np.argmax(fine.psf), fine.psf.shape)
    z = (fine.z0_um + np.arange(fine.psf.shape[0]) * fine.dz_um - fine.focus_um).astype(np.float64)
    return z, fine.psf[:, y, x]

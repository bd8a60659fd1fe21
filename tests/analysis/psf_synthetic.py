"""Synthetic PSFs with known aberrations for the PSF tests (not collected: no ``test_`` prefix).

- :func:`through_focus_beads`: Gaussian beads whose lateral widths follow a Gaussian beam through
  focus, σ_u(z)² = σ₀²(1 + ((z − z_u)/d)²), with separate foci for two perpendicular directions
  (astigmatism, truth: z_x − z_y), a centre that moves with z (tilt, truth: µm per µm) and an
  optional broad halo (a second, wide Gaussian the single-Gaussian model cannot describe).
- :func:`scalar_psf`: a diffraction PSF from a scalar pupil with Zernike aberrations (astigmatism,
  spherical), sampled like a camera: rings, out-of-focus cone, nothing Gaussian about it.
"""

from __future__ import annotations

import math

import numpy as np

FWHM = 2.0 * math.sqrt(2.0 * math.log(2.0))


def through_focus_beads(
    separation_um: float = 0.0,
    axis_deg: float = 0.0,
    tilt: tuple[float, float] = (0.0, 0.0),
    *,
    n_side: int = 3,
    spacing_um: float = 4.0,
    voxel: tuple[float, float, float] = (0.1, 0.065, 0.065),
    nz: int = 61,
    fwhm_xy_um: float = 0.22,
    fwhm_z_um: float = 0.7,
    depth_um: float = 0.35,
    photons: float = 2e5,
    background: float = 20.0,
    halo_fraction: float = 0.0,
    halo_fwhm_um: float = 1.2,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A uint16 (Z, Y, X) stack of ``n_side²`` beads on a grid and their truth.

    The direction at ``axis_deg`` (from +x towards +y) is narrowest at z_b + separation/2, the
    perpendicular one at z_b − separation/2, so for ``axis_deg = 0`` the truth of
    ``astigmatic_separation_xy_um`` (z of the x focus minus z of the y focus) is ``separation_um``.
    The centre moves by ``tilt`` = (dx/dz, dy/dz) µm per µm. Each plane holds
    ``photons · g(z)`` photons, g the axial Gaussian of FWHM ``fwhm_z_um``; Poisson noise on a
    flat background, offset 100.
    """
    rng = np.random.default_rng(seed)
    dz, dy, dx = voxel
    margin = spacing_um
    size = int(math.ceil((2 * margin + (n_side - 1) * spacing_um) / dx))
    shape = (nz, size, size)
    s0 = fwhm_xy_um / FWHM
    sz = fwhm_z_um / FWHM
    th = math.radians(axis_deg)
    u = np.array([math.cos(th), math.sin(th)])  # (x, y)
    v = np.array([-math.sin(th), math.cos(th)])
    z = np.arange(nz) * dz
    yy, xx = np.meshgrid(np.arange(size) * dy, np.arange(size) * dx, indexing="ij")
    vol = np.zeros(shape)
    truth = {"x_um": [], "y_um": [], "z_um": []}
    zb0 = (nz - 1) * dz / 2
    for i in range(n_side):
        for j in range(n_side):
            xb = margin + j * spacing_um + rng.uniform(-0.5, 0.5) * dx
            yb = margin + i * spacing_um + rng.uniform(-0.5, 0.5) * dy
            zb = zb0 + rng.uniform(-0.5, 0.5) * dz
            for k, zk in enumerate(z):
                if abs(zk - zb) > 6 * sz:
                    continue
                su2 = s0**2 * (1 + ((zk - zb - separation_um / 2) / depth_um) ** 2)
                sv2 = s0**2 * (1 + ((zk - zb + separation_um / 2) / depth_um) ** 2)
                cov = su2 * np.outer(u, u) + sv2 * np.outer(v, v)  # (x, y)
                prec = np.linalg.inv(cov)
                X = xx - (xb + tilt[0] * (zk - zb))
                Y = yy - (yb + tilt[1] * (zk - zb))
                q = prec[0, 0] * X**2 + 2 * prec[0, 1] * X * Y + prec[1, 1] * Y**2
                n_plane = photons * math.exp(-0.5 * ((zk - zb) / sz) ** 2)
                core = np.exp(-0.5 * q) * dx * dy / (2 * math.pi * math.sqrt(np.linalg.det(cov)))
                if halo_fraction:
                    sh = halo_fwhm_um / FWHM
                    halo = np.exp(-0.5 * (X**2 + Y**2) / sh**2) * dx * dy / (2 * math.pi * sh**2)
                    core = (1 - halo_fraction) * core + halo_fraction * halo
                vol[k] += n_plane * core
            truth["x_um"].append(xb)
            truth["y_um"].append(yb)
            truth["z_um"].append(zb)
    data = rng.poisson(vol + background) + 100
    return np.clip(data, 0, 65535).astype(np.uint16), {k: np.array(val) for k, val in truth.items()}


def scalar_psf(
    *,
    na: float,
    n: float,
    wavelength_um: float,
    voxel: tuple[float, float, float],
    nz: int,
    size: int = 128,
    astigmatism_waves: float = 0.0,
    spherical_waves: float = 0.0,
) -> np.ndarray:
    """Noise-free (Z, Y, X) scalar widefield PSF, peak-normalised, centred at (nz // 2, size // 2, size // 2).

    The pupil is a disc of radius NA/λ in spatial frequency; each plane is |FT(P·exp(i2π(W + z·k_z)))|²
    with k_z = √((n/λ)² − k²) and W the Zernike aberrations in waves (RMS-normalised: astigmatism
    √6·ρ²·cos 2θ, spherical √5·(6ρ⁴ − 6ρ² + 1)). With astigmatism a, geometrical optics puts the two
    line foci 2·√6·a·λ/(n − √(n² − NA²)) apart.
    """
    dz, _, dx = voxel
    f = np.fft.fftfreq(size, d=dx)
    kx, ky = np.meshgrid(f, f)
    kr = np.hypot(kx, ky)
    rho = kr / (na / wavelength_um)
    theta = np.arctan2(ky, kx)
    pupil = (rho <= 1).astype(complex)
    kz = np.sqrt(np.clip((n / wavelength_um) ** 2 - kr**2, 0, None))
    w = astigmatism_waves * math.sqrt(6) * rho**2 * np.cos(2 * theta) + spherical_waves * math.sqrt(5) * (
        6 * rho**4 - 6 * rho**2 + 1
    )
    planes = []
    for zk in (np.arange(nz) - nz // 2) * dz:
        field = np.fft.fftshift(np.fft.ifft2(pupil * np.exp(2j * np.pi * (w + zk * kz))))
        planes.append(np.abs(field) ** 2)
    psf = np.array(planes)
    return psf / psf.max()


def camera(psf: np.ndarray, peak_photons: float, background: float = 20.0, seed: int = 0) -> np.ndarray:
    """Poisson-noisy uint16 image of a peak-normalised PSF (offset 100)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.poisson(psf * peak_photons + background) + 100, 0, 65535).astype(np.uint16)

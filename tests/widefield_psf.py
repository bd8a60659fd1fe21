"""A realistic widefield PSF for tests: out-of-focus cone, rings and all (scalar Debye integral).

I(r, z) = |∫₀^α √cos θ · J₀(k n r sin θ) · exp(i k n z cos θ) · sin θ dθ|², α = asin(NA/n), k = 2π/λ.
Far from focus its light spreads over a disk of radius ≈ |z|·tan α with a bright rim: the
"halo" that makes a naive detector fire around a bright bead.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def widefield_psf(
    shape: tuple[int, int, int],
    voxel_um: tuple[float, float, float],
    centre: tuple[float, float, float],
    na: float = 1.4,
    n: float = 1.515,
    wavelength_um: float = 0.52,
    n_theta: int = 400,
) -> np.ndarray:
    """The PSF of a point at ``centre`` (z, y, x voxels) sampled at voxel centres, 1 at its focus."""
    nz, ny, nx = shape
    dz, dy, dx = voxel_um
    alpha = np.arcsin(na / n)
    theta = (np.arange(n_theta) + 0.5) * alpha / n_theta
    k = 2 * np.pi * n / wavelength_um
    z = (np.arange(nz) - centre[0]) * dz
    yy, xx = np.mgrid[0:ny, 0:nx]
    rr = np.hypot((yy - centre[1]) * dy, (xx - centre[2]) * dx)
    r = np.linspace(0, rr.max() + dx, int((rr.max() + dx) / (dx / 8)) + 2)
    weight = np.sqrt(np.cos(theta)) * np.sin(theta)
    bessel = special.j0(k * np.outer(r, np.sin(theta)))  # (R, T)
    phase = np.exp(1j * k * np.outer(z, np.cos(theta)))  # (Z, T)
    intensity = np.abs(np.einsum("rt,zt,t->zr", bessel, phase, weight)) ** 2
    peak = np.abs(weight.sum()) ** 2  # r = 0, z = 0
    out = np.empty(shape)
    for iz in range(nz):
        out[iz] = np.interp(rr, r, intensity[iz] / peak)
    return out

"""Bead stacks with known aberrations for the diagnosis tests.

``zernike_stack``: a scalar pupil with Zernike aberrations (Noll-normalised: a coefficient is the
RMS wavefront error in waves) → widefield PSF by FFT, with the non-paraxial defocus phase
2π z √((n/λ)² − k²). ``gibson_lanni_stack``: the vectorial Gibson–Lanni PSF of psfmodels. Both
place beads at sub-pixel positions on a grid, add a background and Poisson noise.
"""

from __future__ import annotations

import numpy as np

#: Noll-normalised Zernike polynomials used by the tests, by name
ZERNIKE = {
    "astig_oblique": lambda r, t: np.sqrt(6) * r**2 * np.sin(2 * t),  # Z5
    "astig_vertical": lambda r, t: np.sqrt(6) * r**2 * np.cos(2 * t),  # Z6
    "coma_vertical": lambda r, t: np.sqrt(8) * (3 * r**3 - 2 * r) * np.sin(t),  # Z7 (along y)
    "coma_horizontal": lambda r, t: np.sqrt(8) * (3 * r**3 - 2 * r) * np.cos(t),  # Z8 (along x)
    "spherical": lambda r, t: np.sqrt(5) * (6 * r**4 - 6 * r**2 + 1),  # Z11
}


def _grid_positions(shape_yx, n_beads, margin_px, rng):
    ny, nx = shape_yx
    k = int(np.ceil(np.sqrt(n_beads)))
    ys = np.linspace(margin_px, ny - 1 - margin_px, k)
    xs = np.linspace(margin_px, nx - 1 - margin_px, k)
    pts = np.array([(y, x) for y in ys for x in xs])[:n_beads]
    return pts + rng.uniform(-0.5, 0.5, pts.shape)


def zernike_stack(
    zernike: dict[str, float],
    *,
    na=1.4,
    n=1.518,
    wavelength_um=0.52,
    voxel=(0.1, 0.065, 0.065),
    shape=(61, 320, 320),
    n_beads=9,
    photons=30000.0,
    background=20.0,
    seed=0,
    pupil_n=128,
):
    """A widefield bead stack with the given Zernike coefficients (waves RMS); returns (uint16 stack, truth)."""
    rng = np.random.default_rng(seed)
    dz, dy, dx = voxel
    nz, ny, nx = shape
    # pupil sampled on the FFT grid of a pupil_n × pupil_n patch at the image pixel
    f = np.fft.fftfreq(pupil_n, d=dx)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    fr = np.hypot(fx, fy)
    cutoff = na / wavelength_um
    inside = fr <= cutoff
    rho = np.where(inside, fr / cutoff, 0)
    theta = np.arctan2(fy, fx)
    w = sum(c * ZERNIKE[name](rho, theta) for name, c in zernike.items()) if zernike else 0 * rho
    kz = np.sqrt(np.clip((n / wavelength_um) ** 2 - fr**2, 0, None))
    pupil = inside * np.exp(2j * np.pi * w)
    z = (np.arange(nz) - (nz - 1) / 2) * dz
    img = np.full(shape, float(background))
    pts = _grid_positions((ny, nx), n_beads, pupil_n // 2 + 2, rng)
    z0 = rng.uniform(-0.5, 0.5, len(pts)) * dz
    ref = np.abs(np.fft.ifft2(inside.astype(complex))) ** 2
    norm = photons / ref.sum()
    h = pupil_n // 2
    for (py, px), zc in zip(pts, z0, strict=True):
        iy, ix = int(round(py)), int(round(px))
        sy, sx = py - iy, px - ix
        shift = np.exp(-2j * np.pi * (fy * sy * dy + fx * sx * dx))
        for k, zk in enumerate(z):
            field = np.fft.ifft2(pupil * shift * np.exp(2j * np.pi * kz * (zk - zc)))
            psf = np.fft.fftshift(np.abs(field) ** 2) * norm
            img[k, iy - h : iy + h, ix - h : ix + h] += psf
    data = rng.poisson(img).astype(np.uint16)
    truth = {"y_px": pts[:, 0], "x_px": pts[:, 1], "z_px": (nz - 1) / 2 + z0 / dz}
    return data, truth


def gibson_lanni_stack(
    *,
    na=1.4,
    n=1.515,
    wavelength_um=0.52,
    voxel=(0.1, 0.065, 0.065),
    shape=(61, 160, 160),
    n_beads=9,
    immersion_error=0.0,
    coverslip_error_um=0.0,
    photons=30000.0,
    background=20.0,
    seed=0,
    nx=41,
):
    """A widefield bead stack from psfmodels' vectorial Gibson–Lanni PSF; returns (uint16 stack, truth)."""
    import psfmodels

    rng = np.random.default_rng(seed)
    dz, dy, dx = voxel
    nz, ny, nx_img = shape
    params = dict(
        NA=na, ni=n + immersion_error, ni0=n, ns=n, ng=1.515, ng0=1.515, tg=170 + coverslip_error_um
    )
    # where the aberrated focus lies along psfmodels' z: centre the stack on it
    wide = np.linspace(-8, 8, 641)
    on_axis = psfmodels.vectorial_psf(
        wide, nx=1, dxy=dx, pz=0, wvl=wavelength_um, params=params, normalize=False
    )
    focus = wide[np.argmax(on_axis[:, 0, 0])]
    ref = psfmodels.vectorial_psf(
        [0.0], nx=nx, dxy=dx, pz=0, wvl=wavelength_um, params={**params, "ni": n, "tg": 170}, normalize=False
    )
    norm = photons / ref.sum()
    img = np.full(shape, float(background))
    h = nx // 2
    pts = np.rint(_grid_positions((ny, nx_img), n_beads, h + 2, rng)).astype(int)
    for py, px in pts:
        zc = rng.uniform(-0.5, 0.5) * dz
        z = focus + (np.arange(nz) - (nz - 1) / 2) * dz - zc
        psf = psfmodels.vectorial_psf(
            z, nx=nx, dxy=dx, pz=0, wvl=wavelength_um, params=params, normalize=False
        )
        img[:, py - h : py + h + 1, px - h : px + h + 1] += psf * norm
    return rng.poisson(img).astype(np.uint16), {"y_px": pts[:, 0], "x_px": pts[:, 1]}

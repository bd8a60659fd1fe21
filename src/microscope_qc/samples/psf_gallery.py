"""The PSF gallery: bead z-stacks of good and faulty objectives from a vectorial model, with truth.

Each sample renders one PSF per aberration state (:mod:`.psf_render`), blurs it with the bead,
places the beads at sub-pixel positions (pixel-integrated), adds background, Poisson noise,
camera offset and read noise. Its truth holds the optical parameters, the fault codes built in,
the numbers a diagnosis should recover (measured on the noise-free model) and one row per bead.

Axes: z is the stage's axis, increasing deeper into the sample (away from the coverslip).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.samples.beads import LayerDataTuple
from microscope_qc.samples.psf_render import (
    FinePSF,
    Optics,
    axial_profile,
    bead_blur,
    camera,
    gibson_lanni_psf,
    place_beads,
    pupil_psf,
)

__all__ = [
    "GalleryBeadSample",
    "GalleryBeadSpec",
    "make_gallery_beads",
    "half_widths",
    "line_foci",
    "centre_path",
    "psf_gallery_layers",
]


@dataclass(frozen=True)
class GalleryBeadSpec:
    """One PSF gallery sample: the optics, the aberration and the acquisition; lengths in µm."""

    optics: Optics = Optics()
    renderer: str = "gibson-lanni"  # or "pupil"
    zernike_waves: tuple[tuple[int, int, float], ...] = ()  # (n, m, amplitude in waves RMS)
    screen_waves: float = 0.0  # random pupil phase (a dirty front lens), waves RMS
    shape: tuple[int, int, int] = (48, 256, 256)
    voxel_size_um: tuple[float, float, float] = (0.15, 0.065, 0.065)
    n_beads: int = 16
    bead_diameter_um: float = 0.1
    photons: float = 20000.0  # per bead, in its focal plane
    photons_spread: float = 0.0  # beads' brightness varies by ± this fraction
    tilt_um_per_um: tuple[float, float] = (0.0, 0.0)  # focal surface slope along (y, x)
    curvature_um: float = 0.0  # focal surface at the field corner, relative to the centre
    background_photons: float = 10.0
    offset_adu: float = 100.0
    read_noise_e: float = 1.5
    full_scale: int = 65535
    immersion: str = "oil"
    seed: int = 0


@dataclass
class GalleryBeadSample:
    """A gallery bead stack (Z, Y, X) in ADU, its truth (JSON-ready) and its bead table."""

    data: npt.NDArray[np.uint16]
    truth: dict[str, Any]
    beads: pd.DataFrame
    spec: GalleryBeadSpec
    fine: FinePSF = field(repr=False)

    @property
    def metadata(self) -> dict[str, Any]:
        """The acquisition settings, as written into the OME-TIFF and the napari layer."""
        s, o = self.spec, self.spec.optics
        return {
            "voxel_size_um": s.voxel_size_um,
            "na": o.na,
            "immersion": s.immersion,
            "immersion_index": o.ni0,
            "wavelength_ex_nm": [488.0],
            "wavelength_em_nm": [round(1000 * o.wavelength_um, 3)],
            "modality": "widefield",
            "bead_diameter_um": s.bead_diameter_um,
        }


def _render(spec: GalleryBeadSpec) -> FinePSF:
    dz, dy, _ = spec.voxel_size_um
    if spec.renderer == "gibson-lanni":
        fine = gibson_lanni_psf(spec.optics, dy, dz)
    else:
        phase = {(n, m): a for n, m, a in spec.zernike_waves}
        fine = pupil_psf(spec.optics, dy, dz, phase, spec.screen_waves, seed=spec.seed + 7)
    return bead_blur(fine, spec.bead_diameter_um)


def _positions(spec: GalleryBeadSpec, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """(N, 3) nominal bead positions (z, y, x) in µm: a jittered grid over the field, on the focal surface."""
    nz, h, w = spec.shape
    dz, dy, dx = spec.voxel_size_um
    k = int(math.ceil(math.sqrt(spec.n_beads)))
    margin = 2.5
    ys = np.linspace(margin, (h - 1) * dy - margin, k)
    xs = np.linspace(margin, (w - 1) * dx - margin, k)
    grid = np.array([(y, x) for y in ys for x in xs])
    grid = grid[rng.permutation(len(grid))[: spec.n_beads]]
    step = min(ys[1] - ys[0], xs[1] - xs[0]) if k > 1 else 1.0
    yx = grid + rng.uniform(-0.2, 0.2, grid.shape) * step
    cy, cx = (h - 1) * dy / 2, (w - 1) * dx / 2
    r2 = ((yx[:, 0] - cy) ** 2 + (yx[:, 1] - cx) ** 2) / (cy**2 + cx**2)
    z = (
        (nz - 1) * dz / 2
        + spec.tilt_um_per_um[0] * (yx[:, 0] - cy)
        + spec.tilt_um_per_um[1] * (yx[:, 1] - cx)
        + spec.curvature_um * r2
        + rng.uniform(-0.5, 0.5, len(yx)) * dz
    )
    return np.column_stack([z, yx])


def half_widths(z: npt.NDArray[np.float64], a: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Half-widths at half maximum of a peaked profile on each side of its peak (linear interpolation).

    Parameters
    ----------
    z, a : ndarray
        Positions (increasing) and values.

    Returns
    -------
    tuple of float
        (towards smaller z, towards larger z), both positive.
    """
    a = a / a.max()
    i = int(np.argmax(a))
    lo = i
    while lo > 0 and a[lo] > 0.5:
        lo -= 1
    hi = i
    while hi < len(a) - 1 and a[hi] > 0.5:
        hi += 1
    z_lo = z[lo] + (0.5 - a[lo]) / (a[lo + 1] - a[lo]) * (z[lo + 1] - z[lo])
    z_hi = z[hi - 1] + (0.5 - a[hi - 1]) / (a[hi] - a[hi - 1]) * (z[hi] - z[hi - 1])
    return float(z[i] - z_lo), float(z_hi - z[i])


def _model_numbers(fine: FinePSF) -> dict[str, float]:
    """FWHM and axial asymmetry of the (bead-blurred, noise-free) model PSF."""
    k, y, x = np.unravel_index(np.argmax(fine.psf), fine.psf.shape)
    n = fine.psf.shape[2]
    lat = ((np.arange(n) - x) * fine.dxy_um).astype(np.float64)
    wx = math.fsum(half_widths(lat, fine.psf[k, y, :]))
    wy = math.fsum(half_widths(lat, fine.psf[k, :, x]))
    z, a = axial_profile(fine)
    shallow, deep = half_widths(z, a)
    return {
        "fwhm_x_um": round(wx, 4),
        "fwhm_y_um": round(wy, 4),
        "fwhm_z_um": round(shallow + deep, 4),
        "hwhm_z_shallow_um": round(shallow, 4),
        "hwhm_z_deep_um": round(deep, 4),
        # (deep − shallow) / (deep + shallow): negative when the long tail points to the coverslip
        "axial_asymmetry": round((deep - shallow) / (deep + shallow), 4),
    }


def _windowed_moments(
    plane: npt.NDArray[np.float64], dxy: float, sigma_um: float = 0.35
) -> tuple[float, ...]:
    """Centre (y, x) and covariance (yy, xy, xx) of a plane under a Gaussian window at its centroid."""
    ny, nx = plane.shape
    yy, xx = np.indices(plane.shape, dtype=np.float64)
    yy, xx = (yy - (ny - 1) / 2) * dxy, (xx - (nx - 1) / 2) * dxy
    cy = cx = 0.0
    for _ in range(5):
        w = plane * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma_um**2))
        s = w.sum()
        cy, cx = float((w * yy).sum() / s), float((w * xx).sum() / s)
    vyy = float((w * (yy - cy) ** 2).sum() / s)
    vxx = float((w * (xx - cx) ** 2).sum() / s)
    vxy = float((w * (yy - cy) * (xx - cx)).sum() / s)
    return cy, cx, vyy, vxy, vxx


def line_foci(fine: FinePSF, angle_deg: float) -> tuple[float, float]:
    """Depths (relative to the brightest plane) where the PSF is narrowest along ``angle_deg`` and across it.

    Parameters
    ----------
    fine : FinePSF
        The PSF.
    angle_deg : float
        Direction from +x towards +y.

    Returns
    -------
    tuple of float
        (z narrowest along the direction, z narrowest across it), µm.
    """
    th = math.radians(angle_deg)
    u = np.array([math.sin(th), math.cos(th)])  # (y, x)
    v = np.array([math.cos(th), -math.sin(th)])
    z = fine.z0_um + np.arange(fine.psf.shape[0]) * fine.dz_um - fine.focus_um
    near = np.abs(z) <= 1.5
    su, sv = [], []
    for plane in fine.psf[near]:
        _, _, vyy, vxy, vxx = _windowed_moments(plane, fine.dxy_um)
        cov = np.array([[vyy, vxy], [vxy, vxx]])
        su.append(u @ cov @ u)
        sv.append(v @ cov @ v)
    zn = z[near]
    return _vertex(zn, np.array(su)), _vertex(zn, np.array(sv))


def _vertex(z: npt.NDArray[np.float64], s: npt.NDArray[np.float64]) -> float:
    i = int(np.clip(np.argmin(s), 1, len(s) - 2))
    c = np.polyfit(z[i - 1 : i + 2], s[i - 1 : i + 2], 2)
    return float(-c[1] / (2 * c[0]))


def centre_path(fine: FinePSF, dz_um: float = 0.5) -> tuple[float, float, float]:
    """Lateral (x) shift of the PSF centre at −dz, 0, +dz from focus, relative to the centre in focus.

    Parameters
    ----------
    fine : FinePSF
        The PSF.
    dz_um : float
        Distance from focus.

    Returns
    -------
    tuple of float
        x-shifts (µm) above, at and below focus.
    """
    z = fine.z0_um + np.arange(fine.psf.shape[0]) * fine.dz_um - fine.focus_um
    out = []
    for target in (-dz_um, 0.0, dz_um):
        k = int(np.argmin(np.abs(z - target)))
        out.append(_windowed_moments(fine.psf[k], fine.dxy_um)[1])
    return out[0] - out[1], 0.0, out[2] - out[1]


def make_gallery_beads(
    spec: GalleryBeadSpec, extra_truth: dict[str, Any] | None = None, fine: FinePSF | None = None
) -> GalleryBeadSample:
    """Render a gallery bead stack and its truth.

    Parameters
    ----------
    spec : GalleryBeadSpec
        Optics, aberration, acquisition and noise.
    extra_truth : dict, optional
        Sample-specific truth merged in (fault parameters, the numbers to recover).
    fine : FinePSF, optional
        The PSF already rendered for ``spec`` (point source; the bead blur is applied here).

    Returns
    -------
    GalleryBeadSample
        The stack, its truth and its bead table.
    """
    rng = np.random.default_rng(spec.seed)
    fine = _render(spec) if fine is None else bead_blur(fine, spec.bead_diameter_um)
    zyx = _positions(spec, rng)
    zyx[:, 0] -= fine.focus_um  # the beads' intensity peaks (not their nominal focus) on the focal surface
    photons = spec.photons * (1 + spec.photons_spread * rng.uniform(-1, 1, len(zyx)))
    expected, placed = place_beads(fine, spec.shape, spec.voxel_size_um, zyx, photons)
    data = camera(
        expected,
        rng,
        background=spec.background_photons,
        offset_adu=spec.offset_adu,
        read_noise_e=spec.read_noise_e,
        full_scale=spec.full_scale,
    )
    dz, dy, dx = spec.voxel_size_um
    beads = pd.DataFrame(
        {
            "z_um": placed[:, 0],
            "y_um": placed[:, 1],
            "x_um": placed[:, 2],
            "z_px": placed[:, 0] / dz,
            "y_px": placed[:, 1] / dy,
            "x_px": placed[:, 2] / dx,
            "photons": photons,
        }
    )
    o = spec.optics
    truth: dict[str, Any] = {
        "model": "vectorial Gibson–Lanni (psfmodels)"
        if spec.renderer == "gibson-lanni"
        else "vectorial pupil (Richards–Wolf) with Zernike phase",
        "optics": asdict(o),
        "voxel_size_um": list(spec.voxel_size_um),
        "bead_diameter_um": spec.bead_diameter_um,
        "zernike_waves_rms": [{"n": n, "m": m, "waves": a} for n, m, a in spec.zernike_waves],
        "focal_shift_um": round(fine.focus_um, 4),
        "model_psf": _model_numbers(fine),
        "tilt_um_per_um": list(spec.tilt_um_per_um),
        "curvature_um": spec.curvature_um,
        "camera": {
            "offset_adu": spec.offset_adu,
            "read_noise_e": spec.read_noise_e,
            "gain_adu_per_e": 1.0,
            "full_scale_adu": spec.full_scale,
            "background_photons": spec.background_photons,
        },
        "saturated_pixels": int(np.count_nonzero(data >= spec.full_scale)),
        **(extra_truth or {}),
        "beads": beads.round(5).to_dict("records"),
    }
    return GalleryBeadSample(data, truth, beads, spec, fine)


def psf_gallery_layers(sample: GalleryBeadSample, name: str) -> list[LayerDataTuple]:
    """The napari layer of a gallery bead stack: its scale, acquisition settings and truth.

    Parameters
    ----------
    sample : GalleryBeadSample
        The sample.
    name : str
        The layer name.

    Returns
    -------
    list of LayerDataTuple
        One image layer.
    """
    md = dict(sample.metadata)
    md.pop("immersion")
    meta = {
        "microscope_qc": {"settings": md, "source": f"synthetic sample '{name}'"},
        "truth": sample.truth,
    }
    kwargs: dict[str, Any] = {
        "name": name,
        "scale": sample.spec.voxel_size_um,
        "metadata": meta,
        "colormap": "gray",
    }
    return [(sample.data, kwargs, "image")]

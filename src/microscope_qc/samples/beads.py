"""Synthetic bead z-stacks with known PSF (optionally aberrated), for tests, teaching and napari samples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.instrument import FWHM_PER_SIGMA

#: A napari layer-data tuple: (data, layer keyword arguments, layer type).
LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]


class BeadMetadata(TypedDict):
    """The acquisition settings of a synthetic bead stack, as written into its metadata."""

    voxel_size_um: tuple[float, float, float]
    na: float
    immersion_index: float
    wavelength_ex_nm: list[float | None]
    wavelength_em_nm: list[float | None]
    modality: str
    bead_diameter_um: float


@dataclass(frozen=True)
class BeadSampleSpec:
    """Everything that defines a synthetic bead stack; lengths in µm, wavelengths in nm."""

    shape: tuple[int, int, int] = (48, 320, 320)
    voxel_size_um: tuple[float, float, float] = (0.15, 0.065, 0.065)
    n_beads: int = 24
    fwhm_xy_um: float = 0.22
    fwhm_z_um: float = 0.65
    astigmatism: float = 1.0  # FWHM ratio of the major to the minor lateral axis
    rotation_deg: float = 0.0  # major-axis angle from +x towards +y
    tilt_um_per_um: tuple[float, float] = (0.0, 0.0)  # focal plane slope along (y, x)
    curvature_um: float = 0.0  # focal shift at the field corner from field curvature
    photons: float = 20000.0  # total photons per bead
    background_photons: float = 10.0  # per voxel, at the field centre
    background_gradient: float = 0.0  # relative background increase across x
    read_noise_e: float = 1.5
    gain_adu_per_e: float = 1.0
    offset_adu: float = 100.0
    hot_pixels: int = 5
    min_separation_um: float = 3.0
    margin_um: float = 1.5
    z_margin_um: float = 2.5
    seed: int = 0
    # acquisition settings written into the metadata
    na: float = 1.4
    immersion_index: float = 1.518
    wavelength_ex_nm: float = 488.0
    wavelength_em_nm: float = 520.0
    modality: str = "widefield"
    bead_diameter_um: float = 0.1


@dataclass
class BeadSample:
    """A synthetic stack (Z, Y, X) and its truth table (one row per bead, µm and pixels)."""

    data: npt.NDArray[np.uint16]
    truth: pd.DataFrame
    spec: BeadSampleSpec

    @property
    def metadata(self) -> BeadMetadata:
        """The acquisition settings of the stack (voxel size, NA, wavelengths, modality, ...)."""
        s = self.spec
        return {
            "voxel_size_um": s.voxel_size_um,
            "na": s.na,
            "immersion_index": s.immersion_index,
            "wavelength_ex_nm": [s.wavelength_ex_nm],
            "wavelength_em_nm": [s.wavelength_em_nm],
            "modality": s.modality,
            "bead_diameter_um": s.bead_diameter_um,
        }


def _positions(spec: BeadSampleSpec, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Lateral bead positions (µm) with a minimum separation (dart throwing, vectorised per batch)."""
    _, h, w = spec.shape
    dz, dy, dx = spec.voxel_size_um
    lo = np.array([spec.margin_um, spec.margin_um])
    hi = np.array([(h - 1) * dy - spec.margin_um, (w - 1) * dx - spec.margin_um])
    if np.any(hi <= lo):
        raise ValueError("Image too small for the requested margin.")
    pts = np.empty((0, 2))
    for _ in range(200):
        cand = rng.uniform(lo, hi, size=(max(4 * spec.n_beads, 64), 2))
        for c in cand:
            if pts.shape[0] >= spec.n_beads:
                break
            if pts.shape[0] == 0 or np.min(np.hypot(*(pts - c).T)) >= spec.min_separation_um:
                pts = np.vstack([pts, c])
        if pts.shape[0] >= spec.n_beads:
            break
    if pts.shape[0] < spec.n_beads:
        raise ValueError(
            f"Could place only {pts.shape[0]} of {spec.n_beads} beads {spec.min_separation_um} µm apart; "
            "use a larger image or fewer beads."
        )
    return pts


def make_bead_stack(
    spec: BeadSampleSpec = BeadSampleSpec(),
    positions_um: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
) -> BeadSample:
    """Render a synthetic bead stack with known truth.

    Parameters
    ----------
    spec : BeadSampleSpec
        The stack's shape, voxel size, PSF, noise and acquisition settings.
    positions_um : tuple of ndarray, optional
        ((N, 2) lateral (y, x), (N,) axial) positions in µm: places the beads exactly
        (multicolour samples render the same beads, transformed, in every channel). If None,
        positions are drawn at random with the spec's separation, tilt and curvature.

    Returns
    -------
    BeadSample
        ``data`` is uint16 (Z, Y, X) in ADU; ``truth`` has per bead ``z_px, y_px, x_px``
        (float voxel indices), ``x_um, y_um, z_um``, ``fwhm_x_um, fwhm_y_um, fwhm_z_um`` (along
        the image axes), ``fwhm_major_um, fwhm_minor_um, theta_deg`` and ``photons``.

    Raises
    ------
    ValueError
        If the beads do not fit: the image is too small for the margin or separation, or the
        tilt and curvature move beads outside the stack.
    """
    rng = np.random.default_rng(spec.seed)
    nz, h, w = spec.shape
    dz, dy, dx = spec.voxel_size_um
    if positions_um is not None:
        yx, z_um = np.asarray(positions_um[0], dtype=float), np.asarray(positions_um[1], dtype=float)
    else:
        yx = _positions(spec, rng)
        cy, cx = (h - 1) * dy / 2, (w - 1) * dx / 2
        zc = (nz - 1) * dz / 2
        # focal surface: tilt plus paraboloid (curvature), sub-voxel random jitter of the bead depth
        r2 = ((yx[:, 0] - cy) ** 2 + (yx[:, 1] - cx) ** 2) / (cy**2 + cx**2)
        z_um = (
            zc
            + spec.tilt_um_per_um[0] * (yx[:, 0] - cy)
            + spec.tilt_um_per_um[1] * (yx[:, 1] - cx)
            + spec.curvature_um * r2
            + rng.uniform(-0.5, 0.5, len(yx)) * dz
        )
    if np.any(z_um < spec.z_margin_um) or np.any(z_um > (nz - 1) * dz - spec.z_margin_um):
        raise ValueError("Tilt/curvature move beads outside the stack; use more planes or less tilt.")
    s_major = spec.fwhm_xy_um * math.sqrt(spec.astigmatism) / FWHM_PER_SIGMA
    s_minor = spec.fwhm_xy_um / math.sqrt(spec.astigmatism) / FWHM_PER_SIGMA
    s_z = spec.fwhm_z_um / FWHM_PER_SIGMA
    th = math.radians(spec.rotation_deg)
    rot = np.array(
        [[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]]
    )  # columns: major, minor (x, y)
    cov_xy = rot @ np.diag([s_major**2, s_minor**2]) @ rot.T  # in (x, y)
    prec_xy = np.linalg.inv(cov_xy)
    # bead volume: A·exp(...) summing to `photons` over a fine grid
    amp = spec.photons * dx * dy * dz / ((2 * math.pi) ** 1.5 * s_major * s_minor * s_z)
    vol = np.zeros(spec.shape, dtype=np.float32)
    half = (
        int(math.ceil(5 * s_z / dz)),
        int(math.ceil(5 * max(s_major, s_minor) / dy)),
        int(math.ceil(5 * max(s_major, s_minor) / dx)),
    )
    oz, oy, ox = (np.arange(-k, k + 1) for k in half)
    for (y_um, x_um), zu in zip(yx, z_um, strict=True):
        iz, iy, ix = round(zu / dz), round(y_um / dy), round(x_um / dx)
        zs, ys, xs = iz + oz, iy + oy, ix + ox
        kz = (zs >= 0) & (zs < nz)
        ky = (ys >= 0) & (ys < h)
        kx = (xs >= 0) & (xs < w)
        Z = (zs[kz] * dz - zu)[:, None, None]
        Y = (ys[ky] * dy - y_um)[None, :, None]
        X = (xs[kx] * dx - x_um)[None, None, :]
        q = prec_xy[0, 0] * X**2 + 2 * prec_xy[0, 1] * X * Y + prec_xy[1, 1] * Y**2
        block = amp * np.exp(-0.5 * (q + Z**2 / s_z**2))
        vol[np.ix_(zs[kz], ys[ky], xs[kx])] += block.astype(np.float32)
    bg = (
        spec.background_photons
        * (1 + spec.background_gradient * (np.arange(w) / max(w - 1, 1)))[None, None, :]
    )
    electrons = rng.poisson(vol + bg.astype(np.float32)).astype(np.float32)
    adu = (
        electrons * spec.gain_adu_per_e
        + spec.offset_adu
        + rng.normal(0, spec.read_noise_e, spec.shape).astype(np.float32) * spec.gain_adu_per_e
    )
    if spec.hot_pixels:
        hz, hy, hx = (rng.integers(0, n, spec.hot_pixels) for n in spec.shape)
        adu[hz, hy, hx] = adu.max() * 0.9
    data = np.clip(np.rint(adu), 0, 65535).astype(np.uint16)
    fwhm_x = FWHM_PER_SIGMA * math.sqrt(cov_xy[0, 0])
    fwhm_y = FWHM_PER_SIGMA * math.sqrt(cov_xy[1, 1])
    truth = pd.DataFrame(
        {
            "z_px": z_um / dz,
            "y_px": yx[:, 0] / dy,
            "x_px": yx[:, 1] / dx,
            "z_um": z_um,
            "y_um": yx[:, 0],
            "x_um": yx[:, 1],
            "fwhm_x_um": fwhm_x,
            "fwhm_y_um": fwhm_y,
            "fwhm_z_um": spec.fwhm_z_um,
            "fwhm_major_um": FWHM_PER_SIGMA * s_major,
            "fwhm_minor_um": FWHM_PER_SIGMA * s_minor,
            "theta_deg": spec.rotation_deg,
            "photons": spec.photons,
        }
    )
    return BeadSample(data=data, truth=truth, spec=spec)


def psf_beads_sample(seed: int = 0) -> BeadSample:
    """Build the standard teaching sample: 24 beads, NA 1.4 oil, 65 nm pixels, clean PSF.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    BeadSample
        The sample with its truth.
    """
    return make_bead_stack(BeadSampleSpec(seed=seed))


def psf_aberrated_sample(seed: int = 1) -> BeadSample:
    """Build a faulty instrument: tilted focal plane and field curvature, with elliptical (1.4:1 at 30°) spots.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    BeadSample
        The sample with its truth.
    """
    return make_bead_stack(
        BeadSampleSpec(
            seed=seed,
            astigmatism=1.4,
            rotation_deg=30.0,
            tilt_um_per_um=(0.01, 0.02),
            curvature_um=0.6,
            background_gradient=0.5,
        )
    )


def _layer_data(sample: BeadSample, name: str) -> list[LayerDataTuple]:
    meta = {
        "microscope_qc": {"settings": sample.metadata, "source": f"synthetic sample '{name}'"},
        "truth": sample.truth,
    }
    kwargs: dict[str, Any] = {
        "name": name,
        "scale": sample.spec.voxel_size_um,
        "metadata": meta,
        "colormap": "gray",
    }
    return [(sample.data, kwargs, "image")]


def napari_psf_beads() -> list[LayerDataTuple]:
    """The napari sample: synthetic beads with known truth (File ▸ Open Sample)."""
    return _layer_data(psf_beads_sample(), "synthetic beads")


def napari_psf_aberrated() -> list[LayerDataTuple]:
    """The napari sample: elliptical beads on a tilted, curved focal surface (File ▸ Open Sample)."""
    return _layer_data(psf_aberrated_sample(), "synthetic beads (aberrated)")

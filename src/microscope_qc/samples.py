"""Synthetic data with known ground truth, for tests, teaching and napari's File ▸ Open Sample.

Beads are rendered as 3D Gaussians sampled at voxel centres (the same model the fits use,
so the truth is exact), optionally elliptical and rotated (astigmatism), on a tilted and
curved focal surface, with a smooth uneven background, Poisson shot noise, camera gain,
offset and Gaussian read noise, and a few hot pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.instrument import FWHM_PER_SIGMA

__all__ = [
    "BeadSampleSpec",
    "BeadSample",
    "make_bead_stack",
    "psf_beads_sample",
    "psf_aberrated_sample",
    "napari_psf_beads",
    "napari_psf_aberrated",
    "FlatSampleSpec",
    "FlatSample",
    "make_flat_field",
    "flat_field_sample",
    "flat_field_misaligned_sample",
    "napari_flat_field",
    "napari_flat_field_misaligned",
    "ChannelTransform",
    "MulticolourSample",
    "make_multicolour_beads",
    "coregistration_sample",
    "transform_points",
    "napari_coregistration",
    "BeadMetadata",
    "LayerDataTuple",
]

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
    """Build an aberrated instrument: astigmatic (1.4:1 at 30°), tilted focal plane and field curvature.

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
    """The napari sample: astigmatic beads on a tilted, curved focal surface (File ▸ Open Sample)."""
    return _layer_data(psf_aberrated_sample(), "synthetic beads (aberrated)")


# ------------------------------------------------------------------------------------ flat fields


@dataclass(frozen=True)
class FlatSampleSpec:
    """A synthetic image of a fluorescent slide: off-centre Gaussian illumination, dust, noise."""

    shape: tuple[int, int] = (512, 512)
    centre_yx: tuple[float, float] = (280.0, 230.0)  # illumination centre, pixels
    sigma_yx: tuple[float, float] = (420.0, 420.0)  # illumination σ, pixels
    peak_photons: float = 3000.0
    dark_adu: float = 0.0  # camera offset added to every pixel (subtract a dark image to remove it)
    dust_specks: int = 6
    dust_depth: float = 0.3  # fractional intensity drop at a speck's centre
    gain_adu_per_e: float = 1.0
    read_noise_e: float = 2.0
    seed: int = 0
    dtype: str = "uint16"


@dataclass
class FlatSample:
    """A synthetic flat-field image, its dark image (if any) and its true illumination."""

    data: npt.NDArray[np.integer[Any]]
    dark: npt.NDArray[np.integer[Any]] | None
    illumination: npt.NDArray[np.float64]  # noiseless, dust-free illumination (photons)
    spec: FlatSampleSpec
    dust: list[tuple[float, float, float]] = field(default_factory=list)  # (y, x, radius) of each speck

    @property
    def truth(self) -> dict[str, float]:
        """The true illumination centre (pixels) and mean corner fall-off (percent)."""
        s = self.spec
        h, w = s.shape
        peak = float(
            self.illumination[
                int(np.clip(round(s.centre_yx[0]), 0, h - 1)), int(np.clip(round(s.centre_yx[1]), 0, w - 1))
            ]
        )
        peak = max(peak, float(_gauss2(np.array([[s.centre_yx[0]]]), np.array([[s.centre_yx[1]]]), s)[0, 0]))
        corners = [self.illumination[p] for p in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1))]
        return {
            "centre_y_px": s.centre_yx[0],
            "centre_x_px": s.centre_yx[1],
            "corner_falloff_percent": float(np.mean([100 * (1 - v / peak) for v in corners])),
        }


def _gauss2(
    yy: npt.NDArray[np.float64], xx: npt.NDArray[np.float64], s: FlatSampleSpec
) -> npt.NDArray[np.float64]:
    return s.peak_photons * np.exp(
        -((yy - s.centre_yx[0]) ** 2) / (2 * s.sigma_yx[0] ** 2)
        - (xx - s.centre_yx[1]) ** 2 / (2 * s.sigma_yx[1] ** 2)
    )


def make_flat_field(spec: FlatSampleSpec = FlatSampleSpec()) -> FlatSample:
    """Render a synthetic flat with known illumination centre and fall-off.

    Parameters
    ----------
    spec : FlatSampleSpec
        Shape, illumination, dust, noise and data type.

    Returns
    -------
    FlatSample
        The image, its dark image when ``spec.dark_adu`` is set, the noiseless illumination
        and the dust specks.
    """
    rng = np.random.default_rng(spec.seed)
    h, w = spec.shape
    yy, xx = np.indices(spec.shape, dtype=np.float64)
    illum = _gauss2(yy, xx, spec)
    transmission = np.ones(spec.shape)
    dust: list[tuple[float, float, float]] = []
    for _ in range(spec.dust_specks):
        cy, cx = rng.uniform(0.1, 0.9) * h, rng.uniform(0.1, 0.9) * w
        r = rng.uniform(2.0, 6.0)
        dust.append((cy, cx, r))
        transmission *= 1 - spec.dust_depth * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r**2))
    electrons = rng.poisson(illum * transmission).astype(np.float64)
    adu = (
        electrons * spec.gain_adu_per_e
        + spec.dark_adu
        + rng.normal(0, spec.read_noise_e * spec.gain_adu_per_e, spec.shape)
    )
    info = np.iinfo(spec.dtype)
    data = np.clip(np.rint(adu), 0, info.max).astype(spec.dtype)
    dark: npt.NDArray[np.integer[Any]] | None = None
    if spec.dark_adu:
        dark = np.clip(
            np.rint(spec.dark_adu + rng.normal(0, spec.read_noise_e, spec.shape)), 0, info.max
        ).astype(spec.dtype)
    return FlatSample(data=data, dark=dark, illumination=illum, spec=spec, dust=dust)


def flat_field_sample(seed: int = 0) -> FlatSample:
    """Build a typical widefield flat: centre 20 px off, ~25 % corner fall-off, dust, a 100 ADU dark offset.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    FlatSample
        The sample with its truth.
    """
    return make_flat_field(FlatSampleSpec(seed=seed, dark_adu=100.0))


def flat_field_misaligned_sample(seed: int = 1) -> FlatSample:
    """Build a badly misaligned lamp for teaching: the illumination centre near a corner, strong fall-off.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    FlatSample
        The sample with its truth.
    """
    return make_flat_field(
        FlatSampleSpec(
            seed=seed, centre_yx=(90.0, 430.0), sigma_yx=(260.0, 300.0), peak_photons=4000.0, dust_specks=3
        )
    )


def _flat_layers(sample: FlatSample, name: str) -> list[LayerDataTuple]:
    meta = {"microscope_qc": {"source": f"synthetic sample '{name}'"}, "truth": sample.truth}
    layers: list[LayerDataTuple] = [
        (sample.data, {"name": name, "metadata": meta, "colormap": "gray"}, "image")
    ]
    if sample.dark is not None:
        layers.append(
            (sample.dark, {"name": f"{name} (dark)", "colormap": "gray", "visible": False}, "image")
        )
    return layers


def napari_flat_field() -> list[LayerDataTuple]:
    """The napari sample: a flat-field image with known illumination, and its dark image."""
    return _flat_layers(flat_field_sample(), "synthetic flat")


def napari_flat_field_misaligned() -> list[LayerDataTuple]:
    """The napari sample: a badly misaligned illumination (teaching)."""
    return _flat_layers(flat_field_misaligned_sample(), "synthetic flat (misaligned)")


# ------------------------------------------------------------------------------------ multicolour beads


@dataclass(frozen=True)
class ChannelTransform:
    """How a channel's image of the beads differs from the reference channel's.

    Lateral: p' = c + (1 + magnification)·R(rotation)·(p − c) + shift, about the field centre c;
    axial: z' = z + shift_z. Lengths in µm, rotation in degrees (from +x towards +y).
    """

    name: str
    wavelength_ex_nm: float
    wavelength_em_nm: float
    shift_yx_um: tuple[float, float] = (0.0, 0.0)
    shift_z_um: float = 0.0
    magnification: float = 0.0
    rotation_deg: float = 0.0


@dataclass
class MulticolourSample:
    """A (C, Z, Y, X) bead stack and, per channel, every bead's true position (µm)."""

    data: npt.NDArray[np.uint16]
    truth: pd.DataFrame  # bead, channel, x_um, y_um, z_um
    spec: BeadSampleSpec
    transforms: tuple[ChannelTransform, ...]


def transform_points(
    t: ChannelTransform,
    yx_um: npt.ArrayLike,
    z_um: npt.ArrayLike,
    centre_yx: tuple[float, float],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Apply a channel transform to reference positions.

    Parameters
    ----------
    t : ChannelTransform
        The channel's shift, magnification and rotation.
    yx_um : array_like
        (N, 2) lateral reference positions (y, x), µm.
    z_um : array_like
        (N,) axial reference positions, µm.
    centre_yx : tuple of float
        The field centre (y, x) the magnification and rotation act about, µm.

    Returns
    -------
    yx : ndarray
        (N, 2) transformed lateral positions, µm.
    z : ndarray
        (N,) transformed axial positions, µm.
    """
    th = math.radians(t.rotation_deg)
    rot = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])  # acts on (y, x)
    c = np.asarray(centre_yx)
    moved = c + (1 + t.magnification) * (np.asarray(yx_um) - c) @ rot.T + np.asarray(t.shift_yx_um)
    return moved, np.asarray(z_um) + t.shift_z_um


def make_multicolour_beads(
    spec: BeadSampleSpec = BeadSampleSpec(shape=(40, 384, 384), n_beads=30, hot_pixels=0),
    transforms: tuple[ChannelTransform, ...] | None = None,
) -> MulticolourSample:
    """Render multi-colour (TetraSpeck-like) beads with known per-channel positions.

    The same beads appear in every channel, moved by each channel's transform; widths scale with
    the emission wavelength.

    Parameters
    ----------
    spec : BeadSampleSpec
        The stack's shape, voxel size, PSF and noise (of the reference channel).
    transforms : tuple of ChannelTransform, optional
        One per channel, the first the reference; None: green (488/520) and red (561/610) with a
        45/−60 nm lateral and 180 nm axial shift, 0.1 % magnification and 0.05° rotation.

    Returns
    -------
    MulticolourSample
        The (C, Z, Y, X) uint16 stack and every bead's true position per channel.

    Raises
    ------
    ValueError
        If the beads do not fit in the image with the spec's margin and separation.
    """
    if transforms is None:
        transforms = (
            ChannelTransform("green", 488, 520),
            ChannelTransform(
                "red",
                561,
                610,
                shift_yx_um=(0.045, -0.060),
                shift_z_um=0.180,
                magnification=0.001,
                rotation_deg=0.05,
            ),
        )
    rng = np.random.default_rng(spec.seed)
    nz, h, w = spec.shape
    dz, dy, dx = spec.voxel_size_um
    yx = _positions(spec, rng)
    z = (nz - 1) * dz / 2 + rng.uniform(-0.5, 0.5, len(yx)) * dz
    centre = ((h - 1) * dy / 2, (w - 1) * dx / 2)
    channels: list[npt.NDArray[np.uint16]] = []
    rows: list[pd.DataFrame] = []
    ref_em = transforms[0].wavelength_em_nm
    for k, t in enumerate(transforms):
        yx_k, z_k = transform_points(t, yx, z, centre)
        scale = t.wavelength_em_nm / ref_em
        ch_spec = replace(
            spec,
            seed=spec.seed + 1000 * (k + 1),
            fwhm_xy_um=spec.fwhm_xy_um * scale,
            fwhm_z_um=spec.fwhm_z_um * scale,
        )
        channels.append(make_bead_stack(ch_spec, positions_um=(yx_k, z_k)).data)
        rows.append(
            pd.DataFrame(
                {
                    "bead": np.arange(len(yx)),
                    "channel": k,
                    "y_um": yx_k[:, 0],
                    "x_um": yx_k[:, 1],
                    "z_um": z_k,
                }
            )
        )
    return MulticolourSample(np.stack(channels), pd.concat(rows, ignore_index=True), spec, tuple(transforms))


def coregistration_sample(seed: int = 0) -> MulticolourSample:
    """Build two-colour beads: 45/−60 nm lateral and 180 nm axial shift, 0.1 % magnification, 0.05° rotation.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    MulticolourSample
        The sample with its truth.
    """
    return make_multicolour_beads(BeadSampleSpec(shape=(40, 384, 384), n_beads=30, hot_pixels=0, seed=seed))


def napari_coregistration() -> list[LayerDataTuple]:
    """The napari sample: a two-colour bead stack with known chromatic shifts (File ▸ Open Sample)."""
    s = coregistration_sample()
    meta = {
        "microscope_qc": {
            "settings": {
                "voxel_size_um": s.spec.voxel_size_um,
                "na": s.spec.na,
                "immersion_index": s.spec.immersion_index,
                "modality": s.spec.modality,
                "wavelength_ex_nm": [t.wavelength_ex_nm for t in s.transforms],
                "wavelength_em_nm": [t.wavelength_em_nm for t in s.transforms],
            },
            "source": "synthetic sample 'two-colour beads'",
        },
        "truth": s.truth,
    }
    kwargs: dict[str, Any] = {
        "name": "two-colour beads",
        "scale": s.spec.voxel_size_um,
        "metadata": meta,
        "channel_axis": None,
    }
    kwargs.pop("channel_axis")
    return [(s.data, kwargs, "image")]

"""The PSF gallery's instruments: a good objective and one per fault, each with the numbers that give it away.

Every builder takes a seed (the default is the documented sample) and returns a
:class:`~microscope_qc.samples.psf_gallery.GalleryBeadSample`; ``truth`` records the optical
parameters, what a diagnosis should recover (measured on the noise-free model) and the beads.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microscope_qc.samples.psf_gallery import (
    GalleryBeadSample,
    GalleryBeadSpec,
    centre_path,
    line_foci,
    make_gallery_beads,
)
from microscope_qc.samples.psf_render import Optics, pupil_psf

__all__ = [
    "psf_good_sample",
    "psf_spherical_water_sample",
    "psf_spherical_coverslip_sample",
    "psf_astigmatism_sample",
    "psf_coma_sample",
    "psf_tilt_sample",
    "psf_curvature_sample",
    "psf_dirty_sample",
    "psf_undersampled_sample",
    "psf_saturated_sample",
    "ASTIGMATISM_WAVES",
    "ASTIGMATISM_AXIS_DEG",
    "COMA_WAVES",
]

#: astigmatism of the gallery sample: Noll-normalised amplitude (waves RMS) and axis
ASTIGMATISM_WAVES = 0.15
ASTIGMATISM_AXIS_DEG = 30.0
#: coma of the gallery sample (waves RMS), along +x
COMA_WAVES = 0.08


def psf_good_sample(seed: int = 0) -> GalleryBeadSample:
    """A good objective: NA 1.4 oil, index-matched mounting medium, 100 nm beads, Nyquist sampling.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample.
    """
    return make_gallery_beads(GalleryBeadSpec(seed=seed))


def psf_spherical_water_sample(seed: int = 0) -> GalleryBeadSample:
    """An oil objective (n 1.518) imaging beads 6 µm deep in water (n 1.33): spherical aberration.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; ``truth["index_mismatch"]`` is n_sample − n_immersion.
    """
    o = Optics(ns=1.33, depth_um=6.0)
    return make_gallery_beads(
        GalleryBeadSpec(optics=o, seed=seed),
        {"index_mismatch": round(o.ns - o.ni, 4), "depth_um": o.depth_um},
    )


def psf_spherical_coverslip_sample(seed: int = 0) -> GalleryBeadSample:
    """A water objective (NA 1.2, collar at 170 µm) under a 140 µm (#1) coverslip: spherical aberration.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; ``truth["coverslip_error_um"]`` is actual − design thickness.
    """
    o = Optics(na=1.2, ni=1.333, ni0=1.333, ns=1.333, tg=140.0, tg0=170.0, depth_um=5.0)
    return make_gallery_beads(
        GalleryBeadSpec(optics=o, immersion="water", seed=seed),
        {"coverslip_error_um": o.tg - o.tg0, "depth_um": o.depth_um},
    )


def _astig_terms(waves: float, axis_deg: float) -> tuple[tuple[int, int, float], ...]:
    """Zernike astigmatism ``waves·√6 ρ² cos 2(φ − axis)`` as the two Noll terms."""
    a = math.radians(2 * axis_deg)
    return ((2, 2, waves * math.cos(a)), (2, -2, waves * math.sin(a)))


def psf_astigmatism_sample(seed: int = 0) -> GalleryBeadSample:
    """Astigmatism of 0.15 waves RMS with its axis at 30° (a stressed or tilted element).

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; the truth gives the two line foci, their separation and the direction that is
        narrowest at the deeper focus (measured on the noise-free model).
    """
    spec = GalleryBeadSpec(
        renderer="pupil", zernike_waves=_astig_terms(ASTIGMATISM_WAVES, ASTIGMATISM_AXIS_DEG), seed=seed
    )
    s = make_gallery_beads(spec)
    z_along, z_across = line_foci(s.fine, ASTIGMATISM_AXIS_DEG)
    deeper = ASTIGMATISM_AXIS_DEG if z_along > z_across else ASTIGMATISM_AXIS_DEG + 90.0
    o = spec.optics
    s.truth.update(
        {
            "astigmatism_waves_rms": ASTIGMATISM_WAVES,
            "astigmatism_axis_deg": ASTIGMATISM_AXIS_DEG,
            "line_focus_along_axis_um": round(z_along, 4),
            "line_focus_across_axis_um": round(z_across, 4),
            "focal_separation_um": round(abs(z_along - z_across), 4),
            # paraxial estimate: the astigmatic wavefront's two meridians as a defocus difference
            "focal_separation_paraxial_um": round(
                4 * math.sqrt(6) * ASTIGMATISM_WAVES * o.ni * o.wavelength_um / o.na**2, 4
            ),
            "narrowest_at_deeper_focus_deg": deeper % 180.0,
        }
    )
    return s


def psf_coma_sample(seed: int = 0) -> GalleryBeadSample:
    """Coma of 0.08 waves RMS along +x (a decentred element or a tilted coverslip).

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; the truth gives the x-shift of the PSF's centroid (in a Gaussian window of
        σ 0.35 µm) 0.5 µm above and below focus, relative to focus.
    """
    s = make_gallery_beads(GalleryBeadSpec(renderer="pupil", zernike_waves=((3, 1, COMA_WAVES),), seed=seed))
    above, _, below = centre_path(s.fine, 0.5)
    k, y, x = np.unravel_index(np.argmax(s.fine.psf), s.fine.psf.shape)
    n = s.fine.psf.shape[2]
    s.truth.update(
        {
            "coma_waves_rms": COMA_WAVES,
            "coma_direction_deg": 0.0,
            "centroid_shift_x_above_um": round(above, 4),
            "centroid_shift_x_below_um": round(below, 4),
            "peak_offset_x_um": round(float((x - (n - 1) / 2) * s.fine.dxy_um), 4),
        }
    )
    return s


def psf_tilt_sample(seed: int = 0) -> GalleryBeadSample:
    """A tilted focal plane: 0.04 µm per µm along x (2.3°), 25 beads over the field.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; ``truth["tilt_um_per_um"]`` is the focal surface's slope along (y, x).
    """
    spec = GalleryBeadSpec(shape=(48, 320, 320), n_beads=25, tilt_um_per_um=(0.0, 0.04), seed=seed)
    s = make_gallery_beads(spec)
    s.truth["tilt_deg"] = round(math.degrees(math.atan(math.hypot(*spec.tilt_um_per_um))), 3)
    return s


def psf_curvature_sample(seed: int = 0) -> GalleryBeadSample:
    """Field curvature: the focus 1.0 µm deeper at the field corners than at the centre.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; ``truth["curvature_um"]`` is the focal shift at the corner.
    """
    return make_gallery_beads(GalleryBeadSpec(shape=(48, 320, 320), n_beads=25, curvature_um=1.0, seed=seed))


def psf_dirty_sample(seed: int = 0) -> GalleryBeadSample:
    """A dirty front lens: a smooth random pupil phase (0.12 waves RMS) scatters light into a halo.

    Parameters
    ----------
    seed : int
        Random seed (also of the phase screen).

    Returns
    -------
    GalleryBeadSample
        The sample; the truth gives the Strehl ratio (the peak relative to a clean pupil's) and the
        fraction of the in-focus light beyond 0.5 µm of the peak, dirty and clean.
    """
    spec = GalleryBeadSpec(renderer="pupil", screen_waves=0.12, seed=seed)
    dz, dy, _ = spec.voxel_size_um
    clean = pupil_psf(spec.optics, dy, dz, half_z_um=0.0)  # its focal plane: the reference peak and halo
    dirty = pupil_psf(spec.optics, dy, dz, screen_waves=spec.screen_waves, seed=seed + 7)
    s = make_gallery_beads(spec, fine=dirty)
    s.truth.update(
        {
            "phase_screen_waves_rms": spec.screen_waves,
            "phase_screen_correlation_pupil_radius": 0.1,
            "strehl_ratio": round(float(dirty.psf.max() * dirty.scale / (clean.psf.max() * clean.scale)), 4),
            "marechal_strehl": round(math.exp(-((2 * math.pi * spec.screen_waves) ** 2)), 4),
            "halo_fraction": round(_halo(dirty), 4),
            "halo_fraction_clean": round(_halo(clean), 4),
        }
    )
    return s


def _halo(fine: Any) -> float:
    """Fraction of the brightest plane's light farther than 0.5 µm from its peak."""
    k, y, x = np.unravel_index(np.argmax(fine.psf), fine.psf.shape)
    yy, xx = np.indices(fine.psf.shape[1:])
    r = np.hypot(yy - y, xx - x) * fine.dxy_um
    plane = fine.psf[k]
    return float(plane[r > 0.5].sum() / plane.sum())


def psf_undersampled_sample(seed: int = 0) -> GalleryBeadSample:
    """The good objective with 130 nm pixels (2 × 2 binning): above the 93 nm Nyquist pixel.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; ``truth["nyquist_pixel_um"]`` is λ/(4 NA).
    """
    spec = GalleryBeadSpec(shape=(48, 128, 128), voxel_size_um=(0.15, 0.13, 0.13), seed=seed)
    s = make_gallery_beads(spec)
    nyq = spec.optics.wavelength_um / (4 * spec.optics.na)
    s.truth.update(
        {
            "pixel_um": 0.13,
            "nyquist_pixel_um": round(nyq, 4),
            "pixel_over_nyquist": round(0.13 / nyq, 3),
        }
    )
    return s


def psf_saturated_sample(seed: int = 0) -> GalleryBeadSample:
    """The good objective recorded too bright: most beads' peaks clip at 65535 (a 16-bit camera).

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    GalleryBeadSample
        The sample; the truth counts the saturated pixels and the beads whose peak saturates.
    """
    spec = GalleryBeadSpec(photons=1.2e6, photons_spread=0.5, seed=seed)
    s = make_gallery_beads(spec)
    saturated = 0
    for _, b in s.beads.iterrows():
        z, y, x = (round(b["z_px"]), round(b["y_px"]), round(b["x_px"]))
        box = s.data[max(z - 1, 0) : z + 2, max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
        saturated += int(box.max() >= spec.full_scale)
    s.truth.update(
        {
            "saturated_beads": saturated,
            "saturated_bead_fraction": round(saturated / len(s.beads), 4),
            "saturated_fraction": round(s.truth["saturated_pixels"] / s.data.size, 7),
        }
    )
    return s

"""Good and faulty instruments for the measurements other than the PSF, from the existing generators.

Each builder takes a seed (the default is the documented sample) and returns the sample type
its measurement's writer takes; the fault's size is in the truth.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from microscope_qc.samples.beads import BeadSampleSpec
from microscope_qc.samples.cameras import CAMERAS, Camera, DetectorSample, emva_series
from microscope_qc.samples.flats import FlatSample, FlatSampleSpec, make_flat_field
from microscope_qc.samples.image_quality import ImageQualitySample
from microscope_qc.samples.light_source import LogSample, light_source_log_sample
from microscope_qc.samples.multicolour import ChannelTransform, MulticolourSample, make_multicolour_beads
from microscope_qc.samples.psf_gallery import GalleryBeadSpec, make_gallery_beads
from microscope_qc.samples.stage import StageSample, stage_repeatability_sample

__all__ = [
    "field_good_sample",
    "field_off_centre_sample",
    "field_dust_sample",
    "coregistration_good_sample",
    "coregistration_dichroic_sample",
    "detector_noisy_sample",
    "light_source_unstable_sample",
    "stage_backlash_sample",
    "image_quality_good_sample",
    "image_quality_saturated_sample",
    "image_quality_undersampled_sample",
]


def _flat(seed: int, **kw: Any) -> FlatSample:
    s = make_flat_field(FlatSampleSpec(seed=seed, shape=(512, 512), dark_adu=100.0, **kw))
    return s


def field_good_sample(seed: int = 0) -> FlatSample:
    """A well-aligned lamp: centred illumination, about 17 % fall-off in the corners, no dust.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    FlatSample
        The flat, its dark image and its truth.
    """
    return _flat(seed, centre_yx=(255.5, 255.5), sigma_yx=(600.0, 600.0), dust_specks=0)


def field_off_centre_sample(seed: int = 0) -> FlatSample:
    """A misaligned fibre: the illumination centre at (20, 490) px, 92 % of the half-diagonal off, no dust.

    Far enough that the centring accuracy fails its verdict (CA < 50 %): with broad illumination
    the 90–100 % zone is clipped by the image edge and its centroid stays near the centre, so a
    fibre merely 37 % off passes. The fall-off (σ 500 px) makes the far corner dim, uneven
    illumination that the misalignment explains.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    FlatSample
        The flat, its dark image and its truth.
    """
    return _flat(seed, centre_yx=(20.0, 490.0), sigma_yx=(500.0, 500.0), dust_specks=0)


def field_dust_sample(seed: int = 0) -> FlatSample:
    """A centred lamp and a dusty camera window: 12 specks, each dimming up to 30 %.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    FlatSample
        The flat, its dark image and its truth (the specks in ``dust``).
    """
    return _flat(seed, centre_yx=(255.5, 255.5), sigma_yx=(600.0, 600.0), dust_specks=12)


def _two_colour(seed: int, red: ChannelTransform) -> MulticolourSample:
    spec = BeadSampleSpec(shape=(40, 384, 384), n_beads=30, hot_pixels=0, seed=seed)
    return make_multicolour_beads(spec, (ChannelTransform("green", 488, 520), red))


def coregistration_good_sample(seed: int = 0) -> MulticolourSample:
    """Well-corrected optics: the red channel 10/−8 nm laterally and 40 nm axially off the green.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    MulticolourSample
        Two channels and every bead's true position in each.
    """
    return _two_colour(seed, ChannelTransform("red", 561, 610, shift_yx_um=(0.010, -0.008), shift_z_um=0.040))


def coregistration_dichroic_sample(seed: int = 0) -> MulticolourSample:
    """A wrong (wedged) dichroic: the red channel 250/−180 nm laterally and 120 nm axially off.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    MulticolourSample
        Two channels and every bead's true position in each.
    """
    return _two_colour(seed, ChannelTransform("red", 561, 610, shift_yx_um=(0.250, -0.180), shift_z_um=0.120))


def detector_noisy_sample(seed: int = 0) -> DetectorSample:
    """An sCMOS camera gone bad: read noise 6 e⁻ (datasheet 1.6 e⁻), dark current ×10, 80 hot pixels.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    DetectorSample
        The EMVA 1288 series and its truth.
    """
    spec = replace(
        CAMERAS["scmos"],
        seed=seed,
        shape=(96, 96),
        read_noise_e=6.0,
        dark_current_e_per_s=20.0,
        hot_pixels=80,
    )
    s = emva_series(Camera(spec))
    s.truth["datasheet_read_noise_e"] = CAMERAS["scmos"].read_noise_e
    return s


def light_source_unstable_sample(seed: int = 0) -> LogSample:
    """An unstable laser: 20 % low at switch-on (τ = 15 min), 0.8 % ripple, 0.5 % noise (50 × normal).

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    LogSample
        The power-meter log and its truth.
    """
    return light_source_log_sample(
        seed, warmup=0.20, tau_s=900.0, ripple=0.008, drift_per_h=0.005, noise=0.005
    )


def stage_backlash_sample(seed: int = 0) -> StageSample:
    """A stage with backlash: 0.6 µm (x) and 0.5 µm (y) between approaches from either side.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    StageSample
        The repeatability series, its moves and its truth.
    """
    return stage_repeatability_sample(seed, backlash_xy_um=(0.6, 0.5))


def _beads_plane(
    seed: int, pixel_um: float, photons: float, full_scale: int, size: int
) -> ImageQualitySample:
    """One in-focus plane of beads from the vectorial PSF, 12-bit camera, with its optics in the truth."""
    spec = GalleryBeadSpec(
        shape=(1, size, size),
        voxel_size_um=(0.15, pixel_um, pixel_um),
        n_beads=36,
        photons=photons,
        photons_spread=0.5,
        full_scale=full_scale,
        seed=seed,
    )
    # every bead in focus in the one plane
    s = make_gallery_beads(replace(spec, shape=(1, size, size)))
    data = s.data[0]
    o = spec.optics
    nyq = o.wavelength_um / (4 * o.na)
    truth = {
        "bit_depth": 12,
        "saturated_pixels": int(np.count_nonzero(data >= full_scale)),
        "saturated_percent": 100 * float(np.count_nonzero(data >= full_scale)) / data.size,
        "pixel_um": pixel_um,
        "nyquist_pixel_um": round(nyq, 4),
        "pixel_over_nyquist": round(pixel_um / nyq, 3),
        "na": o.na,
        "immersion_index": o.ni0,
        "wavelength_em_nm": 1000 * o.wavelength_um,
        "modality": "widefield",
        "photons_per_bead": photons,
    }
    return ImageQualitySample(data, pixel_um, truth)


def image_quality_good_sample(seed: int = 0) -> ImageQualitySample:
    """In-focus beads, 65 nm pixels (Nyquist 93 nm), 12-bit camera well within range.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    ImageQualitySample
        The image and its truth (with the optics the sampling check needs).
    """
    return _beads_plane(seed, 0.065, 20000.0, 4095, 256)


def image_quality_saturated_sample(seed: int = 0) -> ImageQualitySample:
    """The same beads recorded too bright: their peaks clip at 4095 on the 12-bit camera.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    ImageQualitySample
        The image and its truth.
    """
    return _beads_plane(seed, 0.065, 150000.0, 4095, 256)


def image_quality_undersampled_sample(seed: int = 0) -> ImageQualitySample:
    """The same beads with 160 nm pixels: 1.7 × the Nyquist pixel.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    ImageQualitySample
        The image and its truth.
    """
    # a 160 nm pixel collects six times the light of a 65 nm one: fewer photons keep it in range
    return _beads_plane(seed, 0.16, 3000.0, 4095, 128)

"""Synthetic images for the resolution measurement (FRC, decorrelation), with a known resolution.

The truth has to be a number both methods must find, whatever their threshold. So the structure
is band-limited with a hard edge: white random structure, blurred by a Gaussian PSF (σ = 0.75 px)
and then cut off at a known frequency f_c (an ideal pupil: no information above f_c at all), on a
background, with Poisson noise and a camera gain and offset. Below f_c the spectral SNR is far
above one (≥ 20 at f_c), above f_c the images hold noise only; so every FRC threshold is crossed,
and the decorrelation peak sits, at f_c. The resolution truth is 1/f_c (the FRC convention; the
decorrelation's 2·pixel/k_c with k_c = 2·f_c·pixel is the same number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ResolutionSample",
    "band_limited_structure",
    "resolution_sample",
    "resolution_halves_sample",
    "napari_resolution_pair",
    "PAIR_KEY",
    "GALLERY_OPTICS",
    "resolution_undersampled_sample",
    "resolution_blurred_sample",
    "resolution_pair_layers",
]

#: layer metadata key of the bundled pair: the name of the other image of the pair
PAIR_KEY = "microscope_qc_pair"

LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]


@dataclass
class ResolutionSample:
    """Two independent (Y, X) images of the same field, the pixel size, the camera and the truth."""

    image: npt.NDArray[np.uint16]
    pair: npt.NDArray[np.uint16]
    pixel_size_um: float
    gain_dn_per_e: float
    offset_dn: float
    truth: dict[str, Any]


def band_limited_structure(
    shape: tuple[int, int], cutoff_cycles_per_px: float, psf_sigma_px: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """White random structure blurred by a Gaussian PSF and cut off at ``cutoff_cycles_per_px``.

    Parameters
    ----------
    shape : tuple of int
        (Y, X).
    cutoff_cycles_per_px : float
        No spectral content at or above this radial frequency.
    psf_sigma_px : float
        σ of the Gaussian blur (its OTF is ``exp(−2π²σ²f²)``).
    rng : numpy.random.Generator
        Random source.

    Returns
    -------
    numpy.ndarray
        Zero-mean structure with unit standard deviation.
    """
    spec = np.fft.rfft2(rng.standard_normal(shape))
    f = np.sqrt(np.fft.fftfreq(shape[0])[:, None] ** 2 + np.fft.rfftfreq(shape[1])[None, :] ** 2)
    spec *= np.exp(-2 * np.pi**2 * psf_sigma_px**2 * f * f) * (f < cutoff_cycles_per_px)
    spec[0, 0] = 0
    s = np.fft.irfft2(spec, shape)
    return np.asarray(s / s.std())


def resolution_sample(
    seed: int = 0,
    size: int = 512,
    cutoff_cycles_per_px: float = 0.25,
    pixel_size_um: float = 0.05,
    mean_photons: float = 300.0,
    structure_sd_photons: float = 60.0,
    gain_dn_per_e: float = 2.0,
    offset_dn: float = 100.0,
    psf_sigma_px: float = 0.75,
) -> ResolutionSample:
    """Two independent noisy images of one band-limited field: resolution 1/f_c (here 4 px, 0.2 µm).

    Parameters
    ----------
    seed : int
        Random seed.
    size : int
        Side of the square images (px).
    cutoff_cycles_per_px : float
        f_c: the structure has no content at or above it.
    pixel_size_um : float
        Pixel size.
    mean_photons, structure_sd_photons : float
        Mean and SD of the expected photons per pixel.
    gain_dn_per_e, offset_dn : float
        Camera: DN = offset + gain · photo-electrons.
    psf_sigma_px : float
        σ of the Gaussian blur inside the pass band.

    Returns
    -------
    ResolutionSample
        The pair (uint16) and the truth.
    """
    rng = np.random.default_rng(seed)
    s = band_limited_structure((size, size), cutoff_cycles_per_px, psf_sigma_px, rng)
    expected = np.clip(mean_photons + structure_sd_photons * s, 0, None)

    def shot() -> npt.NDArray[np.uint16]:
        dn = offset_dn + gain_dn_per_e * rng.poisson(expected)
        return np.asarray(np.clip(np.rint(dn), 0, 65535).astype(np.uint16))

    truth = {
        "resolution_um": pixel_size_um / cutoff_cycles_per_px,
        "resolution_px": 1.0 / cutoff_cycles_per_px,
        "cutoff_cycles_per_um": cutoff_cycles_per_px / pixel_size_um,
        "definition": f"white random structure, Gaussian blur σ = {psf_sigma_px:g} px, no content at or above "
        "f_c; resolution = 1/f_c",
        "pixel_size_um": pixel_size_um,
        "gain_dn_per_e": gain_dn_per_e,
        "offset_dn": offset_dn,
    }
    return ResolutionSample(shot(), shot(), pixel_size_um, gain_dn_per_e, offset_dn, truth)


#: the optics of the gallery's resolution samples (their commands pass them): NA 1.4, 520 nm emission
GALLERY_OPTICS: dict[str, float] = {"na": 1.4, "wavelength_em_nm": 520.0}


def _gallery(seed: int, resolution_um: float, pixel_size_um: float, **truth: Any) -> ResolutionSample:
    """A gallery pair for :data:`GALLERY_OPTICS` whose structure ends at ``resolution_um``.

    The blur inside the pass band scales with the cut-off (σ = 3 / f_c / 16 px, 0.75 px at 4 px),
    so the spectral SNR near the cut-off is that of the bundled pair and both methods find it.
    """
    from microscope_qc.analysis.resolution.theory import abbe_resolution_um

    cutoff = pixel_size_um / resolution_um
    s = resolution_sample(
        seed=seed, cutoff_cycles_per_px=cutoff, pixel_size_um=pixel_size_um, psf_sigma_px=0.1875 / cutoff
    )
    o = GALLERY_OPTICS
    theory = abbe_resolution_um(o["wavelength_em_nm"], o["na"])
    s.truth.update({**o, "abbe_resolution_um": theory, "ratio_to_abbe": resolution_um / theory, **truth})
    return s


def resolution_undersampled_sample(seed: int = 0) -> ResolutionSample:
    """The optics of the bundled pair (0.2 µm) on 90 nm pixels: the resolution is 2.2 px, at the grid's limit.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    ResolutionSample
        The pair and the truth (the optics, Abbe's limit, the resolution in µm and px).
    """
    return _gallery(
        seed, 0.2, 0.09, fault="resolution 2.22 px: the 90 nm pixel limits what the image records"
    )


def resolution_blurred_sample(seed: int = 0) -> ResolutionSample:
    """A defocused or aberrated image: no detail finer than 0.5 µm, 2.7 × Abbe's 0.186 µm (50 nm pixels).

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    ResolutionSample
        The pair and the truth.
    """
    return _gallery(seed, 0.5, 0.05, fault="resolution 0.5 µm, 2.7 × Abbe's limit")


def resolution_halves_sample(
    seed: int = 0,
    size: int = 1024,
    cutoffs_cycles_per_px: tuple[float, float] = (0.15, 0.3),
    pixel_size_um: float = 0.05,
    mean_photons: float = 300.0,
    structure_sd_photons: float = 60.0,
    gain_dn_per_e: float = 2.0,
    offset_dn: float = 100.0,
) -> ResolutionSample:
    """Two independent noisy images of a field whose left half is band-limited lower than its right.

    Each half is cut from its own band-limited structure (:func:`band_limited_structure`, as
    :func:`resolution_sample`), so a tile wholly in one half has that half's resolution, 1/f_c.

    Parameters
    ----------
    seed : int
        Random seed.
    size : int
        Side of the square images (px).
    cutoffs_cycles_per_px : tuple of float
        f_c of the left half (columns < size/2) and of the right half.
    pixel_size_um : float
        Pixel size.
    mean_photons, structure_sd_photons : float
        Mean and SD of the expected photons per pixel.
    gain_dn_per_e, offset_dn : float
        Camera: DN = offset + gain · photo-electrons.

    Returns
    -------
    ResolutionSample
        The pair (uint16) and the truth: ``left_resolution_um``, ``right_resolution_um`` and the
        column where the halves meet (``boundary_px``).
    """
    rng = np.random.default_rng(seed)
    left, right = (band_limited_structure((size, size), f, 0.75, rng) for f in cutoffs_cycles_per_px)
    s = np.where(np.arange(size)[None, :] < size // 2, left, right)
    expected = np.clip(mean_photons + structure_sd_photons * s, 0, None)

    def shot() -> npt.NDArray[np.uint16]:
        dn = offset_dn + gain_dn_per_e * rng.poisson(expected)
        return np.asarray(np.clip(np.rint(dn), 0, 65535).astype(np.uint16))

    truth = {
        "left_resolution_um": pixel_size_um / cutoffs_cycles_per_px[0],
        "right_resolution_um": pixel_size_um / cutoffs_cycles_per_px[1],
        "boundary_px": size // 2,
        "definition": "left and right halves cut from two band-limited structures (Gaussian blur σ = 0.75 px, "
        "no content at or above each half's f_c); resolution = 1/f_c",
        "pixel_size_um": pixel_size_um,
        "gain_dn_per_e": gain_dn_per_e,
        "offset_dn": offset_dn,
    }
    return ResolutionSample(shot(), shot(), pixel_size_um, gain_dn_per_e, offset_dn, truth)


def napari_resolution_pair() -> list[LayerDataTuple]:
    """The napari sample: two independent images of a field with a known resolution (0.2 µm).

    Each layer's metadata names the other under :data:`PAIR_KEY`, so the resolution dock picks it
    as the 'second image'.
    """
    return resolution_pair_layers(resolution_sample())


def resolution_pair_layers(s: ResolutionSample) -> list[LayerDataTuple]:
    """The napari layers of a pair, each naming the other under :data:`PAIR_KEY`, the truth in the metadata.

    Every pair of the package is imaged with :data:`GALLERY_OPTICS`; the layers record them as a
    file's metadata (``microscope_qc`` ▸ ``settings``, as the other samples' layers).

    Parameters
    ----------
    s : ResolutionSample
        The pair.

    Returns
    -------
    list of LayerDataTuple
        Two image layers.
    """
    scale = (s.pixel_size_um, s.pixel_size_um)
    names = ("resolution image 1 (synthetic)", "resolution image 2 (synthetic)")
    # the optics as the bundled samples' layers carry them (the dock fills its NA and λ em from them)
    settings = {
        "voxel_size_um": (1.0, s.pixel_size_um, s.pixel_size_um),
        "na": GALLERY_OPTICS["na"],
        "wavelength_em_nm": [GALLERY_OPTICS["wavelength_em_nm"]],
    }
    carried = {"settings": settings, "source": "synthetic resolution pair"}
    return [
        (
            data,
            {
                "name": name,
                "scale": scale,
                "metadata": {"truth": s.truth, PAIR_KEY: other, "microscope_qc": carried},
            },
            "image",
        )
        for data, name, other in ((s.image, names[0], names[1]), (s.pair, names[1], names[0]))
    ]

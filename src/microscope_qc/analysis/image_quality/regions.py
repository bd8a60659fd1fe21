"""Signal and background regions, SNR and CNR from them, and the noise in photo-electrons.

* :func:`regions_of`: the signal and background masks the SNR and CNR use: the user's regions
  (either one alone: the other is the rest of the image) or, without any, Otsu's threshold.
* :func:`region_snr`: SNR and CNR of a signal and a background region.
* :func:`photon_noise`: the signal region's mean and noise in electrons and how far that noise is
  above the shot-noise limit, from the detector's conversion gain and offset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.image_quality.checks import immerkaer_noise, otsu_threshold
from microscope_qc.results import AnalysisError

__all__ = ["Regions", "regions_of", "region_snr", "photon_noise", "PhotonNoise", "MIN_NOISE_PIXELS"]

#: fewest pixels whose 3 × 3 neighbourhood lies in a region for its noise to be estimated
MIN_NOISE_PIXELS = 16

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Regions:
    """The signal and background masks and how they were chosen.

    Attributes
    ----------
    signal, background : numpy.ndarray
        Boolean (Y, X) masks, disjoint.
    method : str
        ``"regions"`` (the user's) or ``"otsu"``.
    description : str
        Which regions, for the result's settings and the reports.
    """

    signal: BoolArray
    background: BoolArray
    method: str
    description: str


def regions_of(
    image: FloatArray,
    signal: BoolArray | None,
    background: BoolArray | None,
    names: tuple[str, str] = ("", ""),
) -> Regions:
    """The signal and background masks: the user's regions, else Otsu's foreground and background.

    Parameters
    ----------
    image : numpy.ndarray
        The (Y, X) image.
    signal, background : numpy.ndarray or None
        Boolean masks of the user's signal and background regions. One alone: the other is the
        rest of the image. Neither: Otsu's threshold splits the image.
    names : (str, str)
        How the user's signal and background regions are named (for the description).

    Returns
    -------
    Regions
        The masks and how they were chosen.

    Raises
    ------
    AnalysisError
        A mask of another shape, an empty region, or signal and background regions that overlap.
    """
    if signal is None and background is None:
        t = otsu_threshold(image.ravel())
        fg = image > t
        return Regions(fg, ~fg, "otsu", f"Otsu's threshold ({t:.6g}): foreground above, background below")
    for what, mask in (("signal", signal), ("background", background)):
        if mask is not None and mask.shape != image.shape:
            raise AnalysisError(
                f"The {what} regions' mask is {mask.shape[1]} × {mask.shape[0]} px, the image "
                f"{image.shape[1]} × {image.shape[0]} px: draw them on this image."
            )
        if mask is not None and not mask.any():
            raise AnalysisError(f"The {what} regions cover no pixel of the image: draw them inside it.")
    sig_name = names[0] or "the signal regions"
    bg_name = names[1] or "the background regions"
    if signal is not None and background is not None:
        overlap = int(np.count_nonzero(signal & background))
        if overlap:
            raise AnalysisError(
                f"The signal and background regions overlap ({overlap} px): draw them apart, so that no pixel "
                "counts as both."
            )
        return Regions(signal, background, "regions", f"signal: {sig_name}; background: {bg_name}")
    if signal is not None:
        rest = ~signal
        if not rest.any():
            raise AnalysisError("The signal regions cover the whole image: no background is left.")
        return Regions(signal, rest, "regions", f"signal: {sig_name}; background: the rest of the image")
    assert background is not None
    rest = ~background
    if not rest.any():
        raise AnalysisError("The background regions cover the whole image: no signal is left.")
    return Regions(rest, background, "regions", f"signal: the rest of the image; background: {bg_name}")


def region_snr(image: FloatArray, regions: Regions, noise_sd: float) -> tuple[float, float]:
    """SNR and CNR of the signal region over the background region.

    With the user's regions, SNR = (μ_s − μ_b) / σ_b, σ_b the SD of the background region (the
    textbook definition: the background is flat, so its spread is the noise). With Otsu's split,
    whose background holds structure, the noise is Immerkær's estimate of the whole image
    (``noise_sd``). CNR = (μ_s − μ_b) / √(σ_s² + σ_b²) either way (population variances).

    Parameters
    ----------
    image : numpy.ndarray
        The (Y, X) image.
    regions : Regions
        The signal and background masks.
    noise_sd : float
        Immerkær's noise SD of the image (the SNR's noise with Otsu's split).

    Returns
    -------
    snr, cnr : float
        NaN when the noise (or the spread) is zero.
    """
    s, b = image[regions.signal], image[regions.background]
    diff = float(s.mean() - b.mean())
    noise = float(b.std()) if regions.method == "regions" else noise_sd
    spread = math.sqrt(float(s.var()) + float(b.var()))
    snr = diff / noise if noise > 0 else math.nan
    cnr = diff / spread if spread > 0 else math.nan
    return snr, cnr


@dataclass
class PhotonNoise:
    """The signal region in photo-electrons (see :func:`photon_noise`)."""

    signal_e: float
    background_e: float
    noise_e: float
    shot_noise_e: float
    noise_over_shot: float
    excess_noise_e: float
    noise_pixels: int


def photon_noise(
    image: FloatArray, regions: Regions, gain_e_per_dn: float, offset_dn: float
) -> PhotonNoise | None:
    """The signal region's mean and noise in electrons, and how far the noise is above shot noise.

    Electrons are e = (I − offset) · gain. The region's noise σ_e is Immerkær's estimate over the
    pixels whose 3 × 3 neighbourhood lies in the signal region, times the gain. Shot noise alone
    would give each pixel an SD of √e; as Immerkær's estimator averages the local SD over the
    region, the shot-noise limit is the region's mean of √max(e, 0). ``noise_over_shot`` =
    σ_e / that limit (1: shot-noise limited); ``excess_noise_e`` = √max(σ_e² − limit², 0), the
    noise the detector and the sample add (read noise, excess noise of an EMCCD, fluctuations).

    Parameters
    ----------
    image : numpy.ndarray
        The (Y, X) image, counts.
    regions : Regions
        The signal and background masks.
    gain_e_per_dn : float
        Photo-electrons per count.
    offset_dn : float
        The detector's offset (dark level), counts.

    Returns
    -------
    PhotonNoise or None
        None when fewer than :data:`MIN_NOISE_PIXELS` pixels of the signal region have their 3 × 3
        neighbourhood inside it, or its mean is not above the offset.
    """
    noise_counts, n = masked_noise(image, regions.signal)
    electrons = (image[regions.signal] - offset_dn) * gain_e_per_dn
    signal_e = float(electrons.mean())
    if n < MIN_NOISE_PIXELS or not signal_e > 0:
        return None
    background_e = float(((image[regions.background] - offset_dn) * gain_e_per_dn).mean())
    noise_e = noise_counts * gain_e_per_dn
    shot = float(np.sqrt(np.clip(electrons, 0, None)).mean())
    return PhotonNoise(
        signal_e,
        background_e,
        noise_e,
        shot,
        noise_e / shot if shot > 0 else math.nan,
        math.sqrt(max(noise_e**2 - shot**2, 0.0)),
        n,
    )


def masked_noise(image: FloatArray, mask: BoolArray) -> tuple[float, int]:
    """Immerkær's noise SD over the pixels whose 3 × 3 neighbourhood lies in ``mask``.

    Parameters
    ----------
    image : numpy.ndarray
        The (Y, X) image.
    mask : numpy.ndarray
        The region.

    Returns
    -------
    sd : float
        The noise SD (NaN when no pixel qualifies).
    n : int
        How many pixels it is estimated over.
    """
    inner = np.ones((mask.shape[0] - 2, mask.shape[1] - 2), bool)
    for dy in range(3):
        for dx in range(3):
            inner &= mask[dy : dy + mask.shape[0] - 2, dx : dx + mask.shape[1] - 2]
    n = int(np.count_nonzero(inner))
    if n == 0:
        return math.nan, 0
    return immerkaer_noise(image, inner), n

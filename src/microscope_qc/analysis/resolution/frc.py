"""Fourier ring correlation: two independent images, or one photon-converted image split binomially.

FRC(k) = Σ_ring Re(F₁ F₂*) / √(Σ_ring |F₁|² · Σ_ring |F₂|²) over rings one frequency step wide
(Saxton & Baumeister 1982; Nieuwenhuizen et al., Nat Methods 2013). The resolution is the
inverse of the frequency where the curve falls below a threshold: the fixed 1/7 (0.143) or the
half-bit curve of van Heel & Schatz (2005), T(k) = (0.2071 + 1.9102/√n) / (1.2071 + 0.9102/√n)
with n the pixels of the ring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.resolution.fourier import apodize, check_image, half_plane, rfft2
from microscope_qc.results import AnalysisError

__all__ = [
    "FRCCurve",
    "frc_curve",
    "frc_curves",
    "binomial_split",
    "half_bit_threshold",
    "threshold_crossing",
    "ONE_SEVENTH",
]

#: the fixed FRC threshold of Nieuwenhuizen et al. (2013)
ONE_SEVENTH = 1.0 / 7.0


@dataclass(frozen=True)
class FRCCurve:
    """An FRC curve, ring by ring from zero frequency to Nyquist.

    Attributes
    ----------
    frequency : numpy.ndarray
        Ring centres, cycles per pixel.
    frc : numpy.ndarray
        The correlation of each ring.
    n_pixels : numpy.ndarray
        Pixels of the full frequency plane in each ring.
    frc_x, frc_y : numpy.ndarray or None
        The same over two sectors of each ring: frequencies within 22.5° of the x axis (structure
        resolved along x) and within 22.5° of the y axis (the diagonals count in ``frc`` only).
    n_x, n_y : numpy.ndarray or None
        Pixels of each ring's sectors.
    """

    frequency: npt.NDArray[np.float64]
    frc: npt.NDArray[np.float64]
    n_pixels: npt.NDArray[np.float64]
    frc_x: npt.NDArray[np.float64] | None = None
    frc_y: npt.NDArray[np.float64] | None = None
    n_x: npt.NDArray[np.float64] | None = None
    n_y: npt.NDArray[np.float64] | None = None


def half_bit_threshold(n_pixels: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The half-bit threshold of van Heel & Schatz (2005) for rings of ``n_pixels`` pixels.

    Parameters
    ----------
    n_pixels : array_like
        Pixels per ring.

    Returns
    -------
    numpy.ndarray
        T = (0.2071 + 1.9102/√n) / (1.2071 + 0.9102/√n).
    """
    s = 1.0 / np.sqrt(np.maximum(np.asarray(n_pixels, dtype=np.float64), 1.0))
    return np.asarray((0.2071 + 1.9102 * s) / (1.2071 + 0.9102 * s))


def _check_pair(
    a: npt.ArrayLike, b: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    first = check_image(a, "The first image")
    second = check_image(b, "The second image")
    if first.shape != second.shape:
        raise AnalysisError(
            f"The two FRC images differ in size ({first.shape[1]}×{first.shape[0]} and "
            f"{second.shape[1]}×{second.shape[0]} px); FRC needs two images of the same field, same size."
        )
    if first.shape[0] != first.shape[1]:
        raise AnalysisError(
            f"FRC needs square images (rings of equal frequency steps); these are {first.shape[1]}×"
            f"{first.shape[0]} px. Crop both to the same square region (decorrelation accepts any shape)."
        )
    return first, second


def frc_curve(a: npt.ArrayLike, b: npt.ArrayLike, *, edge_px: int | None = None) -> FRCCurve:
    """The FRC of two independent images of the same field.

    Both are mean-subtracted and apodised (by default with a Hann window over the whole image:
    its side lobes fall as 1/f³, so a band edge does not leak correlation into the rings above
    it, as a narrow edge taper does at high SNR), transformed with ``rfft2`` and their
    products summed over rings of width 1/N (cycles per pixel) with one ``bincount`` each.

    Parameters
    ----------
    a, b : array_like
        Two (N, N) images, same field, independent noise.
    edge_px : int, optional
        Width of a cosine edge taper instead of the Hann window (None: Hann).

    Returns
    -------
    FRCCurve
        Rings 0 … N/2.

    Raises
    ------
    AnalysisError
        Tiny, constant or non-finite images; images of different sizes; non-square images.
    """
    first, second = _check_pair(a, b)
    n = first.shape[0]
    edge = n // 2 if edge_px is None else edge_px
    fa = rfft2(apodize(first, edge))
    fb = rfft2(apodize(second, edge))
    return frc_curves(fa[None], fb[None], n)[0]


def frc_curves(fa: npt.NDArray[np.complex128], fb: npt.NDArray[np.complex128], n: int) -> list[FRCCurve]:
    """FRC curves (whole rings and the x and y sectors) of stacks of ``rfft2`` spectra, pair by pair.

    Parameters
    ----------
    fa, fb : numpy.ndarray
        (k, N, N // 2 + 1) spectra of k pairs of apodised (N, N) images.
    n : int
        N.

    Returns
    -------
    list of FRCCurve
        One per pair, rings 0 … N/2; the sums of all pairs in one ``bincount`` per quantity.
    """
    plane = half_plane((n, n))
    n_rings = n // 2 + 1
    # rings beyond Nyquist (the corners) go to one extra bin, dropped below
    ring = np.minimum(np.rint(plane.radius * n).astype(np.intp), n_rings).ravel()
    w = np.broadcast_to(plane.weight, fa.shape[1:]).ravel()
    # sectors: 0 within 22.5° of the x axis (structure along x), 1 within 22.5° of the y axis,
    # 2 the diagonals; one bincount over all pairs' sectors' rings
    fy = np.abs(np.fft.fftfreq(n))[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    tan = np.tan(np.pi / 8)
    sector_of = np.where(fy <= tan * fx, 0, np.where(fx <= tan * fy, 1, 2))
    size = 3 * (n_rings + 1)
    k = fa.shape[0]
    index = ((ring + (n_rings + 1) * sector_of.ravel())[None, :] + size * np.arange(k)[:, None]).ravel()
    fa2, fb2 = fa.reshape(k, -1), fb.reshape(k, -1)
    cross = ((fa2.real * fb2.real + fa2.imag * fb2.imag) * w).ravel()
    pa = ((fa2.real * fa2.real + fa2.imag * fa2.imag) * w).ravel()
    pb = ((fb2.real * fb2.real + fb2.imag * fb2.imag) * w).ravel()
    sums = [
        np.bincount(index, v, k * size).reshape(k, 3, n_rings + 1)[:, :, :n_rings] for v in (cross, pa, pb)
    ]
    count = np.bincount(ring + (n_rings + 1) * sector_of.ravel(), w, size).reshape(3, n_rings + 1)[
        :, :n_rings
    ]
    curves = []
    for j in range(k):
        c, a_, b_ = sums[0][j], sums[1][j], sums[2][j]
        sector = [_correlation(c[s], a_[s], b_[s]) for s in range(2)]
        total = _correlation(c.sum(0), a_.sum(0), b_.sum(0))
        curves.append(
            FRCCurve(
                np.arange(n_rings) / n,
                total,
                np.asarray(count.sum(0), dtype=np.float64),
                sector[0],
                sector[1],
                np.asarray(count[0]),
                np.asarray(count[1]),
            )
        )
    return curves


def _correlation(
    num: npt.NDArray[np.float64], pa: npt.NDArray[np.float64], pb: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    den = np.sqrt(pa * pb)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(den > 0, num / den, 0.0))


def binomial_split(
    image: npt.ArrayLike, gain_e_per_dn: float, offset_counts: float, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], float]:
    """Split a photon-converted image into two independent halves (each photon to either, p = ½).

    Parameters
    ----------
    image : array_like
        The (Y, X) image in counts (DN).
    gain_e_per_dn : float
        Conversion gain, photo-electrons per count (1/K).
    offset_counts : float
        Offset (counts at zero light).
    rng : numpy.random.Generator
        The random source (seeded: the analysis is deterministic).

    Returns
    -------
    tuple
        ``(half_1, half_2, clipped_fraction)``: photon counts, and the fraction of pixels below
        the offset (set to zero photons).

    Raises
    ------
    AnalysisError
        A gain that is not positive, or an image with no photons above the offset.
    """
    if not gain_e_per_dn > 0:
        raise AnalysisError(f"The conversion gain must be positive (e⁻/DN); it is {gain_e_per_dn}.")
    electrons = (np.asarray(image, dtype=np.float64) - offset_counts) * gain_e_per_dn
    clipped = float(np.mean(electrons < 0))
    counts = np.rint(np.clip(electrons, 0, None)).astype(np.int64)
    if counts.sum() == 0:
        raise AnalysisError(
            f"No photons above the offset ({offset_counts:g} counts) at gain {gain_e_per_dn:g} e⁻/DN: "
            "check the offset and gain."
        )
    half = rng.binomial(counts, 0.5)
    return half, counts - half, clipped


def threshold_crossing(
    frequency: npt.NDArray[np.float64], curve: npt.NDArray[np.float64], threshold: npt.NDArray[np.float64]
) -> float | None:
    """The first frequency where ``curve`` falls below ``threshold``, linearly interpolated.

    The curve is smoothed over three rings first (a running mean) so that one noisy ring does not
    end it; ring 0 (the mean, removed) is skipped, and left out of ring 1's mean (after an edge
    taper it holds what is left of the mean, and after the half-data correction of a split image
    it can be far below −1).

    Parameters
    ----------
    frequency, curve, threshold : numpy.ndarray
        Per ring.

    Returns
    -------
    float or None
        The crossing in cycles per pixel; None when the curve stays above to the last ring.
    """
    c = curve.copy()
    if c.size >= 3:
        c[1:-1] = (curve[:-2] + curve[1:-1] + curve[2:]) / 3.0
        c[1] = (curve[1] + curve[2]) / 2.0
    below = np.nonzero(c[1:] < threshold[1:])[0]
    if below.size == 0:
        return None
    i = int(below[0]) + 1
    if i <= 1:
        return float(frequency[1])
    d0, d1 = c[i - 1] - threshold[i - 1], c[i] - threshold[i]
    t = d0 / (d0 - d1) if d0 != d1 else 0.0
    return float(frequency[i - 1] + t * (frequency[i] - frequency[i - 1]))

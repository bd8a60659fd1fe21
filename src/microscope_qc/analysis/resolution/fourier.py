"""Fourier helpers shared by FRC and decorrelation: edge apodisation, the half-plane radial grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.results import AnalysisError

__all__ = ["MIN_SIZE", "apodize", "HalfPlane", "half_plane", "check_image", "rfft2"]

#: the smallest image side the analyses accept (px): fewer rings than this give no usable curve
MIN_SIZE = 32


def check_image(image: npt.ArrayLike, what: str = "The image") -> npt.NDArray[np.float64]:
    """Return a 2D float image, or raise a specific error for one that cannot be analysed.

    Parameters
    ----------
    image : array_like
        A (Y, X) image.
    what : str
        How the message names it.

    Returns
    -------
    numpy.ndarray
        The image as float64.

    Raises
    ------
    AnalysisError
        Not 2D, smaller than :data:`MIN_SIZE` px on a side, not finite, or constant.
    """
    a = np.asarray(image, dtype=np.float64)
    if a.ndim != 2:
        raise AnalysisError(f"{what} must be one 2D plane (Y, X); it has shape {a.shape}.")
    if min(a.shape) < MIN_SIZE:
        raise AnalysisError(
            f"{what} is {a.shape[1]}×{a.shape[0]} px; resolution needs at least {MIN_SIZE}×{MIN_SIZE} px "
            "(a few hundred pixels a side give a usable curve)."
        )
    if not np.all(np.isfinite(a)):
        raise AnalysisError(f"{what} holds NaN or infinite values; resolution needs finite pixel values.")
    if float(a.max()) == float(a.min()):
        raise AnalysisError(
            f"{what} is constant ({a.flat[0]:g} everywhere): it holds no structure to resolve."
        )
    return a


def apodize(image: npt.NDArray[np.float64], edge_px: int = 20) -> npt.NDArray[np.float64]:
    """Subtract the mean and taper the borders with a cosine edge (Descloux et al.'s ``apodImRect``).

    Parameters
    ----------
    image : numpy.ndarray
        A (Y, X) float image.
    edge_px : int
        Width of the cosine taper on each side (at most half the side: half the side is a Hann window).

    Returns
    -------
    numpy.ndarray
        The apodised image (zero mean before tapering; the taper pulls the borders to zero).
    """
    out: npt.NDArray[np.float64] = np.asarray(image - image.mean(), dtype=np.float64)
    for axis, n in enumerate(out.shape):
        e = max(1, min(edge_px, n // 2))
        w = np.ones(n)
        ramp = 0.5 * (1 - np.cos(np.pi * (np.arange(e) + 0.5) / e))
        w[:e] = ramp
        w[n - e :] = ramp[::-1]
        out *= w.reshape((-1, 1) if axis == 0 else (1, -1))
    return out


def rfft2(image: npt.NDArray[np.float64]) -> npt.NDArray[np.complex128]:
    """The 2D real FFT on every core (``scipy.fft.rfft2``, ``workers=-1``).

    Parameters
    ----------
    image : numpy.ndarray
        A (Y, X) float image.

    Returns
    -------
    numpy.ndarray
        Its half-plane spectrum, shape (Y, X // 2 + 1).
    """
    import scipy.fft

    return np.asarray(scipy.fft.rfft2(image, workers=-1), dtype=np.complex128)


@dataclass(frozen=True)
class HalfPlane:
    """The frequencies of an ``rfft2`` of a (Y, X) image.

    Attributes
    ----------
    radius : numpy.ndarray
        Radial frequency of every element, in cycles per pixel (Nyquist: 0.5), shape of the rfft2.
    weight : numpy.ndarray
        How many elements of the full plane each one stands for (2 for the columns whose
        mirror image the half-plane omits, else 1), broadcastable to ``radius``.
    """

    radius: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]


def half_plane(shape: tuple[int, int]) -> HalfPlane:
    """The radial frequency and the full-plane weight of every ``rfft2`` element of an image.

    Parameters
    ----------
    shape : tuple of int
        (Y, X) of the image.

    Returns
    -------
    HalfPlane
        Frequencies in cycles per pixel.
    """
    ny, nx = shape
    fy = np.fft.fftfreq(ny)[:, None]
    fx = np.fft.rfftfreq(nx)[None, :]
    radius = np.sqrt(fy * fy + fx * fx)
    weight = np.full((1, fx.size), 2.0)
    weight[0, 0] = 1.0
    if nx % 2 == 0:
        weight[0, -1] = 1.0
    return HalfPlane(radius, weight)

"""The individual image-quality checks: pure functions of a 2D image."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["infer_bit_depth", "immerkaer_noise", "otsu_threshold", "focus_measure"]


def infer_bit_depth(maximum: float, container_bits: int) -> int:
    """The detector's bit depth from the data's maximum: 12- or 14-bit data in a 16-bit container.

    Parameters
    ----------
    maximum : float
        The image's largest value.
    container_bits : int
        Bits of the pixel type (8, 16, 32).

    Returns
    -------
    int
        The smallest of 8, 10, 12, 14, 16 (up to the container) whose range holds ``maximum``.
    """
    for bits in (8, 10, 12, 14, 16):
        if bits <= container_bits and maximum <= 2**bits - 1:
            return bits
    return container_bits


def immerkaer_noise(image: npt.NDArray[np.float64], centres: npt.NDArray[np.bool_] | None = None) -> float:
    """Noise SD by Immerkær's fast estimator (Comput Vis Image Underst 64:300, 1996).

    σ = √(π/2) / (6 (W − 2)(H − 2)) · Σ |I ∗ N|, N = [[1, −2, 1], [−2, 4, −2], [1, −2, 1]]: the
    mask is orthogonal to every plane and every quadratic-free structure, so smooth structure
    barely contributes.

    Parameters
    ----------
    image : numpy.ndarray
        A (Y, X) image, at least 3 × 3.
    centres : numpy.ndarray, optional
        A (Y − 2, X − 2) mask of the pixels (inner pixels, offset by one) to average over; default all
        (the formula above). A region's noise: the pixels whose 3 × 3 neighbourhood lies in it.

    Returns
    -------
    float
        The noise standard deviation, in the image's units.
    """
    a = image
    conv = (
        a[:-2, :-2] - 2 * a[:-2, 1:-1] + a[:-2, 2:]
        - 2 * a[1:-1, :-2] + 4 * a[1:-1, 1:-1] - 2 * a[1:-1, 2:]
        + a[2:, :-2] - 2 * a[2:, 1:-1] + a[2:, 2:]
    )  # fmt: skip
    if centres is not None:
        return float(math.sqrt(math.pi / 2) * np.abs(conv[centres]).mean() / 6.0)
    h, w = a.shape
    return float(math.sqrt(math.pi / 2) * np.abs(conv).sum() / (6.0 * (w - 2) * (h - 2)))


def otsu_threshold(values: npt.NDArray[np.float64], bins: int = 256) -> float:
    """Otsu's threshold (the largest between-class variance) of the values' histogram.

    Parameters
    ----------
    values : numpy.ndarray
        Pixel values.
    bins : int
        Histogram bins.

    Returns
    -------
    float
        The threshold (an upper bin edge).
    """
    hist, edges = np.histogram(values, bins=bins)
    p = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    w1 = w0[-1] - w0
    m0 = np.cumsum(p * centres)
    with np.errstate(invalid="ignore", divide="ignore"):
        between = (m0[-1] * w0 / w0[-1] - m0) ** 2 / (w0 * w1)
    between = np.where(np.isfinite(between), between, -1)
    return float(edges[int(np.argmax(between)) + 1])


def focus_measure(image: npt.NDArray[np.float64], noise_sd: float) -> float:
    """Sharpness: the share of the structure's spectral power above half the Nyquist frequency.

    The power spectrum minus the white-noise floor (``noise_sd``², the same at every frequency)
    gives the structure's spectrum; a blurred image keeps little of it above half Nyquist.

    Parameters
    ----------
    image : numpy.ndarray
        A (Y, X) image.
    noise_sd : float
        The noise SD (its floor is removed).

    Returns
    -------
    float
        High-frequency share of the structure's power, 0–1 (larger: sharper).
    """
    a = image - image.mean()
    spec = np.abs(np.fft.rfft2(a)) ** 2 / a.size
    f = np.sqrt(np.fft.fftfreq(a.shape[0])[:, None] ** 2 + np.fft.rfftfreq(a.shape[1])[None, :] ** 2)
    signal = np.clip(spec - noise_sd**2, 0, None)
    signal[0, 0] = 0
    total = signal.sum()
    return float(signal[f > 0.25].sum() / total) if total > 0 else 0.0

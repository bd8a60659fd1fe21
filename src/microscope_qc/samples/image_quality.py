"""A synthetic image with known saturation, zero clipping and noise (the image-quality checks).

12-bit data in a 16-bit container: smooth band-limited structure (no content above 0.1 cycles
per pixel) on a background, Gaussian noise of SD 10 counts, all kept within 1…4000; then a 10 × 10
block set to 4095 (exactly 100 saturated pixels) and a 5 × 20 block to 0 (exactly 100 clipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ImageQualitySample", "image_quality_sample", "napari_image_quality"]

LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]


@dataclass
class ImageQualitySample:
    """A (Y, X) uint16 image holding 12-bit data, its pixel size and the truth."""

    data: npt.NDArray[np.uint16]
    pixel_size_um: float
    truth: dict[str, Any]


def image_quality_sample(seed: int = 0, size: int = 512, noise_sd: float = 10.0) -> ImageQualitySample:
    """12-bit image with exactly 100 saturated and 100 zero pixels and noise of SD ``noise_sd``.

    Parameters
    ----------
    seed : int
        Random seed.
    size : int
        Side of the square image.
    noise_sd : float
        SD of the Gaussian noise (counts).

    Returns
    -------
    ImageQualitySample
        The image and its truth.
    """
    from microscope_qc.samples.resolution import band_limited_structure

    rng = np.random.default_rng(seed)
    s = band_limited_structure((size, size), 0.1, 1.0, rng)
    img = 800 + 300 * s + rng.normal(0, noise_sd, (size, size))
    img = np.clip(np.rint(img), 1, 4000)
    img[20:30, 20:30] = 4095
    img[size - 10 : size - 5, 40:60] = 0
    n = size * size
    truth = {
        "bit_depth": 12,
        "saturated_pixels": 100,
        "zero_pixels": 100,
        "saturated_percent": 100 * 100 / n,
        "zero_clipped_percent": 100 * 100 / n,
        "noise_sd_counts": noise_sd,
    }
    return ImageQualitySample(img.astype(np.uint16), 0.1, truth)


def napari_image_quality() -> list[LayerDataTuple]:
    """The napari sample: 12-bit data in 16 bits with known saturation, clipping and noise."""
    s = image_quality_sample()
    meta = {"truth": s.truth}
    scale = (s.pixel_size_um, s.pixel_size_um)
    return [(s.data, {"name": "image quality (synthetic)", "scale": scale, "metadata": meta}, "image")]

"""Synthetic XZ images of a mirror reflection with a known axial FWHM (the mirror measurement).

The reflection's axial profile at column x is a Gaussian of FWHM f(x) = f₀ (1 + k ((x − x_c)/(X/2))²)
(a field-dependent broadening), centred at a z that moves linearly across the field (a tilted
mirror), on a background, with Poisson noise. The truth per column band is f at the band centre
(the broadening and the tilt change by well under 1 % within a 16-pixel band).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MirrorSample", "mirror_sample", "mirror_fwhm_truth", "napari_mirror"]

LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]


@dataclass
class MirrorSample:
    """(Z, X) XZ image, the z step and x pixel size, the truth."""

    data: npt.NDArray[np.uint16]
    z_step_um: float
    x_step_um: float
    truth: dict[str, Any]


def mirror_fwhm_truth(
    x_px: npt.ArrayLike, n_x: int, fwhm_um: float, curvature: float
) -> npt.NDArray[np.float64]:
    """The sample's axial FWHM at column ``x_px`` (µm).

    Parameters
    ----------
    x_px : array_like
        Column positions (pixels, may be fractional: a band centre).
    n_x : int
        Columns of the image.
    fwhm_um, curvature : float
        f₀ and k of the module text.

    Returns
    -------
    numpy.ndarray
        f(x).
    """
    xc = (n_x - 1) / 2.0
    r = (np.asarray(x_px, dtype=np.float64) - xc) / (n_x / 2.0)
    return np.asarray(fwhm_um * (1 + curvature * r * r))


def mirror_sample(
    seed: int = 0,
    n_z: int = 64,
    n_x: int = 256,
    z_step_um: float = 0.1,
    x_step_um: float = 0.2,
    fwhm_um: float = 0.6,
    curvature: float = 0.08,
    tilt_um: float = 0.3,
    amplitude: float = 3000.0,
    background: float = 50.0,
) -> MirrorSample:
    """An XZ image of a mirror reflection: axial FWHM 0.6 µm at the centre, 8 % broader at the edges, tilted.

    Parameters
    ----------
    seed : int
        Random seed.
    n_z, n_x : int
        Image size (z planes, x columns).
    z_step_um, x_step_um : float
        Plane spacing and pixel size.
    fwhm_um : float
        Axial FWHM at the centre of the field.
    curvature : float
        Relative broadening at the edges of the field.
    tilt_um : float
        How far the reflection moves in z from the first column to the last.
    amplitude, background : float
        Peak and background, expected photons.

    Returns
    -------
    MirrorSample
        The image and its truth.
    """
    rng = np.random.default_rng(seed)
    x = np.arange(n_x)
    f = mirror_fwhm_truth(x, n_x, fwhm_um, curvature)
    sigma = f / (2 * np.sqrt(2 * np.log(2)))
    centre = (n_z / 2 - 0.3) * z_step_um + tilt_um * x / max(n_x - 1, 1)
    z = np.arange(n_z)[:, None] * z_step_um
    expected = background + amplitude * np.exp(-0.5 * ((z - centre[None, :]) / sigma[None, :]) ** 2)
    data = np.clip(rng.poisson(expected), 0, 65535).astype(np.uint16)
    truth = {
        "fwhm_z_centre_um": fwhm_um,
        "curvature": curvature,
        "tilt_um": tilt_um,
        "definition": "FWHM(x) = f0 (1 + k ((x - xc)/(X/2))^2), xc = (X - 1)/2, x in pixels",
        "z_step_um": z_step_um,
        "x_step_um": x_step_um,
    }
    return MirrorSample(data, z_step_um, x_step_um, truth)


def napari_mirror() -> list[LayerDataTuple]:
    """The napari sample: an XZ image of a tilted mirror's reflection, axial FWHM 0.6 µm at the centre."""
    s = mirror_sample()
    meta = {"truth": s.truth}
    return [
        (
            s.data,
            {"name": "mirror XZ (synthetic)", "scale": (s.z_step_um, s.x_step_um), "metadata": meta},
            "image",
        )
    ]

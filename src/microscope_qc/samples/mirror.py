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

__all__ = [
    "MirrorSample",
    "mirror_sample",
    "mirror_fwhm_truth",
    "mirror_good_sample",
    "mirror_pinhole_sample",
    "mirror_uneven_sample",
    "napari_mirror",
    "mirror_layers",
    "GALLERY_OPTICS",
]

#: the optics of the gallery's mirror samples (their commands pass them): NA 1.4 oil, 488 nm reflected
GALLERY_OPTICS: dict[str, float] = {"na": 1.4, "immersion_index": 1.518, "wavelength_nm": 488.0}

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


def _gallery(seed: int, excess: float, curvature: float, tilt_um: float, **truth: Any) -> MirrorSample:
    """A gallery mirror for :data:`GALLERY_OPTICS`: centre FWHM ``excess`` × the confocal theory, 40 nm z steps."""
    from microscope_qc.analysis.mirror.theory import mirror_axial_fwhm_um

    o = GALLERY_OPTICS
    theory = mirror_axial_fwhm_um(o["wavelength_nm"], o["na"], o["immersion_index"])
    s = mirror_sample(
        seed=seed,
        z_step_um=0.04,
        fwhm_um=round(excess * theory, 4),
        curvature=curvature,
        tilt_um=tilt_um,
    )
    s.truth.update(
        {
            "na": o["na"],
            "immersion_index": o["immersion_index"],
            "wavelength_nm": o["wavelength_nm"],
            "theory_fwhm_z_um": theory,
            "excess_over_theory": excess,
            **truth,
        }
    )
    return s


def mirror_good_sample(seed: int = 0) -> MirrorSample:
    """A good confocal: centre axial FWHM 1.15 × the theory (0.267 µm), 8 % broader at the edges, tilt 0.1 µm.

    The excess is what a pinhole of about 1 Airy unit and residual aberrations give over the
    point-pinhole theory (:func:`~microscope_qc.analysis.mirror.mirror_axial_fwhm_um`, 0.232 µm for
    NA 1.4, n 1.518, 488 nm).

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    MirrorSample
        The XZ image and its truth (with the optics and the theory).
    """
    return _gallery(seed, 1.15, 0.08, 0.1)


def mirror_pinhole_sample(seed: int = 0) -> MirrorSample:
    """A pinhole left wide open (or spherical aberration): centre axial FWHM 3 × the theory (0.697 µm).

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    MirrorSample
        The XZ image and its truth.
    """
    return _gallery(seed, 3.0, 0.08, 0.1, fault="axial FWHM 3 × the confocal theory (MetroloJ_QC limit 2)")


def mirror_uneven_sample(seed: int = 0) -> MirrorSample:
    """Good at the centre (1.15 × theory) but 80 % broader at the edges of the field: CV of the bands about 18 %.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    MirrorSample
        The XZ image and its truth.
    """
    return _gallery(seed, 1.15, 0.8, 0.1, fault="axial FWHM 80 % broader at the edges of the field")


def napari_mirror() -> list[LayerDataTuple]:
    """The napari sample: an XZ image of a good confocal's mirror reflection (:func:`mirror_good_sample`)."""
    return mirror_layers(mirror_good_sample())


def mirror_layers(s: MirrorSample) -> list[LayerDataTuple]:
    """The napari layer of a mirror sample: the XZ image, scaled (z step, x pixel), its truth in the metadata.

    The gallery's mirrors are imaged with :data:`GALLERY_OPTICS`; the layer records them as a file's
    metadata (``microscope_qc`` ▸ ``settings``, as the other samples' layers).

    Parameters
    ----------
    s : MirrorSample
        The sample.

    Returns
    -------
    list of LayerDataTuple
        One image layer.
    """
    # the optics as the bundled samples' layers carry them (the dock fills its fields from them)
    settings = {
        "voxel_size_um": (s.z_step_um, 1.0, s.x_step_um),
        "na": GALLERY_OPTICS["na"],
        "immersion_index": GALLERY_OPTICS["immersion_index"],
        "modality": "confocal",
        "wavelength_ex_nm": [GALLERY_OPTICS["wavelength_nm"]],
        "wavelength_em_nm": [GALLERY_OPTICS["wavelength_nm"]],
    }
    meta = {"truth": s.truth, "microscope_qc": {"settings": settings, "source": "synthetic mirror"}}
    return [
        (
            s.data,
            {"name": "mirror XZ (synthetic)", "scale": (s.z_step_um, s.x_step_um), "metadata": meta},
            "image",
        )
    ]

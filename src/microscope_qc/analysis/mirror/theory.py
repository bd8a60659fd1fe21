"""Axial response of a confocal microscope to a plane mirror (reflection mode), paraxial theory."""

from __future__ import annotations

import math

__all__ = ["mirror_axial_fwhm_um", "MIRROR_THEORY_LABEL"]

#: how reports name this theory
MIRROR_THEORY_LABEL = "confocal reflection, plane mirror, paraxial: 0.443 λ / (n (1 − cos α))"


def mirror_axial_fwhm_um(wavelength_nm: float, na: float, n: float) -> float:
    """FWHM of the axial response of an ideal confocal reflection microscope to a plane mirror.

    Paraxial theory (Corle, Chou & Kino, Opt Lett 11:770, 1986; Wilson & Sheppard 1984): with a
    point pinhole the detected intensity is I(u) = [sin(u/2)/(u/2)]², u = 8π n z sin²(α/2)/λ,
    α = asin(NA/n). Its half maximum is at u/2 = 1.39156, so
    FWHM = 2 · 2.78311 λ / (8π n sin²(α/2)) = 0.443 λ / (n (1 − cos α)).

    Parameters
    ----------
    wavelength_nm : float
        Wavelength of the reflected light (the excitation's, in reflection mode).
    na : float
        Numerical aperture.
    n : float
        Refractive index of the immersion medium.

    Returns
    -------
    float
        The axial FWHM in µm.

    Raises
    ------
    ValueError
        NA not below the refractive index, or a non-positive wavelength.
    """
    if not (0 < na < n) or not wavelength_nm > 0:
        raise ValueError(f"Need 0 < NA < n and a positive wavelength (NA {na}, n {n}, λ {wavelength_nm} nm).")
    alpha = math.asin(na / n)
    half = 1.391557377  # sinc²(x) = ½ at x = 1.39156
    return 2 * 2 * half * (wavelength_nm / 1000.0) / (8 * math.pi * n * math.sin(alpha / 2) ** 2)

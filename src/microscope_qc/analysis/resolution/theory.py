"""The resolution an image can reach by theory: Abbe's limit, to which FRC resolutions are compared."""

from __future__ import annotations

__all__ = ["abbe_resolution_um", "ABBE_LABEL"]

#: how reports name this theory
ABBE_LABEL = "Abbe: λem / (2 NA)"


def abbe_resolution_um(wavelength_nm: float, na: float) -> float:
    """Abbe's resolution limit d = λ / (2 NA): the period of the finest detail a widefield microscope transfers.

    The incoherent optical transfer function of an objective of numerical aperture NA is zero
    beyond the spatial frequency 2 NA / λ; an image's FRC or decorrelation cut-off cannot exceed
    it, so the resolution they give (1 / cut-off) is at least λ / (2 NA). FRC resolutions are
    compared with this limit (Nieuwenhuizen et al., Nat Methods 10:557, 2013; Descloux et al.,
    Nat Methods 16:918, 2019).

    Parameters
    ----------
    wavelength_nm : float
        Emission wavelength.
    na : float
        Numerical aperture.

    Returns
    -------
    float
        The limit in µm.

    Raises
    ------
    ValueError
        A non-positive wavelength or NA.
    """
    if not (wavelength_nm > 0 and na > 0):
        raise ValueError(f"Need a positive wavelength and NA (λ {wavelength_nm} nm, NA {na}).")
    return wavelength_nm / 1000.0 / (2.0 * na)

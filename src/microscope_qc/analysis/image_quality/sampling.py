"""The Nyquist pixel size the sampling check compares with: one function for the command line and the dock."""

from __future__ import annotations

__all__ = ["nyquist_pixel_um"]


def nyquist_pixel_um(
    modality: str | None,
    na: float | None,
    immersion_index: float | None,
    wavelength_ex_nm: float | None,
    wavelength_em_nm: float | None,
) -> tuple[float | None, str]:
    """The lateral Nyquist pixel size of the optics (MetroloJ_QC's definition), or why there is none.

    Parameters
    ----------
    modality : str or None
        The imaging modality (any spelling :meth:`~microscope_qc.instrument.Modality.parse` accepts).
    na : float or None
        Numerical aperture.
    immersion_index : float or None
        Refractive index of the immersion medium.
    wavelength_ex_nm, wavelength_em_nm : float or None
        Excitation and emission wavelengths (nm); the modality says which it needs.

    Returns
    -------
    nyquist_um : float or None
        :func:`~microscope_qc.instrument.nyquist_sampling`'s lateral value.
    reason : str
        Empty, or what is missing or wrong (for the warning).
    """
    from microscope_qc.instrument import SettingsError, nyquist_sampling

    missing = [
        name
        for name, v in (("modality", modality), ("NA", na), ("immersion index", immersion_index))
        if not v
    ]
    if missing:
        return None, f"it needs the {', '.join(missing)} (and the wavelength)"
    assert modality is not None and na is not None and immersion_index is not None
    if na >= immersion_index:
        return None, f"the NA ({na:g}) must be below the immersion index ({immersion_index:g})"
    try:
        # the lateral value needs no sheet thickness (a light sheet's is the widefield one): any will do
        lateral, _ = nyquist_sampling(modality, na, immersion_index, wavelength_ex_nm, wavelength_em_nm, 1.0)
        return lateral, ""
    except SettingsError as exc:
        return None, str(exc)

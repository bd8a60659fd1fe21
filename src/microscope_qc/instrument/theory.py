"""Optical theory: MetroloJ_QC and physical resolution limits, Nyquist sampling, Gaussian PSF widths, bead-size corrections.

Light-sheet (and lattice light-sheet) microscopes image with a widefield detection objective
while a sheet of light, perpendicular to the detection axis, excites only a thin slab. The
system PSF is the product of the detection PSF and the sheet's axial profile (Engelbrecht &
Stelzer, Opt Lett 31:1477, 2006; Olarte et al., Adv Opt Photon 10:111, 2018). Lateral
resolution is the detection objective's; for Gaussian approximations of both factors the axial
FWHMs combine as 1/FWHM_z² = 1/FWHM_det² + 1/FWHM_sheet² (METRICS.md §9), see
:func:`light_sheet_axial_fwhm_um`. For Bessel and lattice sheets, whose side lobes a Gaussian
ignores, this is the width of the central lobe only (Remacha et al., Biomed Opt Express 11:8, 2020).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from microscope_qc.instrument.settings import FWHM_PER_SIGMA, Modality, SettingsError, TheoreticalResolution

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def _need(value: float | None, what: str, modality: Modality) -> float:
    if value is None:
        raise SettingsError(
            f"The {what} is needed for the theoretical resolution of a {modality} microscope."
        )
    return float(value)


def _axial_denominator(na: float, n: float) -> float:
    return n - math.sqrt(n * n - na * na)


#: What a light-sheet theory needs besides the optics, named in messages.
SHEET_THICKNESS = "the light-sheet thickness (the FWHM of the sheet, µm)"


def _sheet(sheet_thickness_um: float | None) -> float:
    if sheet_thickness_um is None:
        raise SettingsError(
            "The axial resolution of a light-sheet microscope is not known without {sheet_thickness_um}."
        )
    return float(sheet_thickness_um)


def light_sheet_axial_fwhm_um(detection_axial_um: float, sheet_thickness_um: float) -> float:
    """Axial FWHM of a light-sheet microscope from its detection PSF and sheet thickness.

    The system PSF is the detection PSF times the sheet's axial profile; for Gaussian
    approximations of both, 1/FWHM² = 1/FWHM_det² + 1/FWHM_sheet² (Engelbrecht & Stelzer 2006).

    Parameters
    ----------
    detection_axial_um : float
        Axial FWHM of the detection objective alone (a widefield formula), µm.
    sheet_thickness_um : float
        FWHM of the light sheet's axial profile, µm.

    Returns
    -------
    float
        The combined axial FWHM in µm, smaller than either factor.
    """
    return 1.0 / math.sqrt(detection_axial_um**-2 + sheet_thickness_um**-2)


def metroloj_resolution(
    modality: Modality | str,
    na: float,
    n: float,
    wavelength_ex_nm: float | None,
    wavelength_em_nm: float | None,
    sheet_thickness_um: float | None = None,
) -> TheoreticalResolution:
    """Theoretical FWHM with the MetroloJ_QC v1.3 formulas (METRICS.md §1, first table).

    MetroloJ_QC has no light-sheet formula; for ``light-sheet`` its widefield formulas give
    the detection PSF, whose axial FWHM is combined with the sheet thickness
    (:func:`light_sheet_axial_fwhm_um`).

    Parameters
    ----------
    modality : Modality or str
        The imaging modality (any spelling :meth:`Modality.parse` accepts).
    na : float
        Numerical aperture of the objective.
    n : float
        Refractive index of the immersion medium.
    wavelength_ex_nm, wavelength_em_nm : float or None
        Excitation and emission wavelengths in nm; only the one the modality needs is required.
    sheet_thickness_um : float or None, optional
        Light-sheet FWHM in µm; required for ``light-sheet``, ignored otherwise.

    Returns
    -------
    TheoreticalResolution
        Lateral and axial FWHM in µm.

    Raises
    ------
    SettingsError
        If the modality is unknown or the wavelength (or sheet thickness) it needs is missing.
    """
    modality = Modality.parse(modality)
    if modality is Modality.LIGHT_SHEET:
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        sheet = _sheet(sheet_thickness_um)
        axial = light_sheet_axial_fwhm_um(1.77 * n * lam / na**2, sheet)
        name = "MetroloJ_QC widefield detection combined with the light sheet (Engelbrecht & Stelzer 2006)"
        return TheoreticalResolution(0.51 * lam / na, axial, name)
    if modality is Modality.WIDEFIELD:
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        return TheoreticalResolution(0.51 * lam / na, 1.77 * n * lam / na**2, "MetroloJ_QC")
    if modality is Modality.CONFOCAL:
        lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
        return TheoreticalResolution(0.51 * lam / na, 0.88 * lam / _axial_denominator(na, n), "MetroloJ_QC")
    if modality is Modality.SPINNING_DISK:
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        return TheoreticalResolution(0.51 * lam / na, lam / _axial_denominator(na, n), "MetroloJ_QC")
    lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
    lateral = 0.377 * lam / na if na <= 0.7 else 0.383 * lam / na**0.91
    return TheoreticalResolution(lateral, 0.626 * lam / _axial_denominator(na, n), "MetroloJ_QC")


def physical_resolution(
    modality: Modality | str,
    na: float,
    n: float,
    wavelength_ex_nm: float | None,
    wavelength_em_nm: float | None,
    pinhole_au: float | None = None,
    sheet_thickness_um: float | None = None,
) -> TheoreticalResolution:
    """Theoretical FWHM from the better physics of METRICS.md §1.

    Widefield: Airy lateral 0.5145·λ/NA and the non-paraxial axial 0.88·λ/(n − sqrt(n² − NA²)).
    Light-sheet: the widefield values of the detection objective, the axial one combined with the
    sheet thickness (:func:`light_sheet_axial_fwhm_um`).
    Confocal: the open-pinhole (≥ 1 AU) and closed-pinhole (≤ 0.25 AU) limits, linearly
    interpolated in pinhole size between them (the exact value needs a numerical PSF).
    Multiphoton: Zipfel et al. 2003.

    Parameters
    ----------
    modality : Modality or str
        The imaging modality (any spelling :meth:`Modality.parse` accepts).
    na : float
        Numerical aperture of the objective.
    n : float
        Refractive index of the immersion medium.
    wavelength_ex_nm, wavelength_em_nm : float or None
        Excitation and emission wavelengths in nm; only those the modality needs are required.
    pinhole_au : float or None, optional
        Confocal pinhole diameter in Airy units; ``None`` is taken as 1 AU.
    sheet_thickness_um : float or None, optional
        Light-sheet FWHM in µm; required for ``light-sheet``, ignored otherwise.

    Returns
    -------
    TheoreticalResolution
        Lateral and axial FWHM in µm and the name of the formula used.

    Raises
    ------
    SettingsError
        If the modality is unknown or a wavelength (or the sheet thickness) it needs is missing.
    """
    modality = Modality.parse(modality)
    denom = _axial_denominator(na, n)
    if modality is Modality.LIGHT_SHEET:
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        sheet = _sheet(sheet_thickness_um)
        axial = light_sheet_axial_fwhm_um(0.88 * lam / denom, sheet)
        name = "Airy / Cole et al. 2011 detection combined with the light sheet (Engelbrecht & Stelzer 2006)"
        return TheoreticalResolution(0.5145 * lam / na, axial, name)
    if modality in (Modality.WIDEFIELD, Modality.SPINNING_DISK):
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        name = "Airy / Cole et al. 2011 (non-paraxial)"
        return TheoreticalResolution(0.5145 * lam / na, 0.88 * lam / denom, name)
    if modality is Modality.CONFOCAL:
        lex = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
        lem = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        lam_bar = math.sqrt(2) * lex * lem / math.sqrt(lex**2 + lem**2)
        closed = (0.37 * lam_bar / na, 0.64 * lam_bar / denom)
        au_um = 1.22 * lem / na  # 1 Airy unit, object space
        ph = 1.0 if pinhole_au is None else float(pinhole_au)
        open_ = (
            0.51 * lex / na,
            math.sqrt((0.88 * lem / denom) ** 2 + (math.sqrt(2) * n * max(ph, 1.0) * au_um / na) ** 2),
        )
        if ph >= 1.0:
            return TheoreticalResolution(*open_, f"confocal, pinhole {ph:g} AU (open-pinhole limit)")
        if ph <= 0.25:
            return TheoreticalResolution(*closed, f"confocal, pinhole {ph:g} AU (closed-pinhole limit)")
        t = (ph - 0.25) / 0.75
        lat = closed[0] + t * (open_[0] - closed[0])
        ax = closed[1] + t * (open_[1] - closed[1])
        return TheoreticalResolution(lat, ax, f"confocal, pinhole {ph:g} AU (interpolated between limits)")
    lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
    w_xy = 0.320 * lam / (math.sqrt(2) * na) if na <= 0.7 else 0.325 * lam / (math.sqrt(2) * na**0.91)
    w_z = 0.532 * lam / math.sqrt(2) / denom
    return TheoreticalResolution(1.665 * w_xy, 1.665 * w_z, "Zipfel et al. 2003")


def nyquist_sampling(
    modality: Modality | str,
    na: float,
    n: float,
    wavelength_ex_nm: float | None,
    wavelength_em_nm: float | None,
    sheet_thickness_um: float | None = None,
) -> tuple[float, float]:
    """Nyquist voxel size (lateral, axial) in µm, MetroloJ_QC definition (METRICS.md §1).

    MetroloJ_QC has no light-sheet case. For ``light-sheet`` the lateral value is the widefield
    one of the detection objective, and the axial one the widefield step scaled by how much the
    sheet narrows the axial PSF (the ratio of the combined to the detection axial FWHM,
    MetroloJ_QC formulas): a Gaussian's spectrum widens as its FWHM shrinks, so the step needed
    to sample it shrinks in proportion.

    Parameters
    ----------
    modality : Modality or str
        The imaging modality (any spelling :meth:`Modality.parse` accepts).
    na : float
        Numerical aperture of the objective.
    n : float
        Refractive index of the immersion medium.
    wavelength_ex_nm, wavelength_em_nm : float or None
        Excitation and emission wavelengths in nm; only the one the modality needs is required.
    sheet_thickness_um : float or None, optional
        Light-sheet FWHM in µm; required for ``light-sheet``, ignored otherwise.

    Returns
    -------
    lateral_um, axial_um : float
        The largest voxel sizes that still sample the PSF at Nyquist.

    Raises
    ------
    SettingsError
        If the modality is unknown or the wavelength (or sheet thickness) it needs is missing.
    """
    modality = Modality.parse(modality)
    cos_a = math.cos(math.asin(na / n))
    if modality is Modality.LIGHT_SHEET:
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        detection = 1.77 * n * lam / na**2
        narrowing = light_sheet_axial_fwhm_um(detection, _sheet(sheet_thickness_um)) / detection
        return lam / (4 * na), narrowing * lam / (2 * n * (1 - cos_a))
    if modality in (Modality.WIDEFIELD, Modality.SPINNING_DISK):
        lam = _need(wavelength_em_nm, "emission wavelength", modality) / 1000
        return lam / (4 * na), lam / (2 * n * (1 - cos_a))
    lam = _need(wavelength_ex_nm, "excitation wavelength", modality) / 1000
    return lam / (8 * na), lam / (4 * n * (1 - cos_a))


def gaussian_psf_sigma(na: float, n: float, wavelength_nm: float) -> tuple[float, float]:
    """Best Gaussian approximation (σ_xy, σ_z) in µm of a widefield PSF (Zhang et al., Appl Opt 2007).

    Parameters
    ----------
    na : float
        Numerical aperture.
    n : float
        Refractive index of the immersion medium.
    wavelength_nm : float
        Emission wavelength in nm.

    Returns
    -------
    sigma_xy_um, sigma_z_um : float
        Lateral and axial standard deviations in µm.
    """
    k = 2 * math.pi / (wavelength_nm / 1000)
    c = math.cos(math.asin(na / n))
    s_xy = ((4 - 7 * c**1.5 + 3 * c**3.5) / (7 * (1 - c**1.5))) ** -0.5 / (n * k)
    s_z = (
        5
        * math.sqrt(7)
        * (1 - c**1.5)
        / (math.sqrt(6) * n * k * math.sqrt(4 * c**5 - 25 * c**3.5 + 42 * c**2.5 - 25 * c**1.5 + 4))
    )
    return s_xy, s_z


def bead_fwhm_um(diameter_um: float, shell: bool = False) -> float:
    """FWHM of the Gaussian that a bead adds in quadrature: 0.527·d (filled) or 0.680·d (shell).

    Parameters
    ----------
    diameter_um : float
        Bead diameter in µm.
    shell : bool, optional
        True for beads stained only in a shell.

    Returns
    -------
    float
        The FWHM in µm.
    """
    return (math.sqrt(1 / 12) if shell else math.sqrt(1 / 20)) * FWHM_PER_SIGMA * diameter_um


def correct_for_bead(
    fwhm_um: npt.ArrayLike, diameter_um: float | None, shell: bool = False
) -> npt.NDArray[np.float64]:
    """Remove the bead's size in quadrature: sqrt(FWHM² − FWHM_bead²); NaN where the bead is larger.

    Works on floats and numpy arrays alike.

    Parameters
    ----------
    fwhm_um : array_like of float
        Measured FWHM in µm.
    diameter_um : float or None
        Bead diameter in µm; ``None`` or 0 leaves the FWHM as it is.
    shell : bool, optional
        True for beads stained only in a shell, False for filled beads.

    Returns
    -------
    numpy.ndarray of float64
        The corrected FWHM, of the shape of ``fwhm_um`` (0-d for a scalar).
    """
    import numpy as np  # kept local: importing the settings module needs no numpy

    fwhm = np.asarray(fwhm_um, dtype=float)
    if not diameter_um:
        return fwhm
    diff = fwhm**2 - bead_fwhm_um(diameter_um, shell) ** 2
    with np.errstate(invalid="ignore"):
        return np.where(diff > 0, np.sqrt(np.clip(diff, 0, None)), np.nan)

"""``analyze_mirror``: axial FWHM from the reflection of a mirror (MetroloJ's axial-resolution tool, per band)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.mirror.result import MirrorResult
from microscope_qc.analysis.mirror.settings import MirrorSettings
from microscope_qc.analysis.mirror.theory import MIRROR_THEORY_LABEL, mirror_axial_fwhm_um
from microscope_qc.fitting import GaussianModel, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA, Setting, SettingsError, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, Metric, ProgressCallback, Verdict
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_mirror", "fit_profiles", "xz_image"]

#: fewest planes an axial profile needs for a Gaussian fit (4 parameters) with some to spare
_MIN_PLANES = 7


def xz_image(data: Any) -> npt.NDArray[np.float64]:
    """The (Z, X) image a mirror analysis reads: a 2D XZ scan as is, an XZY stack averaged over y.

    Parameters
    ----------
    data : array_like
        (Z, X) or (Z, Y, X).

    Returns
    -------
    numpy.ndarray
        (Z, X) float image.

    Raises
    ------
    AnalysisError
        Another number of dimensions, too few planes, non-finite or constant values.
    """
    a = np.asarray(data, dtype=np.float64)
    if a.ndim == 3:
        a = a.mean(axis=1)
    if a.ndim != 2:
        raise AnalysisError(f"A mirror image is (Z, X) or (Z, Y, X); this one has shape {a.shape}.")
    if a.shape[0] < _MIN_PLANES:
        raise AnalysisError(
            f"The image has {a.shape[0]} z planes; an axial profile needs at least {_MIN_PLANES} (the reflection "
            "and background on both sides)."
        )
    if not np.all(np.isfinite(a)):
        raise AnalysisError("The image holds NaN or infinite values.")
    if float(a.max()) == float(a.min()):
        raise AnalysisError("The image is constant: no reflection to measure.")
    return a


def fit_profiles(
    profiles: npt.NDArray[np.float64], z_step_um: float
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], Any
]:
    """Fit ``b + A exp(−(z − c)²/(2σ²))`` to each axial profile with the shared fitting engine.

    Parameters
    ----------
    profiles : numpy.ndarray
        (B, Z) profiles.
    z_step_um : float
        Plane spacing.

    Returns
    -------
    tuple
        ``(fwhm_um, fwhm_se_um, centre_um, r2, fit)``: FWHM = 2√(2 ln 2) σ, its standard error by
        the delta method (σ = 1/L, SE(σ) = SE(L)/L²), the centre, R², and the engine's result.
    """
    model = GaussianModel(1)
    n = profiles.shape[1]
    sigma_guess = np.maximum(
        (profiles > (profiles.min(1, keepdims=True) + profiles.max(1, keepdims=True)) / 2).sum(1)
        / FWHM_PER_SIGMA,
        0.5,
    )[:, None]
    fit = fit_gaussians(model, profiles, (n,), sigma_guess, pool_noise=False)
    L = np.abs(fit.params[:, 3])
    se_l = fit.stderr[:, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = 1.0 / L
        sigma_se = se_l / (L * L)
    fwhm = FWHM_PER_SIGMA * sigma * z_step_um
    fwhm_se = FWHM_PER_SIGMA * sigma_se * z_step_um
    ok = fit.success
    fwhm = np.where(ok, fwhm, np.nan)
    fwhm_se = np.where(ok, fwhm_se, np.nan)
    centre = np.where(ok, fit.params[:, 2] * z_step_um, np.nan)
    return fwhm, fwhm_se, centre, np.where(ok, fit.r2, np.nan), fit


def _roi(shape: tuple[int, int], roi: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    nz, nx = shape
    if roi is None:
        return 0, 0, nx, nz
    x0, z0, w, h = (int(v) for v in roi)
    if w <= 0 or h <= 0 or x0 < 0 or z0 < 0 or x0 + w > nx or z0 + h > nz:
        raise AnalysisError(
            f"The ROI (x {x0}, z {z0}, width {w}, height {h} px) is not inside the {nx} × {nz} px XZ image."
        )
    if h < _MIN_PLANES:
        raise AnalysisError(f"The ROI spans {h} z planes; an axial profile needs at least {_MIN_PLANES}.")
    return x0, z0, w, h


def analyze_mirror(
    data: Any,
    settings: MirrorSettings | None = None,
    *,
    z_step_um: float,
    x_step_um: float | None = None,
    roi: tuple[int, int, int, int] | None = None,
    wavelength_nm: float | None = None,
    na: float | None = None,
    immersion_index: float | None = None,
    channel: int = 0,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> MirrorResult:
    """Axial FWHM of a mirror reflection: the ROI-averaged profile (MetroloJ) and per column band.

    Parameters
    ----------
    data : array_like
        (Z, X) XZ image of the reflection, or (Z, Y, X) stack (averaged over y).
    settings : MirrorSettings, optional
        Band width and the fit-quality limit.
    z_step_um : float
        Plane spacing.
    x_step_um : float, optional
        Pixel size along x (band positions in µm; else in pixels).
    roi : tuple of 4 int, optional
        (x0, z0, width, height) in pixels; default the whole image.
    wavelength_nm, na, immersion_index : float, optional
        For the theoretical axial FWHM (confocal reflection from a plane mirror).
    channel : int
        The file's channel (recorded on the metrics).
    limits : Limits, optional
        Facility limits (e.g. a largest ``fwhm_z_um``).
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    MirrorResult
        ``fwhm_z_um`` (MetroloJ), the band statistics, the ratio to theory, the tables.

    Raises
    ------
    AnalysisError
        An image or ROI that cannot be analysed, a profile whose fit fails.
    SettingsError
        No z step.
    """
    settings = settings or MirrorSettings()
    validate_settings(settings)
    if not (z_step_um and math.isfinite(z_step_um) and z_step_um > 0):
        raise SettingsError("The z step is not known; give {voxel_size_um}.")
    image = xz_image(data)
    x0, z0, w, h = _roi(image.shape, roi)
    sub = image[z0 : z0 + h, x0 : x0 + w]
    result = MirrorResult(roi=(x0, z0, w, h), channel=channel)
    result.settings.update(settings.analysis_settings())
    result.settings["roi_px"] = Setting(
        (x0, z0, w, h), "px", Source.USER if roi is not None else Source.DEFAULT
    )
    result.settings["z_step_um"] = Setting(float(z_step_um), "um", Source.USER)

    def add(name: str, value: float, unit: str | None, description: str, se: float | None = None) -> None:
        result.metrics.append(Metric(name, float(value), unit, se, channel, description))

    # MetroloJ: one profile, averaged over the ROI's columns
    profile = sub.mean(axis=1)
    fwhm, se, centre, r2, fit = fit_profiles(profile[None, :], z_step_um)
    if not np.isfinite(fwhm[0]):
        raise AnalysisError(
            "The Gaussian fit of the ROI-averaged profile failed: is the reflection inside the ROI?"
        )
    add("fwhm_z_um", fwhm[0], "um", "axial FWHM of the ROI-averaged profile (MetroloJ)", float(se[0]))
    add("fit_r2", r2[0], None, "R² of the ROI-averaged profile's Gaussian fit")
    z_um = (z0 + np.arange(h)) * z_step_um
    result.tables["profile"] = pd.DataFrame({"z_um": z_um, "intensity": profile, "fit": fit.model[0]})
    if progress:
        progress(0.3, "mirror: column bands")
    check_cancel(cancel, "Mirror analysis")

    # per column band: all bands in one batch of the fitting engine
    band = min(settings.band_px, w)
    starts = np.arange(0, w - band + 1, band)
    profiles = np.stack([sub[:, s : s + band].mean(axis=1) for s in starts])
    b_fwhm, b_se, b_centre, b_r2, _ = fit_profiles(profiles, z_step_um)
    status = np.where(~np.isfinite(b_fwhm), "fit failed", np.where(b_r2 < settings.min_r2, "poor fit", "ok"))
    x_c = x0 + starts + (band - 1) / 2.0
    bands = pd.DataFrame(
        {
            "band": np.arange(starts.size),
            "x_start_px": x0 + starts,
            "x_end_px": x0 + starts + band,
            "x_um": x_c * x_step_um if x_step_um else np.full(starts.size, np.nan),
            "fwhm_um": b_fwhm,
            "fwhm_se_um": b_se,
            "centre_um": b_centre + z0 * z_step_um,
            "r2": b_r2,
            "status": status,
        }
    )
    result.tables["bands"] = bands
    ok = bands[bands["status"] == "ok"]
    add("n_bands", len(bands), None, "column bands fitted")
    add("n_bands_ok", len(ok), None, "column bands with a good fit")
    if len(ok) < len(bands):
        result.warnings.append(
            f"{len(bands) - len(ok)} of {len(bands)} column bands left out of the field statistics (fit failed or "
            f"R² < {settings.min_r2:g})."
        )
    if len(ok):
        f = ok["fwhm_um"].to_numpy()
        add("band_fwhm_median_um", float(np.median(f)), "um", "median axial FWHM over the column bands")
        add("band_fwhm_min_um", float(f.min()), "um", "smallest band FWHM")
        add("band_fwhm_max_um", float(f.max()), "um", "largest band FWHM")
        if len(ok) > 1:
            add(
                "band_fwhm_cv_percent",
                100 * float(f.std(ddof=1) / f.mean()),
                "percent",
                "CV of the band FWHMs",
            )
            xs = (ok["x_start_px"].to_numpy() + ok["x_end_px"].to_numpy() - 1) / 2.0
            slope = np.polyfit(xs, ok["centre_um"].to_numpy(), 1)[0]  # µm of z per pixel of x
            if x_step_um:
                add(
                    "tilt_deg",
                    math.degrees(math.atan(slope / x_step_um)),
                    "deg",
                    "mirror tilt in the XZ plane",
                )
                if abs(slope) * w > 0.25 * float(np.median(f)):
                    result.warnings.append(
                        "The mirror is tilted: its reflection moves by "
                        f"{abs(slope) * w:.2f} µm in z across the ROI, which broadens the ROI-averaged (MetroloJ) "
                        "profile; the per-band FWHMs are not affected."
                    )
    if wavelength_nm and na and immersion_index:
        theory = mirror_axial_fwhm_um(wavelength_nm, na, immersion_index)
        add("theory_fwhm_z_um", theory, "um", MIRROR_THEORY_LABEL)
        ratio_se = float(se[0]) / theory if np.isfinite(se[0]) else None
        add("ratio_to_theory", fwhm[0] / theory, None, "MetroloJ FWHM / theory", ratio_se)
        if len(ok):
            add(
                "band_ratio_to_theory",
                float(np.median(ok["fwhm_um"])) / theory,
                None,
                "median band FWHM / theory",
            )
        result.settings["theory"] = Setting(MIRROR_THEORY_LABEL, None, Source.DEFAULT)
    else:
        result.warnings.append(
            "No theoretical axial FWHM: it needs the wavelength, the NA and the immersion index."
        )
    values = {m.name: m.value for m in result.metrics}
    for metric, threshold in (
        ("fwhm_z_um", settings.tolerance_um),
        ("ratio_to_theory", settings.tolerance_ratio),
        ("band_fwhm_cv_percent", settings.max_cv_percent),
    ):
        if threshold is not None and metric in values:
            result.verdicts.append(Verdict.check(metric, values[metric], threshold, "<=", "user", channel))
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "mirror: done")
    return result

"""Per-channel summaries of accepted beads, verdicts against theory and Nyquist, plausibility and fit-quality notes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from microscope_qc.analysis.psf.aberrations import AberrationLimits, summarise_aberrations
from microscope_qc.analysis.psf.misfit import misfit
from microscope_qc.analysis.psf.result import PSFResult
from microscope_qc.analysis.psf.settings import PSFSettings
from microscope_qc.instrument import (
    MicroscopeSettings,
    Modality,
    SettingsError,
    TheoreticalResolution,
    nyquist_sampling,
)
from microscope_qc.results import Metric, Verdict, robust_summary

#: A median FWHM below this fraction of the physical theory is implausible: a Gaussian fitted to an
#: aberration-free PSF comes within ~6 % of it (Airy core, non-paraxial axial FWHM), beads and
#: aberrations only widen it, and the medians scatter by a few per cent; lower means a setting is wrong.
PLAUSIBLE_FRACTION = 0.8
#: A median FWHM above this multiple of the theory is implausible too: no working objective is that far
#: off; a voxel size in nm instead of µm (1000×) or a wrong image is the likely cause.
IMPLAUSIBLE_MULTIPLE = 50.0


def _summarise(
    result: PSFResult,
    table: pd.DataFrame,
    c: int,
    theory: TheoreticalResolution | None,
    theory_phys: TheoreticalResolution | None,
    ms: MicroscopeSettings,
    s: PSFSettings,
    voxel: tuple[float, float, float],
    limits: AberrationLimits | None = None,
) -> None:
    acc = table[table["status"] == "accepted"]
    n_acc = len(acc)
    result.metrics.append(Metric("n_candidates", len(table), None, None, c, "beads found or given"))
    result.metrics.append(Metric("n_accepted", n_acc, None, None, c, "beads that passed every check"))
    if n_acc == 0:
        result.warnings.append(
            f"Channel {c}: no bead passed the checks; see the reasons in the bead table "
            f"({table['reason'].value_counts().to_dict()})."
        )
    elif n_acc < 5:
        result.warnings.append(f"Channel {c}: only {n_acc} accepted beads; the medians are uncertain.")
    summary_names = [
        ("fwhm_x_um", "um", "median lateral FWHM along x of accepted beads"),
        ("fwhm_y_um", "um", "median lateral FWHM along y"),
        ("fwhm_z_um", "um", "median axial FWHM"),
        ("fwhm_x_corrected_um", "um", "median FWHM x with the bead size removed in quadrature"),
        ("fwhm_y_corrected_um", "um", "median FWHM y with the bead size removed in quadrature"),
        ("fwhm_z_corrected_um", "um", "median FWHM z with the bead size removed in quadrature"),
        ("lateral_asymmetry", None, "median min(FWHMx, FWHMy)/max(FWHMx, FWHMy) (MetroloJ_QC)"),
        ("principal_axis_ratio", None, "median minor/major principal-axis FWHM"),
        ("sbr", None, "median signal-to-background ratio (MetroloJ_QC definition)"),
        ("fwhm_x_crb_um", "um", "median Cramér–Rao bound of a single bead's FWHM x"),
        ("fwhm_z_crb_um", "um", "median Cramér–Rao bound of a single bead's FWHM z"),
    ]
    for name, unit, desc in summary_names:
        if name not in acc:
            continue
        med, sd, se, k = robust_summary(acc[name].to_numpy())
        if k == 0:
            continue
        result.metrics.append(Metric(name, med, unit, se, c, desc, "standard error of the median"))
        if name in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um"):
            result.metrics.append(
                Metric(
                    name.replace("_um", "_spread_um"),
                    sd,
                    unit,
                    None,
                    c,
                    f"robust SD of {name} over beads (1.4826·MAD)",
                )
            )
    if theory is not None:
        _theory_metrics(result, acc, c, theory, theory_phys, ms, s, voxel)
    summarise_aberrations(result, acc, c, limits)


def _theory_metrics(
    result: PSFResult,
    acc: pd.DataFrame,
    c: int,
    theory: TheoreticalResolution,
    theory_phys: TheoreticalResolution | None,
    ms: MicroscopeSettings,
    s: PSFSettings,
    voxel: tuple[float, float, float],
) -> None:
    """Theory, ratios and their verdicts, Nyquist sampling, and the plausibility of the medians."""
    axial_known = math.isfinite(theory.axial_um)
    result.metrics.append(
        Metric("theoretical_fwhm_xy_um", theory.lateral_um, "um", None, c, f"lateral, {theory.formula}")
    )
    if axial_known:
        result.metrics.append(
            Metric("theoretical_fwhm_z_um", theory.axial_um, "um", None, c, f"axial, {theory.formula}")
        )
    if theory_phys is not None:
        result.metrics.append(
            Metric(
                "theoretical_fwhm_xy_physical_um", theory_phys.lateral_um, "um", None, c, theory_phys.formula
            )
        )
        if math.isfinite(theory_phys.axial_um):
            result.metrics.append(
                Metric(
                    "theoretical_fwhm_z_physical_um", theory_phys.axial_um, "um", None, c, theory_phys.formula
                )
            )
    ch = ms.channels[c]
    n_acc = len(acc)
    for ax, t, tol in (
        ("x", theory.lateral_um, s.tolerance_xy_ratio),
        ("y", theory.lateral_um, s.tolerance_xy_ratio),
        ("z", theory.axial_um, s.tolerance_z_ratio),
    ):
        if not math.isfinite(t):
            continue
        med, _, se, k = (
            robust_summary(acc[f"fwhm_{ax}_um"].to_numpy()) if n_acc else (math.nan, 0, math.nan, 0)
        )
        result.metrics.append(
            Metric(f"fwhm_{ax}_ratio", med / t, None, se / t, c, "measured FWHM / theoretical (MetroloJ_QC)")
        )
        default = PSFSettings.tolerance_z_ratio if ax == "z" else PSFSettings.tolerance_xy_ratio
        src = "default (MetroloJ_QC)" if tol == default else "user"
        result.verdicts.append(Verdict.check(f"fwhm_{ax}_ratio", med / t, tol, "<=", src, c))
    _plausibility(result, acc, c, theory_phys or theory, ms)
    # a theory exists only when these are known (see ``_theory``)
    assert ms.modality is not None and ms.na is not None and ms.immersion_index is not None
    optics = (ms.na, ms.immersion_index, ch.wavelength_ex_nm, ch.wavelength_em_nm)
    try:
        nxy, nzq = nyquist_sampling(ms.modality, *optics, ms.sheet_thickness_um)
    except SettingsError:  # a light sheet of unknown thickness: its detection objective's lateral value
        nxy, nzq = nyquist_sampling(Modality.WIDEFIELD, *optics)[0], math.nan
    dz, dy, dx = voxel
    result.metrics += [
        Metric("nyquist_xy_um", nxy, "um", None, c, "Nyquist lateral voxel size (MetroloJ_QC)"),
        Metric(
            "sampling_ratio_xy",
            max(dx, dy) / nxy,
            None,
            None,
            c,
            "pixel size / Nyquist; > 1 undersampled",
        ),
    ]
    result.verdicts.append(
        Verdict.check("sampling_ratio_xy", max(dx, dy) / nxy, 1.0, "<=", "Nyquist (MetroloJ_QC)", c)
    )
    if math.isfinite(nzq):
        result.metrics += [
            Metric("nyquist_z_um", nzq, "um", None, c, "Nyquist axial voxel size (MetroloJ_QC)"),
            Metric("sampling_ratio_z", dz / nzq, None, None, c, "z step / Nyquist; > 1 undersampled"),
        ]
        result.verdicts.append(
            Verdict.check("sampling_ratio_z", dz / nzq, 1.0, "<=", "Nyquist (MetroloJ_QC)", c)
        )


def _plausibility(
    result: PSFResult, acc: pd.DataFrame, c: int, theory: TheoreticalResolution, ms: MicroscopeSettings
) -> None:
    """Warn when a median FWHM is well below what the optics allow: a setting is then wrong."""
    for ax, t in (("x", theory.lateral_um), ("y", theory.lateral_um), ("z", theory.axial_um)):
        name = f"fwhm_{ax}_um"
        if not math.isfinite(t) or name not in acc or acc.empty:
            continue
        med = robust_summary(acc[name].to_numpy())[0]
        if med > IMPLAUSIBLE_MULTIPLE * t:
            result.warnings.append(
                f"Channel {c}: implausible — the median {'axial' if ax == 'z' else f'lateral ({ax})'} FWHM "
                f"{med:.3g} µm is {med / t:.0f}× the theoretical {t:.3f} µm, far beyond any aberration. Check "
                "the voxel size (is it in µm, not nm?) and that this is a bead z-stack."
            )
            continue
        if not med < PLAUSIBLE_FRACTION * t:
            continue
        what = "axial" if ax == "z" else f"lateral ({ax})"
        hint = (
            "a light sheet or a confocal pinhole narrows the axial PSF"
            if ax == "z" and ms.modality in (Modality.WIDEFIELD, Modality.SPINNING_DISK)
            else "is it the right modality?"
        )
        result.warnings.append(
            f"Channel {c}: implausible — the median {what} FWHM {med:.3f} µm is {med / t:.2f}× the theoretical "
            f"{t:.3f} µm ({theory.formula}), below the {PLAUSIBLE_FRACTION:g}× no correctly described microscope "
            f"goes under. Check the modality ({ms.modality}; {hint}), NA, immersion index, wavelengths and voxel "
            "size: ratios and verdicts against this theory are not meaningful."
        )


def misfit_warnings(
    result: PSFResult,
    c: int,
    rejected: dict[str, int],
    col: Callable[[str], np.ndarray],
    cols: dict[str, np.ndarray],
    accepted: np.ndarray,
    min_r2: float,
) -> None:
    """Warnings for fits the Gaussian model does not describe, and the ``fit_3d_ok`` column.

    ``rejected`` counts beads rejected per cause (R² or structured residuals of the 1D/2D fits, each
    rejection told apart as a model that misses the profile or a bead too dim for the limit);
    3D fits of accepted beads are judged by the lateral R² limit and its structured-residual
    counterpart, flagged in ``fit_3d_ok`` and kept out of every verdict.
    """
    causes = {k: v for k, v in rejected.items() if v}
    if causes:
        n = sum(causes.values())
        listed = "; ".join(f"{v} with {k}" for k, v in causes.items())
        result.warnings.append(
            f"Channel {c}: {n} bead(s) rejected as poor fits and not used for verdicts: {listed} (numbers per "
            "bead in reason_detail)."
        )
    if "r2_3d" not in cols:
        return
    r2, structured = col("r2_3d"), col("structured_residual_3d")
    fitted = accepted & np.isfinite(r2)
    wrong, noisy = misfit(r2, structured, min_r2)
    bad = fitted & (wrong | noisy)
    ok = np.full(len(r2), None, dtype=object)
    ok[fitted] = ~bad[fitted]
    cols["fit_3d_ok"] = ok
    if not bad.any():
        return
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = {
            ax: float(np.nanmedian(col(f"fwhm_{ax}_3d_um")[bad] / col(f"fwhm_{ax}_um")[bad])) for ax in "xz"
        }
    cause = (
        f"structured residuals hold {np.nanmedian(structured[bad]):.0%} of the signal variance"
        if wrong[bad].any()
        else "the residuals are noise"
    )
    result.warnings.append(
        f"Channel {c}: the 3D Gaussian does not describe {int(bad.sum())} of {int(fitted.sum())} beads "
        f"(median R² {np.nanmedian(r2[bad]):.2f}, limit {min_r2:g}; {cause}); their 3D FWHMs "
        f"(x {ratios['x']:.2f}×, z {ratios['z']:.2f}× the 1D/2D values) describe the model, not the PSF, "
        "are marked fit_3d_ok = False and are not used for verdicts. A real PSF is not Gaussian away from "
        "focus (out-of-focus cone, rings); the 1D/2D fits (QUAREP WG5's standard report) are the measurement."
    )

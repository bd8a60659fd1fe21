"""Per-channel summaries of accepted beads and verdicts against theory and Nyquist."""

from __future__ import annotations

import math

import pandas as pd

from microscope_qc.analysis.psf.result import PSFResult
from microscope_qc.analysis.psf.settings import PSFSettings
from microscope_qc.instrument import MicroscopeSettings, TheoreticalResolution, nyquist_sampling
from microscope_qc.results import Metric, Verdict, robust_summary


def _summarise(
    result: PSFResult,
    table: pd.DataFrame,
    c: int,
    theory: TheoreticalResolution | None,
    theory_phys: TheoreticalResolution | None,
    ms: MicroscopeSettings,
    s: PSFSettings,
    voxel: tuple[float, float, float],
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
        result.metrics += [
            Metric("theoretical_fwhm_xy_um", theory.lateral_um, "um", None, c, f"lateral, {theory.formula}"),
            Metric("theoretical_fwhm_z_um", theory.axial_um, "um", None, c, f"axial, {theory.formula}"),
        ]
        if theory_phys is not None:
            result.metrics += [
                Metric(
                    "theoretical_fwhm_xy_physical_um",
                    theory_phys.lateral_um,
                    "um",
                    None,
                    c,
                    theory_phys.formula,
                ),
                Metric(
                    "theoretical_fwhm_z_physical_um", theory_phys.axial_um, "um", None, c, theory_phys.formula
                ),
            ]
        ch = ms.channels[c]
        for ax, t, tol in (
            ("x", theory.lateral_um, s.tolerance_xy_ratio),
            ("y", theory.lateral_um, s.tolerance_xy_ratio),
            ("z", theory.axial_um, s.tolerance_z_ratio),
        ):
            med, _, se, k = (
                robust_summary(acc[f"fwhm_{ax}_um"].to_numpy()) if n_acc else (math.nan, 0, math.nan, 0)
            )
            result.metrics.append(
                Metric(
                    f"fwhm_{ax}_ratio", med / t, None, se / t, c, "measured FWHM / theoretical (MetroloJ_QC)"
                )
            )
            default = PSFSettings.tolerance_z_ratio if ax == "z" else PSFSettings.tolerance_xy_ratio
            src = "default (MetroloJ_QC)" if tol == default else "user"
            result.verdicts.append(Verdict.check(f"fwhm_{ax}_ratio", med / t, tol, "<=", src, c))
        # a theory exists only when these are known (see ``_theory``)
        assert ms.modality is not None and ms.na is not None and ms.immersion_index is not None
        nxy, nzq = nyquist_sampling(
            ms.modality, ms.na, ms.immersion_index, ch.wavelength_ex_nm, ch.wavelength_em_nm
        )
        dz, dy, dx = voxel
        result.metrics += [
            Metric("nyquist_xy_um", nxy, "um", None, c, "Nyquist lateral voxel size (MetroloJ_QC)"),
            Metric("nyquist_z_um", nzq, "um", None, c, "Nyquist axial voxel size (MetroloJ_QC)"),
            Metric(
                "sampling_ratio_xy",
                max(dx, dy) / nxy,
                None,
                None,
                c,
                "pixel size / Nyquist; > 1 undersampled",
            ),
            Metric("sampling_ratio_z", dz / nzq, None, None, c, "z step / Nyquist; > 1 undersampled"),
        ]
        result.verdicts.append(
            Verdict.check("sampling_ratio_xy", max(dx, dy) / nxy, 1.0, "<=", "Nyquist (MetroloJ_QC)", c)
        )
        result.verdicts.append(
            Verdict.check("sampling_ratio_z", dz / nzq, 1.0, "<=", "Nyquist (MetroloJ_QC)", c)
        )

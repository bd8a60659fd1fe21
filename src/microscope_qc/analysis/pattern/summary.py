"""The headline numbers of one channel's field of rings: grid, distortion, radial coefficients, FWHM, uniformity."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.pattern.grid import GridModel, Lattice
from microscope_qc.analysis.pattern.settings import PatternSettings
from microscope_qc.results import Metric, robust_summary

__all__ = ["channel_metrics"]


def _uniformity(intensity_map: np.ndarray) -> dict[str, Any]:
    """The field tool's MetroloJ_QC numbers (U, FU, CA) of the interpolated spot-intensity map."""
    from microscope_qc.analysis.field.metroloj import metroloj_field_metrics

    mask = np.isfinite(intensity_map)
    if mask.sum() < 4:
        return {}
    return metroloj_field_metrics(np.where(mask, intensity_map, 0.0), mask=mask)


def channel_metrics(
    spots: pd.DataFrame,
    grid: GridModel,
    fitted: dict[str, GridModel],
    lat: Lattice,
    s: PatternSettings,
    radius: float,
    c: int,
    n_on: int,
    n_missing: int,
    maps: dict[str, np.ndarray],
) -> list[Metric]:
    """The metrics of channel ``c`` from its spot table, grid models and maps (descriptions in each Metric)."""
    out: list[Metric] = []

    def add(name: str, value: float, unit: str | None, unc: float | None, desc: str, kind: str = "") -> None:
        out.append(
            Metric(
                name,
                float(value),
                unit,
                None if unc is None else float(unc),
                c,
                desc,
                kind or "standard error",
            )
        )

    on = spots[spots.status == "on grid"]
    add("n_spots", n_on, None, None, "spots on the grid")
    add(
        "n_off_grid",
        int((spots.status == "off grid").sum() + (spots.status == "outlier").sum()),
        None,
        None,
        "spots found off the grid (no grid neighbour) or far from the grid model (outliers)",
    )
    add(
        "n_missing",
        n_missing,
        None,
        None,
        "grid positions inside the field without a spot (an orientation mark?)",
    )
    mag, mag_se, rot, rot_se = grid.magnification_rotation()
    pitch_ref = grid.pitch_ref_um
    add(
        "pitch_um",
        mag * pitch_ref,
        "um",
        mag_se * pitch_ref,
        f"grid pitch in the image at the field centre ({grid.kind} model)",
    )
    if s.nominal_pitch_um:
        add("nominal_pitch_um", s.nominal_pitch_um, "um", None, "the slide's nominal pitch (setting)")
        add(
            "magnification_error_percent",
            100 * (mag - 1),
            "percent",
            100 * mag_se,
            "measured / nominal pitch − 1 at the field centre: the magnification error with the file's pixel size",
        )
    add(
        "rotation_deg", rot, "deg", rot_se, "rotation of the grid's rows from the image's x axis (modulo 90°)"
    )
    d = on.distortion_um.to_numpy(float)
    add(
        "distortion_max_um",
        d.max(),
        "um",
        None,
        "largest distance of a spot from the ideal (undistorted) grid",
    )
    add(
        "distortion_rms_um",
        math.sqrt(float(np.mean(d * d))),
        "um",
        None,
        "RMS distance of the spots from the ideal grid",
    )
    add(
        "distortion_max_percent",
        100 * d.max() / radius,
        "percent",
        None,
        "largest distortion in per cent of the field's half-diagonal",
    )
    add(
        "distortion_rms_percent",
        100 * math.sqrt(float(np.mean(d * d))) / radius,
        "percent",
        None,
        "RMS distortion in per cent of the field's half-diagonal",
    )
    r = on.residual_um.to_numpy(float)
    add(
        "residual_rms_um",
        math.sqrt(float(np.mean(r * r))),
        "um",
        None,
        f"RMS residual after the {grid.kind} grid model (localisation noise and the slide's own errors)",
    )
    add("residual_max_um", r.max(), "um", None, f"largest residual after the {grid.kind} grid model")
    if "radial" in fitted:
        g = fitted["radial"]
        se = np.sqrt(np.clip(np.diag(g.covariance), 0, None))
        add(
            "radial_k1_percent",
            100 * g.params[6],
            "percent",
            100 * se[6],
            "radial distortion coefficient k1 (ρ² term, ρ = 1 at the field corner); < 0 barrel, > 0 pincushion",
        )
        add(
            "radial_k2_percent",
            100 * g.params[7],
            "percent",
            100 * se[7],
            "radial distortion coefficient k2 (ρ⁴ term)",
        )
        var = g.covariance[6, 6] + g.covariance[7, 7] + 2 * g.covariance[6, 7]
        add(
            "radial_distortion_corner_percent",
            100 * (g.params[6] + g.params[7]),
            "percent",
            100 * math.sqrt(max(var, 0.0)),
            "radial distortion at the field corner, 100·(k1 + k2), radial model",
        )
    f = on.fwhm_um.to_numpy(float)
    med, sd, se_med, n = robust_summary(f)
    add("fwhm_median_um", med, "um", se_med, "median spot FWHM (2D Gaussian fit)")
    add("fwhm_min_um", np.nanmin(f), "um", None, "smallest spot FWHM")
    add("fwhm_max_um", np.nanmax(f), "um", None, "largest spot FWHM")
    add(
        "fwhm_cv_percent",
        100 * float(np.nanstd(f, ddof=1)) / float(np.nanmean(f)),
        "percent",
        None,
        "CV of the spot FWHMs over the field",
    )
    inten = on.intensity.to_numpy(float)
    add(
        "intensity_cv_percent",
        100 * float(np.nanstd(inten, ddof=1)) / float(np.nanmean(inten)),
        "percent",
        None,
        "CV of the spot intensities over the field",
    )
    uni = _uniformity(maps["intensity"])
    if uni:
        add(
            "uniformity_percent",
            uni["uniformity_percent"],
            "percent",
            None,
            "MetroloJ_QC U = 100·min/max of the spot intensities interpolated over the grid",
        )
        if math.isfinite(uni["field_uniformity_percent"]):
            add(
                "field_uniformity_percent",
                uni["field_uniformity_percent"],
                "percent",
                None,
                "MetroloJ_QC FU of the interpolated spot intensities",
            )
        add(
            "centering_accuracy_percent",
            uni["centering_accuracy_percent"],
            "percent",
            None,
            "MetroloJ_QC CA of the interpolated spot intensities",
        )
    return out

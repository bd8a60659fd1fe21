"""Pair summaries: shifts with standard errors, ISO distances, MetroloJ_QC's ratio, headline metrics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microscope_qc.analysis.coregistration.result import CoregistrationResult, CoregistrationSettings
from microscope_qc.instrument import TheoreticalResolution
from microscope_qc.neighbours import nearest
from microscope_qc.results import Metric, Verdict

__all__ = ["metroloj_ratio", "mutual_nearest"]


def mutual_nearest(pa: np.ndarray, pb: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of points that are each other's nearest neighbour within ``gate``.

    Parameters
    ----------
    pa, pb
        (N, 2) and (M, 2) positions (µm).
    gate
        Largest distance of a pair (µm); ``math.inf`` for no limit.

    Returns
    -------
    ia, ib
        Indices into ``pa`` and ``pb`` of the matched pairs, in the order of ``pa``.
    """
    da, ia = nearest(pb, pa)  # cKDTree(pb).query(pa)
    _, ib = nearest(pa, pb)
    mutual = (ib[ia] == np.arange(len(pa))) & (da <= gate)
    return np.flatnonzero(mutual), ia[mutual]


def metroloj_ratio(dx: float, dy: float, dz: float, rx: float, ry: float, rz: float) -> tuple[float, float]:
    """MetroloJ_QC co-alignment ratio d / r_ref with the corrected (2024) reference distance.

    r_ref = rx·ry·rz / sqrt((ry·rz·cosφ·sinθ)² + (rx·rz·sinφ·sinθ)² + (rx·ry·cosθ)²), with
    φ = acos(Δx/sqrt(Δx² + Δy²)) and θ = acos(Δz/d): the radius of the resolution ellipsoid along
    the shift. A zero shift has ratio 0.

    Parameters
    ----------
    dx, dy, dz
        The shift (µm).
    rx, ry, rz
        Resolution along x, y, z (µm) of the longer wavelength.

    Returns
    -------
    ratio, r_ref
        d / r_ref and the reference distance r_ref (µm).
    """
    d = math.sqrt(dx * dx + dy * dy + dz * dz)
    if d == 0:
        return 0.0, float(min(rx, ry, rz))
    lat = math.hypot(dx, dy)
    phi = math.acos(max(-1.0, min(1.0, dx / lat))) if lat > 0 else 0.0
    theta = math.acos(max(-1.0, min(1.0, dz / d)))
    denom = math.sqrt(
        (ry * rz * math.cos(phi) * math.sin(theta)) ** 2
        + (rx * rz * math.sin(phi) * math.sin(theta)) ** 2
        + (rx * ry * math.cos(theta)) ** 2
    )
    r_ref = rx * ry * rz / denom
    return d / r_ref, r_ref


def _pair_summary(
    shift: np.ndarray, se: np.ndarray, theory: TheoreticalResolution | None, has_z: bool
) -> dict[str, float]:
    n = len(shift)
    out: dict[str, float] = {}
    mean = shift.mean(axis=0)
    if n > 1:
        sem = shift.std(axis=0, ddof=1) / math.sqrt(n)
        # never report less than the localisation errors allow
        sem = np.maximum(sem, np.sqrt((se**2).sum(axis=0)) / n)
    else:
        sem = se[0]
    for a, axis in enumerate("xyz"):
        out[f"shift_{axis}_um"] = float(mean[a])
        out[f"shift_{axis}_se_um"] = float(sem[a])
        out[f"shift_{axis}_median_um"] = float(np.median(shift[:, a]))
        out[f"shift_{axis}_sd_um"] = float(shift[:, a].std(ddof=1)) if n > 1 else math.nan
    dz = mean[2] if has_z else 0.0
    d = math.sqrt(mean[0] ** 2 + mean[1] ** 2 + dz**2)
    lat = math.hypot(mean[0], mean[1])
    grad = np.array([mean[0], mean[1], dz]) / d if d > 0 else np.zeros(3)
    # an axis that does not enter the distance (z of one plane) adds nothing, even with an unknown error
    d_se = float(math.sqrt((np.where(grad == 0, 0.0, grad * sem) ** 2).sum()))
    out["distance_3d_um"] = d
    out["distance_3d_se_um"] = d_se
    out["lateral_distance_um"] = lat
    out["lateral_distance_se_um"] = float(
        math.sqrt(((np.array([mean[0], mean[1]]) / max(lat, 1e-12) * sem[:2]) ** 2).sum())
    )
    out["axial_distance_um"] = abs(dz)
    out["axial_distance_se_um"] = float(sem[2]) if has_z else math.nan  # one plane: z is not measured
    if theory is not None:
        rz = theory.axial_um if has_z else theory.lateral_um
        ratio, r_ref = metroloj_ratio(mean[0], mean[1], dz, theory.lateral_um, theory.lateral_um, rz)
        out["ratio"] = ratio
        out["ratio_se"] = d_se / r_ref
        out["reference_distance_um"] = r_ref
    return out


def _pair_metrics(
    result: CoregistrationResult,
    row: dict[str, Any],
    channel: int,
    s: CoregistrationSettings,
    not_estimable: str = "not estimable",
) -> None:
    """Headline metrics of the pair (reference, channel), tagged with the moving channel.

    A NaN uncertainty stays NaN (never 0) and its ``uncertainty_kind`` is ``not_estimable``, which says why.
    """
    pair = f"channel {row['channel_ref']} → {row['channel_moving']}"

    def add(name: str, unit: str | None, unc_key: str | None = None, desc: str = "") -> None:
        if (
            name in row
            and row[name] is not None
            and not (isinstance(row[name], float) and math.isnan(row[name]))
        ):
            unc = row.get(unc_key) if unc_key else None
            known = unc is None or math.isfinite(float(unc))
            result.metrics.append(
                Metric(
                    name,
                    float(row[name]),
                    unit,
                    None if unc is None else float(unc),
                    channel,
                    f"{desc} ({pair})",
                    "standard error" if known else not_estimable,
                )
            )

    add("n_matched", None, None, "matched beads")
    for axis in "xyz":
        add(f"shift_{axis}_um", "um", f"shift_{axis}_se_um", f"mean shift along {axis}, moving − reference")
    add("distance_3d_um", "um", "distance_3d_se_um", "3D distance of the mean shift")
    add("lateral_distance_um", "um", "lateral_distance_se_um", "ISO lateral distance")
    add("axial_distance_um", "um", "axial_distance_se_um", "ISO axial distance")
    add("ratio", None, "ratio_se", "MetroloJ_QC d / r_ref (2024 reference distance, longer wavelength)")
    add(
        "magnification_percent",
        "percent",
        "magnification_se_percent",
        "lateral magnification difference (affine model)",
    )
    add("rotation_deg", "deg", "rotation_se_deg", "rotation (affine model)")
    for axis in "xyz":
        add(
            f"residual_rms_{axis}_um",
            "um",
            None,
            f"RMS residual along {axis} after the {row.get('model', '')} model",
        )
    if "ratio" in row:
        src = "default (MetroloJ_QC)" if s.tolerance_ratio == 1.0 else "user"
        result.verdicts.append(Verdict.check("ratio", row["ratio"], s.tolerance_ratio, "<=", src, channel))

"""The co-registration rule table: what the channel-pair shifts say about the colour path.

One row per fault (:data:`RULES`); :func:`findings` applies them to every channel pair. The
tolerance is the analysis's verdict (MetroloJ_QC: d / r_ref ≤ 1, r_ref the resolution
ellipsoid's radius along the shift), so a facility's limit replaces it as it replaces the verdict.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from microscope_qc.analysis._rules import (
    Rule,
    channels_of,
    evidence,
    limit_text,
    metric_of,
    verdict_of,
)
from microscope_qc.findings import Evidence, Finding, Severity
from microscope_qc.results import Result

__all__ = ["RULES", "findings"]

_SHIFT = Rule(
    "chromatic_shift",
    ("ratio", "distance_3d_um", "lateral_distance_um", "axial_distance_um"),
    "fault: the pair's ratio d / r_ref above its verdict limit (default 1: the channels further apart than the "
    "resolution); note: above half of it",
    "MetroloJ_QC co-alignment tolerance (QUAREP WG4, ISO 21073), with the 2024 reference distance",
    "the channel is shifted by {d:.3g} µm ({lat:.3g} µm lateral, {ax:.3g} µm axial), {ratio:.2f} × the resolution "
    "along the shift (limit {limit})",
)
_MAGNIFICATION = Rule(
    "chromatic_magnification",
    ("magnification_percent",),
    "fault: the magnification difference is significant (beyond 2 SE) and moves the matched bead furthest from the "
    "field centre by more than the pair's reference distance r_ref; note: significant but within r_ref",
    "the same tolerance as the shift (r_ref), applied where the magnification difference is largest; the mean "
    "shift alone misses it (it averages to zero about the centre)",
    "{m:.3g} % magnification difference, moving the beads at the edge of the analysed field by {edge:.3g} µm "
    "(r_ref {ref:.3g} µm)",
)

#: the co-registration rule table
RULES: tuple[Rule, ...] = (_SHIFT, _MAGNIFICATION)


def _pair_row(result: Result, moving: int | None) -> pd.Series | None:
    pairs = result.tables.get("pairs")
    if pairs is None or moving is None or "channel_moving" not in pairs or len(pairs) == 0:
        return None
    rows = pairs[pairs["channel_moving"] == moving]
    return None if rows.empty else rows.iloc[0]


def _edge_radius_um(result: Result, moving: int | None) -> float | None:
    """The largest distance of a matched bead from the centre of the matched beads' extent (µm)."""
    shifts = result.tables.get("shifts")
    if shifts is None or moving is None or "channel_moving" not in shifts:
        return None
    s = shifts[shifts["channel_moving"] == moving]
    if len(s) < 3:
        return None
    x, y = s["x_um"].to_numpy(float), s["y_um"].to_numpy(float)
    cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    return float(np.max(np.hypot(x - cx, y - cy)))


def _pair_name(result: Result, moving: int | None) -> str | None:
    """The moving channel's name (a pair is named by it even when there is only one pair)."""
    if moving is None:
        return None
    names = getattr(result, "channel_names", [])
    return str(names[moving]) if moving < len(names) and names[moving] else f"ch {moving}"


def findings(result: Result) -> list[Finding]:
    """What a co-registration result says about the instrument, per channel pair.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.coregistration.analyze_coregistration`.

    Returns
    -------
    list of Finding
        One finding per rule that could be checked, per channel pair (named by its moving channel).
    """
    out: list[Finding] = []
    for c in channels_of(result, "ratio"):
        ch = _pair_name(result, c)
        ratio, v = metric_of(result, "ratio", c), verdict_of(result, "ratio", c)
        d = metric_of(result, "distance_3d_um", c)
        lat, ax = metric_of(result, "lateral_distance_um", c), metric_of(result, "axial_distance_um", c)
        if ratio is not None and v is not None and d is not None:
            lim = limit_text(v)
            ev = [
                evidence(ratio, "d / r_ref (MetroloJ_QC)", limit_text(v, source=True)),
                evidence(d, "3D distance"),
            ]
            ev += [
                evidence(m, label) for m, label in ((lat, "lateral distance"), (ax, "axial distance")) if m
            ]
            if not v.passed:
                severity = Severity.FAULT
            elif ratio.value > v.threshold / 2:
                severity = Severity.NOTE
            else:
                severity = Severity.OK
            values = {
                "d": d.value,
                "lat": lat.value if lat else math.nan,
                "ax": ax.value if ax else math.nan,
                "ratio": ratio.value,
                "limit": lim,
            }
            out.append(_SHIFT.finding(severity, tuple(ev), ch, **values))
        mag = metric_of(result, "magnification_percent", c)
        row = _pair_row(result, c)
        radius = _edge_radius_um(result, c)
        if mag is None or row is None or radius is None:
            continue
        ref = float(row.get("reference_distance_um", math.nan))
        if not math.isfinite(ref):
            continue
        edge = abs(mag.value) / 100 * radius
        se = mag.uncertainty if mag.uncertainty is not None and math.isfinite(mag.uncertainty) else math.inf
        significant = abs(mag.value) > 2 * se
        ev2 = (
            evidence(mag, "magnification difference", "significant: > 2 SE"),
            Evidence("displacement at the field edge", edge, None, "µm", f"≤ r_ref = {ref:.3g} µm"),
        )
        if significant and edge > ref:
            severity = Severity.FAULT
        elif significant:
            severity = Severity.NOTE
        else:
            severity = Severity.OK
        out.append(_MAGNIFICATION.finding(severity, ev2, ch, m=mag.value, edge=edge, ref=ref))
    return out

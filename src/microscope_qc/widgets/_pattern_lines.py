"""What the pattern dock draws for line pairs and gratings: the groups' orientation as Shapes, the plots.

Qt-free (runs in the worker). The line-pattern result (``kind == "lines"``) holds a ``groups`` table
(centre in pixels, ``angle_deg`` the lines' direction from the image x axis towards +y, length,
width, spacing, contrast, resolved) and a ``profiles`` table (``group``, ``u_um``, ``profile_mean``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microscope_qc.widgets._layers import LayerSpec

__all__ = ["is_lines", "lines_specs", "lines_plots", "GROUP_COLUMNS"]

GROUP_COLUMNS = [
    "group", "kind", "n_lines", "spacing_um", "nominal_spacing_um", "contrast", "contrast_se",
    "dip_percent", "resolved", "lsf_fwhm_um", "angle_deg", "touches_edge",
]  # fmt: skip
RESOLVED, UNRESOLVED, OTHER = "#1b9e77", "#e7298a", "#9e9e9e"
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")


def is_lines(result: Any) -> bool:
    """Whether ``result`` is a line-pattern result (groups and profiles)."""
    return getattr(result, "kind", None) == "lines" and "groups" in getattr(result, "tables", {})


def _colour(row: Any) -> str:
    if row.get("kind") in ("line", "single"):  # an isolated line: nothing to resolve
        return OTHER
    resolved = row.get("resolved")
    if isinstance(resolved, bool | np.bool_):
        return RESOLVED if resolved else UNRESOLVED
    return OTHER


def _name(row: Any, many: bool) -> str:
    """A group's name: its number, with its channel when the result holds several."""
    g = int(row.get("group", 0))
    return f"ch{int(row.get('channel', 0))}·{g}" if many else f"{g}"


def _many_channels(table: Any) -> bool:
    return "channel" in table.columns and table["channel"].nunique() > 1


def _num(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v


def lines_specs(result: Any, scale: tuple[float, float], translate: tuple[float, float]) -> list[LayerSpec]:
    """Per group, two segments through its centre: along its lines (their orientation, as found) and
    across them (where the profile was taken), green when resolved, pink when not, grey otherwise."""
    groups = result.tables["groups"]
    many = _many_channels(groups)
    dy, dx = scale
    data, colours, feats = [], [], {"group": [], "label": [], "direction": []}
    for _, row in groups.iterrows():
        cy, cx = _num(row.get("centre_y_px")), _num(row.get("centre_x_px"))
        a = math.radians(_num(row.get("angle_deg")))
        if not (math.isfinite(cy) and math.isfinite(cx) and math.isfinite(a)):
            continue
        along = _num(row.get("length_um"))
        across = _num(row.get("width_um"))
        along = along if math.isfinite(along) and along > 0 else 5.0
        across = across if math.isfinite(across) and across > 0 else 2.0
        # lines' direction in (x, y): (cos a, sin a); in napari's (y, x) pixels
        u_along = np.array([math.sin(a) / dy, math.cos(a) / dx])
        u_across = np.array([math.cos(a) / dy, -math.sin(a) / dx])
        centre = np.array([cy, cx])
        # the group's number only (neighbouring groups are close): spacing and contrast are in the
        # plots' legend and the table
        text = _name(row, many)
        for direction, unit, half in (("along", u_along, along / 2), ("across", u_across, 0.6 * across)):
            data.append(np.array([centre - unit * half, centre + unit * half]))
            colours.append(_colour(row))
            feats["group"].append(int(row.get("group", 0)))
            feats["label"].append(text if direction == "along" else "")
            feats["direction"].append(direction)
    return [
        LayerSpec(
            "lines",
            "shapes",
            "pattern line groups: orientation (along) and profile (across)",
            data,
            update={
                "shape_type": "line",
                "edge_color": colours or "white",
                "features": feats,
                "scale": scale,
                "translate": translate,
            },
            style={
                "edge_width": 1.5,
                "text": {"string": "{label}", "color": "white", "size": 9, "anchor": "upper_left"},
            },
        )
    ]


def lines_plots(result: Any) -> tuple[tuple, tuple]:
    """The profiles across the groups (each scaled to 0–1, stacked) and the contrast against the spacing.

    Returns
    -------
    profiles, contrast
        Each ``(title, curves, x_label, y_label, options)`` for :meth:`LinePlot.set_curves`.
    """
    groups = result.tables["groups"]
    prof = result.tables.get("profiles")
    many = _many_channels(groups)
    by_channel = prof is not None and "channel" in prof.columns and "channel" in groups.columns
    curves = []
    column = "profile_mean" if prof is not None and "profile_mean" in prof.columns else "intensity"
    if prof is not None and len(prof) and column in prof.columns:
        for k, (_, row) in enumerate(groups.iterrows()):
            g = row.get("group")
            p = (
                prof[(prof.group == g) & (prof.channel == row.get("channel"))]
                if by_channel
                else prof[prof.group == g]
            )
            if len(p) < 2:
                continue
            u = p.u_um.to_numpy(float)
            y = p[column].to_numpy(float)
            lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
            y = (y - lo) / (hi - lo or 1.0) + 1.2 * k
            spacing, contrast = _num(row.get("spacing_um")), _num(row.get("contrast"))
            name = f"group {_name(row, many)}"
            if math.isfinite(spacing):
                name += f": {spacing:.3g} µm"
            if math.isfinite(contrast):
                name += f", C {contrast:.2f}"
            curves.append((name, PALETTE[k % len(PALETTE)], u - float(np.nanmean(u)), y))
    half = max((float(np.nanmax(np.abs(c[2]))) for c in curves), default=1.0)
    profiles = (
        "Profiles across the groups (each scaled to 0–1, stacked; numbers as on the image)",
        curves,
        "Position across the lines (µm)",
        "Intensity (scaled) + offset",
        {"x_range": (-half, half)},
    )
    has = {"spacing_um", "contrast"} <= set(groups.columns)
    sel = (
        groups[np.isfinite(groups.spacing_um.astype(float)) & np.isfinite(groups.contrast.astype(float))]
        if has
        else groups.iloc[:0]
    )
    resolved = sel.resolved.astype(bool) if "resolved" in sel.columns else np.zeros(len(sel), bool)
    points = [
        ("resolved", RESOLVED, sel.spacing_um[resolved].to_numpy(float), sel.contrast[resolved].to_numpy(float)),
        ("not resolved", UNRESOLVED, sel.spacing_um[~resolved].to_numpy(float), sel.contrast[~resolved].to_numpy(float)),
    ]  # fmt: skip
    points = [p for p in points if len(p[2])]
    markers = []
    for m in getattr(result, "metrics", []):
        if m.name == "smallest_resolved_spacing_um" and math.isfinite(_num(m.value)):
            markers.append(("smallest resolved", "#333333", float(m.value)))
    contrast = (
        "Michelson contrast against the line spacing",
        points,
        "Line spacing (µm)",
        "Contrast",
        {
            "scatter": tuple(p[0] for p in points),
            "markers": markers,
            "y_range": (0.0, 1.05),
            "x_range": (0.0, 1.1 * max((float(np.max(p[2])) for p in points), default=1.0)),
        },
    )
    return profiles, contrast

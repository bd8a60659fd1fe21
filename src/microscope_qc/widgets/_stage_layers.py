"""What the stage dock draws, built from a result in the worker (no Qt): the bead's track and its
localised positions as napari layers in the image's coordinates, and the dock's plots.

The image layer is (T, Y, X) (2D frames) or (T, Z, Y, X); the track and the points are in its
data coordinates (pixels, frame index) with its scale and translate, so they lie on the bead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.stage import StageResult
from microscope_qc.widgets._layers import LayerSpec

__all__ = ["stage_specs", "error_plot", "drift_plot", "DIRECTION_COLOURS"]

#: a colour per approach direction of the WG6 protocol (diagonals), then per axis direction
DIRECTION_COLOURS = {
    "+x+y": "#4aa3ff",
    "-x+y": "#3ccf6e",
    "-x-y": "#f5c211",
    "+x-y": "#e8743d",
}
_OTHER = ("#c678dd", "#56b6c2", "#ff5555", "#9a9a9a")


def _pixels(result: StageResult, voxel_um: tuple[float, float, float], three_d: bool) -> tuple[Any, Any]:
    """The localised frames and their (frame, [z,] y, x) positions in pixels."""
    pos = result.positions
    ok = np.isfinite(pos["y_um"].to_numpy(float)) & np.isfinite(pos["x_um"].to_numpy(float))
    rows = pos[ok]
    cols = [rows["frame"].to_numpy(float)]
    if three_d:
        cols.append(rows["z_um"].to_numpy(float) / voxel_um[0])
    cols += [rows["y_um"].to_numpy(float) / voxel_um[1], rows["x_um"].to_numpy(float) / voxel_um[2]]
    return rows, np.column_stack(cols)


def stage_specs(
    result: StageResult,
    voxel_um: tuple[float, float, float],
    image_ndim: int,
    scale: tuple[float, ...],
    translate: tuple[float, ...],
) -> list[LayerSpec]:
    """The bead's path (Tracks over the frames) and its localised positions (Points, one per frame)."""
    three_d = image_ndim >= 4
    rows, coords = _pixels(result, voxel_um, three_d)
    place = {"scale": tuple(scale[-coords.shape[1] :]), "translate": tuple(translate[-coords.shape[1] :])}
    marks = coords.copy()
    if (
        three_d
    ):  # a ring in the plane nearest the bead's centre (napari shrinks a point off its plane to nothing)
        marks[:, 1] = np.round(marks[:, 1])
    tracks = np.column_stack([np.zeros(len(coords)), coords])
    n = int(result.positions["frame"].max()) + 1 if len(result.positions) else 1
    features = pd.DataFrame(
        {
            "frame": rows["frame"].to_numpy(int),
            "x_um": rows["x_um"].to_numpy(float),
            "y_um": rows["y_um"].to_numpy(float),
            "status": rows["status"].astype(str).to_numpy(),
        }
    )
    if three_d:
        features["z_um"] = rows["z_um"].to_numpy(float)
    for col in ("direction", "distance_um", "error_x_um", "error_y_um", "displacement_um"):
        if col in rows.columns:
            features[col] = rows[col].to_numpy()
    specs = [
        LayerSpec(
            "track",
            "tracks",
            "stage bead track",
            tracks,
            update=dict(place),
            style={
                "tail_length": n,
                "head_length": 0,
                "tail_width": 3,
                "colormap": "hsv",
                "blending": "translucent",
            },
        ),
        LayerSpec(
            "positions",
            "points",
            "stage bead positions",
            marks,
            update={**place, "features": features},
            style={
                "size": _bead_px(result, voxel_um),
                "face_color": "transparent",
                "border_color": "#ff5555",
                "border_width": 0.06,
                "out_of_slice_display": True,
                "blending": "translucent_no_depth",
            },
        ),
    ]
    return specs


def _bead_px(result: StageResult, voxel_um: tuple[float, float, float]) -> float:
    """The bead's diameter in pixels (the points' size: a ring around the bead)."""
    bead = result.settings.get("bead_diameter_um")
    value = float(bead.value) if bead is not None and bead.value else 2.0
    return max(value / float(voxel_um[2]), 3.0)


def error_plot(result: StageResult) -> tuple:
    """Repeatability: the repositioning errors (x against y, µm) per approach direction."""
    pos = result.positions
    curves: list[tuple[str, str, Any, Any]] = []
    scatter: list[str] = []
    if "error_x_um" not in pos.columns:
        return "", [], "", "", {}
    ok = pos["status"].astype(str) == "ok"
    directions = [d for d in pos.loc[ok, "direction"].astype(str).unique() if d and d != "nan"]
    for k, d in enumerate(
        sorted(directions, key=lambda d: list(DIRECTION_COLOURS).index(d) if d in DIRECTION_COLOURS else 9)
    ):
        rows = pos[ok & (pos["direction"].astype(str) == d)]
        colour = DIRECTION_COLOURS.get(d, _OTHER[k % len(_OTHER)])
        label = f"from {d}"
        curves.append((label, colour, rows["error_x_um"].to_numpy(float), rows["error_y_um"].to_numpy(float)))
        scatter.append(label)
    values = np.concatenate([np.abs(np.r_[c[2], c[3]]) for c in curves]) if curves else np.array([1.0])
    values = values[np.isfinite(values)]
    lim = float(values.max()) * 1.5 if values.size and values.max() > 0 else 1.0
    return (
        "Repositioning errors by approach direction",
        curves,
        "x error (µm)",
        "y error (µm)",
        {"scatter": tuple(scatter), "x_range": (-lim, lim), "y_range": (-lim, lim)},
    )


def drift_plot(result: StageResult) -> tuple:
    """Drift: displacement from t0 and the frame-to-frame step against time, the stabilisation
    threshold, and the stabilisation time marked."""
    pos = result.positions
    if "displacement_um" not in pos.columns:
        return "", [], "", "", {}
    t = pos["t_s"].to_numpy(float)
    curves = [
        ("displacement from t0", "#4aa3ff", t, pos["displacement_um"].to_numpy(float)),
        ("frame-to-frame step", "#f5c211", t, pos["step_um"].to_numpy(float)),
    ]
    threshold = result.settings.get("stabilisation_threshold_used_um")
    if threshold is not None and threshold.value is not None:
        curves.append(
            (
                "stabilisation threshold",
                "#9a9a9a",
                np.array([t[0], t[-1]]),
                np.full(2, float(threshold.value)),
            )
        )
    markers = []
    k = result.stabilisation_frame
    if k is not None and 0 <= k < len(t) and math.isfinite(t[k]):
        markers.append(("stable from here", "#3ccf6e", float(t[k])))
    return (
        "Drift: displacement against time",
        curves,
        "time (s)",
        "µm",
        {"markers": markers, "data_units": True},
    )

"""Stage repeatability (QUAREP WG6) and the ISO 230-2 terms, from one bead position per frame.

The WG6 protocol: from a home position, move the stage along a diagonal by 300 µm and back, take
an image; the four diagonals; 20 cycles; then again with 3000 µm moves (160 images). The bead's
position in each image scatters by the stage's repositioning error; the direction the stage came
back from can shift it (backlash).

ISO 230-2 terms for one target position and one axis, with s↑, s↓ the SDs (ddof = 1) of the
positions reached moving in the + and − direction along that axis and x̄↑, x̄↓ their means:
unidirectional repeatability R↑ = 4·s↑, R↓ = 4·s↓; reversal value B = x̄↑ − x̄↓; bidirectional
repeatability R = max(2·s↑ + 2·s↓ + |B|, R↑, R↓).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.results import AnalysisError

__all__ = ["wg6_moves", "moves_table", "iso230_2", "Iso230", "group_statistics", "DIAGONALS"]

#: the four diagonals (sign of x, sign of y) in the order the protocol is assumed to visit them
DIAGONALS: tuple[tuple[int, int], ...] = ((1, 1), (-1, 1), (-1, -1), (1, -1))


def _label(sx: float, sy: float) -> str:
    return f"{'+' if sx > 0 else '-'}x{'+' if sy > 0 else '-'}y"


def wg6_moves(
    n_frames: int, cycles: int = 20, distances_um: tuple[float, ...] = (300.0, 3000.0)
) -> pd.DataFrame:
    """The moves of the QUAREP WG6 protocol in its assumed order, one row per frame.

    Assumed order: for each distance (300 µm, then 3000 µm), ``cycles`` cycles, each visiting the
    four diagonals +x+y, −x+y, −x−y, +x−y; before each frame the stage moved ``distance`` along the
    diagonal and back (dx = ±d/√2, dy = ±d/√2).

    Parameters
    ----------
    n_frames : int
        The number of frames; must equal 4 × cycles × len(distances).
    cycles : int
        Cycles per distance.
    distances_um : tuple of float
        The move distances.

    Returns
    -------
    pandas.DataFrame
        ``frame``, ``cycle``, ``distance_um``, ``direction``, ``dx_um``, ``dy_um``.

    Raises
    ------
    AnalysisError
        When the number of frames is not what the protocol gives.
    """
    expected = 4 * cycles * len(distances_um)
    if n_frames != expected:
        raise AnalysisError(
            f"The series has {n_frames} frames; the QUAREP WG6 protocol gives {expected} (4 diagonals × {cycles} cycles "
            f"× {len(distances_um)} distances). Give {{moves}} for any other order or count."
        )
    rows = []
    for d in distances_um:
        for c in range(cycles):
            for sx, sy in DIAGONALS:
                step = d / math.sqrt(2)
                rows.append(
                    {
                        "cycle": c + 1,
                        "distance_um": d,
                        "direction": _label(sx, sy),
                        "dx_um": sx * step,
                        "dy_um": sy * step,
                    }
                )
    out = pd.DataFrame(rows)
    out.insert(0, "frame", np.arange(n_frames))
    return out


def moves_table(moves: Any, n_frames: int) -> pd.DataFrame:
    """Check and complete a table of the move before each frame.

    Parameters
    ----------
    moves : pandas.DataFrame or mapping
        One row per frame (in frame order, or with a ``frame`` column): ``dx_um`` and ``dy_um`` (the
        excursion before the frame; ``dz_um`` optional), or ``direction`` (``+x+y``, ``-x+y``, ...)
        with ``distance_um``; ``cycle`` optional.
    n_frames : int
        The number of frames.

    Returns
    -------
    pandas.DataFrame
        ``frame``, ``cycle``, ``distance_um``, ``direction``, ``dx_um``, ``dy_um``.

    Raises
    ------
    AnalysisError
        Missing columns, a direction it cannot read, or a row count that does not match the frames.
    """
    df = pd.DataFrame(moves).copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "frame" in df:
        df = df.sort_values("frame").reset_index(drop=True)
    if len(df) != n_frames:
        raise AnalysisError(
            f"The move table lists {len(df)} moves for {n_frames} frames; give one row per frame."
        )
    if {"dx_um", "dy_um"} <= set(df.columns):
        dx, dy = df["dx_um"].astype(float).to_numpy(), df["dy_um"].astype(float).to_numpy()
        if "distance_um" not in df:
            df["distance_um"] = np.round(np.hypot(dx, dy), 3)
        if "direction" not in df:
            df["direction"] = [_label(float(a), float(b)) for a, b in zip(dx, dy, strict=True)]
    elif {"direction", "distance_um"} <= set(df.columns):
        dxs, dys = [], []
        for text, d in zip(df["direction"].astype(str), df["distance_um"].astype(float), strict=True):
            t = text.replace(" ", "").lower()
            if len(t) != 4 or t[1] != "x" or t[3] != "y" or t[0] not in "+-" or t[2] not in "+-":
                raise AnalysisError(f"Move direction {text!r} is not one of +x+y, -x+y, -x-y, +x-y.")
            sx, sy = (1 if t[0] == "+" else -1), (1 if t[2] == "+" else -1)
            dxs.append(sx * d / math.sqrt(2))
            dys.append(sy * d / math.sqrt(2))
        df["dx_um"], df["dy_um"] = dxs, dys
    else:
        raise AnalysisError(
            f"The move table needs dx_um and dy_um, or direction and distance_um (found {', '.join(df.columns)})."
        )
    if "cycle" not in df:
        df["cycle"] = df.groupby(["distance_um", "direction"]).cumcount() + 1
    df["frame"] = np.arange(n_frames)
    return df[["frame", "cycle", "distance_um", "direction", "dx_um", "dy_um"]]


@dataclass(frozen=True)
class Iso230:
    """ISO 230-2 repeatability terms of one axis at one target (µm)."""

    n_plus: int
    n_minus: int
    s_plus: float
    s_minus: float
    repeatability_plus: float
    repeatability_minus: float
    reversal: float
    reversal_se: float
    bidirectional: float


def iso230_2(positions: npt.ArrayLike, approach_sign: npt.ArrayLike) -> Iso230:
    """Unidirectional and bidirectional repeatability and the reversal value of one axis.

    Parameters
    ----------
    positions : array_like
        Positions reached (µm), NaN for frames left out.
    approach_sign : array_like
        +1 where the axis was last moved in the + direction before the reading, −1 for −.

    Returns
    -------
    Iso230
        NaN where a direction has fewer than 2 readings.
    """
    x = np.asarray(positions, float)
    s = np.asarray(approach_sign)
    ok = np.isfinite(x)
    up, down = x[ok & (s > 0)], x[ok & (s < 0)]

    def sd(v: npt.NDArray[np.float64]) -> float:
        return float(v.std(ddof=1)) if v.size > 1 else math.nan

    su, sd_ = sd(up), sd(down)
    b = float(up.mean() - down.mean()) if up.size and down.size else math.nan
    b_se = math.sqrt(su**2 / up.size + sd_**2 / down.size) if up.size > 1 and down.size > 1 else math.nan
    ru, rd = 4 * su, 4 * sd_
    bidirectional = (
        max(2 * su + 2 * sd_ + abs(b), ru, rd) if all(map(math.isfinite, (su, sd_, b))) else math.nan
    )
    return Iso230(int(up.size), int(down.size), su, sd_, ru, rd, b, b_se, bidirectional)


def group_statistics(positions: pd.DataFrame, axes: tuple[str, ...]) -> pd.DataFrame:
    """Mean and SD of each axis per distance and direction, and per distance over every direction.

    Parameters
    ----------
    positions : pandas.DataFrame
        One row per localised frame: ``distance_um``, ``direction`` and ``<axis>_um`` columns.
    axes : tuple of str
        The axes, e.g. ``("x", "y")``.

    Returns
    -------
    pandas.DataFrame
        ``distance_um``, ``direction`` ("all" for every direction together), ``axis``, ``n``,
        ``mean_um``, ``sd_um`` (ddof = 1) and ``sd_se_um`` (SD/sqrt(2(n − 1)), normal positions).
    """
    rows = []
    for d in sorted(positions["distance_um"].unique()):
        by_d = positions[positions["distance_um"] == d]
        parts = [(str(k), g) for k, g in by_d.groupby("direction", sort=True)] + [("all", by_d)]
        for direction, g in parts:
            for a in axes:
                v = g[f"{a}_um"].to_numpy(float)
                v = v[np.isfinite(v)]
                sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
                rows.append(
                    {
                        "distance_um": float(d),
                        "direction": direction,
                        "axis": a,
                        "n": int(v.size),
                        "mean_um": float(v.mean()) if v.size else math.nan,
                        "sd_um": sd,
                        "sd_se_um": sd / math.sqrt(2 * (v.size - 1)) if v.size > 2 else math.nan,
                    }
                )
    return pd.DataFrame(
        rows, columns=["distance_um", "direction", "axis", "n", "mean_um", "sd_um", "sd_se_um"]
    )

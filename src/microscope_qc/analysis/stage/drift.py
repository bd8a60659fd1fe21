"""Stage and focus drift from a bead followed over time (MetroloJ_QC drift profiler, and more).

Positions are taken relative to the first localised frame (t0). Frames without a bead are
bridged when the gap is at most ``max_gap`` frames (MetroloJ_QC: 4): the displacement across a
gap is one step. MetroloJ_QC's stabilisation time is the time of the first frame after which
every frame-to-frame displacement stays below the threshold (default: the theoretical
resolution). The drift velocity is the least-squares slope of position on time per axis (its SE
corrected for correlated positions); the MSD is the mean squared displacement per lag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis.light_source.metrics import drift_per_hour

__all__ = ["DriftAnalysis", "analyze_track", "stabilisation_index", "msd_table"]

Floats = npt.NDArray[np.float64]


def stabilisation_index(steps: npt.ArrayLike, threshold: float) -> int | None:
    """Index of the first position after which every step stays below ``threshold``.

    ``steps[j]`` is the displacement from position j to position j + 1.

    Parameters
    ----------
    steps : array_like
        Frame-to-frame displacements.
    threshold : float
        The threshold.

    Returns
    -------
    int or None
        0 when every step is below it; None when the last step is not (never stable).
    """
    s = np.asarray(steps, float)
    big = np.flatnonzero(s >= threshold)
    if big.size == 0:
        return 0
    last = int(big[-1])
    return None if last == s.size - 1 else last + 1


def msd_table(t_s: Floats, pos: Floats, frames: npt.NDArray[np.int_], max_lag: int) -> pd.DataFrame:
    """Mean squared displacement per lag (in frames), over pairs of localised frames.

    Parameters
    ----------
    t_s : numpy.ndarray
        Time of each localised frame.
    pos : numpy.ndarray
        (N, d) positions of the localised frames (µm).
    frames : numpy.ndarray of int
        Their frame numbers.
    max_lag : int
        The largest lag.

    Returns
    -------
    pandas.DataFrame
        ``lag_frames``, ``lag_s``, ``msd_um2``, ``n_pairs``.
    """
    index = {int(f): i for i, f in enumerate(frames)}
    rows = []
    for lag in range(1, max_lag + 1):
        pairs = [(index[f], index[f + lag]) for f in index if f + lag in index]
        if not pairs:
            continue
        a, b = np.array(pairs).T
        d2 = ((pos[b] - pos[a]) ** 2).sum(axis=1)
        rows.append(
            {
                "lag_frames": lag,
                "lag_s": float(np.median(t_s[b] - t_s[a])),
                "msd_um2": float(d2.mean()),
                "n_pairs": len(pairs),
            }
        )
    return pd.DataFrame(rows, columns=["lag_frames", "lag_s", "msd_um2", "n_pairs"])


@dataclass
class DriftAnalysis:
    """What :func:`analyze_track` finds."""

    rel: Floats  # (T, 3) position relative to t0, NaN where not localised
    displacement: Floats  # (T,) distance from t0 (3D or lateral)
    step: Floats  # (T,) displacement from the previous localised frame
    velocity: Floats  # (T,) step / time, µm/min
    bridged: npt.NDArray[np.bool_]  # (T,) no bead, bridged
    stabilisation_frame: int | None
    slopes: dict[str, tuple[float, float]] = field(default_factory=dict)  # axis: (µm/min, SE)
    long_gaps: list[tuple[int, int]] = field(default_factory=list)  # (first frame, length)
    msd: pd.DataFrame | None = None


def analyze_track(
    t_s: Floats, zyx: Floats, three_d: bool, threshold_um: float, max_gap: int
) -> DriftAnalysis:
    """Relative positions, displacements, velocities, stabilisation and drift slopes of a bead track.

    Parameters
    ----------
    t_s : numpy.ndarray
        (T,) time of each frame.
    zyx : numpy.ndarray
        (T, 3) positions (µm), NaN where no bead was localised.
    three_d : bool
        Whether z is measured (3D frames): displacements are then 3D, else lateral.
    threshold_um : float
        The stabilisation threshold.
    max_gap : int
        The longest run of frames without a bead that is bridged.

    Returns
    -------
    DriftAnalysis
        Per-frame arrays and the summary values.
    """
    t = np.asarray(t_s, float)
    n = t.size
    ok = np.all(np.isfinite(zyx[:, 1:]), axis=1)
    idx = np.flatnonzero(ok)
    axes = slice(0, 3) if three_d else slice(1, 3)
    rel = np.full((n, 3), np.nan)
    rel[ok] = zyx[ok] - zyx[idx[0]]
    displacement = np.full(n, np.nan)
    displacement[ok] = np.sqrt((rel[ok][:, axes] ** 2).sum(axis=1))
    step = np.full(n, np.nan)
    velocity = np.full(n, np.nan)
    bridged = np.zeros(n, dtype=bool)
    long_gaps: list[tuple[int, int]] = []
    for a, b in zip(idx[:-1], idx[1:], strict=True):
        gap = int(b - a - 1)
        if gap > 0:
            if gap <= max_gap:
                bridged[a + 1 : b] = True
            else:
                long_gaps.append((int(a + 1), gap))
                continue  # the track is broken here: no step across it
        step[b] = float(np.sqrt(((zyx[b, axes] - zyx[a, axes]) ** 2).sum()))
        velocity[b] = step[b] / (t[b] - t[a]) * 60.0 if t[b] > t[a] else np.nan
    # the steps in order; stabilisation: the first localised frame after which every step is small
    has = np.flatnonzero(np.isfinite(step))
    k = stabilisation_index(step[has], threshold_um)
    if k is None:
        stab = None
    elif k == 0:
        stab = int(idx[0])
    else:
        stab = int(has[k - 1])
    slopes = {}
    for i, a in enumerate("zyx"):
        if a == "z" and not three_d:
            continue
        d = drift_per_hour(t[ok], zyx[ok, i])
        slopes[a] = (d.slope_per_h / 60.0, d.se_per_h / 60.0)
    msd = msd_table(t[ok], zyx[ok][:, axes], idx, max(1, n // 4))
    return DriftAnalysis(rel, displacement, step, velocity, bridged, stab, slopes, long_gaps, msd)

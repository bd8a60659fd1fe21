"""``analyze_stage``: stage repeatability (QUAREP WG6, ISO 230-2) or stage and focus drift (MetroloJ_QC)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.stage.drift import analyze_track
from microscope_qc.analysis.stage.localise import Localisations, localise_frames
from microscope_qc.analysis.stage.repeatability import group_statistics, iso230_2, moves_table, wg6_moves
from microscope_qc.analysis.stage.result import StageResult
from microscope_qc.analysis.stage.settings import StageSettings
from microscope_qc.instrument import Setting, SettingsError, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, Metric, ProgressCallback, Verdict
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_stage"]

_NOT_ESTIMABLE = "not estimable"
_DEFAULT_TOLERANCE = "default (QUAREP WG6 tool-kit)"


def _add(
    result: StageResult,
    name: str,
    value: float,
    unit: str | None,
    description: str,
    se: float | None = None,
    kind: str = "standard error",
) -> None:
    result.metrics.append(Metric(name, float(value), unit, se, result.channel, description, kind))


def analyze_stage(
    frames: Any,
    settings: StageSettings | None = None,
    *,
    voxel_size_um: tuple[float, float, float],
    times_s: npt.ArrayLike | None = None,
    frame_interval_s: float | None = None,
    moves: Any = None,
    resolution_um: float | None = None,
    channel: int = 0,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> StageResult:
    """Localise the one bead of every frame, then measure repeatability or drift.

    Parameters
    ----------
    frames : sequence of array_like
        One (Y, X) or (Z, Y, X) image per frame.
    settings : StageSettings, optional
        The analysis settings (``mode`` picks repeatability or drift).
    voxel_size_um : tuple of 3 float
        (z, y, x) voxel size (z is ignored for 2D frames).
    times_s : array_like, optional
        Time of each frame (drift); else ``frame_interval_s``.
    frame_interval_s : float, optional
        Time between frames (drift).
    moves : table, optional
        Repeatability: the move before each frame (see
        :func:`~microscope_qc.analysis.stage.repeatability.moves_table`); None: the QUAREP WG6
        protocol's order is assumed (and said in the warnings).
    resolution_um : float, optional
        Drift: the theoretical lateral resolution, the default stabilisation threshold.
    channel : int
        The file's channel the frames come from (recorded on the metrics).
    limits : Limits, optional
        Facility limits, replacing the default verdicts.
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    StageResult
        Metrics, verdicts, the per-frame track and the group, ISO or MSD tables.

    Raises
    ------
    AnalysisError
        Fewer than 2 frames, no frame with exactly one bead, bad moves.
    SettingsError
        Drift without frame times, or without a stabilisation threshold or resolution.
    """
    settings = settings or StageSettings()
    validate_settings(settings)
    n = len(frames)
    if n < 2:
        raise AnalysisError(f"{n} frame(s); the stage analysis needs a series of at least 2.")
    if any(not (v > 0) for v in voxel_size_um[1:]):
        raise SettingsError("The pixel size is not known; give {voxel_size_um}.")
    skip = _check_content(frames)
    t = _times(n, times_s, frame_interval_s, settings.mode == "drift")
    threshold = None
    if settings.mode == "drift":
        threshold = settings.stabilisation_threshold_um or resolution_um
        if threshold is None:
            raise SettingsError(
                "The stabilisation threshold is not known: give {stabilisation_threshold_um}, or the optics (NA, "
                "wavelength, modality) for the theoretical resolution MetroloJ_QC uses."
            )
    moves_df = None
    if settings.mode == "repeatability":
        moves_df = moves_table(moves, n) if moves is not None else wg6_moves(n)
    loc = localise_frames(
        frames,
        voxel_size_um,
        settings.bead_diameter_um,
        settings.detection_threshold_sigma,
        progress,
        cancel,
        skip,
    )
    check_cancel(cancel, "Stage analysis")
    result = StageResult(mode=settings.mode, three_d=loc.three_d, channel=channel)
    result.settings.update(settings.analysis_settings())
    result.settings["voxel_size_um"] = Setting(tuple(float(v) for v in voxel_size_um), "um", Source.USER)
    table = _positions(loc, t)
    left_out = [(i, s) for i, s in enumerate(loc.status) if s != "ok"]
    _add(result, "n_frames", n, None, "frames in the series")
    _add(result, "n_localised", n - len(left_out), None, "frames with exactly one bead, localised")
    if left_out:
        shown = "; ".join(f"frame {i}: {s}" for i, s in left_out[:6])
        more = f" (and {len(left_out) - 6} more)" if len(left_out) > 6 else ""
        result.warnings.append(
            f"{len(left_out)} of {n} frames left out, the rest analysed (one bead per frame expected): {shown}{more}."
        )
    if n - len(left_out) < 2:
        raise AnalysisError(
            f"Only {n - len(left_out)} of {n} frames show exactly one bead; check {{bead_diameter_um}} and "
            "{detection_threshold_sigma}, or crop to one bead."
        )
    if moves_df is not None:
        if moves is None:
            result.warnings.append(
                "No move table given: the QUAREP WG6 order was assumed (300 µm then 3000 µm; 20 cycles; diagonals "
                "+x+y, −x+y, −x−y, +x−y in each cycle). Give the move before each frame as a table if the series was taken otherwise."
            )
        result.settings["moves"] = Setting(
            "given" if moves is not None else "QUAREP WG6 order assumed",
            None,
            Source.USER if moves is not None else Source.DEFAULT,
        )
        _repeatability(result, table, moves_df, settings, loc.three_d)
    else:
        assert threshold is not None
        src = Source.USER if settings.stabilisation_threshold_um else Source.DEFAULT
        detail = (
            None if settings.stabilisation_threshold_um else "theoretical lateral resolution (MetroloJ_QC)"
        )
        result.settings["stabilisation_threshold_used_um"] = Setting(float(threshold), "um", src, detail)
        _drift(result, table, loc, t, settings, float(threshold))
    if limits is not None:
        limits.apply(result)
    if progress is not None:
        progress(1.0, "done")
    return result


def _check_content(frames: Any) -> dict[int, str]:
    """Frames with NaN or infinite pixels (left out); a series that is all NaN or one constant is refused."""
    lows, highs = [], []
    bad: dict[int, str] = {}
    for i, f in enumerate(frames):
        a = np.asarray(f, dtype=float)
        if not np.isfinite(a).all():
            bad[i] = "NaN pixels"
            continue
        lows.append(float(a.min()))
        highs.append(float(a.max()))
    if len(bad) == len(frames):
        raise AnalysisError("Every frame holds NaN or infinite pixels; nothing to localise.")
    if min(lows) == max(highs):
        raise AnalysisError(f"Every pixel of every frame is the constant {lows[0]:g}: no bead to follow.")
    return bad


def _times(
    n: int, times_s: npt.ArrayLike | None, interval: float | None, needed: bool
) -> npt.NDArray[np.float64]:
    if times_s is not None:
        t: npt.NDArray[np.float64] = np.asarray(times_s, dtype=np.float64)
        if t.size != n:
            raise AnalysisError(f"{t.size} frame times for {n} frames; give one time per frame.")
        if np.any(np.diff(t) <= 0):
            raise AnalysisError(
                "The frame times are not increasing; give them in frame order, without repeats."
            )
        out: npt.NDArray[np.float64] = t - t[0]
        return out
    if interval is not None and interval > 0:
        return np.arange(n, dtype=np.float64) * np.float64(interval)
    if needed:
        raise SettingsError(
            "Drift needs the time between frames: give {frame_interval_s}, or the time of each frame."
        )
    return np.full(n, np.nan)


def _positions(loc: Localisations, t: npt.NDArray[np.float64]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frame": np.arange(len(loc.status)),
            "t_s": t,
            "z_um": loc.zyx_um[:, 0],
            "y_um": loc.zyx_um[:, 1],
            "x_um": loc.zyx_um[:, 2],
            "z_se_um": loc.se_um[:, 0],
            "y_se_um": loc.se_um[:, 1],
            "x_se_um": loc.se_um[:, 2],
            "status": loc.status,
            "n_spots": loc.n_spots,
        }
    )


def _sd_se(v: npt.NDArray[np.float64]) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    if v.size < 2:
        return math.nan, math.nan
    sd = float(v.std(ddof=1))
    return sd, (sd / math.sqrt(2 * (v.size - 1)) if v.size > 2 else math.nan)


def _repeatability(
    result: StageResult, table: pd.DataFrame, moves: pd.DataFrame, s: StageSettings, three_d: bool
) -> None:
    table = pd.concat([table, moves.drop(columns="frame")], axis=1)
    axes = ("z", "y", "x") if three_d else ("y", "x")
    for a in ("z", "y", "x"):
        mean = table.groupby("distance_um")[f"{a}_um"].transform("mean")
        table[f"error_{a}_um"] = table[f"{a}_um"] - mean
    result.tables["positions"] = table
    ok = table[table["status"] == "ok"]
    groups = group_statistics(ok, axes)
    result.tables["groups"] = groups
    for a in reversed(axes):
        sd, se = _sd_se(ok[f"error_{a}_um"].to_numpy(float))
        _add(
            result,
            f"sd_{a}_um",
            sd,
            "um",
            f"SD (ddof = 1) of the bead position along {a} after each move, every distance and direction (about the "
            "mean of each distance)",
            se,
        )
    sds = groups["sd_um"].to_numpy(float)
    worst = groups.iloc[int(np.nanargmax(sds))].to_dict() if np.isfinite(sds).any() else None
    _add(
        result,
        "sd_max_um",
        math.nan if worst is None else worst["sd_um"],
        "um",
        "largest SD of the bead position over axes, approach directions and distances (the QUAREP WG6 flag)",
        math.nan if worst is None else worst["sd_se_um"],
    )
    if worst is not None:
        source = _DEFAULT_TOLERANCE if s.tolerance_um == 0.5 else "user"
        result.verdicts.append(
            Verdict.check("sd_max_um", float(worst["sd_um"]), s.tolerance_um, "<=", source, result.channel)
        )
        if worst["sd_um"] > s.tolerance_um:
            result.warnings.append(
                f"The bead position scatters by SD {worst['sd_um']:.3g} µm along {worst['axis']} ({worst['direction']}, "
                f"{worst['distance_um']:g} µm moves), above {s.tolerance_um:g} µm."
            )
    iso_rows = []
    distances = sorted(float(v) for v in ok["distance_um"].unique())
    for d, part in [*((v, ok[ok["distance_um"] == v]) for v in distances), (math.nan, ok)]:
        for a in ("x", "y"):
            approach = -np.sign(
                part[f"d{a}_um"].to_numpy(float)
            )  # the stage came back opposite to the excursion
            iso = iso230_2(part[f"{a}_um"].to_numpy(float), approach)
            iso_rows.append(
                {
                    "distance_um": d,
                    "axis": a,
                    "n_plus": iso.n_plus,
                    "n_minus": iso.n_minus,
                    "s_plus_um": iso.s_plus,
                    "s_minus_um": iso.s_minus,
                    "repeatability_plus_um": iso.repeatability_plus,
                    "repeatability_minus_um": iso.repeatability_minus,
                    "reversal_um": iso.reversal,
                    "repeatability_bidirectional_um": iso.bidirectional,
                }
            )
            if not math.isnan(d):
                continue
            worst_s, n_w = max((iso.s_plus, iso.n_plus), (iso.s_minus, iso.n_minus))
            _add(
                result,
                f"iso_repeatability_unidirectional_{a}_um",
                4 * worst_s,
                "um",
                f"ISO 230-2 unidirectional repeatability along {a}, max(4·s↑, 4·s↓), every distance pooled",
                4 * worst_s / math.sqrt(2 * (n_w - 1)) if n_w > 2 else math.nan,
            )
            _add(
                result,
                f"iso_reversal_{a}_um",
                iso.reversal,
                "um",
                f"ISO 230-2 reversal value (backlash) along {a}: mean position approached in + minus in −",
                iso.reversal_se,
            )
            _add(
                result,
                f"iso_repeatability_bidirectional_{a}_um",
                iso.bidirectional,
                "um",
                f"ISO 230-2 bidirectional repeatability along {a}, max(2s↑ + 2s↓ + |B|, R↑, R↓)",
                math.nan,
                _NOT_ESTIMABLE,
            )
    result.tables["iso"] = pd.DataFrame(iso_rows)


def _drift(
    result: StageResult,
    table: pd.DataFrame,
    loc: Localisations,
    t: npt.NDArray[np.float64],
    s: StageSettings,
    threshold: float,
) -> None:
    tr = analyze_track(t, loc.zyx_um, loc.three_d, threshold, s.max_gap_frames)
    for i, a in enumerate("zyx"):
        table[f"rel_{a}_um"] = tr.rel[:, i]
    table["displacement_um"] = tr.displacement
    table["step_um"] = tr.step
    table["velocity_um_per_min"] = tr.velocity
    table["bridged"] = tr.bridged
    result.tables["positions"] = table
    if tr.msd is not None:
        result.tables["msd"] = tr.msd
    dt = float(np.median(np.diff(t)))
    what = "3D" if loc.three_d else "lateral"
    _add(result, "duration_s", t[-1] - t[0], "s", "time from the first to the last frame")
    _add(
        result,
        "n_bridged",
        int(tr.bridged.sum()),
        None,
        f"frames without a bead bridged (gaps of ≤ {s.max_gap_frames})",
    )
    for first, length in tr.long_gaps:
        result.warnings.append(
            f"Frames {first}–{first + length - 1} have no bead: a gap of {length} frames is longer than the "
            f"{s.max_gap_frames} bridged; no displacement is counted across it."
        )
    stab = tr.stabilisation_frame
    result.stabilisation_frame = stab
    ok = np.isfinite(tr.displacement)
    t0 = float(t[np.flatnonzero(ok)[0]])
    _add(
        result,
        "stabilisation_time_s",
        math.nan if stab is None else float(t[stab]) - t0,
        "s",
        f"MetroloJ_QC: time of the first frame after which every frame-to-frame {what} displacement stays below "
        f"{threshold:.3g} µm; the uncertainty is one frame interval",
        dt,
        "sampling interval",
    )
    if stab is None:
        result.warnings.append(
            f"The stage did not stabilise: the last frame-to-frame displacement is above {threshold:.3g} µm."
        )
    axes = "zyx" if loc.three_d else "yx"
    vy, sy = tr.slopes["y"]
    vx, sx = tr.slopes["x"]
    speed = math.hypot(vx, vy)
    speed_se = math.hypot(vx * sx, vy * sy) / speed if speed > 0 else math.nan
    _add(
        result,
        "drift_velocity_um_per_min",
        speed,
        "um/min",
        "lateral drift speed: least-squares slopes of x and y on time; SE corrected for correlated positions",
        speed_se,
    )
    for a in axes:
        v, se = tr.slopes[a]
        name = "focus_drift_rate_um_per_min" if a == "z" else f"drift_velocity_{a}_um_per_min"
        _add(result, name, v, "um/min", f"least-squares slope of the {a} position on time", se)
    last = np.flatnonzero(ok)[-1]
    first = np.flatnonzero(ok)[0]
    far = int(np.nanargmax(tr.displacement))
    dims = [0, 1, 2] if loc.three_d else [1, 2]

    def distance_se(i: int) -> float:
        """SE of the distance of frame i from t0, from the two positions' fit SEs (delta method)."""
        d = tr.rel[i, dims]
        norm = float(np.sqrt((d**2).sum()))
        if norm == 0:
            return math.nan
        var = (d / norm) ** 2 * (loc.se_um[i, dims] ** 2 + loc.se_um[first, dims] ** 2)
        return float(np.sqrt(var.sum()))

    _add(
        result,
        "total_displacement_um",
        tr.displacement[last],
        "um",
        f"{what} distance of the last localised frame from t0; SE from the positions' fit SEs",
        distance_se(last),
    )
    _add(
        result,
        "max_displacement_um",
        tr.displacement[far],
        "um",
        f"largest {what} distance from t0",
        distance_se(far),
    )
    if loc.three_d:
        _add(
            result,
            "focus_drift_um",
            tr.rel[last, 0],
            "um",
            "z of the last localised frame relative to t0 (focus drift)",
            float(np.hypot(loc.se_um[last, 0], loc.se_um[first, 0])),
        )
    steps = np.isfinite(tr.velocity)
    before = steps & (np.arange(t.size) <= (stab if stab is not None else t.size))
    after = steps & (np.arange(t.size) > (stab if stab is not None else t.size))
    for label, sel in (("before", before), ("after", after)):
        vel = tr.velocity[sel]
        _add(
            result,
            f"mean_velocity_{label}_um_per_min",
            float(vel.mean()) if vel.size else math.nan,
            "um/min",
            f"mean frame-to-frame {what} velocity {label} stabilisation (MetroloJ_QC)",
            float(vel.std(ddof=1) / math.sqrt(vel.size)) if vel.size > 1 else math.nan,
        )
    if stab is not None:
        for a in axes:
            i = "zyx".index(a)
            sd, se = _sd_se(loc.zyx_um[stab:, i])
            _add(result, f"sd_after_{a}_um", sd, "um", f"SD of the {a} position after stabilisation", se)

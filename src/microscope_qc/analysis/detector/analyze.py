"""``analyze_detector``: one entry point for the five modes, frames streamed one (or two) at a time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.detector.cv import ROI, cv_per_roi, noisee_fluorescein
from microscope_qc.analysis.detector.dark import dark_noise
from microscope_qc.analysis.detector.emva import emva_temporal
from microscope_qc.analysis.detector.frames import (
    FrameSource,
    PairStats,
    StackAccumulator,
    as_float_list,
    pair_statistics,
    saturation_level,
)
from microscope_qc.analysis.detector.result import DetectorResult
from microscope_qc.analysis.detector.series import Group, group_frames
from microscope_qc.analysis.detector.settings import DetectorSettings
from microscope_qc.analysis.detector.spatial import root, spatial_variances
from microscope_qc.results import AnalysisError, CancelCheck, Limits, Metric, ProgressCallback
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_detector", "MIN_SPATIAL_FRAMES"]

#: EMVA 1288 asks for at least this many frames averaged for DSNU and PRNU
MIN_SPATIAL_FRAMES = 16


def analyze_detector(
    frames: Any,
    settings: DetectorSettings | None = None,
    *,
    exposure_ms: Sequence[float] | None = None,
    photons: Sequence[float] | None = None,
    dark: Sequence[bool] | None = None,
    darks: Any = None,
    rois: Sequence[ROI] | None = None,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> DetectorResult:
    """Measure a detector's performance from raw frames.

    Parameters
    ----------
    frames : array or sequence
        A (N, Y, X) array, one (Y, X) frame, or a sequence of (Y, X) frames (a lazy stack is read
        one frame at a time: the series is never held in memory). ``emva``: the bright and dark
        pairs (see ``exposure_ms``, ``photons``, ``dark``); ``single-scene`` and ``noisee``: the
        bright frames; ``dark``: the dark frames; ``cv``: one image per detector or channel.
    settings : DetectorSettings, optional
        The mode and its parameters (default: EMVA with the standard's fit ranges).
    exposure_ms : sequence of float, optional
        EMVA: the exposure time of each frame (ms).
    photons : sequence of float, optional
        EMVA: the mean number of photons per pixel of each frame (0 for darks); gives the
        quantum efficiency and the thresholds in photons.
    dark : sequence of bool, optional
        EMVA: which frames are dark (default: those with 0 photons).
    darks : array or sequence, optional
        ``single-scene`` and ``noisee``: the dark frames.
    rois : sequence of (name, mask), optional
        ``cv`` and ``noisee``: the regions (boolean masks of the frame's shape).
    limits : Limits, optional
        A facility's limits (an instrument profile's tolerances): the only verdicts given.
    progress : callable, optional
        ``progress(fraction, message)``.
    cancel : callable, optional
        Returns True to stop (raises :class:`~microscope_qc.results.AnalysisCancelled`).

    Returns
    -------
    DetectorResult
        Metrics with uncertainties, the curves as tables, the maps as arrays.

    Raises
    ------
    AnalysisError
        Input the analysis cannot use; the message says what to do.
    SettingsError
        A setting out of its range.
    """
    settings = settings or DetectorSettings()
    validate_settings(settings)
    src = FrameSource(frames, "frame")
    if len(src) == 0:
        raise AnalysisError("No frames given.")
    dark_src = FrameSource(darks, "dark frame") if darks is not None else None
    result = DetectorResult(measurement="detector", mode=settings.mode)
    result.settings.update(settings.analysis_settings())
    dtype = np.dtype(getattr(frames, "dtype", None) or np.asarray(frames[0]).dtype)
    saturation = saturation_level(dtype, settings.saturation_value, settings.bit_depth)
    if settings.mode == "emva":
        if dark_src is not None:
            raise AnalysisError(
                "In EMVA mode the dark pairs are part of the series: mark them dark in the frame table "
                "({frame_table}) instead of giving them separately."
            )
        _emva(src, settings, saturation, result, exposure_ms, photons, dark, progress, cancel)
    elif settings.mode == "dark":
        out = dark_noise(src, settings, saturation, progress, cancel)
        result.metrics += out.metrics
        result.tables["defect_pixels"] = out.table
        result.images.update(out.images)
        result.warnings += out.warnings
    elif settings.mode == "cv":
        cv = cv_per_roi(src, rois, saturation, progress, cancel)
        _merge(result, cv)
    elif settings.mode == "noisee":
        if settings.noisee_kind == "beads":
            from microscope_qc.analysis.detector.beads import noisee_beads

            _merge(result, noisee_beads(src, dark_src, settings, saturation, progress, cancel))
        else:
            _merge(result, noisee_fluorescein(src, dark_src, rois, saturation, cancel))
    else:
        from microscope_qc.analysis.detector.single_scene import single_scene

        _merge(result, single_scene(src, dark_src, settings, saturation, progress, cancel))
    result.metrics = [
        m
        if m.uncertainty is not None and math.isfinite(m.uncertainty)
        else replace(m, uncertainty=math.nan, uncertainty_kind="not estimable")
        for m in result.metrics
    ]
    if limits is not None:
        limits.apply(result)
    if progress is not None:
        progress(1.0, "done")
    return result


def _merge(result: DetectorResult, out: Any) -> None:
    result.metrics += out.metrics
    result.tables.update(out.tables)
    result.images.update(out.images)
    result.warnings += out.warnings
    for key in ("fits", "fit_ranges"):
        if hasattr(out, key):
            getattr(result, key).update(getattr(out, key))


def _first_frame_check(src: FrameSource) -> None:
    """Read frame 0 (NaN, constant) before complaining about anything else: bad pixels say more."""
    src.read(0)


def _emva(
    src: FrameSource,
    settings: DetectorSettings,
    saturation: float,
    result: DetectorResult,
    exposure_ms: Sequence[float] | None,
    photons: Sequence[float] | None,
    dark: Sequence[bool] | None,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> None:
    n = len(src)
    if n >= 1 and (exposure_ms is None and photons is None):
        _first_frame_check(src)
    t = as_float_list(exposure_ms, n, "exposure times")
    p = as_float_list(photons, n, "photon counts")
    groups = group_frames(n, t, p, dark)
    brights: list[tuple[Group, PairStats]] = []
    darks: list[tuple[Group, PairStats]] = []
    for k, g in enumerate(groups):
        check_cancel(cancel, "Detector analysis")
        if g.dark:
            a = src.read_raw(g.start, dark_saturation=saturation)
            top = src.last_max
            b = src.read_raw(g.start + 1, dark_saturation=saturation)
        else:
            a = src.read_raw(g.start, allow_constant_at=saturation)
            top = src.last_max
            b = src.read_raw(g.start + 1, allow_constant_at=saturation)
        top = max(top, src.last_max)
        (darks if g.dark else brights).append((g, pair_statistics(a, b, saturation, top)))
        del a, b
        if progress is not None:
            progress(0.8 * (k + 1) / len(groups), f"pair {k + 1}/{len(groups)}")
    n_pixels = int(np.prod(src.shape or (1, 1)))
    temporal = emva_temporal(brights, darks, settings, n_pixels)
    result.metrics += temporal.metrics
    result.warnings += temporal.warnings
    result.tables["photon_transfer"] = temporal.table
    result.tables["dark_levels"] = temporal.dark_table
    sig = temporal.table["signal_dn"].to_numpy()
    sat_signal = float(sig[temporal.saturation_index])
    result.fit_ranges["gain"] = (0.0, settings.gain_fit_max_percent / 100 * sat_signal)
    result.fit_ranges["linearity"] = (
        settings.linearity_min_percent / 100 * sat_signal,
        settings.linearity_max_percent / 100 * sat_signal,
    )
    result.fits["gain"] = {"slope": temporal.system_gain, "slope_se": temporal.system_gain_se}
    lin = temporal.table["linearity_fit_dn"].to_numpy()
    if np.isfinite(lin).sum() >= 2:
        x = (
            temporal.table["photons"]
            if np.isfinite(temporal.table["photons"]).all()
            else temporal.table["exposure_ms"]
        )
        xs = x.to_numpy()
        slope = float((lin[-1] - lin[0]) / (xs[-1] - xs[0])) if xs[-1] != xs[0] else math.nan
        result.fits["linearity"] = {"slope": slope, "intercept": float(lin[0] - slope * xs[0])}
    _emva_spatial(src, groups, brights, temporal.system_gain, sat_signal, result, progress, cancel)


def _pick_spatial(
    groups: list[Group],
    brights: list[tuple[Group, PairStats]],
    sat_signal: float,
    dark_mean: dict[float | None, float],
) -> tuple[Group, Group]:
    """The bright stack (most frames; then nearest half saturation) and the dark stack beside it."""

    def bright_key(gs: tuple[Group, PairStats]) -> tuple[int, float]:
        g, s = gs
        level = s.mean - dark_mean.get(g.exposure_ms, min(dark_mean.values()))
        return (-g.count, abs(level - 0.5 * sat_signal))

    bright = min(brights, key=bright_key)[0]
    dark_groups = [g for g in groups if g.dark]
    dark = min(dark_groups, key=lambda g: (g.exposure_ms != bright.exposure_ms, -g.count))
    return bright, dark


def _emva_spatial(
    src: FrameSource,
    groups: list[Group],
    brights: list[tuple[Group, PairStats]],
    k: float,
    sat_signal: float,
    result: DetectorResult,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> None:
    dark_mean = {g.exposure_ms: s.mean for g, s in _dark_pairs(result)}
    bright_g, dark_g = _pick_spatial(groups, brights, sat_signal, dark_mean)
    stats = {}
    maps = {}
    for g in (dark_g, bright_g):
        acc = StackAccumulator()
        for i in g.frames:
            check_cancel(cancel, "Detector analysis")
            acc.add(src.read(i))
        stats[g.dark], avg, var = spatial_variances(acc)
        maps[g.dark] = (avg, var)
        if progress is not None:
            progress(0.9 if g.dark else 0.98, "spatial non-uniformity")
    d, b = stats[True], stats[False]
    small = min(d.frames, b.frames)
    if small < MIN_SPATIAL_FRAMES:
        result.warnings.append(
            f"DSNU and PRNU come from stacks of {d.frames} dark and {b.frames} bright frames; EMVA 1288 averages "
            f"at least {MIN_SPATIAL_FRAMES} (take more frames at one exposure, dark and at about 50 % saturation)."
        )
    level = b.mean - d.mean
    se_rel = 1.0 / math.sqrt(2 * max(int(np.prod(src.shape or (1, 1))) - 1, 1))
    k_rel = (
        result.fits["gain"]["slope_se"] / k if math.isfinite(result.fits["gain"]["slope_se"]) else math.nan
    )

    def dsnu(name: str, var: float, what: str) -> list[Metric]:
        v = root(var)
        return [
            Metric(
                f"{name}_e",
                v / k,
                "e-",
                v / k * math.hypot(se_rel, k_rel),
                None,
                f"{what} (EMVA 1288 DSNU₁₂₈₈, in electrons)",
            ),
            Metric(f"{name}_dn", v, "DN", v * se_rel, None, f"{what} (EMVA 1288 DSNU₁₂₈₈, in DN)"),
        ]

    def prnu(name: str, var_b: float, var_d: float, what: str) -> Metric:
        v = 100 * root(var_b - var_d) / level
        return Metric(name, v, "percent", v * se_rel, None, f"{what} (EMVA 1288 PRNU₁₂₈₈)")

    result.metrics += [
        *dsnu("dsnu", d.total, "dark signal non-uniformity"),
        *dsnu("dsnu_row", d.row, "row part of the DSNU"),
        *dsnu("dsnu_column", d.column, "column part of the DSNU"),
        *dsnu("dsnu_pixel", d.pixel, "pixel part of the DSNU"),
        prnu("prnu_percent", b.total, d.total, "photo-response non-uniformity"),
        prnu("prnu_row_percent", b.row, d.row, "row part of the PRNU"),
        prnu("prnu_column_percent", b.column, d.column, "column part of the PRNU"),
        prnu("prnu_pixel_percent", b.pixel, d.pixel, "pixel part of the PRNU"),
    ]
    avg_d, var_d = maps[True]
    avg_b, _ = maps[False]
    result.images["dsnu_map"] = (avg_d - d.mean).astype(np.float32)
    result.images["prnu_map"] = ((avg_b - avg_d) / level - 1.0).astype(np.float32)
    result.images["dark_noise_map"] = np.sqrt(var_d).astype(np.float32)
    result.tables["spatial"] = pd.DataFrame(
        [
            {
                "stack": "dark" if dk else "bright",
                "exposure_ms": g.exposure_ms if g.exposure_ms is not None else math.nan,
                "frames": s.frames,
                "mean_dn": s.mean,
                "spatial_variance_dn2": s.total,
                "row_variance_dn2": s.row,
                "column_variance_dn2": s.column,
                "pixel_variance_dn2": s.pixel,
                "temporal_variance_dn2": s.temporal,
            }
            for dk, g, s in ((True, dark_g, d), (False, bright_g, b))
        ]
    )


def _dark_pairs(result: DetectorResult) -> list[tuple[Group, PairStats]]:
    t = result.tables["dark_levels"]
    out = []
    for _, row in t.iterrows():
        e = None if not math.isfinite(row["exposure_ms"]) else float(row["exposure_ms"])
        out.append(
            (
                Group(0, int(row["frames"]), True, e, None),
                PairStats(float(row["mean_dn"]), float(row["variance_dn2"]), math.nan, math.nan, 0.0),
            )
        )
    return out

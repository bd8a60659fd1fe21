"""The pattern analysis: the kind of pattern (given or detected), one analysis per kind, channels registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis._common import check_cancel, select_channels
from microscope_qc.analysis.pattern.channels import register_channels
from microscope_qc.analysis.pattern.ladder import analyze_ladder, looks_like_ladder
from microscope_qc.analysis.pattern.lines import analyze_lines, looks_like_lines
from microscope_qc.analysis.pattern.result import PatternResult
from microscope_qc.analysis.pattern.rings import (
    MIN_GRID_SPOTS,
    _lattice,
    analyze_rings,
    detect_spots,
)
from microscope_qc.analysis.pattern.settings import PatternSettings
from microscope_qc.instrument import Setting, SettingsError, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, ProgressCallback, Result, Verdict
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_pattern", "detect_kind", "as_cyx", "KIND_ANALYSES", "KIND_DETECTORS"]

#: the detection hooks of the other kinds, asked in this order when the image is not a field of rings:
#: ``(kind, function)`` with ``function(plane, pixel_size_um) -> bool``
KIND_DETECTORS: tuple[tuple[str, Callable[[Any, tuple[float, float]], bool]], ...] = (
    ("lines", looks_like_lines),
    ("ladder", looks_like_ladder),
)


def _run_lines(
    planes: np.ndarray,
    s: PatternSettings,
    px: tuple[float, float] | None,
    selected: list[int],
    limits: Limits | None,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> Result:
    """The line-pair and grating analysis of the selected planes, with the pattern settings' line fields."""
    if px is None:
        raise SettingsError(
            "The pixel size is not in the file; give it ({voxel_size_um}): line spacings and widths need it."
        )
    return analyze_lines(
        planes,
        s.lines_settings(),
        pixel_size_um=px[1],
        nominal_spacings_um=s.nominal_spacings_um,
        channels=selected,
        limits=limits,
        progress=progress,
        cancel=cancel,
    )


def _run_ladder(
    planes: np.ndarray,
    s: PatternSettings,
    px: tuple[float, float] | None,
    selected: list[int],
    limits: Limits | None,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> Result:
    """The grey-level ladder analysis of the selected planes, with the pattern settings' ladder fields."""
    return analyze_ladder(
        planes,
        s.ladder_settings(),
        pixel_size_um=None if px is None else px[1],
        nominal_levels=s.nominal_levels,
        channels=selected,
        limits=limits,
        progress=progress,
        cancel=cancel,
    )


#: the analysis of each pattern kind besides rings: ``function(planes, settings, pixel_size_um, channels,
#: limits, progress, cancel)`` with the (C, Y, X) planes, the pattern settings (which carry each kind's own
#: fields), the (y, x) pixel size (None when the file has none) and the selected channels
KIND_ANALYSES: dict[str, Callable[..., Result]] = {"lines": _run_lines, "ladder": _run_ladder}


def as_cyx(data: Any) -> tuple[np.ndarray, list[str]]:
    """The image as (C, Y, X) planes in memory: a stack's sharpest plane per channel.

    Parameters
    ----------
    data : array_like
        (Y, X), (C, Y, X) or (C, Z, Y, X).

    Returns
    -------
    planes, notes
        The planes and what was chosen (one note per channel of a stack).

    Raises
    ------
    AnalysisError
        Another number of dimensions.
    """
    shape = tuple(getattr(data, "shape", np.shape(data)))
    notes: list[str] = []
    if len(shape) == 2:
        return np.asarray(data)[None], notes
    if len(shape) == 3:
        return np.asarray(data), notes
    if len(shape) != 4:
        raise AnalysisError(
            f"A pattern image is (Y, X), (C, Y, X) or (C, Z, Y, X); got {len(shape)} dimensions {shape}. "
            "Pick one time point / position first."
        )
    planes = []
    for c in range(shape[0]):
        stack = np.asarray(data[c])
        if stack.shape[0] == 1:
            planes.append(stack[0])
            continue
        # the sharpest plane: the largest variance of the (spot-rich) image
        k = int(np.argmax([float(np.var(p, dtype=np.float64)) for p in stack]))
        notes.append(f"Channel {c}: a stack of {stack.shape[0]} planes; plane {k} (the sharpest) analysed.")
        planes.append(stack[k])
    return np.stack(planes), notes


def detect_kind(
    plane: np.ndarray, pixel_size_um: tuple[float, float], settings: PatternSettings
) -> str | None:
    """Which pattern a plane shows: "rings" when its spots lie on a regular 2D lattice, else another kind's hook.

    A field of rings is recognised by its detector count and geometry: at least 9 spots, at least half
    of them on one lattice (:func:`~microscope_qc.analysis.pattern.grid.find_lattice`). Otherwise
    the detection hooks of the other kinds (:data:`KIND_DETECTORS`) are asked in turn.

    Parameters
    ----------
    plane : numpy.ndarray
        (Y, X) image.
    pixel_size_um : tuple of float
        (y, x) pixel size.
    settings : PatternSettings
        The settings (spot size, detection threshold).

    Returns
    -------
    str or None
        "rings", another kind, or None when nothing is recognised.
    """
    det, _, _ = detect_spots(np.asarray(plane, float), pixel_size_um, settings)
    n = len(det["x"])
    if n >= MIN_GRID_SPOTS:
        h, w = plane.shape
        dy, dx = pixel_size_um
        pts = np.column_stack([det["x"] * dx, det["y"] * dy]).astype(float)
        try:
            _lattice(pts, ((w - 1) * dx / 2, (h - 1) * dy / 2), n)
            return "rings"
        except AnalysisError:
            pass
    for kind, looks_like in KIND_DETECTORS:
        if looks_like(plane, pixel_size_um):
            return kind
    return None


def _check(cancel: CancelCheck | None) -> None:
    check_cancel(cancel, "Pattern analysis")


def _pixel_size(s: PatternSettings, needed: bool = True) -> tuple[float, float] | None:
    """The (y, x) pixel size; None when it is not known and ``needed`` is False (a ladder)."""
    vox = s.microscope.voxel_size_um
    if vox is None or not vox[1] or not vox[2]:
        if not needed:
            return None
        raise SettingsError("The pixel size is not in the file; give it ({voxel_size_um}).")
    return float(vox[1]), float(vox[2])


def analyze_pattern(
    data: Any,
    settings: PatternSettings | None = None,
    *,
    channels: list[int] | None = None,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Result:
    """Analyse an image of a pattern slide.

    Parameters
    ----------
    data : array_like
        (Y, X), (C, Y, X) or (C, Z, Y, X) image (a stack: each channel's sharpest plane).
    settings : PatternSettings, optional
        The settings; ``microscope.voxel_size_um`` gives the pixel size.
    channels : list of int, optional
        The channels to analyse (default: all).
    limits : Limits, optional
        A facility's limits, replacing the default verdicts.
    progress : callable, optional
        ``progress(fraction, message)``.
    cancel : callable, optional
        Returns True to stop.

    Returns
    -------
    Result
        A :class:`PatternResult` for a field of rings; the line-pair and ladder analyses return theirs.

    Raises
    ------
    AnalysisError
        No pattern recognised, spots that are not a grid, a pitch far from the nominal one, channels
        that do not show the same field.
    SettingsError
        No pixel size, or an invalid setting.
    """
    s = settings or PatternSettings()
    validate_settings(s)
    px = _pixel_size(s, needed=s.kind != "ladder")
    planes, notes = as_cyx(data)
    selected = select_channels(channels, planes.shape[0])
    for c in selected:
        plane = planes[c]
        if plane.dtype.kind == "f" and not np.isfinite(plane).all():
            raise AnalysisError(f"Channel {c} holds NaN or infinite values; a pattern image holds counts.")
        if plane.dtype.kind == "f" and float(np.abs(plane).max()) > 1e30:
            raise AnalysisError(f"Channel {c} holds values beyond 10³⁰; a pattern image holds counts.")
        if plane.size and plane.min() == plane.max():
            raise AnalysisError(
                f"Channel {c} is constant ({plane.flat[0]:g} everywhere): no pattern to measure; look at the light "
                "path, the focus and the exposure."
            )
        if min(plane.shape) < 16:
            raise AnalysisError(
                f"Channel {c} is {plane.shape[0]} × {plane.shape[1]} pixels: too small for a pattern."
            )
    kind = s.kind
    if kind == "auto":
        if progress:
            progress(0.02, "recognising the pattern")
        found = detect_kind(planes[selected[0]], px or (1.0, 1.0), s)  # (px is known: needed unless "ladder")
        if found is None:
            raise AnalysisError(
                "No pattern recognised: the image shows neither a grid of rings or spots (at least 9 spots on one "
                "regular lattice), nor groups of parallel lines (line pairs, gratings), nor a grey-level ladder "
                "(at least 4 uniform steps). Image a patterned region of the slide in focus, or say which pattern "
                "it is ({kind})."
            )
        kind = found  # type: ignore[assignment]
    if kind in KIND_ANALYSES:
        result = KIND_ANALYSES[kind](planes, s, px, selected, limits, progress, cancel)
        _record(result, s, kind, px, notes)
        return result
    if px is None:  # (only a ladder goes without a pixel size)
        raise SettingsError("The pixel size is not in the file; give it ({voxel_size_um}).")
    return _analyze_field_of_rings(planes, px, s, selected, notes, limits, progress, cancel)


def _record(
    result: Result, s: PatternSettings, kind: str, px: tuple[float, float] | None, notes: list[str]
) -> None:
    """The pattern kind, the pixel size's provenance and the plane choice on another kind's result."""
    if px is not None:
        src = s.microscope.source_of("voxel_size_um")
        result.settings["pixel_size_um"] = Setting(px[1], "um", src.source, src.detail or "x")
        if abs(px[0] - px[1]) > 0.01 * px[1]:
            result.warnings.append(
                f"The pixels are not square ({px[0]:g} × {px[1]:g} µm, y × x); the {kind} analysis uses the x size."
            )
    ms = s.microscope
    if kind == "lines" and ms.na:  # the theory the findings compare the resolution with
        src = ms.source_of("na")
        result.settings["na"] = Setting(float(ms.na), None, src.source, src.detail)
        em = [c.wavelength_em_nm for c in ms.channels]
        if any(em):
            src = ms.source_of("wavelength_em_nm")
            result.settings["wavelength_em_nm"] = Setting(em, "nm", src.source, src.detail)
    result.settings["kind"] = Setting(
        kind,
        None,
        Source.USER if s.kind != "auto" else Source.DEFAULT,
        "given" if s.kind != "auto" else f"detected: {_DETECTED[kind]}",
    )
    result.warnings += notes


_DETECTED = {"lines": "groups of parallel lines", "ladder": "uniform grey-level steps"}


def _analyze_field_of_rings(
    planes: np.ndarray,
    px: tuple[float, float],
    s: PatternSettings,
    selected: list[int],
    notes: list[str],
    limits: Limits | None,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> PatternResult:
    h, w = planes.shape[1:]
    ms = s.microscope
    names = [c.name or f"channel {k}" for k, c in enumerate(ms.channels)]
    result = PatternResult(
        kind="rings",
        pixel_size_um=px,
        image_shape=(h, w),
        channels=selected,
        channel_names=[names[c] if c < len(names) else f"channel {c}" for c in range(planes.shape[0])],
        reference_channel=s.reference_channel if s.reference_channel in selected else selected[0],
    )
    result.settings = {**s.analysis_settings()}
    src = ms.source_of("voxel_size_um")
    result.settings["pixel_size_um"] = Setting(list(px), "um", src.source, src.detail or "(y, x)")
    result.settings["kind"] = Setting(
        "rings",
        None,
        Source.USER if s.kind != "auto" else Source.DEFAULT,
        "given" if s.kind != "auto" else "detected: spots on a regular grid",
    )
    result.warnings += notes
    if s.reference_channel not in selected and len(selected) > 1:
        result.warnings.append(
            f"The reference channel {s.reference_channel} is not analysed; channel {selected[0]} is the reference."
        )
    per = []
    for n, c in enumerate(selected):
        _check(cancel)
        if progress:
            progress(0.05 + 0.8 * n / len(selected), f"channel {c}: spots and grid")
        ch = analyze_rings(planes[c], px, s, c)
        per.append(ch)
        result.grids[c] = ch.grid
        result.metrics += ch.metrics
        result.warnings += ch.warnings
        for key, value in ch.maps.items():
            result.images["map_extent_um" if key == "extent" else f"{key}_map_{c}"] = value
    result.tables["spots"] = pd.concat([ch.spots for ch in per], ignore_index=True)
    result.tables["missing"] = pd.concat([ch.missing for ch in per], ignore_index=True)
    result.tables["models"] = pd.concat([ch.models for ch in per], ignore_index=True)
    ref = result.reference_channel
    rows, shifts = [], []
    centre = ((w - 1) * px[1] / 2, (h - 1) * px[0] / 2)
    for c in selected:
        if c == ref:
            continue
        _check(cancel)
        if progress:
            progress(0.9, f"channel {c} registered to channel {ref}")
        pitch = result.metric("pitch_um", ref).value
        reg, row, pairs, metrics = register_channels(
            result.spots, ref, c, s.registration_model, centre, pitch
        )
        result.models[(ref, c)] = reg
        rows.append(row)
        shifts.append(pairs)
        result.metrics += metrics
    if rows:
        result.tables["pairs"] = pd.DataFrame(rows)
        result.tables["shifts"] = pd.concat(shifts, ignore_index=True)
    _verdicts(result, s)
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "done")
    return result


def _verdicts(result: PatternResult, s: PatternSettings) -> None:
    for c in result.channels:
        d = result.metric("distortion_max_percent", c).value
        result.verdicts.append(
            Verdict.check(
                "distortion_max_percent",
                d,
                s.tolerance_distortion_percent,
                "<=",
                "default (house)" if s.tolerance_distortion_percent == 1.0 else "user",
                c,
            )
        )
        try:
            u = result.metric("uniformity_percent", c).value
        except KeyError:
            continue
        result.verdicts.append(
            Verdict.check(
                "uniformity_percent",
                u,
                s.tolerance_uniformity_percent,
                ">=",
                "default (MetroloJ_QC)" if s.tolerance_uniformity_percent == 50.0 else "user",
                c,
            )
        )

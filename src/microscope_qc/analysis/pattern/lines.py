"""``analyze_lines``: line groups and gratings of a pattern slide — orientation, spacing, contrast, resolution, LSF.

Each region of parallel lines is found and measured on its own (docs/pattern.md): the
direction of its lines (structure tensor, without the lines' ends), the profile across
them (pixels projected and binned, no interpolation), the spacing (the lines' positions), the
Michelson contrast per line pair with its standard error, whether the pair is resolved (the dip
between the lines at least 26.5 % below their peaks: Rayleigh's criterion for two Airy discs), the
contrast against spatial frequency, the smallest resolved spacing, and the line-spread function's
FWHM from an isolated line (the shared fitting engine's 1D Gaussian).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.pattern.lines_geometry import (
    Group,
    Profile,
    find_groups,
    project,
    structure_tensor,
    trim_ends,
)
from microscope_qc.analysis.pattern.lines_profile import (
    extremum,
    find_lines,
    fit_comb,
    fit_lsf,
    pair_contrast,
    spacing_from_peaks,
)
from microscope_qc.analysis.pattern.lines_result import LinePatternResult, as_plane, as_planes, merge_channels
from microscope_qc.analysis.pattern.lines_settings import LinePatternSettings
from microscope_qc.analysis.pattern.lines_summary import (
    add_metrics,
    classify_singles,
    match_nominal,
    spot_message,
)
from microscope_qc.instrument import Setting, SettingsError, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, ProgressCallback
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_lines", "looks_like_lines", "LinePatternResult", "LinePatternSettings"]


def _profile_width(profile: Profile, background: float) -> tuple[float, float]:
    """Width at half maximum and integral above the background of a profile."""
    y = profile.mean - background
    half = float(y.max()) / 2
    above = profile.u_um[y >= half]
    # the trapezoid rule, written out (numpy's name for it changed in 2.0)
    integral = float((0.5 * (y[1:] + y[:-1]) * np.diff(profile.u_um)).sum())
    return float(above.max() - above.min()) + profile.bin_um, integral


def _measure_group(
    g: Group,
    interior: Any,
    image: Any,
    gy: Any,
    gx: Any,
    background: float,
    settings: LinePatternSettings,
    pixel_size_um: float,
) -> tuple[dict[str, Any], Profile] | None:
    """Orientation, profile, lines, spacing and contrast of one group; None for a round spot."""
    angle0, coherence = structure_tensor(gy, gx, g.rows, g.cols)
    coherence_from_interior = False
    inner = interior[g.rows, g.cols]
    if inner.sum() > 50:  # a patch's own edges hide a faint grating: its interior alone
        angle1, coherence1 = structure_tensor(gy, gx, g.rows[inner], g.cols[inner])
        if coherence1 > coherence:
            angle0, coherence, coherence_from_interior = angle1, coherence1, True
    if coherence < settings.min_coherence:
        return None
    pr, pc = g.rows[g.pattern], g.cols[g.pattern]
    centre = (float(pr.mean()), float(pc.mean()))
    # again without the lines' blurred ends, whose gradients run along the lines
    rows, cols, _ = trim_ends(g.rows, g.cols, g.pattern, centre, angle0, settings.end_trim_fraction)
    angle = angle0
    if rows.size > 50:
        inner_t = interior[rows, cols]
        use = inner_t if coherence_from_interior and inner_t.sum() > 50 else np.ones(rows.size, dtype=bool)
        angle, _ = structure_tensor(gy, gx, rows[use], cols[use])
    rows, cols, length_px = trim_ends(g.rows, g.cols, g.pattern, centre, angle, settings.end_trim_fraction)
    profile = project(image, rows, cols, centre, angle, settings.bin_px, pixel_size_um)
    peaks_idx = find_lines(profile, background)
    width_um, integral = _profile_width(profile, background)
    row: dict[str, Any] = {
        "centre_y_px": centre[0],
        "centre_x_px": centre[1],
        "angle_deg": (math.degrees(angle) + 90.0) % 180.0,
        "coherence": coherence,
        "length_um": length_px * pixel_size_um,
        "n_lines": len(peaks_idx),
        "width_um": width_um,
        "integral": integral,
        "spacing_um": math.nan,
        "spacing_se_um": math.nan,
        "spacing_method": "",
        "contrast": math.nan,
        "contrast_se": math.nan,
        "dip_percent": math.nan,
        "lsf_fwhm_um": math.nan,
        "lsf_fwhm_se_um": math.nan,
        "peak_index": peaks_idx[0] if peaks_idx else -1,
        "touches_edge": bool(
            g.rows.min() == 0
            or g.cols.min() == 0
            or g.rows.max() == image.shape[0] - 1
            or g.cols.max() == image.shape[1] - 1
        ),
    }
    if len(peaks_idx) < 2:
        row["kind"] = "single"
        return row, profile
    u = profile.u_um
    p_est = float(np.median(np.diff(u[peaks_idx])))
    gap = float(np.diff(u).max()) if u.size > 1 else profile.bin_um
    h = max(p_est / 6, 1.01 * gap)
    peaks = [extremum(profile, i, h, background) for i in peaks_idx]
    troughs = []
    for a, b in zip(peaks_idx[:-1], peaks_idx[1:], strict=True):
        j = a + int(np.argmin(profile.mean[a : b + 1]))
        troughs.append(extremum(profile, j, h, background))
    n = len(peaks)
    row["kind"] = "grating" if n >= 6 else "lines"
    if n >= 5:
        spacing, spacing_se, method = spacing_from_peaks(peaks)
    else:
        spacing, spacing_se, _, _, ok = fit_comb(profile, peaks, background)
        method = "equally spaced Gaussians fit"
        if not ok:
            spacing = abs(peaks[-1].u_um - peaks[0].u_um) / (n - 1)
            spacing_se, method = math.nan, "peak positions"
    c, c_se, dip = pair_contrast(peaks, troughs)
    if n >= 6:  # a grating: its outermost lines have a neighbour on one side only
        c, c_se, dip = c[1:-1], c_se[1:-1], dip[1:-1]
    contrast = float(c.mean())
    se = float(c.std(ddof=1) / math.sqrt(c.size)) if c.size >= 2 else float(c_se[0])
    row.update(
        spacing_um=spacing,
        spacing_se_um=spacing_se,
        spacing_method=method,
        contrast=contrast,
        contrast_se=se,
        dip_percent=100 * float(dip.mean()),
    )
    return row, profile


@dataclass
class _Segmentation:
    groups: list[Group]
    background: float
    distance: npt.NDArray[np.float64]
    interior: npt.NDArray[np.bool_]
    gy: npt.NDArray[np.float64]
    gx: npt.NDArray[np.float64]


def _segment(
    img: npt.NDArray[np.float64], settings: LinePatternSettings, pixel_size_um: float
) -> _Segmentation:
    """Groups, the background between them, the distance to the pattern, the groups' interiors, the gradients."""
    from scipy import ndimage

    from microscope_qc.analysis.image_quality.checks import immerkaer_noise

    smoothed = ndimage.gaussian_filter(img, 1.0)
    noise = immerkaer_noise(img)
    bg0 = float(np.percentile(smoothed, 10))
    span = float(np.percentile(smoothed, 99.9)) - bg0
    if span <= 10 * 0.28 * noise:
        raise AnalysisError(
            "No pattern found: nothing in the image stands out from the background noise "
            f"(noise SD {noise:.3g}, brightest structure {span:.3g} above the background). Is the slide's line "
            "pattern in the field and in focus?"
        )
    threshold = max(settings.threshold_fraction * span, 5 * 0.28 * noise)
    gap_px = settings.group_gap_um / pixel_size_um
    groups, joined, pattern = find_groups(smoothed, bg0, threshold, gap_px)
    distance = np.asarray(ndimage.distance_transform_edt(~pattern), dtype=np.float64)
    outside = img[~joined]
    background = float(np.median(outside)) if outside.size > 100 else bg0
    erode = int(math.ceil(gap_px / 2)) + 3
    interior = ndimage.binary_erosion(joined, structure=np.ones((3, 3), bool), iterations=erode)
    gy = ndimage.gaussian_filter(img, 1.0, order=(1, 0))
    gx = ndimage.gaussian_filter(img, 1.0, order=(0, 1))
    return _Segmentation(groups, background, distance, interior, gy, gx)


def looks_like_lines(image: Any, pixel_size_um: float | tuple[float, float]) -> bool:
    """Whether an image shows groups of parallel lines (the pattern measurement's kind detection).

    True when its bright regions are mostly (by area) oriented: structure-tensor coherence of at
    least the default minimum (0.5).

    Parameters
    ----------
    image : array_like
        One (Y, X) plane.
    pixel_size_um : float or tuple of float
        Pixel size, or (y, x) pixel sizes (x is used).

    Returns
    -------
    bool
        Whether :func:`analyze_lines` would find line groups.
    """
    px = float(pixel_size_um[-1]) if isinstance(pixel_size_um, tuple) else float(pixel_size_um)
    settings = LinePatternSettings()
    try:
        seg = _segment(as_plane(image, "The line-pattern analysis"), settings, px)
    except AnalysisError:
        return False
    oriented = total = 0
    for g in seg.groups:
        n = int(g.pattern.sum())
        total += n
        if structure_tensor(seg.gy, seg.gx, g.rows, g.cols)[1] >= settings.min_coherence:
            oriented += n
    return total > 0 and oriented > total / 2


def analyze_lines(
    image: Any,
    settings: LinePatternSettings | None = None,
    *,
    pixel_size_um: float,
    nominal_spacings_um: Sequence[float] | None = None,
    channel: int = 0,
    channels: list[int] | None = None,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> LinePatternResult:
    """Measure every group of parallel lines (line pairs, gratings) of a pattern-slide image.

    Parameters
    ----------
    image : array_like
        One (Y, X) image of the slide, or (C, Y, X) channels of one (each analysed on its own);
        leading axes of length 1 are dropped.
    settings : LinePatternSettings, optional
        Group gap, thresholds, the resolution criterion and the verdicts' limits.
    pixel_size_um : float
        Pixel size.
    nominal_spacings_um : sequence of float, optional
        The slide's line spacings (and grating periods), to compare with and to name unresolved groups.
    channel : int
        The file's channel of a (Y, X) image (recorded on the metrics).
    channels : list of int, optional
        The channels of a (C, Y, X) image to analyse (default: all).
    limits : Limits, optional
        Facility limits (e.g. a largest ``smallest_resolved_spacing_um``).
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    LinePatternResult
        Metrics (smallest resolved spacing, LSF FWHM, slide rotation, spacing errors) per channel, the
        groups and their profiles (a ``channel`` column).

    Raises
    ------
    AnalysisError
        No pattern, only round spots (beads, a ring grid), no lines in any group.
    SettingsError
        No pixel size.
    """
    settings = settings or LinePatternSettings()
    validate_settings(settings)
    if not (pixel_size_um and math.isfinite(pixel_size_um) and pixel_size_um > 0):
        raise SettingsError(
            "The pixel size is not known; give the pixel size (µm): spacings and widths need it."
        )
    planes = as_planes(image, channels, "The line-pattern analysis")
    if len(planes) == 1 and channels is None:
        planes = [(channel, planes[0][1])]
    results = []
    for k, (c, plane) in enumerate(planes):

        def part(fraction: float, message: str, k: int = k) -> None:
            if progress:
                progress((k + fraction) / len(planes), message)

        results.append(_analyze_plane(plane, settings, pixel_size_um, nominal_spacings_um, c, part, cancel))
    result = merge_channels(results)
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "pattern lines: done")
    return result


def _analyze_plane(
    image: Any,
    settings: LinePatternSettings,
    pixel_size_um: float,
    nominal_spacings_um: Sequence[float] | None,
    channel: int,
    progress: ProgressCallback,
    cancel: CancelCheck | None,
) -> LinePatternResult:
    """:func:`analyze_lines` of one plane (no limits applied)."""
    img = as_plane(image, "The line-pattern analysis")
    result = LinePatternResult(channel=channel)
    result.settings.update(settings.analysis_settings())
    result.settings["pixel_size_um"] = Setting(float(pixel_size_um), "um", Source.USER)
    if nominal_spacings_um is not None:
        result.settings["nominal_spacings_um"] = Setting(
            [float(s) for s in nominal_spacings_um], "um", Source.USER
        )

    seg = _segment(img, settings, pixel_size_um)
    groups, background, interior, gy, gx = seg.groups, seg.background, seg.interior, seg.gy, seg.gx
    result.settings["background_counts"] = Setting(
        background,
        "counts",
        Source.DEFAULT,
        "median between the groups" + (" (each group: around it)" if settings.background == "local" else ""),
    )

    rows: list[dict[str, Any]] = []
    profiles: dict[int, Profile] = {}
    spots: list[Group] = []
    for k, g in enumerate(groups):
        check_cancel(cancel, "Line-pattern analysis")
        progress(0.1 + 0.8 * k / max(len(groups), 1), f"pattern lines: group {k + 1} of {len(groups)}")
        group_background = background
        if settings.background == "local":
            far = seg.distance[g.rows, g.cols] >= settings.group_gap_um / pixel_size_um / 4
            if far.sum() >= 20:
                group_background = float(np.median(img[g.rows[far], g.cols[far]]))
        measured = _measure_group(g, interior, img, gy, gx, group_background, settings, pixel_size_um)
        if measured is None:
            spots.append(g)
            continue
        row, profile = measured
        row["background_counts"] = group_background
        if row["n_lines"] == 0:
            continue
        row["group"] = len(rows)
        profiles[row["group"]] = profile
        rows.append(row)
    if not rows:
        if spots:
            raise AnalysisError(spot_message(spots, pixel_size_um, img))
        raise AnalysisError(
            "No lines found: the bright regions have no peaks across them. Is this an image of the slide's line "
            "pattern?"
        )
    if spots:
        result.warnings.append(f"{len(spots)} round bright region(s) are not line groups and were left out.")
    cut = sum(r["touches_edge"] for r in rows)
    if cut:
        result.warnings.append(
            f"{cut} group(s) touch the image's edge: they may be cut (fewer lines, a shorter profile). Centre the "
            "pattern in the field."
        )
    classify_singles(rows, result)
    for r in rows:
        if r["kind"] == "line":
            prof = profiles[r["group"]]
            fwhm, fwhm_se, _ = fit_lsf(prof, int(r["peak_index"]), r["width_um"])
            r["lsf_fwhm_um"], r["lsf_fwhm_se_um"] = fwhm, fwhm_se
    if nominal_spacings_um:
        match_nominal(rows, nominal_spacings_um, result)
    threshold_dip = settings.resolved_dip_percent
    for r in rows:
        r.setdefault("nominal_spacing_um", math.nan)
        s = r["nominal_spacing_um"] if np.isfinite(r["nominal_spacing_um"]) else r["spacing_um"]
        r["frequency_per_um"] = 1.0 / s if np.isfinite(s) and s > 0 else math.nan
        r["spacing_error_percent"] = 100 * (r["spacing_um"] / r["nominal_spacing_um"] - 1)
        if r["kind"] == "unresolved":
            r["contrast"], r["dip_percent"] = 0.0, 0.0
        r["resolved"] = bool(np.isfinite(r["dip_percent"]) and r["dip_percent"] >= threshold_dip)
    table = pd.DataFrame(rows).drop(columns=["peak_index", "integral"])
    order = ["group", "kind", "centre_y_px", "centre_x_px", "angle_deg", "coherence", "length_um", "width_um"]
    result.tables["groups"] = table[order + [c for c in table.columns if c not in order]]
    result.tables["profiles"] = pd.DataFrame(
        {
            "group": np.concatenate([np.full(p.u_um.size, k) for k, p in profiles.items()]),
            "u_um": np.concatenate([p.u_um for p in profiles.values()]),
            "profile_mean": np.concatenate([p.mean for p in profiles.values()]),
            "profile_sem": np.concatenate([p.sem for p in profiles.values()]),
        }
    )
    add_metrics(result, table, settings, channel)
    for t in result.tables.values():
        t.insert(0, "channel", channel)
    return result

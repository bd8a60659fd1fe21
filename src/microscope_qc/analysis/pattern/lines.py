"""``analyze_lines``: line groups and gratings of a pattern slide — orientation, spacing, contrast, resolution, LSF.

Each region of parallel lines is found and measured on its own (docs/pattern-lines.md): the
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
from typing import Any

import numpy as np
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
from microscope_qc.analysis.pattern.lines_result import LinePatternResult, as_plane
from microscope_qc.analysis.pattern.lines_settings import LinePatternSettings
from microscope_qc.instrument import Setting, SettingsError, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, Metric, ProgressCallback, Verdict
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_lines", "LinePatternResult", "LinePatternSettings"]

#: how far (relative) a measured spacing may be from a nominal one to be matched with it (measured: < 1 %)
_MATCH_TOLERANCE = 0.05


def _is_patch(image: Any, g: Group, pixel_size_um: float) -> bool:
    """Whether a region is a uniform filled patch (a grey-level step) at least 2 µm wide."""
    from scipy import ndimage

    from microscope_qc.analysis.pattern.ladder import is_uniform

    r, c = g.rows[g.pattern], g.cols[g.pattern]
    r0, c0 = int(r.min()), int(c.min())
    box = np.zeros((int(r.max()) - r0 + 1, int(c.max()) - c0 + 1), dtype=bool)
    box[r - r0, c - c0] = True
    if r.size < 0.7 * box.size or min(box.shape) * pixel_size_um < 2.0:
        return False
    inner = ndimage.binary_erosion(box, iterations=max(min(box.shape) // 5, 1))
    return bool(inner.sum() > 10 and is_uniform(image[r0 : r0 + box.shape[0], c0 : c0 + box.shape[1]], inner))


def _spot_message(groups: list[Group], pixel_size_um: float, image: Any) -> str:
    """Why round spots are not line groups, and what to run instead."""
    centres = np.array([[g.rows.mean(), g.cols.mean()] for g in groups]) * pixel_size_um
    filled = [_is_patch(image, g, pixel_size_um) for g in groups]
    if sum(filled) > len(groups) / 2:
        return (
            f"No groups of parallel lines found: the {len(groups)} bright region(s) are uniform patches, not lines. "
            "A set of patches of graded intensity is a grey-level ladder, which the pattern measurement's ladder "
            "kind analyses."
        )
    grid = ""
    if len(centres) >= 4:
        d = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
        np.fill_diagonal(d, np.inf)
        nn = d.min(1)
        if float(nn.std() / nn.mean()) < 0.15:
            grid = (
                f" They form a regular grid (pitch ≈ {float(np.median(nn)):.3g} µm): a ring or spot-grid pattern, "
                "which the pattern measurement's rings kind analyses."
            )
    if not grid:
        grid = " They are scattered, like beads: the PSF measurement analyses bead images."
    return (
        f"No groups of parallel lines found: the {len(groups)} bright region(s) are round spots, not lines "
        f"(their structure tensor has no dominant direction).{grid}"
    )


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


def _classify_singles(rows: list[dict[str, Any]], result: LinePatternResult) -> None:
    """Tell an isolated line from an unresolved group of lines by the intensity it holds per length."""
    per_line = [r["integral"] / r["n_lines"] for r in rows if r["kind"] == "lines"]
    singles = [r for r in rows if r["kind"] == "single"]
    if not singles:
        return
    reference = float(np.median(per_line)) if per_line else min(r["integral"] for r in singles)
    if not per_line and len(singles) > 1:
        result.warnings.append(
            "No resolved line group to compare with: the single-peaked region(s) holding the least intensity "
            "are taken as isolated lines."
        )
    for r in singles:
        r["kind"] = "line" if r["integral"] <= 1.5 * reference else "unresolved"
        r["n_lines"] = 1 if r["kind"] == "line" else max(int(round(r["integral"] / reference)), 2)


def _match_nominal(rows: list[dict[str, Any]], nominal: Sequence[float], result: LinePatternResult) -> None:
    """Nominal spacing of each group: the nearest within 5 %; unresolved groups by their width, in order.

    A group of unresolved lines whose ripples matched no nominal spacing becomes "unresolved".
    """
    values = sorted(float(s) for s in nominal)
    for r in rows:
        if not np.isfinite(r["spacing_um"]):
            continue
        k = int(np.argmin([abs(s - r["spacing_um"]) for s in values]))
        if abs(values[k] - r["spacing_um"]) <= _MATCH_TOLERANCE * values[k]:
            r["nominal_spacing_um"] = values[k]
        elif r["kind"] == "lines" and r["dip_percent"] < result_threshold(result):
            r.update(kind="unresolved", spacing_um=math.nan, spacing_se_um=math.nan, spacing_method="")
    unresolved = sorted((r for r in rows if r["kind"] == "unresolved"), key=lambda r: float(r["width_um"]))
    if not unresolved:
        return
    used = {r["nominal_spacing_um"] for r in rows if "nominal_spacing_um" in r}
    first = min(
        (s for s in used if any(r.get("nominal_spacing_um") == s and r["kind"] == "lines" for r in rows)),
        default=math.inf,
    )
    smaller = [s for s in values if s < first and s not in used]
    if len(smaller) == len(unresolved):
        for r, s in zip(unresolved, smaller, strict=True):
            r["nominal_spacing_um"] = s
    else:
        result.warnings.append(
            f"{len(unresolved)} unresolved group(s) but {len(smaller)} unmatched nominal spacing(s) below the "
            "resolved ones: the unresolved groups are not matched to nominal spacings."
        )


def result_threshold(result: LinePatternResult) -> float:
    """The resolution criterion (dip, %) recorded in the result's settings."""
    return float(result.settings["resolved_dip_percent"].value)


def _resolution(rows: list[dict[str, Any]], threshold_percent: float) -> tuple[float, float]:
    """Smallest spacing from which every larger line group is resolved, and the dip's crossing of the threshold."""
    groups = []
    for r in rows:
        if r["kind"] not in ("lines", "unresolved"):
            continue
        s = r.get("nominal_spacing_um", math.nan)
        s = s if np.isfinite(s) else r["spacing_um"]
        if np.isfinite(s):
            groups.append((float(s), r["dip_percent"] if np.isfinite(r["dip_percent"]) else 0.0))
    groups.sort()
    if not groups or groups[-1][1] < threshold_percent:
        return math.nan, math.nan
    k = len(groups) - 1
    while k > 0 and groups[k - 1][1] >= threshold_percent:
        k -= 1
    smallest = groups[k][0]
    crossing = smallest
    if k > 0:
        (s0, d0), (s1, d1) = groups[k - 1], groups[k]
        crossing = s0 + (threshold_percent - d0) * (s1 - s0) / (d1 - d0) if d1 > d0 else s1
    return smallest, crossing


def analyze_lines(
    image: Any,
    settings: LinePatternSettings | None = None,
    *,
    pixel_size_um: float,
    nominal_spacings_um: Sequence[float] | None = None,
    channel: int = 0,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> LinePatternResult:
    """Measure every group of parallel lines (line pairs, gratings) of a pattern-slide image.

    Parameters
    ----------
    image : array_like
        One (Y, X) image of the slide (leading axes of length 1 are dropped).
    settings : LinePatternSettings, optional
        Group gap, thresholds, the resolution criterion and the verdicts' limits.
    pixel_size_um : float
        Pixel size.
    nominal_spacings_um : sequence of float, optional
        The slide's line spacings (and grating periods), to compare with and to name unresolved groups.
    channel : int
        The file's channel (recorded on the metrics).
    limits : Limits, optional
        Facility limits (e.g. a largest ``smallest_resolved_spacing_um``).
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    LinePatternResult
        Metrics (smallest resolved spacing, LSF FWHM, slide rotation, spacing errors), the groups and
        their profiles.

    Raises
    ------
    AnalysisError
        No pattern, only round spots (beads, a ring grid), no lines in any group.
    SettingsError
        No pixel size.
    """
    from scipy import ndimage

    from microscope_qc.analysis.image_quality.checks import immerkaer_noise

    settings = settings or LinePatternSettings()
    validate_settings(settings)
    if not (pixel_size_um and math.isfinite(pixel_size_um) and pixel_size_um > 0):
        raise SettingsError(
            "The pixel size is not known; give the pixel size (µm): spacings and widths need it."
        )
    img = as_plane(image, "The line-pattern analysis")
    result = LinePatternResult(channel=channel)
    result.settings.update(settings.analysis_settings())
    result.settings["pixel_size_um"] = Setting(float(pixel_size_um), "um", Source.USER)
    if nominal_spacings_um is not None:
        result.settings["nominal_spacings_um"] = Setting(
            [float(s) for s in nominal_spacings_um], "um", Source.USER
        )

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
    groups, joined = find_groups(smoothed, bg0, threshold, gap_px)
    outside = img[~joined]
    background = float(np.median(outside)) if outside.size > 100 else bg0
    result.settings["background_counts"] = Setting(
        background, "counts", Source.DEFAULT, "median between the groups"
    )
    erode = int(math.ceil(gap_px / 2)) + 3
    interior = ndimage.binary_erosion(joined, structure=np.ones((3, 3), bool), iterations=erode)
    gy = ndimage.gaussian_filter(img, 1.0, order=(1, 0))
    gx = ndimage.gaussian_filter(img, 1.0, order=(0, 1))

    rows: list[dict[str, Any]] = []
    profiles: dict[int, Profile] = {}
    spots: list[Group] = []
    for k, g in enumerate(groups):
        check_cancel(cancel, "Line-pattern analysis")
        if progress:
            progress(0.1 + 0.8 * k / max(len(groups), 1), f"pattern lines: group {k + 1} of {len(groups)}")
        measured = _measure_group(g, interior, img, gy, gx, background, settings, pixel_size_um)
        if measured is None:
            spots.append(g)
            continue
        row, profile = measured
        if row["n_lines"] == 0:
            continue
        row["group"] = len(rows)
        profiles[row["group"]] = profile
        rows.append(row)
    if not rows:
        if spots:
            raise AnalysisError(_spot_message(spots, pixel_size_um, img))
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
    _classify_singles(rows, result)
    for r in rows:
        if r["kind"] == "line":
            prof = profiles[r["group"]]
            fwhm, fwhm_se, _ = fit_lsf(prof, int(r["peak_index"]), r["width_um"])
            r["lsf_fwhm_um"], r["lsf_fwhm_se_um"] = fwhm, fwhm_se
    if nominal_spacings_um:
        _match_nominal(rows, nominal_spacings_um, result)
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
            "intensity": np.concatenate([p.mean for p in profiles.values()]),
            "sem": np.concatenate([p.sem for p in profiles.values()]),
        }
    )
    _metrics(result, table, settings, channel)
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "pattern lines: done")
    return result


def _metrics(
    result: LinePatternResult, table: pd.DataFrame, settings: LinePatternSettings, channel: int
) -> None:
    def add(name: str, value: float, unit: str | None, description: str, se: float | None = None) -> None:
        result.metrics.append(Metric(name, float(value), unit, se, channel, description))

    kinds = table["kind"]
    add("n_groups", len(table), None, "regions of parallel lines found")
    add(
        "n_line_groups",
        int(kinds.isin(["lines", "unresolved"]).sum()),
        None,
        "groups of 2 to 5 lines, resolved or not",
    )
    add("n_gratings", int((kinds == "grating").sum()), None, "groups of 6 lines or more")
    add("n_resolved", int(table["resolved"].sum()), None, "groups whose line pairs are resolved")
    rows = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    smallest, crossing = _resolution(rows, settings.resolved_dip_percent)
    criterion = f"dip between the lines ≥ {settings.resolved_dip_percent:g} % of their peaks"
    if math.isfinite(smallest):
        add(
            "smallest_resolved_spacing_um",
            smallest,
            "um",
            f"smallest line spacing from which every larger line group is resolved ({criterion})",
        )
        add(
            "resolved_spacing_interpolated_um",
            crossing,
            "um",
            "spacing at which the dip crosses the criterion, interpolated between the neighbouring groups",
        )
    elif kinds.isin(["lines", "unresolved"]).any():
        result.warnings.append(f"No line group is resolved ({criterion}).")
    lines = table[(kinds == "line") & np.isfinite(table["lsf_fwhm_um"])]
    if (~lines["touches_edge"]).any():
        lines = lines[~lines["touches_edge"]]
    if len(lines):
        f, se = lines["lsf_fwhm_um"].to_numpy(), lines["lsf_fwhm_se_um"].to_numpy()
        w = 1.0 / np.where(np.isfinite(se) & (se > 0), se, np.inf) ** 2
        if w.sum() > 0:
            value, value_se = float((w * f).sum() / w.sum()), float(1 / math.sqrt(w.sum()))
        else:
            value, value_se = float(f.mean()), math.nan
        add(
            "lsf_fwhm_um",
            value,
            "um",
            "FWHM of the line-spread function (Gaussian fit of isolated lines)",
            value_se,
        )
    else:
        result.warnings.append("No isolated line: the line-spread function's FWHM is not measured.")
    # rotation of the slide: angles modulo 45° (patterns are drawn at multiples of 45°)
    dev = ((table["angle_deg"].to_numpy() + 22.5) % 45.0) - 22.5
    if dev.size:
        se = float(dev.std(ddof=1) / math.sqrt(dev.size)) if dev.size > 1 else None
        add(
            "slide_rotation_deg",
            float(np.median(dev)),
            "deg",
            "median angle of the lines from the nearest multiple of 45°",
            se,
        )
    err = table["spacing_error_percent"].to_numpy(dtype=float)
    err = err[np.isfinite(err)]
    if err.size:
        add(
            "spacing_error_max_percent",
            float(np.abs(err).max()),
            "percent",
            "largest |measured / nominal − 1| of the spacings",
        )
        if settings.spacing_tolerance_percent is not None:
            result.verdicts.append(
                Verdict.check(
                    "spacing_error_max_percent",
                    float(np.abs(err).max()),
                    settings.spacing_tolerance_percent,
                    "<=",
                    "user",
                    channel,
                )
            )
    values = {m.name: m.value for m in result.metrics}
    for metric, threshold in (
        ("smallest_resolved_spacing_um", settings.max_resolved_spacing_um),
        ("lsf_fwhm_um", settings.max_lsf_fwhm_um),
    ):
        if threshold is not None and metric in values:
            result.verdicts.append(Verdict.check(metric, values[metric], threshold, "<=", "user", channel))

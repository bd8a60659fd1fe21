"""What the line groups add up to: isolated or unresolved, nominal spacings, resolution, the metrics.

Also the message for an image whose bright regions are not line groups (beads, a ring grid, a
grey-level ladder).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.pattern.lines_geometry import Group
from microscope_qc.analysis.pattern.lines_result import LinePatternResult
from microscope_qc.analysis.pattern.lines_settings import LinePatternSettings
from microscope_qc.results import Metric, Verdict

__all__ = ["spot_message", "classify_singles", "match_nominal", "resolution", "add_metrics"]

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


def spot_message(groups: list[Group], pixel_size_um: float, image: Any) -> str:
    """Why the bright regions are not line groups, and what analyses them instead.

    Parameters
    ----------
    groups : list of Group
        The regions without a dominant direction.
    pixel_size_um : float
        Pixel size.
    image : numpy.ndarray
        The (Y, X) image.

    Returns
    -------
    str
        The message: uniform patches (a ladder), a regular grid (rings), or scattered spots (beads).
    """
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


def classify_singles(rows: list[dict[str, Any]], result: LinePatternResult) -> None:
    """Tell an isolated line from an unresolved group of lines by the intensity it holds per length.

    A single-peaked group holding at most 1.5 times the resolved groups' intensity per line (the
    profile's integral over its number of lines) is an isolated line; one holding more is several
    unresolved lines. A group of lines below the resolution criterion holding the intensity of at least
    one line more than the peaks found is unresolved too (two of its lines merged into one peak).

    Parameters
    ----------
    rows : list of dict
        The groups' rows; single-peaked ones (kind "single") get kind "line" or "unresolved".
    result : LinePatternResult
        For a warning when there is no resolved group to compare with.
    """
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
    # an unresolved group holding the intensity of more lines than peaks were found has lines too close to
    # be told apart: its peaks are not its lines, so neither their spacing nor their contrast is the group's
    merged = 0
    threshold = result_threshold(result)
    for r in rows:
        weak = not r["dip_percent"] >= threshold
        if r["kind"] == "lines" and weak and per_line and r["integral"] / reference - r["n_lines"] > 0.5:
            r.update(
                kind="unresolved",
                n_lines=int(round(r["integral"] / reference)),
                spacing_um=math.nan,
                spacing_se_um=math.nan,
                spacing_method="",
                contrast=math.nan,
                contrast_se=math.nan,
                dip_percent=math.nan,
            )
            merged += 1
    if merged:
        result.warnings.append(
            f"{merged} group(s) show fewer peaks than the lines their intensity holds: some of their lines are not "
            "resolved, so they are counted as unresolved."
        )


def match_nominal(rows: list[dict[str, Any]], nominal: Sequence[float], result: LinePatternResult) -> None:
    """Nominal spacing of each group: the nearest within 5 %; unresolved groups by their width, in order.

    A group of unresolved lines whose ripples matched no nominal spacing becomes "unresolved".

    Parameters
    ----------
    rows : list of dict
        The groups' rows, updated in place (``nominal_spacing_um``, ``kind``).
    nominal : sequence of float
        The slide's spacings.
    result : LinePatternResult
        For the criterion and a warning when the unresolved groups cannot be matched.
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
    """The resolution criterion (dip, %) recorded in the result's settings.

    Parameters
    ----------
    result : LinePatternResult
        The result being built.

    Returns
    -------
    float
        ``resolved_dip_percent``.
    """
    return float(result.settings["resolved_dip_percent"].value)


def resolution(rows: list[dict[str, Any]], threshold_percent: float) -> tuple[float, float]:
    """Smallest spacing from which every larger line group is resolved, and the dip's crossing of the threshold.

    Parameters
    ----------
    rows : list of dict
        The groups' rows (line groups only are used: kinds "lines" and "unresolved").
    threshold_percent : float
        The dip a resolved pair reaches.

    Returns
    -------
    smallest, crossing : float
        The smallest resolved spacing (NaN when the largest group is not resolved) and the spacing at
        which the dip crosses the threshold, interpolated linearly between the neighbouring groups.
    """
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


def add_metrics(
    result: LinePatternResult, table: pd.DataFrame, settings: LinePatternSettings, channel: int
) -> None:
    """Add the headline metrics and the verdicts of a line-pattern result.

    Parameters
    ----------
    result : LinePatternResult
        Updated in place (``metrics``, ``verdicts``, ``warnings``).
    table : pandas.DataFrame
        The groups' table.
    settings : LinePatternSettings
        The criterion and the verdicts' limits.
    channel : int
        The channel the metrics belong to.
    """

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
    smallest, crossing = resolution(rows, settings.resolved_dip_percent)
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
            result.verdicts.append(Verdict.check(metric, values[metric], threshold, "<=", "setting", channel))

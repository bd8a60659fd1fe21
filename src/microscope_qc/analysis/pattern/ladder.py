"""``analyze_ladder``: a pattern slide's grey-level steps — response linearity and the dynamic range used.

Steps are uniform patches brighter than the background (docs/pattern.md): found by a
threshold of a few noise SDs above the background, kept if they fill their bounding box (a patch,
not a line), are uniform (with a plane removed, their pixels vary like noise: no more than twice their
neighbours' differences, and a 1-pixel smoothing keeps at most 45 % of their SD; not a spot, ring or
grating) and are large enough; measured on their interior (eroded by a fifth of their side).
They are ordered by their mean intensity and matched in that order to the nominal levels (given, or
equally spaced 1/n … n/n). Steps with pixels at the full scale (or at zero) are left out of the fit.

Linearity: the weighted least-squares line through (nominal level, mean), weights 1/SEM², with the
standard errors of slope and intercept (scaled by the reduced χ² when it exceeds 1), R², the largest deviation of a step from the line in % of the fitted range, and a
test of curvature (a quadratic term's t statistic: the response is called nonlinear when the
curvature is significant at p < 0.001 and the largest deviation exceeds the tolerance). The
response exponent γ of mean = a + b · level^γ is fitted too (1 for a linear response).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.pattern.lines_result import LadderResult, as_plane, as_planes, merge_channels
from microscope_qc.analysis.pattern.lines_settings import LadderSettings
from microscope_qc.instrument import Setting, Source
from microscope_qc.results import AnalysisError, CancelCheck, Limits, Metric, ProgressCallback, Verdict
from microscope_qc.setting_spec import validate_settings

__all__ = [
    "analyze_ladder",
    "LadderResult",
    "LadderSettings",
    "linear_fit",
    "response_exponent",
    "is_uniform",
]

FloatArray = npt.NDArray[np.float64]

#: a step's pixels may vary at most this many times their pixel-to-pixel noise (a flat patch: 1)
_MAX_NONUNIFORMITY = 2.0
#: share of a step's pixel SD a 1-pixel Gaussian smoothing may keep (white noise: 0.28)
_MAX_SMOOTHED_SHARE = 0.45

#: fewest unsaturated steps a straight line and its curvature test need
_MIN_STEPS = 4


def linear_fit(x: FloatArray, y: FloatArray, se: FloatArray | None = None) -> dict[str, float]:
    """Weighted least-squares line with standard errors, R², and the t statistic of a quadratic term.

    Weights 1/SE² (the steps' standard errors; equal weights without them); the covariance is
    scaled by the reduced χ² when the steps scatter more than their standard errors say (an uneven
    illumination of the slide, say), never shrunk below it.

    Parameters
    ----------
    x, y : numpy.ndarray
        Nominal levels and mean intensities (at least 4).
    se : numpy.ndarray, optional
        Standard errors of the means.

    Returns
    -------
    dict
        ``slope``, ``slope_se``, ``intercept``, ``intercept_se``, ``r2`` (unweighted), ``chi2_reduced``,
        ``curvature_t``, ``curvature_p`` (two-sided, Student's t with n − 3 degrees of freedom).
    """
    from scipy.special import stdtr

    n = x.size
    w = np.ones(n) if se is None else 1.0 / np.maximum(np.asarray(se, dtype=np.float64), 1e-12) ** 2

    def wls(design: FloatArray) -> tuple[FloatArray, FloatArray, float]:
        aw = design * w[:, None]
        inv = np.linalg.inv(design.T @ aw)
        coef = inv @ (aw.T @ y)
        r = y - design @ coef
        chi2 = float((w * r * r).sum()) / max(n - design.shape[1], 1)
        scale = max(chi2, 1.0) if se is not None else chi2
        return coef, inv * scale, chi2

    a = np.stack([np.ones(n), x], axis=1)
    coef, cov, chi2 = wls(a)
    resid = y - a @ coef
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float(resid @ resid) / ss_tot if ss_tot > 0 else math.nan
    xc = (x - x.mean()) / (x.std() or 1.0)
    q = np.stack([np.ones(n), xc, xc * xc], axis=1)
    dof_q = n - 3
    if dof_q > 0:
        qc, qcov, _ = wls(q)
        se2 = math.sqrt(float(qcov[2, 2]))
        t = float(qc[2] / se2) if se2 > 0 else (math.inf if qc[2] != 0 else 0.0)
        p = float(2 * stdtr(dof_q, -abs(t))) if math.isfinite(t) else 0.0
    else:
        t, p = math.nan, math.nan
    return {
        "slope": float(coef[1]),
        "slope_se": math.sqrt(float(cov[1, 1])),
        "intercept": float(coef[0]),
        "intercept_se": math.sqrt(float(cov[0, 0])),
        "r2": r2,
        "chi2_reduced": chi2,
        "curvature_t": t,
        "curvature_p": p,
    }


def response_exponent(x: FloatArray, y: FloatArray, se: FloatArray | None = None) -> tuple[float, float]:
    """γ of ``y = a + b x^γ`` by weighted least squares (a profile over γ), with its standard error.

    For each γ on a grid (0.3 … 3) a and b are linear; the weighted residual sum of squares' minimum
    is refined by a parabola, and the standard error is that of a one-parameter profile:
    SE² = 2 s² / χ²''(γ), s² = max(χ²/(n − 3), 1) with weights 1/SE² (s² = χ²/(n − 3) without them).

    Parameters
    ----------
    x, y : numpy.ndarray
        Nominal levels (positive) and mean intensities.
    se : numpy.ndarray, optional
        Standard errors of the means (the weights).

    Returns
    -------
    gamma, gamma_se : float
        NaN when the minimum is on the grid's edge.
    """
    grid = np.linspace(0.3, 3.0, 541)
    rss = np.empty(grid.size)
    sw = np.ones(x.size) if se is None else 1.0 / np.maximum(np.asarray(se, dtype=np.float64), 1e-12)
    for i, g in enumerate(grid):
        a = np.stack([np.ones(x.size), x**g], axis=1) * sw[:, None]
        coef, *_ = np.linalg.lstsq(a, y * sw, rcond=None)
        r = y * sw - a @ coef
        rss[i] = float(r @ r)
    i = int(np.argmin(rss))
    if i == 0 or i == grid.size - 1 or x.size < 4:
        return math.nan, math.nan
    h = float(grid[1] - grid[0])
    curv = (rss[i - 1] - 2 * rss[i] + rss[i + 1]) / h**2
    shift = 0.5 * (rss[i - 1] - rss[i + 1]) / (rss[i - 1] - 2 * rss[i] + rss[i + 1]) if curv > 0 else 0.0
    gamma = float(grid[i] + shift * h)
    s2 = float(rss[i]) / (x.size - 3)
    if se is not None:
        s2 = max(s2, 1.0)
    gamma_se = math.sqrt(2 * s2 / curv) if curv > 0 else math.nan
    return gamma, gamma_se


def is_uniform(patch: FloatArray, inner: npt.NDArray[np.bool_]) -> bool:
    """Whether a patch's interior is flat: its pixels vary like noise, not like structure.

    Also used by the line analysis to recognise a ladder given to it.

    After a plane is removed (an uneven illumination), white noise keeps 28 % of its SD through a
    Gaussian smoothing of 1 pixel and its neighbours differ by √2 SD; structure of a few pixels or
    more keeps most of its SD through the smoothing and varies beyond the neighbours' differences.
    """
    from scipy import ndimage

    rr, cc = np.nonzero(inner)
    design = np.stack([np.ones(rr.size), rr, cc], axis=1).astype(np.float64)
    smooth = ndimage.gaussian_filter(patch, 1.0)
    raw, sm = patch[inner], smooth[inner]
    raw = raw - design @ np.linalg.lstsq(design, raw, rcond=None)[0]
    sm = sm - design @ np.linalg.lstsq(design, sm, rcond=None)[0]
    sd = float(raw.std())
    if sd == 0:
        return True
    pairs = inner[:, 1:] & inner[:, :-1]
    local = float(np.std((patch[:, 1:] - patch[:, :-1])[pairs]) / math.sqrt(2)) if pairs.sum() > 4 else sd
    return float(sm.std()) <= _MAX_SMOOTHED_SHARE * sd and sd <= _MAX_NONUNIFORMITY * local


def _steps(
    img: FloatArray, settings: LadderSettings, full: float
) -> tuple[list[dict[str, Any]], float, float, int]:
    """The step patches: their interior pixels' statistics; the background and its noise SD."""
    from scipy import ndimage

    from microscope_qc.analysis.image_quality.checks import immerkaer_noise

    smoothed = ndimage.gaussian_filter(img, 1.0)
    noise = immerkaer_noise(img)
    # background: the most common level of the darkest half of the image
    dark = img[smoothed <= np.percentile(smoothed, 50)]
    hist, edges = np.histogram(dark, bins=256)
    background = float(0.5 * (edges[int(np.argmax(hist))] + edges[int(np.argmax(hist)) + 1]))
    mask = smoothed > background + settings.threshold_sd * 0.28 * max(noise, 1e-12) + 0.0
    lab, n = ndimage.label(mask)
    regions = 0
    steps = []
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        sub = lab[sl] == k
        area = int(sub.sum())
        if area < settings.min_step_px:
            continue
        regions += 1
        h, w = sub.shape
        if area < 0.7 * h * w or min(h, w) < 5:
            continue  # not a filled patch: a line, a ring, a spot cluster
        e = max(int(round(min(h, w) / 5)), 1)
        inner = ndimage.binary_erosion(sub, iterations=e)
        if inner.sum() < 4:
            continue
        values = img[sl][inner]
        clipped = 100 * float(((img[sl][inner] >= full) | (img[sl][inner] <= 0)).mean())
        if clipped <= settings.saturated_percent and not is_uniform(img[sl], inner):
            continue  # structure inside: a spot, a ring, lines, a grating
        rr, cc = np.nonzero(inner)
        steps.append(
            {
                "centre_y_px": float(rr.mean() + sl[0].start),
                "centre_x_px": float(cc.mean() + sl[1].start),
                "area_px": int(inner.sum()),
                "values": values,
            }
        )
    return steps, background, noise, regions


def looks_like_ladder(image: Any, pixel_size_um: float | tuple[float, float] | None = None) -> bool:
    """Whether an image shows a grey-level ladder (the pattern measurement's kind detection).

    Parameters
    ----------
    image : array_like
        One (Y, X) plane.
    pixel_size_um : float or tuple of float, optional
        Not needed (the steps are found in pixels); accepted for the detection hooks' common call.

    Returns
    -------
    bool
        Whether at least four uniform steps are found with the default settings.
    """
    try:
        img = as_plane(image, "The grey-level ladder analysis")
    except AnalysisError:
        return False
    raw = np.asarray(image)
    full = float(2 ** (raw.dtype.itemsize * 8) - 1) if np.issubdtype(raw.dtype, np.integer) else math.inf
    steps, _, _, _ = _steps(img, LadderSettings(), full)
    return len(steps) >= _MIN_STEPS


def analyze_ladder(
    image: Any,
    settings: LadderSettings | None = None,
    *,
    pixel_size_um: float | None = None,
    nominal_levels: Sequence[float] | None = None,
    file_bit_depth: int | None = None,
    channel: int = 0,
    channels: list[int] | None = None,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> LadderResult:
    """Response linearity and dynamic range from a pattern slide's grey-level steps.

    Parameters
    ----------
    image : array_like
        One (Y, X) image of the ladder, or (C, Y, X) channels of one (each analysed on its own);
        leading axes of length 1 are dropped.
    settings : LadderSettings, optional
        Bit depth, step detection, saturation share and the linearity tolerance.
    pixel_size_um : float, optional
        Pixel size (recorded; the analysis works in pixels).
    nominal_levels : sequence of float, optional
        The steps' nominal levels (relative emission), in any order; default equally spaced 1/n … n/n.
    file_bit_depth : int, optional
        The significant bits the file records; ``settings.bit_depth`` overrides it.
    channel : int
        The file's channel of a (Y, X) image (recorded on the metrics).
    channels : list of int, optional
        The channels of a (C, Y, X) image to analyse (default: all).
    limits : Limits, optional
        Facility limits.
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    LadderResult
        Slope, intercept, R², largest deviation, curvature test, response exponent, dynamic range
        used, saturation; the steps' table.

    Raises
    ------
    AnalysisError
        No steps, fewer than four usable steps, or a different number of steps than nominal levels.
    """
    settings = settings or LadderSettings()
    validate_settings(settings)
    planes = as_planes(image, channels, "The grey-level ladder analysis")
    if len(planes) == 1 and channels is None:
        planes = [(channel, planes[0][1])]
    results = []
    for k, (c, plane) in enumerate(planes):

        def part(fraction: float, message: str, k: int = k) -> None:
            if progress:
                progress((k + fraction) / len(planes), message)

        results.append(
            _analyze_plane(plane, settings, pixel_size_um, nominal_levels, file_bit_depth, c, part, cancel)
        )
    result = merge_channels(results)
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "pattern ladder: done")
    return result


def _analyze_plane(
    image: Any,
    settings: LadderSettings,
    pixel_size_um: float | None,
    nominal_levels: Sequence[float] | None,
    file_bit_depth: int | None,
    channel: int,
    progress: ProgressCallback,
    cancel: CancelCheck | None,
) -> LadderResult:
    """:func:`analyze_ladder` of one plane (no limits applied)."""
    from microscope_qc.analysis.image_quality.checks import infer_bit_depth

    raw = np.asarray(image)
    img = as_plane(raw, "The grey-level ladder analysis")
    result = LadderResult(channel=channel)
    result.settings.update(settings.analysis_settings())
    if pixel_size_um:
        result.settings["pixel_size_um"] = Setting(float(pixel_size_um), "um", Source.USER)
    container = raw.dtype.itemsize * 8 if np.issubdtype(raw.dtype, np.integer) else None
    if settings.bit_depth is not None:
        bits, source, how = settings.bit_depth, Source.USER, "given"
    elif file_bit_depth is not None and (container is None or file_bit_depth < container):
        bits, source, how = int(file_bit_depth), Source.FILE, "the file's significant bits"
    elif container is not None:
        bits, source, how = (
            infer_bit_depth(float(img.max()), container),
            Source.DEFAULT,
            "from the data's maximum",
        )
    else:
        raise AnalysisError(
            "Floating-point pixels have no bit depth: give the detector's bit depth for the dynamic range."
        )
    full = float(2**bits - 1)
    result.bit_depth = bits
    result.settings["bit_depth_used"] = Setting(bits, None, source, how)
    check_cancel(cancel, "Grey-level ladder analysis")
    progress(0.1, "pattern ladder: steps")
    steps, background, noise, regions = _steps(img, settings, full)
    if not steps:
        found = (
            f"{regions} bright region(s), none a uniform filled patch"
            if regions
            else "nothing above the background"
        )
        raise AnalysisError(
            f"No grey-level steps found ({found}). A ladder is a set of uniform square patches of graded "
            "intensity; is this the slide's intensity pattern?"
        )
    steps.sort(key=lambda s: float(s["values"].mean()))
    n = len(steps)
    if nominal_levels is not None:
        levels = np.sort(np.asarray(nominal_levels, dtype=np.float64))
        if levels.size != n:
            raise AnalysisError(
                f"{n} steps found but {levels.size} nominal levels given: check the levels, or the step "
                "detection (threshold, smallest step)."
            )
        result.settings["nominal_levels"] = Setting(levels.tolist(), None, Source.USER)
    else:
        levels = (np.arange(n) + 1.0) / n
        result.warnings.append(
            f"No nominal levels given: the {n} steps are taken as equally spaced levels 1/{n} … 1 in order of "
            "their intensity."
        )
        result.settings["nominal_levels"] = Setting(levels.tolist(), None, Source.DEFAULT, "equally spaced")
    rows = []
    for k, (s, level) in enumerate(zip(steps, levels, strict=True)):
        v = s["values"]
        sat = 100 * float((v >= full).mean())
        zero = 100 * float((v <= 0).mean())
        status = (
            "saturated"
            if sat > settings.saturated_percent
            else "clipped at 0"
            if zero > settings.saturated_percent
            else "ok"
        )
        rows.append(
            {
                "step": k,
                "centre_y_px": s["centre_y_px"],
                "centre_x_px": s["centre_x_px"],
                "area_px": s["area_px"],
                "nominal_level": float(level),
                "mean": float(v.mean()),
                "sd": float(v.std(ddof=1)),
                "sem": float(v.std(ddof=1) / math.sqrt(v.size)),
                "saturated_percent": sat,
                "status": status,
            }
        )
    table = pd.DataFrame(rows)
    ok = table["status"] == "ok"

    def add(name: str, value: float, unit: str | None, description: str, se: float | None = None) -> None:
        result.metrics.append(Metric(name, float(value), unit, se, channel, description))

    add("n_steps", n, None, "grey-level steps found")
    add(
        "n_steps_saturated", int((~ok).sum()), None, "steps at the full scale or at zero, left out of the fit"
    )
    add("background_counts", background, "counts", "background between the steps (mode)")
    top = float(table["mean"].max())
    add(
        "dynamic_range_used_percent",
        100 * (top - min(background, float(table["mean"].min()))) / full,
        "percent",
        f"span from the background to the brightest step, in % of the {bits}-bit full scale",
    )
    add("brightest_step_percent", 100 * top / full, "percent", "brightest step's mean in % of the full scale")
    if (~ok).any():
        result.warnings.append(
            f"{int((~ok).sum())} step(s) saturated or clipped (more than {settings.saturated_percent:g} % of their "
            "pixels at the full scale or at 0): left out of the linearity fit; lower the exposure or gain."
        )
    x = table["nominal_level"].to_numpy()[ok.to_numpy()]
    y = table["mean"].to_numpy()[ok.to_numpy()]
    if x.size < _MIN_STEPS:
        raise AnalysisError(
            f"Only {x.size} unsaturated steps: a linearity fit needs at least {_MIN_STEPS}. Lower the exposure or "
            "gain until the brightest steps are below the full scale."
        )
    check_cancel(cancel, "Grey-level ladder analysis")
    fit = linear_fit(x, y, table["sem"].to_numpy()[ok.to_numpy()])
    predicted = fit["intercept"] + fit["slope"] * table["nominal_level"].to_numpy()
    span = fit["slope"] * (x.max() - x.min())
    table["fit"] = predicted
    table["deviation_percent"] = 100 * (table["mean"].to_numpy() - predicted) / span
    dev = float(np.abs(table["deviation_percent"].to_numpy()[ok.to_numpy()]).max())
    gamma, gamma_se = response_exponent(x, y, table["sem"].to_numpy()[ok.to_numpy()])
    add(
        "slope_counts_per_level",
        fit["slope"],
        "counts",
        "slope of mean intensity against nominal level",
        fit["slope_se"],
    )
    add(
        "intercept_counts",
        fit["intercept"],
        "counts",
        "intensity the line gives at level 0",
        fit["intercept_se"],
    )
    add("linearity_r2", fit["r2"], None, "R² of the straight-line fit")
    add(
        "max_deviation_percent",
        dev,
        "percent",
        "largest deviation of a step from the line, % of the fitted range",
    )
    add("curvature_p_value", fit["curvature_p"], None, "p-value of a quadratic term (small: curved response)")
    if math.isfinite(gamma):
        add("response_exponent", gamma, None, "γ of mean = a + b · level^γ (1: linear)", gamma_se)
    tolerance = settings.max_deviation_percent
    nonlinear = fit["curvature_p"] < 1e-3 and (tolerance is None or dev > tolerance)
    add(
        "nonlinear",
        float(nonlinear),
        None,
        "1 when the curvature is significant (p < 0.001) and beyond the tolerance",
    )
    if nonlinear:
        result.warnings.append(
            f"The response is not linear: the steps deviate from a straight line by up to {dev:.2g} % of the range "
            f"(curvature p = {fit['curvature_p']:.2g}; response exponent γ = {gamma:.3g})."
        )
    if tolerance is not None:
        result.verdicts.append(
            Verdict.check("max_deviation_percent", dev, tolerance, "<=", "setting", channel)
        )
    if settings.min_r2 is not None:
        result.verdicts.append(
            Verdict.check("linearity_r2", fit["r2"], settings.min_r2, ">=", "setting", channel)
        )
    result.tables["steps"] = table
    result.settings["noise_sd_counts"] = Setting(noise, "counts", Source.DEFAULT, "Immerkær estimate")
    table.insert(0, "channel", channel)
    return result

"""QUAREP WG2 single-scene photon transfer: gain and read noise from one static, non-uniform scene.

About 20 frames of a still scene (any sample with a range of brightness; a point-scanning image
as well as a camera frame) and about 20 dark frames. Each pixel's temporal mean and variance
over the bright frames is one point of a photon-transfer curve: variance = K · (mean − offset) +
read variance. The steps, as the QUAREP WG2 tool-kit publishes them:

1. the darks give each pixel's offset and dark variance; the dark frames' means give the offset
   drift, which is removed frame by frame;
2. hot and cold pixels (|dark mean − mean| > 4 √⟨dark variance⟩) and the noisiest 2 % (dark
   variance) are excluded;
3. each bright frame is divided by its relative brightness (frame mean / mean of all frames) to
   remove fluctuations of the light source, whose SD is reported;
4. the pixels are binned by mean into 100 bins, and the bins' mean variance against mean signal is
   fitted with weights from the variance of a sample variance (2 σ⁴ / (N − 1) per pixel),
   re-weighted with the fitted model until it settles; K is the slope, 1/K the conversion gain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.detector.frames import FrameSource, StackAccumulator
from microscope_qc.analysis.detector.settings import DetectorSettings
from microscope_qc.results import AnalysisError, CancelCheck, Metric, ProgressCallback

__all__ = ["SingleSceneOutcome", "single_scene", "irls_line", "MIN_FRAMES"]

#: fewer frames than this (bright or dark) cannot give per-pixel variances
MIN_FRAMES = 3


@dataclass
class SingleSceneOutcome:
    """Metrics, tables, maps and the fitted line."""

    metrics: list[Metric]
    tables: dict[str, pd.DataFrame]
    images: dict[str, np.ndarray]
    warnings: list[str] = field(default_factory=list)
    fits: dict[str, dict[str, float]] = field(default_factory=dict)


def irls_line(
    x: np.ndarray, y: np.ndarray, n: np.ndarray, dof: int, iterations: int = 20
) -> tuple[float, float, float, float, np.ndarray]:
    """Fit ``y = a x + b`` to bin means of sample variances, re-weighting with the model.

    A bin's mean variance has variance ``2 model² / (dof · n)``; the weights are its inverse,
    recomputed from the fitted model until the slope changes by less than 1e-10.

    Parameters
    ----------
    x, y : ndarray
        Bin mean signal and bin mean variance.
    n : ndarray
        Pixels per bin.
    dof : int
        Degrees of freedom of each pixel's variance (frames − 1).
    iterations : int
        At most this many re-weightings.

    Returns
    -------
    a, b, se_a, se_b : float
        Slope, intercept and their standard errors (from the weights, scaled up by the reduced
        χ² when it exceeds 1).
    weights : ndarray
        The final weights.
    """
    model = np.maximum(y, 1e-12)
    a = b = math.nan
    w = np.ones_like(x)
    for _ in range(iterations):
        w = dof * n / (2 * model**2)
        sw, swx, swy = w.sum(), (w * x).sum(), (w * y).sum()
        swxx, swxy = (w * x * x).sum(), (w * x * y).sum()
        det = sw * swxx - swx * swx
        a_new = (sw * swxy - swx * swy) / det
        b = (swxx * swy - swx * swxy) / det
        done = math.isfinite(a) and abs(a_new - a) <= 1e-10 * abs(a_new)
        a = a_new
        model = np.maximum(a * x + b, 1e-12)
        if done:
            break
    chi2 = float((w * (y - a * x - b) ** 2).sum()) / max(x.size - 2, 1)
    scale = max(chi2, 1.0)
    return float(a), float(b), math.sqrt(scale * sw / det), math.sqrt(scale * swxx / det), w


def single_scene(
    source: FrameSource,
    darks: FrameSource | None,
    settings: DetectorSettings,
    saturation: float,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> SingleSceneOutcome:
    """QUAREP WG2 single-scene photon transfer (see the module docstring).

    Parameters
    ----------
    source : FrameSource
        The bright frames of a static scene.
    darks : FrameSource
        The dark frames.
    settings : DetectorSettings
        Exclusion thresholds, bins, bootstrap.
    saturation : float
        The saturation value (saturated pixels are excluded).
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    SingleSceneOutcome
        Gain, offset, read noise, fluctuation, drift; the binned curve; the maps.

    Raises
    ------
    AnalysisError
        Too few frames, no darks, darks brighter than the scene, a scene without a range of signal.
    """
    if darks is None or len(darks) < MIN_FRAMES:
        raise AnalysisError(
            f"Single-scene photon transfer needs at least {MIN_FRAMES} dark frames (20 is usual) for the offset and "
            "read noise ({dark_frames})."
        )
    if len(source) < MIN_FRAMES:
        raise AnalysisError(
            f"Only {len(source)} bright frame(s): single-scene photon transfer needs at least {MIN_FRAMES} (20 is usual) "
            "of the same still scene."
        )
    warnings: list[str] = []
    dacc = StackAccumulator()
    first = math.nan
    dark_means = []
    for i in range(len(darks)):
        check_cancel(cancel, "Detector analysis")
        frame = darks.read(i, dark_saturation=saturation)
        fm = float(frame.mean())
        first = fm if i == 0 else first
        dark_means.append(fm)
        dacc.add(frame - (fm - first))  # offset drift removed frame by frame
    offset_img = dacc.mean_image()
    dark_var = dacc.variance_image()
    offset = float(offset_img.mean())
    mean_dark_var = float(dark_var.mean())
    excluded = np.abs(offset_img - offset) > settings.outlier_sigma * math.sqrt(max(mean_dark_var, 1e-12))
    if settings.noisiest_percent > 0:
        excluded |= dark_var > np.percentile(dark_var, 100 - settings.noisiest_percent)
    if progress is not None:
        progress(0.3, "dark frames")

    bacc = StackAccumulator()
    levels = []
    sat_any = np.zeros(offset_img.shape, bool)
    keep = ~excluded
    for i in range(len(source)):
        check_cancel(cancel, "Detector analysis")
        frame = source.read(i)
        if frame.shape != offset_img.shape:
            raise AnalysisError(
                f"Frame {i} is {frame.shape} but the dark frames are {offset_img.shape}: same camera region, please."
            )
        sat_any |= frame >= saturation
        d = frame - offset_img
        level = float(d[keep].mean())
        if level <= 0:
            raise AnalysisError(
                f"Frame {i} is no brighter than the dark frames (mean {level:.3g} DN above the offset): darks and scene "
                "are swapped, or the light was off."
            )
        levels.append(level)
        bacc.add(d / level)
        if progress is not None:
            progress(0.3 + 0.5 * (i + 1) / len(source), f"frame {i + 1}/{len(source)}")
    c = float(np.mean(levels))
    mean_img = bacc.mean_image() * c
    var_img = bacc.variance_image() * c * c
    excluded |= sat_any
    use = ~excluded
    m, v = mean_img[use], var_img[use]
    lo, hi = (float(q) for q in np.percentile(m, [0.5, 99.5]))
    if not hi > lo:
        raise AnalysisError(
            "The scene has no range of brightness: single-scene photon transfer needs a non-uniform scene."
        )
    edges = np.linspace(lo, hi, settings.ptc_bins + 1)
    idx = np.asarray(np.digitize(m, edges), dtype=np.intp) - 1
    np.clip(idx, 0, settings.ptc_bins - 1, out=idx)
    inside = (m >= lo) & (m <= hi)
    counts = np.bincount(idx[inside], minlength=settings.ptc_bins)
    sum_m = np.bincount(idx[inside], m[inside], settings.ptc_bins)
    sum_v = np.bincount(idx[inside], v[inside], settings.ptc_bins)
    sum_v2 = np.bincount(idx[inside], v[inside] ** 2, settings.ptc_bins)
    ok = counts >= 3
    if ok.sum() < 3:
        raise AnalysisError(
            "Fewer than 3 photon-transfer bins hold pixels: use a larger scene or fewer bins."
        )
    n_b = counts[ok].astype(float)
    x, y = sum_m[ok] / n_b, sum_v[ok] / n_b
    y_se = np.sqrt(np.maximum(sum_v2[ok] / n_b - y * y, 0) / n_b)
    dof = bacc.n - 1
    a, b, se_a, se_b, w = irls_line(x, y, n_b, dof)
    if not a > 0:
        raise AnalysisError(
            "The variance does not grow with the signal: these frames are not raw (noise reduction on?)."
        )
    kind = "standard error"
    if settings.bootstrap_samples > 0:
        rng = np.random.default_rng(settings.seed)
        boot = []
        for _ in range(settings.bootstrap_samples):
            s = rng.integers(0, x.size, x.size)
            if np.unique(x[s]).size >= 3:
                boot.append(irls_line(x[s], y[s], n_b[s], dof, iterations=5)[0])
        if len(boot) >= 10:
            se_a = max(se_a, float(np.std(boot, ddof=1)))
            kind = "standard error (larger of fit and bootstrap over bins)"
    read_var = float(dark_var[use].mean())
    read_dn = math.sqrt(read_var)
    gain = 1.0 / a
    fluct = 100 * float(np.std(levels, ddof=1)) / c if len(levels) > 1 else math.nan
    n_px = offset_img.size
    metrics = [
        Metric(
            "system_gain_dn_per_e",
            a,
            "DN/e-",
            se_a,
            None,
            "photon-transfer slope K (single scene, re-weighted fit)",
            kind,
        ),
        Metric(
            "conversion_gain_e_per_dn",
            gain,
            "e-/DN",
            se_a / a**2,
            None,
            "conversion gain 1/K (QUAREP WG2 single scene)",
            kind,
        ),
        Metric(
            "offset_dn", offset, "DN", math.sqrt(mean_dark_var / (len(darks) * n_px)), None, "mean dark level"
        ),
        Metric(
            "read_noise_dn",
            read_dn,
            "DN",
            read_dn / math.sqrt(2 * dof * int(use.sum())),
            None,
            "RMS temporal dark noise of the pixels used",
        ),
        Metric(
            "read_noise_e",
            read_dn * gain,
            "e-",
            read_dn * gain * math.hypot(1 / math.sqrt(2 * dof * int(use.sum())), se_a / a),
            None,
            "read noise in electrons",
        ),
        Metric(
            "brightness_fluctuation_percent",
            fluct,
            "percent",
            fluct / math.sqrt(2 * max(len(levels) - 1, 1)),
            None,
            "SD of the bright frames' relative brightness (corrected for)",
        ),
        Metric(
            "offset_drift_dn",
            float(np.ptp(dark_means)),
            "DN",
            math.nan,
            None,
            "largest change of the dark frames' mean (corrected for)",
        ),
        Metric(
            "excluded_pixels_percent",
            100 * float(excluded.mean()),
            "percent",
            math.nan,
            None,
            "hot, cold, noisiest and saturated pixels left out",
        ),
    ]
    if b < 0 and abs(b) > 3 * se_b:
        warnings.append(
            f"The photon-transfer intercept ({b:.3g} DN²) is below zero: the offset or the scene changed during the "
            "series, or the detector is not linear."
        )
    if fluct > 5:
        warnings.append(
            f"The light fluctuated by {fluct:.2g} % between frames (corrected for); stabilise the source."
        )
    ptc = pd.DataFrame(
        {
            "bin": np.flatnonzero(ok),
            "pixels": counts[ok],
            "mean_dn": x,
            "variance_dn2": y,
            "variance_se_dn2": y_se,
            "variance_model_dn2": a * x + b,
            "weight": w,
        }
    )
    frames = pd.DataFrame(
        {
            "frame": list(range(len(darks))) + list(range(len(source))),
            "kind": ["dark"] * len(darks) + ["bright"] * len(source),
            "mean_dn": dark_means + [lv + offset for lv in levels],
            "relative_brightness": [math.nan] * len(darks) + [lv / c for lv in levels],
        }
    )
    images = {
        "excluded_pixels": excluded,
        "mean_image": mean_img.astype(np.float32),
        "dark_noise_map": np.sqrt(dark_var).astype(np.float32),
    }
    return SingleSceneOutcome(
        metrics,
        {"photon_transfer": ptc, "frames": frames},
        images,
        warnings,
        {"ptc": {"slope": a, "intercept": b, "slope_se": se_a}},
    )

"""Field illumination / flatness from images of a homogeneous fluorescent slide (QUAREP WG3, ISO 21073).

Three families of numbers, each under its own names (METRICS.md §3):

* **MetroloJ_QC-compatible** (to the letter, its defaults: Gaussian blur σ = 2 px, 10 % iso-intensity
  steps): uniformity U, field uniformity FU, centring accuracy CA, the reference (90–100 %) zone and
  its centroid, centre of intensity, maximum position, intensities relative to the maximum at the
  corners and edge midpoints, four profiles.
* **microscope-metrics-compatible** (its defaults: σ = 5 px, corner fraction 0.1): the centre
  region found by its adaptive binning, its centres (region centroid, Gaussian fits of the max
  projections, maximum position) and the mean and ratio-to-maximum of its nine regions — with its
  region names, whose "top/bottom" run along x (its array indexing is transposed).
* **Model-based** (beyond both): a smooth illumination model (2D Gaussian or a polynomial) fitted
  with the shared engine, giving the illumination centre with its standard error, the corner
  fall-off, a residual map separating dust and slide defects from the illumination shape, and a
  flat-field correction image with the residual CV after correction; saturated and zero-clipped
  pixels are counted and fail a check without stopping the analysis.

An optional mask (True = analysed pixel; :func:`mask_from_shapes` builds one from include and
exclude polygons) restricts the MetroloJ_QC and model-based numbers to the analysed pixels; the
microscope-metrics numbers stay whole-image (docs/field.md, "Restricting the analysis").

Positions are in pixels, numpy/napari convention (a pixel's centre at its integer index, (y, x));
ImageJ-based tools report 0.5 px more.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from microscope_qc.analysis.masks import (
    MIN_ANALYSED_PERCENT,
    MIN_ANALYSED_PIXELS,
    check_mask,
    describe_shapes,
    mask_from_shapes,
    polygon_from_shape,
)
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA, Setting, Source
from microscope_qc.results import (
    AnalysisCancelled,
    AnalysisError,
    CancelCheck,
    Metric,
    ProgressCallback,
    Result,
    Verdict,
)

__all__ = [
    "FieldSettings",
    "FieldResult",
    "ChannelField",
    "analyze_field",
    "combine_flats",
    "mask_from_shapes",
    "polygon_from_shape",
    "describe_shapes",
    "MIN_ANALYSED_PIXELS",
    "MIN_ANALYSED_PERCENT",
    "iso_intensity_map",
    "metroloj_field_metrics",
    "microscope_metrics_field",
    "MM_REGIONS",
    "PROFILE_NAMES",
]

#: microscope-metrics' nine region names, in its order.
MM_REGIONS = (
    "top_left",
    "top_center",
    "top_right",
    "middle_left",
    "middle_center",
    "middle_right",
    "bottom_left",
    "bottom_center",
    "bottom_right",
)
#: MetroloJ_QC's four profiles.
PROFILE_NAMES = ("diagonal_tl_br", "diagonal_bl_tr", "horizontal_centre", "vertical_centre")
#: corner and edge-midpoint names for the relative intensities (MetroloJ_QC).
EDGE_POINTS = (
    "top_left",
    "top_centre",
    "top_right",
    "middle_left",
    "middle_right",
    "bottom_left",
    "bottom_centre",
    "bottom_right",
)


@dataclass
class FieldSettings:
    """Parameters of :func:`analyze_field`; ``None`` means "derived" (documented per field)."""

    blur: bool = True  # MetroloJ_QC: Gaussian blur before everything else
    sigma_px: float = 2.0  # MetroloJ_QC blur σ
    step_percent: float = 10.0  # iso-intensity step
    mm_sigma_px: float = 5.0  # microscope-metrics blur σ
    mm_corner_fraction: float = 0.1
    model: str = "gaussian"  # "gaussian", "poly2" or "poly4"
    fit_size: int = 128  # the model is fitted on the image binned to at most this many pixels per side
    tolerance_uniformity_percent: float = 50.0
    tolerance_centering_percent: float = 50.0
    saturation_value: float | None = None  # default: the data type's maximum (or 2^bit_depth − 1)
    bit_depth: int | None = None
    max_saturated_percent: float = 0.0
    dust_threshold_sigma: float = 5.0
    pixel_size_um: float | None = None  # optional: distances also in µm

    def analysis_settings(self) -> dict[str, Setting]:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            unit = "px" if f.name.endswith("_px") else ("percent" if f.name.endswith("percent") else None)
            out[f.name] = Setting(value, unit, Source.DEFAULT if value == f.default else Source.USER)
        return out


@dataclass
class ChannelField:
    """Per-channel arrays for overlays and figures."""

    channel: int
    name: str
    blurred: np.ndarray  # MetroloJ_QC-blurred image (float32)
    iso_map: np.ndarray  # int16 iso-intensity class in percent (0, 10, ..., 100); −1 = excluded by the mask
    reference_zone: np.ndarray  # bool, the 90–100 % zone
    model: np.ndarray | None = None  # fitted illumination (float32)
    residual: np.ndarray | None = None  # image / model − 1
    defects: np.ndarray | None = None  # int32 labels of dust and defects
    flat_field: np.ndarray | None = None  # model / mean(model): divide images by it to correct them
    profiles: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    centres: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (y, x)
    mm_regions: dict[str, tuple[slice, slice]] = field(default_factory=dict)
    analysed: np.ndarray | None = None  # bool, True = analysed pixel; None = the whole image


@dataclass
class FieldResult(Result):
    """Result of :func:`analyze_field`."""

    channels: list[ChannelField] = field(default_factory=list)


# ------------------------------------------------------------------------------------ inputs


def combine_flats(images: list[np.ndarray], method: str = "mean") -> np.ndarray:
    """Combine several flats: ``mean`` for repeats of one field (less noise), ``median`` for
    different fields of the slide (dust and slide defects average out)."""
    if len(images) == 0:
        raise AnalysisError("No images to combine.")
    shapes = {np.shape(i) for i in images}
    if len(shapes) != 1:
        raise AnalysisError(f"Images to combine have different shapes: {sorted(shapes)}.")
    stack = np.stack([np.asarray(i, dtype=np.float32) for i in images])
    if method == "mean":
        return stack.mean(axis=0)
    if method == "median":
        return np.median(stack, axis=0)
    raise AnalysisError(f"combine method must be 'mean' or 'median', not {method!r}.")


def _as_cyx(data: Any, what: str = "image") -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim == 2:
        return arr[None]
    if arr.ndim == 4:
        if arr.shape[1] != 1:
            raise AnalysisError(
                f"The {what} is a z-stack ({arr.shape[1]} planes); field illumination takes one 2D image per "
                "channel. Pick the in-focus plane (or a maximum projection) first."
            )
        return arr[:, 0]
    if arr.ndim == 3:
        if arr.shape[0] > 16:
            raise AnalysisError(
                f"The {what} has shape {arr.shape}: that looks like a z-stack or time series of {arr.shape[0]} planes, "
                "but field illumination takes one 2D image per channel, (Y, X) or (C, Y, X). Pick one plane, or "
                "combine repeated images by {combine}."
            )
        return arr
    raise AnalysisError(f"Field illumination takes (Y, X) or (C, Y, X) images; got shape {arr.shape}.")


def _check(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise AnalysisCancelled("Field illumination analysis cancelled.")


# ------------------------------------------------------------------------------------ MetroloJ_QC


def iso_intensity_map(
    image: np.ndarray, step_percent: float = 10.0, mask: np.ndarray | None = None
) -> np.ndarray:
    """MetroloJ_QC iso-intensity classes: floor(floor(100·I/max/step)·step), in percent (int16).

    With a mask (True = analysed), max is taken over the analysed pixels and excluded pixels get
    no class: −1.
    """
    peak = float(image.max() if mask is None else image[mask].max())
    if peak <= 0:
        raise AnalysisError("The image has no positive intensity (after dark subtraction).")
    classes = np.floor(np.floor(100.0 * image / peak / step_percent) * step_percent)
    iso = np.clip(classes, 0, 100).astype(np.int16)
    if mask is not None:
        iso[~mask] = -1
    return iso


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    """Unweighted centroid (y, x) of a boolean mask, from its row and column counts (no index arrays)."""
    rows, cols = mask.sum(axis=1), mask.sum(axis=0)
    n = float(rows.sum())
    return float(rows @ np.arange(mask.shape[0]) / n), float(cols @ np.arange(mask.shape[1]) / n)


def _edge_points(shape: tuple[int, int]) -> dict[str, tuple[int, int]]:
    h, w = shape
    return {
        "top_left": (0, 0),
        "top_centre": (0, w // 2),
        "top_right": (0, w - 1),
        "middle_left": (h // 2, 0),
        "middle_right": (h // 2, w - 1),
        "bottom_left": (h - 1, 0),
        "bottom_centre": (h - 1, w // 2),
        "bottom_right": (h - 1, w - 1),
    }


def metroloj_field_metrics(
    image: np.ndarray, step_percent: float = 10.0, mask: np.ndarray | None = None
) -> dict[str, Any]:
    """MetroloJ_QC field-illumination numbers of an (already blurred) 2D image.

    U = 100·min/max; FU = 100 − 100·SD₈/max (population SD of the 4 corner and 4 edge-midpoint
    pixels); CA = 100 − 200·d/sqrt(w² + h²), d the distance from the image centre to the centroid
    of the reference (top-step) zone. Positions (y, x) in pixels, numpy convention.

    With a mask (True = analysed pixel): min, max, the iso-intensity classes, the reference zone,
    the centre of intensity and the maximum use analysed pixels only; the image centre and diagonal
    in CA stay those of the whole image (the optical axis does not move with the mask); the
    reference-zone area is a share of the analysed area; a corner or edge midpoint that is excluded
    has a relative intensity of NaN, and FU (defined on all eight) is then NaN too. The names of
    excluded points are returned under ``excluded_points``.
    """
    img = np.asarray(image)
    if img.dtype.kind != "f":
        img = img.astype(np.float64)
    h, w = img.shape
    if mask is None:
        peak, low = float(img.max()), float(img.min())
        weights = img
        n_analysed = img.size
        argmax = int(np.argmax(img))
    else:
        inside = img[mask]
        peak, low = float(inside.max()), float(inside.min())
        weights = np.where(mask, img, 0)
        n_analysed = int(mask.sum())
        argmax = int(np.argmax(np.where(mask, img, -np.inf)))
    iso = iso_intensity_map(img, step_percent, mask)
    ref = iso >= 100 - step_percent
    ref_centroid = _centroid(ref)
    centre = ((h - 1) / 2, (w - 1) / 2)  # MetroloJ_QC's (w/2, h/2) in ImageJ's +0.5 convention
    d = math.hypot(ref_centroid[0] - centre[0], ref_centroid[1] - centre[1])
    points = _edge_points((h, w))
    excluded = [] if mask is None else [name for name, p in points.items() if not mask[p]]
    values = np.array([img[p] for p in points.values()], dtype=np.float64)
    rows, cols = weights.sum(axis=1, dtype=np.float64), weights.sum(axis=0, dtype=np.float64)
    total = rows.sum()
    return {
        "uniformity_percent": 100.0 * low / peak,
        "field_uniformity_percent": (math.nan if excluded else 100.0 - 100.0 * float(values.std()) / peak),
        "centering_accuracy_percent": 100.0 - 200.0 * d / math.hypot(w, h),
        "reference_zone_centroid": ref_centroid,
        "reference_zone_area_percent": 100.0 * float(ref.sum()) / n_analysed,
        "centre_of_intensity": (float(rows @ np.arange(h) / total), float(cols @ np.arange(w) / total)),
        "max_position": tuple(float(v) for v in np.unravel_index(argmax, img.shape)),
        "relative_intensity": {
            name: math.nan if name in excluded else float(img[p]) / peak for name, p in points.items()
        },
        "excluded_points": excluded,
        "iso_map": iso,
        "reference_zone": ref,
    }


def _profiles(
    image: np.ndarray, blurred: np.ndarray, model: np.ndarray | None, mask: np.ndarray | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Four profiles (two diagonals, two centre lines), sampled once per pixel of length (linear interpolation).

    With a mask, the raw and blurred values are NaN at samples whose interpolation touches an
    excluded pixel (the model, defined everywhere, is kept).
    """
    h, w = image.shape
    lines = {
        "diagonal_tl_br": ((0.0, 0.0), (h - 1.0, w - 1.0)),
        "diagonal_bl_tr": ((h - 1.0, 0.0), (0.0, w - 1.0)),
        "horizontal_centre": (((h - 1) / 2, 0.0), ((h - 1) / 2, w - 1.0)),
        "vertical_centre": ((0.0, (w - 1) / 2), (h - 1.0, (w - 1) / 2)),
    }
    out = {}
    for name, (a, b) in lines.items():
        n = int(math.ceil(math.hypot(b[0] - a[0], b[1] - a[1]))) + 1
        t = np.linspace(0.0, 1.0, n)
        coords = np.vstack([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
        entry = {
            "start": np.array(a),
            "end": np.array(b),
            "distance_px": t * math.hypot(b[0] - a[0], b[1] - a[1]),
            "raw": ndimage.map_coordinates(np.asarray(image, dtype=np.float32), coords, order=1),
            "blurred": ndimage.map_coordinates(blurred, coords, order=1),
        }
        if model is not None:
            entry["model"] = ndimage.map_coordinates(model, coords, order=1)
        if mask is not None:
            outside = ndimage.map_coordinates(mask.astype(np.float32), coords, order=1) < 0.999
            entry["raw"][outside] = np.nan
            entry["blurred"][outside] = np.nan
        out[name] = entry
    return out


# ------------------------------------------------------------------------------------ microscope-metrics


def mm_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """microscope-metrics' blur: scikit-image's gaussian (edges extended, truncate 4), in single precision."""
    return ndimage.gaussian_filter(np.asarray(image, dtype=np.float32), sigma, mode="nearest", truncate=4.0)


def microscope_metrics_field(
    image: np.ndarray, sigma: float = 5.0, corner_fraction: float = 0.1, blurred: np.ndarray | None = None
) -> dict[str, Any]:
    """microscope-metrics' field-illumination key values, reproduced to its definitions.

    Centre region: the image blurred with σ (scikit-image, edges extended) is rescaled to 0..n
    for n in 11, 21, 51, 101, 201, 501 until the second-highest level covers < 20 % of the image;
    its centroid is the "centre of mass" (= "geometric centre"), the highest level's centroid the
    "max intensity position". Fitted centre: a 1D Gaussian with offset fitted (shared engine,
    microscope-metrics' start values) to the maximum projection of the raw image along each axis.
    Regions: squares of side int(fraction·(h + w)/2) at the corners, edge centres and centre,
    sliced exactly as microscope-metrics does (its "bottom"/"right" slices stop one pixel short).
    """
    img = np.asarray(image)
    h, w = img.shape
    if blurred is not None:
        proc = blurred
    else:
        proc = mm_blur(img, sigma) if sigma else img.astype(np.float32)
    top = float(proc.max())
    norm = proc * np.float32(1.0 / top)
    area_fraction, level_fraction = 1.0, None
    centroid = max_pos = (math.nan, math.nan)
    max_in_region = math.nan
    for n_bins in (11, 21, 51, 101, 201, 501):
        if area_fraction < 0.2:
            break
        labels = np.clip(norm * np.float32(n_bins), 0, n_bins).astype(np.int32)
        counts = np.bincount(labels.ravel(), minlength=n_bins + 1)
        present = np.flatnonzero(counts[1:]) + 1
        second, first = (present[-2], present[-1]) if present.size > 1 else (present[-1], present[-1])
        region = labels == second
        area_fraction = float(counts[second]) / img.size
        level_fraction = 1 / (n_bins - 1)
        centroid = _centroid(region)
        max_in_region = float(proc[region].max())
        max_pos = _centroid(labels == first)
    fitted = []
    model = GaussianModel(1)
    for axis in (1, 0):  # y from the max over x, then x from the max over y
        prof = img.max(axis=axis).astype(float)
        p0 = np.array([[prof.max() - prof.min(), prof.min(), float(prof.argmax()), 1 / 0.8]])
        lo, hi = model.bounds((prof.size,), 1, sigma_min=1e-3, sigma_max=1e6)
        lo[:, 2], hi[:, 2] = -prof.size, 2 * prof.size
        r = fit_gaussians(
            model, prof[None], (prof.size,), 0.8, p0=p0, bounds=(lo, hi), weighted=False, max_iter=500
        )
        fitted.append(float(r.params[0, 2]) if r.success[0] else math.nan)
    cfp = int(corner_fraction * (h + w) / 2)
    cr_y, cr_x = int((h - cfp) / 2), int((w - cfp) / 2)
    # microscope-metrics' region slices, including its end index -1 (the last row/column is left out)
    rows = {"top": slice(0, cfp), "middle": slice(cr_y, -cr_y), "bottom": slice(-cfp, -1)}
    cols = {"left": slice(0, cfp), "center": slice(cr_x, -cr_x), "right": slice(-cfp, -1)}
    regions = {f"{r}_{c}": (rows[r], cols[c]) for r in rows for c in cols}
    raw_max = float(img.max())
    means = {name: float(np.mean(img[sl])) for name, sl in regions.items()}

    def rel(v: float, n: int) -> float:
        return v / (n / 2) - 1

    return {
        "center_region_intensity_fraction": level_fraction,
        "center_region_area_fraction": area_fraction,
        "center_of_mass": centroid,
        "center_fitted": tuple(fitted),
        "max_intensity": max_in_region,
        "max_intensity_pos": max_pos,
        "center_of_mass_distance_relative": math.hypot(rel(centroid[0], h), rel(centroid[1], w)),
        "center_fitted_distance_relative": math.hypot(rel(fitted[0], h), rel(fitted[1], w)),
        "max_intensity_distance_relative": math.hypot(rel(max_pos[0], h), rel(max_pos[1], w)),
        "region_mean": means,
        "region_ratio": {name: m / raw_max for name, m in means.items()},
        "regions": regions,
    }


# ------------------------------------------------------------------------------------ illumination model


def _bin(image: np.ndarray, target: int) -> tuple[np.ndarray, int]:
    b = max(1, int(math.ceil(max(image.shape) / target)))
    h, w = (image.shape[0] // b) * b, (image.shape[1] // b) * b
    binned = image[:h, :w].reshape(h // b, b, w // b, b).mean(axis=(1, 3))
    return binned, b


def _poly_terms(order: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(order + 1) for j in range(order + 1 - i)]


def _poly_eval(coef: np.ndarray, terms, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(u, v).shape)
    for c, (i, j) in zip(coef, terms, strict=True):
        out = out + c * u**i * v**j
    return out


def _fit_model(img: np.ndarray, s: FieldSettings, valid: np.ndarray) -> dict[str, Any]:
    """Fit the smooth illumination model on a binned image; return its parameters, centre ± SE, evaluator."""
    h, w = img.shape
    binned, b = _bin(img, s.fit_size)
    vmask, _ = _bin(valid.astype(np.float32), s.fit_size)
    mask = (vmask > 0.99).ravel()
    bh, bw = binned.shape
    n_params = (
        7 if s.model == "gaussian" else len(_poly_terms(int(s.model[-1]) if s.model[-1].isdigit() else 2))
    )
    if int(mask.sum()) < max(2 * n_params, 12):
        raise AnalysisError(
            f"Only {int(mask.sum())} of the illumination model's {b} × {b}-pixel bins lie entirely in analysed, "
            f"unsaturated pixels; the {s.model} model needs at least {max(2 * n_params, 12)}. Analyse a larger "
            "or less fragmented region."
        )
    # full-resolution pixel coordinate of each bin's centre
    off = (b - 1) / 2
    if s.model == "gaussian":
        m = GaussianModel(2, full=True)
        data = binned.reshape(1, -1)
        lo, hi = m.bounds((bh, bw), 1, sigma_min=0.5, sigma_max=50.0 * max(bh, bw))
        lo[:, 2], hi[:, 2] = -2.0 * bh, 3.0 * bh
        lo[:, 3], hi[:, 3] = -2.0 * bw, 3.0 * bw
        lo[:, 1], hi[:, 1] = -abs(float(binned.max())), float(binned.max())
        p0 = m.initial_guess(data, (bh, bw), np.array([bh / 2, bw / 2]))
        p0[0, 1] = 0.0
        p0[0, 0] = float(binned.max())
        fit = fit_gaussians(m, data, (bh, bw), bh / 2, mask=mask[None], p0=p0, bounds=(lo, hi), max_iter=200)
        if not fit.success[0]:
            raise AnalysisError("The illumination model did not converge; try model='poly4'.")

        def centre_fn(p: np.ndarray) -> np.ndarray:
            return np.column_stack([p[:, 2] * b + off, p[:, 3] * b + off])

        centre, centre_se = delta_method(centre_fn, fit.params, fit.covariance)
        cov = m.covariance(fit.params)[0] * b * b

        L = m.cholesky(fit.params)[0]
        prec = L @ L.T
        amp, back, c0, c1 = (float(v) for v in fit.params[0, :4])

        def evaluate(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
            # broadcasting (H, 1) against (1, W) keeps a full-size image cheap to render
            dy = (np.asarray(yy, dtype=np.float32) - off) / b - c0
            dx = (np.asarray(xx, dtype=np.float32) - off) / b - c1
            q = prec[0, 0] * dy * dy + 2 * prec[0, 1] * dy * dx + prec[1, 1] * dx * dx
            return back + amp * np.exp(-0.5 * q)

        return {
            "centre": centre[0],
            "centre_se": centre_se[0],
            "evaluate": evaluate,
            "r2": float(fit.r2[0]),
            "fwhm_px": (FWHM_PER_SIGMA * math.sqrt(cov[0, 0]), FWHM_PER_SIGMA * math.sqrt(cov[1, 1])),
            "background": float(fit.params[0, 1]),
        }
    if s.model not in ("poly2", "poly4"):
        raise AnalysisError(f"model must be 'gaussian', 'poly2' or 'poly4', not {s.model!r}.")
    order = int(s.model[-1])
    terms = _poly_terms(order)
    yy, xx = np.indices((bh, bw), dtype=float)
    scale_y, scale_x = (h - 1) / 2, (w - 1) / 2
    u = ((yy * b + off) - scale_y) / scale_y
    v = ((xx * b + off) - scale_x) / scale_x
    X = np.column_stack([(u**i * v**j).ravel() for i, j in terms])[mask]
    z = binned.ravel()[mask]
    coef, *_ = np.linalg.lstsq(X, z, rcond=None)
    resid = z - X @ coef
    s2 = float(resid @ resid) / max(len(z) - len(terms), 1)
    cov_c = s2 * np.linalg.pinv(X.T @ X)
    r2 = 1 - float(resid @ resid) / float(((z - z.mean()) ** 2).sum())
    gu, gv = np.meshgrid(np.linspace(-1, 1, 201), np.linspace(-1, 1, 201), indexing="ij")

    def centre_fn(c: np.ndarray) -> np.ndarray:
        out = []
        for row in c:
            vals = _poly_eval(row, terms, gu, gv)
            k = np.unravel_index(int(np.argmax(vals)), vals.shape)
            pu, pv = gu[k], gv[k]
            for _ in range(20):  # Newton steps on the gradient, from the best grid point
                gu_, gv_ = _poly_grad(row, terms, pu, pv)
                huu, huv, hvv = _poly_hess(row, terms, pu, pv)
                det = huu * hvv - huv * huv
                if abs(det) < 1e-12:
                    break
                du, dv = (hvv * gu_ - huv * gv_) / det, (huu * gv_ - huv * gu_) / det
                pu, pv = pu - du, pv - dv
                if abs(du) + abs(dv) < 1e-10:
                    break
            out.append([pu * scale_y + scale_y, pv * scale_x + scale_x])
        return np.array(out)

    centre, centre_se = delta_method(centre_fn, coef[None], cov_c[None])

    def evaluate(yy_: np.ndarray, xx_: np.ndarray) -> np.ndarray:
        return _poly_eval(coef, terms, (yy_ - scale_y) / scale_y, (xx_ - scale_x) / scale_x)

    return {
        "centre": centre[0],
        "centre_se": centre_se[0],
        "evaluate": evaluate,
        "r2": r2,
        "fwhm_px": None,
        "background": None,
    }


def _poly_grad(c, terms, u, v):
    gu = sum(ci * i * u ** (i - 1) * v**j for ci, (i, j) in zip(c, terms, strict=True) if i > 0)
    gv = sum(ci * j * u**i * v ** (j - 1) for ci, (i, j) in zip(c, terms, strict=True) if j > 0)
    return gu, gv


def _poly_hess(c, terms, u, v):
    huu = sum(ci * i * (i - 1) * u ** (i - 2) * v**j for ci, (i, j) in zip(c, terms, strict=True) if i > 1)
    hvv = sum(ci * j * (j - 1) * u**i * v ** (j - 2) for ci, (i, j) in zip(c, terms, strict=True) if j > 1)
    huv = sum(
        ci * i * j * u ** (i - 1) * v ** (j - 1)
        for ci, (i, j) in zip(c, terms, strict=True)
        if i > 0 and j > 0
    )
    return huu, huv, hvv


# ------------------------------------------------------------------------------------ the analysis


def analyze_field(
    data: Any,
    settings: FieldSettings | None = None,
    dark: Any = None,
    mask: Any = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    channel_names: list[str] | None = None,
    mask_description: str | None = None,
) -> FieldResult:
    """Measure field illumination of flat-field images.

    Parameters
    ----------
    data
        (Y, X) or (C, Y, X) image of a homogeneous fluorescent slide (or (C, 1, Y, X)).
    settings
        Analysis settings (MetroloJ_QC and microscope-metrics defaults).
    dark
        Optional dark image of the same shape (or (Y, X) for all channels), subtracted first.
    mask
        Optional boolean (Y, X) array, True = pixel analysed (every channel); ``None`` = the whole
        image. Build one from polygons with :func:`mask_from_shapes`. The image is blurred whole
        first, then only analysed pixels enter the numbers (docs/field.md, "Restricting the analysis").
    progress, cancel
        ``progress(fraction, message)``; ``cancel()`` returning True stops with :class:`AnalysisCancelled`.
    channel_names
        Names for the report.
    mask_description
        How the mask was made, for the ``roi`` setting (e.g. :func:`describe_shapes`); default "user mask".

    Raises
    ------
    AnalysisError
        z-stacks, constant images, NaNs, an image that is entirely saturated, a dark brighter than the flat,
        a mask of the wrong shape or type, a mask leaving fewer than 100 pixels or 1 % of the field.
    """
    s = settings or FieldSettings()
    raw = _as_cyx(data)
    if raw.size == 0:
        raise AnalysisError(f"The image is empty (shape {raw.shape}).")
    if raw.dtype.kind not in "uif":
        raise AnalysisError(f"Pixel type {raw.dtype} is not an intensity type.")
    if raw.dtype.kind == "f" and not np.isfinite(raw).all():
        n = int((~np.isfinite(raw)).sum())
        raise AnalysisError(
            f"The image contains {n} NaN or infinite pixels; replace them or crop them away first."
        )
    if min(raw.shape[-2:]) < 16:
        raise AnalysisError(
            f"The image is {raw.shape[-2]} × {raw.shape[-1]} pixels; field illumination needs at least 16 × 16."
        )
    analysed = None if mask is None else check_mask(mask, raw.shape[-2:])
    dk = None
    if dark is not None:
        dk = _as_cyx(dark, "dark image").astype(np.float64)
        if dk.shape[-2:] != raw.shape[-2:] or dk.shape[0] not in (1, raw.shape[0]):
            raise AnalysisError(f"The dark image {dk.shape} does not match the flat {raw.shape}.")
        if dk.dtype.kind == "f" and not np.isfinite(dk).all():
            raise AnalysisError("The dark image contains NaN or infinite pixels.")
    if s.saturation_value is not None:
        sat = float(s.saturation_value)
    elif s.bit_depth:
        sat = float(2**s.bit_depth - 1)
    elif raw.dtype.kind in "ui":
        sat = float(np.iinfo(raw.dtype).max)
    else:
        sat = math.inf
    result = FieldResult(measurement="field")
    result.settings = s.analysis_settings()
    result.settings["saturation_value_used"] = Setting(
        None if math.isinf(sat) else sat,
        "counts",
        Source.DEFAULT if s.saturation_value is None else Source.USER,
    )
    result.settings["dark_subtracted"] = Setting(
        dk is not None, None, Source.USER if dk is not None else Source.DEFAULT
    )
    if analysed is None:
        result.settings["roi"] = Setting("whole image", None, Source.DEFAULT)
    else:
        fraction = 100.0 * float(analysed.mean())
        result.settings["roi"] = Setting(
            f"{mask_description or 'user mask'}; {fraction:.3g} % of the field analysed", None, Source.USER
        )
        result.warnings.append(
            f"Analysis restricted by a mask ({result.settings['roi'].value}): the MetroloJ_QC and model-based "
            "numbers use analysed pixels only (the image is blurred whole first, so excluded pixels within "
            f"~{4 * s.sigma_px:g} px still influence the blurred values next to them); the microscope-metrics "
            "numbers (mm_*) are computed on the whole image, as microscope-metrics has no mask."
        )
    n_ch = raw.shape[0]
    names = list(channel_names or [f"channel {c}" for c in range(n_ch)])
    for c in range(n_ch):
        _check(cancel)
        if progress:
            progress(c / n_ch, f"channel {c}")
        d = None if dk is None else dk[0 if dk.shape[0] == 1 else c]
        result.channels.append(_analyze_channel(raw[c], d, c, names[c], s, sat, result, cancel, analysed))
    result.tables["profiles"] = _profiles_table(result.channels)
    if progress:
        progress(1.0, "done")
    return result


def _profiles_table(channels: list[ChannelField]) -> pd.DataFrame:
    """The four profiles of every channel in long form: channel, profile, distance, raw, blurred, model."""
    parts = []
    for chan in channels:
        for name, p in chan.profiles.items():
            parts.append(
                pd.DataFrame(
                    {
                        "channel": chan.channel,
                        "profile": name,
                        "distance_px": p["distance_px"],
                        "raw": p["raw"],
                        "blurred": p["blurred"],
                        "model": p.get("model", np.full(len(p["raw"]), np.nan)),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _analyze_channel(
    raw, dark, c, name, s: FieldSettings, sat, result: FieldResult, cancel, analysed: np.ndarray | None = None
) -> ChannelField:
    lo_v, hi_v = raw.min(), raw.max()
    if lo_v == hi_v:
        raise AnalysisError(
            f"Channel {c} is constant (every pixel = {lo_v}): not an image of a fluorescent slide."
        )
    saturated = raw >= sat
    zero = raw <= (0 if raw.dtype.kind in "ui" else -math.inf)
    inside = np.ones(raw.shape, bool) if analysed is None else analysed
    n_inside = int(inside.sum())
    if analysed is None:
        sat_pct, zero_pct = 100.0 * saturated.mean(), 100.0 * zero.mean()
    else:  # shares of the analysed area
        sat_pct = 100.0 * int(saturated[inside].sum()) / n_inside
        zero_pct = 100.0 * int(zero[inside].sum()) / n_inside
    if sat_pct == 100.0:
        which = "pixel" if analysed is None else "analysed pixel"
        raise AnalysisError(
            f"Every {which} of channel {c} is saturated; reduce exposure or intensity and acquire again."
        )
    img = raw.astype(np.float32)
    if dark is not None:
        img = img - dark.astype(np.float32)
        if img.mean(dtype=np.float64) <= 0:
            raise AnalysisError(
                f"Channel {c}: the dark image is as bright as the flat; check that the files are not swapped."
            )
    if sat_pct > s.max_saturated_percent:
        result.warnings.append(
            f"Channel {c}: {sat_pct:.3g} % of pixels saturated (≥ {sat:g}); uniformity and centre are biased. "
            "Reduce exposure or lamp power."
        )
    if zero_pct > 0:
        result.warnings.append(f"Channel {c}: {zero_pct:.3g} % of pixels clipped at zero (offset too low?).")
    h, w = img.shape
    img32 = img
    mm_input = img32 if dark is not None else raw
    # the two large blurs are independent; scipy releases the GIL, so the second core takes one
    with ThreadPoolExecutor(max_workers=1) as pool:
        mm_blurred = pool.submit(mm_blur, mm_input, s.mm_sigma_px) if s.mm_sigma_px else None
        blurred = (
            ndimage.gaussian_filter(img32, s.sigma_px, mode="nearest", truncate=4.0)
            if s.blur
            else img32.copy()
        )
        mj = metroloj_field_metrics(blurred, s.step_percent, analysed)
        mm_proc = mm_blurred.result() if mm_blurred is not None else None
    _check(cancel)
    mm = microscope_metrics_field(mm_input, s.mm_sigma_px, s.mm_corner_fraction, blurred=mm_proc)
    _check(cancel)
    ok = ~(saturated | zero) & inside
    fit = _fit_model(img, s, ok)
    yy, xx = np.ogrid[0:h, 0:w]
    model = np.broadcast_to(fit["evaluate"](yy, xx), (h, w)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = img32 / model - 1.0
    residual[~np.isfinite(residual)] = 0.0
    residual[~inside] = 0.0  # excluded pixels show no residual (and cannot hold a defect)
    peak_model = float(model.max())
    # Dust and defects: residuals in units of the local shot noise (∝ sqrt(model)), so dim corners
    # with larger relative noise do not fill with false specks; then a robust threshold.
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (img32 - model) / np.sqrt(np.maximum(model, 1e-6 * peak_model + 1e-12))
    z = np.nan_to_num(z, copy=False)
    if analysed is not None:
        z[~analysed] = 0.0  # excluded dust must not spread into the analysed pixels with the smoothing
    z = ndimage.gaussian_filter(z, 1.0, truncate=2.5)  # specks span several pixels
    ky, kx = max(1, z.shape[0] // 512), max(1, z.shape[1] // 512)  # robust statistics need no more pixels
    sub = z[::ky, ::kx] if analysed is None else z[::ky, ::kx][analysed[::ky, ::kx]]
    med = float(np.median(sub))
    mad = float(1.4826 * np.median(np.abs(sub - med))) or float(sub.std()) or 1e-6
    defects_mask = np.abs(z - med) > s.dust_threshold_sigma * mad
    if analysed is not None:
        defects_mask &= analysed
    defects, n_defects = ndimage.label(defects_mask)
    flat_field = (model / float(model.mean())).astype(np.float32)
    corrected = img32[ok] / flat_field[ok]
    residual_cv = 100.0 * float(corrected.std(dtype=np.float64) / corrected.mean(dtype=np.float64))
    cv = 100.0 * float(img32[ok].std(dtype=np.float64) / img32[ok].mean(dtype=np.float64))
    corners = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]
    cy, cx = fit["centre"]
    # the model's own peak (the centre may lie outside the image for a misaligned lamp)
    peak_value = float(fit["evaluate"](np.array([[cy]]), np.array([[cx]]))[0, 0])
    peak_value = max(peak_value, peak_model)
    falloff = [100.0 * (1 - float(model[p]) / peak_value) for p in corners]
    half_diag = math.hypot(h - 1, w - 1) / 2
    offset = math.hypot(cy - (h - 1) / 2, cx - (w - 1) / 2)
    gy, gx = (cy - (h - 1) / 2) / max(offset, 1e-12), (cx - (w - 1) / 2) / max(offset, 1e-12)
    offset_se = math.hypot(gy * fit["centre_se"][0], gx * fit["centre_se"][1])

    def add(
        metric: str,
        value: float,
        unit: str | None,
        desc: str,
        unc: float | None = None,
        kind: str = "standard error",
    ) -> None:
        result.metrics.append(
            Metric(metric, float(value), unit, None if unc is None else float(unc), c, desc, kind)
        )

    add("uniformity_percent", mj["uniformity_percent"], "percent", "MetroloJ_QC U = 100·min/max (blurred)")
    add(
        "field_uniformity_percent",
        mj["field_uniformity_percent"],
        "percent",
        "MetroloJ_QC FU = 100 − 100·SD(4 corners + 4 edge midpoints)/max",
    )
    add(
        "centering_accuracy_percent",
        mj["centering_accuracy_percent"],
        "percent",
        "MetroloJ_QC CA = 100 − 200·d/sqrt(w² + h²)",
    )
    add(
        "reference_zone_centroid_y_px",
        mj["reference_zone_centroid"][0],
        "px",
        f"centroid of the {100 - s.step_percent:g}–100 % zone",
    )
    add(
        "reference_zone_centroid_x_px",
        mj["reference_zone_centroid"][1],
        "px",
        f"centroid of the {100 - s.step_percent:g}–100 % zone",
    )
    add(
        "reference_zone_area_percent",
        mj["reference_zone_area_percent"],
        "percent",
        "area of the reference zone",
    )
    add("centre_of_intensity_y_px", mj["centre_of_intensity"][0], "px", "intensity-weighted centre (blurred)")
    add("centre_of_intensity_x_px", mj["centre_of_intensity"][1], "px", "intensity-weighted centre (blurred)")
    add("max_position_y_px", mj["max_position"][0], "px", "position of the maximum (blurred)")
    add("max_position_x_px", mj["max_position"][1], "px", "position of the maximum (blurred)")
    for key, v in mj["relative_intensity"].items():
        add(
            f"relative_intensity_{key}",
            v,
            None,
            "blurred intensity / max at this corner or edge midpoint (MetroloJ_QC)",
        )
    add("cv_percent", cv, "percent", "coefficient of variation of the (dark-subtracted) image")
    add("saturated_percent", sat_pct, "percent", f"analysed pixels at or above {sat:g}")
    add("zero_clipped_percent", zero_pct, "percent", "analysed pixels at zero")
    add(
        "analysed_fraction_percent",
        100.0 * n_inside / inside.size,
        "percent",
        "share of the field analysed (the rest excluded by the mask)",
    )
    # microscope-metrics
    add(
        "mm_center_region_intensity_fraction",
        mm["center_region_intensity_fraction"],
        None,
        "microscope-metrics",
    )
    add("mm_center_region_area_fraction", mm["center_region_area_fraction"], None, "microscope-metrics")
    add("mm_center_of_mass_y_px", mm["center_of_mass"][0], "px", "microscope-metrics centre region centroid")
    add("mm_center_of_mass_x_px", mm["center_of_mass"][1], "px", "microscope-metrics centre region centroid")
    add(
        "mm_center_fitted_y_px",
        mm["center_fitted"][0],
        "px",
        "microscope-metrics Gaussian fit of the max projection",
    )
    add(
        "mm_center_fitted_x_px",
        mm["center_fitted"][1],
        "px",
        "microscope-metrics Gaussian fit of the max projection",
    )
    add("mm_max_intensity_pos_y_px", mm["max_intensity_pos"][0], "px", "microscope-metrics")
    add("mm_max_intensity_pos_x_px", mm["max_intensity_pos"][1], "px", "microscope-metrics")
    add("mm_max_intensity", mm["max_intensity"], "counts", "microscope-metrics (blurred, centre region)")
    for region in MM_REGIONS:
        add(
            f"mm_{region}_intensity_mean",
            mm["region_mean"][region],
            "counts",
            "microscope-metrics region mean",
        )
        add(
            f"mm_{region}_intensity_ratio",
            mm["region_ratio"][region],
            None,
            "microscope-metrics region mean / max",
        )
    # model-based
    add(
        "illumination_centre_y_px",
        cy,
        "px",
        f"centre of the fitted {s.model} illumination model",
        fit["centre_se"][0],
    )
    add(
        "illumination_centre_x_px",
        cx,
        "px",
        f"centre of the fitted {s.model} illumination model",
        fit["centre_se"][1],
    )
    add(
        "illumination_centre_offset_percent",
        100 * offset / half_diag,
        "percent",
        "distance of the illumination centre from the image centre / half diagonal",
        100 * offset_se / half_diag,
    )
    add(
        "corner_falloff_percent",
        float(np.mean(falloff)),
        "percent",
        "mean over the 4 corners of 1 − model(corner)/model peak",
    )
    add("corner_falloff_max_percent", float(np.max(falloff)), "percent", "worst corner")
    add("model_r2", fit["r2"], None, "R² of the illumination model on the binned image")
    if fit["fwhm_px"] is not None:
        add(
            "illumination_fwhm_y_px",
            fit["fwhm_px"][0],
            "px",
            "FWHM of the Gaussian illumination model along y",
        )
        add(
            "illumination_fwhm_x_px",
            fit["fwhm_px"][1],
            "px",
            "FWHM of the Gaussian illumination model along x",
        )
    add(
        "defect_count",
        n_defects,
        None,
        f"dust specks / slide defects: residual beyond {s.dust_threshold_sigma:g} robust SD",
    )
    add(
        "defect_area_percent",
        100.0 * int(defects_mask.sum()) / n_inside,
        "percent",
        "area of dust and defects (share of the analysed area)",
    )
    add("residual_cv_percent", residual_cv, "percent", "CV after flat-field correction with the model")
    if s.pixel_size_um:
        add(
            "illumination_centre_offset_um",
            offset * s.pixel_size_um,
            "um",
            "distance of the illumination centre from the image centre",
            offset_se * s.pixel_size_um,
        )
    result.verdicts += [
        Verdict.check(
            "uniformity_percent",
            mj["uniformity_percent"],
            s.tolerance_uniformity_percent,
            ">=",
            _src(s, "tolerance_uniformity_percent", "default (MetroloJ_QC; Faklaris et al. 2022)"),
            c,
        ),
        Verdict.check(
            "centering_accuracy_percent",
            mj["centering_accuracy_percent"],
            s.tolerance_centering_percent,
            ">=",
            _src(s, "tolerance_centering_percent", "default (MetroloJ_QC)"),
            c,
        ),
        Verdict.check(
            "saturated_percent",
            sat_pct,
            s.max_saturated_percent,
            "<=",
            _src(s, "max_saturated_percent", "default (no saturated pixel)"),
            c,
        ),
    ]
    centres = {
        "image centre": ((h - 1) / 2, (w - 1) / 2),
        "reference zone centroid": mj["reference_zone_centroid"],
        "fitted illumination centre": (float(cy), float(cx)),
        "centre of intensity": mj["centre_of_intensity"],
        "maximum": mj["max_position"],
    }
    profiles = _profiles(img, blurred.astype(np.float32), model, analysed)
    if analysed is not None and c == 0:
        if mj["excluded_points"]:
            result.warnings.append(
                "The mask excludes "
                + ", ".join(mj["excluded_points"])
                + ": "
                + ", ".join(f"relative_intensity_{p}" for p in mj["excluded_points"])
                + " and field_uniformity_percent (defined on all 4 corners and 4 edge midpoints) are NaN; "
                "corner_falloff_percent uses the illumination model, extrapolated over excluded corners."
            )
        cut = [n for n, pr in profiles.items() if np.isnan(pr["raw"]).any()]
        if cut:
            result.warnings.append(
                "Profiles "
                + ", ".join(cut)
                + " cross excluded pixels: their raw and blurred values are NaN there."
            )
    return ChannelField(
        channel=c,
        name=name,
        blurred=blurred.astype(np.float32),
        iso_map=mj["iso_map"],
        reference_zone=mj["reference_zone"],
        model=model,
        residual=residual,
        defects=defects.astype(np.int32),
        flat_field=flat_field,
        profiles=profiles,
        centres=centres,
        mm_regions=mm["regions"],
        analysed=analysed,
    )


def _src(s: FieldSettings, name: str, default_text: str) -> str:
    default = next(f.default for f in fields(s) if f.name == name)
    return default_text if getattr(s, name) == default else "user"

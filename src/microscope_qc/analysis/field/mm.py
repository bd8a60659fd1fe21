"""microscope-metrics-compatible field-illumination numbers: centre region, centres, nine regions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microscope_qc.analysis.field.metroloj import _centroid
from microscope_qc.filters import gaussian_filter
from microscope_qc.fitting import GaussianModel, fit_gaussians

__all__ = ["MM_REGIONS", "mm_blur", "microscope_metrics_field"]

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


def mm_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """microscope-metrics' blur: scikit-image's gaussian (edges extended, truncate 4), in single precision.

    Parameters
    ----------
    image : numpy.ndarray
        The image.
    sigma : float
        Standard deviation of the Gaussian in pixels.

    Returns
    -------
    numpy.ndarray of float32
        The blurred image.
    """
    return gaussian_filter(np.asarray(image, dtype=np.float32), sigma, truncate=4.0)


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

    Parameters
    ----------
    image
        2D image (dark-subtracted when a dark was given).
    sigma
        Blur σ in pixels (0: no blur).
    corner_fraction
        Region side as a fraction of the mean image side.
    blurred
        The image already blurred with :func:`mm_blur` (saves recomputing it).

    Returns
    -------
    dict
        microscope-metrics' key values (``center_of_mass``, ``center_fitted``,
        ``max_intensity_pos``, ``region_mean``, ``region_ratio``, ...) and the ``regions`` slices.
    """
    img = np.asarray(image)
    h, w = img.shape
    if blurred is not None:
        proc = blurred
    else:
        proc = mm_blur(img, sigma) if sigma else img.astype(np.float32)
    top = float(proc.max())
    norm = proc * np.float32(1.0 / top)
    norm_max = norm.max()
    area_fraction, level_fraction = 1.0, None
    centroid = max_pos = (math.nan, math.nan)
    max_in_region = math.nan
    for n_bins in (11, 21, 51, 101, 201, 501):
        if area_fraction < 0.2:
            break
        # a pixel's level is int(clip(norm·n, 0, n)), microscope-metrics' rescaling; the levels are monotonic in
        # norm·n, so the two highest levels present (level 0 not counted) and their pixels follow from
        # comparisons of norm·n, without a level image and its histogram
        scaled = norm * np.float32(n_bins)
        first = int(min(max(norm_max * np.float32(n_bins), 0), n_bins))  # the level of the maximum
        below = scaled.max(where=scaled < first, initial=-np.inf)  # the highest value of a lower level
        second = int(min(below, n_bins)) if below >= 1 else first
        region = scaled >= first if second == first else (scaled >= second) & (scaled < second + 1)
        area_fraction = float(np.count_nonzero(region)) / img.size
        level_fraction = 1 / (n_bins - 1)
        centroid = _centroid(region)
        max_in_region = float(proc[region].max())
        max_pos = _centroid(scaled >= first)
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

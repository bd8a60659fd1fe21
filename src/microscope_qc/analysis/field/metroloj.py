"""MetroloJ_QC-compatible field-illumination numbers: iso-intensity map, U, FU, CA, centres, profiles."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microscope_qc.analysis.field.result import ChannelField
from microscope_qc.filters import interpolate_linear
from microscope_qc.results import AnalysisError
from microscope_qc.tables import ColumnTable

__all__ = [
    "PROFILE_NAMES",
    "EDGE_POINTS",
    "iso_intensity_map",
    "metroloj_field_metrics",
    "metroloj_report_centres",
]

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


def iso_intensity_map(
    image: np.ndarray, step_percent: float = 10.0, mask: np.ndarray | None = None
) -> np.ndarray:
    """MetroloJ_QC iso-intensity classes: floor(floor(100·I/max/step)·step), in percent (int16).

    With a mask (True = analysed), max is taken over the analysed pixels and excluded pixels get
    no class: −1.

    Parameters
    ----------
    image
        2D image (MetroloJ_QC blurs it first).
    step_percent
        Width of a class in percent of the maximum.
    mask
        Optional boolean (Y, X), True = analysed pixel.

    Returns
    -------
    numpy.ndarray
        int16 classes 0, step, ..., 100; −1 outside the mask.

    Raises
    ------
    AnalysisError
        No positive intensity.
    """
    peak = float(image.max() if mask is None else image[mask].max())
    if peak <= 0:
        raise AnalysisError("The image has no positive intensity (after dark subtraction).")
    # floor(floor(100·I/max/step)·step), clipped to 0..100, in bands of rows (the temporaries stay in cache)
    iso = np.empty(image.shape, np.int16)
    for r0 in range(0, image.shape[0], 64):
        t = np.multiply(image[r0 : r0 + 64], 100.0)
        t /= peak
        t /= step_percent
        np.floor(t, out=t)
        t *= step_percent
        np.floor(t, out=t)
        iso[r0 : r0 + 64] = np.clip(t, 0, 100, out=t)
    if mask is not None:
        iso[~mask] = -1
    return iso


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    """Unweighted centroid (y, x) of a boolean mask, from its row and column counts (no index arrays)."""
    rows, cols = mask.sum(axis=1), mask.sum(axis=0)
    n = float(rows.sum())
    return float(rows @ np.arange(mask.shape[0]) / n), float(cols @ np.arange(mask.shape[1]) / n)


def _edge_points(shape: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """The pixel (y, x) of each of :data:`EDGE_POINTS`: the 4 corners and 4 edge midpoints."""
    h, w = shape
    rows = {"top": 0, "middle": h // 2, "bottom": h - 1}
    cols = {"left": 0, "centre": w // 2, "right": w - 1}
    return {name: (rows[name.split("_")[0]], cols[name.split("_")[1]]) for name in EDGE_POINTS}


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

    Parameters
    ----------
    image
        2D image, already blurred as MetroloJ_QC does.
    step_percent
        Iso-intensity step in percent.
    mask
        Optional boolean (Y, X), True = analysed pixel.

    Returns
    -------
    dict
        ``uniformity_percent``, ``field_uniformity_percent``, ``centering_accuracy_percent``,
        ``reference_zone_centroid``, ``reference_zone_area_percent``, ``centre_of_intensity``,
        ``max_position``, ``relative_intensity`` (per :data:`EDGE_POINTS`), ``excluded_points``,
        ``iso_map``, ``reference_zone``.

    Raises
    ------
    AnalysisError
        No positive intensity.
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


def metroloj_report_centres(
    image: np.ndarray, step_percent: float = 10.0, mask: np.ndarray | None = None, integer: bool = False
) -> dict[str, Any]:
    """The two centres MetroloJ_QC's field-illumination report prints, to its definitions.

    MetroloJ_QC (``fieldIllumination.java``) blurs the image in its own pixel type, so an 8- or
    16-bit image holds whole counts again after the blur (ImageJ rounds half up); ``integer=True``
    does the same to the (already blurred) ``image``. Then:

    * "Last maximum intensity pixel": it scans row by row (y outer, x inner) and keeps the *last*
      pixel equal to the image maximum;
    * "Centre of the 100% reference zone" (its zone without the 90–100 % option): the centroid of the
      pixels whose iso-intensity class floor(floor(100·I/max/step)·step) reaches 100 — the pixels at the
      maximum, which on a saturated image are the saturated plateau.

    Positions are (y, x) in pixels, numpy convention (a pixel's centre at its index). MetroloJ_QC
    prints the same numbers for the maximum (pixel indices) and x + 0.5, y + 0.5 for the zone
    centroid (ImageJ measures centroids from pixel corners).

    Parameters
    ----------
    image
        2D image, already blurred as MetroloJ_QC does.
    step_percent
        Iso-intensity step in percent (a step that does not divide 100 leaves the 100 % zone empty,
        as in MetroloJ_QC: its centroid is then NaN).
    mask
        Optional boolean (Y, X), True = analysed pixel: only analysed pixels count.
    integer
        Round the values to whole counts first (floor(I + 0.5)), as ImageJ does for 8/16-bit images.

    Returns
    -------
    dict
        ``max_position`` (y, x), ``top_zone_centroid`` (y, x) and ``top_zone_pixels`` (how many
        pixels the 100 % zone holds).
    """
    img = np.asarray(image)
    if img.dtype.kind != "f":
        img = img.astype(np.float64)
    if integer:  # exact in float32 up to 2^23 counts
        img = np.floor(img + img.dtype.type(0.5))
    values = img if mask is None else np.where(mask, img, -np.inf)
    flat = values.ravel()
    last = flat.size - 1 - int(np.argmax(flat[::-1]))  # the last pixel, in scan order, at the maximum
    peak = float(flat[last])
    if not math.isfinite(peak) or peak <= 0:
        return {
            "max_position": (math.nan, math.nan),
            "top_zone_centroid": (math.nan, math.nan),
            "top_zone_pixels": 0,
        }
    # MetroloJ_QC's class in its order of operations, (int)((int)(I / max · 100 / step) · step); only
    # pixels within 1 % of the maximum can reach the 100 % class, so only they are classed
    near = values >= 0.99 * peak
    ratio = values[near].astype(np.float64) / peak
    zone = np.zeros(img.shape, bool)
    zone[near] = np.floor(np.floor(ratio * 100.0 / step_percent) * step_percent) >= 100
    n = int(zone.sum())
    return {
        "max_position": tuple(float(v) for v in np.unravel_index(last, img.shape)),
        "top_zone_centroid": _centroid(zone) if n else (math.nan, math.nan),
        "top_zone_pixels": n,
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
            "raw": interpolate_linear(np.asarray(image, dtype=np.float32), coords),
            "blurred": interpolate_linear(blurred, coords),
        }
        if model is not None:
            entry["model"] = interpolate_linear(model, coords)
        if mask is not None:
            outside = interpolate_linear(mask.astype(np.float32), coords) < 0.999
            entry["raw"][outside] = np.nan
            entry["blurred"][outside] = np.nan
        out[name] = entry
    return out


def _profiles_table(channels: list[ChannelField]) -> ColumnTable:
    """The four profiles of every channel in long form: channel, profile, distance, raw, blurred, model.

    Columns and dtypes as pandas would concatenate the per-profile tables (float32 values stay
    float32; a missing model is NaN in float64, which makes the column float64).
    """
    parts = [(chan.channel, name, p) for chan in channels for name, p in chan.profiles.items()]

    def joined(key: str) -> np.ndarray:
        return np.concatenate([p[key] if key in p else np.full(len(p["raw"]), np.nan) for _, _, p in parts])

    lengths = [len(p["raw"]) for _, _, p in parts]
    return ColumnTable(
        {
            "channel": np.repeat(np.array([c for c, _, _ in parts], dtype=np.int64), lengths),
            "profile": np.repeat(np.array([n for _, n, _ in parts], dtype=object), lengths),
            "distance_px": joined("distance_px"),
            "raw": joined("raw"),
            "blurred": joined("blurred"),
            "model": joined("model"),
        }
    )

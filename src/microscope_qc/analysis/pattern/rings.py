"""One channel of a field of rings: spots found, localised, indexed on the grid, the grid models fitted, summarised."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from microscope_qc.analysis.pattern.grid import GridModel, Lattice, find_lattice, fit_grid_models
from microscope_qc.analysis.pattern.settings import PatternSettings
from microscope_qc.analysis.pattern.summary import channel_metrics
from microscope_qc.detection import DetectionSettings, detect_beads, extract_boxes
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA
from microscope_qc.results import AnalysisError, Metric

__all__ = ["ChannelRings", "analyze_rings", "detect_spots", "SpotsNotAGrid", "MIN_GRID_SPOTS"]

#: the fewest spots on the grid an analysis accepts (3 × 3)
MIN_GRID_SPOTS = 9
#: a spot whose residual from the grid model exceeds this many robust SDs (and a tenth of the pitch) is an outlier
OUTLIER_SD = 6.0
#: spots whose Gaussian fit explains less of their box are "fit failed"
MIN_R2 = 0.2


class SpotsNotAGrid(AnalysisError):
    """Spots were found, but they do not form a regular grid (scattered beads, dirt, another pattern)."""


@dataclass
class ChannelRings:
    """What :func:`analyze_rings` finds in one channel."""

    channel: int
    spots: pd.DataFrame
    missing: pd.DataFrame
    models: pd.DataFrame
    grid: GridModel
    fitted: dict[str, GridModel]
    metrics: list[Metric]
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def detect_spots(
    plane: np.ndarray, pixel_size_um: tuple[float, float], s: PatternSettings
) -> tuple[dict[str, np.ndarray], float, bool]:
    """Spots of one plane with the shared detector, and the Gaussian σ (pixels) they were detected with.

    Without ``spot_fwhm_um`` the σ is measured: the brightest spots found with σ = 1.5 px are fitted,
    and the detection is repeated with their median σ when it differs by more than a third. When the
    spots found then do not sit on a grid (a ring resolved into a circle has several maxima), the
    detection is repeated with a filter 2, 4 and 8 times broader, which merges each ring into one spot.

    Parameters
    ----------
    plane : numpy.ndarray
        (Y, X) image.
    pixel_size_um : tuple of float
        (y, x) pixel size.
    s : PatternSettings
        The settings (spot size, detection threshold).

    Returns
    -------
    detections, sigma_px, resolved
        :func:`~microscope_qc.detection.detect_beads`' output, the σ used, and whether the rings are
        resolved (the broader filter was needed).
    """
    img = plane[None].astype(np.float32, copy=False)
    dx = float(np.sqrt(pixel_size_um[0] * pixel_size_um[1]))
    sigma = s.spot_fwhm_um / FWHM_PER_SIGMA / dx if s.spot_fwhm_um else 1.5

    def run(sig: float) -> dict[str, np.ndarray]:
        ds = DetectionSettings(
            sigma_px=sig,
            threshold_sigma=s.detection_threshold_sigma,
            min_distance_px=max(2, int(round(1.5 * sig))),
            background_block_px=max(32, int(8 * sig)),
            halo_sigma=0.0,  # one plane: no defocus halo to reject
        )
        return detect_beads(img, ds)

    det = run(sigma)
    if s.spot_fwhm_um is None and len(det["x"]) >= 3:
        top = np.argsort(-det["height"])[:50]
        half = max(3, int(math.ceil(4 * sigma)))
        boxes, valid = extract_boxes(
            img, np.zeros(len(top), int), det["y"][top], det["x"][top], (0, half, half)
        )
        inside = valid.all(axis=(1, 2, 3))
        if inside.sum() >= 3:
            b = boxes[inside, 0].reshape(int(inside.sum()), -1).astype(float)
            fit = fit_gaussians(GaussianModel(2, full=False), b, (2 * half + 1,) * 2, sigma)
            ok = fit.success & ~fit.at_bound
            if ok.sum() >= 3:
                est = float(np.median(1.0 / np.sqrt(np.abs(fit.params[ok, 4] * fit.params[ok, 5]))))
                if not 0.67 < est / sigma < 1.5:
                    sigma = float(np.clip(est, 0.7, 50.0))
                    det = run(sigma)
    if s.spot_fwhm_um is not None or _on_a_grid(det, plane.shape, pixel_size_um):
        return det, sigma, False
    # a ring resolved into a circle gives several maxima: a broader filter merges them into one spot
    for factor in (2.0, 4.0, 8.0):
        wider = run(factor * sigma)
        if len(wider["x"]) < MIN_GRID_SPOTS:
            break
        if _on_a_grid(wider, plane.shape, pixel_size_um):
            return wider, factor * sigma, True
    return det, sigma, False


def _on_a_grid(
    det: dict[str, np.ndarray], shape: tuple[int, ...], pixel_size_um: tuple[float, float]
) -> bool:
    """Whether at least half of the detected spots (and 9 or more) sit on one lattice."""
    n = len(det["x"])
    if n < MIN_GRID_SPOTS:
        return False
    dy, dx = pixel_size_um
    pts = np.column_stack([det["x"] * dx, det["y"] * dy]).astype(float)
    try:
        lat = find_lattice(pts, ((shape[1] - 1) * dx / 2, (shape[0] - 1) * dy / 2))
    except AnalysisError:
        return False
    return bool(lat.on_grid.sum() >= max(MIN_GRID_SPOTS, 0.5 * n))


def _localise(
    plane: np.ndarray,
    det: dict[str, np.ndarray],
    sigma: float,
    pitch_px: float,
    pixel_size_um: tuple[float, float],
) -> pd.DataFrame:
    """Fit a 2D Gaussian (full covariance) to every spot; position, FWHM and intensity with standard errors."""
    dy, dx = pixel_size_um
    d_geo = math.sqrt(dx * dy)
    ys, xs = det["y"], det["x"]
    n = len(xs)
    half = int(max(3, min(math.ceil(3.5 * sigma), math.floor(0.45 * pitch_px))))
    L = 2 * half + 1
    h, w = plane.shape
    edge = (ys - half < 0) | (ys + half >= h) | (xs - half < 0) | (xs + half >= w)
    boxes, _ = extract_boxes(plane[None], np.zeros(n, int), ys, xs, (0, half, half), dtype=np.float64)
    model = GaussianModel(2, full=True)
    fit = fit_gaussians(model, boxes[:, 0].reshape(n, -1), (L, L), sigma)

    def derived(p: np.ndarray) -> np.ndarray:
        det_l = np.abs(p[:, 4] * p[:, 6])  # |L00·L11| = 1/σ_geo²
        return np.column_stack(
            [p[:, 3], p[:, 2], FWHM_PER_SIGMA / np.sqrt(det_l), p[:, 0] * 2 * math.pi / det_l]
        )

    vals, se = delta_method(derived, fit.params, fit.covariance)
    # a ring resolved into a circle fits a Gaussian poorly (R² about 0.3) but its centre is exact by symmetry
    bad = ~fit.success | fit.at_bound | ~(fit.r2 >= MIN_R2)
    status = np.where(edge, "edge", np.where(bad, "fit failed", "found"))
    return pd.DataFrame(
        {
            "status": status,
            "x_um": (xs - half + vals[:, 0]) * dx,
            "y_um": (ys - half + vals[:, 1]) * dy,
            "x_se_um": se[:, 0] * dx,
            "y_se_um": se[:, 1] * dy,
            "fwhm_um": vals[:, 2] * d_geo,
            "fwhm_se_um": se[:, 2] * d_geo,
            "intensity": vals[:, 3],
            "r2": fit.r2,
        }
    )


def _lattice(points: np.ndarray, centre: tuple[float, float], n_found: int) -> Lattice:
    try:
        lat = find_lattice(points, centre)
    except AnalysisError as exc:
        raise SpotsNotAGrid(
            f"{exc} Is this an image of a pattern slide's field of rings? For scattered beads use the PSF "
            "or co-registration measurement."
        ) from None
    n_on = int(lat.on_grid.sum())
    if n_on < max(MIN_GRID_SPOTS, 0.5 * n_found):
        raise SpotsNotAGrid(
            f"The {n_found} spots found do not form a regular grid (only {n_on} sit on one lattice). Is this an "
            "image of a pattern slide's field of rings? For scattered beads use the PSF or co-registration "
            "measurement."
        )
    return lat


def _check_pitch(measured: float, s: PatternSettings, dx: float) -> None:
    nominal = s.nominal_pitch_um
    if nominal is None:
        return
    off = 100 * (measured / nominal - 1)
    if abs(off) > s.pitch_tolerance_percent:
        raise AnalysisError(
            f"The grid's pitch is {measured:.3f} µm; the nominal pitch {nominal:g} µm differs by {off:+.1f} % "
            f"(more than {s.pitch_tolerance_percent:g} %). Check {{nominal_pitch_um}} against the slide's "
            f"documentation, and the pixel size ({dx:g} µm): give the right one ({{voxel_size_um}})."
        )


def _maps(
    spots: pd.DataFrame, shape: tuple[int, int], pixel_size_um: tuple[float, float], grid: GridModel
) -> tuple[dict[str, np.ndarray], tuple[float, float, float, float]]:
    """Distortion, FWHM and intensity interpolated between the spots on a coarse grid over the field."""
    from microscope_qc.analysis.psf.interpolation import interpolate_linear

    h, w = shape
    dy, dx = pixel_size_um
    width, height = (w - 1) * dx, (h - 1) * dy
    cell = max(width, height) / 96
    gx = np.linspace(0, width, max(2, int(round(width / cell)) + 1))
    gy = np.linspace(0, height, max(2, int(round(height / cell)) + 1))
    on = spots[spots.status == "on grid"]
    vals = on[["distortion_x_um", "distortion_y_um", "fwhm_um", "intensity"]].to_numpy(float)
    from scipy.spatial import Delaunay  # Qhull's choice among the lattice's cocircular triangulations

    pts = on[["y_um", "x_um"]].to_numpy(float)
    maps = interpolate_linear(pts, vals, gy, gx, simplices=Delaunay(pts).simplices)
    # the model's distortion everywhere in the field (beyond the outermost spots too)
    qx, qy = np.meshgrid(gx, gy)
    q = np.column_stack([qx.ravel(), qy.ravel()])
    u = grid.inverse(q)
    model_dist = (q - grid.ideal(u)).reshape(len(gy), len(gx), 2)
    out = {
        "distortion": maps[..., :2],
        "distortion_model": model_dist,
        "fwhm": maps[..., 2],
        "intensity": maps[..., 3],
    }
    return out, (0.0, width, 0.0, height)


def analyze_rings(
    plane: np.ndarray, pixel_size_um: tuple[float, float], s: PatternSettings, channel: int = 0
) -> ChannelRings:
    """Analyse one channel's image of a field of rings.

    Parameters
    ----------
    plane : numpy.ndarray
        (Y, X) image.
    pixel_size_um : tuple of float
        (y, x) pixel size.
    s : PatternSettings
        The settings.
    channel : int
        The image's channel number (for the tables and metrics).

    Returns
    -------
    ChannelRings
        Spots, missing positions, grid models, metrics and maps.

    Raises
    ------
    AnalysisError
        No spots, spots not on a grid (:class:`SpotsNotAGrid`), a pitch far from the nominal one.
    """
    plane = np.asarray(plane, dtype=np.float64)
    h, w = plane.shape
    dy, dx = pixel_size_um
    centre = ((w - 1) * dx / 2, (h - 1) * dy / 2)
    radius = math.hypot(w * dx, h * dy) / 2
    det, sigma, resolved = detect_spots(plane, pixel_size_um, s)
    n_det = len(det["x"])
    if n_det < MIN_GRID_SPOTS:
        raise SpotsNotAGrid(
            f"{n_det} spot(s) found in channel {channel}: no pattern of rings or spots (a grid needs at least "
            f"{MIN_GRID_SPOTS}). Is the slide in focus and the right field imaged? Lower "
            "{detection_threshold_sigma} for faint spots."
        )
    # the pitch from the detected peaks first: the fit boxes must not reach the neighbours
    peaks = np.column_stack([det["x"] * dx, det["y"] * dy]).astype(float)
    pre = _lattice(peaks, centre, n_det)
    _check_pitch(pre.pitch_um, s, dx)
    warnings: list[str] = []
    fit_plane = plane
    if resolved:
        # a resolved ring is not a Gaussian; smoothed by the detection filter it is a blob whose centre
        # (by symmetry) is the ring's
        from scipy import ndimage

        fit_plane = ndimage.gaussian_filter(plane, sigma / 2, mode="nearest")
        warnings.append(
            f"Channel {channel}: the rings are resolved (circles, not spots); their centres were fitted on the "
            f"image smoothed by a Gaussian of σ = {sigma / 2:.1f} px, so the positions' standard errors are lower "
            "bounds (smoothing correlates the noise) and the spot FWHM includes the smoothing."
        )
    spots = _localise(fit_plane, det, sigma, pre.pitch_um / math.sqrt(dx * dy), pixel_size_um)
    spots.insert(0, "channel", channel)
    spots.insert(1, "spot", np.arange(n_det))
    good = (spots.status == "found").to_numpy()
    pts = spots[["x_um", "y_um"]].to_numpy(float)
    lat = _lattice(pts[good], centre, int(good.sum()))
    index = np.zeros((n_det, 2), int)
    on = np.zeros(n_det, bool)
    index[good], on[good] = lat.index, lat.on_grid
    # two spots claiming one grid position: neither is trusted
    keys = pd.Series(
        [f"{i},{j}" if o else f"-{k}" for k, ((i, j), o) in enumerate(zip(index, on, strict=True))]
    )
    on &= ~keys.duplicated(keep=False).to_numpy()
    status = spots.status.to_numpy().astype(object)
    status[good & ~on] = "off grid"
    pitch_ref = s.nominal_pitch_um or lat.pitch_um
    for _ in range(3):  # fit, drop outliers (dirt next to a spot, a wrong index), refit
        u = index[on] * pitch_ref
        grid, fitted = fit_grid_models(u, pts[on], s.model, centre, radius, pitch_ref)
        r = np.hypot(*(pts[on] - grid.map(u)).T)
        sd = 1.4826 * float(np.median(r)) + 1e-9
        out = r > max(OUTLIER_SD * sd, 0.1 * lat.pitch_um)
        if not out.any():
            break
        idx = np.flatnonzero(on)[out]
        on[idx] = False
        status[idx] = "outlier"
    status[on] = "on grid"
    spots["status"] = status
    spots["grid_i"] = np.where(on, index[:, 0], -1)
    spots["grid_j"] = np.where(on, index[:, 1], -1)
    u_all = index * pitch_ref
    ideal = grid.ideal(u_all)
    modelled = grid.map(u_all)
    for ax, k in (("x", 0), ("y", 1)):
        spots[f"ideal_{ax}_um"] = np.where(on, ideal[:, k], np.nan)
        spots[f"distortion_{ax}_um"] = np.where(on, pts[:, k] - ideal[:, k], np.nan)
        spots[f"residual_{ax}_um"] = np.where(on, pts[:, k] - modelled[:, k], np.nan)
    spots["distortion_um"] = np.hypot(spots.distortion_x_um, spots.distortion_y_um)
    spots["residual_um"] = np.hypot(spots.residual_x_um, spots.residual_y_um)
    missing = _missing(index[on], grid, pitch_ref, (h, w), pixel_size_um, channel)
    n_i = int(index[on, 0].max() - index[on, 0].min() + 1)
    n_j = int(index[on, 1].max() - index[on, 1].min() + 1)
    if (s.grid_cols and n_i > s.grid_cols) or (s.grid_rows and n_j > s.grid_rows):
        warnings.append(
            f"Channel {channel}: the grid found spans {n_i} × {n_j} positions, more than the slide's "
            f"{s.grid_cols or '?'} × {s.grid_rows or '?'}: spots outside the slide's grid were matched to it."
        )
    models = pd.DataFrame(
        [
            {
                "channel": channel,
                "model": k,
                "bic": grid.bic.get(k, math.nan),
                "residual_rms_um": math.sqrt(g.rss_um2 / max(g.n_spots, 1)),
                "chosen": k == grid.kind,
            }
            for k, g in fitted.items()
        ]
    )
    maps, extent = _maps(spots, (h, w), pixel_size_um, grid)
    metrics = channel_metrics(spots, grid, fitted, lat, s, radius, channel, int(on.sum()), len(missing), maps)
    ch = ChannelRings(channel, spots, missing, models, grid, fitted, metrics, maps, warnings)
    ch.maps["extent"] = np.asarray(extent)
    return ch


def _missing(
    index: np.ndarray,
    grid: GridModel,
    pitch_ref: float,
    shape: tuple[int, int],
    pixel_size_um: tuple[float, float],
    channel: int,
) -> pd.DataFrame:
    """Grid positions inside the found grid's index range and the field that have no spot."""
    i0, j0 = index.min(axis=0)
    i1, j1 = index.max(axis=0)
    jj, ii = np.mgrid[j0 : j1 + 1, i0 : i1 + 1]
    allidx = np.column_stack([ii.ravel(), jj.ravel()])
    have = {(int(a), int(b)) for a, b in index}
    absent = np.array([k for k in allidx.tolist() if tuple(k) not in have], dtype=int).reshape(-1, 2)
    p = grid.map(absent * pitch_ref) if len(absent) else np.zeros((0, 2))
    h, w = shape
    dy, dx = pixel_size_um
    margin = 0.5 * pitch_ref
    inside = (
        (p[:, 0] >= margin)
        & (p[:, 0] <= (w - 1) * dx - margin)
        & (p[:, 1] >= margin)
        & (p[:, 1] <= (h - 1) * dy - margin)
    )
    return pd.DataFrame(
        {
            "channel": channel,
            "grid_i": absent[inside, 0],
            "grid_j": absent[inside, 1],
            "x_um": p[inside, 0],
            "y_um": p[inside, 1],
        }
    )

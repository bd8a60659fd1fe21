"""Chromatic co-registration from multi-colour beads (QUAREP-LiMi WG4, ISO 21073).

Beads are localised in every channel with the PSF pipeline (the shared detector and fitting
engine: sub-voxel centres with standard errors, every candidate's status), matched between
channels, and each channel pair is summarised:

* shifts Δx, Δy, Δz with standard errors, the 3D distance, the ISO lateral and axial distances, and
  MetroloJ_QC's ratio d / r_ref with the corrected (2024) ellipsoid reference radius (METRICS.md §4);
* a field-dependent registration model — translation, affine (magnification difference, rotation,
  shear; axial offset and tilt) or second-order polynomial — chosen by the Bayesian information
  criterion, with per-bead residuals and the significance of each term; the model is exportable
  and can be applied to correct an image.

``single_bead=True`` reproduces MetroloJ_QC's co-alignment on one large multi-labelled bead.

Coordinates: µm, (x, y, z), origin at the centre of voxel (0, 0, 0) (numpy/napari convention).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from microscope_qc.analysis.psf import REASONS, PSFSettings, analyze_psf, position_indices
from microscope_qc.detection import DetectionSettings, detect_beads, extract_boxes, snap_to_peaks
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import (
    FWHM_PER_SIGMA,
    MicroscopeSettings,
    Setting,
    SettingsError,
    Source,
    metroloj_resolution,
)
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
    "CoregistrationSettings",
    "CoregistrationResult",
    "RegistrationModel",
    "analyze_coregistration",
    "metroloj_ratio",
    "fit_registration",
    "correct_image",
    "Positions",
]

MODELS = ("translation", "affine", "poly2")
#: bead positions given by the user: one (N, 3) z, y, x (or (N, 2) y, x) array of voxel indices for every
#: channel, or one array per channel index (channels left out are detected automatically)
Positions: TypeAlias = "np.ndarray | Mapping[int, np.ndarray] | None"
#: what every localisation table has, whichever way the beads were found
_LOCALISATION_COLUMNS = (
    "status",
    "reason",
    "reason_detail",
    "x_um",
    "y_um",
    "z_um",
    "x_se_um",
    "y_se_um",
    "z_se_um",
    "origin",
)


@dataclass
class CoregistrationSettings:
    """Parameters of :func:`analyze_coregistration`; lengths in µm."""

    microscope: MicroscopeSettings = field(default_factory=MicroscopeSettings)
    reference_channel: int = 0
    match_gate_um: float | None = (
        None  # default: 2 × theoretical lateral FWHM of the longer wavelength (PSFj)
    )
    model: str = "auto"  # "auto" (lowest BIC), "translation", "affine" or "poly2"
    tolerance_ratio: float = 1.0
    single_bead: bool = False
    detection_threshold_sigma: float = 6.0
    box_xy_um: float | None = None

    def analysis_settings(self) -> dict[str, Setting]:
        out = {}
        for f in fields(self):
            if f.name == "microscope":
                continue
            value = getattr(self, f.name)
            out[f.name] = Setting(
                value,
                "um" if f.name.endswith("_um") else None,
                Source.DEFAULT if value == f.default else Source.USER,
            )
        return out


# ------------------------------------------------------------------------------------ the ratio


def metroloj_ratio(dx: float, dy: float, dz: float, rx: float, ry: float, rz: float) -> tuple[float, float]:
    """MetroloJ_QC co-alignment ratio d / r_ref with the corrected (2024) reference distance.

    r_ref = rx·ry·rz / sqrt((ry·rz·cosφ·sinθ)² + (rx·rz·sinφ·sinθ)² + (rx·ry·cosθ)²), with
    φ = acos(Δx/sqrt(Δx² + Δy²)) and θ = acos(Δz/d): the radius of the resolution ellipsoid along
    the shift. Returns (ratio, r_ref). A zero shift has ratio 0.
    """
    d = math.sqrt(dx * dx + dy * dy + dz * dz)
    if d == 0:
        return 0.0, float(min(rx, ry, rz))
    lat = math.hypot(dx, dy)
    phi = math.acos(max(-1.0, min(1.0, dx / lat))) if lat > 0 else 0.0
    theta = math.acos(max(-1.0, min(1.0, dz / d)))
    denom = math.sqrt(
        (ry * rz * math.cos(phi) * math.sin(theta)) ** 2
        + (rx * rz * math.sin(phi) * math.sin(theta)) ** 2
        + (rx * ry * math.cos(theta)) ** 2
    )
    r_ref = rx * ry * rz / denom
    return d / r_ref, r_ref


# ------------------------------------------------------------------------------------ registration models


def _design(kind: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list[str]]:
    one = np.ones_like(x)
    if kind == "translation":
        return one[:, None], ["1"]
    if kind == "affine":
        return np.column_stack([one, x, y]), ["1", "x", "y"]
    if kind == "poly2":
        return np.column_stack([one, x, y, x * x, x * y, y * y]), ["1", "x", "y", "x²", "xy", "y²"]
    raise AnalysisError(f"model must be one of auto, {', '.join(MODELS)}; not {kind!r}.")


@dataclass
class RegistrationModel:
    """p_moving = f(p_reference) for one channel pair, per axis a weighted least-squares polynomial
    of the lateral reference position (centred on ``centre_xy_um``): Δ_axis = Σ c·term(x, y).

    ``coefficients[axis]`` are for the *displacement* (moving − reference) along x, y, z in µm;
    terms as named in ``terms``. For an affine model the lateral part is also given as the 2 × 2
    matrix ``A`` and translation ``t`` of p_moving = A·(p − c) + c + t.
    """

    kind: str
    terms: list[str]
    centre_xy_um: tuple[float, float]
    coefficients: dict[str, np.ndarray]
    covariance: dict[str, np.ndarray]
    n_beads: int
    bic: dict[str, float]
    residual_rms_um: dict[str, float]
    reference_channel: int
    moving_channel: int
    has_z: bool

    def displacement(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        X, _ = _design(
            self.kind,
            np.asarray(x, float) - self.centre_xy_um[0],
            np.asarray(y, float) - self.centre_xy_um[1],
        )
        return {axis: X @ c for axis, c in self.coefficients.items()}

    def matrix(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Lateral affine part (A, t) of p_moving = A·(p − c) + c + t, for translation/affine models."""
        if self.kind == "poly2":
            return None
        cx, cy = self.coefficients["x"], self.coefficients["y"]
        if self.kind == "translation":
            return np.eye(2), np.array([cx[0], cy[0]])
        A = np.array([[1 + cx[1], cx[2]], [cy[1], 1 + cy[2]]])
        return A, np.array([cx[0], cy[0]])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "convention": (
                "p_moving = p_reference + Δ(p_reference); positions (x, y, z) in µm with the origin at the centre of voxel "
                "(0, 0, 0); Δ_axis = Σ coefficient · term(x − cx, y − cy) with (cx, cy) = centre_xy_um"
            ),
            "reference_channel": self.reference_channel,
            "moving_channel": self.moving_channel,
            "centre_xy_um": list(self.centre_xy_um),
            "terms": self.terms,
            "coefficients": {k: v.tolist() for k, v in self.coefficients.items()},
            "standard_errors": {k: np.sqrt(np.diag(c)).tolist() for k, c in self.covariance.items()},
            "n_beads": self.n_beads,
            "bic": self.bic,
            "residual_rms_um": self.residual_rms_um,
        }
        m = self.matrix()
        if m is not None:
            out["affine_matrix_xy"] = m[0].tolist()
            out["affine_translation_xy_um"] = m[1].tolist()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegistrationModel:
        coeffs = {k: np.asarray(v, float) for k, v in d["coefficients"].items()}
        ses = d.get("standard_errors", {})
        return cls(
            kind=d["kind"],
            terms=list(d["terms"]),
            centre_xy_um=tuple(d["centre_xy_um"]),
            coefficients=coeffs,
            covariance={
                k: np.diag(np.asarray(ses.get(k, np.zeros_like(v)), float) ** 2) for k, v in coeffs.items()
            },
            n_beads=int(d.get("n_beads", 0)),
            bic=dict(d.get("bic", {})),
            residual_rms_um=dict(d.get("residual_rms_um", {})),
            reference_channel=int(d["reference_channel"]),
            moving_channel=int(d["moving_channel"]),
            has_z="z" in coeffs,
        )


def fit_registration(
    ref_xyz: np.ndarray,
    shift_xyz: np.ndarray,
    shift_se: np.ndarray,
    kind: str,
    centre_xy: tuple[float, float],
    has_z: bool,
) -> tuple[str, dict[str, np.ndarray], dict[str, np.ndarray], dict[str, float], dict[str, np.ndarray]]:
    """Weighted least squares of the displacement per axis; ``kind="auto"`` picks the lowest total BIC.

    Returns (kind, coefficients, covariances, BIC per candidate model, residuals per axis).
    """
    n = len(ref_xyz)
    x = ref_xyz[:, 0] - centre_xy[0]
    y = ref_xyz[:, 1] - centre_xy[1]
    axes = ("x", "y", "z") if has_z else ("x", "y")
    candidates = MODELS if kind == "auto" else (kind,)
    fits: dict[str, tuple] = {}
    bic: dict[str, float] = {}
    for k in candidates:
        X, _ = _design(k, x, y)
        if n < X.shape[1] + 2 and k != "translation":
            continue
        coef, cov, resid, chi2 = {}, {}, {}, 0.0
        for a, axis in enumerate(axes):
            w = 1.0 / np.maximum(shift_se[:, a], 1e-6) ** 2
            Xw = X * np.sqrt(w)[:, None]
            zw = shift_xyz[:, a] * np.sqrt(w)
            c, *_ = np.linalg.lstsq(Xw, zw, rcond=None)
            r = shift_xyz[:, a] - X @ c
            chi = float((r * r * w).sum())
            dof = max(n - X.shape[1], 1)
            # scale by the reduced chi-square when the scatter exceeds the localisation errors
            s2 = max(chi / dof, 1.0)
            coef[axis], cov[axis], resid[axis] = c, s2 * np.linalg.pinv(Xw.T @ Xw), r
            chi2 += chi
        bic[k] = chi2 + len(axes) * X.shape[1] * math.log(max(n, 1))
        fits[k] = (coef, cov, resid)
    if not fits:
        raise AnalysisError(f"{n} matched beads are too few for a {kind} registration model.")
    best = min(bic, key=bic.get)
    coef, cov, resid = fits[best]
    return best, coef, cov, bic, resid


def correct_image(
    image: np.ndarray, model: RegistrationModel, voxel_size_um: tuple[float, float, float], order: int = 1
) -> np.ndarray:
    """Resample a moving channel ((Z, Y, X) or (Y, X)) onto the reference channel's grid.

    Each output voxel at reference position p takes the moving image's value at p + Δ(p).
    """
    img = np.asarray(image, dtype=np.float32)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[None]
    nz, h, w = img.shape
    dz, dy, dx = voxel_size_um
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    disp = model.displacement(xx.ravel() * dx, yy.ravel() * dy)
    src_y = (yy + disp["y"].reshape(h, w) / dy).astype(np.float32)
    src_x = (xx + disp["x"].reshape(h, w) / dx).astype(np.float32)
    dz_map = disp["z"].reshape(h, w) / dz if "z" in disp and nz > 1 else None
    out = np.empty_like(img)
    if dz_map is None:
        for k in range(nz):
            out[k] = ndimage.map_coordinates(img[k], [src_y, src_x], order=order, mode="nearest")
    else:
        zz = np.arange(nz, dtype=np.float32)[:, None, None] + dz_map[None].astype(np.float32)
        coords = np.stack([zz, np.broadcast_to(src_y, zz.shape), np.broadcast_to(src_x, zz.shape)])
        out = ndimage.map_coordinates(img, coords, order=order, mode="nearest").astype(np.float32)
    return out[0] if squeeze else out


# ------------------------------------------------------------------------------------ localisation


@dataclass
class CoregistrationResult(Result):
    """Result of :func:`analyze_coregistration`: localisations, matches, pairs and models."""

    models: dict[tuple[int, int], RegistrationModel] = field(default_factory=dict)
    voxel_size_um: tuple[float, float, float] = (1.0, 1.0, 1.0)
    channel_names: list[str] = field(default_factory=list)

    @property
    def beads(self) -> pd.DataFrame:
        return self.tables["beads"]

    def models_document(self) -> dict[str, Any]:
        """Every pair's registration model, JSON-ready (``registration.json``)."""
        return {f"{i}-{j}": m.to_dict() for (i, j), m in self.models.items()}


def _check(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise AnalysisCancelled("Co-registration analysis cancelled.")


def _snap_radius(theory, voxel) -> tuple[int, int, int]:
    """How far (z, y, x voxels) a given position may move to this channel's bead peak: one theoretical FWHM."""
    dz, dy, dx = voxel
    lat = theory.lateral_um if theory else 0.3
    ax = theory.axial_um if theory else 0.8
    return max(2, math.ceil(ax / dz)), max(2, math.ceil(lat / dy)), max(2, math.ceil(lat / dx))


def _localise_3d(
    stack: np.ndarray,
    ms: MicroscopeSettings,
    c: int,
    s: CoregistrationSettings,
    positions: np.ndarray | None = None,
    theory=None,
) -> pd.DataFrame:
    """Bead centres of one channel with the full PSF pipeline (its checks and statuses).

    Given positions are first moved to this channel's own bead peak nearby (:func:`snap_to_peaks`),
    then go through the PSF pipeline's positions path; (N, 2) y, x positions get their focal plane there.
    """
    if positions is not None:
        zs, ys, xs, outside = position_indices(positions, stack.shape)
        rz, ry, rx = _snap_radius(theory, ms.voxel_size_um)
        if positions.shape[1] == 2:
            _, ys, xs = snap_to_peaks(stack.max(axis=0)[None], np.zeros_like(ys), ys, xs, (0, ry, rx))
            snapped = np.column_stack([ys, xs]).astype(float)
        else:
            snapped = np.column_stack(snap_to_peaks(stack, zs, ys, xs, (rz, ry, rx))).astype(float)
        # outside positions stay as given: the pipeline rejects them with their reason
        positions = np.where(outside[:, None], positions, snapped)
    bead_d = ms.bead_diameter_um or 0.0
    box = s.box_xy_um or (max(2.0, 3.0 * bead_d + 1.0) if bead_d else None)
    ps = PSFSettings(
        microscope=replace(ms, channels=(ms.channels[c],)),
        box_xy_um=box,
        detection_threshold_sigma=s.detection_threshold_sigma,
        outlier_fence=None,  # widths do not matter here, only centres
        average_bead=False,
        min_separation_um=None,
    )
    r = analyze_psf(stack, ps, positions=positions)
    t = r.beads
    return t[[*_LOCALISATION_COLUMNS, "fwhm_x_um", "fwhm_z_um", "r2_xy", "peak_value"]].copy()


def _localise_2d(
    img: np.ndarray,
    ms: MicroscopeSettings,
    c: int,
    s: CoregistrationSettings,
    sigma_px: float,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """Bead centres of one 2D channel: shared detector (or given (N, 2) y, x positions moved to this
    channel's peak nearby), 2D Gaussian fits, outside/edge/saturation/fit checks."""
    _, dy, dx = ms.voxel_size_um
    stack = img[None]
    h, w = img.shape
    if positions is None:
        det = detect_beads(
            stack, DetectionSettings(sigma_px=sigma_px, threshold_sigma=s.detection_threshold_sigma)
        )
        ys, xs = det["y"], det["x"]
        outside = np.zeros(len(xs), dtype=bool)
        origin = "detected"
    else:
        _, ys, xs, outside = position_indices(positions, stack.shape)
        r = max(2, math.ceil(FWHM_PER_SIGMA * sigma_px))
        _, ys, xs = snap_to_peaks(stack, np.zeros_like(ys), ys, xs, (0, r, r))
        origin = "user"
    n = len(xs)
    if n == 0:
        return pd.DataFrame(columns=list(_LOCALISATION_COLUMNS))
    bead_d = ms.bead_diameter_um or 0.0
    half = max(3, int(math.ceil(max(4 * sigma_px, (1.5 * bead_d + 0.5) / max(dx, dy)))))
    L = 2 * half + 1
    reason = np.where(outside, REASONS["outside"], "")
    edge = (ys - half < 0) | (ys + half >= h) | (xs - half < 0) | (xs + half >= w)
    reason = np.where((reason == "") & edge, REASONS["edge"], reason)
    sat = float(np.iinfo(img.dtype).max) if img.dtype.kind in "ui" else math.inf
    boxes, _ = extract_boxes(stack, np.zeros(n, int), ys, xs, (0, half, half), dtype=np.float64)
    boxes = boxes[:, 0]
    reason = np.where((reason == "") & (boxes.max(axis=(1, 2)) >= sat), "saturated", reason)
    m2 = GaussianModel(2, full=True)
    fit = fit_gaussians(m2, boxes.reshape(n, -1), (L, L), sigma_px)
    (vals, se) = delta_method(lambda p: np.column_stack([p[:, 3], p[:, 2]]), fit.params, fit.covariance)
    reason = np.where((reason == "") & (~fit.success | fit.at_bound), "fit failed", reason)
    reason = np.where((reason == "") & ~(fit.r2 >= 0.9), "poor fit", reason)
    cov = m2.covariance(fit.params)
    out = pd.DataFrame(
        {
            "status": np.where(reason == "", "accepted", "rejected"),
            "reason": reason,
            "reason_detail": np.where(outside, f"given position is outside the {h}×{w} image", ""),
            "x_um": (xs - half + vals[:, 0]) * dx,
            "y_um": (ys - half + vals[:, 1]) * dy,
            "z_um": 0.0,
            "x_se_um": se[:, 0] * dx,
            "y_se_um": se[:, 1] * dy,
            "z_se_um": 0.0,
            "origin": origin,
            "fwhm_x_um": FWHM_PER_SIGMA * np.sqrt(cov[:, 1, 1]) * dx,
            "r2_xy": fit.r2,
            "peak_value": boxes.max(axis=(1, 2)),
        }
    )
    # a position outside the image has no centre (its box was cut from the image's corner)
    out.loc[outside, ["x_um", "y_um", "z_um", "x_se_um", "y_se_um", "z_se_um", "fwhm_x_um", "r2_xy"]] = np.nan
    return out


def _localise_single_bead(stack: np.ndarray, voxel) -> pd.DataFrame:
    """Centre of one large bead, as MetroloJ_QC's co-alignment takes it: the centroid of the bead object.

    The object is the largest connected region above half the bead's maximum over the background
    (the median), lightly smoothed; the centroid is weighted by intensity above the background.
    """
    dz, dy, dx = voxel
    img = ndimage.gaussian_filter(stack.astype(np.float32), 1.0)
    background = float(np.median(img))
    thr = background + 0.5 * (float(img.max()) - background)
    labels, n = ndimage.label(img > thr)
    if n == 0:
        raise AnalysisError("No bead above the threshold: is the bead in the image?")
    sizes = ndimage.sum_labels(np.ones_like(img), labels, index=np.arange(1, n + 1))
    k = int(np.argmax(sizes)) + 1
    mask = labels == k
    wts = np.where(mask, img - background, 0.0)
    total = wts.sum()
    zz, yy, xx = np.nonzero(mask)
    wv = wts[mask]
    cz, cy, cx = (float((a * wv).sum() / total) for a in (zz, yy, xx))
    touches = bool(mask[:, 0, :].any() or mask[:, -1, :].any() or mask[:, :, 0].any() or mask[:, :, -1].any())
    return pd.DataFrame(
        {
            "status": ["rejected" if touches else "accepted"],
            "reason": ["box outside XY edge" if touches else ""],
            "reason_detail": ["the bead touches the image edge" if touches else ""],
            "x_um": [cx * dx],
            "y_um": [cy * dy],
            "z_um": [cz * dz if img.shape[0] > 1 else 0.0],
            "x_se_um": [0.0],
            "y_se_um": [0.0],
            "z_se_um": [0.0],
            "origin": ["detected"],
            "peak_value": [float(img[mask].max())],
        }
    )


# ------------------------------------------------------------------------------------ the analysis


def _as_czyx(data: Any) -> np.ndarray:
    if isinstance(data, (list, tuple)):
        shapes = {np.shape(d) for d in data}
        if len(shapes) != 1:
            raise AnalysisError(
                f"The channels have different shapes {sorted(shapes)}; co-registration needs images of the same field "
                "with the same size (crop or bin them alike)."
            )
        data = np.stack([np.asarray(d) for d in data])
    arr = np.asarray(data)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4:
        raise AnalysisError(f"Co-registration takes (C, Z, Y, X) or (C, Y, X) data; got shape {arr.shape}.")
    if arr.shape[0] < 2:
        raise AnalysisError(
            "Co-registration needs at least two channels; this image has one. Open the multichannel file, or give "
            "one image per channel."
        )
    return arr


def _one_positions_array(pos: Any, what: str, is_3d: bool) -> np.ndarray:
    try:
        arr = np.asarray(pos, dtype=float)
    except (TypeError, ValueError):
        raise AnalysisError(
            f"Bead positions {what} must be an (N, 3) array of z, y, x voxel indices (numbers)."
        ) from None
    if arr.size == 0:
        raise AnalysisError(
            f"No bead positions given {what} (an empty list): give at least one (z, y, x) position, "
            "or none at all for automatic detection."
        )
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise AnalysisError(
            f"Bead positions {what} must be (N, 3) z, y, x or (N, 2) y, x voxel indices; got shape {arr.shape}."
        )
    if not is_3d and arr.shape[1] == 3:
        arr = arr[:, 1:]  # one plane: z does not matter
    return arr


def _positions_per_channel(
    positions: Positions, n_ch: int, is_3d: bool
) -> tuple[list[np.ndarray | None], str]:
    """One positions array (or None: detect) per channel, and the mode: automatic, shared or per-channel."""
    if positions is None:
        return [None] * n_ch, "automatic"
    if isinstance(positions, Mapping):
        out: list[np.ndarray | None] = [None] * n_ch
        for key, pos in positions.items():
            if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_ch:
                raise AnalysisError(
                    f"Bead positions are given for channel {key!r}, which does not exist (0–{n_ch - 1})."
                )
            out[int(key)] = _one_positions_array(pos, f"for channel {key}", is_3d)
        return out, "per-channel"
    shared = _one_positions_array(positions, "for every channel", is_3d)
    return [shared] * n_ch, "shared"


def analyze_coregistration(
    data: Any,
    settings: CoregistrationSettings,
    positions: Positions = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> CoregistrationResult:
    """Measure chromatic shifts between channels from multi-colour beads.

    Parameters
    ----------
    data
        (C, Z, Y, X) or (C, Y, X) array, or a list of per-channel (Z, Y, X) / (Y, X) arrays of the same field.
    settings
        Microscope settings (voxel size required; NA, immersion, wavelengths and modality for the
        match gate and MetroloJ_QC's ratio) and analysis options.
    positions
        ``None``: beads are detected in every channel. An (N, 3) array of (z, y, x) voxel indices:
        the same beads for every channel (e.g. edited in a napari Points layer). A dict
        ``{channel: (N_c, 3) array}``: positions per channel; channels left out are detected.
        (N, 2) (y, x) positions are accepted too (the focal plane is then found per bead); for 2D
        data z is ignored. Each channel moves each position to its own bead's peak within one
        theoretical FWHM and fits it with the PSF pipeline; positions outside the image (or too
        near its border) are rejected in the bead table with their reason, not raised.
    progress
        ``progress(fraction, message)`` callback.
    cancel
        Called between steps; returning True raises :class:`AnalysisCancelled`.

    Raises
    ------
    AnalysisError
        One channel only, channels of different shapes, no beads found, no bead matched, empty or
        malformed positions, positions in single-bead mode.
    """
    s = settings
    ms = s.microscope
    if ms.voxel_size_um is None:
        raise SettingsError(
            "The voxel size is not in the file metadata: give {voxel_size_um}; it is never guessed."
        )
    ms.validate()
    czyx = _as_czyx(data)
    n_ch = czyx.shape[0]
    if len(ms.channels) == 1:
        ms = replace(ms, channels=ms.channels * n_ch)
    if len(ms.channels) != n_ch:
        raise SettingsError(f"Settings describe {len(ms.channels)} channels but the image has {n_ch}.")
    if not 0 <= s.reference_channel < n_ch:
        raise AnalysisError(f"Reference channel {s.reference_channel} does not exist (0–{n_ch - 1}).")
    voxel = tuple(float(v) for v in ms.voxel_size_um)
    is_3d = czyx.shape[1] > 1
    if is_3d and czyx.shape[1] < 5 and not s.single_bead:
        raise AnalysisError(
            f"A z-stack of {czyx.shape[1]} planes is too thin for axial fits; give ≥ 5 planes or one plane."
        )
    per_channel, mode = _positions_per_channel(positions, n_ch, is_3d)
    if s.single_bead and mode != "automatic":
        raise AnalysisError(
            "Bead positions are not used in single-bead mode (the bead is the largest bright object); "
            "leave them out, or switch single-bead mode off."
        )
    result = CoregistrationResult(measurement="coregistration", voxel_size_um=voxel)
    result.channel_names = [c.name for c in ms.channels]
    result.settings = {**ms.settings_table(), **s.analysis_settings()}
    n_given = [None if p is None else len(p) for p in per_channel]
    result.settings["positions"] = Setting(
        mode,
        None,
        Source.DEFAULT if mode == "automatic" else Source.USER,
        {
            "automatic": "beads detected in every channel",
            "shared": "the same given positions for every channel",
            "per-channel": "given positions per channel; channels without them detected",
        }[mode],
    )
    result.settings["n_positions"] = Setting(
        n_given,
        None,
        Source.DEFAULT if mode == "automatic" else Source.USER,
        "given per channel; null = detected",
    )
    theory = []
    for c in range(n_ch):
        ch = ms.channels[c]
        try:
            t = (
                metroloj_resolution(
                    ms.modality, ms.na, ms.immersion_index, ch.wavelength_ex_nm, ch.wavelength_em_nm
                )
                if ms.modality and ms.na and ms.immersion_index
                else None
            )
        except SettingsError:
            t = None
        theory.append(t)
    if any(t is None for t in theory):
        result.warnings.append(
            "No theoretical resolution for every channel (give modality, NA, immersion index and wavelengths): "
            "the match gate falls back to 1 µm and MetroloJ_QC's ratio is not computed."
        )

    # 1. localise --------------------------------------------------------------------------
    tables = []
    for c in range(n_ch):
        _check(cancel)
        if progress:
            progress(0.7 * c / n_ch, f"localising beads in channel {c}")
        stack = np.asarray(czyx[c])
        if stack.min() == stack.max():
            raise AnalysisError(f"Channel {c} is constant: no beads.")
        if s.single_bead:
            t = _localise_single_bead(stack, voxel)
        elif is_3d:
            try:
                t = _localise_3d(stack, ms, c, s, per_channel[c], theory[c])
            except AnalysisError as exc:
                raise AnalysisError(f"Channel {c}: {exc.template}") from exc
        else:
            lat = theory[c].lateral_um if theory[c] else 0.3
            sigma = max(0.6, lat / FWHM_PER_SIGMA / max(voxel[1:]))
            t = _localise_2d(stack[0], ms, c, s, sigma, per_channel[c])
        if per_channel[c] is not None:
            t.insert(len(_LOCALISATION_COLUMNS), "position_index", np.arange(len(t)))
            n_out = int((t.reason == REASONS["outside"]).sum())
            if n_out:
                result.warnings.append(
                    f"Channel {c}: {n_out} of {len(t)} given bead positions are outside the image (rejected)."
                )
        else:
            t.insert(len(_LOCALISATION_COLUMNS), "position_index", -1)
        if len(t) == 0:
            raise AnalysisError(
                f"No beads found in channel {c}; check focus and exposure, or lower the detection threshold."
            )
        t.insert(0, "channel", c)
        t.insert(1, "channel_bead", np.arange(len(t)))
        tables.append(t)
    beads = pd.concat(tables, ignore_index=True)
    beads.insert(0, "bead_id", np.arange(len(beads)))

    # 2. match and summarise each pair -------------------------------------------------------
    pairs_rows: list[dict[str, Any]] = []
    shift_tables: list[pd.DataFrame] = []
    matches: list[pd.DataFrame] = []  # (bead, "i-j:partner") for every matched bead of every pair
    ref = s.reference_channel
    pairs = [(i, j) for i in range(n_ch) for j in range(i + 1, n_ch)]
    for k, (i, j) in enumerate(pairs):
        _check(cancel)
        if progress:
            progress(0.7 + 0.3 * k / len(pairs), f"matching channels {i} and {j}")
        longer = i if (ms.channels[i].wavelength_em_nm or 0) >= (ms.channels[j].wavelength_em_nm or 0) else j
        t_long = theory[longer]
        gate = s.match_gate_um or (2.0 * t_long.lateral_um if t_long else 1.0)
        if s.single_bead:
            gate = math.inf
        a = beads[(beads.channel == i) & (beads.status == "accepted")]
        b = beads[(beads.channel == j) & (beads.status == "accepted")]
        if len(a) == 0 or len(b) == 0:
            raise AnalysisError(f"No accepted beads in channel {i if len(a) == 0 else j}; nothing to match.")
        pa, pb = a[["x_um", "y_um"]].to_numpy(), b[["x_um", "y_um"]].to_numpy()
        da, ia = cKDTree(pb).query(pa)
        _, ib = cKDTree(pa).query(pb)
        mutual = (ib[ia] == np.arange(len(pa))) & (da <= gate)
        ai, bi = np.flatnonzero(mutual), ia[mutual]
        n_match = len(ai)
        ids_a, ids_b = a.bead_id.to_numpy()[ai], b.bead_id.to_numpy()[bi]
        matches.append(
            pd.DataFrame(
                {"bead_id": np.r_[ids_a, ids_b], "tag": [f"{i}-{j}:{p}" for p in np.r_[ids_b, ids_a]]}
            )
        )
        if n_match == 0:
            raise AnalysisError(
                f"No bead of channel {i} has a partner in channel {j} within {gate:.2f} µm. Check that the channels show "
                "the same beads, or widen {match_gate_um} if the shift is larger."
            )
        if n_match < min(len(a), len(b)):
            result.warnings.append(
                f"Channels {i}–{j}: {min(len(a), len(b)) - n_match} accepted beads have no partner within {gate:.2f} µm."
            )
        A, B = a.iloc[ai], b.iloc[bi]
        cols_p = ["x_um", "y_um", "z_um"]
        cols_se = ["x_se_um", "y_se_um", "z_se_um"]
        shift = B[cols_p].to_numpy() - A[cols_p].to_numpy()
        shift_se = np.sqrt(B[cols_se].to_numpy(float) ** 2 + A[cols_se].to_numpy(float) ** 2)
        summary = _pair_summary(shift, shift_se, t_long, is_3d or s.single_bead)
        centre = ((czyx.shape[3] - 1) * voxel[2] / 2, (czyx.shape[2] - 1) * voxel[1] / 2)
        model = None
        resid = {a_: np.full(n_match, np.nan) for a_ in ("x", "y", "z")}
        if not s.single_bead and n_match >= 2:
            kind, coef, cov, bic, res = fit_registration(
                A[cols_p].to_numpy(), shift, np.maximum(shift_se, 1e-6), s.model, centre, is_3d
            )
            terms = _design(kind, np.zeros(1), np.zeros(1))[1]
            rms = {ax: float(np.sqrt(np.mean(r * r))) for ax, r in res.items()}
            model = RegistrationModel(kind, terms, centre, coef, cov, n_match, bic, rms, i, j, is_3d)
            result.models[(i, j)] = model
            resid.update(res)
        row = {"channel_ref": i, "channel_moving": j, "n_matched": n_match, "match_gate_um": gate, **summary}
        if model is not None:
            row.update(_model_summary(model))
        pairs_rows.append(row)
        shift_tables.append(
            pd.DataFrame(
                {
                    "channel_ref": i,
                    "channel_moving": j,
                    "bead_ref": ids_a,
                    "bead_moving": ids_b,
                    **{f"{ax}_um": A[f"{ax}_um"].to_numpy(float) for ax in "xyz"},
                    **{f"shift_{ax}_um": shift[:, k] for k, ax in enumerate("xyz")},
                    **{f"shift_{ax}_se_um": shift_se[:, k] for k, ax in enumerate("xyz")},
                    "residual_x_um": resid["x"],
                    "residual_y_um": resid["y"],
                    "residual_z_um": resid["z"] if is_3d else np.nan,
                }
            )
        )
        if ref in (i, j):
            _pair_metrics(result, row, j if i == ref else i, s)
    tags = pd.concat(matches).groupby("bead_id")["tag"].agg(" ".join)
    beads["matched_pairs"] = beads["bead_id"].map(tags).fillna("")
    beads["status"] = beads["status"].astype(object)
    unmatched = (beads.status == "accepted") & (beads.matched_pairs == "")
    beads.loc[unmatched, "status"] = "rejected"
    beads.loc[unmatched, "reason"] = "unmatched"
    beads.loc[unmatched, "reason_detail"] = "no partner bead in another channel within the match gate"
    result.tables["beads"] = beads
    result.tables["pairs"] = pd.DataFrame(pairs_rows)
    result.tables["shifts"] = pd.concat(shift_tables, ignore_index=True)
    if progress:
        progress(1.0, "done")
    return result


def _pair_summary(shift: np.ndarray, se: np.ndarray, theory, has_z: bool) -> dict[str, float]:
    n = len(shift)
    out: dict[str, float] = {}
    mean = shift.mean(axis=0)
    if n > 1:
        sem = shift.std(axis=0, ddof=1) / math.sqrt(n)
        # never report less than the localisation errors allow
        sem = np.maximum(sem, np.sqrt((se**2).sum(axis=0)) / n)
    else:
        sem = se[0]
    for a, axis in enumerate("xyz"):
        out[f"shift_{axis}_um"] = float(mean[a])
        out[f"shift_{axis}_se_um"] = float(sem[a])
        out[f"shift_{axis}_median_um"] = float(np.median(shift[:, a]))
        out[f"shift_{axis}_sd_um"] = float(shift[:, a].std(ddof=1)) if n > 1 else math.nan
    dz = mean[2] if has_z else 0.0
    d = math.sqrt(mean[0] ** 2 + mean[1] ** 2 + dz**2)
    lat = math.hypot(mean[0], mean[1])
    grad = np.array([mean[0], mean[1], dz]) / d if d > 0 else np.zeros(3)
    d_se = float(math.sqrt(((grad * sem) ** 2).sum()))
    out["distance_3d_um"] = d
    out["distance_3d_se_um"] = d_se
    out["lateral_distance_um"] = lat
    out["lateral_distance_se_um"] = float(
        math.sqrt(((np.array([mean[0], mean[1]]) / max(lat, 1e-12) * sem[:2]) ** 2).sum())
    )
    out["axial_distance_um"] = abs(dz)
    out["axial_distance_se_um"] = float(sem[2]) if has_z else 0.0
    if theory is not None:
        rz = theory.axial_um if has_z else theory.lateral_um
        ratio, r_ref = metroloj_ratio(mean[0], mean[1], dz, theory.lateral_um, theory.lateral_um, rz)
        out["ratio"] = ratio
        out["ratio_se"] = d_se / r_ref
        out["reference_distance_um"] = r_ref
    return out


def _model_summary(model: RegistrationModel) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model.kind}
    for ax, v in model.residual_rms_um.items():
        out[f"residual_rms_{ax}_um"] = v
    for name, v in model.bic.items():
        out[f"bic_{name}"] = v
    if model.kind == "affine":
        p = np.concatenate([model.coefficients["x"], model.coefficients["y"]])
        cov = np.zeros((6, 6))
        cov[:3, :3], cov[3:, 3:] = model.covariance["x"], model.covariance["y"]

        def derived(q: np.ndarray) -> np.ndarray:
            a, b, c, d = 1 + q[:, 1], q[:, 2], q[:, 4], 1 + q[:, 5]
            mag = np.sqrt(np.abs(a * d - b * c)) - 1
            rot = np.degrees(np.arctan2(c - b, a + d))
            return np.column_stack([mag * 100, rot])

        vals, se = delta_method(derived, p[None], cov[None])
        out["magnification_percent"], out["magnification_se_percent"] = float(vals[0, 0]), float(se[0, 0])
        out["rotation_deg"], out["rotation_se_deg"] = float(vals[0, 1]), float(se[0, 1])
        out["magnification_significant"] = bool(abs(vals[0, 0]) > 2 * se[0, 0])
        out["rotation_significant"] = bool(abs(vals[0, 1]) > 2 * se[0, 1])
    for ax, c in model.coefficients.items():
        se = np.sqrt(np.diag(model.covariance[ax]))
        sig = [t for t, ci, si in zip(model.terms, c, se, strict=True) if abs(ci) > 2 * si]
        out[f"significant_terms_{ax}"] = " ".join(sig)
    return out


def _pair_metrics(
    result: CoregistrationResult, row: dict[str, Any], channel: int, s: CoregistrationSettings
) -> None:
    """Headline metrics of the pair (reference, channel), tagged with the moving channel."""
    pair = f"channel {row['channel_ref']} → {row['channel_moving']}"

    def add(name: str, unit: str | None, unc_key: str | None = None, desc: str = "") -> None:
        if (
            name in row
            and row[name] is not None
            and not (isinstance(row[name], float) and math.isnan(row[name]))
        ):
            unc = row.get(unc_key) if unc_key else None
            result.metrics.append(
                Metric(
                    name,
                    float(row[name]),
                    unit,
                    None if unc is None else float(unc),
                    channel,
                    f"{desc} ({pair})",
                )
            )

    add("n_matched", None, None, "matched beads")
    for axis in "xyz":
        add(f"shift_{axis}_um", "um", f"shift_{axis}_se_um", f"mean shift along {axis}, moving − reference")
    add("distance_3d_um", "um", "distance_3d_se_um", "3D distance of the mean shift")
    add("lateral_distance_um", "um", "lateral_distance_se_um", "ISO lateral distance")
    add("axial_distance_um", "um", "axial_distance_se_um", "ISO axial distance")
    add("ratio", None, "ratio_se", "MetroloJ_QC d / r_ref (2024 reference distance, longer wavelength)")
    add(
        "magnification_percent",
        "percent",
        "magnification_se_percent",
        "lateral magnification difference (affine model)",
    )
    add("rotation_deg", "deg", "rotation_se_deg", "rotation (affine model)")
    for axis in "xyz":
        add(
            f"residual_rms_{axis}_um",
            "um",
            None,
            f"RMS residual along {axis} after the {row.get('model', '')} model",
        )
    if "ratio" in row:
        src = "default (MetroloJ_QC)" if s.tolerance_ratio == 1.0 else "user"
        result.verdicts.append(Verdict.check("ratio", row["ratio"], s.tolerance_ratio, "<=", src, channel))

"""Registration models of one channel pair (translation, affine, poly2), chosen by BIC; image correction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from microscope_qc.fitting import delta_method
from microscope_qc.results import AnalysisError

__all__ = ["MODELS", "RegistrationModel", "fit_registration", "correct_image"]

ModelKind = Literal["translation", "affine", "poly2"]
ModelChoice = Literal["auto", "translation", "affine", "poly2"]
#: the registration models, simplest first.
MODELS: tuple[ModelKind, ...] = ("translation", "affine", "poly2")


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
    """p_moving = f(p_reference) for one channel pair.

    Per axis a weighted least-squares polynomial of the lateral reference position (centred on
    ``centre_xy_um``): Δ_axis = Σ c·term(x, y).

    ``coefficients[axis]`` are for the *displacement* (moving − reference) along x, y, z in µm;
    terms as named in ``terms``. For an affine model the lateral part is also given as the 2 × 2
    matrix ``A`` and translation ``t`` of p_moving = A·(p − c) + c + t.
    """

    kind: ModelKind
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
        """Displacement Δ (moving − reference, µm) along each axis at reference positions ``x``, ``y``.

        Parameters
        ----------
        x, y : numpy.ndarray
            Lateral reference positions in µm.

        Returns
        -------
        dict of str to numpy.ndarray
            Δ per axis name (``"x"``, ``"y"`` and, for 3D data, ``"z"``).
        """
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
        """The model for ``results.json``: convention, terms, coefficients and their standard errors."""
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
        """Rebuild a model from :meth:`to_dict` output (covariances from the standard errors only).

        Parameters
        ----------
        d : dict of str to object
            A model as :meth:`to_dict` wrote it.

        Returns
        -------
        RegistrationModel
            The model.
        """
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
    kind: ModelChoice,
    centre_xy: tuple[float, float],
    has_z: bool,
) -> tuple[ModelKind, dict[str, np.ndarray], dict[str, np.ndarray], dict[str, float], dict[str, np.ndarray]]:
    """Weighted least squares of the displacement per axis; ``kind="auto"`` picks the lowest total BIC.

    Parameters
    ----------
    ref_xyz
        (N, 3) reference positions x, y, z (µm).
    shift_xyz, shift_se
        (N, 3) displacements moving − reference and their standard errors (µm).
    kind
        "translation", "affine", "poly2", or "auto" for the lowest BIC among those the beads allow.
    centre_xy
        The lateral centre (µm) the model's terms are centred on.
    has_z
        Fit the axial displacement too.

    Returns
    -------
    kind, coefficients, covariances, bic, residuals
        The model chosen; per axis its coefficients and their covariance (scaled by the reduced
        χ² when the scatter exceeds the localisation errors); the BIC of every candidate fitted;
        per-bead residuals per axis.

    Raises
    ------
    AnalysisError
        An unknown model, or too few beads for the model asked for.
    """
    n = len(ref_xyz)
    x = ref_xyz[:, 0] - centre_xy[0]
    y = ref_xyz[:, 1] - centre_xy[1]
    axes = ("x", "y", "z") if has_z else ("x", "y")
    if kind != "auto" and kind not in MODELS:
        raise AnalysisError(f"model must be one of auto, {', '.join(MODELS)}; not {kind!r}.")
    candidates: tuple[ModelKind, ...] = MODELS if kind == "auto" else (kind,)
    fits: dict[ModelKind, tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]] = {}
    bic: dict[str, float] = {}
    for k in candidates:
        X, _ = _design(k, x, y)
        if n < X.shape[1] + 2 and k != "translation":
            continue
        coef: dict[str, np.ndarray] = {}
        cov: dict[str, np.ndarray] = {}
        resid: dict[str, np.ndarray] = {}
        chi2 = 0.0
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
    best = min(fits, key=lambda name: bic[name])
    coef, cov, resid = fits[best]
    return best, coef, cov, bic, resid


def correct_image(
    image: np.ndarray, model: RegistrationModel, voxel_size_um: tuple[float, float, float], order: int = 1
) -> np.ndarray:
    """Resample a moving channel ((Z, Y, X) or (Y, X)) onto the reference channel's grid.

    Each output voxel at reference position p takes the moving image's value at p + Δ(p).

    Parameters
    ----------
    image
        The moving channel, (Z, Y, X) or (Y, X).
    model
        The pair's registration model (:attr:`CoregistrationResult.models`).
    voxel_size_um
        (z, y, x) voxel size in µm.
    order
        Spline order of the interpolation (1: linear).

    Returns
    -------
    numpy.ndarray
        float32 image of the same shape, registered to the reference channel.
    """
    from scipy import ndimage  # applying a registration only: the analysis stays SciPy-free

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

"""The smooth illumination model (2D Gaussian or polynomial) fitted on a binned image."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microscope_qc.analysis.field.result import FieldSettings
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA
from microscope_qc.results import AnalysisError


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

"""The smooth illumination model (2D Gaussian or polynomial) fitted on a binned image."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from microscope_qc.analysis.field.result import FieldSettings
from microscope_qc.filters import label
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA
from microscope_qc.results import AnalysisError

__all__ = [
    "ILLUMINATION_MODELS",
    "IlluminationFit",
    "IlluminationMaps",
    "fit_illumination_model",
    "illumination_maps",
]


def _bin(image: np.ndarray, target: int) -> tuple[np.ndarray, int]:
    b = max(1, int(math.ceil(max(image.shape) / target)))
    h, w = (image.shape[0] // b) * b, (image.shape[1] // b) * b
    binned = image[:h, :w].reshape(h // b, b, w // b, b).mean(axis=(1, 3))
    return binned, b


def _poly_terms(order: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(order + 1) for j in range(order + 1 - i)]


def _poly_eval(coef: np.ndarray, terms: list[tuple[int, int]], u: Any, v: Any) -> np.ndarray:
    out = np.zeros(np.broadcast(u, v).shape)
    for c, (i, j) in zip(coef, terms, strict=True):
        out = out + c * u**i * v**j
    return out


IlluminationModelKind = Literal["gaussian", "poly2", "poly4"]
#: the illumination models :func:`fit_illumination_model` knows.
ILLUMINATION_MODELS: tuple[IlluminationModelKind, ...] = ("gaussian", "poly2", "poly4")


@dataclass(frozen=True)
class IlluminationFit:
    """A fitted illumination model: its centre (y, x) ± SE in pixels and an evaluator on pixel coordinates."""

    kind: IlluminationModelKind
    centre: np.ndarray  # (y, x), px
    centre_se: np.ndarray  # (y, x), px
    evaluate: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (yy, xx) pixel coordinates -> intensity
    r2: float
    fwhm_px: tuple[float, float] | None = None  # Gaussian only: (y, x)
    background: float | None = None  # Gaussian only
    residual_sd: float = math.nan  # SD of (binned image − model) over the bins fitted, counts
    bin_px: int = 1  # side of the square bins the model was fitted on, pixels


def _n_params(kind: str) -> int:
    return 7 if kind == "gaussian" else len(_poly_terms(int(kind[-1]) if kind[-1].isdigit() else 2))


def fit_illumination_model(img: np.ndarray, s: FieldSettings, valid: np.ndarray) -> IlluminationFit:
    """Fit the smooth illumination model ``s.model`` on the image binned to at most ``s.fit_size`` px a side.

    Parameters
    ----------
    img
        2D (dark-subtracted) image.
    s
        Settings: ``model`` ("gaussian", "poly2" or "poly4") and ``fit_size``.
    valid
        Boolean (Y, X): pixels the fit may use (analysed, neither saturated nor clipped at zero);
        a bin enters the fit only when all its pixels are valid.

    Returns
    -------
    IlluminationFit

    Raises
    ------
    AnalysisError
        An unknown model, too few valid bins, a Gaussian fit that does not converge.
    """
    if s.model not in ILLUMINATION_MODELS:
        raise AnalysisError(f"model must be 'gaussian', 'poly2' or 'poly4', not {s.model!r}.")
    binned, b = _bin(img, s.fit_size)
    if valid.all():  # the usual case: no need to bin the mask
        mask = np.ones(binned.size, bool)
    else:
        vmask, _ = _bin(valid.astype(np.float32), s.fit_size)
        mask = (vmask > 0.99).ravel()
    need = max(2 * _n_params(s.model), 12)
    if int(mask.sum()) < need:
        raise AnalysisError(
            f"Only {int(mask.sum())} of the illumination model's {b} × {b}-pixel bins lie entirely in analysed, "
            f"unsaturated pixels; the {s.model} model needs at least {need}. Analyse a larger "
            "or less fragmented region."
        )
    if s.model == "gaussian":
        return _fit_gaussian(binned, b, mask)
    return _fit_polynomial(binned, b, mask, img.shape, s.model)


def _residual_sd(data: np.ndarray, model: np.ndarray) -> float:
    """Population SD of the residuals of the fitted bins."""
    r = np.asarray(data, dtype=np.float64) - np.asarray(model, dtype=np.float64)
    return float(r.std()) if r.size else math.nan


def _fit_gaussian(binned: np.ndarray, b: int, mask: np.ndarray) -> IlluminationFit:
    """2D Gaussian with offset on the binned image (shared engine)."""
    off = (b - 1) / 2  # full-resolution pixel coordinate of each bin's centre
    bh, bw = binned.shape
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

    def gaussian_centre(p: np.ndarray) -> np.ndarray:
        return np.column_stack([p[:, 2] * b + off, p[:, 3] * b + off])

    centre, centre_se = delta_method(gaussian_centre, fit.params, fit.covariance)
    cov = m.covariance(fit.params)[0] * b * b
    L = m.cholesky(fit.params)[0]
    prec = L @ L.T
    amp, back, c0, c1 = (float(v) for v in fit.params[0, :4])

    def gaussian_eval(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        # broadcasting (H, 1) against (1, W) keeps a full-size image cheap to render
        dy = (np.asarray(yy, dtype=np.float32) - off) / b - c0
        dx = (np.asarray(xx, dtype=np.float32) - off) / b - c1
        q = prec[0, 0] * dy * dy + 2 * prec[0, 1] * dy * dx + prec[1, 1] * dx * dx
        out: np.ndarray = back + amp * np.exp(-0.5 * q)
        return out

    return IlluminationFit(
        kind="gaussian",
        centre=centre[0],
        centre_se=centre_se[0],
        evaluate=gaussian_eval,
        r2=float(fit.r2[0]),
        fwhm_px=(FWHM_PER_SIGMA * math.sqrt(cov[0, 0]), FWHM_PER_SIGMA * math.sqrt(cov[1, 1])),
        background=float(fit.params[0, 1]),
        residual_sd=_residual_sd(data[0][mask], fit.model[0][mask]),
        bin_px=b,
    )


def _fit_polynomial(
    binned: np.ndarray, b: int, mask: np.ndarray, shape: tuple[int, ...], kind: IlluminationModelKind
) -> IlluminationFit:
    """Least-squares polynomial of ``order`` in coordinates scaled to [−1, 1]; its maximum is the centre."""
    h, w = shape[-2:]
    off = (b - 1) / 2
    bh, bw = binned.shape
    terms = _poly_terms(int(kind[-1]))
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

    def polynomial_centre(c: np.ndarray) -> np.ndarray:
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

    centre, centre_se = delta_method(polynomial_centre, coef[None], cov_c[None])

    def polynomial_eval(yy_: np.ndarray, xx_: np.ndarray) -> np.ndarray:
        return _poly_eval(coef, terms, (yy_ - scale_y) / scale_y, (xx_ - scale_x) / scale_x)

    return IlluminationFit(
        kind=kind,
        centre=centre[0],
        centre_se=centre_se[0],
        evaluate=polynomial_eval,
        r2=r2,
        residual_sd=_residual_sd(resid, np.zeros_like(resid)),
        bin_px=b,
    )


def _poly_grad(c: np.ndarray, terms: list[tuple[int, int]], u: float, v: float) -> tuple[float, float]:
    gu = sum(ci * i * u ** (i - 1) * v**j for ci, (i, j) in zip(c, terms, strict=True) if i > 0)
    gv = sum(ci * j * u**i * v ** (j - 1) for ci, (i, j) in zip(c, terms, strict=True) if j > 0)
    return gu, gv


def _poly_hess(c: np.ndarray, terms: list[tuple[int, int]], u: float, v: float) -> tuple[float, float, float]:
    huu = sum(ci * i * (i - 1) * u ** (i - 2) * v**j for ci, (i, j) in zip(c, terms, strict=True) if i > 1)
    hvv = sum(ci * j * (j - 1) * u**i * v ** (j - 2) for ci, (i, j) in zip(c, terms, strict=True) if j > 1)
    huv = sum(
        ci * i * j * u ** (i - 1) * v ** (j - 1)
        for ci, (i, j) in zip(c, terms, strict=True)
        if i > 0 and j > 0
    )
    return huu, huv, hvv


#: rows per band of the full-size maps in :func:`illumination_maps` (a band's float64 temporaries fit in cache)
_BAND_ROWS = 64


def gaussian_float32(image: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Gaussian smoothing in single precision, computed in bands of rows (edges mirrored, as SciPy's "reflect").

    The kernel is SciPy's (``scipy.ndimage.gaussian_filter``: radius ``int(truncate·σ + 0.5)``, sampled
    and normalised); SciPy sums in double precision, this in single, 2–3× faster: the two differ by
    a few units in the last place of float32. For smoothing whose exact values are no reference
    tool's definition (the defect map).

    Parameters
    ----------
    image : numpy.ndarray
        2D image.
    sigma : float
        Standard deviation in pixels, > 0.
    truncate : float
        The kernel reaches ``truncate`` standard deviations.

    Returns
    -------
    numpy.ndarray of float32
        The smoothed image.
    """
    r = int(truncate * sigma + 0.5)
    taps = np.exp(-0.5 / sigma**2 * np.arange(-r, r + 1) ** 2)
    k = (taps / taps.sum()).astype(np.float32)
    h, w = image.shape
    padded = np.pad(np.asarray(image, dtype=np.float32), r, mode="symmetric")
    out = np.empty((h, w), np.float32)
    cols = np.empty((_BAND_ROWS, w + 2 * r), np.float32)
    pair = np.empty((_BAND_ROWS, w + 2 * r), np.float32)
    for r0 in range(0, h, _BAND_ROWS):
        n = min(h, r0 + _BAND_ROWS) - r0
        acc, tmp = cols[:n], pair[:n]
        np.multiply(padded[r0 + r : r0 + r + n], k[r], out=acc)  # along y
        for j in range(1, r + 1):
            np.add(padded[r0 + r - j : r0 + r - j + n], padded[r0 + r + j : r0 + r + j + n], out=tmp)
            tmp *= k[r + j]
            acc += tmp
        o, t = out[r0 : r0 + n], tmp[:, :w]
        np.multiply(acc[:, r : r + w], k[r], out=o)  # along x
        for j in range(1, r + 1):
            np.add(acc[:, r - j : r - j + w], acc[:, r + j : r + j + w], out=t)
            t *= k[r + j]
            o += t
    return out


class _Moments:
    """Mean and SD of values added in parts, in float64 (two passes: the parts are kept until asked)."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        self.parts.append(values)

    def cv_percent(self) -> float:
        """100 × SD / mean (population SD) of every value added."""
        n = sum(p.size for p in self.parts)
        if n == 0:
            return math.nan
        mean = sum(float(p.sum(dtype=np.float64)) for p in self.parts) / n
        ss = 0.0
        for p in self.parts:
            d = p.astype(np.float64) - mean
            d *= d
            ss += float(d.sum())
        return 100.0 * math.sqrt(ss / n) / mean


@dataclass(frozen=True)
class IlluminationMaps:
    """What the fitted model says about one image: the model, residuals, defects, flat field and fall-off."""

    model: np.ndarray  # float32 (Y, X)
    residual: np.ndarray  # image / model − 1; 0 outside the analysed pixels
    defects: np.ndarray  # int32 labels of dust and defects
    n_defects: int
    defect_pixels: int
    flat_field: np.ndarray  # model / mean(model)
    cv_percent: float  # of the image over the valid pixels
    residual_cv_percent: float  # after flat-field correction
    falloff_percent: tuple[float, float, float, float]  # corners tl, tr, bl, br: 1 − model/peak
    centre_offset_px: float  # illumination centre to image centre
    centre_offset_se_px: float
    half_diagonal_px: float


def illumination_maps(
    img: np.ndarray,
    fit: IlluminationFit,
    valid: np.ndarray,
    analysed: np.ndarray | None,
    dust_threshold_sigma: float,
) -> IlluminationMaps:
    """The fitted model at full resolution and what follows from it.

    Parameters
    ----------
    img
        2D float32 (dark-subtracted) image.
    fit
        The model fitted on it (:func:`fit_illumination_model`).
    valid
        Boolean (Y, X): analysed pixels that are neither saturated nor clipped at zero (for the CVs).
    analysed
        Boolean (Y, X) mask, True = analysed; ``None`` = the whole image.
    dust_threshold_sigma
        A defect is a residual beyond this many robust SDs of the shot-noise-scaled residual.

    Returns
    -------
    IlluminationMaps
    """
    h, w = img.shape
    # Every full-size map is computed in bands of rows: the temporaries of a band stay in the CPU cache
    # (a 2048² image otherwise makes a dozen 16–32 MB passes through memory). The arithmetic of each
    # pixel is the same as on the whole image, so the maps are identical.
    bands = [(r0, min(h, r0 + _BAND_ROWS)) for r0 in range(0, h, _BAND_ROWS)]
    xx = np.arange(w)[None, :]
    model = np.empty((h, w), np.float32)
    for r0, r1 in bands:
        model[r0:r1] = fit.evaluate(np.arange(r0, r1)[:, None], xx)
    peak_model = float(model.max())
    floor = 1e-6 * peak_model + 1e-12
    residual = np.empty((h, w), np.float32)
    z = np.empty((h, w), np.float32)
    for r0, r1 in bands:
        im, mo, res, zb = img[r0:r1], model[r0:r1], residual[r0:r1], z[r0:r1]
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(im, mo, out=res)
            res -= np.float32(1.0)
            res[~np.isfinite(res)] = 0.0
            # Dust and defects: residuals in units of the local shot noise (∝ sqrt(model)), so dim
            # corners with larger relative noise do not fill with false specks; then a robust threshold.
            np.subtract(im, mo, out=zb)
            zb /= np.sqrt(np.maximum(mo, floor))
        np.nan_to_num(zb, copy=False)
        if analysed is not None:
            excluded = ~analysed[r0:r1]
            res[excluded] = 0.0  # excluded pixels show no residual (and cannot hold a defect)
            zb[excluded] = 0.0  # excluded dust must not spread into the analysed pixels with the smoothing
    z = gaussian_float32(z, 1.0, truncate=2.5)  # specks span several pixels
    ky, kx = max(1, z.shape[0] // 512), max(1, z.shape[1] // 512)  # robust statistics need no more pixels
    sub = z[::ky, ::kx] if analysed is None else z[::ky, ::kx][analysed[::ky, ::kx]]
    med = float(np.median(sub))
    mad = float(1.4826 * np.median(np.abs(sub - med))) or float(sub.std()) or 1e-6
    limit = dust_threshold_sigma * mad
    defects_mask = np.empty((h, w), bool)
    for r0, r1 in bands:
        zb = z[r0:r1] - np.float32(med)
        np.greater(np.abs(zb, out=zb), limit, out=defects_mask[r0:r1])
    if analysed is not None:
        defects_mask &= analysed
    defects, n_defects = label(defects_mask)
    flat_field = model / float(model.mean())
    all_valid = bool(valid.all())
    corrected = _Moments()
    raw = _Moments()
    for r0, r1 in bands:
        im, ff = img[r0:r1], flat_field[r0:r1]
        if not all_valid:
            ok = valid[r0:r1]
            im, ff = im[ok], ff[ok]
        raw.add(im)
        corrected.add(im / ff)
    residual_cv = corrected.cv_percent()
    cv = raw.cv_percent()
    corners = [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]
    cy, cx = fit.centre
    # the model's own peak (the centre may lie outside the image for a misaligned lamp)
    peak_value = float(fit.evaluate(np.array([[cy]]), np.array([[cx]]))[0, 0])
    peak_value = max(peak_value, peak_model)
    falloff = tuple(100.0 * (1 - float(model[p]) / peak_value) for p in corners)
    offset = math.hypot(cy - (h - 1) / 2, cx - (w - 1) / 2)
    gy, gx = (cy - (h - 1) / 2) / max(offset, 1e-12), (cx - (w - 1) / 2) / max(offset, 1e-12)
    return IlluminationMaps(
        model=model,
        residual=residual,
        defects=defects,
        n_defects=int(n_defects),
        defect_pixels=int(defects_mask.sum()),
        flat_field=flat_field,
        cv_percent=cv,
        residual_cv_percent=residual_cv,
        falloff_percent=(falloff[0], falloff[1], falloff[2], falloff[3]),
        centre_offset_px=offset,
        centre_offset_se_px=math.hypot(gy * fit.centre_se[0], gx * fit.centre_se[1]),
        half_diagonal_px=math.hypot(h - 1, w - 1) / 2,
    )

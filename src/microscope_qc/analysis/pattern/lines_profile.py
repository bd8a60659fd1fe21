"""What one profile across a group of lines says: its lines, their spacing, the contrast, the LSF.

- Lines: local maxima of the profile, merged until the dip between any two neighbours is more
  than five times the profile's noise (its bins' standard error) and 5 % of its range (a smaller
  ripple on an unresolved group is not a line).
- Peak and trough values and positions: a parabola fitted by least squares to the profile within
  ±p/6 of each extremum (p the spacing), re-centred once on its vertex.
- Spacing: for five lines or more, the slope of the peak positions against their index, left out
  the outermost peak at each end (a line with a neighbour on one side only is pulled towards it
  when the lines overlap: 2 % at a spacing of one FWHM); for two to four lines, a fit of equally
  spaced Gaussians of one width and height (``b + A Σₖ exp(−(u − c − k p)²/2s²)``), which models
  that pull.
- Contrast of a line pair: Michelson, C = (Imax − Imin)/(Imax + Imin), Imax the mean of the two
  peaks, Imin the trough between them, both above the background; the dip 1 − Imin/Imax.
- LSF: the shared fitting engine's 1D Gaussian fitted to an isolated line's profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.pattern.lines_geometry import Profile

__all__ = ["Extremum", "find_lines", "extremum", "spacing_from_peaks", "pair_contrast", "fit_lsf"]

FloatArray = npt.NDArray[np.float64]
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True)
class Extremum:
    """A peak or trough: position (µm), value above the background, its standard error."""

    u_um: float
    value: float
    se: float


def find_lines(profile: Profile, background: float) -> list[int]:
    """Indices (into the profile's bins) of its lines: local maxima with a real dip between neighbours.

    Parameters
    ----------
    profile : Profile
        The binned profile.
    background : float
        The background level.

    Returns
    -------
    list of int
        Bin indices of the peaks, in order of position.
    """
    y = profile.mean
    if y.size < 3:
        return []
    noise = float(np.median(profile.sem)) if profile.sem.size else 0.0
    span = float(y.max() - background)
    threshold = max(5.0 * noise, 0.05 * span)
    is_max = np.r_[y[0] > y[1], (y[1:-1] >= y[:-2]) & (y[1:-1] > y[2:]), y[-1] > y[-2]]
    peaks = [int(i) for i in np.flatnonzero(is_max) if y[i] - background > 0.1 * span]
    changed = True
    while changed and len(peaks) > 1:
        changed = False
        depths = [
            min(y[a], y[b]) - float(y[a : b + 1].min()) for a, b in zip(peaks[:-1], peaks[1:], strict=True)
        ]
        k = int(np.argmin(depths))
        if depths[k] < threshold:
            a, b = peaks[k], peaks[k + 1]
            peaks.remove(a if y[a] < y[b] else b)
            changed = True
    return peaks


def extremum(profile: Profile, index: int, half_width_um: float, background: float) -> Extremum:
    """Position and value of the peak or trough near bin ``index``: a parabola's vertex, re-centred once.

    Parameters
    ----------
    profile : Profile
        The binned profile.
    index : int
        A bin at or next to the extremum.
    half_width_um : float
        Half-width of the fitted window.
    background : float
        Subtracted from the value.

    Returns
    -------
    Extremum
        The vertex; the bin's own value when the parabola cannot be fitted (fewer than 3 bins, or
        its vertex outside the window).
    """
    u, y, se = profile.u_um, profile.mean, profile.sem
    centre = float(u[index])
    result: Extremum | None = None
    for _ in range(2):
        m = np.abs(u - centre) <= half_width_um
        if m.sum() < 3:
            break
        x = u[m] - centre
        w = 1.0 / np.maximum(se[m], 1e-12) ** 2
        a = np.stack([np.ones_like(x), x, x * x], axis=1)
        aw = a * w[:, None]
        try:
            cov = np.linalg.inv(a.T @ aw)
        except np.linalg.LinAlgError:
            break
        c0, c1, c2 = cov @ (aw.T @ y[m])
        if c2 == 0:
            break
        xv = -c1 / (2 * c2)
        if abs(xv) > half_width_um:
            break
        value = c0 - c1 * c1 / (4 * c2)
        grad = np.array([1.0, xv, xv * xv])
        var = float(grad @ cov @ grad)
        # scale by the reduced χ² when the parabola does not describe the bins within their noise
        dof = int(m.sum()) - 3
        if dof > 0:
            chi2 = float((w * (y[m] - a @ np.array([c0, c1, c2])) ** 2).sum()) / dof
            var *= max(chi2, 1.0)
        centre = centre + float(xv)
        result = Extremum(centre, float(value) - background, math.sqrt(max(var, 0.0)))
    if result is not None:
        return result
    return Extremum(float(u[index]), float(y[index]) - background, float(se[index]))


def spacing_from_peaks(peaks: list[Extremum]) -> tuple[float, float, str]:
    """Line spacing from the peak positions: a straight line through the inner peaks (five or more lines).

    Parameters
    ----------
    peaks : list of Extremum
        The lines' peaks, in order (at least three).

    Returns
    -------
    spacing_um, se_um : float
        The slope of position against index and its standard error (NaN with fewer than 3 points).
    method : str
        How it was measured.
    """
    pos = np.array([p.u_um for p in peaks])
    if pos.size >= 5:
        pos = pos[1:-1]
    k = np.arange(pos.size, dtype=np.float64)
    slope, intercept = np.polyfit(k, pos, 1)
    if pos.size >= 3:
        resid = pos - (slope * k + intercept)
        s2 = float((resid**2).sum()) / (pos.size - 2)
        se = math.sqrt(s2 / float(((k - k.mean()) ** 2).sum()))
    else:
        se = math.nan
    return abs(float(slope)), se, "inner peak positions"


def fit_comb(
    profile: Profile, peaks: list[Extremum], background: float
) -> tuple[float, float, float, float, bool]:
    """Fit equally spaced Gaussians of one width and height to a group of 2 to 4 lines.

    Parameters
    ----------
    profile : Profile
        The binned profile.
    peaks : list of Extremum
        The lines' peaks, in order.
    background : float
        Starting background.

    Returns
    -------
    spacing_um, spacing_se_um, sigma_um, sigma_se_um : float
        The fitted spacing and Gaussian σ with their standard errors (scaled by the reduced χ²).
    ok : bool
        Whether the fit converged to finite values.
    """
    n = len(peaks)
    p0 = (peaks[-1].u_um - peaks[0].u_um) / (n - 1)
    lo, hi = peaks[0].u_um - 1.5 * p0, peaks[-1].u_um + 1.5 * p0
    m = (profile.u_um >= lo) & (profile.u_um <= hi)
    u, y = profile.u_um[m], profile.mean[m]
    w = 1.0 / np.maximum(profile.sem[m], 1e-12) ** 2
    height = float(np.mean([p.value for p in peaks]))
    params = np.array([background, height, peaks[0].u_um, p0, p0 / 3])
    k = np.arange(n, dtype=np.float64)

    def model(p: FloatArray) -> tuple[FloatArray, FloatArray]:
        b, a, c, sp, s = p
        d = u[:, None] - c - k[None, :] * sp  # (N, n)
        g = np.exp(-0.5 * (d / s) ** 2)
        f = b + a * g.sum(1)
        jac = np.empty((u.size, 5))
        jac[:, 0] = 1.0
        jac[:, 1] = g.sum(1)
        jac[:, 2] = a * (g * d / s**2).sum(1)
        jac[:, 3] = a * (g * d * k[None, :] / s**2).sum(1)
        jac[:, 4] = a * (g * d * d / s**3).sum(1)
        return f, jac

    lam = 1e-3
    f, jac = model(params)
    cost = float((w * (y - f) ** 2).sum())
    for _ in range(200):
        jw = jac * w[:, None]
        h = jac.T @ jw
        g = jw.T @ (y - f)
        try:
            step = np.linalg.solve(h + lam * np.diag(np.diag(h)), g)
        except np.linalg.LinAlgError:
            break
        trial = params + step
        trial[4] = abs(trial[4])
        f2, jac2 = model(trial)
        cost2 = float((w * (y - f2) ** 2).sum())
        if np.isfinite(cost2) and cost2 <= cost:
            done = (cost - cost2) <= 1e-10 * max(cost, 1e-300)
            params, f, jac, cost = trial, f2, jac2, cost2
            lam = max(lam / 3, 1e-9)
            if done:
                break
        else:
            lam *= 4
            if lam > 1e10:
                break
    try:
        cov = np.linalg.inv(jac.T @ (jac * w[:, None])) * max(cost / max(u.size - 5, 1), 1e-300)
    except np.linalg.LinAlgError:
        return math.nan, math.nan, math.nan, math.nan, False
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    ok = bool(np.all(np.isfinite(params)) and np.all(np.isfinite(se)))
    return abs(float(params[3])), float(se[3]), abs(float(params[4])), float(se[4]), ok


def pair_contrast(
    peaks: list[Extremum], troughs: list[Extremum]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Michelson contrast, its standard error and the dip of each line pair.

    Parameters
    ----------
    peaks : list of Extremum
        n peaks above the background.
    troughs : list of Extremum
        The n − 1 troughs between them.

    Returns
    -------
    contrast, contrast_se, dip : numpy.ndarray
        Per pair: C = (Imax − Imin)/(Imax + Imin) with Imax the mean of the pair's peaks, its SE by
        propagation of the extrema's SEs, and 1 − Imin/Imax.
    """
    c, se, dip = [], [], []
    for k, t in enumerate(troughs):
        imax = 0.5 * (peaks[k].value + peaks[k + 1].value)
        imax_se = 0.5 * math.hypot(peaks[k].se, peaks[k + 1].se)
        total = imax + t.value
        c.append((imax - t.value) / total)
        # ∂C/∂Imax = 2 Imin/(Imax + Imin)², ∂C/∂Imin = −2 Imax/(Imax + Imin)²
        se.append(2 * math.hypot(t.value * imax_se, imax * t.se) / total**2)
        dip.append(1 - t.value / imax)
    return np.array(c), np.array(se), np.array(dip)


def fit_lsf(profile: Profile, peak_index: int, width_guess_um: float) -> tuple[float, float, float]:
    """FWHM of an isolated line: the fitting engine's 1D Gaussian on the profile's bins around it.

    The bins are on a regular grid of the profile's bin width; empty ones are masked out.

    Parameters
    ----------
    profile : Profile
        The binned profile.
    peak_index : int
        Bin of the line's peak.
    width_guess_um : float
        A first FWHM (the window is ±4 of it).

    Returns
    -------
    fwhm_um, fwhm_se_um, r2 : float
        FWHM = 2√(2 ln 2) σ and its standard error (delta method), the fit's R²; NaN when the fit fails.
    """
    from microscope_qc.fitting import GaussianModel, fit_gaussians

    centre = float(profile.u_um[peak_index])
    half = 4.0 * width_guess_um
    m = np.abs(profile.u_um - centre) <= half
    if m.sum() < 7:
        return math.nan, math.nan, math.nan
    u = profile.u_um[m]
    grid_index = np.rint((u - u.min()) / profile.bin_um).astype(np.intp)
    n = int(grid_index.max()) + 1
    data = np.zeros((1, n))
    mask = np.zeros((1, n), dtype=bool)
    data[0, grid_index] = profile.mean[m]
    mask[0, grid_index] = True
    sigma_guess = np.array([[width_guess_um / _FWHM_PER_SIGMA / profile.bin_um]])
    fit = fit_gaussians(GaussianModel(1), data, (n,), sigma_guess, mask=mask, pool_noise=False)
    if not fit.success[0]:
        return math.nan, math.nan, math.nan
    L = abs(float(fit.params[0, 3]))
    se_l = float(fit.stderr[0, 3])
    sigma = profile.bin_um / L
    sigma_se = profile.bin_um * se_l / (L * L)
    return _FWHM_PER_SIGMA * sigma, _FWHM_PER_SIGMA * sigma_se, float(fit.r2[0])

"""Aberration signatures through focus: astigmatism and a tilted (or comatic) PSF, per bead (METRICS.md §10).

Every plane within one measured axial FWHM of a bead's focus gets a rotated 2D Gaussian fit
(one batch for all beads and planes). Through focus, the spot's variance along a direction u,
S_u(z) = uᵀ Σ(z) u, follows the parabola of a Gaussian beam, S_u(z) = S₀ (1 + ((z − z_u)/d)²):
its vertex z_u is where the spot is narrowest along u. Astigmatism puts the vertices of x and y
at different depths; the focal separation is z_x − z_y. Fitting S along x, y and both diagonals
gives the separation whatever the orientation: with Δ_xy = z_x − z_y and
Δ_diag = z_{+45°} − z_{−45°}, the separation of the two line foci is √(Δ_xy² + Δ_diag²) and the
direction narrowest at the deeper focus is ½·atan2(Δ_diag, Δ_xy).

The fitted centre of each plane gives the lateral path of the PSF through focus: its slope at
focus (µm per µm of z) is a tilted PSF (tilted detection axis, non-telecentric or decentred
optics, skewed stage-scan data, drift during the stack); its curvature, a centre that moves the
same way above and below focus, is the signature of coma.

Each parabola is a weighted least-squares fit (weights 1/SE² of the plane fits) whose covariance
is scaled by the reduced χ² when that exceeds 1 (model error shows as scatter); the derived
quantities get their standard errors by the delta method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from microscope_qc.detection import extract_boxes as _boxes
from microscope_qc.fitting import GaussianModel, delta_method, fit_gaussians
from microscope_qc.instrument import FWHM_PER_SIGMA, MicroscopeSettings, Modality, TheoreticalResolution
from microscope_qc.results import Metric, Result, Verdict, robust_summary
from microscope_qc.volume import Stack

#: ``col(name)`` returns the per-candidate column ``name`` (created full of NaN) to fill in place.
Column = Callable[[str], np.ndarray]

#: Maréchal: a wavefront error of λ/14 RMS keeps the Strehl ratio at 0.8 ("diffraction limited").
MARECHAL_RMS_WAVES = 1.0 / 14.0
#: The centre may move by this fraction of the lateral FWHM over one axial FWHM before the PSF counts as tilted.
TILT_FRACTION = 0.5
#: Fewest planes a through-focus parabola is fitted to (three parameters, two degrees of freedom).
MIN_PLANES = 5
#: Most planes fitted per bead: evenly spread over ± one axial FWHM (a parabola needs few; time grows with them).
MAX_PLANES = 11

#: Directions (degrees from +x towards +y) along which the spot's variance is followed through focus.
_DIRECTIONS = {"x": 0.0, "y": 90.0, "p": 45.0, "m": 135.0}


@dataclass(frozen=True)
class AberrationLimits:
    """The thresholds above which a bead is called astigmatic or tilted, and how they were derived."""

    astigmatism_um: float
    tilt: float
    astigmatism_source: str
    tilt_source: str


def astigmatism_limit_um(na: float, n: float, wavelength_nm: float) -> float:
    """Focal separation of astigmatism at the Maréchal limit (λ/14 RMS), µm.

    Astigmatism of RMS amplitude a (waves; Zernike Z₂² normalisation) has a peak wavefront
    A = √6·a·λ at the pupil edge; its two line foci lie where defocus cancels ±A, so they are
    separated by Δz = 2A/(n − √(n² − NA²)) (non-paraxial defocus at the pupil edge). At
    a = 1/14 this is Δz = 0.350·λ/(n − √(n² − NA²)), i.e. 0.40 × the non-paraxial widefield
    axial FWHM 0.88·λ/(n − √(n² − NA²)).

    Parameters
    ----------
    na : float
        Numerical aperture.
    n : float
        Immersion refractive index.
    wavelength_nm : float
        The wavelength that forms the PSF, nm.

    Returns
    -------
    float
        The focal separation in µm.
    """
    peak = math.sqrt(6.0) * MARECHAL_RMS_WAVES * wavelength_nm / 1000
    return 2.0 * peak / (n - math.sqrt(n * n - na * na))


def aberration_limits(
    ms: MicroscopeSettings, channel: int, theory_phys: TheoreticalResolution | None
) -> AberrationLimits | None:
    """Thresholds of one channel, or None when the optics are not known well enough.

    Parameters
    ----------
    ms : MicroscopeSettings
        The settings (modality, NA, immersion index, wavelengths).
    channel : int
        The channel's index in ``ms.channels``.
    theory_phys : TheoreticalResolution or None
        The physical theory of the channel (Airy / non-paraxial); its axial FWHM may be NaN.

    Returns
    -------
    AberrationLimits or None
        The astigmatism limit (Maréchal) and the tilt limit (half the lateral FWHM over one
        axial FWHM; NaN when the axial theory is not known).
    """
    if ms.na is None or ms.immersion_index is None or ms.modality is None or theory_phys is None:
        return None
    ch = ms.channels[channel]
    excitation_forms_psf = ms.modality in (Modality.CONFOCAL, Modality.MULTIPHOTON)
    first, second = (
        (ch.wavelength_ex_nm, ch.wavelength_em_nm)
        if excitation_forms_psf
        else (ch.wavelength_em_nm, ch.wavelength_ex_nm)
    )
    lam = first if first is not None else second
    if lam is None:
        return None
    astig = astigmatism_limit_um(ms.na, ms.immersion_index, lam)
    lat, ax = theory_phys.lateral_um, theory_phys.axial_um
    tilt = TILT_FRACTION * lat / ax if math.isfinite(ax) and ax > 0 else math.nan
    return AberrationLimits(
        astig,
        tilt,
        f"Maréchal: λ/14 RMS astigmatism at NA {ms.na:g}, n {ms.immersion_index:g}, λ {lam:g} nm",
        "centre moving half a theoretical lateral FWHM over one theoretical axial FWHM",
    )


def _parabolas(
    dz: np.ndarray, values: np.ndarray, se: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted quadratic fits q = c₀ + c₁·dz + c₂·dz² per bead (rows), vectorised.

    Returns the coefficients (B, 3), their covariance (B, 3, 3) and the number of planes used (B,).
    """
    w = np.where(
        valid & (se > 0) & np.isfinite(values) & np.isfinite(se), 1.0 / np.where(se > 0, se, 1.0) ** 2, 0.0
    )
    n = (w > 0).sum(axis=1)
    X = np.stack([np.ones_like(dz), dz, dz**2], axis=-1)  # (B, P, 3)
    q = np.where(w > 0, values, 0.0)
    A = np.einsum("bpi,bp,bpj->bij", X, w, X)
    rhs = np.einsum("bpi,bp,bp->bi", X, w, q)
    ok = n >= MIN_PLANES
    coef = np.full((len(q), 3), np.nan)
    cov = np.full((len(q), 3, 3), np.nan)
    if ok.any():
        Ainv = np.linalg.pinv(A[ok])
        c = np.einsum("bij,bj->bi", Ainv, rhs[ok])
        resid = q[ok] - np.einsum("bpi,bi->bp", X[ok], c)
        chi2 = (w[ok] * resid**2).sum(axis=1) / np.maximum(n[ok] - 3, 1)
        coef[ok] = c
        cov[ok] = Ainv * np.maximum(chi2, 1.0)[:, None, None]
    return coef, cov, n


def spread_subset(y: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """Indices of at most ``k`` points spread over the field: farthest-point sampling from the centre.

    Deterministic: starts at the point nearest the points' centre, then repeatedly adds the point
    farthest from all chosen so far.

    Parameters
    ----------
    y, x : numpy.ndarray
        Positions of the points.
    k : int
        How many to choose.

    Returns
    -------
    numpy.ndarray
        Sorted indices into ``y`` and ``x``.
    """
    n = len(y)
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.arange(0)
    pts = np.column_stack([y, x])
    first = int(np.argmin(np.hypot(*(pts - pts.mean(axis=0)).T)))
    chosen = [first]
    dist = np.hypot(*(pts - pts[first]).T)
    for _ in range(k - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(pts - pts[nxt]).T))
    return np.sort(np.array(chosen))


def _widening_planes(values: np.ndarray, se: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The planes over which the spot widens steadily away from its narrowest plane.

    Walking outwards from the plane of smallest mean variance, the first plane that is narrower
    than the one before it by more than three standard errors marks something else (a
    neighbour, a side lobe of a light sheet, a ring of a defocused widefield PSF, a failed fit);
    it and every plane beyond it are left out.
    """
    out = valid.copy()
    for b in range(values.shape[0]):
        good = np.flatnonzero(valid[b])
        if good.size == 0:
            continue
        start = good[np.argmin(values[b, good])]
        for step in (-1, 1):
            prev = start
            k = start + step
            while 0 <= k < values.shape[1]:
                if valid[b, k]:
                    if values[b, k] < values[b, prev] - 3 * math.hypot(se[b, k], se[b, prev]):
                        if step < 0:
                            out[b, : k + 1] = False
                        else:
                            out[b, k:] = False
                        break
                    prev = k
                k += step
    return out


def _vertex(coef: np.ndarray, cov: np.ndarray, half_window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertex −c₁/(2c₂) of upward parabolas and its standard error.

    NaN when the curvature is not significantly positive or the vertex lies outside 1.5 × the
    fitted window.
    """
    c1, c2 = coef[:, 1], coef[:, 2]
    se_c2 = np.sqrt(np.clip(cov[:, 2, 2], 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = -c1 / (2 * c2)
        g = np.stack([np.zeros_like(c1), -1 / (2 * c2), c1 / (2 * c2**2)], axis=1)
        se = np.sqrt(np.clip(np.einsum("bi,bij,bj->b", g, cov, g), 0, None))
        good = (c2 > 2 * se_c2) & (np.abs(z) <= 1.5 * half_window)
    return np.where(good, z, np.nan), np.where(good, se, np.nan)


def through_focus(
    stack: Stack,
    idx: np.ndarray,
    col: Column,
    hz: int,
    hxy: int,
    voxel: tuple[float, float, float],
) -> dict[str, np.ndarray]:
    """Astigmatism, ellipticity and tilt of beads ``idx`` from 2D fits of every plane near focus.

    Needs the bead columns ``x_um``, ``y_um``, ``z_um``, ``fwhm_x_um``, ``fwhm_y_um`` and
    ``fwhm_z_um``; fills ``astigmatic_separation_um`` (and ``_xy``/``_diag`` with standard
    errors), ``astigmatism_axis_deg``, ``ellipticity_below``/``_above``,
    ``psf_tilt_um_per_um`` (with ``_x``/``_y`` and its standard error), ``psf_bow_um`` and
    ``through_focus_planes``.

    Returns
    -------
    dict of str to numpy.ndarray
        Per-plane data of the beads, for figures: ``index`` (B,), ``dz_um`` (B, P), ``valid``,
        ``fwhm_x_um``, ``fwhm_y_um``, ``x_um``, ``y_um`` (B, P) and the parabola coefficients
        ``coef_x``, ``coef_y`` (B, 3) of the variances along x and y.
    """
    dz, dy, dx = voxel
    nz = stack.shape[0]
    z0 = col("z_um")[idx] / dz
    fwhm_z = col("fwhm_z_um")[idx]
    ok = np.isfinite(z0) & np.isfinite(fwhm_z) & np.isfinite(col("x_um")[idx]) & np.isfinite(col("y_um")[idx])
    idx, z0, fwhm_z = idx[ok], z0[ok], fwhm_z[ok]
    if idx.size == 0:
        return {}
    half = np.clip(np.ceil(fwhm_z / dz), 2, max(hz, 2)).astype(int)  # ± one axial FWHM, in planes
    M = int(half.max())
    off = np.arange(-M, M + 1)
    zc = np.rint(z0).astype(int)
    planes = zc[:, None] + off[None, :]
    yc = np.rint(col("y_um")[idx] / dy).astype(int)
    xc = np.rint(col("x_um")[idx] / dx).astype(int)
    B, P = planes.shape
    # The box needs to hold the spot at the window's ends, where a widefield spot is about three times its
    # in-focus width: ± 3.5 in-focus FWHM (never more than the analysis box), a smaller box is faster.
    fw0 = np.nanpercentile(np.fmax(col("fwhm_x_um")[idx] / dx, col("fwhm_y_um")[idx] / dy), 90)
    hxy = int(min(hxy, max(4, math.ceil(3.5 * fw0)))) if np.isfinite(fw0) else hxy
    L = 2 * hxy + 1
    # at most MAX_PLANES per bead, evenly spread over its window (always the focal plane and both ends)
    chosen = np.zeros((len(half), off.size), dtype=bool)
    for h in np.unique(half):
        picks = np.unique(np.rint(np.linspace(-h, h, min(2 * h + 1, MAX_PLANES))).astype(int))
        chosen[np.ix_(half == h, picks + M)] = True
    use = chosen & (planes >= 0) & (planes < nz)
    boxes, valid = _boxes(
        stack,
        planes[use],
        np.repeat(yc, P)[use.ravel()],
        np.repeat(xc, P)[use.ravel()],
        (0, hxy, hxy),
        dtype=np.float64,
    )
    dz_um = (planes - z0[:, None]) * dz
    sigma0 = 0.5 * (col("fwhm_x_um")[idx] / dx + col("fwhm_y_um")[idx] / dy) / FWHM_PER_SIGMA
    sigma0 = np.where(np.isfinite(sigma0), sigma0, 1.0)
    grow = np.sqrt(1 + 3 * (2 * dz_um / np.where(fwhm_z > 0, fwhm_z, 1.0)[:, None]) ** 2)
    guess = np.repeat((sigma0[:, None] * grow)[use][:, None], 2, axis=1)
    m2 = GaussianModel(2, full=True)
    # start every plane at the bead's in-focus centre (dim planes far from focus have no centroid to start
    # from) and at its expected width; few iterations: a plane that needs more is too dim to help
    flat = boxes[:, 0].reshape(len(boxes), -1)
    mask = valid[:, 0].reshape(len(boxes), -1)
    p0 = m2.initial_guess(flat, (L, L), guess, mask.astype(float))
    centre = np.column_stack(
        [col("y_um")[idx] / dy - (yc - hxy), col("x_um")[idx] / dx - (xc - hxy)]
    )  # (B, 2) in box pixels
    p0[:, 2:4] = np.repeat(centre, P, axis=0)[use.ravel()]
    fit = fit_gaussians(m2, flat, (L, L), guess, mask=mask, p0=p0, max_iter=15, tol=1e-6)
    scale = np.array([dy, dx])
    units = [(math.cos(math.radians(a)), math.sin(math.radians(a))) for a in _DIRECTIONS.values()]

    def derived(p: np.ndarray) -> np.ndarray:
        cov = m2.covariance(p) * np.outer(scale, scale)[None]
        syy, sxx, sxy = cov[:, 0, 0], cov[:, 1, 1], cov[:, 0, 1]
        var = [ux * ux * sxx + uy * uy * syy + 2 * ux * uy * sxy for ux, uy in units]
        return np.column_stack([*var, p[:, 3] * dx, p[:, 2] * dy])

    vals, se = delta_method(derived, fit.params, fit.covariance)
    amp_se = np.sqrt(np.clip(fit.covariance[:, 0, 0], 0, None))
    good = fit.success & ~fit.at_bound & (fit.params[:, 0] > 5 * amp_se) & np.isfinite(se).all(axis=1)
    # back to (B, P) grids
    grid_v = np.full((B, P, vals.shape[1]), np.nan)
    grid_s = np.full((B, P, vals.shape[1]), np.nan)
    grid_v[use], grid_s[use] = vals, se
    grid_v[..., 4] += ((xc - hxy) * dx)[:, None]  # box-relative centres to image µm
    grid_v[..., 5] += ((yc - hxy) * dy)[:, None]
    ok_plane = np.zeros((B, P), dtype=bool)
    ok_plane[use] = good
    window = half * dz
    mean_var = 0.5 * (grid_v[..., 0] + grid_v[..., 1])
    mean_se = 0.5 * np.hypot(grid_s[..., 0], grid_s[..., 1])
    ok_plane = _widening_planes(mean_var, mean_se, ok_plane)
    vertex, vertex_se, coefs = {}, {}, {}
    for k, name in enumerate(_DIRECTIONS):
        coef, cov, _ = _parabolas(dz_um, grid_v[..., k], grid_s[..., k], ok_plane)
        coefs[name] = coef
        vertex[name], vertex_se[name] = _vertex(coef, cov, window)
    d_xy = vertex["x"] - vertex["y"]
    d_diag = vertex["p"] - vertex["m"]
    se_xy = np.hypot(vertex_se["x"], vertex_se["y"])
    se_diag = np.hypot(vertex_se["p"], vertex_se["m"])
    sep = np.hypot(d_xy, d_diag)
    with np.errstate(invalid="ignore", divide="ignore"):
        sep_se = np.sqrt((d_xy * se_xy) ** 2 + (d_diag * se_diag) ** 2) / sep
    sep_se = np.where(sep > 0, sep_se, np.hypot(se_xy, se_diag) / math.sqrt(2))
    col("astigmatic_separation_um")[idx], col("astigmatic_separation_se_um")[idx] = sep, sep_se
    col("astigmatic_separation_xy_um")[idx], col("astigmatic_separation_xy_se_um")[idx] = d_xy, se_xy
    col("astigmatic_separation_diag_um")[idx], col("astigmatic_separation_diag_se_um")[idx] = d_diag, se_diag
    col("astigmatism_axis_deg")[idx] = 0.5 * np.degrees(np.arctan2(d_diag, d_xy))
    # ellipticity along x/y half an axial FWHM below and above focus, from the fitted parabolas
    for name, sign in (("below", -1.0), ("above", 1.0)):
        zq = sign * fwhm_z / 2
        sx = coefs["x"][:, 0] + coefs["x"][:, 1] * zq + coefs["x"][:, 2] * zq**2
        sy = coefs["y"][:, 0] + coefs["y"][:, 1] * zq + coefs["y"][:, 2] * zq**2
        with np.errstate(invalid="ignore"):
            wx, wy = np.sqrt(sx), np.sqrt(sy)
        col(f"ellipticity_{name}")[idx] = (wx - wy) / (wx + wy)
    # lateral path of the centre: slope at focus (tilt) and symmetric curvature (coma-like bow)
    tilt, tilt_se, bow, bow_se = {}, {}, {}, {}
    for k, axis in ((4, "x"), (5, "y")):
        coef, cov, _ = _parabolas(dz_um, grid_v[..., k], grid_s[..., k], ok_plane)
        tilt[axis] = coef[:, 1]
        tilt_se[axis] = np.sqrt(np.clip(cov[:, 1, 1], 0, None))
        bow[axis] = coef[:, 2] * (fwhm_z / 2) ** 2
        bow_se[axis] = np.sqrt(np.clip(cov[:, 2, 2], 0, None)) * (fwhm_z / 2) ** 2
    t = np.hypot(tilt["x"], tilt["y"])
    with np.errstate(invalid="ignore", divide="ignore"):
        t_se = np.sqrt((tilt["x"] * tilt_se["x"]) ** 2 + (tilt["y"] * tilt_se["y"]) ** 2) / t
    t_se = np.where(t > 0, t_se, np.hypot(tilt_se["x"], tilt_se["y"]) / math.sqrt(2))
    col("psf_tilt_um_per_um")[idx], col("psf_tilt_se_um_per_um")[idx] = t, t_se
    col("psf_tilt_x_um_per_um")[idx], col("psf_tilt_y_um_per_um")[idx] = tilt["x"], tilt["y"]
    b = np.hypot(bow["x"], bow["y"])
    with np.errstate(invalid="ignore", divide="ignore"):
        b_se = np.sqrt((bow["x"] * bow_se["x"]) ** 2 + (bow["y"] * bow_se["y"]) ** 2) / b
    col("psf_bow_um")[idx] = b
    col("psf_bow_se_um")[idx] = np.where(b > 0, b_se, np.hypot(bow_se["x"], bow_se["y"]) / math.sqrt(2))
    # the direction the centre bows towards away from focus (the side of the comatic flare), image axes
    col("coma_axis_deg")[idx] = np.degrees(np.arctan2(bow["y"], bow["x"]))
    col("through_focus_planes")[idx] = ok_plane.sum(axis=1)
    fw = FWHM_PER_SIGMA * np.sqrt(np.clip(grid_v[..., :2], 0, None))
    return {
        "index": idx,
        "dz_um": dz_um,
        "valid": ok_plane,
        "fwhm_x_um": fw[..., 0],
        "fwhm_y_um": fw[..., 1],
        "x_um": grid_v[..., 4],
        "y_um": grid_v[..., 5],
        "coef_x": coefs["x"],
        "coef_y": coefs["y"],
    }


def flag_beads(col: Column, idx: np.ndarray, limits: AberrationLimits | None) -> np.ndarray:
    """The ``aberrations`` column of beads ``idx``: "astigmatic", "tilted", both, or "" (none found).

    Beads not analysed, or a channel without limits, get "".
    """
    out = np.array([""] * len(col("psf_tilt_um_per_um")), dtype=object)
    if limits is None:
        return out
    sep, tilt = col("astigmatic_separation_um"), col("psf_tilt_um_per_um")
    for i in idx:
        found = []
        if sep[i] > limits.astigmatism_um:
            found.append("astigmatic")
        if tilt[i] > limits.tilt:
            found.append("tilted")
        out[i] = ", ".join(found)
    return out


#: Channel metrics: (name, unit, per-bead standard-error column or None, description).
_SUMMARY = (
    (
        "astigmatic_separation_um",
        "um",
        "astigmatic_separation_se_um",
        "median distance along z between the two astigmatic line foci (through-focus 2D fits)",
    ),
    (
        "astigmatic_separation_xy_um",
        "um",
        "astigmatic_separation_xy_se_um",
        "median z of the narrowest x-width minus z of the narrowest y-width",
    ),
    (
        "astigmatic_separation_diag_um",
        "um",
        "astigmatic_separation_diag_se_um",
        "median focal separation along the diagonals, z(+45°) − z(−45°)",
    ),
    ("astigmatism_axis_deg", "deg", None, "median direction narrowest at the deeper line focus"),
    ("coma_axis_deg", "deg", None, "median direction the PSF centre bows towards away from focus (coma)"),
    ("ellipticity_below", None, None, "median (w_x − w_y)/(w_x + w_y) half an axial FWHM below focus"),
    ("ellipticity_above", None, None, "median (w_x − w_y)/(w_x + w_y) half an axial FWHM above focus"),
    (
        "psf_tilt_um_per_um",
        "um/um",
        "psf_tilt_se_um_per_um",
        "median lateral shift of the PSF centre per µm of z, at focus",
    ),
    (
        "psf_bow_um",
        "um",
        "psf_bow_se_um",
        "median coma-like shift of the centre, the same way above and below focus, at ± half an axial FWHM",
    ),
)


def summarise_aberrations(result: Result, acc: pd.DataFrame, c: int, limits: AberrationLimits | None) -> None:
    """Channel metrics of the through-focus signatures, their verdicts and warnings.

    Each metric is the median over accepted beads with the standard error of the median; with
    a single bead, that bead's own standard error where one exists, else none (not estimable).
    Verdicts and warnings need ``limits`` (the optics).

    Parameters
    ----------
    result : Result
        The result to add metrics, verdicts and warnings to.
    acc : pandas.DataFrame
        The accepted beads of the channel.
    c : int
        The channel.
    limits : AberrationLimits or None
        The thresholds, or None when the optics are not known.
    """
    medians: dict[str, float] = {}
    for name, unit, se_name, desc in _SUMMARY:
        if name not in acc:
            continue
        values = acc[name].to_numpy(dtype=float)
        med, _, se, k = robust_summary(values)
        if k == 0:
            continue
        kind = "standard error of the median"
        unc: float | None = se
        if k == 1:
            own = acc[se_name].to_numpy(dtype=float)[np.isfinite(values)] if se_name else np.array([])
            unc = float(own[0]) if own.size and math.isfinite(own[0]) else None
            kind = (
                "standard error of the one bead's through-focus fit"
                if unc is not None
                else "not estimable (one bead)"
            )
        medians[name] = med
        result.metrics.append(Metric(name, med, unit, unc, c, desc, kind))
    if limits is None:
        if medians:
            result.warnings.append(
                f"Channel {c}: astigmatism and PSF tilt are measured but not judged: their limits need the "
                "modality, NA, immersion index and a wavelength."
            )
        return
    result.metrics.append(
        Metric("astigmatism_limit_um", limits.astigmatism_um, "um", None, c, limits.astigmatism_source)
    )
    flags = acc["aberrations"] if "aberrations" in acc else pd.Series(dtype=object)
    sep = medians.get("astigmatic_separation_um")
    if sep is not None:
        result.verdicts.append(
            Verdict.check(
                "astigmatic_separation_um", sep, limits.astigmatism_um, "<=", limits.astigmatism_source, c
            )
        )
        if sep > limits.astigmatism_um:
            n_flag = int(flags.str.contains("astigmatic").sum())
            result.warnings.append(
                f"Channel {c}: astigmatic — the two line foci are {sep:.2f} µm apart along z (median of "
                f"{len(acc)} bead(s), {n_flag} above the limit; x focus minus y focus "
                f"{medians.get('astigmatic_separation_xy_um', math.nan):+.2f} µm), more than the "
                f"{limits.astigmatism_um:.2f} µm of λ/14 RMS astigmatism (Maréchal). Look for a tilted or "
                "stressed element, a misaligned camera or tube lens, or a cylindrical lens left in the path."
            )
    tilt = medians.get("psf_tilt_um_per_um")
    if tilt is not None and math.isfinite(limits.tilt):
        result.metrics.append(
            Metric("tilt_limit_um_per_um", limits.tilt, "um/um", None, c, limits.tilt_source)
        )
        result.verdicts.append(
            Verdict.check("psf_tilt_um_per_um", tilt, limits.tilt, "<=", limits.tilt_source, c)
        )
        if tilt > limits.tilt:
            result.warnings.append(
                f"Channel {c}: tilted PSF — its centre moves {tilt:.3f} µm sideways per µm of z at focus (limit "
                f"{limits.tilt:.3f}: half a lateral FWHM over one axial FWHM). Look for a tilted sample or "
                "coverslip, a decentred or non-telecentric objective, drift during the stack, or (light-sheet) "
                "stage-scanned data that is not deskewed."
            )

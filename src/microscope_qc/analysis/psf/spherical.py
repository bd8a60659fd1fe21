"""Spherical aberration from the axial intensity profile of each bead, calibrated on the vectorial model.

Spherical aberration makes the PSF asymmetric along z: rings (side lobes) on one side of focus,
a smooth fall on the other; its sign decides which side. Two signatures per bead:

* ``axial_asymmetry`` — a model-free signed number: the background-subtracted intensity on the
  line through the bead between 0.5 and 2.5 theoretical axial FWHM *above* its brightest plane,
  minus that *below*, over their sum. 0 for a symmetric PSF. It grows with the aberration up to
  about Maréchal's λ/14 RMS and then falls again (the brightest plane moves into the caustic), so
  it is a detector, not a scale.
* ``spherical_waves`` — the signed RMS wavefront error (waves, piston and defocus removed) of
  the Gibson–Lanni aberration whose on-axis profile fits the bead's best. The library of
  profiles is computed when first needed for the optics (NA, immersion index, wavelengths): the
  on-axis Richards–Wolf integral of the Gibson–Lanni phase, the model of ``psfmodels``
  (``vectorial_psf``; a test checks the two agree to 1.5 % of the peak). Each profile is fitted
  with an amplitude, a background and a sub-plane shift; the best library entry (refined by a
  parabola through its neighbours) is the estimate and Δχ² = 1 gives its standard error.

The aberration is parameterised as the optics suggest: for an oil objective (immersion index
within 0.03 of 1.515) as an error Δn of the immersion medium's refractive index over the design
working distance (150 µm, psfmodels' default), for air, water, glycerol or silicone objectives as
an error Δt of the coverslip thickness (design 170 µm, glass n 1.515) — what a correction collar
compensates. Both have the same sign convention: positive means the light crosses more optical
path at high angles than designed (a denser immersion medium, a thicker coverslip, or a sample
denser than the immersion medium); a sample less dense than the immersion (beads in water under
oil) comes out negative, as psfmodels' Gibson–Lanni model gives it.
Valid range: |spherical_waves| ≤ 0.6 waves (the library's span); the stack's z must increase
with the focal plane moving away from the objective into the sample (psfmodels' ``zv``); with
the opposite convention every sign flips.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from microscope_qc.detection import gather
from microscope_qc.instrument import MicroscopeSettings, Modality
from microscope_qc.results import Metric, Result, robust_summary
from microscope_qc.volume import Stack

#: design values of the Gibson–Lanni parameterisation (µm and refractive indices; psfmodels' defaults)
WORKING_DISTANCE_UM = 150.0
COVERSLIP_UM = 170.0
GLASS_INDEX = 1.515
#: an immersion index this close to the glass's is an oil objective: its aberration is an index error
OIL_TOLERANCE = 0.03
#: the library spans this signed RMS wavefront (waves) in steps of :data:`WAVE_STEP`
WAVE_SPAN = 0.5
WAVE_STEP = 0.025
#: the asymmetry windows, in theoretical axial FWHM from the brightest plane
WINDOW = (0.5, 2.5)
#: Δχ² by which the best fit must beat the best fit of the opposite sign for the sign to count
SIGN_CHI2 = 4.0
#: pupil samples of the on-axis integral
_PUPIL = 160
#: the farthest (in theoretical axial FWHM) an on-axis peak is looked for from the best focus
PEAK_RANGE = 3.0


@dataclass(frozen=True)
class SphericalModel:
    """The optics the on-axis profiles are computed for.

    ``wavelengths_um`` with ``powers``: the PSF is the product of the on-axis intensities at each
    wavelength raised to its power (widefield: emission; confocal: excitation × emission;
    multiphoton: excitation²). ``wave_um`` is the wavelength the RMS wavefront is quoted in.
    """

    na: float
    n: float
    wavelengths_um: tuple[float, ...]
    powers: tuple[int, ...]
    wave_um: float
    family: str  # "immersion" (Δn) or "coverslip" (Δt, µm)
    #: whether the axial profile is modelled well enough to estimate spherical aberration (widefield,
    #: multiphoton); a confocal or spinning-disk pinhole of unknown size widens it like an aberration
    judged: bool = True


def model_for(ms: MicroscopeSettings, channel: int) -> SphericalModel | None:
    """The on-axis model of a channel, or None when the optics are unknown or it is a light sheet."""
    if ms.na is None or ms.immersion_index is None or ms.modality is None:
        return None
    if ms.modality is Modality.LIGHT_SHEET or ms.na >= ms.immersion_index:
        return None
    ch = ms.channels[channel]
    ex = ch.wavelength_ex_nm / 1000 if ch.wavelength_ex_nm else None
    em = ch.wavelength_em_nm / 1000 if ch.wavelength_em_nm else None
    if ms.modality is Modality.WIDEFIELD:
        lam = em or ex
        if lam is None:
            return None
        waves: tuple[float, ...] = (lam,)
        powers: tuple[int, ...] = (1,)
        wave = lam
    elif ms.modality is Modality.MULTIPHOTON:
        if ex is None:
            return None
        waves, powers, wave = (ex,), (2,), ex
    else:  # confocal, spinning disk: excitation × emission through a small pinhole
        if ex is None and em is None:
            return None
        both = tuple(w for w in (ex, em) if w is not None)
        waves, powers, wave = both, (1,) * len(both), both[0]
    family = "immersion" if abs(ms.immersion_index - GLASS_INDEX) < OIL_TOLERANCE else "coverslip"
    judged = ms.modality in (Modality.WIDEFIELD, Modality.MULTIPHOTON)
    return SphericalModel(ms.na, ms.immersion_index, waves, powers, wave, family, judged)


def _pupil(na: float) -> np.ndarray:
    return (np.arange(_PUPIL) + 0.5) / _PUPIL * na  # s = n·sin θ, uniform in the pupil radius


def opd_um(model: SphericalModel, x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Gibson–Lanni optical path difference (µm) of aberration ``x`` (M,) at pupil coordinates ``s`` (S,)."""
    x = np.asarray(x, dtype=float)[:, None]
    if model.family == "immersion":
        n = model.n
        out: np.ndarray = WORKING_DISTANCE_UM * (np.sqrt((n + x) ** 2 - s**2) - np.sqrt(n * n - s**2))
        return out
    glass: np.ndarray = x * np.sqrt(GLASS_INDEX**2 - s**2)
    return glass


def _defocus_fit(model: SphericalModel, opd: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove piston and (non-paraxial) defocus n·cos θ from each row of ``opd`` (pupil-area weights).

    Returns the residual wavefront (M, S) and the focal shift (M,) that minimises it, µm.
    """
    w = s / s.sum()  # area element ∝ ρ dρ
    basis = np.column_stack([np.ones_like(s), np.sqrt(model.n**2 - s**2)])
    sw = np.sqrt(w)[:, None]
    coef = np.linalg.lstsq(basis * sw, (opd * np.sqrt(w)).T, rcond=None)[0]  # (2, M)
    resid = opd - (basis @ coef).T
    return resid, coef[1]


def rms_waves(model: SphericalModel, x: np.ndarray) -> np.ndarray:
    """Signed RMS wavefront error (waves at ``model.wave_um``) of aberration ``x``, piston and defocus removed.

    The sign is that of ``x`` (the sign convention of the module docstring).
    """
    s = _pupil(model.na)
    resid, _ = _defocus_fit(model, opd_um(model, x, s), s)
    w = s / s.sum()
    out: np.ndarray = (
        np.sign(np.asarray(x, dtype=float)) * np.sqrt((resid**2 * w).sum(axis=1)) / model.wave_um
    )
    return out


def on_axis_profiles(model: SphericalModel, x: np.ndarray, z_um: np.ndarray) -> np.ndarray:
    """On-axis intensity (M, Z) of aberrations ``x`` at focal positions ``z_um`` (relative to best focus).

    The Richards–Wolf integral on the axis, I(z) = |∫ √cos θ (1 + cos θ) sin θ e^{ik(OPD − z n cos θ)} dθ|²,
    with the Gibson–Lanni OPD; each row is normalised to its maximum.
    """
    s = _pupil(model.na)
    n = model.n
    cos_t = np.sqrt(1 - (s / n) ** 2)
    opd = opd_um(model, x, s)
    _, shift = _defocus_fit(model, opd, s)
    weight = np.sqrt(cos_t) * (1 + cos_t) * (s / n) / (n * cos_t)
    out = np.ones((len(shift), z_um.size))
    for lam, power in zip(model.wavelengths_um, model.powers, strict=True):
        k = 2 * np.pi / lam
        # e^{ik(OPD − (z + shift)·n cos θ)} = [e^{ik(OPD − shift·n cos θ)}] · [e^{−ik z n cos θ}]: one product
        pupil = np.exp(1j * k * (opd - shift[:, None] * (n * cos_t)[None, :])) * weight
        amp = pupil @ np.exp(-1j * k * np.outer(n * cos_t, z_um))
        out *= (np.abs(amp) ** 2) ** power
    normalised: np.ndarray = out / out.max(axis=1, keepdims=True)
    return normalised


@dataclass(frozen=True)
class Library:
    """On-axis profiles of a grid of aberrations, on a fine z grid around each one's peak."""

    waves: np.ndarray  # (M,) signed RMS waves
    x: np.ndarray  # (M,) the aberration parameter (Δn or Δt µm)
    dz_um: float  # fine grid step
    profiles: np.ndarray  # (M, Z) with the peak at index Z // 2


@lru_cache(maxsize=16)
def library(model: SphericalModel, half_range_um: float, dz_um: float) -> Library:
    """The profile library of ``model`` over ± ``half_range_um`` around each profile's peak (cached).

    The profiles are computed once on a grid of a quarter plane around the best (minimum RMS)
    focus, over the range plus the farthest a peak moves from that focus within the library
    (at most :data:`PEAK_RANGE` axial FWHM), then each is cut around its own peak.
    """
    per_unit = float(rms_waves(model, np.array([1e-3]))[0]) / 1e-3
    waves = np.round(np.arange(-WAVE_SPAN, WAVE_SPAN + WAVE_STEP / 2, WAVE_STEP), 9)
    x = waves / per_unit
    exact = rms_waves(model, x)
    x = np.where(exact != 0, x * waves / np.where(exact != 0, exact, 1.0), 0.0)  # exact RMS on the grid
    waves = rms_waves(model, x)
    fine = dz_um / 4
    n = model.n
    fwhm = 0.88 * min(model.wavelengths_um) / (n - math.sqrt(n * n - model.na**2))
    reach = PEAK_RANGE * fwhm
    steps = int(math.ceil((half_range_um + 2 * dz_um) / fine))
    extra = int(math.ceil(reach / fine))
    z = np.arange(-steps - extra, steps + extra + 1) * fine
    prof = on_axis_profiles(model, x, z)
    core = np.abs(z) <= reach
    peaks = np.flatnonzero(core)[0] + np.argmax(prof[:, core], axis=1)
    rows = np.stack([prof[m, p - steps : p + steps + 1] for m, p in enumerate(peaks)])
    return Library(waves, x, fine, rows)


def _peak(profile: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Sub-plane position of each row's maximum (parabola through the brightest plane and its neighbours)."""
    p = np.where(valid, profile, -np.inf)
    k = np.argmax(p, axis=1)
    rows = np.arange(len(p))
    km, kp = np.clip(k - 1, 0, p.shape[1] - 1), np.clip(k + 1, 0, p.shape[1] - 1)
    a, b, c = profile[rows, km], profile[rows, k], profile[rows, kp]
    den = a - 2 * b + c
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where((den < 0) & (km != k) & (kp != k), 0.5 * (a - c) / den, 0.0)
    pos: np.ndarray = k + np.clip(off, -0.5, 0.5)
    return pos


def _half_max_centre(z: np.ndarray, y: np.ndarray) -> float:
    """Midpoint of the half-maximum crossings either side of the maximum (linear interpolation); NaN if none."""
    k = int(np.argmax(y))
    h = 0.5 * y[k]
    below = np.flatnonzero(y[:k] < h)
    above = np.flatnonzero(y[k:] < h)
    if below.size == 0 or above.size == 0:
        return math.nan
    i, j = below[-1], k + above[0]
    left = z[i] + (h - y[i]) / (y[i + 1] - y[i]) * (z[i + 1] - z[i])
    right = z[j - 1] + (y[j - 1] - h) / (y[j - 1] - y[j]) * (z[j] - z[j - 1])
    return float(0.5 * (left + right))


def fit_spherical(
    lines: np.ndarray, valid: np.ndarray, dz_um: float, model: SphericalModel, axial_fwhm_um: float
) -> dict[str, np.ndarray]:
    """Signed axial asymmetry and spherical aberration of each bead from its line along z.

    Parameters
    ----------
    lines : numpy.ndarray
        (B, P) intensities on the line through each bead, centred near focus.
    valid : numpy.ndarray
        (B, P) False where a plane is outside the stack.
    dz_um : float
        Plane spacing.
    model : SphericalModel
        The optics.
    axial_fwhm_um : float
        The theoretical axial FWHM (sets the asymmetry windows).

    Returns
    -------
    dict of str to numpy.ndarray
        ``axial_asymmetry`` and ``_se``, ``spherical_waves`` and ``_se`` (NaN where the fit
        failed), and ``x``/``x_se``: the aberration in the model's parameter (Δn or Δt µm).
    """
    peak = _peak(lines, valid)  # in planes
    # planes within the asymmetry's reach (+ one FWHM) of the brightest plane: the rest is background
    reach = int(math.ceil((WINDOW[1] + 1) * axial_fwhm_um / dz_um))
    centre = np.rint(peak).astype(int)
    cols = centre[:, None] + np.arange(-reach, reach + 1)[None, :]
    inside = (cols >= 0) & (cols < lines.shape[1])
    rows = np.arange(len(lines))[:, None]
    lines = np.where(inside, lines[rows, np.clip(cols, 0, lines.shape[1] - 1)], 0.0)
    valid = inside & valid[rows, np.clip(cols, 0, valid.shape[1] - 1)]
    peak = peak - centre + reach
    B, P = lines.shape
    lib = library(model, float(round(reach * dz_um, 6)), float(round(dz_um, 6)))
    M, Z = lib.profiles.shape
    shifts = np.arange(-1.0, 1.0 + 1e-9, 0.25)  # planes, around the aligned peaks
    # position of each data plane on the library's fine grid, for every bead and shift (B, S, P)
    rel = (np.arange(P)[None, None, :] - peak[:, None, None] + shifts[None, :, None]) * dz_um
    fpos = rel / lib.dz_um + Z // 2
    i0 = np.clip(np.floor(fpos).astype(int), 0, Z - 2)
    frac = np.clip(fpos - i0, 0, 1)
    w = valid.astype(float)[:, None, :]  # (B, 1, P)
    y = np.where(valid, lines, 0.0)[:, None, :]
    sw, sy = w.sum(axis=2), (w * y).sum(axis=2)
    sse = np.empty((B, M, len(shifts)))
    bgs = np.empty((B, M, len(shifts)))
    for m in range(M):
        f = lib.profiles[m]
        model_v = f[i0] * (1 - frac) + f[i0 + 1] * frac  # (B, S, P)
        # weighted linear least squares for amplitude and background, per bead and shift
        wm = w * model_v
        sm, smm, smy = wm.sum(axis=2), (wm * model_v).sum(axis=2), (wm * y).sum(axis=2)
        det = sw * smm - sm**2
        with np.errstate(invalid="ignore", divide="ignore"):
            amp = (sw * smy - sm * sy) / det
            bg = (sy - amp * sm) / sw
        # Σw(y − a·f − b)² = Σwy² − a·Σwfy − b·Σwy at the least-squares optimum
        sse[:, m] = np.where(amp > 0, -(amp * smy + bg * sy), np.inf)
        bgs[:, m] = bg
    sse += (w * y**2).sum(axis=2)[:, None, :]
    best_s = sse.min(axis=2)  # (B, M)
    n_pts = valid.sum(axis=1)
    out: dict[str, np.ndarray] = {
        k: np.full(B, np.nan) for k in ("spherical_waves", "spherical_se", "x", "x_se")
    }
    per_x = np.gradient(lib.waves) / np.gradient(lib.x)
    background = np.full(B, np.nan)
    noise2 = np.full(B, np.nan)
    out_z, out_model, out_data = np.full((B, P), np.nan), np.full((B, P), np.nan), np.full((B, P), np.nan)
    for b in range(B):
        prof = best_s[b]
        if not np.isfinite(prof).any() or n_pts[b] < 8:
            continue
        m = int(np.argmin(prof))
        k = int(np.argmin(sse[b, m]))
        background[b] = bgs[b, m, k]
        # the best fit, for figures: the data and the model on the model's z (its peak at 0), peak-normalised
        fp = fpos[b, k]
        model_b = np.interp(fp, np.arange(Z), lib.profiles[m])
        data_b = lines[b] - bgs[b, m, k]
        scale = float((model_b * data_b)[valid[b]].sum() / max((model_b**2)[valid[b]].sum(), 1e-300))
        out_z[b], out_model[b] = (fp - Z // 2) * lib.dz_um, model_b
        out_data[b] = np.where(valid[b], data_b / scale if scale > 0 else np.nan, np.nan)
        sigma2 = max(float(prof[m]), 0.0) / max(n_pts[b] - 4, 1)
        noise2[b] = sigma2
        den = prof[m - 1] - 2 * prof[m] + prof[m + 1] if 0 < m < M - 1 else math.nan
        if den > 0 and sigma2 > 0:
            off = 0.5 * (prof[m - 1] - prof[m + 1]) / den
            wv = lib.waves[m] + off * WAVE_STEP
            se = math.sqrt(2 * sigma2 / (den / WAVE_STEP**2))
        else:  # at the library's edge: at least this much, uncertainty not estimable
            wv, se = float(lib.waves[m]), math.nan
        # a profile as well described by the mirror image (the best fit of the opposite sign) has no sign:
        # its value is only a width the model explains by aberration, and its uncertainty spans ± itself
        opposite = prof[np.sign(lib.waves) == -np.sign(wv)] if wv != 0 else prof
        if sigma2 > 0 and (np.min(opposite) - prof[m]) / sigma2 < SIGN_CHI2:
            se = max(se, abs(wv)) if math.isfinite(se) else abs(wv)
        out["spherical_waves"][b], out["spherical_se"][b] = wv, se
        out["x"][b] = float(np.interp(wv, lib.waves, lib.x))
        out["x_se"][b] = se / abs(float(np.interp(wv, lib.waves, per_x))) if math.isfinite(se) else math.nan
    # model-free asymmetry: the line interpolated at the same distances above and below the centre of its
    # half-maximum crossings (symmetric profile: 0), with the background of the best fit removed
    d = np.arange(WINDOW[0], WINDOW[1] + 1e-9, 0.125) * axial_fwhm_um / dz_um  # planes
    e_up, e_lo, n_w = np.full(B, np.nan), np.full(B, np.nan), np.zeros(B)
    planes = np.arange(P)
    for b in range(B):
        v = valid[b]
        if not math.isfinite(background[b]) or v.sum() < 8:
            continue
        sig = lines[b, v] - background[b]
        centre = _half_max_centre(planes[v], sig)
        if not math.isfinite(centre):
            continue
        pos_up, pos_lo = centre + d, centre - d
        good = (pos_up <= planes[v].max()) & (pos_lo >= planes[v].min())
        e_up[b] = np.interp(pos_up[good], planes[v], sig).sum()
        e_lo[b] = np.interp(pos_lo[good], planes[v], sig).sum()
        n_w[b] = good.sum() * 0.125 * axial_fwhm_um / dz_um  # independent planes in each window
    tot = e_up + e_lo
    with np.errstate(invalid="ignore", divide="ignore"):
        asym = (e_up - e_lo) / tot
        asym_se = 2 * np.sqrt(noise2 * n_w * (e_lo**2 + e_up**2)) / tot**2
    ok = (tot > 0) & (n_w > 0)
    out["profile_z_um"], out["profile_model"], out["profile_data"] = out_z, out_model, out_data
    out["axial_asymmetry"] = np.where(ok, asym, np.nan)
    out["axial_asymmetry_se"] = np.where(ok, asym_se, np.nan)
    return out


#: Maréchal: λ/14 RMS of wavefront error keeps the Strehl ratio at 0.8
MARECHAL_WAVES = 1.0 / 14.0


def focus_tolerance_um(model: SphericalModel) -> float:
    """Defocus whose RMS wavefront error (non-paraxial n·cos θ, piston removed) is λ/14, µm.

    A focal plane that moves by more than twice this across the field leaves part of the field
    outside Maréchal's criterion wherever the focus is put.
    """
    s = _pupil(model.na)
    w = s / s.sum()
    d = np.sqrt(model.n**2 - s**2)
    rms_per_um = math.sqrt(float((w * (d - (w * d).sum()) ** 2).sum())) / model.wave_um
    return MARECHAL_WAVES / rms_per_um


def spherical_columns(
    stack: Stack,
    idx: np.ndarray,
    col: Callable[[str], np.ndarray],
    hz: int,
    voxel: tuple[float, float, float],
    model: SphericalModel,
    axial_fwhm_um: float,
) -> dict[str, np.ndarray]:
    """Fill the spherical-aberration columns of beads ``idx`` from the line along z through each.

    Needs the bead columns ``x_um``, ``y_um`` and ``z_um``; fills ``axial_asymmetry`` (and
    ``_se``), ``spherical_waves`` (and ``_se``) and the equivalent error of the model's
    parameterisation: ``spherical_index_mismatch`` (oil) or ``spherical_coverslip_um``.

    Returns
    -------
    dict of str to numpy.ndarray
        For figures: ``index`` (B,) of the beads fitted, ``z_um`` (B, P) each plane's position
        relative to the fitted model's peak, ``data`` and ``model`` (B, P) the profile and its fit
        (background removed, the model's peak 1), ``waves`` (B,); empty when no bead was fitted.
    """
    dz, dy, dx = voxel
    z, y, x = col("z_um")[idx] / dz, col("y_um")[idx] / dy, col("x_um")[idx] / dx
    ok = np.isfinite(z) & np.isfinite(y) & np.isfinite(x)
    idx = idx[ok]
    if idx.size == 0:
        return {}
    zi = np.rint(z[ok]).astype(int)[:, None] + np.arange(-hz, hz + 1)[None, :]
    lines, valid = gather(stack, zi, np.rint(y[ok]).astype(int)[:, None], np.rint(x[ok]).astype(int)[:, None])
    out = fit_spherical(lines, valid, dz, model, axial_fwhm_um)
    col("axial_asymmetry")[idx], col("axial_asymmetry_se")[idx] = (
        out["axial_asymmetry"],
        out["axial_asymmetry_se"],
    )
    col("spherical_waves")[idx], col("spherical_waves_se")[idx] = out["spherical_waves"], out["spherical_se"]
    name = "spherical_index_mismatch" if model.family == "immersion" else "spherical_coverslip_um"
    col(name)[idx], col(f"{name}_se")[idx] = out["x"], out["x_se"]
    return {
        "index": idx,
        "z_um": out["profile_z_um"],
        "data": out["profile_data"],
        "model": out["profile_model"],
        "waves": out["spherical_waves"],
    }


#: channel metrics: (name, unit, per-bead SE column, description)
_SUMMARY = (
    (
        "axial_asymmetry",
        None,
        "axial_asymmetry_se",
        "median signed asymmetry of the axial profile (above − below focus)",
    ),
    (
        "spherical_waves",
        "waves",
        "spherical_waves_se",
        "median signed RMS spherical aberration (Gibson–Lanni fit of the axial profile)",
    ),
    (
        "spherical_index_mismatch",
        None,
        "spherical_index_mismatch_se",
        "immersion-index error equivalent to the spherical aberration (oil, 150 µm working distance)",
    ),
    (
        "spherical_coverslip_um",
        "um",
        "spherical_coverslip_um_se",
        "coverslip-thickness error equivalent to the spherical aberration (design 170 µm)",
    ),
)


#: the fraction of beads that must share the median's sign, each beyond its own uncertainty, for the sign to count
SIGN_AGREEMENT = 0.8


def _sign_agreed(acc: pd.DataFrame, name: str) -> bool:
    """Whether most beads give the median's sign of ``name``, each beyond its standard error."""
    v = acc[name].to_numpy(dtype=float)
    se = acc[f"{name}_se"].to_numpy(dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return False
    sign = np.sign(np.median(v[ok]))
    agree = (np.sign(v[ok]) == sign) & (np.abs(v[ok]) > np.nan_to_num(se[ok], nan=np.inf))
    return bool(agree.mean() >= SIGN_AGREEMENT)


def summarise_spherical(result: Result, acc: pd.DataFrame, c: int, model: SphericalModel | None) -> None:
    """Channel metrics of the spherical signatures (median over beads, SE of the median) and the tolerances."""
    for name, unit, se_name, desc in _SUMMARY:
        if name not in acc:
            continue
        values = acc[name].to_numpy(dtype=float)
        med, _, se, k = robust_summary(values)
        if k == 0:
            continue
        unc: float | None = se
        kind = "standard error of the median"
        if k == 1:
            own = acc[se_name].to_numpy(dtype=float)[np.isfinite(values)]
            unc = float(own[0]) if own.size and math.isfinite(own[0]) else None
            kind = (
                "standard error of the one bead's profile fit"
                if unc is not None
                else "not estimable (one bead)"
            )
        if name != "axial_asymmetry" and unc is not None and not _sign_agreed(acc, name):
            unc, kind = max(unc, abs(med)), "the beads disagree on the sign: ± the value itself"
        result.metrics.append(Metric(name, med, unit, unc, c, desc, kind))
    if model is None:
        return
    if model.judged:
        result.metrics.append(
            Metric(
                "spherical_limit_waves",
                MARECHAL_WAVES,
                "waves",
                None,
                c,
                "Maréchal: λ/14 RMS wavefront error",
            )
        )
    result.metrics.append(
        Metric(
            "focus_tolerance_um",
            focus_tolerance_um(model),
            "um",
            None,
            c,
            "defocus of λ/14 RMS wavefront error (Maréchal) at this NA and wavelength",
        )
    )

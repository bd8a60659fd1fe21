"""Strehl ratio and halo of each bead against the ideal vectorial PSF: the dirty-objective signature.

A dirty or scratched front lens scatters light out of the PSF's core into a broad, faint halo:
the core keeps its width but the peak drops relative to the light collected (the Strehl ratio).
Per accepted bead, in its focal plane:

* ``peak_fraction`` — the peak (interpolated to the bead's centre and focus by log-parabolas
  through the brightest voxel and its neighbours in x, y and z) over the background-subtracted
  energy within :data:`RADIUS_UM` of the centre (background: the median of the ring
  :data:`RADIUS_UM`–:data:`RING_UM`);
* ``strehl`` — ``peak_fraction`` over the same quantity of the ideal PSF for the same optics,
  pixel and bead: the in-focus Richards–Wolf (Debye) intensity of an aberration-free aplanatic
  objective with unpolarised light, |I₀|² + 2|I₁|² + |I₂|², convolved with the bead's projected
  sphere and integrated over the pixel (on a grid 5 × finer than the pixel), centred on a pixel;
* ``halo_fraction`` — the energy beyond :data:`HALO_FWHM` × the ideal lateral FWHM (and within
  :data:`RADIUS_UM`) over the energy within :data:`RADIUS_UM`; the ideal's value is given beside it.

Only for widefield channels with known NA, immersion index and emission wavelength (a confocal
pinhole or two-photon excitation changes the ideal PSF).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd

from microscope_qc.analysis.psf.bessel import j0_j1
from microscope_qc.analysis.psf.findings import COMA_BOW_PER_WAVE, MARECHAL_WAVES
from microscope_qc.detection import gather
from microscope_qc.instrument import MicroscopeSettings, Modality
from microscope_qc.results import Metric, Result
from microscope_qc.volume import Stack

__all__ = [
    "RADIUS_UM",
    "RING_UM",
    "HALO_FWHM",
    "IdealPlane",
    "ideal_for",
    "ideal_plane",
    "aberration_waves",
    "strehl_columns",
    "summarise_strehl",
]

#: energy is summed within this radius of the bead's centre, µm
RADIUS_UM = 1.5
#: the background is the median of the ring from RADIUS_UM to this radius, µm
RING_UM = 2.0
#: the halo starts this many ideal lateral FWHM from the centre
HALO_FWHM = 2.5
#: beads measured at once (5 planes × the ring's box each: at 65 nm pixels a bead's arrays take
#: about 160 kB each and the chunk holds about six of them, so 16 beads keep this near 15 MB)
_CHUNK = 16
#: sub-pixels per pixel of the ideal PSF (odd: a sub-pixel sits on the pixel's centre)
_OVERSAMPLE = 5


class IdealPlane:
    """The ideal in-focus PSF, pixel-integrated and bead-blurred, and its numbers."""

    def __init__(self, image: np.ndarray, dxy_um: float, fwhm_um: float) -> None:
        self.image = image
        c = image.shape[0] // 2
        yy, xx = np.indices(image.shape)
        r = np.hypot(yy - c, xx - c) * dxy_um
        inside = r <= RADIUS_UM
        energy = float(image[inside].sum())
        #: the centre pixel over the energy within RADIUS_UM
        self.peak_fraction = float(image[c, c]) / energy
        #: the lateral FWHM of the point source's intensity, µm
        self.fwhm_um = fwhm_um
        #: energy beyond HALO_FWHM × FWHM over the energy within RADIUS_UM
        self.halo_fraction = float(image[inside & (r > HALO_FWHM * fwhm_um)].sum()) / energy


def _radial_intensity(na: float, n: float, wavelength_um: float, r_um: np.ndarray) -> np.ndarray:
    """In-focus Debye intensity of an aplanatic objective, unpolarised light, at radii ``r_um``."""
    alpha = math.asin(min(na / n, 1.0))
    steps = 120  # midpoint rule over the aperture angle: the integrands are smooth
    theta = (np.arange(steps) + 0.5) / steps * alpha
    st, ct = np.sin(theta), np.cos(theta)
    apod = np.sqrt(ct) * st * (alpha / steps)
    v = 2 * math.pi * n / wavelength_um * r_um[:, None] * st[None, :]
    j0, j1 = j0_j1(v)  # scipy.special.j0, j1 to ~1e-15
    with np.errstate(divide="ignore", invalid="ignore"):
        j2 = np.where(v > 1e-9, 2 * j1 / v - j0, 0.0)  # the recurrence; J₂(0) = 0
    i0 = (j0 * (apod * (1 + ct))).sum(axis=1)
    i1 = (j1 * (apod * st)).sum(axis=1)
    i2 = (j2 * (apod * (1 - ct))).sum(axis=1)
    out: np.ndarray = i0**2 + 2 * i1**2 + i2**2
    return out


@lru_cache(maxsize=16)
def ideal_plane(na: float, n: float, wavelength_um: float, dxy_um: float, bead_um: float) -> IdealPlane:
    """The ideal in-focus plane for these optics, pixel and bead (cached).

    Parameters
    ----------
    na, n : float
        Numerical aperture and immersion index.
    wavelength_um : float
        Emission wavelength, µm.
    dxy_um : float
        Pixel size, µm.
    bead_um : float
        Bead diameter, µm (0: a point).

    Returns
    -------
    IdealPlane
        The pixel image (centred on its middle pixel) and its peak and halo fractions.
    """
    s = _OVERSAMPLE
    half = int(math.ceil(RADIUS_UM / dxy_um)) + 2
    fine = dxy_um / s
    m = (2 * half + 1) * s
    c = (m - 1) / 2
    yy, xx = np.indices((m, m))
    r = np.hypot(yy - c, xx - c) * fine
    radii = np.arange(0.0, float(r.max()) + 2 * fine, fine / 2)
    profile = _radial_intensity(na, n, wavelength_um, radii)
    img = np.interp(r, radii, profile)
    i = int(np.argmax(profile < profile[0] / 2))  # the first radius below half the maximum
    h = profile[0] / 2
    half_max = radii[i - 1] + (profile[i - 1] - h) / (profile[i - 1] - profile[i]) * (radii[i] - radii[i - 1])
    if bead_um > 0:
        rb = bead_um / 2
        k = int(math.ceil(rb / fine))
        by, bx = np.indices((2 * k + 1, 2 * k + 1)) - k
        rr2 = (by * fine) ** 2 + (bx * fine) ** 2
        disk = np.sqrt(np.clip(rb * rb - rr2, 0, None))  # the sphere's thickness along z
        if disk.sum() == 0:
            disk[k, k] = 1.0
        disk /= disk.sum()
        f = np.fft.rfft2(img, s=(m + 2 * k, m + 2 * k))
        g = np.fft.rfft2(disk, s=(m + 2 * k, m + 2 * k))
        img = np.fft.irfft2(f * g, s=(m + 2 * k, m + 2 * k))[k : k + m, k : k + m]
    pixels = img.reshape(2 * half + 1, s, 2 * half + 1, s).sum(axis=(1, 3))
    return IdealPlane(pixels, dxy_um, 2 * float(half_max))


def _log_vertex(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Value at the vertex of the parabola through log(a), log(b), log(c) at −1, 0, 1 (b the largest)."""
    la, lb, lc = (np.log(np.clip(v, 1e-12, None)) for v in (a, b, c))
    curv = la - 2 * lb + lc
    corr = np.where(curv < 0, -((la - lc) ** 2) / (8 * np.where(curv < 0, curv, -1.0)), 0.0)
    out: np.ndarray = np.exp(lb + np.clip(corr, 0.0, 0.5))
    return out


def strehl_columns(
    stack: Stack,
    idx: np.ndarray,
    col: Callable[[str], np.ndarray],
    voxel: tuple[float, float, float],
    ideal: IdealPlane,
) -> dict[str, np.ndarray]:
    """Per-bead Strehl ratio, peak fraction and halo fraction of the beads ``idx``.

    Parameters
    ----------
    stack : Stack
        The channel's (Z, Y, X) stack.
    idx : ndarray of int
        The beads (rows of the bead columns) to measure.
    col : callable
        ``col(name)`` gives a bead column (``z_um``, ``y_um``, ``x_um``: fitted centres).
    voxel : tuple of float
        (dz, dy, dx), µm.
    ideal : IdealPlane
        The ideal PSF of the channel (:func:`ideal_plane`).

    Returns
    -------
    dict of ndarray
        ``strehl``, ``peak_fraction``, ``halo_fraction``: one value per bead of ``idx`` (NaN
        where the bead's box leaves the stack or holds no energy).
    """
    parts = [
        _strehl_chunk(stack, idx[i : i + _CHUNK], col, voxel, ideal)
        for i in range(0, max(len(idx), 1), _CHUNK)
    ]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _strehl_chunk(
    stack: Stack,
    idx: np.ndarray,
    col: Callable[[str], np.ndarray],
    voxel: tuple[float, float, float],
    ideal: IdealPlane,
) -> dict[str, np.ndarray]:
    """:func:`strehl_columns` for at most :data:`_CHUNK` beads (bounded memory)."""
    dz, dy, dx = voxel
    nz = stack.shape[0]
    zc = col("z_um")[idx] / dz
    yc = col("y_um")[idx] / dy
    xc = col("x_um")[idx] / dx
    rad = int(math.ceil(RING_UM / min(dy, dx)))
    oy, ox = np.mgrid[-rad : rad + 1, -rad : rad + 1]
    k0 = np.rint(zc).astype(int)
    y0, x0 = np.rint(yc).astype(int), np.rint(xc).astype(int)
    dk = np.arange(-2, 3)
    z = np.clip(k0[:, None, None, None] + dk[None, :, None, None], 0, nz - 1)
    y = y0[:, None, None, None] + oy[None, None]
    x = x0[:, None, None, None] + ox[None, None]
    vals, valid = gather(stack, z, y, x)  # (B, 5, L, L)
    r = np.hypot((y - yc[:, None, None, None]) * dy, (x - xc[:, None, None, None]) * dx) * np.ones_like(vals)
    inside = r <= RADIUS_UM
    ring = (r > RADIUS_UM) & (r <= RING_UM) & valid  # near the image's edge: the part inside it
    ok = (valid | ~inside).all(axis=(1, 2, 3)) & (ring.sum(axis=(2, 3)) >= 20).all(axis=1)
    ok &= (k0 >= 2) & (k0 <= nz - 3)
    with np.errstate(all="ignore"):
        bg = np.nanmedian(np.where(ring, vals, np.nan), axis=(2, 3))  # (B, 5)
    sig = vals - bg[..., None, None]
    energy = np.where(inside, sig, 0.0).sum(axis=(2, 3))
    halo = np.where(inside & (r > HALO_FWHM * ideal.fwhm_um), sig, 0.0).sum(axis=(2, 3))
    # per plane: the brightest pixel within a pixel of the centre, interpolated with its neighbours
    b = np.arange(len(idx))
    cen = sig[:, :, rad - 1 : rad + 2, rad - 1 : rad + 2].reshape(len(idx), len(dk), 9)
    j = np.argmax(cen, axis=2)  # (B, 5)
    py, px = rad - 1 + j // 3, rad - 1 + j % 3
    peaks = np.empty((len(idx), len(dk)))
    for p in range(len(dk)):

        def at(ddy: int, ddx: int, p: int = p) -> np.ndarray:
            out: np.ndarray = sig[b, p, py[:, p] + ddy, px[:, p] + ddx]
            return out

        centre = np.clip(at(0, 0), 1e-12, None)
        vy = _log_vertex(at(-1, 0), centre, at(1, 0)) / centre
        vx = _log_vertex(at(0, -1), centre, at(0, 1)) / centre
        peaks[:, p] = centre * vy * vx / np.where(energy[:, p] > 0, energy[:, p], np.nan)
    # the brightest of the middle three planes, interpolated with its neighbours
    k = 1 + np.argmax(np.nan_to_num(peaks[:, 1:4], nan=-1.0), axis=1)
    frac = _log_vertex(peaks[b, k - 1], peaks[b, k], peaks[b, k + 1])
    e_k = energy[b, k]
    ok &= e_k > 0
    nan = np.full(len(idx), np.nan)
    return {
        "peak_fraction": np.where(ok, frac, nan),
        "strehl": np.where(ok, frac / ideal.peak_fraction, nan),
        "halo_fraction": np.where(ok, halo[b, k] / np.where(ok, e_k, 1.0), nan),
    }


def ideal_for(
    ms: MicroscopeSettings, c: int, voxel: tuple[float, float, float], bead_um: float | None
) -> IdealPlane | None:
    """The ideal plane of channel ``c``, or None when it is not modelled (not widefield, optics unknown)."""
    if ms.na is None or ms.immersion_index is None or ms.modality is not Modality.WIDEFIELD:
        return None
    if ms.na >= ms.immersion_index or abs(voxel[1] - voxel[2]) > 0.01 * voxel[1]:
        return None
    em = ms.channels[c].wavelength_em_nm
    if not em:
        return None
    return ideal_plane(
        float(ms.na), float(ms.immersion_index), em / 1000, round(voxel[1], 6), float(bead_um or 0.0)
    )


def aberration_waves(metrics: dict[str, float]) -> float | None:
    """RMS wavefront error (waves) of the aberrations measured on the channel, combined in quadrature.

    Spherical: ``spherical_waves``; astigmatism: ``astigmatic_separation_um`` /
    ``astigmatism_limit_um`` × λ/14 (the separation grows linearly with the amplitude); coma:
    ``psf_bow_um`` / (:data:`COMA_BOW_PER_WAVE` × ``theoretical_fwhm_xy_physical_um``). A term
    that was not measured counts as zero; None when none was.

    Parameters
    ----------
    metrics : dict of str to float
        The channel's metric values by name.

    Returns
    -------
    float or None
        The combined RMS wavefront error, waves.
    """

    def get(name: str) -> float | None:
        v = metrics.get(name)
        return v if v is not None and math.isfinite(v) else None

    terms = []
    if (w := get("spherical_waves")) is not None:
        terms.append(w)
    sep, lim = get("astigmatic_separation_um"), get("astigmatism_limit_um")
    if sep is not None and lim:
        terms.append(sep / lim * MARECHAL_WAVES)
    bow, fw = get("psf_bow_um"), get("theoretical_fwhm_xy_physical_um")
    if bow is not None and fw:
        terms.append(bow / (COMA_BOW_PER_WAVE * fw))
    return math.sqrt(sum(t * t for t in terms)) if terms else None


def summarise_strehl(result: Result, acc: pd.DataFrame, c: int, ideal: IdealPlane | None) -> None:
    """Add the channel's Strehl, halo and explained-Strehl metrics.

    ``strehl_ratio`` (mean over beads ± SE), ``halo_fraction`` and ``ideal_halo_fraction``;
    ``aberration_strehl``, Maréchal's exp(−(2πσ)²) for the RMS wavefront σ of the aberrations
    measured on the channel (:func:`aberration_waves`); ``residual_strehl`` = ``strehl_ratio``
    / ``aberration_strehl``, the part of the loss those aberrations do not explain (its SE
    scaled alike). Call after the aberration metrics are in ``result``.

    Parameters
    ----------
    result : Result
        Where the metrics go.
    acc : DataFrame
        The accepted beads (with ``strehl`` and ``halo_fraction`` columns).
    c : int
        The channel.
    ideal : IdealPlane or None
        The channel's ideal PSF (None: nothing is added).
    """
    if ideal is None or "strehl" not in acc:
        return
    s = acc["strehl"].to_numpy(dtype=float)
    s = s[np.isfinite(s)]
    if s.size < 2:
        return
    h = acc["halo_fraction"].to_numpy(dtype=float)
    h = h[np.isfinite(h)]
    n = s.size
    result.metrics.append(
        Metric(
            "strehl_ratio",
            float(s.mean()),
            None,
            float(s.std(ddof=1) / math.sqrt(n)),
            c,
            f"mean over {n} beads of peak / energy within {RADIUS_UM} µm, relative to the ideal vectorial PSF",
        )
    )
    result.metrics.append(
        Metric(
            "halo_fraction",
            float(h.mean()),
            None,
            float(h.std(ddof=1) / math.sqrt(h.size)) if h.size > 1 else None,
            c,
            f"energy beyond {HALO_FWHM} ideal FWHM over the energy within {RADIUS_UM} µm (mean over beads)",
        )
    )
    result.metrics.append(
        Metric("ideal_halo_fraction", ideal.halo_fraction, None, None, c, "the same for the ideal PSF")
    )
    values = {m.name: m.value for m in result.metrics if m.channel == c}
    sigma = aberration_waves(values)
    if sigma is None:
        return
    predicted = math.exp(-((2 * math.pi * sigma) ** 2))
    result.metrics.append(
        Metric(
            "aberration_strehl",
            predicted,
            None,
            None,
            c,
            f"Maréchal exp(−(2πσ)²) for the {sigma:.3f} waves RMS of spherical, astigmatism and coma measured",
        )
    )
    if predicted > 0:
        result.metrics.append(
            Metric(
                "residual_strehl",
                float(s.mean()) / predicted,
                None,
                float(s.std(ddof=1) / math.sqrt(n)) / predicted,
                c,
                "Strehl ratio over the Strehl the measured aberrations explain",
            )
        )

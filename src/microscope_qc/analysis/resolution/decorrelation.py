"""Image decorrelation analysis (Descloux, Grußmayer & Radenovic, Nat Methods 16, 918–924, 2019).

The published algorithm, step by step (names as in the paper and its ``ImDecorr`` code):

1. the image, mean subtracted and apodised with a 20-pixel cosine edge, is Fourier transformed
   (``I(k)``), and normalised, ``Iₙ(k) = I(k)/|I(k)|``; everything is restricted to the disc
   |k| ≤ 1 (k normalised to Nyquist = 1);
2. the decorrelation function is the Pearson correlation of ``I`` with ``Iₙ`` low-passed by a
   binary disc of radius r, for r in 50 steps from 0 to 1:
   ``d(r) = Σ_{|k|<r} Re(I Iₙ*) / √(Σ_{|k|<1} |I|² · Σ_{|k|<r} |Iₙ|²)``;
3. its local maximum (``getDcorrMax``: the largest value that is not the last point, or stands
   more than 0.001 above the curve's minimum after it) gives a cut-off ``r₀`` and amplitude ``A₀``;
4. the same is done for ``Ng = 10`` high-pass filtered spectra ``I(k)·(1 − exp(−2 g² k²))`` with
   ``g`` geometrically spaced from N/4 to 0.15, then refined once: 10 filters between the
   neighbours of the best one and 50 radii from one step below its peak to 0.4 above;
5. ``k_c`` is the largest peak position of all these curves, and the resolution ``2·pixel/k_c``.

Since ``|Iₙ| = 1``, ``Re(I Iₙ*) = |I|``; the sums are taken over rings a sixteenth of a frequency
step wide (one ``bincount`` per quantity) and every filter and disc acts on the ring sums, so the
21 + 10 curves cost little beyond the one ``rfft2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.resolution.fourier import apodize, check_image, half_plane, rfft2

__all__ = [
    "DecorrelationCurves",
    "decorrelation_analysis",
    "dcorr_max",
    "dcorr_max_rows",
    "SECTORS",
    "sector_index",
    "RingSums",
    "RingGeometry",
    "curves_from_sums",
    "cutoffs_from_sums",
]

#: peak significance of ``getDcorrMax`` (numerical noise)
_DT = 0.001


@dataclass(frozen=True)
class DecorrelationCurves:
    """Every decorrelation curve computed and the cut-off they give.

    Attributes
    ----------
    radii : numpy.ndarray
        (n_curves, n_radii) normalised frequencies (Nyquist 1) of each curve's points.
    d : numpy.ndarray
        (n_curves, n_radii) the decorrelation functions; row 0 is the unfiltered ``d₀``.
    g : numpy.ndarray
        (n_curves,) high-pass parameter of each curve (NaN for ``d₀``).
    kc : numpy.ndarray
        (n_curves,) peak position of each curve (0: no peak).
    amplitude : numpy.ndarray
        (n_curves,) peak height of each curve.
    kc_max : float
        The largest ``kc`` (0 when no curve has a peak).
    a0 : float
        Peak height of the unfiltered curve (Descloux et al.: an SNR indicator).
    """

    radii: npt.NDArray[np.float64]
    d: npt.NDArray[np.float64]
    g: npt.NDArray[np.float64]
    kc: npt.NDArray[np.float64]
    amplitude: npt.NDArray[np.float64]
    kc_max: float
    a0: float


def dcorr_max(d: npt.NDArray[np.float64]) -> tuple[int, float]:
    """``getDcorrMax`` of the published code: index and height of the decorrelation peak.

    Parameters
    ----------
    d : numpy.ndarray
        One decorrelation curve.

    Returns
    -------
    tuple
        ``(index, amplitude)``; ``(0, 0.0)`` when the curve only rises (no peak).
    """
    # plain Python on a list of about 50 values: the loop below runs once per point of a rising
    # curve, and NumPy's per-call cost on such short arrays was most of a small image's analysis
    a = np.asarray(d, dtype=np.float64)
    t: list[float] = a.tolist()
    suffix_min: list[float] = np.minimum.accumulate(a[::-1])[::-1].tolist()
    amp = max(t)
    ind = t.index(amp)  # the first maximum, as MATLAB's max
    while ind == len(t) - 1:
        t.pop()
        if not t:
            return 0, 0.0
        amp = max(t)
        ind = t.index(amp)
        after = suffix_min[ind]
        if amp - after > _DT:
            break
        t[ind] = after
        ind = len(t) - 1
    return ind, amp


def dcorr_max_rows(d: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """:func:`dcorr_max` of every row of ``d`` at once, with the same results.

    ``getDcorrMax`` drops the last point while it is the maximum, and takes the maximum of what is
    left if it stands more than 0.001 above the lowest point after it. While every maximum it
    rejects is the last point left, this is the largest prefix length ``L`` whose first maximum
    passes that test, found here for all rows with running maxima and minima; a row where the
    published loop rejects an earlier point (and lowers it) is handed to :func:`dcorr_max`.

    Parameters
    ----------
    d : numpy.ndarray
        (rows, points) decorrelation curves.

    Returns
    -------
    tuple of numpy.ndarray
        Peak index and height per row (``0, 0.0`` for a row without a peak).
    """
    d = np.asarray(d, dtype=np.float64)
    rows, n = d.shape
    idx = np.arange(n)
    suffix_min = np.minimum.accumulate(d[:, ::-1], axis=1)[:, ::-1]
    running = np.maximum.accumulate(d, axis=1)
    new_max = np.ones_like(d, dtype=bool)
    new_max[:, 1:] = d[:, 1:] > running[:, :-1]
    # first maximum of the prefix d[:, :L] is first_max[:, L - 1]
    first_max = np.maximum.accumulate(np.where(new_max, idx, 0), axis=1)
    amp = np.take_along_axis(d, first_max, axis=1)
    passes = amp - np.take_along_axis(suffix_min, first_max, axis=1) > _DT
    at_end = first_max == idx  # the prefix's maximum is its last point
    # rows whose maximum is not the last point: no loop
    direct = first_max[:, -1] != n - 1
    # else the largest prefix (length < n) whose first maximum passes; the loop gives it only if
    # every longer prefix rejected its last point
    last = np.where(passes[:, : n - 1], idx[: n - 1], -1).max(axis=1) if n > 1 else np.full(rows, -1)
    ends_after = np.ones((rows, n), dtype=bool)  # ends_after[:, j]: at_end over j … n − 2
    if n > 1:
        ends_after[:, : n - 1] = np.logical_and.accumulate(at_end[:, n - 2 :: -1], axis=1)[:, ::-1]
    simple = ends_after[np.arange(rows), last + 1]
    found = last >= 0
    pick = np.where(direct, n - 1, np.maximum(last, 0))
    ind = np.where(direct | (simple & found), first_max[np.arange(rows), pick], 0).astype(np.intp)
    out = np.where(direct | (simple & found), amp[np.arange(rows), pick], 0.0)
    for k in np.flatnonzero(~direct & ~simple):  # the published loop lowers an earlier maximum
        ind[k], out[k] = dcorr_max(d[k])
    return ind, out


#: sectors of the frequency plane: within 22.5° of the x axis (structure resolved along x), of the
#: y axis, and the diagonals (as the sector FRC)
SECTORS = ("x", "y", "diagonal")


def sector_index(shape: tuple[int, int]) -> npt.NDArray[np.intp]:
    """The sector (0: x, 1: y, 2: diagonal) of every ``rfft2`` element of an image of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        (Y, X) of the image.

    Returns
    -------
    numpy.ndarray
        Integer sector per element, shape of the rfft2.
    """
    fy = np.abs(np.fft.fftfreq(shape[0]))[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    tan = np.tan(np.pi / 8)
    return np.asarray(np.where(fy <= tan * fx, 0, np.where(fx <= tan * fy, 1, 2)), dtype=np.intp)


@dataclass(frozen=True)
class RingSums:
    """Ring sums of one spectrum: |I|, |I|² and the count of nonzero elements per ring.

    Rings are a fraction of a frequency step wide (:class:`RingGeometry`), one row per sector
    (:data:`SECTORS`); the whole plane is the sum of the rows.

    Attributes
    ----------
    count, abs_sum, power : numpy.ndarray
        (3, n_bins) sums per sector and ring.
    r : numpy.ndarray
        (n_bins,) mean normalised radius of each ring.
    """

    count: npt.NDArray[np.float64]
    abs_sum: npt.NDArray[np.float64]
    power: npt.NDArray[np.float64]
    r: npt.NDArray[np.float64]


class RingGeometry:
    """Ring and sector index of every ``rfft2`` element inside the Nyquist disc, for one image shape.

    Rings are ``1/rings_per_step`` of a frequency step (1/N cycles per pixel) wide: 16 for the
    whole-image analysis; the tiles of a map use 4, still four per step of the finest radii grid
    (the refined pass's), at a quarter of the cost per curve.
    """

    def __init__(self, shape: tuple[int, int], rings_per_step: int = 16) -> None:
        plane = half_plane(shape)
        radius = 2.0 * plane.radius  # normalised: Nyquist = 1 (a frequency step is 2/N)
        self.shape = shape
        self.step = 2.0 / (rings_per_step * max(shape))
        self.n_bins = int(np.ceil(1.0 / self.step)) + 1
        self.inside = (radius < 1.0).ravel()
        r = radius.ravel()[self.inside]
        self.weight = np.broadcast_to(plane.weight, radius.shape).ravel()[self.inside]
        ring = np.minimum((r / self.step).astype(np.intp), self.n_bins - 1)
        self.index = ring + self.n_bins * sector_index(shape).ravel()[self.inside]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_r = np.bincount(ring, self.weight * r, self.n_bins) / np.bincount(
                ring, self.weight, self.n_bins
            )
        self.r = np.where(np.isfinite(mean_r), mean_r, (np.arange(self.n_bins) + 0.5) * self.step)

    def sums(self, magnitudes: npt.NDArray[np.float64]) -> list[RingSums]:
        """Ring sums of a stack of spectra' magnitudes, one :class:`RingSums` per spectrum.

        Parameters
        ----------
        magnitudes : numpy.ndarray
            (n, Y, X // 2 + 1) or (Y, X // 2 + 1) magnitudes |I(k)|.

        Returns
        -------
        list of RingSums
            One per spectrum.
        """
        m = magnitudes.reshape(-1, magnitudes.shape[-2] * magnitudes.shape[-1])[:, self.inside]
        n = m.shape[0]
        size = 3 * self.n_bins
        index = (self.index[None, :] + size * np.arange(n)[:, None]).ravel()
        w = np.broadcast_to(self.weight, m.shape).ravel()
        mw = (m * self.weight).ravel()
        count = np.bincount(index, w * (m.ravel() > 0), n * size).reshape(n, 3, self.n_bins)
        abs_sum = np.bincount(index, mw, n * size).reshape(n, 3, self.n_bins)
        power = np.bincount(index, mw * m.ravel(), n * size).reshape(n, 3, self.n_bins)
        return [RingSums(count[i], abs_sum[i], power[i], self.r) for i in range(n)]


def _curves(
    count: npt.NDArray[np.float64],
    abs_sum: npt.NDArray[np.float64],
    power: npt.NDArray[np.float64],
    r: npt.NDArray[np.float64],
    g: npt.NDArray[np.float64],
    radii: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """d(r) at ``radii`` for the spectrum high-passed by ``1 − exp(−2 g² k²)``, one row per g (NaN: unfiltered)."""
    gg = np.nan_to_num(g, nan=0.0)[:, None]
    hp = np.where(np.isnan(g)[:, None], 1.0, 1.0 - np.exp(-2.0 * gg * gg * r[None, :] * r[None, :]))
    num = np.concatenate((np.zeros((g.size, 1)), np.cumsum(abs_sum[None, :] * hp, axis=1)), axis=1)
    cnt = np.concatenate(([0.0], np.cumsum(count)))
    c = np.sqrt(np.sum(power[None, :] * hp * hp, axis=1))[:, None]
    # rings whose mean radius is below r are inside the disc of radius r
    idx = np.searchsorted(r, radii, side="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        d = num[:, idx] / (c * np.sqrt(cnt[idx])[None, :])
    return np.asarray(np.where(np.isfinite(d), d, 0.0))


def _gather_curves(
    cnt: npt.NDArray[np.float64],
    num: npt.NDArray[np.float64],
    c: npt.NDArray[np.float64],
    idx: npt.NDArray[np.intp],
) -> npt.NDArray[np.float64]:
    """D at the ring indices ``idx`` (K, R) from cumulative sums ``num`` (K, G, B + 1) and ``cnt`` (K, B + 1)."""
    top = np.take_along_axis(num, np.broadcast_to(idx[:, None, :], (*num.shape[:2], idx.shape[1])), axis=2)
    n = np.sqrt(np.take_along_axis(cnt, idx, axis=1))[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        d = top / (c[:, :, None] * n)
    return np.asarray(np.where(np.isfinite(d), d, 0.0))


def cutoffs_from_sums(
    count: npt.NDArray[np.float64],
    abs_sum: npt.NDArray[np.float64],
    power: npt.NDArray[np.float64],
    r: npt.NDArray[np.float64],
    shape: tuple[int, int],
    *,
    n_radii: int = 50,
    n_filters: int = 10,
) -> npt.NDArray[np.float64]:
    """``k_c`` of many spectra at once: :func:`curves_from_sums`' ``kc_max``, all curves in a few array operations.

    Parameters
    ----------
    count, abs_sum, power : numpy.ndarray
        (K, n_bins) ring sums of K spectra (or sectors of them) of images of one ``shape``.
    r : numpy.ndarray
        (n_bins,) mean radius of each ring.
    shape : tuple of int
        (Y, X) of the images.
    n_radii, n_filters : int
        Points per curve and high-pass filters per pass.

    Returns
    -------
    numpy.ndarray
        (K,) the largest peak position of each spectrum's curves (0: no peak).
    """
    k = count.shape[0]
    radii0 = np.linspace(0.0, 1.0, n_radii)
    g0 = np.exp(np.linspace(np.log(min(shape) / 4.0), np.log(0.15), n_filters))
    zeros = np.zeros((k, 1))
    cnt = np.concatenate((zeros, np.cumsum(count, axis=1)), axis=1)
    # first pass: the unfiltered curve and Ng filters, the same radii for all
    hp = np.concatenate(
        (np.ones((1, r.size)), 1.0 - np.exp(-2.0 * g0[:, None] ** 2 * r[None, :] * r[None, :]))
    )
    num = np.concatenate(
        (np.zeros((k, n_filters + 1, 1)), np.cumsum(abs_sum[:, None, :] * hp[None], axis=2)), axis=2
    )
    c = np.sqrt(np.sum(power[:, None, :] * hp[None] * hp[None], axis=2))
    idx0 = np.broadcast_to(np.searchsorted(r, radii0, side="left"), (k, n_radii))
    d_first = _gather_curves(cnt, num, c, idx0)
    ind_first = dcorr_max_rows(d_first.reshape(-1, n_radii))[0].reshape(k, n_filters + 1)
    kc_first = np.where(ind_first > 0, radii0[ind_first], 0.0)
    kc = kc_first.max(axis=1)
    filtered = kc_first[:, 1:]
    refine = filtered.max(axis=1) > 0
    if not refine.any():
        return np.asarray(kc)
    # second pass, per spectrum: filters between the neighbours of the best, radii around its peak
    rows = np.flatnonzero(refine)
    f = filtered[rows]
    best = n_filters - 1 - np.argmax((f == f.max(axis=1, keepdims=True))[:, ::-1], axis=1)
    g1, g2 = g0[np.maximum(best - 1, 0)], g0[np.minimum(best + 1, n_filters - 1)]
    peak = f[np.arange(rows.size), best]
    r1 = np.maximum(peak - (radii0[1] - radii0[0]), 0.0)
    r2 = np.minimum(peak + 0.4, 1.0)
    radii1 = np.linspace(r1, r2, n_radii, axis=1)
    g = np.exp(np.linspace(np.log(g1), np.log(g2), n_filters, axis=1))
    hp2 = 1.0 - np.exp(-2.0 * (g * g)[:, :, None] * r[None, None, :] * r[None, None, :])
    num2 = np.concatenate(
        (np.zeros((rows.size, n_filters, 1)), np.cumsum(abs_sum[rows, None, :] * hp2, axis=2)), axis=2
    )
    c2 = np.sqrt(np.sum(power[rows, None, :] * hp2 * hp2, axis=2))
    idx1 = np.searchsorted(r, radii1.ravel(), side="left").reshape(radii1.shape)
    d_second = _gather_curves(cnt[rows], num2, c2, idx1)
    ind_second = dcorr_max_rows(d_second.reshape(-1, n_radii))[0].reshape(rows.size, n_filters)
    kc_second = np.where(ind_second > 0, np.take_along_axis(radii1, ind_second, axis=1), 0.0)
    kc[rows] = np.maximum(kc[rows], kc_second.max(axis=1))
    return np.asarray(kc)


def curves_from_sums(
    sums: RingSums,
    shape: tuple[int, int],
    sector: int | None = None,
    *,
    n_radii: int = 50,
    n_filters: int = 10,
) -> DecorrelationCurves:
    """The decorrelation analysis of a spectrum given by its ring sums (see the module text).

    Parameters
    ----------
    sums : RingSums
        The spectrum's ring sums (:meth:`RingGeometry.sums`).
    shape : tuple of int
        (Y, X) of the image (sets the range of the high-pass parameter g).
    sector : int, optional
        Restrict the analysis to one sector of the plane (0: x, 1: y; see :data:`SECTORS`); None: all.
    n_radii, n_filters : int
        Points per curve and high-pass filters per pass.

    Returns
    -------
    DecorrelationCurves
        Every curve and its peak.
    """
    if sector is None:
        count, abs_sum, power = sums.count.sum(0), sums.abs_sum.sum(0), sums.power.sum(0)
    else:
        count, abs_sum, power = sums.count[sector], sums.abs_sum[sector], sums.power[sector]
    r = sums.r
    radii0 = np.linspace(0.0, 1.0, n_radii)
    g0 = np.exp(np.linspace(np.log(min(shape) / 4.0), np.log(0.15), n_filters))
    d_first = _curves(count, abs_sum, power, r, np.concatenate(([np.nan], g0)), radii0)
    peaks = list(zip(*dcorr_max_rows(d_first), strict=True))
    radii_rows = [radii0] * (n_filters + 1)
    g_rows = [np.nan, *g0]
    kc_first = np.array([radii0[i] if i > 0 else 0.0 for i, _ in peaks[1:]])
    d_rows = [d_first]
    if kc_first.max() > 0:
        best = int(np.flatnonzero(kc_first == kc_first.max())[-1])
        g1, g2 = g0[max(best - 1, 0)], g0[min(best + 1, n_filters - 1)]
        r1 = max(kc_first[best] - (radii0[1] - radii0[0]), 0.0)
        r2 = min(kc_first[best] + 0.4, 1.0)
        radii1 = np.linspace(r1, r2, n_radii)
        g1s = np.exp(np.linspace(np.log(g1), np.log(g2), n_filters))
        d_second = _curves(count, abs_sum, power, r, g1s, radii1)
        peaks += list(zip(*dcorr_max_rows(d_second), strict=True))
        radii_rows += [radii1] * n_filters
        g_rows += list(g1s)
        d_rows.append(d_second)
    radii = np.stack(radii_rows)
    kc = np.array([radii[k, i] if i > 0 else 0.0 for k, (i, _) in enumerate(peaks)])
    amplitude = np.array([a if i > 0 else 0.0 for i, a in peaks])
    return DecorrelationCurves(
        radii=radii,
        d=np.concatenate(d_rows),
        g=np.array(g_rows, dtype=np.float64),
        kc=kc,
        amplitude=amplitude,
        kc_max=float(kc.max()),
        a0=float(amplitude[0]),
    )


def decorrelation_analysis(
    image: npt.ArrayLike, *, n_radii: int = 50, n_filters: int = 10, edge_px: int = 20
) -> DecorrelationCurves:
    """Decorrelation analysis of one image (Descloux et al. 2019; see the module text).

    Parameters
    ----------
    image : array_like
        A (Y, X) image (any shape of at least 32 px a side).
    n_radii : int
        Points per curve (``Nr``, 50 in the paper).
    n_filters : int
        High-pass filters per pass (``Ng``, 10 in the paper).
    edge_px : int
        Width of the cosine edge taper.

    Returns
    -------
    DecorrelationCurves
        Every curve, its peak, ``k_c`` (normalised; resolution = 2·pixel/k_c) and ``A₀``.

    Raises
    ------
    AnalysisError
        A tiny, constant or non-finite image.
    """
    a = check_image(image)
    spectrum = np.abs(rfft2(apodize(a, edge_px)))
    sums = RingGeometry(a.shape).sums(spectrum)[0]
    return curves_from_sums(sums, a.shape, n_radii=n_radii, n_filters=n_filters)

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

Since ``|Iₙ| = 1``, ``Re(I Iₙ*) = |I|``; the sums are taken over rings an eighth of a frequency
step wide (one ``bincount`` per quantity) and every filter and disc acts on the ring sums, so the
21 + 10 curves cost little beyond the one ``rfft2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis.resolution.fourier import apodize, check_image, half_plane, rfft2

__all__ = ["DecorrelationCurves", "decorrelation_analysis", "dcorr_max"]

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
    t = np.array(d, dtype=np.float64)
    ind = int(np.argmax(t))
    amp = float(t[ind])
    while ind == t.size - 1:
        t = t[:-1]
        if t.size == 0:
            return 0, 0.0
        ind = int(np.argmax(t))
        amp = float(t[ind])
        after = float(np.min(d[ind:]))
        if amp - after > _DT:
            break
        t[ind] = after
        ind = t.size - 1
    return ind, amp


class _Rings:
    """Ring sums of |I|, |I|² and the count of nonzero elements, rings 1/8 of a frequency step wide."""

    def __init__(self, image: npt.NDArray[np.float64], edge_px: int) -> None:
        spec = rfft2(apodize(image, edge_px))
        plane = half_plane(image.shape)
        radius = 2.0 * plane.radius  # normalised: Nyquist = 1
        self.step = 1.0 / (8.0 * max(image.shape))
        n_bins = int(np.ceil(1.0 / self.step)) + 1
        mag = np.abs(spec)
        inside = radius < 1.0
        w = np.broadcast_to(plane.weight, spec.shape)[inside]
        r = radius[inside]
        m = mag[inside]
        b = np.minimum((r / self.step).astype(np.intp), n_bins - 1)
        self.count = np.bincount(b, w * (m > 0), n_bins)
        self.abs_sum = np.bincount(b, w * m, n_bins)
        self.power = np.bincount(b, w * m * m, n_bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_r = np.bincount(b, w * r, n_bins) / np.bincount(b, w, n_bins)
        self.r = np.where(np.isfinite(mean_r), mean_r, (np.arange(n_bins) + 0.5) * self.step)

    def curve(self, g: float | None, radii: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """d(r) at ``radii`` for the spectrum high-passed by ``1 − exp(−2 g² k²)`` (None: unfiltered)."""
        hp = np.ones_like(self.r) if g is None else 1.0 - np.exp(-2.0 * g * g * self.r * self.r)
        num = np.concatenate(([0.0], np.cumsum(self.abs_sum * hp)))
        cnt = np.concatenate(([0.0], np.cumsum(self.count)))
        c = np.sqrt(np.sum(self.power * hp * hp))
        # rings whose mean radius is below r are inside the disc of radius r
        idx = np.searchsorted(self.r, radii, side="left")
        with np.errstate(invalid="ignore", divide="ignore"):
            d = num[idx] / (c * np.sqrt(cnt[idx]))
        return np.asarray(np.where(np.isfinite(d), d, 0.0))


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
    rings = _Rings(a, edge_px)
    radii0 = np.linspace(0.0, 1.0, n_radii)
    g0 = np.exp(np.linspace(np.log(min(a.shape) / 4.0), np.log(0.15), n_filters))
    rows: list[tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64], int, float]] = []

    def add(g: float | None, radii: npt.NDArray[np.float64]) -> None:
        d = rings.curve(g, radii)
        ind, amp = dcorr_max(d)
        rows.append((np.nan if g is None else g, radii, d, ind, amp))

    add(None, radii0)
    for g in g0:
        add(float(g), radii0)
    kc_first = np.array([r[1][r[3]] if r[3] > 0 else 0.0 for r in rows[1:]])
    if kc_first.max() > 0:
        best = int(np.flatnonzero(kc_first == kc_first.max())[-1])
        g1, g2 = g0[max(best - 1, 0)], g0[min(best + 1, n_filters - 1)]
        r1 = max(kc_first[best] - (radii0[1] - radii0[0]), 0.0)
        r2 = min(kc_first[best] + 0.4, 1.0)
        radii1 = np.linspace(r1, r2, n_radii)
        for g in np.exp(np.linspace(np.log(g1), np.log(g2), n_filters)):
            add(float(g), radii1)
    kc = np.array([r[1][r[3]] if r[3] > 0 else 0.0 for r in rows])
    amplitude = np.array([r[4] if r[3] > 0 else 0.0 for r in rows])
    return DecorrelationCurves(
        radii=np.stack([r[1] for r in rows]),
        d=np.stack([r[2] for r in rows]),
        g=np.array([r[0] for r in rows]),
        kc=kc,
        amplitude=amplitude,
        kc_max=float(kc.max()),
        a0=float(amplitude[0]),
    )

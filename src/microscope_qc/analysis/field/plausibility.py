"""Is the image a flat field at all? Plausibility checks of one channel's field-illumination numbers.

The numbers of :func:`analyze_field` are computed for any image; an image that is not a flat field
(a bead image, a mirror reflection in XZ, a black frame) still gets a uniformity, a centring accuracy
and an illumination centre. These checks say so in the result's warnings. Each threshold is a
definition, documented with its reason in docs/field.md ("Plausibility checks"):

* the model explains little (R² < :data:`MIN_MODEL_R2`) *and* what it leaves is structure, not noise
  (binned residual SD > :data:`MAX_RESIDUAL_NOISE_RATIO` × the noise expected in a bin): a flat field
  that is flat within the noise has a low R² too, but noise-sized residuals;
* the fitted illumination centre lies outside the image (an extrapolation, not an observation);
* the centre is undetermined: the standard error of its offset exceeds :data:`MAX_CENTRE_SE_PERCENT` %
  of the half diagonal;
* the Gaussian illumination is narrower than :data:`MIN_FWHM_FIELD_FRACTION` of the field along an axis
  (a line or a spot: at FWHM = half the field the edges get ≤ 6 % of the peak);
* the dynamic range is too low to judge: the median signal is less than 100/step times the noise of one
  pixel, i.e. one pixel's noise is larger than one iso-intensity step of the signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MIN_MODEL_R2",
    "MAX_RESIDUAL_NOISE_RATIO",
    "MAX_CENTRE_SE_PERCENT",
    "MIN_FWHM_FIELD_FRACTION",
    "Plausibility",
    "pixel_noise_sd",
    "plausibility_warnings",
]

#: below this R² the illumination model "explains little" of the image's variation
MIN_MODEL_R2 = 0.5
#: residuals of the binned fit larger than this many times the noise expected in a bin are structure
MAX_RESIDUAL_NOISE_RATIO = 3.0
#: a standard error of the centre offset above this (percent of the half diagonal) leaves the centre undetermined
MAX_CENTRE_SE_PERCENT = 10.0
#: a Gaussian illumination narrower (FWHM) than this share of the field along an axis is a line or a spot
MIN_FWHM_FIELD_FRACTION = 0.5

#: at most this many pixel differences enter the noise estimate (every k-th row beyond)
_MAX_DIFFERENCES = 1 << 18


def pixel_noise_sd(image: np.ndarray, valid: np.ndarray | None = None, integer: bool = False) -> float:
    """Noise SD of one pixel, from second differences along x (blind to the illumination shape).

    σ = 1.4826 · MAD(I[y, x−1] − 2·I[y, x] + I[y, x+1]) / √6 over triples of valid pixels: the second
    difference removes the local slope of the illumination, the median discards dust edges and beads.
    For integer data the quantisation noise (1/12 count²) is added, so an image of a few grey levels
    is never noise-free.

    Parameters
    ----------
    image
        2D image (dark-subtracted when a dark was given).
    valid
        Boolean (Y, X), pixels that may enter (analysed, neither saturated nor clipped); ``None`` = all.
    integer
        The pixel values are whole counts.

    Returns
    -------
    float
        The noise SD in counts; NaN when no pair of neighbouring valid pixels exists.
    """
    img = np.asarray(image)
    h, w = img.shape
    k = max(1, math.ceil(h * max(w - 2, 1) / _MAX_DIFFERENCES))
    rows = img[::k].astype(np.float64)
    d = rows[:, :-2] - 2 * rows[:, 1:-1] + rows[:, 2:]
    if valid is not None:
        ok = valid[::k]
        d = d[ok[:, :-2] & ok[:, 1:-1] & ok[:, 2:]]
    d = d.ravel()
    if d.size == 0:
        return math.nan
    sd = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(6.0)
    return math.sqrt(sd * sd + (1.0 / 12.0 if integer else 0.0))


@dataclass(frozen=True)
class Plausibility:
    """What the checks look at, for one channel (all in pixels and counts)."""

    channel: int
    shape: tuple[int, int]  # (h, w)
    model_r2: float
    residual_sd: float  # of the binned fit
    bin_px: int
    noise_sd: float  # one pixel
    centre: tuple[float, float]  # (y, x) of the illumination model
    centre_offset_percent: float
    centre_offset_se_percent: float
    fwhm_px: tuple[float, float] | None  # (y, x), Gaussian model only
    median_signal: float
    step_percent: float
    dark_subtracted: bool

    @property
    def signal_to_noise(self) -> float:
        """Median signal / noise SD of one pixel (infinite for noise-free data)."""
        if self.noise_sd > 0:
            return self.median_signal / self.noise_sd
        return math.inf if self.median_signal > 0 else math.nan

    @property
    def residual_noise_ratio(self) -> float:
        """Residual SD of the binned fit / the noise SD expected in a bin of ``bin_px²`` pixels."""
        expected = self.noise_sd / self.bin_px
        if expected > 0:
            return self.residual_sd / expected
        return math.inf if self.residual_sd > 0 else 0.0


def plausibility_warnings(p: Plausibility) -> list[str]:
    """The warnings one channel's numbers deserve (empty for a plausible flat field).

    Parameters
    ----------
    p
        What the checks look at.

    Returns
    -------
    list of str
        One warning per failed check, each starting with ``Channel <c>:``.
    """
    c = p.channel
    h, w = p.shape
    out: list[str] = []
    ratio = p.residual_noise_ratio
    if p.model_r2 < MIN_MODEL_R2 and ratio > MAX_RESIDUAL_NOISE_RATIO:
        out.append(
            f"Channel {c}: the illumination model explains only {100 * max(p.model_r2, 0.0):.0f} % of the image's "
            f"variation (model R² {p.model_r2:.2f} < {MIN_MODEL_R2:g}), and what it leaves is structure "
            f"{ratio:.3g} times the noise, not noise: this does not look like an image of a uniform fluorescent "
            "slide (beads, a line, a sample, heavy dirt?). The centre and fall-off numbers describe a smooth "
            "surface that does not fit the image."
        )
    cy, cx = p.centre
    if not (-0.5 <= cy <= h - 0.5 and -0.5 <= cx <= w - 0.5):
        out.append(
            f"Channel {c}: the fitted illumination centre (y {cy:.4g}, x {cx:.4g} px) lies outside the {h} × {w} "
            "image: it is an extrapolation of the model, not an observed maximum. Either the lamp is decentred "
            "by more than the field, or the image is not a flat field."
        )
    se = p.centre_offset_se_percent
    if not math.isfinite(se) or se > MAX_CENTRE_SE_PERCENT:
        shown = "not estimable" if not math.isfinite(se) else f"± {se:.3g} %"
        out.append(
            f"Channel {c}: the illumination centre is undetermined: its offset is {p.centre_offset_percent:.3g} % "
            f"{shown} of the half diagonal (an uncertainty above {MAX_CENTRE_SE_PERCENT:g} % leaves it "
            "undetermined). The image has no illumination peak the model can locate: the field is flat "
            "within the noise, or the image holds no flat-field signal (a black frame with a camera offset?)."
        )
    if p.fwhm_px is not None:
        for axis, fwhm, size in (("y", p.fwhm_px[0], h), ("x", p.fwhm_px[1], w)):
            if fwhm < MIN_FWHM_FIELD_FRACTION * size:
                out.append(
                    f"Channel {c}: the fitted illumination is {fwhm:.3g} px wide along {axis} (FWHM), less than "
                    f"{MIN_FWHM_FIELD_FRACTION:g} of the field ({size} px): the bright part is a line or a spot "
                    "(a mirror reflection, a bead?), not the illumination of a uniform slide."
                )
                break
    limit = 100.0 / p.step_percent
    snr = p.signal_to_noise
    if not snr >= limit:
        black = "above the dark image" if p.dark_subtracted else "taking zero as black"
        out.append(
            f"Channel {c}: dynamic range too low to judge: the median signal ({p.median_signal:.3g} counts, "
            f"{black}) is only {snr:.2g} times the noise of one pixel ({p.noise_sd:.2g} counts), below "
            f"{limit:g} times (one pixel's noise would exceed one {p.step_percent:g} % iso-intensity step). "
            "Check that the light is on and the slide in focus; raise the exposure or average several images."
        )
    return out

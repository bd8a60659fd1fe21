"""Synthetic pattern-slide images with known truth: line groups, gratings, a grey-level ladder.

**Lines** (:func:`pattern_lines_sample`): an Argolight-like slide imaged through a Gaussian PSF of
known FWHM, rendered analytically (a Gaussian blur of a line of width w is a difference of error
functions, of a sinusoidal grating a sinusoid of modulation exp(−2π²σ²/p²)), averaged over 5 × 5
points per pixel (the pixel's area), on a uniform background, with Poisson noise, a camera offset
and Gaussian read noise. The whole slide is rotated by a known angle. It holds:

- nine groups of five parallel lines (width 30 nm, 6 µm long), spacing 0.10 … 0.50 µm in 0.05 µm
  steps, side by side with gaps of 1.6 µm;
- one isolated line (the line-spread function);
- four sinusoidal gratings (4 × 4 µm patches, fluorescence ∝ 1 + cos(2π u / p)) at 0°, 45°, 90°
  and 135° on the slide, periods 0.30, 0.40, 0.50 and 0.60 µm.

The truth per group: the lines' direction in the image, the spacing, the Michelson contrast of
the noise-free image (from the exact rendering of the profile across the lines with the pixel's
footprint), the dip between lines and whether it passes the Rayleigh-like criterion, the image's
LSF FWHM; for gratings the analytic contrast exp(−2π²σ²f²) · sinc(a f cos ψ) · sinc(a f sin ψ)
(the PSF's modulation times the pixel's, ψ the wave vector's angle in the image).

**Ladder** (:func:`pattern_ladder_sample`): 16 square patches of nominal levels 1/16 … 16/16 on a
12-bit camera, with a known response: counts = offset + background + S · level^γ, Poisson noise,
clipped at 4095 (the top steps saturate when S is large).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "PatternLinesSample",
    "pattern_lines_sample",
    "pattern_ladder_sample",
    "line_group_profile_truth",
    "napari_pattern_lines",
    "napari_pattern_ladder",
    "RAYLEIGH_DIP",
]

LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]
FloatArray = npt.NDArray[np.float64]

#: the dip between two Airy-disc images at the Rayleigh distance: 1 − 2 (2 J₁(v)/v)² at v = 1.9159 (0.2650)
RAYLEIGH_DIP = 0.265
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
_SQRT2 = math.sqrt(2.0)


@dataclass
class PatternLinesSample:
    """A (Y, X) image of a pattern slide, its pixel size and the truth."""

    image: npt.NDArray[np.uint16]
    pixel_size_um: float
    truth: dict[str, Any]


def _erf(x: FloatArray) -> FloatArray:
    from scipy.special import erf

    return np.asarray(erf(x), dtype=np.float64)


def _box_line(u: FloatArray, centre: float, width: float, sigma: float) -> FloatArray:
    """A line (box of ``width``) at ``centre`` blurred by a Gaussian of ``sigma``: unit density."""
    s = _SQRT2 * sigma
    return 0.5 * (_erf((u - centre + width / 2) / s) - _erf((u - centre - width / 2) / s))


def _pixel_footprint(u: FloatArray, a: float, psi: float) -> FloatArray:
    """Projection of a square pixel of side ``a`` on a direction at ``psi``: box(a|cos ψ|) ∗ box(a|sin ψ|)."""
    w1, w2 = a * abs(math.cos(psi)), a * abs(math.sin(psi))
    du = float(u[1] - u[0])
    k = np.ones(1)
    for w in (w1, w2):
        n = max(int(round(w / du)), 1)
        k = np.convolve(k, np.ones(n) / n)
    return k


def line_group_profile_truth(
    spacing_um: float,
    n_lines: int,
    line_width_um: float,
    sigma_um: float,
    pixel_size_um: float,
    psi_rad: float,
    step_um: float = 0.0005,
) -> tuple[FloatArray, FloatArray]:
    """The noise-free profile across a group of equally spaced lines, as the image samples it.

    The lines (boxes of ``line_width_um``) blurred by the Gaussian PSF and by the pixel's
    footprint projected on the profile's direction (``psi_rad``: the direction across the lines,
    in the image).

    Parameters
    ----------
    spacing_um : float
        Centre-to-centre distance of adjacent lines.
    n_lines : int
        Lines in the group.
    line_width_um, sigma_um, pixel_size_um : float
        Line width, PSF σ, pixel side.
    psi_rad : float
        Angle of the across-line direction in the image.
    step_um : float
        Grid step of the profile.

    Returns
    -------
    u, profile : numpy.ndarray
        Positions (µm, 0 at the group's centre) and the profile (unit line density).
    """
    half = (n_lines - 1) * spacing_um / 2 + 6 * sigma_um + 2 * pixel_size_um
    u = np.arange(-half, half + step_um / 2, step_um)
    prof = np.zeros_like(u)
    for k in range(n_lines):
        prof += _box_line(u, -((n_lines - 1) * spacing_um / 2) + k * spacing_um, line_width_um, sigma_um)
    kernel = _pixel_footprint(u, pixel_size_um, psi_rad)
    return u, np.convolve(prof, kernel, mode="same")


def _contrast_truth(u: FloatArray, prof: FloatArray, spacing: float, n_lines: int) -> tuple[float, float]:
    """Mean Michelson contrast and mean dip over the line pairs of a noise-free group profile (0 if unresolved)."""
    interior = (prof[1:-1] > prof[:-2]) & (prof[1:-1] >= prof[2:])
    maxima = np.flatnonzero(interior) + 1
    if maxima.size < n_lines:
        return 0.0, 0.0
    peaks = prof[maxima]
    contrasts, dips = [], []
    for k in range(n_lines - 1):
        trough = float(prof[maxima[k] : maxima[k + 1] + 1].min())
        imax = float(peaks[k] + peaks[k + 1]) / 2
        contrasts.append((imax - trough) / (imax + trough))
        dips.append(1 - trough / imax)
    return float(np.mean(contrasts)), float(np.mean(dips))


def _fwhm_of(u: FloatArray, prof: FloatArray) -> float:
    half = prof.max() / 2
    above = np.flatnonzero(prof >= half)
    i0, i1 = above[0], above[-1]
    left = np.interp(half, [prof[i0 - 1], prof[i0]], [u[i0 - 1], u[i0]])
    right = np.interp(half, [prof[i1 + 1], prof[i1]], [u[i1 + 1], u[i1]])
    return float(right - left)


def _sinc(z: float) -> float:
    return 1.0 if z == 0 else math.sin(math.pi * z) / (math.pi * z)


def pattern_lines_sample(
    seed: int = 0,
    angle_deg: float = 3.7,
    fwhm_um: float = 0.24,
    pixel_size_um: float = 0.04,
    size: int = 800,
    line_peak: float = 2000.0,
    background: float = 100.0,
    offset: float = 100.0,
    read_noise: float = 2.0,
    spacings_um: tuple[float, ...] = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50),
    lines_per_group: int = 5,
    line_width_um: float = 0.03,
    grating_angles_deg: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0),
    grating_periods_um: tuple[float, ...] = (0.30, 0.40, 0.50, 0.60),
    gratings: bool = True,
    background_slope: float = 0.0,
) -> PatternLinesSample:
    """A pattern slide of line groups, an isolated line and gratings, through a known Gaussian PSF.

    Parameters
    ----------
    seed : int
        Random seed of the noise.
    angle_deg : float
        Rotation of the whole slide in the image (counter-clockwise from x towards y, degrees).
    fwhm_um : float
        FWHM of the Gaussian PSF.
    pixel_size_um : float
        Pixel side.
    size : int
        Image side (pixels).
    line_peak : float
        Peak expected photons of an isolated line.
    background, offset, read_noise : float
        Uniform fluorescent background (photons), camera offset (counts), read noise SD (counts).
    spacings_um : tuple of float
        Spacings of the line groups.
    lines_per_group : int
        Lines per group.
    line_width_um : float
        Width of each line on the slide.
    grating_angles_deg, grating_periods_um : tuple of float
        Angle on the slide (of the wave vector, from the slide's x axis) and period of each grating.
    gratings : bool
        Whether to draw the gratings.
    background_slope : float
        Relative change of the background across the field along x: background · (1 + slope · (x − x_c)/size).

    Returns
    -------
    PatternLinesSample
        The image and its truth (``groups``: one dict per group, in slide order).
    """
    rng = np.random.default_rng(seed)
    a = pixel_size_um
    sigma = fwhm_um / _FWHM_PER_SIGMA
    theta = math.radians(angle_deg)
    os_ = 5
    sub = (np.arange(os_) + 0.5) / os_ - 0.5
    cy = cx = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    # sub-pixel sample points in µm relative to the centre (size, size, os², 2) is too big: loop
    expected = np.zeros((size, size))
    line_norm = line_peak / float(_box_line(np.zeros(1), 0.0, line_width_um, sigma)[0])
    length = 6.0
    y_lines = -10.5
    # line groups and the isolated line, all along the slide's Y axis
    xs: list[tuple[float, int]] = []
    x = -12.0
    group_x = []
    for p in spacings_um:
        group_x.append(x + (lines_per_group - 1) * p / 2)
        for k in range(lines_per_group):
            xs.append((x + k * p, 0))
        x += (lines_per_group - 1) * p + 1.6
    iso_x = x + 0.3
    xs.append((iso_x, 0))
    grating_centres = [(-11.25 + 7.5 * i, 5.0) for i in range(len(grating_angles_deg))]
    c, s = math.cos(theta), math.sin(theta)
    # 1D lookup tables (0.5 nm steps) of the blurred profiles: across all lines, along the lines, a patch edge
    step = 0.0005
    grid = np.arange(-size * a, size * a, step)
    across_table = np.zeros_like(grid)
    for lx, _ in xs:
        near = np.abs(grid - lx) < 8 * sigma + line_width_um
        across_table[near] += _box_line(grid[near], lx, line_width_um, sigma)
    along_table = _box_line(grid, y_lines, length, sigma)
    window_table = _box_line(grid, 0.0, 4.0, sigma)
    boxes = []
    for gx, gy in grating_centres:
        iy, ix = (cy + (s * gx + c * gy) / a, cx + (c * gx - s * gy) / a)
        r = int(math.ceil((2.0 * math.sqrt(2) + 5 * sigma) / a)) + 2
        boxes.append(
            (slice(max(int(iy) - r, 0), int(iy) + r + 1), slice(max(int(ix) - r, 0), int(ix) + r + 1))
        )
    # the lines' region: the slide rectangle they occupy, as an image bounding box
    corners = [
        (xc, yc)
        for xc in (-12.5, iso_x + 0.5)
        for yc in (y_lines - length / 2 - 0.5, y_lines + length / 2 + 0.5)
    ]
    rows_px = [cy + (s * X + c * Y) / a for X, Y in corners]
    cols_px = [cx + (c * X - s * Y) / a for X, Y in corners]
    line_box = (
        slice(max(int(min(rows_px)), 0), min(int(max(rows_px)) + 2, size)),
        slice(max(int(min(cols_px)), 0), min(int(max(cols_px)) + 2, size)),
    )
    for dy in sub:
        for dx in sub:
            px = (xx + dx - cx) * a
            py = (yy + dy - cy) * a
            # slide coordinates: rotate the image point back by θ
            sx = c * px + s * py
            sy = -s * px + c * py
            lx, ly = sx[line_box], sy[line_box]
            expected[line_box] += (
                line_norm * np.interp(ly, grid, along_table) * np.interp(lx, grid, across_table)
            )
            if not gratings:
                continue
            for (gx, gy), phi_deg, p, box in zip(
                grating_centres, grating_angles_deg, grating_periods_um, boxes, strict=True
            ):
                phi = math.radians(phi_deg)
                bx, by = sx[box] - gx, sy[box] - gy
                gu = math.cos(phi) * bx + math.sin(phi) * by
                gv = -math.sin(phi) * bx + math.cos(phi) * by
                window = np.interp(gu, grid, window_table) * np.interp(gv, grid, window_table)
                mod = math.exp(-2 * math.pi**2 * sigma**2 / p**2)
                expected[box] += 0.5 * line_peak * window * (1 + mod * np.cos(2 * math.pi * gu / p))
    expected = expected / os_**2 + background * (1 + background_slope * (xx - cx) / size)
    counts = rng.poisson(expected) + offset + rng.normal(0.0, read_noise, expected.shape)
    image = np.clip(np.rint(counts), 0, 65535).astype(np.uint16)

    def image_centre(gx: float, gy: float) -> tuple[float, float]:
        return (cy + (s * gx + c * gy) / a, cx + (c * gx - s * gy) / a)

    groups: list[dict[str, Any]] = []
    line_dir = (90.0 + angle_deg) % 180.0
    psi = theta  # the across-line direction of the line groups in the image
    for p, gx in zip(spacings_um, group_x, strict=True):
        u, prof = line_group_profile_truth(p, lines_per_group, line_width_um, sigma, a, psi)
        contrast, dip = _contrast_truth(u, prof, p, lines_per_group)
        groups.append(
            {
                "kind": "lines",
                "spacing_um": p,
                "n_lines": lines_per_group,
                "angle_deg": line_dir,
                "centre_yx_px": image_centre(gx, y_lines),
                "contrast": contrast,
                "dip": dip,
                "resolved": dip >= RAYLEIGH_DIP,
            }
        )
    u, prof = line_group_profile_truth(1.0, 1, line_width_um, sigma, a, psi)
    lsf_fwhm = _fwhm_of(u, prof)
    groups.append(
        {
            "kind": "line",
            "n_lines": 1,
            "angle_deg": line_dir,
            "centre_yx_px": image_centre(iso_x, y_lines),
            "lsf_fwhm_um": lsf_fwhm,
        }
    )
    if gratings:
        for (gx, gy), phi_deg, p in zip(grating_centres, grating_angles_deg, grating_periods_um, strict=True):
            psi_g = math.radians(phi_deg) + theta
            f = 1 / p
            contrast = (
                math.exp(-2 * math.pi**2 * sigma**2 * f**2)
                * _sinc(a * f * math.cos(psi_g))
                * _sinc(a * f * math.sin(psi_g))
            )
            groups.append(
                {
                    "kind": "grating",
                    "spacing_um": p,
                    "angle_deg": (phi_deg + 90.0 + angle_deg) % 180.0,
                    "centre_yx_px": image_centre(gx, gy),
                    "contrast": abs(contrast),
                    "resolved": True,
                }
            )
    resolved = [g["spacing_um"] for g in groups if g["kind"] == "lines" and g["resolved"]]
    truth = {
        "angle_deg": angle_deg,
        "psf_fwhm_um": fwhm_um,
        "psf_sigma_um": sigma,
        "lsf_fwhm_um": lsf_fwhm,
        "line_width_um": line_width_um,
        "spacings_um": list(spacings_um),
        "smallest_resolved_spacing_um": min(resolved) if resolved else None,
        "rayleigh_dip": RAYLEIGH_DIP,
        "background_counts": background + offset,
        "groups": groups,
        "definition": (
            "contrast: Michelson (Imax - Imin)/(Imax + Imin) of the noise-free image above its background, "
            "Imax the mean of the two peaks of a line pair, Imin the trough between them, averaged over the pairs; "
            "dip 1 - Imin/Imax; angle_deg: direction of the lines from the image x axis towards +y"
        ),
    }
    return PatternLinesSample(image, pixel_size_um, truth)


def pattern_ladder_sample(
    seed: int = 0,
    n_steps: int = 16,
    gamma: float = 1.08,
    signal: float = 4300.0,
    background: float = 60.0,
    offset: float = 100.0,
    read_noise: float = 3.0,
    pixel_size_um: float = 0.1,
    bit_depth: int = 12,
    patch_px: int = 40,
    gap_px: int = 24,
) -> PatternLinesSample:
    """A grey-level ladder: square patches of nominal levels k/n, through a known nonlinear response.

    Expected counts in patch k: ``offset + background + signal · (k/n)^gamma``, Poisson noise on the
    photons, read noise, clipped to the bit depth (saturation). ``gamma=1`` and a ``signal`` below the
    full scale give a linear ladder.

    Parameters
    ----------
    seed : int
        Random seed.
    n_steps : int
        Number of patches (levels 1/n … n/n), in a square-ish grid in reading order.
    gamma : float
        Exponent of the response (1: linear).
    signal : float
        Photons of the level-1 patch above the background.
    background, offset, read_noise : float
        Background photons, camera offset and read noise (counts).
    pixel_size_um : float
        Pixel side.
    bit_depth : int
        The camera's bits; counts above 2^bits − 1 are clipped.
    patch_px, gap_px : int
        Patch side and gap between patches.

    Returns
    -------
    PatternLinesSample
        The image and its truth (levels, expected counts, which steps saturate).
    """
    rng = np.random.default_rng(seed)
    cols = math.ceil(math.sqrt(n_steps))
    rows = math.ceil(n_steps / cols)
    h = rows * patch_px + (rows + 1) * gap_px
    w = cols * patch_px + (cols + 1) * gap_px
    photons = np.full((h, w), background, dtype=np.float64)
    levels = (np.arange(n_steps) + 1) / n_steps
    full = 2**bit_depth - 1
    expected_counts = offset + background + signal * levels**gamma
    for k in range(n_steps):
        r, cc = divmod(k, cols)
        y0 = gap_px + r * (patch_px + gap_px)
        x0 = gap_px + cc * (patch_px + gap_px)
        photons[y0 : y0 + patch_px, x0 : x0 + patch_px] += signal * levels[k] ** gamma
    counts = rng.poisson(photons) + offset + rng.normal(0.0, read_noise, photons.shape)
    image = np.clip(np.rint(counts), 0, full).astype(np.uint16)
    truth = {
        "levels": levels.tolist(),
        "gamma": gamma,
        "signal": signal,
        "offset_plus_background": offset + background,
        "expected_counts": expected_counts.tolist(),
        "saturated_steps": [int(k) for k in np.flatnonzero(expected_counts + 3 * np.sqrt(signal) > full)],
        "bit_depth": bit_depth,
        "linear": gamma == 1.0 and bool(np.all(expected_counts + 5 * np.sqrt(expected_counts) < full)),
    }
    return PatternLinesSample(image, pixel_size_um, truth)


def napari_pattern_lines() -> list[LayerDataTuple]:
    """The napari sample: line groups, an isolated line and gratings through a 0.24 µm Gaussian PSF."""
    s = pattern_lines_sample()
    scale = (s.pixel_size_um, s.pixel_size_um)
    return [
        (
            s.image,
            {"name": "pattern lines (synthetic)", "scale": scale, "metadata": {"truth": s.truth}},
            "image",
        )
    ]


def napari_pattern_ladder() -> list[LayerDataTuple]:
    """The napari sample: a 16-step grey-level ladder with a slightly nonlinear, saturating response."""
    s = pattern_ladder_sample()
    scale = (s.pixel_size_um, s.pixel_size_um)
    return [
        (
            s.image,
            {"name": "pattern ladder (synthetic)", "scale": scale, "metadata": {"truth": s.truth}},
            "image",
        )
    ]

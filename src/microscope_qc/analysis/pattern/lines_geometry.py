"""Where the line groups are, which way their lines run, and the profile across them.

- Groups: pixels brighter than the background by a fraction of the pattern's range (after a
  1-pixel Gaussian smoothing) are pattern; pattern closer than the group gap is joined by a
  dilation of half the gap, and each connected region is one group.
- Orientation: the structure tensor of the group (gradients of a σ = 1 px Gaussian derivative)
  gives the direction across the lines and its coherence (λ₁ − λ₂)/(λ₁ + λ₂), 1 for perfectly
  parallel lines, 0 for round spots; the angle is computed again without the lines' blurred ends
  (whose gradients run along the lines). On the synthetic slides it is within 0.11° of the truth
  (0.4° for unresolved groups, whose lines are one bright bar).
- Profile: the pixel centres of the group, less the blurred ends of the lines, are projected on
  the across-line axis and averaged in bins of a fraction of a pixel (the slanted-edge method's
  oversampling). Unlike interpolating along a rotated strip, this averages the pixel values as they
  are, so it adds no interpolation blur to the contrast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Group", "Profile", "find_groups", "structure_tensor", "trim_ends", "project"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass
class Group:
    """One region of parallel lines: its pixels (rows, columns) and the pattern pixels among them."""

    label: int
    rows: IntArray
    cols: IntArray
    pattern: npt.NDArray[np.bool_]  # per pixel of (rows, cols): above the threshold


@dataclass
class Profile:
    """The profile across a group: bin positions (µm, 0 at the group's centroid), means, SEs, counts."""

    u_um: FloatArray
    mean: FloatArray
    sem: FloatArray
    count: IntArray
    bin_um: float


def find_groups(
    image: FloatArray, background: float, threshold: float, gap_px: float, min_area_px: int = 12
) -> tuple[list[Group], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Connected regions of pattern, pattern closer than ``gap_px`` joined.

    Parameters
    ----------
    image : numpy.ndarray
        The (Y, X) image, smoothed by a Gaussian of 1 pixel.
    background : float
        The background level.
    threshold : float
        Level above the background from which a pixel is pattern.
    gap_px : float
        Pattern closer than this (pixels) joins one group.
    min_area_px : int
        Pattern regions of fewer pixels are noise.

    Returns
    -------
    groups : list of Group
        One per region, largest first.
    joined : numpy.ndarray of bool
        The groups' regions (the pattern dilated by half the gap): the background is outside them.
    pattern : numpy.ndarray of bool
        The pattern mask.
    """
    from scipy import ndimage

    pattern = image > background + threshold
    lab, n = ndimage.label(pattern)
    if n:
        sizes = np.bincount(lab.ravel())
        small = sizes < min_area_px
        small[0] = False
        pattern[small[lab]] = False
    r = max(int(math.ceil(gap_px / 2)), 1)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = yy * yy + xx * xx <= r * r
    joined = ndimage.binary_dilation(pattern, structure=disk)
    lab, n = ndimage.label(joined)
    groups = []
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        sub = lab[sl] == k
        rr, cc = np.nonzero(sub)
        rows = (rr + sl[0].start).astype(np.intp)
        cols = (cc + sl[1].start).astype(np.intp)
        groups.append(Group(k, rows, cols, pattern[rows, cols]))
    groups.sort(key=lambda g: -int(g.pattern.sum()))
    return groups, joined, pattern


def structure_tensor(
    gy: FloatArray, gx: FloatArray, rows: IntArray, cols: IntArray, weights: FloatArray | None = None
) -> tuple[float, float]:
    """Direction of the dominant gradient and the coherence of a region's structure tensor.

    Parameters
    ----------
    gy, gx : numpy.ndarray
        Gradients of the image (rows, columns).
    rows, cols : numpy.ndarray
        The region's pixels.
    weights : numpy.ndarray, optional
        Weight per pixel.

    Returns
    -------
    angle_rad : float
        Angle of the across-line direction from the x axis towards +y, in [0, π).
    coherence : float
        (λ₁ − λ₂)/(λ₁ + λ₂).
    """
    x, y = gx[rows, cols], gy[rows, cols]
    w = np.ones_like(x) if weights is None else weights
    jxx, jyy, jxy = float((w * x * x).sum()), float((w * y * y).sum()), float((w * x * y).sum())
    angle = 0.5 * math.atan2(2 * jxy, jxx - jyy)
    tr = jxx + jyy
    coherence = math.hypot(jxx - jyy, 2 * jxy) / tr if tr > 0 else 0.0
    return angle % math.pi, coherence


def _coordinates(
    rows: IntArray, cols: IntArray, centre: tuple[float, float], angle: float
) -> tuple[FloatArray, FloatArray]:
    """(u, v) in pixels: u across the lines (along ``angle``), v along them."""
    dy, dx = rows - centre[0], cols - centre[1]
    c, s = math.cos(angle), math.sin(angle)
    return dx * c + dy * s, -dx * s + dy * c


def trim_ends(
    rows: IntArray,
    cols: IntArray,
    pattern: npt.NDArray[np.bool_],
    centre: tuple[float, float],
    angle: float,
    fraction: float,
) -> tuple[IntArray, IntArray, float]:
    """The group's pixels less ``fraction`` of the lines' length at each end, and that length (pixels).

    Parameters
    ----------
    rows, cols : numpy.ndarray
        The group's pixels.
    pattern : numpy.ndarray of bool
        Which of them are pattern.
    centre : tuple of float
        Origin (row, column).
    angle : float
        Across-line angle (radians).
    fraction : float
        Share of the length trimmed at each end.

    Returns
    -------
    rows, cols : numpy.ndarray
        The pixels kept.
    length_px : float
        Length of the lines (the pattern's extent along them).
    """
    _, v = _coordinates(rows, cols, centre, angle)
    vp = v[pattern] if pattern.any() else v
    lo, hi = float(vp.min()), float(vp.max())
    length = hi - lo
    keep = (v >= lo + fraction * length) & (v <= hi - fraction * length)
    return rows[keep], cols[keep], length


def project(
    image: FloatArray,
    rows: IntArray,
    cols: IntArray,
    centre: tuple[float, float],
    angle: float,
    bin_px: float,
    pixel_size_um: float,
) -> Profile:
    """The profile across the lines: pixel values averaged in bins of their across-line position.

    Parameters
    ----------
    image : numpy.ndarray
        The (Y, X) image.
    rows, cols : numpy.ndarray
        The pixels averaged.
    centre : tuple of float
        Origin (row, column); u = 0 there.
    angle : float
        Across-line angle (radians).
    bin_px : float
        Bin width in pixels.
    pixel_size_um : float
        Pixel size.

    Returns
    -------
    Profile
        Bins holding at least a quarter of the median bin's pixels (and 3): the mean across-line
        position of their pixels (µm), mean, SE, count.
    """
    u, _ = _coordinates(rows, cols, centre, angle)
    values = image[rows, cols]
    idx = np.floor((u - u.min()) / bin_px).astype(np.intp)
    n = np.bincount(idx)
    s = np.bincount(idx, values)
    s2 = np.bincount(idx, values * values)
    su = np.bincount(idx, u)
    # bins a few stray pixels fall in (lines almost along the pixel grid) are noise, not profile
    ok = n >= max(3.0, 0.25 * float(np.median(n[n > 0])))
    nn = n[ok].astype(np.float64)
    mean = s[ok] / nn
    var = np.where(nn > 1, (s2[ok] - nn * mean * mean) / np.maximum(nn - 1, 1), np.nan)
    sem = np.sqrt(np.clip(var, 0, None) / nn)
    finite = np.isfinite(sem)
    if finite.any():
        sem[~finite] = float(np.nanmax(sem)) if finite.any() else 0.0
    return Profile(su[ok] / nn * pixel_size_um, mean, sem, n[ok].astype(np.intp), bin_px * pixel_size_um)

"""Synthetic images of a pattern slide's field of rings with known truth (the pattern measurement).

A square grid of rings (``pitch_um`` apart on the slide, ``grid`` spots, one left out next to the
centre as an orientation mark) is imaged by a microscope that magnifies by ``magnification`` (image
µm per slide µm, against the pixel size the file states), rotates by ``rotation_deg`` and shifts by
``offset_um``, then distorts radially about the field centre c::

    w = s·R(θ)·u + c + offset − c,   p = c + w·(1 + k1·ρ² + k2·ρ⁴),   ρ = |w| / R

with R the field's half-diagonal (so ``100·(k1 + k2)`` is the distortion at the corner, per
cent; k < 0 barrel, k > 0 pincushion). A second channel (optional) is the first magnified by
``1 + channel_magnification`` about c and shifted by ``channel_shift_um``. Each ring (radius
``ring_radius_um``) is seen through a Gaussian PSF (σ ``psf_sigma_um``): the exact profile
``exp(−(r − a)²/2σ²)·I0(r·a/σ²)·exp(−r·a/σ²)``, sampled at pixel centres; its brightness follows an
uneven illumination ``1 − falloff·(|p − c_ill| / R)²``; camera offset, Poisson noise and Gaussian
read noise. Positions are µm, (x, y), the origin at the centre of pixel (0, 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PatternSample", "pattern_rings_sample", "napari_pattern_rings", "grid_truth_positions"]

LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]


@dataclass
class PatternSample:
    """(C, Y, X) image of a field of rings, its pixel size (y, x) in µm, channel names and truth."""

    data: npt.NDArray[np.uint16]
    pixel_size_um: tuple[float, float]
    channel_names: list[str]
    truth: dict[str, Any] = field(default_factory=dict)


def grid_truth_positions(
    index: np.ndarray,
    shape: tuple[int, int],
    pixel_size_um: tuple[float, float],
    pitch_um: float,
    magnification: float,
    rotation_deg: float,
    offset_um: tuple[float, float],
    k1: float,
    k2: float,
    anisotropy: float = 0.0,
) -> np.ndarray:
    """Image positions (N, 2) x, y (µm) of grid indices (N, 2), 0 at the centre spot (module text).

    Parameters
    ----------
    index : numpy.ndarray
        (N, 2) grid indices (i along x, j along y on the slide).
    shape : tuple of int
        (Y, X) pixels of the image.
    pixel_size_um : tuple of float
        (y, x) pixel size.
    pitch_um, magnification, rotation_deg, k1, k2 : float
        The grid and the imaging (module text).
    offset_um : tuple of float
        (x, y) position of the centre spot relative to the field centre before distortion.
    anisotropy : float
        Unequal scales (an affine distortion): x scaled by 1 + a/2, y by 1 − a/2 after the rotation.

    Returns
    -------
    numpy.ndarray
        (N, 2) positions.
    """
    h, w = shape
    dy, dx = pixel_size_um
    c = np.array([(w - 1) * dx / 2, (h - 1) * dy / 2])
    radius = float(np.hypot(w * dx, h * dy) / 2)
    t = np.radians(rotation_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    u = np.asarray(index, float) * pitch_um
    wv = magnification * u @ rot.T * np.array([1 + anisotropy / 2, 1 - anisotropy / 2]) + np.asarray(
        offset_um
    )
    rho2 = (wv * wv).sum(axis=1) / radius**2
    return np.asarray(c + wv * (1 + k1 * rho2 + k2 * rho2 * rho2)[:, None])


def _render(
    shape: tuple[int, int],
    pixel_size_um: tuple[float, float],
    pos: np.ndarray,
    amp: np.ndarray,
    ring_radius_um: float,
    psf_sigma_um: float,
) -> np.ndarray:
    """Expected photons of rings at ``pos`` (µm) with peak-normalised amplitudes ``amp``."""
    from scipy.special import i0e

    h, w = shape
    dy, dx = pixel_size_um
    out = np.zeros(shape)
    a, s = ring_radius_um, psf_sigma_um
    reach = a + 5 * s
    hy, hx = int(np.ceil(reach / dy)), int(np.ceil(reach / dx))
    r_grid = np.linspace(0, reach, 512)
    prof = np.exp(-((r_grid - a) ** 2) / (2 * s * s)) * i0e(r_grid * a / (s * s))
    peak = float(prof.max())
    for (x, y), A in zip(pos, amp, strict=True):
        cx, cy = int(round(x / dx)), int(round(y / dy))
        y0, y1, x0, x1 = max(cy - hy, 0), min(cy + hy + 1, h), max(cx - hx, 0), min(cx + hx + 1, w)
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        r = np.hypot(xx * dx - x, yy * dy - y)
        out[y0:y1, x0:x1] += A * np.exp(-((r - a) ** 2) / (2 * s * s)) * i0e(r * a / (s * s)) / peak
    return out


def pattern_rings_sample(
    seed: int = 0,
    shape: tuple[int, int] = (512, 512),
    pixel_size_um: tuple[float, float] = (0.2, 0.2),
    pitch_um: float = 5.0,
    grid: tuple[int, int] = (21, 21),
    magnification: float = 1.002,
    rotation_deg: float = 1.5,
    offset_um: tuple[float, float] = (0.7, -0.4),
    k1: float = -0.004,
    k2: float = 0.0,
    anisotropy: float = 0.0,
    ring_radius_um: float = 0.15,
    psf_sigma_um: float = 0.17,
    peak_photons: float = 3000.0,
    background_photons: float = 60.0,
    falloff: float = 0.35,
    illumination_centre_um: tuple[float, float] = (8.0, -5.0),
    channels: int = 2,
    channel_shift_um: tuple[float, float] = (0.12, -0.08),
    channel_magnification: float = 0.0015,
    missing: tuple[tuple[int, int], ...] = ((1, 0),),
    read_noise: float = 1.5,
    camera_offset: float = 100.0,
) -> PatternSample:
    """A field of rings: 21 × 21 at 5 µm, 0.2 % magnification error, 1.5° rotation, 0.4 % barrel, two channels.

    Parameters
    ----------
    seed : int
        Random seed.
    shape : tuple of int
        (Y, X) pixels.
    pixel_size_um : tuple of float
        (y, x) pixel size the file states.
    pitch_um : float
        The slide's grid pitch.
    grid : tuple of int
        Rows and columns of rings on the slide (centred on the centre spot; odd numbers).
    magnification, rotation_deg, offset_um, k1, k2 : float
        The imaging (module text).
    anisotropy : float
        Unequal x and y scales (an affine distortion, :func:`grid_truth_positions`).
    ring_radius_um, psf_sigma_um : float
        The ring and the Gaussian PSF.
    peak_photons, background_photons : float
        A ring's peak at the brightest illumination, and the background.
    falloff : float
        Illumination at the field's half-diagonal from its centre, relative: 1 − falloff.
    illumination_centre_um : tuple of float
        Offset (x, y) of the illumination's maximum from the field centre.
    channels : int
        1 or 2.
    channel_shift_um : tuple of float
        (x, y) shift of the second channel at the field centre.
    channel_magnification : float
        Relative magnification of the second channel about the field centre.
    missing : tuple of (int, int)
        Grid indices left out (an orientation mark).
    read_noise, camera_offset : float
        Camera read noise (counts SD) and offset (counts).

    Returns
    -------
    PatternSample
        The image and its truth.
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    dy, dx = pixel_size_um
    rows, cols = grid
    jj, ii = np.mgrid[-(rows // 2) : rows - rows // 2, -(cols // 2) : cols - cols // 2]
    index = np.column_stack([ii.ravel(), jj.ravel()])
    keep = ~np.array([tuple(k) in set(missing) for k in index.tolist()])
    index = index[keep]
    pos = grid_truth_positions(
        index, shape, pixel_size_um, pitch_um, magnification, rotation_deg, offset_um, k1, k2, anisotropy
    )
    c = np.array([(w - 1) * dx / 2, (h - 1) * dy / 2])
    radius = float(np.hypot(w * dx, h * dy) / 2)
    per_channel = [pos]
    if channels > 1:
        per_channel.append(c + (1 + channel_magnification) * (pos - c) + np.asarray(channel_shift_um))
    c_ill = c + np.asarray(illumination_centre_um)
    data = np.empty((len(per_channel), h, w), np.uint16)
    truth_rows = []
    for ch, p in enumerate(per_channel):
        illum = 1 - falloff * ((p - c_ill) ** 2).sum(axis=1) / radius**2
        expected = background_photons + _render(
            shape, pixel_size_um, p, peak_photons * illum, ring_radius_um, psf_sigma_um
        )
        counts = rng.poisson(expected) + camera_offset + rng.normal(0, read_noise, shape)
        data[ch] = np.clip(np.round(counts), 0, 65535).astype(np.uint16)
        inside = (p[:, 0] >= 0) & (p[:, 0] <= (w - 1) * dx) & (p[:, 1] >= 0) & (p[:, 1] <= (h - 1) * dy)
        truth_rows += [
            {
                "channel": ch,
                "grid_i": int(i),
                "grid_j": int(j),
                "x_um": float(x),
                "y_um": float(y),
                "inside": bool(k),
            }
            for (i, j), (x, y), k in zip(index, p, inside, strict=True)
        ]
    truth = {
        "pitch_um": pitch_um,
        "grid": list(grid),
        "magnification": magnification,
        "magnification_error_percent": 100 * (magnification - 1),
        "rotation_deg": rotation_deg,
        "offset_um": list(offset_um),
        "k1": k1,
        "k2": k2,
        "anisotropy": anisotropy,
        "radial_distortion_corner_percent": 100 * (k1 + k2),
        "distortion_definition": (
            "w = s·R(θ)·u + offset, p = c + w·(1 + k1·ρ² + k2·ρ⁴), ρ = |w|/R, c the field centre "
            "((X − 1)·dx/2, (Y − 1)·dy/2), R = hypot(X·dx, Y·dy)/2"
        ),
        "channel_shift_um": list(channel_shift_um) if channels > 1 else None,
        "channel_magnification_percent": 100 * channel_magnification if channels > 1 else None,
        "ring_radius_um": ring_radius_um,
        "psf_sigma_um": psf_sigma_um,
        "illumination": f"1 − {falloff}·(|p − c_ill|/R)², c_ill = c + {list(illumination_centre_um)} µm",
        "missing": [list(m) for m in missing],
        "pixel_size_um": list(pixel_size_um),
        "spots": truth_rows,
    }
    names = ["rings 488", "rings 561"][: len(per_channel)]
    return PatternSample(data, pixel_size_um, names, truth)


def napari_pattern_rings() -> list[LayerDataTuple]:
    """The napari sample: two channels of a field of rings with known distortion, magnification and shift."""
    s = pattern_rings_sample()
    truth = {k: v for k, v in s.truth.items() if k != "spots"}
    colours = ["green", "magenta"]
    return [
        (
            s.data[c],
            {
                "name": f"{s.channel_names[c]} (synthetic)",
                "scale": s.pixel_size_um,
                "colormap": colours[c % 2],
                "blending": "additive",
                "metadata": {"truth": truth},
            },
            "image",
        )
        for c in range(s.data.shape[0])
    ]

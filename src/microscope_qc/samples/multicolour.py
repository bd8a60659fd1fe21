"""Synthetic multicolour bead stacks with known chromatic shifts, magnification and rotation."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.samples.beads import BeadSampleSpec, LayerDataTuple, _positions, make_bead_stack

# ------------------------------------------------------------------------------------ multicolour beads


@dataclass(frozen=True)
class ChannelTransform:
    """How a channel's image of the beads differs from the reference channel's.

    Lateral: p' = c + (1 + magnification)·R(rotation)·(p − c) + shift, about the field centre c;
    axial: z' = z + shift_z. Lengths in µm, rotation in degrees (from +x towards +y).
    """

    name: str
    wavelength_ex_nm: float
    wavelength_em_nm: float
    shift_yx_um: tuple[float, float] = (0.0, 0.0)
    shift_z_um: float = 0.0
    magnification: float = 0.0
    rotation_deg: float = 0.0


@dataclass
class MulticolourSample:
    """A (C, Z, Y, X) bead stack and, per channel, every bead's true position (µm)."""

    data: npt.NDArray[np.uint16]
    truth: pd.DataFrame  # bead, channel, x_um, y_um, z_um
    spec: BeadSampleSpec
    transforms: tuple[ChannelTransform, ...]


def transform_points(
    t: ChannelTransform,
    yx_um: npt.ArrayLike,
    z_um: npt.ArrayLike,
    centre_yx: tuple[float, float],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Apply a channel transform to reference positions.

    Parameters
    ----------
    t : ChannelTransform
        The channel's shift, magnification and rotation.
    yx_um : array_like
        (N, 2) lateral reference positions (y, x), µm.
    z_um : array_like
        (N,) axial reference positions, µm.
    centre_yx : tuple of float
        The field centre (y, x) the magnification and rotation act about, µm.

    Returns
    -------
    yx : ndarray
        (N, 2) transformed lateral positions, µm.
    z : ndarray
        (N,) transformed axial positions, µm.
    """
    th = math.radians(t.rotation_deg)
    rot = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])  # acts on (y, x)
    c = np.asarray(centre_yx)
    moved = c + (1 + t.magnification) * (np.asarray(yx_um) - c) @ rot.T + np.asarray(t.shift_yx_um)
    return moved, np.asarray(z_um) + t.shift_z_um


#: the default field: 30 beads in a 40 × 384 × 384 stack, no hot pixels
_DEFAULT_SPEC = BeadSampleSpec(shape=(40, 384, 384), n_beads=30, hot_pixels=0)


def make_multicolour_beads(
    spec: BeadSampleSpec = _DEFAULT_SPEC,
    transforms: tuple[ChannelTransform, ...] | None = None,
) -> MulticolourSample:
    """Render multi-colour (TetraSpeck-like) beads with known per-channel positions.

    The same beads appear in every channel, moved by each channel's transform; widths scale with
    the emission wavelength.

    Parameters
    ----------
    spec : BeadSampleSpec
        The stack's shape, voxel size, PSF and noise (of the reference channel).
    transforms : tuple of ChannelTransform, optional
        One per channel, the first the reference; None: green (488/520) and red (561/610) with a
        45/−60 nm lateral and 180 nm axial shift, 0.1 % magnification and 0.05° rotation.

    Returns
    -------
    MulticolourSample
        The (C, Z, Y, X) uint16 stack and every bead's true position per channel.

    Raises
    ------
    ValueError
        If the beads do not fit in the image with the spec's margin and separation.
    """
    if transforms is None:
        transforms = (
            ChannelTransform("green", 488, 520),
            ChannelTransform(
                "red",
                561,
                610,
                shift_yx_um=(0.045, -0.060),
                shift_z_um=0.180,
                magnification=0.001,
                rotation_deg=0.05,
            ),
        )
    rng = np.random.default_rng(spec.seed)
    nz, h, w = spec.shape
    dz, dy, dx = spec.voxel_size_um
    yx = _positions(spec, rng)
    z = (nz - 1) * dz / 2 + rng.uniform(-0.5, 0.5, len(yx)) * dz
    centre = ((h - 1) * dy / 2, (w - 1) * dx / 2)
    channels: list[npt.NDArray[np.uint16]] = []
    rows: list[pd.DataFrame] = []
    ref_em = transforms[0].wavelength_em_nm
    for k, t in enumerate(transforms):
        yx_k, z_k = transform_points(t, yx, z, centre)
        scale = t.wavelength_em_nm / ref_em
        ch_spec = replace(
            spec,
            seed=spec.seed + 1000 * (k + 1),
            fwhm_xy_um=spec.fwhm_xy_um * scale,
            fwhm_z_um=spec.fwhm_z_um * scale,
        )
        channels.append(make_bead_stack(ch_spec, positions_um=(yx_k, z_k)).data)
        rows.append(
            pd.DataFrame(
                {
                    "bead": np.arange(len(yx)),
                    "channel": k,
                    "y_um": yx_k[:, 0],
                    "x_um": yx_k[:, 1],
                    "z_um": z_k,
                }
            )
        )
    return MulticolourSample(np.stack(channels), pd.concat(rows, ignore_index=True), spec, tuple(transforms))


def coregistration_sample(seed: int = 0) -> MulticolourSample:
    """Build two-colour beads: 45/−60 nm lateral and 180 nm axial shift, 0.1 % magnification, 0.05° rotation.

    Parameters
    ----------
    seed : int
        Random seed (the default is the documented sample).

    Returns
    -------
    MulticolourSample
        The sample with its truth.
    """
    return make_multicolour_beads(BeadSampleSpec(shape=(40, 384, 384), n_beads=30, hot_pixels=0, seed=seed))


def napari_coregistration() -> list[LayerDataTuple]:
    """The napari sample: a two-colour bead stack with known chromatic shifts (File ▸ Open Sample)."""
    s = coregistration_sample()
    meta = {
        "microscope_qc": {
            "settings": {
                "voxel_size_um": s.spec.voxel_size_um,
                "na": s.spec.na,
                "immersion_index": s.spec.immersion_index,
                "modality": s.spec.modality,
                "wavelength_ex_nm": [t.wavelength_ex_nm for t in s.transforms],
                "wavelength_em_nm": [t.wavelength_em_nm for t in s.transforms],
            },
            "source": "synthetic sample 'two-colour beads'",
        },
        "truth": s.truth,
    }
    kwargs: dict[str, Any] = {
        "name": "two-colour beads",
        "scale": s.spec.voxel_size_um,
        "metadata": meta,
        "channel_axis": None,
    }
    kwargs.pop("channel_axis")
    return [(s.data, kwargs, "image")]

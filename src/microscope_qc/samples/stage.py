"""Synthetic bead series for the stage measurement, with known truth (QUAREP WG6, MetroloJ_QC drift).

- ``stage_repeatability_sample``: the WG6 protocol's 160 2D frames of one 2 µm bead whose
  position scatters by a known SD per distance, with a known backlash (reversal value) per axis;
- ``stage_drift_sample``: a 3D time-lapse of one bead that settles (exponentially) and then drifts
  at a known velocity, with two frames without the bead and one with a second bead.

A bead is rendered as a Gaussian (σ = a quarter of its diameter laterally, twice that axially)
sampled at voxel centres, on a background, with Poisson noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "StageSample",
    "render_bead",
    "stage_repeatability_sample",
    "stage_drift_sample",
    "napari_stage_repeatability",
    "napari_stage_drift",
]

LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]


@dataclass
class StageSample:
    """(T, Z, Y, X) frames, the voxel size, the frame interval, the truth, and the moves (repeatability)."""

    data: npt.NDArray[np.uint16]
    voxel_size_um: tuple[float, float, float]
    frame_interval_s: float
    truth: dict[str, Any]
    positions: pd.DataFrame  # true bead position per frame (µm), NaN where there is none
    moves: pd.DataFrame | None = None


def render_bead(
    shape: tuple[int, int, int],
    zyx_um: npt.ArrayLike,
    voxel_size_um: tuple[float, float, float],
    diameter_um: float,
    amplitude: float,
    background: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.uint16]:
    """One frame with beads at ``zyx_um`` ((N, 3), µm from the first voxel centre), Poisson noise.

    Parameters
    ----------
    shape : tuple of 3 int
        (Z, Y, X) of the frame.
    zyx_um : array_like
        (N, 3) bead positions.
    voxel_size_um : tuple of 3 float
        (z, y, x) voxel size.
    diameter_um : float
        Bead diameter (σ = d/4 laterally, d/2 axially).
    amplitude, background : float
        Peak and background in expected photons.
    rng : numpy.random.Generator
        Noise source.

    Returns
    -------
    numpy.ndarray of uint16
        The frame.
    """
    z, y, x = (np.arange(n) * v for n, v in zip(shape, voxel_size_um, strict=True))
    img = np.full(shape, float(background))
    s_xy, s_z = diameter_um / 4.0, diameter_um / 2.0
    for bz, by, bx in np.atleast_2d(np.asarray(zyx_um, float)):
        gz = np.exp(-0.5 * ((z - bz) / s_z) ** 2) if shape[0] > 1 else np.ones(1)
        gy = np.exp(-0.5 * ((y - by) / s_xy) ** 2)
        gx = np.exp(-0.5 * ((x - bx) / s_xy) ** 2)
        img += amplitude * gz[:, None, None] * gy[None, :, None] * gx[None, None, :]
    return np.clip(rng.poisson(img), 0, 65535).astype(np.uint16)


def stage_repeatability_sample(
    seed: int = 0, backlash_xy_um: tuple[float, float] = (0.08, 0.06)
) -> StageSample:
    """160 frames (64 × 64, 0.1 µm pixels) of a 2 µm bead after the QUAREP WG6 moves.

    SD of the position per axis: 0.05 µm after 300 µm moves, 0.10 µm after 3000 µm moves; the
    position is offset by +B/2 when the axis was approached in + and −B/2 in −, with B = 0.08 µm
    (x) and 0.06 µm (y).

    Parameters
    ----------
    seed : int
        Random seed.
    backlash_xy_um : tuple of float
        The reversal error B of x and y (µm).

    Returns
    -------
    StageSample
        Frames (T, 1, 64, 64), the moves in the protocol's order, the true positions and the truth.
    """
    from microscope_qc.analysis.stage import wg6_moves

    rng = np.random.default_rng(seed)
    moves = wg6_moves(160)
    vox = (1.0, 0.1, 0.1)
    sd = {300.0: 0.05, 3000.0: 0.10}
    backlash = {"x": backlash_xy_um[0], "y": backlash_xy_um[1]}
    home = np.array([0.0, 3.2, 3.2])
    rows = []
    frames = np.empty((160, 1, 64, 64), np.uint16)
    for i in range(len(moves)):
        m = moves.iloc[i]
        s = sd[m["distance_um"]]
        ax = -np.sign(m["dx_um"])  # approach direction: the way back
        ay = -np.sign(m["dy_um"])
        pos = home + np.array(
            [0.0, rng.normal(0, s) + ay * backlash["y"] / 2, rng.normal(0, s) + ax * backlash["x"] / 2]
        )
        rows.append(pos)
        frames[i] = render_bead((1, 64, 64), pos, vox, 2.0, 3000.0, 100.0, rng)
    positions = pd.DataFrame(np.asarray(rows), columns=["z_um", "y_um", "x_um"])
    truth = {
        "sd_um_by_distance": {"300": 0.05, "3000": 0.10},
        "reversal_um": backlash,
        "reversal_sign": "B = mean approached in + minus mean approached in −",
        "bead_diameter_um": 2.0,
    }
    return StageSample(frames, vox, 1.0, truth, positions, moves)


def stage_drift_sample(
    seed: int = 0,
    settle_um: float = 1.0,
    velocity_um_per_min: tuple[float, float, float] = (0.01, -0.015, 0.02),
    n_frames: int = 60,
    frame_interval_s: float = 30.0,
    gaps: bool = True,
) -> StageSample:
    """A 3D time-lapse of a 2 µm bead: settling (x, τ = 90 s), then drift at a known velocity.

    Position (µm) = start + settle·(1 − exp(−t/90 s)) along x + velocity·t (z, y, x per minute).
    With ``gaps``, frames 20 and 21 have no bead (bridged) and frame 40 has a second bead (left out).

    Parameters
    ----------
    seed : int
        Random seed.
    settle_um : float
        The settling displacement along x.
    velocity_um_per_min : tuple of 3 float
        (z, y, x) drift velocity.
    n_frames : int
        Frames.
    frame_interval_s : float
        Time between frames.
    gaps : bool
        Add the frames without a bead and with two beads.

    Returns
    -------
    StageSample
        Frames (T, 11, 96, 96) with voxels (0.3, 0.1, 0.1) µm; truth: the velocity, and the
        stabilisation time for a 0.1 µm threshold computed from the noise-free positions.
    """
    from microscope_qc.analysis.stage import stabilisation_index

    rng = np.random.default_rng(seed)
    vox = (0.3, 0.1, 0.1)
    shape = (11, 96, 96)
    t = np.arange(n_frames) * frame_interval_s
    start = np.array([1.5, 4.0, 3.0])
    v = np.asarray(velocity_um_per_min) / 60.0
    pos = start + v[None, :] * t[:, None]
    pos[:, 2] += settle_um * (1 - np.exp(-t / 90.0))
    frames = np.empty((n_frames, *shape), np.uint16)
    no_bead = [20, 21] if gaps else []
    two = [40] if gaps else []
    for i in range(n_frames):
        beads = [] if i in no_bead else [pos[i]]
        if i in two:
            beads.append(pos[i] + np.array([0.0, 3.5, 2.5]))
        frames[i] = (
            render_bead(shape, np.asarray(beads).reshape(-1, 3), vox, 2.0, 3000.0, 100.0, rng)
            if beads
            else (np.clip(rng.poisson(np.full(shape, 100.0)), 0, 65535).astype(np.uint16))
        )
    steps = np.sqrt((np.diff(pos, axis=0) ** 2).sum(axis=1))
    k = stabilisation_index(steps, 0.1)
    truth = {
        "velocity_um_per_min": {
            "z": velocity_um_per_min[0],
            "y": velocity_um_per_min[1],
            "x": velocity_um_per_min[2],
        },
        "settle_um": settle_um,
        "frame_interval_s": frame_interval_s,
        "stabilisation_threshold_um": 0.1,
        "stabilisation_time_s_noise_free": None if k is None else float(t[k]),
        "frames_without_bead": no_bead,
        "frames_with_two_beads": two,
    }
    positions = pd.DataFrame(pos, columns=["z_um", "y_um", "x_um"])
    positions.loc[no_bead, :] = math.nan
    return StageSample(frames, vox, frame_interval_s, truth, positions)


def napari_stage_repeatability() -> list[LayerDataTuple]:
    """The napari sample: the WG6 repeatability series, (T, Y, X) frames, moves in the metadata."""
    s = stage_repeatability_sample()
    meta = {"moves": s.moves.to_dict("list") if s.moves is not None else None, "truth": s.truth}
    return [
        (
            s.data[:, 0],
            {"name": "stage repeatability (synthetic)", "scale": s.voxel_size_um[1:], "metadata": meta},
            "image",
        )
    ]


def napari_stage_drift() -> list[LayerDataTuple]:
    """The napari sample: a 3D bead time-lapse with settling and drift, (T, Z, Y, X)."""
    s = stage_drift_sample()
    # the threshold the sample was made for: the sample has no optics to derive MetroloJ_QC's from
    meta = {
        "frame_interval_s": s.frame_interval_s,
        "stabilisation_threshold_um": s.truth["stabilisation_threshold_um"],
        "truth": s.truth,
    }
    return [
        (s.data, {"name": "stage drift (synthetic)", "scale": s.voxel_size_um, "metadata": meta}, "image")
    ]

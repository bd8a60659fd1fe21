"""One bead per frame: found with the shared detector, localised with the shared fitting engine.

Each frame (2D or 3D) must show exactly one bead. A frame with none, or with more than one
spot above a tenth of the brightest, is reported with its reason and left out; the other frames
are still localised. All boxes are fitted in one batch (axis-aligned Gaussian with a constant
background: a 1–4 µm bead is not a Gaussian, but the fitted centre of a symmetric spot is its
centre).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from microscope_qc.analysis._common import check_cancel
from microscope_qc.detection import DetectionSettings, detect_beads, extract_boxes
from microscope_qc.fitting import GaussianModel, fit_gaussians
from microscope_qc.results import AnalysisError, CancelCheck, ProgressCallback

__all__ = ["Localisations", "localise_frames"]

#: a second spot counts when it is at least this fraction of the brightest one's height
SECOND_SPOT_RELATIVE_HEIGHT = 0.1
#: a fitted spot whose amplitude is below this many standard errors is noise, not a bead
MIN_AMPLITUDE_SE = 10.0


@dataclass
class Localisations:
    """Bead position per frame (µm, (z, y, x)), its standard error, and the frames' status."""

    zyx_um: npt.NDArray[np.float64]  # (T, 3), NaN where not localised
    se_um: npt.NDArray[np.float64]  # (T, 3)
    n_spots: npt.NDArray[np.int_]  # (T,)
    status: list[str]  # "ok", "no bead", "2 beads", "fit failed"
    three_d: bool


def _as_zyx(frame: Any) -> npt.NDArray[np.float32]:
    a = np.asarray(frame, dtype=np.float32)
    if a.ndim == 2:
        return a[None]
    if a.ndim == 3:
        return a
    raise AnalysisError(
        f"A frame is (Y, X) or (Z, Y, X); got {a.ndim} dimensions {a.shape}. Pick one channel first."
    )


def localise_frames(
    frames: Any,
    voxel_size_um: tuple[float, float, float],
    bead_diameter_um: float,
    threshold_sigma: float,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    skip: dict[int, str] | None = None,
) -> Localisations:
    """Find and fit the one bead of each frame.

    Parameters
    ----------
    frames : sequence of array_like
        (Y, X) or (Z, Y, X) frames, all of one shape.
    voxel_size_um : tuple of 3 float
        (z, y, x) voxel size.
    bead_diameter_um : float
        The bead's diameter: the detector's filter σ is a quarter of it (the SD of a disk's
        intensity along an axis), at least one pixel.
    threshold_sigma : float
        Detection threshold in noise SDs.
    progress, cancel : callable, optional
        Progress report and cancel check.
    skip : dict of int to str, optional
        Frames not to look at, with the reason (their status).

    Returns
    -------
    Localisations
        Positions in µm from the first voxel's centre (numpy convention), NaN for frames left out.

    Raises
    ------
    AnalysisError
        Frames of different shapes or dimensions.
    """
    stacks = [_as_zyx(f) for f in frames]
    shapes = {s.shape for s in stacks}
    if len(shapes) > 1:
        raise AnalysisError(f"The frames have different shapes {sorted(shapes)}; give frames of one size.")
    nz = stacks[0].shape[0]
    three_d = nz > 1
    vz, vy, vx = (float(v) for v in voxel_size_um)
    sigma_px = max(1.0, bead_diameter_um / 4.0 / vx)
    det = DetectionSettings(
        sigma_px=sigma_px,
        threshold_sigma=threshold_sigma,
        min_relative_height=SECOND_SPOT_RELATIVE_HEIGHT,
        min_distance_px=max(2, int(round(bead_diameter_um / vx / 2))),
        background_block_px=max(32, int(4 * bead_diameter_um / vx)),
    )
    t = len(stacks)
    n_spots = np.zeros(t, dtype=int)
    status = ["ok"] * t
    centres = np.zeros((t, 3), dtype=int)
    for i, s in enumerate(stacks):
        check_cancel(cancel, "Stage analysis")
        if skip and i in skip:
            status[i] = skip[i]
            continue
        found = detect_beads(s, det)
        n_spots[i] = found["y"].size
        if n_spots[i] == 0:
            status[i] = "no bead"
        elif n_spots[i] > 1:
            status[i] = f"{n_spots[i]} beads"
        else:
            centres[i] = (found["z"][0], found["y"][0], found["x"][0])
        if progress is not None and i % 10 == 0:
            progress(0.8 * i / t, f"frame {i + 1} of {t}")
    zyx = np.full((t, 3), np.nan)
    se = np.full((t, 3), np.nan)
    ok = np.flatnonzero(np.asarray(status) == "ok")
    if ok.size:
        half_xy = int(math.ceil(max(3 * sigma_px, 0.75 * bead_diameter_um / vx + 2)))
        sigma_z = max(1.0, (bead_diameter_um / 4.0 + 0.5) / vz) if three_d else 1.0
        half_z = int(min(math.ceil(3 * sigma_z), (nz - 1) // 2)) if three_d else 0
        c = centres[ok]
        boxes = []
        valid = []
        for k, (z, y, x) in zip(ok, c, strict=True):
            b, v = extract_boxes(
                stacks[k], np.array([z]), np.array([y]), np.array([x]), (half_z, half_xy, half_xy)
            )
            boxes.append(b[0])
            valid.append(v[0])
        box = np.stack(boxes)
        vmask = np.stack(valid)
        shape = box.shape[1:] if three_d else box.shape[2:]
        ndim = 3 if three_d else 2
        data = box.reshape(len(ok), -1)
        fit = fit_gaussians(
            GaussianModel(ndim, full=False),
            data,
            shape,
            np.array([sigma_z, sigma_px, sigma_px]) if three_d else sigma_px,
            mask=vmask.reshape(len(ok), -1),
        )
        cen = fit.params[:, 2 : 2 + ndim]
        cse = fit.stderr[:, 2 : 2 + ndim]
        origin = c - np.array([half_z, half_xy, half_xy])
        inside = np.all((cen >= -0.5) & (cen <= np.asarray(shape) - 0.5), axis=1)
        good = fit.success & inside
        with np.errstate(divide="ignore", invalid="ignore"):
            significant = fit.params[:, 0] > MIN_AMPLITUDE_SE * fit.stderr[:, 0]
        scale = np.array([vz, vy, vx])
        for j, k in enumerate(ok):
            if not significant[j]:
                status[k] = "no bead"  # the detector's best guess in a frame of noise
                n_spots[k] = 0
                continue
            if not good[j]:
                status[k] = "fit failed"
                continue
            pos = np.array([0.0, *cen[j]]) if not three_d else cen[j]
            err = np.array([0.0, *cse[j]]) if not three_d else cse[j]
            zyx[k] = (origin[j] + pos) * scale
            se[k] = err * scale
        if not three_d:
            zyx[:, 0] = np.where(np.isfinite(zyx[:, 1]), 0.0, np.nan)
            se[:, 0] = np.nan
    if progress is not None:
        progress(0.9, "positions")
    return Localisations(zyx, se, n_spots, status, three_d)

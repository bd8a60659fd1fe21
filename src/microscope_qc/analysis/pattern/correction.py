"""Corrections from a pattern slide: ``registration.json`` read back and applied to images.

A corrected image is resampled onto the reference channel's *ideal* grid: the output pixel at
position q (µm) takes the input's value at

* q' = F_ref(S_ref⁻¹(q)) for the reference channel: S_ref the undistorted (similarity) grid and
  F_ref the fitted grid model, so the distortion is removed while the scale and the orientation
  stay those of the image (the pixel size is unchanged);
* q' + Δ(q') for another channel, Δ the co-registration model of the pair (reference → channel):
  the channel lands on the reference channel, and its distortion with it.

A file without a distortion model (format version 1, written by the co-registration measurement)
corrects the channel registration only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from microscope_qc.analysis.coregistration.model import RegistrationModel
from microscope_qc.analysis.pattern.grid import GridModel
from microscope_qc.analysis.pattern.result import REGISTRATION_FORMAT_VERSION
from microscope_qc.results import AnalysisError

__all__ = ["Registration", "read_registration", "source_positions", "correct_channel", "correct_image"]

_PAIR = re.compile(r"^(\d+)-(\d+)$")


@dataclass
class Registration:
    """The corrections a ``registration.json`` holds (format version 1 or 2)."""

    version: int
    reference_channel: int
    pairs: dict[tuple[int, int], RegistrationModel] = field(default_factory=dict)
    distortion: dict[int, GridModel] = field(default_factory=dict)
    pixel_size_um: tuple[float, float] | None = None

    def corrects(self, channel: int) -> bool:
        """Whether the file has a correction for ``channel`` (its distortion or its registration)."""
        if channel == self.reference_channel:
            return self.reference_channel in self.distortion
        return (self.reference_channel, channel) in self.pairs or channel in self.distortion


def read_registration(source: str | Path | dict[str, Any]) -> Registration:
    """Read a ``registration.json`` (version 1: channel pairs only; version 2: with distortion models).

    Parameters
    ----------
    source : str, Path or dict
        The file, or its parsed content.

    Returns
    -------
    Registration
        The models.

    Raises
    ------
    AnalysisError
        A file that cannot be read, is not a registration file, or comes from a newer version.
    """
    if isinstance(source, dict):
        doc, where = source, "the registration"
    else:
        where = str(source)
        try:
            doc = json.loads(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AnalysisError(f"The registration file {where} does not exist.") from None
        except (OSError, ValueError) as exc:
            raise AnalysisError(f"Cannot read the registration file {where}: {exc}.") from None
    if not isinstance(doc, dict):
        raise AnalysisError(f"{where} is not a registration file (a JSON object of models).")
    version = int(doc.get("format_version", 1))
    if version > REGISTRATION_FORMAT_VERSION:
        raise AnalysisError(
            f"{where} has format version {version}; this version of microscope-qc reads up to "
            f"{REGISTRATION_FORMAT_VERSION}. Update microscope-qc."
        )
    pairs: dict[tuple[int, int], RegistrationModel] = {}
    try:
        for key, value in doc.items():
            m = _PAIR.match(str(key))
            if m:
                pairs[(int(m.group(1)), int(m.group(2)))] = RegistrationModel.from_dict(value)
        distortion = {int(c): GridModel.from_dict(d) for c, d in doc.get("distortion", {}).items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise AnalysisError(f"{where}: a model is incomplete ({exc!r}).") from None
    if not pairs and not distortion:
        raise AnalysisError(f"{where} holds no registration or distortion model.")
    ref = doc.get("reference_channel")
    if ref is None:
        ref = min((i for i, _ in pairs), default=min(distortion, default=0))
    px = doc.get("pixel_size_um")
    return Registration(
        version, int(ref), pairs, distortion, (float(px[0]), float(px[1])) if px is not None else None
    )


def source_positions(q: np.ndarray, reg: Registration, channel: int) -> np.ndarray:
    """Where (µm) the corrected image's positions ``q`` (N, 2; x, y in µm) are taken from in ``channel``.

    Parameters
    ----------
    q : numpy.ndarray
        (N, 2) output positions.
    reg : Registration
        The corrections.
    channel : int
        The image's channel.

    Returns
    -------
    numpy.ndarray
        (N, 2) input positions.
    """
    ref = reg.reference_channel
    pair = reg.pairs.get((ref, channel)) if channel != ref else None
    grid = reg.distortion.get(ref) if (channel == ref or pair is not None) else reg.distortion.get(channel)
    p = np.asarray(q, float)
    if grid is not None:
        p = grid.map(grid.ideal_inverse(p))
    if pair is not None:
        d = pair.displacement(p[:, 0], p[:, 1])
        p = p + np.column_stack([d["x"], d["y"]])
    return p


def correct_channel(
    image: np.ndarray, pixel_size_um: tuple[float, float], reg: Registration, channel: int, order: int = 1
) -> np.ndarray:
    """One channel, (Y, X) or (Z, Y, X), resampled onto the reference channel's ideal grid (module text).

    Parameters
    ----------
    image : numpy.ndarray
        The channel's pixels.
    pixel_size_um : tuple of float
        (y, x) pixel size of the image.
    reg : Registration
        The corrections.
    channel : int
        The image's channel number.
    order : int
        Spline order of the interpolation (1: linear).

    Returns
    -------
    numpy.ndarray
        float32, the same shape.
    """
    img = np.asarray(image, dtype=np.float32)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[None]
    _, h, w = img.shape
    dy, dx = pixel_size_um
    yy, xx = np.mgrid[0:h, 0:w]
    q = np.column_stack([xx.ravel() * dx, yy.ravel() * dy])
    p = source_positions(q, reg, channel)
    coords = [
        (p[:, 1] / dy).reshape(h, w).astype(np.float32),
        (p[:, 0] / dx).reshape(h, w).astype(np.float32),
    ]
    out = np.empty_like(img)
    for k in range(img.shape[0]):
        out[k] = ndimage.map_coordinates(img[k], coords, order=order, mode="nearest")
    return out[0] if squeeze else out


def correct_image(
    czyx: Any, pixel_size_um: tuple[float, float], reg: Registration, order: int = 1
) -> tuple[np.ndarray, list[str]]:
    """Every channel of a (C, Z, Y, X) image corrected; channels without a correction are copied.

    Parameters
    ----------
    czyx : array_like
        The image.
    pixel_size_um : tuple of float
        (y, x) pixel size.
    reg : Registration
        The corrections.
    order : int
        Spline order (1: linear).

    Returns
    -------
    corrected, notes
        float32 (C, Z, Y, X) and what was done per channel.
    """
    shape = tuple(czyx.shape)
    out = np.empty(shape, np.float32)
    notes = []
    for c in range(shape[0]):
        if reg.corrects(c):
            out[c] = correct_channel(np.asarray(czyx[c]), pixel_size_um, reg, c, order)
            what = (
                "distortion removed"
                if (reg.reference_channel in reg.distortion or c in reg.distortion)
                else ""
            )
            if c != reg.reference_channel and (reg.reference_channel, c) in reg.pairs:
                what = (what + ", " if what else "") + f"registered to channel {reg.reference_channel}"
            notes.append(f"channel {c}: {what}")
        else:
            out[c] = np.asarray(czyx[c], np.float32)
            notes.append(f"channel {c}: no model in the registration file, copied unchanged")
    return out, notes

"""Reuse of a channel's step-independent work when the same image is analysed again with another step.

napari's field dock re-analyses on every change of a setting when 'update live' is on. Changing the
iso-intensity step only changes the MetroloJ_QC zones and numbers; the illumination model fit, its
maps, the microscope-metrics numbers, the blurred image and the noise estimate stay the same. A caller
that expects such re-runs passes one :class:`StepIndependentCache` to every
:func:`~microscope_qc.analysis.field.analyze_field` call; the command line does not (it runs once).

What is reused is keyed by the image's content (a BLAKE2 digest of its pixels, so an image changed
in place is never mistaken for the old one), the dark image, the mask, the saturation level and
every setting except the step. The numbers are those of a fresh analysis, to the bit.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from microscope_qc.analysis.field.settings import FieldSettings

__all__ = ["StepIndependent", "StepIndependentCache", "content_key"]


@dataclass(frozen=True)
class StepIndependent:
    """One channel's products that do not depend on the iso-intensity step."""

    #: the illumination model fit (:class:`~microscope_qc.analysis.field.model.IlluminationFit`)
    fit: Any
    #: its maps and numbers (:class:`~microscope_qc.analysis.field.model.IlluminationMaps`)
    maps: Any
    #: the microscope-metrics numbers
    mm: dict[str, Any]
    #: the MetroloJ_QC blurred image (read-only: results share it)
    blurred: np.ndarray
    noise_sd: float
    median_signal: float


def _digest_array(h: Any, a: np.ndarray | None) -> None:
    if a is None:
        h.update(b"none")
        return
    arr = np.ascontiguousarray(a)
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.data.cast("B"))


def content_key(
    raw: np.ndarray, dark: np.ndarray | None, analysed: np.ndarray | None, sat: float, settings: FieldSettings
) -> bytes:
    """A digest of everything a channel's step-independent products depend on.

    Parameters
    ----------
    raw, dark, analysed
        The channel's pixels, its dark image and the mask (``None`` when absent).
    sat
        The saturation level used.
    settings
        The analysis settings; the step is left out.

    Returns
    -------
    bytes
        Equal for two calls exactly when their step-independent products are equal.
    """
    h = hashlib.blake2b(digest_size=32)
    for a in (raw, dark, analysed):
        _digest_array(h, a)
    h.update(repr(sat).encode())
    h.update(repr(dataclasses.replace(settings, step_percent=0.0)).encode())
    return h.digest()


class StepIndependentCache:
    """The step-independent products of the last image analysed, per channel (one image at a time).

    Not shared between threads: one caller runs one analysis at a time (a dock's worker).
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[bytes, StepIndependent]] = {}
        #: how many channels were taken from the cache (for tests and benchmarks)
        self.hits = 0

    def get(self, channel: int, key: bytes) -> StepIndependent | None:
        """The products stored for ``channel`` under ``key``, or None."""
        entry = self._entries.get(channel)
        if entry is None or entry[0] != key:
            return None
        self.hits += 1
        return entry[1]

    def put(self, channel: int, key: bytes, parts: StepIndependent) -> None:
        """Keep ``parts`` for ``channel``, replacing what was kept for another image."""
        parts.blurred.flags.writeable = False
        self._entries[channel] = (key, parts)

    def clear(self) -> None:
        """Forget everything kept (e.g. when the dock closes)."""
        self._entries.clear()

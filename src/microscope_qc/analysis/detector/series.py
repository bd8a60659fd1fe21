"""An EMVA 1288 series: frames grouped by their conditions, and the checks of its frame list.

Consecutive frames taken under the same conditions (dark or bright, exposure time, photons) form
a group; the first two of a group are its temporal pair, and a group of more frames is also a
stack for the spatial non-uniformities (DSNU, PRNU). Bright groups must come in increasing order
of light (photons when given, else exposure time); dark groups are matched to them by exposure
time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from microscope_qc.results import AnalysisError

__all__ = ["Group", "group_frames"]


@dataclass(frozen=True)
class Group:
    """Consecutive frames taken under the same conditions."""

    start: int  # index of its first frame
    count: int
    dark: bool
    exposure_ms: float | None
    photons: float | None  # mean photons per pixel during the exposure (bright groups)

    @property
    def frames(self) -> range:
        """The indices of its frames."""
        return range(self.start, self.start + self.count)

    def describe(self) -> str:
        """The group as a person reads it ("dark, 10 ms, frames 4–5")."""
        kind = "dark" if self.dark else "bright"
        parts = [kind]
        if self.exposure_ms is not None:
            parts.append(f"{self.exposure_ms:g} ms")
        if self.photons is not None and not self.dark:
            parts.append(f"{self.photons:g} photons")
        parts.append(f"frames {self.start}–{self.start + self.count - 1}")
        return ", ".join(parts)


def group_frames(
    n: int,
    exposure_ms: Sequence[float] | None,
    photons: Sequence[float] | None,
    dark: Sequence[bool] | None,
) -> list[Group]:
    """Group an EMVA series and check it.

    Parameters
    ----------
    n : int
        The number of frames.
    exposure_ms : sequence of float or None
        Exposure time of each frame.
    photons : sequence of float or None
        Mean photons per pixel of each frame (0 for a dark frame).
    dark : sequence of bool or None
        Which frames are dark; default: those with 0 photons.

    Returns
    -------
    list of Group
        In frame order.

    Raises
    ------
    AnalysisError
        One frame only; neither exposure times nor photons; no dark or no bright frames; a group
        of one frame; bright groups out of order or repeated; dark groups repeated.
    """
    if n < 2:
        raise AnalysisError(
            f"Only {n} frame given: EMVA 1288 needs pairs of frames (two at each exposure or light level, "
            "bright and dark)."
        )
    if exposure_ms is None and photons is None:
        raise AnalysisError(
            "EMVA mode needs the exposure time (and, for the quantum efficiency, the photons) of every frame: "
            "give a frame table ({frame_table})."
        )
    if dark is None:
        if photons is None:
            raise AnalysisError(
                "Say which frames are dark: a 'kind' column (bright/dark) or photons = 0 in the frame table "
                "({frame_table})."
            )
        dark = [p == 0 for p in photons]
    dark = [bool(d) for d in dark]
    if len(dark) != n:
        raise AnalysisError(f"{len(dark)} dark/bright flags given for {n} frames: give one per frame.")

    def key(i: int) -> tuple[bool, float | None, float | None]:
        p = None if photons is None or dark[i] else photons[i]
        return dark[i], (exposure_ms[i] if exposure_ms is not None else None), p

    groups: list[Group] = []
    start = 0
    for i in range(1, n + 1):
        if i == n or key(i) != key(start):
            d, t, p = key(start)
            groups.append(Group(start, i - start, d, t, p))
            start = i
    single = [g for g in groups if g.count < 2]
    if single:
        raise AnalysisError(
            f"{len(single)} condition(s) have a single frame ({single[0].describe()}): EMVA 1288 needs two "
            "frames at every exposure or light level. Add the missing frame or remove the lone one."
        )
    brights = [g for g in groups if not g.dark]
    darks = [g for g in groups if g.dark]
    if not brights:
        raise AnalysisError(
            "No bright frames: every frame is marked dark. Check the 'kind' column or photons."
        )
    if not darks:
        raise AnalysisError(
            "No dark frames: EMVA 1288 needs dark pairs (light off, same exposure times) to subtract the "
            "offset and measure the dark noise. Mark them 'dark' in the frame table ({frame_table})."
        )
    _check_order(brights, photons is not None)
    seen: dict[float | None, Group] = {}
    for g in darks:
        if g.exposure_ms in seen:
            raise AnalysisError(
                f"Dark frames at {g.exposure_ms:g} ms appear twice ({seen[g.exposure_ms].describe()}; "
                f"{g.describe()}): put the darks of one exposure time together, or fix the frame table."
            )
        seen[g.exposure_ms] = g
    return groups


def _stimulus(g: Group, by_photons: bool) -> float:
    value = g.photons if by_photons else g.exposure_ms
    return math.nan if value is None else float(value)


def _check_order(brights: list[Group], by_photons: bool) -> None:
    what = "photons" if by_photons else "exposure time"
    for prev, g in zip(brights, brights[1:], strict=False):
        a, b = _stimulus(prev, by_photons), _stimulus(g, by_photons)
        if b == a:
            raise AnalysisError(
                f"The {what} list is duplicated: {prev.describe()} and {g.describe()} have the same {what}. "
                "Each light level once (as one group of frames), please; fix the frame table ({frame_table})."
            )
        if b < a:
            raise AnalysisError(
                f"The {what} list is not sorted: {g.describe()} comes after {prev.describe()}. EMVA 1288 "
                f"takes the bright pairs in increasing order of {what}; sort the frames (and the frame "
                "table) that way."
            )

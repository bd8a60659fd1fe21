"""Axis ranges, "nice" tick positions (1, 2, 2.5, 5 × 10ⁿ) and their labels."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["padded_range", "nice_ticks", "tick_labels", "text_width"]

_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def padded_range(values: Sequence[float], margin: float = 0.05) -> tuple[float, float]:
    """The range of the finite ``values`` widened by ``margin`` of its span on each side.

    A single value (or none) gets a range around it so that an axis can still be drawn.
    """
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if hi == lo:
        half = abs(lo) * 0.05 or 0.5
        return lo - half, hi + half
    pad = (hi - lo) * margin
    return lo - pad, hi + pad


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Tick positions inside ``[lo, hi]`` at a round step giving about ``target`` ticks.

    Parameters
    ----------
    lo, hi : float
        The axis range (either order).
    target : int
        About how many ticks.

    Returns
    -------
    list of float
        Increasing positions, each a multiple of the step (1, 2, 2.5 or 5 × a power of ten).
    """
    lo, hi = min(lo, hi), max(lo, hi)
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo] if math.isfinite(lo) else []
    raw = span / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    # the smallest round step giving at most one interval more than asked
    step = next(s * power for s in _STEPS if span / (s * power) <= target + 1.001)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    ticks = [k * step for k in range(first, last + 1)]
    return [0.0 if abs(t) < step * 1e-9 else t for t in ticks]


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Labels of ticks at one step: as few decimals as tell them apart, the same for all.

    Very large or very small numbers are written in scientific notation (``2e+05``).
    """
    if not ticks:
        return []
    biggest = max(abs(t) for t in ticks)
    step = min((b - a for a, b in zip(ticks, ticks[1:], strict=False)), default=biggest or 1.0)
    if biggest >= 1e6 or (0 < biggest < 1e-3):
        digits = max(0, round(math.log10(biggest) - math.log10(step)))
        return [f"{t:.{digits}e}" if t else "0" for t in ticks]
    decimals = 0
    while decimals < 8 and any(abs(round(t, decimals) - t) > step * 1e-6 for t in ticks):
        decimals += 1
    return [f"{t:.{decimals}f}".replace("-", "−") for t in ticks]


def text_width(text: str, size: float) -> float:
    """Estimated width in pixels of ``text`` at font size ``size`` (a sans-serif's average advance).

    Layout needs no exact metrics: it reserves room for labels with this generous estimate.
    """
    narrow = sum(ch in "ijlrtf.,:;|!'()[]1 " for ch in text)
    return size * (0.6 * (len(text) - narrow) + 0.33 * narrow)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], list[str]]:
    """Ticks of a logarithmic axis whose range is ``[lo, hi]`` in log10 units, and their labels.

    Ticks sit at whole decades (every k-th decade when there are many); a range spanning about
    a decade or less gets 1, 2, 5 × 10ⁿ, or round steps when even those are too few.

    Parameters
    ----------
    lo, hi : float
        The axis range in log10 of the data values.
    target : int
        About how many ticks.

    Returns
    -------
    ticks : list of float
        Positions in log10 units.
    labels : list of str
        The data values: plain numbers from 0.01 to 1000, ``10ⁿ`` beyond.
    """
    lo, hi = min(lo, hi), max(lo, hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [], []
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    decades = list(range(first, last + 1))
    ticks = [
        math.log10(m) + d
        for d in range(first - 1, last + 1)
        for m in (1, 2, 5)
        if lo <= math.log10(m) + d <= hi
    ]
    if len(decades) >= 3 or (len(decades) == 2 and len(ticks) > target + 1):
        step = max(1, math.ceil(len(decades) / max(target, 1)))
        exps = [d for d in decades if d % step == 0] or decades[::step]
        return [float(e) for e in exps], [_decade_label(e) for e in exps]
    if len(ticks) >= 2:
        return ticks, [_value_label(10**t) for t in ticks]
    values = nice_ticks(10**lo, 10**hi, target)
    values = [v for v in values if v > 0]
    return [math.log10(v) for v in values], tick_labels(values)


def _decade_label(exponent: int) -> str:
    return _value_label(10.0**exponent)


def _value_label(value: float) -> str:
    if 1e-2 <= value < 1e4:
        return f"{value:.10g}"
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10.0**exponent, 6)
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa:g}×{power}"

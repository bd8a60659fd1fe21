"""The pattern dock's inputs and summary text: planes from the picked layers, the pixel size, the summary.

Qt-free helpers of :mod:`microscope_qc.widgets.pattern`.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from microscope_qc.report.labels import display_unit, label
from microscope_qc.widgets._common import verdict_lines

__all__ = ["pixel_text", "planes_of", "summary_html", "MAX_CHANNELS"]

#: a 3D layer whose first axis is at most this long is taken as channels (C, Y, X), else as z planes
MAX_CHANNELS = 8


def pixel_text(layer: Any) -> tuple[str, str]:
    """The pixel size the layer's scale gives ('0.2', or 'y, x' when not square) and where it came from."""
    sy, sx = float(layer.scale[-2]), float(layer.scale[-1])
    if (sy, sx) == (1.0, 1.0):
        return "", "<span style='color:#e8a33d'>missing (the layer has no scale): type it in</span>"
    text = f"{sy:g}" if sy == sx else f"{sy:g}, {sx:g}"
    path = getattr(getattr(layer, "source", None), "path", None)
    where = (
        f"the layer's scale (read from {Path(path).name})" if path else f"the scale of layer '{layer.name}'"
    )
    return text, where


def _is_channels(layer: Any) -> bool:
    return layer.ndim == 4 or (layer.ndim == 3 and layer.data.shape[0] <= MAX_CHANNELS)


def planes_of(layer: Any, second: Any | None) -> tuple[np.ndarray, list[str]]:
    """The picked layers as the analysis' input ((C, Y, X) or (C, Z, Y, X)) and the channel names.

    Raises
    ------
    ValueError
        Naming the dock's fields: an RGB layer, layers of different sizes, two multichannel layers.
    """
    for lyr, field in ((layer, "image"), (second, "second channel")):
        if lyr is not None and getattr(lyr, "rgb", False):
            raise ValueError(f"'{field}' '{lyr.name}' is an RGB image: pick one channel per layer")
    if second is not None and second.unique_id == layer.unique_id:
        raise ValueError("'second channel' is the 'image' itself: pick another channel's layer, or none")
    if _is_channels(layer) and layer.ndim >= 3:
        if second is not None:
            raise ValueError(
                f"'image' '{layer.name}' already holds {layer.data.shape[0]} channels: empty 'second channel'"
            )
        n = int(layer.data.shape[0])
        return np.asarray(layer.data), [f"{layer.name} ch{k}" for k in range(n)]
    first = np.asarray(layer.data)
    if second is None:
        return first[None], [layer.name]
    other = np.asarray(second.data)
    if other.shape != first.shape:
        raise ValueError(
            f"'second channel' '{second.name}' is {other.shape}, the 'image' {first.shape}: pick a layer of "
            "the same field and size"
        )
    return np.stack([first, other]), [layer.name, second.name]


def _value(result: Any, name: str, c: int) -> Any:
    try:
        return result.metric(name, c)
    except KeyError:
        return None


def _fmt(m: Any, nm: bool = False, digits: int = 3) -> str:
    if m is None or m.value is None or not math.isfinite(float(m.value)):
        return "—"
    if nm:
        return f"{1000 * m.value:.0f} nm"
    unit = display_unit(m.unit)
    sep = "" if unit in ("°", "") else " "
    return f"{m.value:.{digits}g}{sep}{unit}"


def _rings_html(result: Any) -> list[str]:
    parts = []
    for c in result.channels:
        name = result.channel_names[c] if c < len(result.channel_names) else f"channel {c}"
        grid = result.grids.get(c)
        cells = [
            f"{_fmt(_value(result, 'n_spots', c))} spots",
            f"pitch <b>{_fmt(_value(result, 'pitch_um', c), digits=5)}</b>",
        ]
        mag = _value(result, "magnification_error_percent", c)
        if mag is not None:
            cells.append(f"magnification {mag.value:+.3f} % vs nominal")
        cells.append(f"rotation <b>{_fmt(_value(result, 'rotation_deg', c), digits=3)}</b>")
        line1 = " · ".join(cells)
        dmax, dpc = _value(result, "distortion_max_um", c), _value(result, "distortion_max_percent", c)
        line2 = (
            f"distortion max <b>{_fmt(dmax, nm=True)}</b> ({_fmt(dpc)} of the half-diagonal), "
            f"RMS {_fmt(_value(result, 'distortion_rms_um', c), nm=True)}; model <b>{grid.kind if grid else '—'}</b> "
            f"(residual RMS {_fmt(_value(result, 'residual_rms_um', c), nm=True)})"
        )
        line3 = (
            f"uniformity U <b>{_fmt(_value(result, 'uniformity_percent', c))}</b> · spot FWHM median "
            f"<b>{_fmt(_value(result, 'fwhm_median_um', c), nm=True)}</b> "
            f"({_fmt(_value(result, 'fwhm_min_um', c), nm=True)}–{_fmt(_value(result, 'fwhm_max_um', c), nm=True)})"
        )
        lines = verdict_lines("pattern", [v for v in result.verdicts if v.channel == c])
        parts.append(
            f"<b>{html.escape(name)}</b>: {line1}<br>{line2}<br>{line3}" + (f"<br>{lines}" if lines else "")
        )
    for ref, c in result.models:
        sx, sy = _value(result, "registration_shift_x_um", c), _value(result, "registration_shift_y_um", c)
        parts.append(
            f"<b>channel {c} → {ref}</b>: shift x {_fmt(sx, nm=True)}, y {_fmt(sy, nm=True)} at the field centre · "
            f"magnification {_fmt(_value(result, 'registration_magnification_percent', c))} · residual RMS "
            f"{_fmt(_value(result, 'registration_residual_rms_um', c), nm=True)}"
        )
    return parts


def summary_html(result: Any) -> str:
    """Headline numbers per channel and pair, the verdicts and the warnings, as rich text."""
    if getattr(result, "grids", None):
        parts = _rings_html(result)
    else:  # another kind of pattern: its metrics as they come
        parts = [
            f"{html.escape(label(result.measurement, m.name).text)}"
            + (f" (channel {m.channel})" if m.channel is not None else "")
            + f": <b>{_fmt(m)}</b>"
            for m in result.metrics[:12]
        ]
        lines = verdict_lines(result.measurement, result.verdicts)
        if lines:
            parts.append(lines)
    for w in result.warnings:
        parts.append(f"<span style='color:#e8a33d'>⚠ {html.escape(w)}</span>")
    return "<br>".join(parts)

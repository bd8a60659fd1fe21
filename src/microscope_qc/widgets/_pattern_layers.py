"""What the pattern-slide dock draws, built off the GUI thread: layer specs, the legend, the affines.

Nothing here touches Qt or the viewer, so it runs in the worker; the dock applies the specs.
Positions come from the result in µm, (x, y), origin at the centre of pixel (0, 0); layers are
drawn in the analysed image's pixels with its scale and translate.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from microscope_qc.analysis.pattern import PatternResult
from microscope_qc.report.pattern import RESIDUAL_CLASSES
from microscope_qc.widgets._layers import LayerSpec

__all__ = [
    "CHANNEL_COLOURS",
    "MAP_QUANTITIES",
    "Placement",
    "auto_factor",
    "pattern_specs",
    "vector_specs",
    "map_spec",
    "legend_html",
    "layer_affine",
]

#: per-channel overlay colours (spot rims, vectors, ideal grid): apart from the green/magenta images
CHANNEL_COLOURS = ("yellow", "cyan", "orange", "white", "red")
#: spots that are not on the grid (edge, fit failed, off grid): no residual
OTHER_COLOUR = "#9e9e9e"
#: the maps a result holds per channel: key in ``result.images`` → (how the dock names it, unit text)
MAP_QUANTITIES = {
    "distortion_model": ("Distortion of the grid model |d|", "µm"),
    "distortion": ("Distortion measured at the spots |d| (interpolated)", "µm"),
    "fwhm": ("Spot FWHM", "µm"),
    "intensity": ("Spot intensity", "counts"),
}


@dataclass(frozen=True)
class Placement:
    """Where the analysed image sits in the world: its (y, x) scale and translate."""

    scale: tuple[float, float]
    translate: tuple[float, float]

    @classmethod
    def of(cls, layer: Any) -> Placement:
        return cls(
            (float(layer.scale[-2]), float(layer.scale[-1])),
            (float(layer.translate[-2]), float(layer.translate[-1])),
        )


def channel_name(result: PatternResult, c: int) -> str:
    names = result.channel_names
    return names[c] if c < len(names) else f"channel {c}"


def colour_of(c: int) -> str:
    return CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)]


def _nice(value: float) -> float:
    """The largest of 1, 2, 5 × 10ⁿ not above ``value`` (at least 1)."""
    if not math.isfinite(value) or value <= 1:
        return 1.0
    e = 10 ** math.floor(math.log10(value))
    return float(max(m * e for m in (1, 2, 5) if m * e <= value))


def auto_factor(result: PatternResult) -> float:
    """An exaggeration that makes the longest distortion vector at most one grid pitch long (1, 2, 5 × 10ⁿ)."""
    on = result.spots[result.spots.status == "on grid"]
    longest = float(np.nanmax(on.distortion_um)) if len(on) and on.distortion_um.notna().any() else 0.0
    try:
        pitch = result.metric("pitch_um", result.reference_channel).value
    except KeyError:
        return 10.0
    return _nice(pitch / longest) if longest > 0 else 10.0


def _pixels(x_um: Any, y_um: Any, result: PatternResult) -> np.ndarray:
    dy, dx = result.pixel_size_um
    return np.column_stack([np.asarray(y_um, float) / dy, np.asarray(x_um, float) / dx])


def _residual_colours(status: np.ndarray, residual: np.ndarray) -> np.ndarray:
    colours = np.full(len(status), OTHER_COLOUR, dtype=object)
    lo = 0.0
    for hi, colour, _ in RESIDUAL_CLASSES:
        colours[(status == "on grid") & (residual >= lo) & (residual < hi)] = colour
        lo = hi
    return colours


def spot_size_px(result: PatternResult) -> float:
    """Marker diameter (pixels): a dot inside the spot (1.2 × its median FWHM, at least 4 pixels), so
    that the imaged ring stays visible around it."""
    try:
        fwhm = result.metric("fwhm_median_um", result.reference_channel).value
    except KeyError:
        return 4.0
    return max(1.2 * fwhm / min(result.pixel_size_um), 4.0) if math.isfinite(fwhm) else 4.0


def grid_size_px(result: PatternResult) -> float:
    """Ideal-grid marker size (pixels): a quarter of the pitch, at least 6."""
    try:
        pitch = result.metric("pitch_um", result.reference_channel).value
    except KeyError:
        return 6.0
    return max(pitch / min(result.pixel_size_um) / 4.0, 6.0)


def spot_specs(result: PatternResult, place: Placement) -> list[LayerSpec]:
    """Per channel: every spot, filled by its residual class, rimmed in the channel's colour."""
    spots = result.spots
    size = spot_size_px(result)
    specs = []
    for k, c in enumerate(result.channels):
        sel = spots[spots.channel == c].reset_index(drop=True)
        pos = _pixels(sel.x_um, sel.y_um, result)
        ok = np.isfinite(pos).all(axis=1)
        sel, pos = sel[ok].reset_index(drop=True), pos[ok]
        residual = np.nan_to_num(sel.residual_um.to_numpy(float), nan=np.inf)
        face = _residual_colours(sel.status.to_numpy(str), residual)
        specs.append(
            LayerSpec(
                f"spots ch{c}",
                "points",
                f"pattern spots: {channel_name(result, c)}",
                pos,
                update={
                    "features": sel,
                    "scale": place.scale,
                    "translate": place.translate,
                    "face_color": list(face) if len(face) else "transparent",
                    # the reference channel's markers largest, so each channel's rim stays visible
                    "size": size * (1.0 if k == 0 else 0.6),
                },
                style={"border_color": colour_of(c), "border_width": 0.25, "opacity": 0.9},
            )
        )
    return specs


def vector_specs(result: PatternResult, place: Placement, factor: float) -> list[LayerSpec]:
    """Per channel: each spot's distortion (position − ideal grid), from the spot, ×``factor``."""
    spots = result.spots
    dy, dx = result.pixel_size_um
    specs = []
    for c in result.channels:
        on = spots[(spots.channel == c) & (spots.status == "on grid")]
        origin = _pixels(on.x_um, on.y_um, result)
        vec = np.column_stack([on.distortion_y_um / dy, on.distortion_x_um / dx]) * factor
        ok = np.isfinite(origin).all(axis=1) & np.isfinite(vec).all(axis=1)
        specs.append(
            LayerSpec(
                f"vectors ch{c}",
                "vectors",
                f"pattern distortion ×{factor:g}: {channel_name(result, c)}",
                np.stack([origin[ok], vec[ok]], axis=1).reshape(-1, 2, 2),
                update={"scale": place.scale, "translate": place.translate},
                style={"edge_color": colour_of(c), "edge_width": 1.5, "vector_style": "arrow"},
                meta={"factor": factor},
            )
        )
    return specs


def grid_specs(result: PatternResult, place: Placement) -> list[LayerSpec]:
    """Per channel: the ideal (undistorted) grid, hollow squares; missing positions as red crosses.

    Only the reference channel's grid starts visible (the others nearly coincide with it).
    """
    spots, missing = result.spots, result.tables.get("missing")
    size = grid_size_px(result)
    specs = []
    for c in result.channels:
        on = spots[(spots.channel == c) & (spots.status == "on grid")]
        ideal = _pixels(on.ideal_x_um, on.ideal_y_um, result)
        miss = missing[missing.channel == c] if missing is not None and len(missing) else None
        holes = _pixels(miss.x_um, miss.y_um, result) if miss is not None else np.zeros((0, 2))
        pos = np.vstack([ideal, holes])
        kind = ["ideal"] * len(ideal) + ["missing"] * len(holes)
        border = [colour_of(c)] * len(ideal) + ["red"] * len(holes)
        symbol = ["square"] * len(ideal) + ["x"] * len(holes)
        specs.append(
            LayerSpec(
                f"grid ch{c}",
                "points",
                f"pattern ideal grid: {channel_name(result, c)}",
                pos,
                update={
                    "features": {"kind": kind},
                    "scale": place.scale,
                    "translate": place.translate,
                    "border_color": border if len(border) else colour_of(c),
                    "symbol": symbol if len(symbol) else "square",
                    "size": size,
                },
                style={
                    "face_color": "transparent",
                    "border_width": 0.1,
                    "visible": c == result.reference_channel,
                },
            )
        )
    return specs


def map_values(result: PatternResult, quantity: str, c: int) -> np.ndarray | None:
    """The map of ``quantity`` for channel ``c`` (a vector map as its length), or None."""
    m = result.images.get(f"{quantity}_map_{c}")
    if m is None:
        return None
    m = np.asarray(m, float)
    return np.hypot(m[..., 0], m[..., 1]) if m.ndim == 3 else m


def map_limits(m: np.ndarray) -> tuple[float, float]:
    finite = m[np.isfinite(m)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return (lo - 1e-6, hi + 1e-6) if lo == hi else (lo, hi)


def map_spec(
    result: PatternResult, place: Placement, quantity: str, c: int, visible: bool = False
) -> LayerSpec | None:
    """One map layer (the dock's choice of quantity and channel), aligned with the image.

    The maps are sampled at ``map_extent_um`` (x0, x1, y0, y1: the first and last samples' centres).
    """
    m = map_values(result, quantity, c)
    if m is None:
        return None
    x0, x1, y0, y1 = (float(v) for v in result.images["map_extent_um"])
    h, w = m.shape
    sy, sx = (y1 - y0) / max(h - 1, 1), (x1 - x0) / max(w - 1, 1)
    what, unit = MAP_QUANTITIES[quantity]
    return LayerSpec(
        "map",
        "image",
        f"pattern map: {what} ({unit}), {channel_name(result, c)}",
        m,
        update={"scale": (sy, sx), "translate": (y0 + place.translate[0], x0 + place.translate[1])},
        style={"colormap": "viridis", "opacity": 0.6, "visible": visible},
        auto={"contrast_limits": map_limits(m)},
        meta={"quantity": quantity, "channel": c},
    )


def pattern_specs(
    result: PatternResult, place: Placement, factor: float, quantity: str = "distortion_model"
) -> list[LayerSpec]:
    """Every result layer: the map first (below), then the grids, the spots, and the vectors on top."""
    specs: list[LayerSpec] = []
    m = map_spec(result, place, quantity, result.reference_channel)
    if m is not None:
        specs.append(m)
    return specs + grid_specs(result, place) + spot_specs(result, place) + vector_specs(result, place, factor)


def legend_html(result: PatternResult | None, factor: float) -> str:
    """The colours of the overlays, the residual classes and the vectors' exaggeration."""
    classes = "<br>".join(
        f"<span style='color:{colour}'>●</span> residual {html.escape(text)}"
        for _, colour, text in RESIDUAL_CLASSES
    )
    channels = ""
    if result is not None:
        channels = "<br>".join(
            f"<span style='color:{colour_of(c)}'>■</span> {html.escape(channel_name(result, c))}"
            for c in result.channels
        )
    return (
        "<b>Spots</b>, filled by their residual after the grid model:<br>"
        f"{classes}<br><span style='color:{OTHER_COLOUR}'>●</span> not on the grid (edge, fit failed)<br>"
        f"<b>Channels</b> (spot rims, vectors, ideal grid):<br>{channels or '—'}<br>"
        f"<b>Vectors</b>: distortion of each spot (its position minus the ideal grid), "
        f"<b>exaggerated ×{factor:g}</b>.<br>"
        "<b>Ideal grid</b>: hollow squares; red crosses: grid positions without a spot (an orientation "
        "mark or a damaged spot)."
    )


def layer_affine(
    matrix_yx: np.ndarray, ndim: int, translate_yx: tuple[float, float], before: Any
) -> np.ndarray:
    """A correction (3 × 3, world µm (y, x), origin at the analysed pixel (0, 0)) as a layer's affine.

    The correction acts on the last two axes; it is conjugated with the layer's own (y, x)
    translate (where its pixel (0, 0) sits), then composed after the layer's ``before`` affine.

    Parameters
    ----------
    matrix_yx : numpy.ndarray
        (3, 3) homogeneous matrix from :meth:`PatternResult.napari_affine`.
    ndim : int
        The layer's number of dimensions.
    translate_yx : tuple of float
        The layer's (y, x) translate.
    before : array_like
        The layer's affine before the correction, (ndim + 1, ndim + 1).

    Returns
    -------
    numpy.ndarray
        (ndim + 1, ndim + 1).
    """
    t = np.eye(3)
    t[:2, 2] = translate_yx
    m = t @ np.asarray(matrix_yx, float) @ np.linalg.inv(t)
    full = np.eye(ndim + 1)
    idx = [ndim - 2, ndim - 1, ndim]
    full[np.ix_(idx, idx)] = m
    return np.asarray(full @ np.asarray(before, float))

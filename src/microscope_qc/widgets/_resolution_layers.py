"""What the resolution dock draws over the image, built from a result in the worker (no Qt): the
local resolution map (one pixel per tile, placed on the tiles' centres) and, hidden, the x / y
anisotropy map.
"""

from __future__ import annotations

import numpy as np

from microscope_qc.analysis.resolution import ResolutionResult
from microscope_qc.report.resolution import anisotropy_display_range, map_display_range
from microscope_qc.widgets._layers import LayerSpec

__all__ = ["map_specs", "MAP_ROLES"]

#: the roles of the map layers (a run without a map removes them)
MAP_ROLES = ("map", "anisotropy")


def map_specs(
    result: ResolutionResult, scale: tuple[float, ...], translate: tuple[float, ...]
) -> list[LayerSpec]:
    """The map layers, in the image layer's world coordinates.

    A map pixel is a tile: its centre lies on the tile's centre, ``translate + (first pixel of the
    tile + (tile − 1)/2) · scale``, and neighbouring map pixels are the tile spacing apart (in the
    image's pixels times its layer scale, so the map overlays the image whatever its units).
    Each map pixel thus covers the central spacing × spacing square of its tile, and the outer half
    spacing of the image stays uncovered. Tiles without a resolution are NaN. The colours span at
    least ±10 % of the median (a uniform map must not look varied), the anisotropy's are centred
    on 1.

    Parameters
    ----------
    result : ResolutionResult
        A result with a map (none: no layers).
    scale, translate : tuple of float
        The analysed image layer's scale and translate (the last two axes are used).

    Returns
    -------
    list of LayerSpec
        The resolution map (shown) and the anisotropy map (hidden).
    """
    m = result.map
    if m is None:
        return []
    sy, sx = float(scale[-2]), float(scale[-1])
    ty, tx = float(translate[-2]), float(translate[-1])
    half = (m.tile_px - 1) / 2.0
    step_y, step_x = (s / m.pixel_size_um for s in m.step_um)
    update = {
        "scale": (step_y * sy, step_x * sx),
        "translate": (ty + (m.y_px[0] + half) * sy, tx + (m.x_px[0] + half) * sx),
    }
    return [
        LayerSpec(
            "map",
            "image",
            f"resolution map (µm per {m.tile_px}-px tile)",
            m.resolution_um.astype(np.float32),
            update=dict(update),
            style={"colormap": "viridis", "opacity": 0.6, "blending": "translucent"},
            auto={"contrast_limits": map_display_range(m.resolution_um)},
            meta={"quantity": "resolution_um"},
        ),
        LayerSpec(
            "anisotropy",
            "image",
            "resolution anisotropy map (x / y per tile)",
            m.anisotropy.astype(np.float32),
            update=dict(update),
            style={"colormap": "bwr", "opacity": 0.6, "blending": "translucent", "visible": False},
            auto={"contrast_limits": anisotropy_display_range(m.anisotropy)},
            meta={"quantity": "anisotropy"},
        ),
    ]

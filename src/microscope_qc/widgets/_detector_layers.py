"""What the detector widget draws, built off the GUI thread: the maps and the defect pixels.

* the maps of the result (``DetectorResult.images``): one image layer each, the first shown and
  the others hidden, named with their quantity and unit;
* hot, warm and cold pixels (dark mode) as one Points layer, a ring per pixel coloured by kind,
  with the kind as a feature;
* the regions layer (cv and NoiSee): an empty Shapes layer the user draws rectangles or polygons in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.widgets._layers import LayerSpec

__all__ = ["MAPS", "DEFECT_COLOURS", "REGIONS_ROLE", "detector_specs", "regions_spec", "defect_points"]

#: image key → (layer name with unit, colormap); in the order they are drawn (the first is shown)
MAPS: dict[str, tuple[str, str]] = {
    "noise_map": ("detector: temporal noise map (DN)", "magma"),
    "dark_noise_map": ("detector: dark temporal noise map (DN)", "magma"),
    "dsnu_map": ("detector: DSNU map, dark − mean (DN)", "twilight_shifted"),
    "prnu_map": ("detector: PRNU map, relative response − 1", "twilight_shifted"),
    "mean_dark": ("detector: mean dark image (DN)", "gray"),
    "mean_image": ("detector: mean image (DN)", "gray"),
}
#: defect kind → ring colour (the same words as the exported defect_pixels.csv)
DEFECT_COLOURS = {"hot": "#ff3030", "warm": "#ffa500", "cold": "#30a0ff"}
DEFECT_ROLE = "defects"
REGIONS_ROLE = "regions"
#: at most this many defect pixels are drawn (the maps and the table hold them all)
MAX_DRAWN = 20_000


def _limits(image: np.ndarray, symmetric: bool) -> tuple[float, float]:
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(finite, [0.5, 99.5]))
    if symmetric:
        m = max(abs(lo), abs(hi))
        lo, hi = -m, m
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def defect_points(images: dict[str, np.ndarray]) -> tuple[np.ndarray, pd.DataFrame]:
    """The hot, warm and cold pixels of a result as (y, x) positions and a ``kind`` feature.

    Parameters
    ----------
    images : dict of str to ndarray
        The result's maps (``hot_pixels``, ``warm_pixels``, ``cold_pixels`` boolean maps).

    Returns
    -------
    (ndarray, DataFrame)
        (N, 2) float positions and their features (``kind``); at most :data:`MAX_DRAWN`.
    """
    pos, kinds = [], []
    for kind in DEFECT_COLOURS:
        m = images.get(f"{kind}_pixels")
        if m is None:
            continue
        yx = np.argwhere(np.asarray(m, bool))[: MAX_DRAWN - len(kinds)]
        pos.append(yx.astype(float))
        kinds += [kind] * len(yx)
    data = np.concatenate(pos) if pos else np.zeros((0, 2))
    return data, pd.DataFrame({"kind": pd.Categorical(kinds, categories=list(DEFECT_COLOURS))})


def detector_specs(
    result: Any, scale: tuple[float, float], translate: tuple[float, float]
) -> list[LayerSpec]:
    """The layers of a detector result (maps, defect pixels), ready to draw.

    Parameters
    ----------
    result : DetectorResult
        The analysis result.
    scale, translate : (float, float)
        The frames layer's (y, x) scale and translate, so the overlays sit on the frames.

    Returns
    -------
    list of LayerSpec
        One image layer per map, then the defect pixels when the mode finds them.
    """
    geometry = {"scale": tuple(scale), "translate": tuple(translate)}
    specs = []
    first = True
    for key, (name, colormap) in MAPS.items():
        image = result.images.get(key)
        if image is None:
            continue
        image = np.asarray(image, np.float32)
        specs.append(
            LayerSpec(
                role=f"map {key}",
                kind="image",
                name=name,
                data=image,
                update=geometry,
                style={"colormap": colormap, "visible": first, "opacity": 0.9},
                auto={"contrast_limits": _limits(image, symmetric=key in ("dsnu_map", "prnu_map"))},
                meta={"quantity": key},
            )
        )
        first = False
    if any(f"{k}_pixels" in result.images for k in DEFECT_COLOURS):
        data, features = defect_points(result.images)
        colours = np.array(
            [_rgba(DEFECT_COLOURS[k]) for k in features["kind"].astype(str)], dtype=float
        ).reshape(-1, 4)
        specs.append(
            LayerSpec(
                role=DEFECT_ROLE,
                kind="points",
                name="detector: hot (red), warm (orange), cold (blue) pixels",
                data=data,
                update={"features": features, "border_color": colours, **geometry},
                style={"face_color": "transparent", "size": 3, "border_width": 0.25, "symbol": "square"},
            )
        )
    return specs


def _rgba(hex_colour: str) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, 1.0)


def regions_spec(scale: tuple[float, float], translate: tuple[float, float]) -> LayerSpec:
    """The empty Shapes layer the regions (cv, NoiSee) are drawn in, on the frames.

    Parameters
    ----------
    scale, translate : (float, float)
        The frames layer's (y, x) scale and translate.

    Returns
    -------
    LayerSpec
        A shapes layer spec.
    """
    return LayerSpec(
        role=REGIONS_ROLE,
        kind="shapes",
        name="detector: regions (CV per region)",
        data=[],
        update={"scale": tuple(scale), "translate": tuple(translate)},
        style={"edge_color": "#40e0d0", "face_color": "transparent", "edge_width": 1.0, "ndim": 2},
    )

"""What the PSF widget draws, built off the GUI thread: layer specs and bead views (MIPs).

Nothing here touches Qt or the viewer, so it runs in the worker; the widget applies the specs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from microscope_qc.analysis.psf import PSFResult, render_model
from microscope_qc.report.labels import heading
from microscope_qc.widgets._layers import LayerSpec

__all__ = [
    "Geometry",
    "STATUS_COLOURS",
    "psf_specs",
    "positions_spec",
    "mip_montage",
    "bead_box",
    "SELECTED_COLOUR",
]

STATUS_COLOURS = {"accepted": [0.10, 0.75, 0.35, 1.0], "rejected": [0.95, 0.25, 0.20, 1.0]}
POSITIONS_NAME = "PSF bead positions"
SELECTED_COLOUR = [0.0, 0.9, 1.0, 1.0]


@dataclass(frozen=True)
class Geometry:
    """Where the image layer sits in the world: its (Z, Y, X) shape, scale and translate."""

    shape: tuple[int, int, int]
    scale: tuple[float, float, float]
    translate: tuple[float, float, float]

    @classmethod
    def of(cls, layer: Any) -> Geometry:
        shape = tuple(int(v) for v in layer.data.shape[-3:])
        if len(shape) == 2:
            shape = (1, *shape)
        scale = tuple(float(v) for v in layer.scale[-3:])
        translate = tuple(float(v) for v in layer.translate[-3:])
        if len(scale) == 2:
            scale, translate = (1.0, *scale), (0.0, *translate)
        return cls(shape, scale, translate)  # type: ignore[arg-type]


def positions_spec(positions: np.ndarray, geo: Geometry) -> LayerSpec:
    """The editable bead positions (z, y, x voxel indices) as a points layer in 'add' mode."""

    def to_add_mode(layer: Any) -> None:
        layer.mode = "add"

    return LayerSpec(
        "positions",
        "points",
        POSITIONS_NAME,
        np.asarray(positions, dtype=float).reshape(-1, 3),
        update={"scale": geo.scale, "translate": geo.translate},
        style={"size": 8, "face_color": "transparent", "border_color": "yellow", "border_width": 0.15},
        after=to_add_mode,
    )


def mip_montage(volume: np.ndarray, voxel: tuple[float, float, float], gap: int = 2) -> np.ndarray:
    """XY | XZ | YZ maximum projections side by side at the lateral pixel size, each scaled to its max.

    z is resampled to the lateral pixel size so that the axial extent reads true to scale.
    """
    v = np.nan_to_num(np.asarray(volume, dtype=np.float32))
    dz, dy, _ = voxel
    xy = v.max(axis=0)
    xz = v.max(axis=1)  # (z, x)
    yz = v.max(axis=2)  # (z, y)
    if v.shape[0] > 1 and dz != dy:
        f = dz / dy
        xz = ndimage.zoom(xz, (f, 1), order=1)
        yz = ndimage.zoom(yz, (f, 1), order=1)
    panels = [xy, xz, yz]
    h = max(p.shape[0] for p in panels)
    out = []
    for p in panels:
        lo = float(p.min())
        span = float(p.max()) - lo or 1.0
        q = np.zeros((h, p.shape[1]), np.float32)
        top = (h - p.shape[0]) // 2
        q[top : top + p.shape[0]] = (p - lo) / span
        out += [q, np.zeros((h, gap), np.float32)]
    return np.hstack(out[:-1])


def bead_box(stack: np.ndarray, centre_zyx: np.ndarray, box: tuple[int, int, int]) -> np.ndarray:
    """The fit-box-sized crop of ``stack`` around a bead (clipped at the edges)."""
    out = []
    for c, n, size in zip(np.round(centre_zyx).astype(int), stack.shape, box, strict=True):
        half = size // 2
        out.append(slice(max(c - half, 0), min(c + half + 1, n)))
    return np.asarray(stack[tuple(out)])


def _map_name(name: str) -> str:
    return f"PSF map: {heading('psf', name)}"


#: the field map shown first
DEFAULT_MAP = "fwhm_x_um"


def map_limits(m: np.ndarray) -> tuple[float, float]:
    finite = m[np.isfinite(m)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return (lo - 1e-6, hi + 1e-6) if lo == hi else (lo, hi)


def map_spec(chan: Any, name: str, translate: np.ndarray, suffix: str = "") -> LayerSpec:
    """One layer per channel for the field maps; the dock picks which quantity it shows."""
    name = name if name in chan.maps else next(iter(chan.maps))
    m = chan.maps[name]
    return LayerSpec(
        f"map ch{chan.channel}",
        "image",
        _map_name(name) + suffix,
        m,
        update={
            "scale": chan.map_scale_um,
            "translate": np.asarray(chan.map_translate_um) + np.asarray(translate)[-2:],
        },
        style={"colormap": "viridis", "opacity": 0.7, "visible": False},
        auto={"contrast_limits": map_limits(m)},
        meta={"quantity": name},
    )


def psf_specs(result: PSFResult, geo: Geometry, map_name: str = DEFAULT_MAP) -> list[LayerSpec]:
    """Every result layer, images first so that the bead markers are drawn above the maps."""
    scale, translate = np.asarray(geo.scale), np.asarray(geo.translate)
    beads = result.beads
    many = len(result.channels) > 1
    images: list[LayerSpec] = []
    markers: list[LayerSpec] = []
    for chan in result.channels:
        c = chan.channel
        sfx = f" ch{c}" if many else ""
        if chan.maps:
            images.append(map_spec(chan, map_name, translate, sfx))
        model = render_model(result, geo.shape, c)
        images.append(
            LayerSpec(
                f"model ch{c}",
                "image",
                f"PSF fitted model{sfx}",
                model,
                update={"scale": scale, "translate": translate},
                style={"colormap": "magma", "blending": "additive", "visible": False},
                auto={"contrast_limits": map_limits(model)},
            )
        )
        tab = beads[beads["channel"] == c].reset_index(drop=True)
        dz, dy, dx = result.voxel_size_um
        # 2D markers (y, x): visible in every plane, so no bead hides off-slice; z is in the features
        fitted = np.column_stack([tab["y_um"] / dy, tab["x_um"] / dx]) if len(tab) else np.zeros((0, 2))
        detected = tab[["y_px", "x_px"]].to_numpy(float) if len(tab) else np.zeros((0, 2))
        pos = np.where(np.isfinite(fitted), fitted, detected)
        colours = np.array([STATUS_COLOURS[s] for s in tab["status"]]) if len(tab) else np.zeros((0, 4))
        markers.append(
            LayerSpec(
                f"beads ch{c}",
                "points",
                f"PSF beads{sfx}",
                pos,
                update={
                    "features": tab,
                    "scale": scale[-2:],
                    "translate": translate[-2:],
                    "border_color": colours,
                    "size": max(2 * chan.box_shape[1] // 3, 4),
                },
                style={
                    "face_color": "transparent",
                    "border_width": 0.12,
                },
            )
        )
    return images + markers

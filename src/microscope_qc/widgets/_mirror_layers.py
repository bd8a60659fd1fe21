"""What the mirror dock draws, built from a result in the worker (no Qt): each column band's FWHM
as two lines over the XZ image (the half-maximum edges around the fitted centre) and the dock's
profile plot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.mirror import MirrorResult
from microscope_qc.widgets._layers import LayerSpec

__all__ = ["mirror_specs", "profile_plot", "STATUS_COLOURS"]

#: a colour per band status
STATUS_COLOURS = {"ok": "#3ccf6e", "poor fit": "#e8a33d", "fit failed": "#ff5555"}


def mirror_specs(
    result: MirrorResult,
    z_step_um: float,
    image_ndim: int,
    scale: tuple[float, ...],
    translate: tuple[float, ...],
) -> list[LayerSpec]:
    """The band FWHMs: for every fitted band, a line across the band at each half-maximum edge
    (fitted centre ± FWHM/2), in the image's pixel coordinates with its scale, coloured by the
    band's status.

    For a (Z, Y, X) stack (averaged over y) the lines lie in the first y plane.
    """
    bands = result.bands
    ok = np.isfinite(bands["fwhm_um"].to_numpy(float)) & np.isfinite(bands["centre_um"].to_numpy(float))
    rows = bands[ok]
    x0 = rows["x_start_px"].to_numpy(float) - 0.5  # pixel edges: the band's full width
    x1 = rows["x_end_px"].to_numpy(float) - 0.5
    centre = rows["centre_um"].to_numpy(float) / z_step_um
    half = rows["fwhm_um"].to_numpy(float) / z_step_um / 2.0
    lines = []
    for edge in (-1.0, 1.0):
        for a, b, c, h in zip(x0, x1, centre, half, strict=True):
            z = c + edge * h
            line = np.array([[z, a], [z, b]])
            lines.append(line if image_ndim == 2 else np.insert(line, 1, 0.0, axis=1))
    status = np.concatenate([rows["status"].astype(str).to_numpy()] * 2)
    features = pd.DataFrame(
        {
            "band": np.concatenate([rows["band"].to_numpy(int)] * 2),
            "edge": ["lower"] * len(rows) + ["upper"] * len(rows),
            "fwhm_um": np.concatenate([rows["fwhm_um"].to_numpy(float)] * 2),
            "centre_um": np.concatenate([rows["centre_um"].to_numpy(float)] * 2),
            "r2": np.concatenate([rows["r2"].to_numpy(float)] * 2),
            "status": status,
        }
    )
    n = 2 if image_ndim == 2 else 3
    update: dict[str, Any] = {
        "scale": tuple(scale[-n:]),
        "translate": tuple(translate[-n:]),
        "features": features,
        "edge_color": [STATUS_COLOURS.get(s, "#9a9a9a") for s in status],
    }
    return [
        LayerSpec(
            "bands",
            "shapes",
            "mirror band FWHM (half-max edges)",
            lines,
            update=update,
            style={"shape_type": "line", "edge_width": 0.6, "blending": "translucent_no_depth"},
        )
    ]


def profile_plot(result: MirrorResult) -> tuple:
    """The ROI-averaged axial profile and its Gaussian fit against z (µm), the FWHM's edges marked."""
    p = result.tables["profile"]
    z = p["z_um"].to_numpy(float)
    curves = [
        ("ROI-averaged profile", "#4aa3ff", z, p["intensity"].to_numpy(float)),
        ("Gaussian fit", "#f5c211", z, p["fit"].to_numpy(float)),
    ]
    fit = p["fit"].to_numpy(float)
    markers: list[tuple[str, str, float]] = []
    fwhm = result.metric("fwhm_z_um").value
    if np.isfinite(fit).any() and np.isfinite(fwhm):
        zc = float(z[int(np.nanargmax(fit))])
        markers = [("FWHM", "#9a9a9a", zc - fwhm / 2), ("", "#9a9a9a", zc + fwhm / 2)]
    return (
        "Axial profile (ROI average) and its Gaussian fit",
        curves,
        "z (µm)",
        "intensity (counts)",
        {"markers": markers, "scatter": ("ROI-averaged profile",), "data_units": True},
    )

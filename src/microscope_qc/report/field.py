"""Figures and the flat-field image of the field-illumination report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure as MplFigure
from scipy import ndimage

from microscope_qc.report import ExportExistsError, Figure, figure_to_png

__all__ = ["field_figures", "write_flat_field"]

_CENTRE_STYLE = {
    "image centre": ("+", "white"),
    "reference zone centroid": ("o", "#ff7f0e"),
    "fitted illumination centre": ("x", "#00e5ff"),
    "centre of intensity": ("s", "#b15cff"),
    "maximum": ("^", "#ffd400"),
}


def _thumb(image: np.ndarray, size: int = 600) -> tuple[np.ndarray, int]:
    """Every k-th pixel so that the figure image has at most ``size`` pixels a side (figures need no more)."""
    k = max(1, int(np.ceil(max(image.shape) / size)))
    return image[::k, ::k], k


def _outline(ax, mask: np.ndarray, k: int, colour: str, width: float) -> None:
    """Contour of a (thumbnailed, every k-th pixel) boolean mask in full-image pixel coordinates."""
    ys, xs = np.arange(mask.shape[0]) * k, np.arange(mask.shape[1]) * k
    ax.contour(xs, ys, mask, levels=[0.5], colors=colour, linewidths=width)


def field_figures(result) -> list[Figure]:
    figs = []
    for chan in result.channels:
        suffix = f" — channel {chan.channel} ({chan.name})" if len(result.channels) > 1 else ""
        figs.append(_map_figure(chan, suffix))
        figs.append(_profile_figure(chan, suffix))
        if chan.residual is not None:
            figs.append(_residual_figure(chan, suffix))
    return figs


def _map_figure(chan, suffix: str) -> Figure:
    fig = MplFigure(figsize=(11, 4.6))
    ax = fig.add_subplot(1, 2, 1)
    levels = np.arange(0, 111, 10)
    iso, k = _thumb(chan.iso_map)
    h, w = chan.iso_map.shape
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    im = ax.imshow(iso, cmap="turbo", norm=BoundaryNorm(levels, 256), extent=extent)
    zone, _ = _thumb(chan.reference_zone)
    _outline(ax, zone, k, "white", 1.2)
    for name, (y, x) in chan.centres.items():
        marker, colour = _CENTRE_STYLE.get(name, ("o", "white"))
        ax.plot(x, y, marker, color=colour, ms=9, mew=2, mfc="none", label=name)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.6)
    ax.set_title("iso-intensity map (% of max), reference zone outlined", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax2 = fig.add_subplot(1, 2, 2)
    im2 = ax2.imshow(_thumb(chan.model)[0], cmap="viridis", extent=extent)
    ax2.set_title("fitted illumination model", fontsize=9)
    fig.colorbar(im2, ax=ax2, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return Figure(
        "Iso-intensity map and centres" + suffix,
        figure_to_png(fig),
        "MetroloJ_QC iso-intensity classes of the blurred image; white outline: the reference zone. Markers: image "
        "centre, reference-zone centroid, fitted illumination centre, centre of intensity, maximum.",
    )


def _profile_figure(chan, suffix: str) -> Figure:
    fig = MplFigure(figsize=(11, 3.2))
    for k, (name, p) in enumerate(chan.profiles.items()):
        ax = fig.add_subplot(1, 4, k + 1)
        ax.plot(p["distance_px"], p["raw"], color="#bbb", lw=0.6, label="raw")
        ax.plot(p["distance_px"], p["blurred"], color="#333", lw=1.2, label="blurred")
        if "model" in p:
            ax.plot(p["distance_px"], p["model"], color="#d95f02", lw=1.2, label="model")
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.set_xlabel("distance (px)")
        if k == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure(
        "Profiles" + suffix, figure_to_png(fig), "Two diagonals and the two centre lines (MetroloJ_QC)."
    )


def _residual_figure(chan, suffix: str) -> Figure:
    fig = MplFigure(figsize=(5.5, 4.6))
    ax = fig.add_subplot()
    res, k = _thumb(chan.residual)
    h, w = chan.residual.shape
    lim = float(np.percentile(np.abs(res), 99.5)) or 0.01
    im = ax.imshow(
        res * 100, cmap="RdBu_r", vmin=-100 * lim, vmax=100 * lim, extent=(-0.5, w - 0.5, h - 0.5, -0.5)
    )
    if chan.defects is not None and chan.defects.any():
        # dilate before thinning so that small specks survive in the outline
        mask, _ = _thumb(ndimage.maximum_filter(chan.defects > 0, size=k) if k > 1 else chan.defects > 0)
        _outline(ax, mask, k, "black", 0.8)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="image / model − 1 (%)")
    ax.set_title(
        f"residual; {int(chan.defects.max()) if chan.defects is not None else 0} defects outlined", fontsize=9
    )
    fig.tight_layout()
    return Figure(
        "Residual after the illumination model" + suffix,
        figure_to_png(fig),
        "What the smooth illumination does not explain: dust, slide defects, noise. Defects are residuals beyond the "
        "threshold in units of the local shot noise.",
    )


def write_flat_field(result, path: str | Path, overwrite: bool = False) -> Path:
    """Write the normalised flat-field image(s) as a float32 TIFF ((Y, X) or (C, Y, X)); never overwrites silently.

    Correct an image of the same instrument with ``(image − dark) / flat_field``.
    """
    import tifffile

    path = Path(path)
    if path.exists() and not overwrite:
        raise ExportExistsError(
            f"{path} exists; choose another name or allow overwriting explicitly ({{overwrite}})."
        )
    stack = np.stack([c.flat_field for c in result.channels]).astype(np.float32)
    data = stack[0] if len(stack) == 1 else stack
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        tifffile.imwrite(
            tmp, data, description="napari-microscope-qc flat field: divide (image - dark) by this"
        )
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""Figures and the flat-field image of the field-illumination report."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure as MplFigure
from scipy import ndimage

from microscope_qc.io import atomic_write
from microscope_qc.report import ExportExistsError, Figure, figure_to_png
from microscope_qc.report.labels import FIELD_PROFILE_LABELS, display_unit, heading, label

if TYPE_CHECKING:
    from microscope_qc.analysis.field.result import ChannelField, FieldResult

__all__ = ["field_figures", "write_flat_field"]

_CENTRE_STYLE = {
    "image centre": ("+", "white"),
    "reference zone centroid": ("o", "#ff7f0e"),
    "fitted illumination centre": ("x", "#00e5ff"),
    "centre of intensity": ("s", "#b15cff"),
    "maximum": ("^", "#ffd400"),
}


def _thumb(image: npt.NDArray[Any], size: int = 600) -> tuple[npt.NDArray[Any], int]:
    """Every k-th pixel so that the figure image has at most ``size`` pixels a side (figures need no more)."""
    k = max(1, int(np.ceil(max(image.shape) / size)))
    return image[::k, ::k], k


def _outline(
    ax: Axes, mask: npt.NDArray[Any], k: int, colour: str, width: float, style: str = "solid"
) -> None:
    """Contour of a (thumbnailed, every k-th pixel) boolean mask in full-image pixel coordinates."""
    ys, xs = np.arange(mask.shape[0]) * k, np.arange(mask.shape[1]) * k
    ax.contour(xs, ys, mask, levels=[0.5], colors=colour, linewidths=width, linestyles=style)


def _analysed_outline(ax: Axes, chan: ChannelField, k: int) -> None:
    """Dashed outline of the analysed area when a mask restricted the analysis (padded so that edges show)."""
    if chan.analysed is None:
        return
    thumb = np.pad(chan.analysed[::k, ::k], 1)
    ys, xs = (np.arange(thumb.shape[0]) - 1) * k, (np.arange(thumb.shape[1]) - 1) * k
    ax.contour(xs, ys, thumb, levels=[0.5], colors=_ANALYSED_COLOUR, linewidths=1.4, linestyles="dashed")


_ANALYSED_COLOUR = "#ff00c8"


def _analysed_text(result: FieldResult) -> str:
    """Which area was analysed, for the figure captions."""
    roi = result.settings.get("roi")
    if roi is None or roi.value in (None, "whole image"):
        return " Analysed area: the whole image."
    return (
        f" Analysed area: {roi.value} (magenta dashed outline; excluded pixels grey, without an iso class)."
        + (f" Given as {roi.detail}." if roi.detail else "")
    )


def field_figures(result: FieldResult) -> list[Figure]:
    """Draw the field-illumination report's figures.

    Parameters
    ----------
    result : FieldResult
        The analysis result.

    Returns
    -------
    list of Figure
        For every channel: the iso-intensity map with the illumination model, the profiles, and
        the residual after the model when there is one.
    """
    figs: list[Figure] = []
    area = _analysed_text(result)
    for chan in result.channels:
        suffix = f" — channel {chan.channel} ({chan.name})" if len(result.channels) > 1 else ""
        figs.append(_map_figure(chan, suffix, area))
        figs.append(_profile_figure(chan, suffix))
        if chan.residual is not None:
            figs.append(_residual_figure(chan, chan.residual, suffix, area))
    return figs


def _map_figure(chan: ChannelField, suffix: str, area: str = "") -> Figure:
    fig = MplFigure(figsize=(11, 4.6))
    ax = fig.add_subplot(1, 2, 1)
    levels = np.arange(0, 111, 10)
    iso, k = _thumb(chan.iso_map)
    h, w = chan.iso_map.shape
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    cmap = matplotlib.colormaps["turbo"].with_extremes(bad="#9a9a9a")
    im = ax.imshow(np.ma.masked_less(iso, 0), cmap=cmap, norm=BoundaryNorm(levels, 256), extent=extent)
    zone, _ = _thumb(chan.reference_zone)
    _outline(ax, zone, k, "white", 1.2)
    _analysed_outline(ax, chan, k)
    for name, (y, x) in chan.centres.items():
        marker, colour = _CENTRE_STYLE.get(name, ("o", "white"))
        ax.plot(x, y, marker, color=colour, ms=9, mew=2, mfc="none", label=name)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.6)
    ax.set_title("Iso-intensity map, reference zone outlined", fontsize=9)
    fig.colorbar(
        im, ax=ax, fraction=0.046, pad=0.04, label=f"Intensity class ({display_unit('percent')} of max)"
    )
    ax2 = fig.add_subplot(1, 2, 2)
    if chan.model is not None:
        im2 = ax2.imshow(_thumb(chan.model)[0], cmap="viridis", extent=extent)
        _analysed_outline(ax2, chan, k)
        ax2.set_title(
            "Fitted illumination model"
            + (" (fitted on the analysed area)" if chan.analysed is not None else ""),
            fontsize=9,
        )
        fig.colorbar(im2, ax=ax2, fraction=0.046, pad=0.04, label=heading("field", "model"))
    else:
        ax2.set_axis_off()
        ax2.set_title("No illumination model", fontsize=9)
    return Figure(
        "Iso-intensity map and centres" + suffix,
        figure_to_png(fig),
        "MetroloJ_QC iso-intensity classes of the blurred image; white outline: the reference zone. Markers: image "
        "centre, reference-zone centroid, fitted illumination centre, centre of intensity, maximum." + area,
    )


def _profile_figure(chan: ChannelField, suffix: str) -> Figure:
    fig = MplFigure(figsize=(11, 3.2))
    for k, (name, p) in enumerate(chan.profiles.items()):
        ax = fig.add_subplot(1, 4, k + 1)
        ax.plot(p["distance_px"], p["raw"], color="#bbb", lw=0.6, label=label("field", "raw").text)
        ax.plot(p["distance_px"], p["blurred"], color="#333", lw=1.2, label=label("field", "blurred").text)
        if "model" in p:
            ax.plot(p["distance_px"], p["model"], color="#d95f02", lw=1.2, label=label("field", "model").text)
        ax.set_title(FIELD_PROFILE_LABELS.get(name, name.replace("_", " ")), fontsize=9)
        ax.set_xlabel(heading("field", "distance_px"))
        if k == 0:
            ax.set_ylabel(f"Intensity ({display_unit('counts')})")
            ax.legend(fontsize=7)
    return Figure(
        "Profiles" + suffix, figure_to_png(fig), "Two diagonals and the two centre lines (MetroloJ_QC)."
    )


def _residual_figure(chan: ChannelField, residual: npt.NDArray[Any], suffix: str, area: str = "") -> Figure:
    fig = MplFigure(figsize=(5.5, 4.6))
    ax = fig.add_subplot()
    res, k = _thumb(residual)
    h, w = residual.shape
    lim = float(np.percentile(np.abs(res), 99.5)) or 0.01
    im = ax.imshow(
        res * 100, cmap="RdBu_r", vmin=-100 * lim, vmax=100 * lim, extent=(-0.5, w - 0.5, h - 0.5, -0.5)
    )
    if chan.defects is not None and chan.defects.any():
        # dilate before thinning so that small specks survive in the outline
        mask, _ = _thumb(ndimage.maximum_filter(chan.defects > 0, size=k) if k > 1 else chan.defects > 0)
        _outline(ax, mask, k, "black", 0.8)
    _analysed_outline(ax, chan, k)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=f"Image / model − 1 ({display_unit('percent')})")
    n_defects = int(chan.defects.max()) if chan.defects is not None else 0
    ax.set_title(f"Residual; {label('field', 'defect_count').text.lower()} outlined: {n_defects}", fontsize=9)
    return Figure(
        "Residual after the illumination model" + suffix,
        figure_to_png(fig),
        "What the smooth illumination does not explain: dust, slide defects, noise. Defects are residuals beyond the "
        "threshold in units of the local shot noise." + area,
    )


def write_flat_field(result: FieldResult, path: str | Path, overwrite: bool = False) -> Path:
    """Write the normalised flat-field image(s) as a float32 TIFF ((Y, X) or (C, Y, X)).

    Correct an image of the same instrument with ``(image − dark) / flat_field``.

    Parameters
    ----------
    result : FieldResult
        The analysis result holding every channel's flat field.
    path : str or Path
        The TIFF to write.
    overwrite : bool
        Replace an existing file; it is never overwritten silently.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ExportExistsError
        If the file exists and ``overwrite`` is False.
    ValueError
        If the result has no channel, or a channel without a flat field.
    """
    import tifffile

    path = Path(path)
    if path.exists() and not overwrite:
        raise ExportExistsError(
            f"{path} exists; choose another name or allow overwriting explicitly ({{overwrite}})."
        )
    flats = [c.flat_field for c in result.channels if c.flat_field is not None]
    if not flats or len(flats) != len(result.channels):
        raise ValueError("The result holds no flat-field image to write (every channel needs one).")
    stack = np.stack(flats).astype(np.float32)
    data = stack[0] if len(stack) == 1 else stack
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    tifffile.imwrite(buf, data, description="napari-microscope-qc flat field: divide (image - dark) by this")
    atomic_write(path, buf.getvalue())
    return path

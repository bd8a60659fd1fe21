"""Figures and the flat-field image of the field-illumination report."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from microscope_qc.io import atomic_write
from microscope_qc.report import Figure, refuse_overwrite
from microscope_qc.report.labels import FIELD_PROFILE_LABELS, display_unit, heading, label
from microscope_qc.report.svg import Axes, Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.field.result import ChannelField, FieldResult

__all__ = ["field_figures", "write_flat_field"]

_CENTRE_STYLE = {
    "image centre": ("+", "#ffffff"),
    "reference zone centroid": ("o", "#ff7f0e"),
    "fitted illumination centre": ("x", "#00e5ff"),
    "centre of intensity": ("s", "#b15cff"),
    "maximum": ("^", "#ffd400"),
}
_ANALYSED_COLOUR = "#ff00c8"
_PX = display_unit("px")


def _thumb(image: npt.NDArray[Any], size: int = 600) -> tuple[npt.NDArray[Any], int]:
    """Every k-th pixel so that the figure image has at most ``size`` pixels a side (figures need no more)."""
    k = max(1, int(np.ceil(max(image.shape) / size)))
    return image[::k, ::k], k


def _block_any(mask: npt.NDArray[Any], k: int) -> npt.NDArray[np.bool_]:
    """Whether any pixel of each k × k block is set: the shape of ``_thumb``'s every k-th pixel."""
    if k == 1:
        return np.asarray(mask, dtype=bool)
    h, w = mask.shape
    padded = np.zeros((-(-h // k) * k, -(-w // k) * k), dtype=bool)
    padded[:h, :w] = mask
    blocks = padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k)
    return np.asarray(blocks.any(axis=(1, 3)), dtype=bool)


def _outline(
    ax: Axes, mask: npt.NDArray[Any], k: int, colour: str, width: float, dash: str = "", shift: int = 0
) -> None:
    """Contour of a (thumbnailed, every k-th pixel) boolean mask in full-image pixel coordinates.

    ``shift`` is how many pixels the thumbnail was padded by; all contours are one path.
    """
    from skimage.measure import find_contours

    contours = find_contours(mask.astype(np.float32), 0.5)
    paths = [((c[:, 1] - shift) * k, (c[:, 0] - shift) * k) for c in contours]
    ax.lines(paths, colour, width, dash=dash, css="outline")


def _analysed_outline(ax: Axes, chan: ChannelField, k: int) -> None:
    """Dashed outline of the analysed area when a mask restricted the analysis (padded so that edges show)."""
    if chan.analysed is None:
        return
    _outline(ax, np.pad(chan.analysed[::k, ::k], 1), k, _ANALYSED_COLOUR, 1.4, "5,3", shift=1)


def _image_axes(ax: Axes) -> None:
    ax.set(xlabel=f"x ({_PX})", ylabel=f"y ({_PX})")


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
    h, w = chan.iso_map.shape
    # about 340 pixels of image across in each half, beside its colour bar and labels
    plot = Plot(1000, 340 * min(1.4, max(0.5, h / w)) + 75, cols=2)
    ax = plot.axes(0, 0)
    iso, k = _thumb(chan.iso_map)
    extent = (-0.5, w - 0.5, -0.5, h - 0.5)
    classes = np.where(iso < 0, np.nan, iso).astype(np.float32)  # excluded pixels: no class, grey
    scale = ax.image(classes, "turbo", extent, levels=range(0, 111, 10), bad="#9a9a9a", reduce="stride")
    zone, _ = _thumb(chan.reference_zone)
    _outline(ax, zone, k, "#ffffff", 1.2)
    _analysed_outline(ax, chan, k)
    for name, (y, x) in chan.centres.items():
        marker, colour = _CENTRE_STYLE.get(name, ("o", "#ffffff"))
        ax.markers(
            [x], [y], marker, size=12.0, colour=colour, fill="none", stroke=2.0, label=name, css="centre"
        )
    ax.legend("lower left")
    ax.set(title="Iso-intensity map, reference zone outlined")
    _image_axes(ax)
    ax.colourbar(scale, f"Intensity class ({display_unit('percent')} of max)")
    ax2 = plot.axes(0, 1)
    if chan.model is not None:
        s2 = ax2.image(_thumb(chan.model)[0], "viridis", extent, reduce="stride")
        _analysed_outline(ax2, chan, k)
        ax2.set(
            title="Fitted illumination model"
            + (" (fitted on the analysed area)" if chan.analysed is not None else "")
        )
        _image_axes(ax2)
        ax2.colourbar(s2, heading("field", "model"))
    else:
        ax2.off("No illumination model")
    title = "Iso-intensity map and centres" + suffix
    return Figure(
        title,
        plot.svg(title),
        "MetroloJ_QC iso-intensity classes of the blurred image; white outline: the reference zone. Markers: image "
        "centre, reference-zone centroid, fitted illumination centre, centre of intensity, maximum." + area,
    )


def _profile_figure(chan: ChannelField, suffix: str) -> Figure:
    plot = Plot(1000, 290, cols=4)
    for k, (name, p) in enumerate(chan.profiles.items()):
        ax = plot.axes(0, k)
        ax.line(p["distance_px"], p["raw"], "#bbbbbb", 0.6, label=label("field", "raw").text)
        ax.line(p["distance_px"], p["blurred"], "#333333", 1.2, label=label("field", "blurred").text)
        if "model" in p:
            ax.line(p["distance_px"], p["model"], "#d95f02", 1.2, label=label("field", "model").text)
        ax.set(
            title=FIELD_PROFILE_LABELS.get(name, name.replace("_", " ")),
            xlabel=heading("field", "distance_px"),
        )
        if k == 0:
            ax.set(ylabel=f"Intensity ({display_unit('counts')})")
            ax.legend()
    title = "Profiles" + suffix
    return Figure(title, plot.svg(title), "Two diagonals and the two centre lines (MetroloJ_QC).")


def _residual_figure(chan: ChannelField, residual: npt.NDArray[Any], suffix: str, area: str = "") -> Figure:
    h, w = residual.shape
    plot = Plot(560, 440 * min(1.4, max(0.5, h / w)) + 75)
    ax = plot.axes()
    res, k = _thumb(residual)
    lim = float(np.percentile(np.abs(res), 99.5)) or 0.01
    extent = (-0.5, w - 0.5, -0.5, h - 0.5)
    scale = ax.image(res * 100, "RdBu_r", extent, vmin=-100 * lim, vmax=100 * lim, reduce="stride")
    if chan.defects is not None and chan.defects.any():
        # a thumbnail pixel is a defect if any pixel of its k × k block is: small specks survive
        _outline(ax, _block_any(chan.defects > 0, k), k, "#000000", 0.8)
    _analysed_outline(ax, chan, k)
    ax.colourbar(scale, f"Image / model − 1 ({display_unit('percent')})")
    n_defects = int(chan.defects.max()) if chan.defects is not None else 0
    ax.set(title=f"Residual; {label('field', 'defect_count').text.lower()} outlined: {n_defects}")
    _image_axes(ax)
    title = "Residual after the illumination model" + suffix
    return Figure(
        title,
        plot.svg(title),
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
    refuse_overwrite(path, overwrite)
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

"""Report figures of the resolution measurement: the FRC curve with its thresholds, the decorrelation curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from microscope_qc.report import Figure, refuse_overwrite
from microscope_qc.report.labels import heading
from microscope_qc.report.svg import Plot

if TYPE_CHECKING:
    from microscope_qc.analysis.resolution import ResolutionResult

__all__ = [
    "resolution_figures",
    "map_figure",
    "write_resolution_map",
    "write_map_svg",
    "map_display_range",
    "anisotropy_display_range",
]

#: the least range a resolution map's colours span, as a fraction of its median: a map uniform to
#: 1 % must not look as varied as one that spans a factor of two
_MIN_SPAN = 0.2


def map_display_range(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Colour range of a resolution map: its values' range, widened to at least ±10 % of the median.

    Parameters
    ----------
    values : numpy.ndarray
        The map (NaN where a tile has no value).

    Returns
    -------
    tuple of float
        ``(low, high)``; ``(0, 1)`` for a map without any value.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi, mid = float(finite.min()), float(finite.max()), float(np.median(finite))
    half = _MIN_SPAN * abs(mid) / 2
    return min(lo, mid - half), max(hi, mid + half)


def anisotropy_display_range(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Colour range of an anisotropy map: symmetric about 1, at least 0.9–1.1, at most 0–2.

    Parameters
    ----------
    values : numpy.ndarray
        The map (NaN where a tile has no value).

    Returns
    -------
    tuple of float
        ``(low, high)``.
    """
    finite = values[np.isfinite(values)]
    spread = float(np.max(np.abs(finite - 1.0))) if finite.size else 0.1
    spread = min(max(spread, 0.1), 1.0)
    return 1.0 - spread, 1.0 + spread


_WIDE = 820


def _resolution_text(result: ResolutionResult) -> str:
    names = {m.name: m.value for m in result.metrics}
    if "resolution_um" not in names:
        return "no resolution found"
    return f"resolution {names['resolution_um']:.3f} µm ({names['resolution_px']:.2f} px)"


def _frc(result: ResolutionResult) -> Figure:
    t = result.tables["curve"]
    plot = Plot(_WIDE, 340)
    ax = plot.axes(0, 0)
    f = t["frequency_per_um"].to_numpy()
    if "frc_split" in t:
        ax.line(f, t["frc_split"], "#999999", 1.0, label="FRC of the two halves")
    ax.line(f, t["frc"], "#1b9e77", 1.6, label="FRC")
    ax.line(f, t["threshold_1_7"], "#d95f02", 1.2, dash="5,3", label="1/7")
    ax.line(f, t["threshold_half_bit"], "#7570b3", 1.2, dash="2,2", label="half-bit")
    cut = next((m.value for m in result.metrics if m.name == "cutoff_frequency_per_um"), None)
    if cut is not None:
        ax.rule(cut, colour="#111111", width=1.0, label=f"cut-off {cut:.3g} µm⁻¹")
    ax.set(xlabel=heading("resolution", "frequency_per_um"), ylabel="Correlation")
    ax.legend("upper right")
    title = "Fourier ring correlation"
    split = (
        " of one image split photon by photon (half-data corrected)" if result.method == "frc-split" else ""
    )
    return Figure(
        title,
        plot.svg(title),
        f"FRC{split} against spatial frequency, with the 1/7 and half-bit thresholds; {_resolution_text(result)}.",
    )


def _decorrelation(result: ResolutionResult) -> Figure:
    t = result.tables["curve"]
    peaks = result.tables["peaks"]
    plot = Plot(_WIDE, 340)
    ax = plot.axes(0, 0)
    paths = []
    for c, rows in t.groupby("curve"):
        if c == 0:
            continue
        order = np.argsort(rows["radius_normalised"].to_numpy())
        paths.append((rows["radius_normalised"].to_numpy()[order], rows["d"].to_numpy()[order]))
    if paths:
        ax.lines(paths, "#999999", 0.8, label="high-pass filtered")
    d0 = t[t["curve"] == 0]
    ax.line(d0["radius_normalised"], d0["d"], "#1b9e77", 1.8, label="unfiltered d₀")
    ok = peaks[peaks["kc"] > 0]
    if len(ok):
        ax.markers(ok["kc"], ok["amplitude"], "o", colour="#d95f02", label="peaks")
        ax.rule(float(ok["kc"].max()), colour="#111111", width=1.0, label=f"k_c max {ok['kc'].max():.3f}")
    ax.set(xlabel="Normalised frequency (Nyquist = 1)", ylabel=heading("resolution", "d"))
    ax.legend("upper right")
    title = "Decorrelation analysis"
    return Figure(
        title,
        plot.svg(title),
        "Decorrelation functions d(r) of the image (green) and of its high-pass filtered versions (grey), their "
        f"peaks; resolution = 2·pixel/k_c max: {_resolution_text(result)}.",
    )


def map_figure(result: ResolutionResult) -> Figure | None:
    """The local resolution and anisotropy maps side by side (tiles without a value in grey).

    Parameters
    ----------
    result : ResolutionResult
        A result with a map.

    Returns
    -------
    Figure or None
        None when the result has no map.
    """
    m = result.map
    if m is None:
        return None
    (y0, x0), (sy, sx) = m.origin_um, m.step_um
    rows, cols = m.resolution_um.shape
    extent = (x0 - sx / 2, x0 + (cols - 0.5) * sx, y0 - sy / 2, y0 + (rows - 0.5) * sy)
    plot = Plot(_WIDE, 380, cols=2)
    ax = plot.axes(0, 0)
    lo, hi = map_display_range(m.resolution_um)
    scale = ax.image(m.resolution_um, "viridis", extent, vmin=lo, vmax=hi, bad="#9a9a9a", reduce="stride")
    ax.colourbar(scale, "Resolution (µm)")
    ax.set(title="Resolution per tile", xlabel="x (µm)", ylabel="y (µm)")
    ax2 = plot.axes(0, 1)
    lo, hi = anisotropy_display_range(m.anisotropy)
    scale2 = ax2.image(m.anisotropy, "RdBu_r", extent, vmin=lo, vmax=hi, bad="#9a9a9a", reduce="stride")
    ax2.colourbar(scale2, "Resolution x / y")
    ax2.set(title="Anisotropy per tile", xlabel="x (µm)", ylabel="y (µm)")
    title = "Local resolution"
    n_bad = int((~m.valid).sum())
    missing = f"; {n_bad} tile(s) without a resolution in grey (see tiles.csv)" if n_bad else ""
    how = {"decorrelation": "decorrelation analysis", "frc": "FRC", "frc-split": "FRC of the photon split"}
    return Figure(
        title,
        plot.svg(title),
        f"{how.get(m.method, m.method)} of {m.tile_px}-px tiles ({m.tile_um:.3g} µm), centres "
        f"{sx:.3g} µm apart; anisotropy = resolution along x / along y (red: coarser along x){missing}.",
    )


def write_resolution_map(result: ResolutionResult, path: str | Path, overwrite: bool = False) -> Path:
    """Write the local maps as an OME-TIFF: channel 0 the resolution (µm), 1 the anisotropy (x / y).

    One pixel per tile, float32, NaN where a tile has no value; the physical pixel size is the
    distance between tile centres, and pixel (0, 0) is the first tile, centred at the map's
    ``origin_um`` (the ``centre_y_um``, ``centre_x_um`` of tiles.csv).

    Parameters
    ----------
    result : ResolutionResult
        A result with a map.
    path : str or Path
        The file to write.
    overwrite : bool
        Replace an existing file; it is never overwritten silently.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ExportExistsError
        The file exists and ``overwrite`` is False.
    ValueError
        The result has no map.
    """
    from microscope_qc.io import write_ome_tiff

    if result.map is None:
        raise ValueError("The result holds no local map (it was run without one).")
    path = Path(path)
    refuse_overwrite(path, overwrite)
    m = result.map
    data = np.stack([m.resolution_um, m.anisotropy]).astype(np.float32)[:, None]
    sy, sx = m.step_um
    return write_ome_tiff(
        path,
        data,
        voxel_size_um=(1.0, sy, sx),
        channel_names=["resolution_um", "anisotropy_x_over_y"],
        overwrite=True,
    )


def write_map_svg(result: ResolutionResult, path: str | Path, overwrite: bool = False) -> Path:
    """Write the map figure (:func:`map_figure`) as a standalone SVG file.

    Parameters
    ----------
    result : ResolutionResult
        A result with a map.
    path : str or Path
        The file to write.
    overwrite : bool
        Replace an existing file; it is never overwritten silently.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ExportExistsError
        The file exists and ``overwrite`` is False.
    ValueError
        The result has no map.
    """
    from microscope_qc.io import atomic_write

    figure = map_figure(result)
    if figure is None:
        raise ValueError("The result holds no local map (it was run without one).")
    path = Path(path)
    refuse_overwrite(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, ('<?xml version="1.0" encoding="UTF-8"?>\n' + figure.svg).encode("utf-8"))
    return path


def resolution_figures(result: ResolutionResult) -> Sequence[Figure]:
    """The report's figures of a resolution result.

    Parameters
    ----------
    result : ResolutionResult
        The analysis result.

    Returns
    -------
    list of Figure
        The FRC curve with its thresholds, or the decorrelation curves with their peaks; the local
        resolution and anisotropy maps when the result has them.
    """
    if "curve" not in result.tables:
        return []
    figures = [_decorrelation(result) if result.method == "decorrelation" else _frc(result)]
    local = map_figure(result)
    return figures if local is None else [*figures, local]

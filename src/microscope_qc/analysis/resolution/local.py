"""Local resolution: the image tiled, the resolution and the x/y anisotropy of every tile, as maps.

The field is cut into square tiles (``tile_px``, overlapping by ``tile_overlap_percent``, evenly
spaced so that the first and last tiles touch the image's edges); each tile is analysed by the
method of the whole image: decorrelation analysis for one image (the spectra of a row of tiles
computed in one transform, their ring sums in one ``bincount``), FRC for a pair or an image split
by photons. The resolution along x and along y of each tile comes from the sectors of its
frequency plane within 22.5° of each axis (the sector FRC, or the decorrelation analysis restricted
to the same sectors); the anisotropy is x / y.

A tile that cannot be measured gets NaN and the reason, never a number: a constant tile; no
decorrelation peak, or an FRC that stays above its threshold up to Nyquist; or a resolution coarser
than a quarter of the tile (fewer than four resolution elements across it: too little structure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.resolution.decorrelation import RingGeometry, cutoffs_from_sums
from microscope_qc.analysis.resolution.fourier import rfft2
from microscope_qc.analysis.resolution.frc import (
    ONE_SEVENTH,
    frc_curves,
    half_bit_threshold,
    threshold_crossing,
)
from microscope_qc.results import CancelCheck, ProgressCallback

__all__ = ["ResolutionMap", "tile_starts", "local_decorrelation", "local_frc"]

#: a tile's resolution must be finer than this fraction of its side (else: too little structure)
MAX_RESOLUTION_FRACTION = 0.25
#: the reasons a tile has no value
NO_PEAK = "no decorrelation peak: no structure above the noise"
ABOVE_TO_NYQUIST = "FRC above the threshold up to Nyquist: under-sampled, or the noises are not independent"
TOO_COARSE = "resolution coarser than a quarter of the tile: too little structure"
CONSTANT = "constant tile: no structure"


@dataclass(frozen=True)
class ResolutionMap:
    """Per-tile resolution over the field, with the tiles' geometry.

    Map element ``[i, j]`` is the tile whose top-left pixel is ``(y_px[i], x_px[j])``; its centre
    is at ``origin_um + (i, j) · step_um`` (the tiles are evenly spaced), which is how a viewer
    overlays the map on the image (scale ``step_um``, translate ``origin_um``).

    Attributes
    ----------
    resolution_um : numpy.ndarray
        (rows, columns) resolution of each tile; NaN where it has none (see ``reason``).
    resolution_x_um, resolution_y_um : numpy.ndarray
        Resolution along x and along y (the sectors within 22.5° of each axis); NaN where none.
    anisotropy : numpy.ndarray
        ``resolution_x_um / resolution_y_um``; NaN where either is missing.
    reason : numpy.ndarray
        Why a tile has no resolution (``""`` where it has one).
    y_px, x_px : numpy.ndarray
        First row and first column of each row and column of tiles (pixels).
    tile_px : int
        Side of the (square) tiles.
    pixel_size_um : float
        Pixel size of the image.
    method : str
        ``"decorrelation"``, ``"frc"`` or ``"frc-split"``.
    """

    resolution_um: npt.NDArray[np.float64]
    resolution_x_um: npt.NDArray[np.float64]
    resolution_y_um: npt.NDArray[np.float64]
    anisotropy: npt.NDArray[np.float64]
    reason: npt.NDArray[np.object_]
    y_px: npt.NDArray[np.intp]
    x_px: npt.NDArray[np.intp]
    tile_px: int
    pixel_size_um: float
    method: str

    @property
    def valid(self) -> npt.NDArray[np.bool_]:
        """Tiles with a resolution."""
        return np.asarray(np.isfinite(self.resolution_um))

    @property
    def tile_um(self) -> float:
        """Side of a tile in µm."""
        return self.tile_px * self.pixel_size_um

    @property
    def origin_um(self) -> tuple[float, float]:
        """(y, x) of the first tile's centre in µm (pixel centres at integer positions × pixel size)."""
        half = (self.tile_px - 1) / 2.0
        return (
            float(self.y_px[0] + half) * self.pixel_size_um,
            float(self.x_px[0] + half) * self.pixel_size_um,
        )

    @property
    def step_um(self) -> tuple[float, float]:
        """(y, x) distance between neighbouring tiles' centres in µm."""
        return (
            _step(self.y_px, self.tile_px) * self.pixel_size_um,
            _step(self.x_px, self.tile_px) * self.pixel_size_um,
        )

    def table(self) -> pd.DataFrame:
        """One row per tile: position, size, resolution, anisotropy and the reason when there is none."""
        rows, cols = self.resolution_um.shape
        r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        half = (self.tile_px - 1) / 2.0
        return pd.DataFrame(
            {
                "tile": np.arange(rows * cols),
                "tile_row": r.ravel(),
                "tile_column": c.ravel(),
                "y_px": self.y_px[r.ravel()],
                "x_px": self.x_px[c.ravel()],
                "tile_px": np.full(rows * cols, self.tile_px),
                "centre_y_um": (self.y_px[r.ravel()] + half) * self.pixel_size_um,
                "centre_x_um": (self.x_px[c.ravel()] + half) * self.pixel_size_um,
                "tile_resolution_um": self.resolution_um.ravel(),
                "tile_resolution_x_um": self.resolution_x_um.ravel(),
                "tile_resolution_y_um": self.resolution_y_um.ravel(),
                "tile_anisotropy": self.anisotropy.ravel(),
                "valid": self.valid.ravel(),
                "reason": self.reason.ravel(),
            }
        )


def _step(starts: npt.NDArray[np.intp], tile_px: int) -> float:
    if starts.size < 2:
        return float(tile_px)
    return float(starts[-1] - starts[0]) / (starts.size - 1)


def tile_starts(n: int, tile_px: int, overlap_percent: float) -> npt.NDArray[np.intp]:
    """First pixels of evenly spaced tiles covering ``n`` pixels, the last one ending at the edge.

    Parameters
    ----------
    n : int
        Pixels along the axis.
    tile_px : int
        Tile side (at most ``n``).
    overlap_percent : float
        Overlap of neighbouring tiles; the spacing is at most ``tile_px · (1 − overlap)``.

    Returns
    -------
    numpy.ndarray
        Integer starts, rounded from an even spacing.
    """
    step = max(1.0, tile_px * (1.0 - overlap_percent / 100.0))
    span = n - tile_px
    count = int(np.ceil(span / step - 1e-9)) + 1 if span > 0 else 1
    return np.asarray(np.rint(np.linspace(0, span, count)).astype(np.intp))


def _empty(shape: tuple[int, int]) -> tuple[npt.NDArray[np.float64], ...]:
    return tuple(np.full(shape, np.nan) for _ in range(3))


def _finish(
    res: npt.NDArray[np.float64],
    res_x: npt.NDArray[np.float64],
    res_y: npt.NDArray[np.float64],
    reason: npt.NDArray[np.object_],
    ys: npt.NDArray[np.intp],
    xs: npt.NDArray[np.intp],
    tile: int,
    pixel_size_um: float,
    method: str,
) -> ResolutionMap:
    too_coarse = np.isfinite(res) & (res > MAX_RESOLUTION_FRACTION * tile * pixel_size_um)
    res[too_coarse] = np.nan
    reason[too_coarse] = TOO_COARSE
    for r in (res_x, res_y):  # a sector too coarse, or in a tile without a resolution: no value
        r[~np.isfinite(res) | (r > MAX_RESOLUTION_FRACTION * tile * pixel_size_um)] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        anisotropy = res_x / res_y
    return ResolutionMap(res, res_x, res_y, anisotropy, reason, ys, xs, tile, pixel_size_um, method)


def _grid(
    shape: tuple[int, ...], tile_px: int, overlap_percent: float
) -> tuple[int, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    tile = int(min(tile_px, shape[0], shape[1]))
    return tile, tile_starts(shape[0], tile, overlap_percent), tile_starts(shape[1], tile, overlap_percent)


def _window(tile: int, edge_px: int) -> npt.NDArray[np.float64]:
    """The cosine edge taper of :func:`~microscope_qc.analysis.resolution.fourier.apodize`, as one 2D array."""
    e = max(1, min(edge_px, tile // 2))
    w = np.ones(tile)
    ramp = 0.5 * (1 - np.cos(np.pi * (np.arange(e) + 0.5) / e))
    w[:e] = ramp
    w[tile - e :] = ramp[::-1]
    return np.asarray(w[:, None] * w[None, :])


def local_decorrelation(
    image: npt.NDArray[np.float64],
    pixel_size_um: float,
    *,
    tile_px: int = 256,
    overlap_percent: float = 50.0,
    n_radii: int = 50,
    n_filters: int = 10,
    edge_px: int = 20,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ResolutionMap:
    """Decorrelation analysis of every tile of one image, with its x and y sectors.

    Parameters
    ----------
    image : numpy.ndarray
        The checked (Y, X) float image.
    pixel_size_um : float
        Pixel size.
    tile_px, overlap_percent : int, float
        Tile side (clipped to the image) and overlap.
    n_radii, n_filters, edge_px : int
        As :func:`~microscope_qc.analysis.resolution.decorrelation_analysis`.
    progress, cancel : callable, optional
        Progress report (fractions 0–1 of the map) and cancel check.

    Returns
    -------
    ResolutionMap
        The maps; resolution = 2·pixel/k_c per tile and sector.
    """
    tile, ys, xs = _grid(image.shape, tile_px, overlap_percent)
    shape = (ys.size, xs.size)
    res, res_x, res_y = _empty(shape)
    reason = np.full(shape, "", dtype=object)
    geometry = RingGeometry((tile, tile), rings_per_step=4)
    window = _window(tile, edge_px)
    for i, y in enumerate(ys):
        check_cancel(cancel, "Resolution map")
        stack = np.stack([image[y : y + tile, x : x + tile] for x in xs])
        constant = stack.max(axis=(1, 2)) == stack.min(axis=(1, 2))
        stack = (stack - stack.mean(axis=(1, 2), keepdims=True)) * window
        sums = geometry.sums(np.abs(rfft2(stack)))
        # every tile's whole plane, x sector and y sector: 3 spectra per tile, all in one batch
        count = np.stack([q for t in sums for q in (t.count.sum(0), t.count[0], t.count[1])])
        abs_sum = np.stack([q for t in sums for q in (t.abs_sum.sum(0), t.abs_sum[0], t.abs_sum[1])])
        power = np.stack([q for t in sums for q in (t.power.sum(0), t.power[0], t.power[1])])
        kc = cutoffs_from_sums(
            count, abs_sum, power, geometry.r, (tile, tile), n_radii=n_radii, n_filters=n_filters
        ).reshape(xs.size, 3)
        with np.errstate(divide="ignore"):
            values = np.where(kc > 0, 2.0 * pixel_size_um / kc, np.nan)
        values[constant] = np.nan
        res[i], res_x[i], res_y[i] = values[:, 0], values[:, 1], values[:, 2]
        reason[i, constant] = CONSTANT
        reason[i, ~constant & ~np.isfinite(values[:, 0])] = NO_PEAK
        if progress:
            progress((i + 1) / ys.size, f"resolution map: row {i + 1} of {ys.size}")
    return _finish(res, res_x, res_y, reason, ys, xs, tile, pixel_size_um, "decorrelation")


def local_frc(
    first: npt.ArrayLike,
    second: npt.ArrayLike,
    pixel_size_um: float,
    *,
    threshold: str = "1/7",
    correct_split: bool = False,
    method: str = "frc",
    tile_px: int = 256,
    overlap_percent: float = 50.0,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ResolutionMap:
    """FRC of every tile of two images of the same field, with its x and y sectors.

    Parameters
    ----------
    first, second : array_like
        The two (Y, X) images (independent noise), or the two halves of a photon split.
    pixel_size_um : float
        Pixel size.
    threshold : {"1/7", "half-bit"}
        The threshold whose crossing gives each tile's resolution.
    correct_split : bool
        The halves of one image split by photons: correct each curve to the whole image's,
        2·FRC/(1 + FRC).
    method : str
        Recorded on the map (``"frc"`` or ``"frc-split"``).
    tile_px, overlap_percent : int, float
        Tile side (clipped to the image) and overlap.
    progress, cancel : callable, optional
        Progress report (fractions 0–1 of the map) and cancel check.

    Returns
    -------
    ResolutionMap
        The maps; resolution = 1/crossing frequency per tile and sector.
    """
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    tile, ys, xs = _grid(a.shape, tile_px, overlap_percent)
    shape = (ys.size, xs.size)
    res, res_x, res_y = _empty(shape)
    reason = np.full(shape, "", dtype=object)

    def corrected(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 2.0 * c / (1.0 + np.maximum(c, -0.999)) if correct_split else c

    def crossing(f: npt.NDArray[np.float64], c: npt.NDArray[np.float64], n: npt.NDArray[np.float64]) -> float:
        t = np.full(c.size, ONE_SEVENTH) if threshold == "1/7" else half_bit_threshold(n)
        k = threshold_crossing(f, corrected(c), t)
        return np.nan if k is None else pixel_size_um / k

    window = _window(tile, tile // 2)  # the Hann window of frc_curve

    def spectra(
        image: npt.NDArray[np.float64], y: int
    ) -> tuple[npt.NDArray[np.complex128], npt.NDArray[np.bool_]]:
        stack = np.stack([image[y : y + tile, x : x + tile] for x in xs])
        constant = stack.max(axis=(1, 2)) == stack.min(axis=(1, 2))
        return rfft2((stack - stack.mean(axis=(1, 2), keepdims=True)) * window), constant

    for i, y in enumerate(ys):
        check_cancel(cancel, "Resolution map")
        (fa, const_a), (fb, const_b) = spectra(a, y), spectra(b, y)
        for j, curve in enumerate(frc_curves(fa, fb, tile)):
            if const_a[j] or const_b[j]:
                reason[i, j] = CONSTANT
                continue
            res[i, j] = crossing(curve.frequency, curve.frc, curve.n_pixels)
            if curve.frc_x is not None and curve.n_x is not None:
                res_x[i, j] = crossing(curve.frequency, curve.frc_x, curve.n_x)
            if curve.frc_y is not None and curve.n_y is not None:
                res_y[i, j] = crossing(curve.frequency, curve.frc_y, curve.n_y)
            if not np.isfinite(res[i, j]):
                reason[i, j] = ABOVE_TO_NYQUIST
        if progress:
            progress((i + 1) / ys.size, f"resolution map: row {i + 1} of {ys.size}")
    return _finish(res, res_x, res_y, reason, ys, xs, tile, pixel_size_um, method)

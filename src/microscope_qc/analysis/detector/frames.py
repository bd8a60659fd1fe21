"""Frames read one at a time, checked as they are read, and accumulated in float64.

A detector series can be large (20 pairs of 2048 × 2048 frames are 320 MB as uint16, 1.3 GB as
float64), so no analysis holds it whole: :class:`FrameSource` reads one frame at a time from
whatever the caller has (a (N, Y, X) array, a list of planes, a lazy TIFF stack) and checks each
one (2D, one shape and data type, no NaN, not constant); :class:`StackAccumulator` keeps the
per-pixel sum and sum of squares of a stack; :func:`pair_statistics` is the EMVA 1288 mean and
temporal variance of a pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from microscope_qc.results import AnalysisError

__all__ = [
    "FrameSource",
    "StackAccumulator",
    "PairStats",
    "pair_statistics",
    "saturation_level",
    "check_dark_saturation",
    "MAX_SATURATED_DARK_PERCENT",
]

FloatArray = npt.NDArray[np.float64]


def saturation_level(dtype: np.dtype[Any], saturation_value: float | None, bit_depth: int | None) -> float:
    """The value at which the detector saturates.

    Parameters
    ----------
    dtype : numpy.dtype
        The frames' data type.
    saturation_value : float or None
        Given by the user; wins.
    bit_depth : int or None
        The detector's bit depth: ``2**bit_depth − 1``.

    Returns
    -------
    float
        The saturation value; infinity for floating-point data without either setting.
    """
    if saturation_value is not None:
        return float(saturation_value)
    if bit_depth is not None:
        return float(2**bit_depth - 1)
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return math.inf


class FrameSource:
    """Frames of one series, read one at a time and checked as they are read.

    Parameters
    ----------
    frames : array or sequence
        A (N, Y, X) array, a (Y, X) array (one frame), or a sequence whose items are (Y, X)
        arrays (read with ``numpy.asarray(frames[i])``: a lazy stack reads one plane).
    what : str
        What the frames are ("frame", "dark frame"), for the messages.
    """

    def __init__(self, frames: Any, what: str = "frame") -> None:
        shape = getattr(frames, "shape", None)
        if shape is not None and len(shape) == 2:
            frames = [frames]
        elif shape is not None and len(shape) != 3:
            raise AnalysisError(
                f"The {what}s must be a (N, Y, X) stack or a list of (Y, X) frames; got an array of shape "
                f"{tuple(shape)}."
            )
        self._frames = frames
        self.what = what
        self.n = len(frames)
        self.shape: tuple[int, int] | None = None
        self.dtype: np.dtype[Any] | None = None
        #: the largest value of the frame read last
        self.last_max = math.nan

    def __len__(self) -> int:
        return self.n

    def read(
        self, i: int, *, allow_constant_at: float | None = None, dark_saturation: float | None = None
    ) -> FloatArray:
        """Frame ``i`` as float64, checked (see :meth:`read_raw` for the parameters and checks).

        Parameters
        ----------
        i : int
            The frame's index.
        allow_constant_at, dark_saturation : float, optional
            See :meth:`read_raw`.

        Returns
        -------
        ndarray
            The (Y, X) frame in float64.
        """
        out: FloatArray = self.read_raw(
            i, allow_constant_at=allow_constant_at, dark_saturation=dark_saturation
        ).astype(np.float64)
        return out

    def read_raw(
        self, i: int, *, allow_constant_at: float | None = None, dark_saturation: float | None = None
    ) -> npt.NDArray[Any]:
        """Frame ``i`` in its own data type, checked.

        Parameters
        ----------
        i : int
            The frame's index.
        allow_constant_at : float, optional
            A constant frame at this value (the saturation value), or at the full scale of an
            ADC (2^b − 1, b ≥ 8), is accepted (a bright frame beyond saturation).
        dark_saturation : float, optional
            The frame is dark: refuse it if saturated (:func:`check_dark_saturation`) before
            anything else.

        Returns
        -------
        ndarray
            The (Y, X) frame as read.

        Raises
        ------
        AnalysisError
            Not 2D, a shape or data type other than the first frame's, NaN or infinite values, or
            a constant frame.
        """
        raw = np.asarray(self._frames[i])
        if raw.ndim != 2:
            raise AnalysisError(
                f"{self.what.capitalize()} {i} has shape {raw.shape}; every frame must be 2D (Y, X)."
            )
        if self.shape is None:
            self.shape, self.dtype = (int(raw.shape[0]), int(raw.shape[1])), raw.dtype
        elif raw.shape != self.shape:
            raise AnalysisError(
                f"{self.what.capitalize()} {i} is {raw.shape[0]} × {raw.shape[1]} pixels but the first is "
                f"{self.shape[0]} × {self.shape[1]}: every frame must come from the same camera region "
                "(same crop and binning)."
            )
        elif raw.dtype != self.dtype:
            raise AnalysisError(
                f"{self.what.capitalize()} {i} is {raw.dtype} but the first is {self.dtype}: mixed data "
                "types mean the frames were saved differently; save them all from the camera alike."
            )
        lo, hi = float(raw.min()), float(raw.max())
        frame = raw
        self.last_max = hi
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise AnalysisError(
                f"{self.what.capitalize()} {i} holds NaN or infinite values; detector frames must be raw "
                "counts as the camera wrote them."
            )
        if dark_saturation is not None and hi >= dark_saturation:
            check_dark_saturation(frame, i, dark_saturation)
        if lo == hi and not (allow_constant_at is not None and (lo >= allow_constant_at or _full_scale(lo))):
            raise AnalysisError(
                f"{self.what.capitalize()} {i} is constant (every pixel = {lo:g}): no noise can be measured in "
                "it. Check that the camera was on and the frames are raw (no averaging, no background "
                "subtraction)."
            )
        return frame


def _full_scale(value: float) -> bool:
    """True for 2^b − 1 with b ≥ 8: the largest value of an ADC of b bits."""
    v = int(value) + 1
    return value == int(value) and v >= 256 and v & (v - 1) == 0


#: a dark frame with more saturated pixels than this is refused (light leak, wrong frames)
MAX_SATURATED_DARK_PERCENT = 1.0


def check_dark_saturation(
    frame: npt.NDArray[Any], index: int, saturation: float, what: str = "Dark frame"
) -> None:
    """Refuse a dark frame with many saturated pixels.

    Parameters
    ----------
    frame : ndarray
        The frame.
    index : int
        Its index, for the message.
    saturation : float
        The saturation value.
    what : str
        How the message names it.

    Raises
    ------
    AnalysisError
        When more than :data:`MAX_SATURATED_DARK_PERCENT` % of its pixels are saturated.
    """
    if not math.isfinite(saturation):
        return
    percent = 100.0 * float(np.mean(frame >= saturation))
    if percent > MAX_SATURATED_DARK_PERCENT:
        raise AnalysisError(
            f"{what} {index} is saturated in {percent:.3g} % of its pixels (at {saturation:g}): dark frames are "
            "taken with no light on the detector. Check for a light leak, or whether bright frames were "
            "given as darks."
        )


@dataclass
class StackAccumulator:
    """Per-pixel sum and sum of squares of a stack (float64, shifted by the first frame's mean)."""

    n: int = 0
    shift: float = 0.0
    total: FloatArray | None = None
    squares: FloatArray | None = None
    frame_means: list[float] = field(default_factory=list)

    def add(self, frame: FloatArray) -> None:
        """Add one frame.

        Parameters
        ----------
        frame : ndarray
            A (Y, X) float64 frame.
        """
        m = float(frame.mean())
        if self.total is None:
            self.shift = m
        x = frame - self.shift
        if self.total is None or self.squares is None:
            self.total = x.copy()
            self.squares = np.square(x, out=x)
        else:
            self.total += x
            self.squares += np.square(x, out=x)
        self.n += 1
        self.frame_means.append(m)

    def mean_image(self) -> FloatArray:
        """The per-pixel mean over the frames.

        Returns
        -------
        ndarray
            (Y, X) float64.
        """
        assert self.total is not None
        out: FloatArray = self.total / self.n + self.shift
        return out

    def variance_image(self) -> FloatArray:
        """The per-pixel temporal variance over the frames (n − 1 in the denominator).

        Returns
        -------
        ndarray
            (Y, X) float64; needs at least 2 frames.
        """
        assert self.total is not None and self.squares is not None and self.n >= 2
        var: FloatArray = (self.squares - self.total * self.total / self.n) / (self.n - 1)
        np.maximum(var, 0.0, out=var)
        return var


@dataclass(frozen=True)
class PairStats:
    """EMVA 1288 statistics of one pair of frames A, B taken under the same conditions."""

    mean: float  # (μ_A + μ_B) / 2
    variance: float  # temporal variance: ⟨((y_A − y_B) − (μ_A − μ_B))²⟩ / 2
    mean_a: float
    mean_b: float
    saturated_fraction: float  # fraction of pixels at the saturation value in either frame


def pair_statistics(
    a: npt.NDArray[Any], b: npt.NDArray[Any], saturation: float, maximum: float = math.inf
) -> PairStats:
    """Mean and temporal variance of a pair (EMVA 1288 4.0 linear, "temporal noise from two frames").

    The difference of the two frames removes the fixed pattern; its variance, halved, is the
    temporal variance of one frame.

    Parameters
    ----------
    a, b : ndarray
        The two frames: integers (summed exactly in int64) or floating point (in float64).
    saturation : float
        The saturation value (for the saturated fraction).
    maximum : float, optional
        The largest value in either frame, when known: below ``saturation`` no pixel is counted.

    Returns
    -------
    PairStats
        The pair's statistics.
    """
    n = a.size
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer) and a.itemsize <= 2:
        # exact: the sums of 16-bit frames and of their squared differences fit int64
        ma, mb = int(a.sum(dtype=np.int64)) / n, int(b.sum(dtype=np.int64)) / n
        d = (a.astype(np.int32) - b).ravel()
        ss = float(np.einsum("i,i->", d, d, dtype=np.int64))
    else:
        fa, fb = a.astype(np.float64, copy=False), b.astype(np.float64, copy=False)
        ma, mb = float(fa.mean()), float(fb.mean())
        df = (fa - fb).ravel()
        ss = float(np.einsum("i,i->", df, df))
    # ⟨(d − ⟨d⟩)²⟩ = ⟨d²⟩ − ⟨d⟩² (einsum: a BLAS dot is slower when its threads compete for the cores)
    var = (ss / n - (ma - mb) ** 2) / 2.0
    sat = 0.0
    if math.isfinite(saturation) and maximum >= saturation:
        sat = float(np.mean((a >= saturation) | (b >= saturation)))
    return PairStats((ma + mb) / 2.0, var, ma, mb, sat)


def as_float_list(values: Sequence[float] | None, n: int, what: str) -> list[float] | None:
    """Per-frame values as floats, one per frame, checked finite.

    Parameters
    ----------
    values : sequence of float or None
        The values.
    n : int
        The number of frames.
    what : str
        What they are, for the messages.

    Returns
    -------
    list of float or None
        None when ``values`` is None.

    Raises
    ------
    AnalysisError
        A count other than ``n`` or a value that is not a finite number of at least 0.
    """
    if values is None:
        return None
    out = [float(v) for v in values]
    if len(out) != n:
        raise AnalysisError(f"{len(out)} {what} given for {n} frames: give one per frame.")
    bad = [i for i, v in enumerate(out) if not (math.isfinite(v) and v >= 0)]
    if bad:
        raise AnalysisError(f"The {what} of frame(s) {bad[:5]} are not finite numbers of at least 0.")
    return out

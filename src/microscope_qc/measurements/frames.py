"""The frames of an image series, as the light-source and stage commands read them.

A series is the time points of one file, one file per frame (several FILEs), or the planes of a
file that has one time point (a plain multi-page TIFF of 2D frames reads as a z-stack).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from microscope_qc.results import AnalysisError

if TYPE_CHECKING:
    from microscope_qc.io import ImageData

__all__ = ["FrameSource", "read_frames", "FRAME_SOURCES"]

#: how frames are found: ``auto`` picks time points, then files, then planes
FrameSource = Literal["auto", "time", "files", "planes"]
FRAME_SOURCES: tuple[str, ...] = ("auto", "time", "files", "planes")


def read_frames(images: Sequence[ImageData], how: str = "auto", channel: int = 0) -> tuple[list[Any], str]:
    """Read every frame of a series, one channel.

    Parameters
    ----------
    images : sequence of ImageData
        The opened files (time point 0 each).
    how : {"auto", "time", "files", "planes"}
        ``time``: the time points of the first file; ``files``: one frame per file (each 2D or
        3D); ``planes``: the z planes of the first file, each a 2D frame; ``auto``: time points
        if the first file has several, else one frame per file if there are several files, else
        the planes.
    channel : int
        The channel to read.

    Returns
    -------
    frames : list of numpy.ndarray
        One (Z, Y, X) array per frame (Z = 1 for 2D frames).
    description : str
        How the frames were found, for the results' settings.

    Raises
    ------
    AnalysisError
        A channel the files do not have, files of different shapes, a series of one frame.
    """
    import numpy as np

    from microscope_qc.io import read_image

    first = images[0]
    n_time = int(first.metadata.extra.get("timepoints", 1))
    if how == "auto":
        how = "time" if n_time > 1 else ("files" if len(images) > 1 else "planes")
    n_c = first.shape[0]
    if not 0 <= channel < n_c:
        raise AnalysisError(
            f"Channel {channel} does not exist; the image has {n_c} channel(s) (0–{n_c - 1})."
        )
    if how == "time":
        if first.path is None or n_time < 2:
            raise AnalysisError(
                "The file holds one time point: give the frames as files, or --frames planes."
            )
        frames = _tiff_timepoints(first, n_time, channel)
        if frames is None:
            frames = [np.asarray(first.data[channel])]
            for t in range(1, n_time):
                frames.append(np.asarray(read_image(first.path, timepoint=t).data[channel]))
        text = f"{n_time} time points of {first.path.name}"
    elif how == "files":
        frames = [np.asarray(im.data[channel]) for im in images]
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise AnalysisError(
                f"The frames (files) have different shapes {sorted(shapes)}; give frames of one size."
            )
        text = f"{len(images)} files, one frame each"
    elif how == "planes":
        stack = np.asarray(first.data[channel])
        frames = [stack[i : i + 1] for i in range(stack.shape[0])]
        text = f"{len(frames)} planes of one file, each a 2D frame"
    else:
        raise AnalysisError(f"--frames is one of {', '.join(FRAME_SOURCES)}, not {how!r}.")
    if len(frames) < 2:
        raise AnalysisError(
            "The series has one frame. Give a file with several time points, several files (one per frame), "
            "or a multi-page TIFF of 2D frames (--frames planes)."
        )
    return frames, text


def _tiff_timepoints(first: ImageData, n_time: int, channel: int) -> list[Any] | None:
    """Every time point of a TIFF series read in one pass (opening the file per time point costs ~60 ms).

    None when the file is not a TIFF whose series has a T axis of the expected length and the
    shape the reader reported (the caller then reads one time point at a time).
    """
    import numpy as np

    path = first.path
    if path is None or not path.name.lower().endswith((".tif", ".tiff")):
        return None
    try:
        import tifffile

        with tifffile.TiffFile(path) as tf:
            series = tf.series[0]
            axes = series.axes
            if "T" not in axes or not set(axes) <= set("TCZYX"):
                return None
            data = series.asarray()
    except Exception:  # noqa: BLE001 (any trouble: read the slow, sure way)
        return None
    for a in "TCZYX":
        if a not in axes:
            data = data[..., None]
            axes += a
    data = np.transpose(data, [axes.index(a) for a in "TCZYX"])
    if data.shape[0] != n_time or tuple(data.shape[1:]) != tuple(first.shape):
        return None
    return [data[t, channel] for t in range(n_time)]

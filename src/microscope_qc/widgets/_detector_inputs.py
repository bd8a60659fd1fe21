"""The detector widget's inputs, snapshotted on the GUI thread and read in the worker.

* :class:`LayerFrames`: the frames of one multi-frame image layer or of several layers, as the
  sequence of (Y, X) frames :func:`~microscope_qc.analysis.detector.analyze_detector` reads one at
  a time (nothing is stacked or copied).
* :func:`frame_table_of`: the exposure times, photons and kinds of the frames, from a frame-table
  file (the command line's ``--frame-table``) or from the layer's metadata (the bundled samples).
* :func:`region_masks`: the regions drawn in a Shapes layer as (name, mask), as the command line
  makes them from ``--roi`` rectangles (pixel centres inside or on the boundary).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from microscope_qc.analysis.masks import mask_from_shapes, polygon_from_shape
from microscope_qc.measurements.detector_inputs import FrameTable, read_frame_table
from microscope_qc.results import AnalysisError

__all__ = ["LayerFrames", "frame_table_of", "region_masks", "SAMPLE_META"]

#: metadata key of the bundled samples' frame table (``samples.cameras``)
SAMPLE_META = "microscope_qc_detector"


class LayerFrames:
    """Every plane of some image layers' data as one sequence of (Y, X) frames, each read when indexed.

    Parameters
    ----------
    arrays : list of (name, array)
        The layers' names and data (2-D frames, or stacks whose last two axes are Y, X).
    field : str
        How the widget names the field the layers were picked in (for messages).

    Raises
    ------
    AnalysisError
        No layers, an RGB or 1-D layer, or layers of different frame sizes or data types.
    """

    def __init__(self, arrays: list[tuple[str, Any]], field: str) -> None:
        if not arrays:
            raise AnalysisError(
                f"Pick the frames in '{field}': one multi-frame image layer or several layers."
            )
        self._planes: list[tuple[Any, tuple[int, ...]]] = []
        first_name, first = arrays[0]
        for name, data in arrays:
            if data.ndim < 2:
                raise AnalysisError(f"'{field}': layer '{name}' is not an image.")
            if data.shape[-2:] != first.shape[-2:]:
                raise AnalysisError(
                    f"'{field}': layer '{name}' has {data.shape[-2]} × {data.shape[-1]} frames, "
                    f"'{first_name}' {first.shape[-2]} × {first.shape[-1]}: pick layers of one camera and size."
                )
            if np.dtype(data.dtype) != np.dtype(first.dtype):
                raise AnalysisError(
                    f"'{field}': layer '{name}' is {data.dtype}, '{first_name}' {first.dtype}: "
                    "pick raw frames of one data type."
                )
            for index in np.ndindex(*data.shape[:-2]):
                self._planes.append((data, index))
        self.dtype = np.dtype(first.dtype)
        self.frame_shape = (int(first.shape[-2]), int(first.shape[-1]))

    def __len__(self) -> int:
        return len(self._planes)

    def __getitem__(self, i: int) -> np.ndarray:
        data, index = self._planes[i]
        return np.asarray(data[index])


def frame_table_of(path: Path | None, metadata: dict[str, Any] | None, n_frames: int) -> FrameTable | None:
    """The frame table: the file when one is given, else the one in the layer's metadata, else none.

    Parameters
    ----------
    path : Path or None
        A frame-table file (CSV or YAML, as the command line reads it).
    metadata : dict or None
        The metadata of the (single) frames layer; the bundled samples carry their table there.
    n_frames : int
        The number of frames.

    Returns
    -------
    FrameTable or None
        Per-frame exposure times, photons and kinds.

    Raises
    ------
    AnalysisError
        A table that cannot be read or does not fit the frames.
    """
    if path is not None:
        return read_frame_table(path, n_frames)
    meta = (metadata or {}).get(SAMPLE_META)
    if not isinstance(meta, dict):
        return None
    exposure, photons, kinds = meta.get("exposure_ms"), meta.get("photons"), meta.get("kinds")
    if exposure is None or len(exposure) != n_frames:
        return None
    dark = [str(k) == "dark" for k in kinds] if kinds is not None and len(kinds) == n_frames else None
    return FrameTable(
        [float(v) for v in exposure],
        [float(v) for v in photons] if photons is not None and len(photons) == n_frames else None,
        dark,
        "the layer's metadata",
    )


def region_masks(
    shapes: list[tuple[np.ndarray, str]], frame_shape: tuple[int, int]
) -> list[tuple[str, np.ndarray]]:
    """Masks of the regions drawn in a Shapes layer, one per shape, named ``region 1``, ``region 2``...

    Parameters
    ----------
    shapes : list of (vertices, shape type)
        The shapes' (y, x) vertices in the frames' pixels, and napari's shape type.
    frame_shape : (int, int)
        The frames' (Y, X).

    Returns
    -------
    list of (name, mask)
        The regions, as :func:`~microscope_qc.analysis.detector.analyze_detector` takes them.

    Raises
    ------
    AnalysisError
        A line or path (no area), or a region outside the frames.
    """
    out = []
    for i, (vertices, kind) in enumerate(shapes):
        name = f"region {i + 1}"
        mask = mask_from_shapes(frame_shape, [polygon_from_shape(vertices, kind)])
        if not mask.any():
            raise AnalysisError(
                f"'{name}' (the regions layer) lies outside the {frame_shape[0]} × {frame_shape[1]} frames."
            )
        out.append((name, mask))
    return out

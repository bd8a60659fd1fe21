"""napari reader for OME-TIFF: channels as layers with their physical scale and acquisition metadata.

Qt-free: it returns napari layer-data tuples; napari calls it through the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from microscope_qc.io import ImageReadError, read_image, read_time_series

__all__ = ["napari_get_reader", "read_layers"]

_SUFFIXES = (".ome.tif", ".ome.tiff")

#: A napari layer-data tuple: (data, layer keyword arguments, layer type); data is a dask array.
LayerDataTuple = tuple[Any, dict[str, Any], str]


def napari_get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerDataTuple]] | None:
    """Return :func:`read_layers` for OME-TIFF paths, else None (napari then asks another reader).

    Parameters
    ----------
    path : str or list of str
        What napari wants to open.

    Returns
    -------
    callable or None
        :func:`read_layers`, or None if any path is not an OME-TIFF.
    """
    paths = [path] if isinstance(path, str) else list(path)
    if paths and all(str(p).lower().endswith(_SUFFIXES) for p in paths):
        return read_layers
    return None


def read_layers(path: str | list[str]) -> list[LayerDataTuple]:
    """Read OME-TIFF files as napari layer data.

    One image layer per file and channel, lazily, with the voxel size as scale and the file's
    acquisition metadata (and where each value came from) in ``layer.metadata``. A time series
    keeps every time point, as the layer's first axis.

    Parameters
    ----------
    path : str or list of str
        One or more OME-TIFF files.

    Returns
    -------
    list of tuple
        napari layer-data tuples ``(data, kwargs, "image")``; empty if a file cannot be read
        (napari then reports that no reader could open it).
    """
    paths = [path] if isinstance(path, str) else list(path)
    layers = []
    for p in paths:
        try:
            image = read_image(p)
        except ImageReadError:
            return []  # napari reports that no reader could open the file
        meta = image.metadata
        timepoints = int(meta.extra.get("timepoints", 1))
        # a time series is shown whole, time first (the stage and light-source docks need every frame)
        data = read_time_series(p).data if timepoints > 1 else image.data  # ([T,] C, Z, Y, X), lazy
        lead = 1 if timepoints > 1 else 0  # index of the channel axis
        vox = meta.voxel_size_um.value if not meta.voxel_size_um.missing else None
        two_d = data.shape[lead + 1] == 1
        if two_d:
            data = data[(slice(None),) * (lead + 1) + (0,)]
        scale = None
        if vox and all(v is not None for v in (vox if not two_d else vox[1:])):
            scale = (1.0,) * lead + (tuple(vox[1:]) if two_d else tuple(vox))
        names = meta.channel_names.value or [f"channel {k}" for k in range(data.shape[lead])]
        stem = Path(p).name.split(".")[0]
        kwargs: dict[str, Any] = {
            "metadata": {"acquisition": meta.as_dict(), "path": str(p), "timepoints": timepoints},
        }
        if data.shape[lead] > 1:
            kwargs["channel_axis"] = lead
            kwargs["name"] = [f"{stem} [{n}]" for n in names]
            if scale:
                kwargs["scale"] = scale
        else:
            data = data[(slice(None),) * lead + (0,)]
            kwargs["name"] = stem
            if scale:
                kwargs["scale"] = scale
        layers.append((data, kwargs, "image"))
    return layers

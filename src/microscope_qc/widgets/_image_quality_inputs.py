"""The image-quality dock's inputs: the optics read from the layer, the regions drawn in Shapes layers.

* :func:`optics_of`: modality, NA, immersion index and wavelengths from a layer's metadata (what the
  reader records from the file), for the fields the Nyquist pixel is derived from.
* :func:`shapes_vertices`: a Shapes layer's shapes as (y, x) pixel vertices of an image layer.
* :func:`union_mask`: those shapes as one mask, as the command line makes ``--signal-roi`` masks.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from microscope_qc.results import AnalysisError
from microscope_qc.widgets._detector_inputs import region_masks

__all__ = ["optics_of", "shapes_vertices", "union_mask", "is_time_series"]


def _value(meta: dict[str, Any], key: str) -> Any:
    entry = meta.get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def optics_of(layer: Any) -> dict[str, Any]:
    """The optics the file recorded for this layer (empty entries when unknown).

    Parameters
    ----------
    layer : napari.layers.Image
        A layer the plugin's reader made (``metadata["acquisition"]``), a bundled sample's
        (``metadata["microscope_qc"]["settings"]``), or any layer.

    Returns
    -------
    dict
        ``modality``, ``na``, ``immersion_index``, ``wavelength_ex_nm``, ``wavelength_em_nm`` (None
        when unknown; a channel's wavelength picked by the channel name in the layer's name).
    """
    md = layer.metadata if isinstance(layer.metadata, dict) else {}
    meta = md.get("acquisition")
    out: dict[str, Any] = dict.fromkeys(
        ("modality", "na", "immersion_index", "wavelength_ex_nm", "wavelength_em_nm")
    )
    sample = md.get("microscope_qc")
    if not isinstance(meta, dict) and isinstance(sample, dict) and isinstance(sample.get("settings"), dict):
        # a bundled sample's layer: its settings as plain values
        meta = {k: {"value": v} for k, v in sample["settings"].items()}
    if not isinstance(meta, dict):
        return out
    out["modality"] = _value(meta, "modality")
    out["na"] = _value(meta, "na")
    out["immersion_index"] = _value(meta, "immersion_index")
    names = _value(meta, "channel_names") or []
    found = re.search(r"\[(.*)\]$", str(layer.name))
    index = names.index(found.group(1)) if found and found.group(1) in names else None
    for key in ("wavelength_ex_nm", "wavelength_em_nm"):
        values = _value(meta, key)
        if not isinstance(values, list):
            out[key] = values
        elif index is not None and index < len(values):
            out[key] = values[index]
        elif len({v for v in values}) == 1:
            out[key] = values[0]
    return out


def is_time_series(layer: Any) -> bool:
    """Whether the layer's first axis is time (the plugin's reader records the file's time points)."""
    meta = layer.metadata if isinstance(layer.metadata, dict) else {}
    return int(meta.get("timepoints", 1) or 1) > 1 or layer.ndim >= 4


def shapes_vertices(shapes: Any, image: Any) -> list[tuple[np.ndarray, str]]:
    """A Shapes layer's shapes as (y, x) vertices in the image layer's pixels, with their shape types.

    Parameters
    ----------
    shapes : napari.layers.Shapes
        The drawn regions.
    image : napari.layers.Image
        The image they belong to (its scale and translate turn world into pixel coordinates).

    Returns
    -------
    list of (vertices, shape type)
        One entry per shape.
    """
    scale, translate = np.asarray(image.scale[-2:], float), np.asarray(image.translate[-2:], float)
    s_scale, s_translate = np.asarray(shapes.scale[-2:], float), np.asarray(shapes.translate[-2:], float)
    out = []
    for poly, kind in zip(shapes.data, shapes.shape_type, strict=True):
        world = np.asarray(poly, float)[:, -2:] * s_scale + s_translate
        out.append(((world - translate) / scale, str(kind)))
    return out


def union_mask(shapes: list[tuple[np.ndarray, str]], frame_shape: tuple[int, int], field: str) -> np.ndarray:
    """The union of the shapes as a (Y, X) mask (pixel centres inside or on the boundary).

    Parameters
    ----------
    shapes : list of (vertices, shape type)
        From :func:`shapes_vertices`.
    frame_shape : (int, int)
        The image's (Y, X).
    field : str
        The dock's field the shapes were picked in (for messages).

    Returns
    -------
    numpy.ndarray
        The mask.

    Raises
    ------
    AnalysisError
        No shapes, a line or path, or a shape outside the image.
    """
    if not shapes:
        raise AnalysisError(
            f"'{field}': the layer holds no shapes; draw rectangles or polygons in it, or clear the field."
        )
    try:
        masks = region_masks(shapes, frame_shape)
    except AnalysisError as exc:
        raise AnalysisError(f"'{field}': {str(exc).replace(' (the regions layer)', '')}") from None
    return np.logical_or.reduce([m for _, m in masks])

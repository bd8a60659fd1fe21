"""napari reader: channels as layers with their physical scale, colour and acquisition metadata.

It claims OME-TIFF, the vendor formats of the ``[formats]`` extra (CZI, ND2, LIF, OME-Zarr
folders) and plain TIFFs whose metadata give a pixel size (other TIFFs are left to napari's own
reader). Each channel is coloured by its emission wavelength when the file records one; every scene
of a multi-scene file is opened (the first only, with a warning, beyond :data:`MAX_SCENES`).
Qt-free: it returns napari layer-data tuples; napari calls it through the manifest.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from microscope_qc.io import ImageData, ImageReadError, read_image, read_time_series, scene_count
from microscope_qc.vendor_metadata import missing_plugin

__all__ = ["napari_get_reader", "read_layers", "wavelength_colour", "MAX_SCENES"]

#: a file with more scenes opens only its first (with a warning saying how to analyse another)
MAX_SCENES = 8

_SUFFIXES = (".ome.tif", ".ome.tiff", ".czi", ".nd2", ".lif", ".zarr")
_TIFF = (".tif", ".tiff")
#: colours of channels without an emission wavelength, in order
_DEFAULT_COLOURS = ("green", "magenta", "cyan", "yellow", "red", "blue")

#: A napari layer-data tuple: (data, layer keyword arguments, layer type); data is a dask array.
LayerDataTuple = tuple[Any, dict[str, Any], str]


def napari_get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerDataTuple]] | None:
    """Return :func:`read_layers` for the files this reader claims, else None (napari asks another).

    Claimed: OME-TIFF, CZI, ND2, LIF, OME-Zarr folders, and plain TIFFs whose metadata give
    a pixel size (:mod:`microscope_qc.tiff_metadata`).

    Parameters
    ----------
    path : str or list of str
        What napari wants to open.

    Returns
    -------
    callable or None
        :func:`read_layers`, or None if any path is not one of these.
    """
    paths = [path] if isinstance(path, str) else list(path)
    if paths and all(_claims(str(p)) for p in paths):
        return read_layers
    return None


def _claims(path: str) -> bool:
    name = path.rstrip("/\\").lower()
    if name.endswith(_SUFFIXES):
        return True
    if not name.endswith(_TIFF):
        return False
    try:  # a plain TIFF: only when its metadata give a physical pixel size (read lazily: tags only)
        vox = read_image(path).metadata.voxel_size_um
    except (ImageReadError, OSError, ValueError):
        return False
    return not vox.missing and vox.value[-1] is not None


def wavelength_colour(nm: float) -> str:
    """The display colour of light of a wavelength, as ``#rrggbb``.

    The usual piecewise-linear spectrum (after Bruton): violet at 380 nm through red at 645 nm,
    dimmed towards the ends of vision; below 380 nm violet, above 750 nm deep red (so that UV and
    near-infrared dyes stay visible).

    Parameters
    ----------
    nm : float
        Wavelength (nm).

    Returns
    -------
    str
        The colour, e.g. ``"#00ff0d"`` at 509 nm (EGFP's emission).
    """
    w = min(max(float(nm), 380.0), 750.0)
    if w < 440:
        r, g, b = (440 - w) / 60, 0.0, 1.0
    elif w < 490:
        r, g, b = 0.0, (w - 440) / 50, 1.0
    elif w < 510:
        r, g, b = 0.0, 1.0, (510 - w) / 20
    elif w < 580:
        r, g, b = (w - 510) / 70, 1.0, 0.0
    elif w < 645:
        r, g, b = 1.0, (645 - w) / 65, 0.0
    else:
        r, g, b = 1.0, 0.0, 0.0
    fade = 0.3 + 0.7 * (w - 380) / 40 if w < 420 else (0.3 + 0.7 * (750 - w) / 50 if w > 700 else 1.0)
    return "#" + "".join(f"{round(255 * c * fade):02x}" for c in (r, g, b))


def _colours(emission: list[float | None] | None, n: int) -> list[str]:
    out = []
    for k in range(n):
        nm = emission[k] if emission and k < len(emission) else None
        out.append(wavelength_colour(nm) if nm else _DEFAULT_COLOURS[k % len(_DEFAULT_COLOURS)])
    return out


def read_layers(path: str | list[str]) -> list[LayerDataTuple]:
    """Read image files as napari layer data.

    One image layer per file, scene and channel, lazily, with the voxel size as scale, a colour from
    the channel's emission wavelength and the file's acquisition metadata (and where each value came
    from) in ``layer.metadata``. A time series keeps every time point, as the layer's first axis.
    A file with several scenes (up to :data:`MAX_SCENES`) opens every scene, its layers named
    ``<file> [scene S] [<channel>]`` (S from 0, as ``--scene`` counts) with ``metadata["scene"]``;
    a file with more opens scene 0 only and warns (napari shows it) how to analyse another.

    Parameters
    ----------
    path : str or list of str
        One or more files (or OME-Zarr folders) :func:`napari_get_reader` claims.

    Returns
    -------
    list of tuple
        napari layer-data tuples ``(data, kwargs, "image")``; empty if a file cannot be read
        (napari then reports that no reader could open it).

    Raises
    ------
    ImageReadError
        For a vendor file whose bioio reader plugin is not installed (the message names it).
    """
    paths = [path] if isinstance(path, str) else list(path)
    layers = []
    for p in paths:
        try:
            image = read_image(p)
        except ImageReadError:
            if missing_plugin(Path(p)) is not None:
                raise  # napari shows the message: which extra and plugin to install
            return []  # napari reports that no reader could open the file
        try:
            n_scenes = scene_count(p)
        except ImageReadError:
            n_scenes = 1
        if n_scenes == 1:
            layers.append(_layer(p, image, None))
            continue
        if n_scenes > MAX_SCENES:
            warnings.warn(_many_scenes(Path(p), n_scenes), UserWarning, stacklevel=2)
            layers.append(_layer(p, image, 0))
            continue
        for scene in range(n_scenes):
            try:
                layers.append(_layer(p, image if scene == 0 else read_image(p, scene), scene))
            except ImageReadError as exc:  # one damaged scene: show the others, say which one is not shown
                warnings.warn(f"{Path(p).name}: scene {scene} not opened: {exc}", UserWarning, stacklevel=2)
    return layers


def _many_scenes(path: Path, n: int) -> str:
    return (
        f"{path.name} holds {n} scenes; napari opened scene 0 only (every scene opens when there are at "
        f"most {MAX_SCENES}). Analyse another with the command line's --scene S (S from 0 to {n - 1}), "
        f"or open it in napari's console: "
        f"from microscope_qc.io import read_image; viewer.add_image(read_image(path, scene=S).data, channel_axis=0)."
    )


def _layer(p: str, image: ImageData, scene: int | None) -> LayerDataTuple:
    """The layer-data tuple of one scene (``scene`` None: a file with one scene)."""
    meta = image.metadata
    timepoints = int(meta.extra.get("timepoints", 1))
    # a time series is shown whole, time first (the stage and light-source docks need every frame)
    data = read_time_series(p, scene).data if timepoints > 1 else image.data  # ([T,] C, Z, Y, X), lazy
    lead = 1 if timepoints > 1 else 0  # index of the channel axis
    vox = meta.voxel_size_um.value if not meta.voxel_size_um.missing else None
    two_d = data.shape[lead + 1] == 1
    if two_d:
        data = data[(slice(None),) * (lead + 1) + (0,)]
    scale = None
    if vox and all(v is not None for v in (vox if not two_d else vox[1:])):
        scale = (1.0,) * lead + (tuple(vox[1:]) if two_d else tuple(vox))
    names = meta.channel_names.value or [f"channel {k}" for k in range(data.shape[lead])]
    stem = Path(p).name.split(".")[0] + (f" [scene {scene}]" if scene is not None else "")
    info: dict[str, Any] = {"acquisition": meta.as_dict(), "path": str(p), "timepoints": timepoints}
    if scene is not None:
        info["scene"] = scene
    kwargs: dict[str, Any] = {"metadata": info}
    colours = _colours(meta.wavelength_em_nm.value, data.shape[lead])
    if data.shape[lead] > 1:
        kwargs["channel_axis"] = lead
        kwargs["name"] = [f"{stem} [{n}]" for n in names]
        kwargs["colormap"] = colours
    else:
        data = data[(slice(None),) * lead + (0,)]
        kwargs["name"] = stem
        if not meta.wavelength_em_nm.missing:
            kwargs["colormap"] = colours[0]
    if scale:
        kwargs["scale"] = scale
    return (data, kwargs, "image")

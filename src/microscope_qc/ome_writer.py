"""Writing (C, Z, Y, X) arrays as OME-TIFF with their acquisition metadata (re-exported by :mod:`microscope_qc.io`)."""

from __future__ import annotations

import io as _io
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["write_ome_tiff"]


def write_ome_tiff(
    path: str | Path,
    data: npt.ArrayLike,
    voxel_size_um: tuple[float, float, float] | None = None,
    channel_names: list[str] | None = None,
    wavelength_ex_nm: list[float | None] | None = None,
    wavelength_em_nm: list[float | None] | None = None,
    na: float | None = None,
    immersion: str | None = None,
    immersion_index: float | None = None,
    modality: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a (C, Z, Y, X) array as a zlib-compressed OME-TIFF with acquisition metadata.

    ``modality`` uses this package's names (widefield, confocal, spinning_disk, multiphoton).
    Refuses to overwrite an existing file unless ``overwrite`` is True.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder is created if needed.
    data : array_like
        (C, Z, Y, X) pixels of a type OME-TIFF can hold: (u)int8/16/32, float32/64, complex64/128
        or bool.
    voxel_size_um : tuple of 3 float, optional
        (z, y, x) voxel size in µm.
    channel_names : list of str, optional
        One name per channel.
    wavelength_ex_nm, wavelength_em_nm : list of float or None, optional
        Excitation and emission wavelength per channel in nm (``None`` where unknown).
    na : float, optional
        Numerical aperture of the objective.
    immersion : str, optional
        Immersion medium by OME name (oil, water, air, glycerol, ...).
    immersion_index : float, optional
        Refractive index of the immersion medium.
    modality : {"widefield", "confocal", "spinning_disk", "multiphoton"}, optional
        Imaging modality, written as each channel's acquisition mode.
    overwrite : bool, optional
        Replace an existing file.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        If ``data`` is not 4-D, its pixel type has no OME equivalent, or ``modality`` is unknown.
    """
    import tifffile
    from ome_types import model as om

    from microscope_qc.io import atomic_write

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name or pass overwrite=True.")
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(f"write_ome_tiff expects (C, Z, Y, X) data, got shape {data.shape}.")
    c, z, y, x = data.shape
    mode_names = {
        "widefield": "WideField",
        "confocal": "LaserScanningConfocalMicroscopy",
        "spinning_disk": "SpinningDiskConfocal",
        "multiphoton": "MultiPhotonMicroscopy",
    }
    if modality is not None and modality not in mode_names:
        raise ValueError(f"modality must be one of {', '.join(mode_names)}, not {modality!r}.")
    pixel_type = _OME_PIXEL_TYPE.get(data.dtype.name)
    if pixel_type is None:
        raise ValueError(
            f"write_ome_tiff cannot store {data.dtype} pixels; use one of {', '.join(_OME_PIXEL_TYPE)}."
        )
    channels = []
    for i in range(c):
        kw: dict[str, Any] = {"id": f"Channel:0:{i}", "samples_per_pixel": 1}
        if channel_names:
            kw["name"] = channel_names[i]
        ex_i = wavelength_ex_nm[i] if wavelength_ex_nm else None
        em_i = wavelength_em_nm[i] if wavelength_em_nm else None
        if ex_i is not None:
            kw["excitation_wavelength"] = float(ex_i)
        if em_i is not None:
            kw["emission_wavelength"] = float(em_i)
        if modality:
            kw["acquisition_mode"] = mode_names[modality]
        channels.append(om.Channel(**kw))
    px_kw: dict[str, Any] = {}
    if voxel_size_um is not None:
        px_kw.update(
            physical_size_z=float(voxel_size_um[0]),
            physical_size_y=float(voxel_size_um[1]),
            physical_size_x=float(voxel_size_um[2]),
        )
    pixels = om.Pixels(
        id="Pixels:0",
        dimension_order=om.Pixels_DimensionOrder.XYZCT,
        type=om.PixelType(pixel_type),
        size_c=c,
        size_z=z,
        size_y=y,
        size_x=x,
        size_t=1,
        channels=channels,
        tiff_data_blocks=[om.TiffData(plane_count=c * z)],
        **px_kw,
    )
    image_kw: dict[str, Any] = {"id": "Image:0", "name": path.stem, "pixels": pixels}
    instruments = []
    if na is not None or immersion is not None:
        obj_kw: dict[str, Any] = {"id": "Objective:0:0"}
        if na is not None:
            obj_kw["lens_na"] = float(na)
        if immersion is not None:
            obj_kw["immersion"] = immersion.capitalize()
        instruments.append(om.Instrument(id="Instrument:0", objectives=[om.Objective(**obj_kw)]))
        settings_kw: dict[str, Any] = {"id": "Objective:0:0"}
        if immersion_index is not None:
            settings_kw["refractive_index"] = float(immersion_index)
        image_kw["objective_settings"] = om.ObjectiveSettings(**settings_kw)
        image_kw["instrument_ref"] = om.InstrumentRef(id="Instrument:0")
    ome = om.OME(images=[om.Image(**image_kw)], instruments=instruments, creator="napari-microscope-qc")
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = _io.BytesIO()
    tifffile.imwrite(
        buf,
        data,
        description=ome.to_xml(),
        photometric="minisblack",
        compression="zlib",
        metadata=None,
    )
    return atomic_write(path, buf.getvalue())


#: OME pixel type of each numpy dtype OME-TIFF can hold (OME names floats "float" and "double").
_OME_PIXEL_TYPE = {
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "float32": "float",
    "float64": "double",
    "complex64": "complex",
    "complex128": "double-complex",
    "bool": "bit",
}

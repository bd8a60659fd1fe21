"""Reading images and their acquisition metadata; writing OME-TIFF.

Every reader goes through bioio (TIFF and OME-TIFF readers installed with this package;
any other bioio plugin the user installs works too). Data come back lazily as a dask array
in (C, Z, Y, X) order. Acquisition settings come back as :class:`MetadataValue` records that
say where in the file each value was found, or that it is missing — never guessed.

Plain TIFFs need care: bioio reports a 1 µm pixel for files with no resolution unit, which
is a placeholder, not a measurement. Such pixel sizes are reported missing here; what TIFF
writers do record (ImageJ, Micro-Manager, MetaMorph, tifffile, Amira-style bounding boxes,
resolution tags with a unit, an acquisition log beside the file) is read by
:mod:`microscope_qc.tiff_metadata`.
"""

from __future__ import annotations

import functools
import hashlib
import io as _io
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from microscope_qc.file_check import available_memory, describe_unreadable, tiff_truncation
from microscope_qc.tiff_metadata import read_settings_log, read_tiff_metadata

if TYPE_CHECKING:
    from bioio import BioImage
    from ome_types import OME

__all__ = [
    "MetadataValue",
    "AcquisitionMetadata",
    "ImageData",
    "ImageReadError",
    "read_image",
    "read_metadata",
    "write_ome_tiff",
    "sha256_file",
    "atomic_write",
]

#: Nominal refractive index of OME immersion media (used when the file names the medium only).
IMMERSION_INDEX = {
    "oil": 1.518,
    "water": 1.333,
    "air": 1.0,
    "glycerol": 1.47,
    "silicone": 1.406,
    "multi": None,
}

_OME_MODALITY = {
    "widefield": "widefield",
    "laserscanningconfocalmicroscopy": "confocal",
    "spinningdiskconfocal": "spinning_disk",
    "slitscanconfocal": "confocal",
    "multiphotonmicroscopy": "multiphoton",
}


class ImageReadError(OSError):
    """A file that cannot be opened as an image; the message names the file and the reason."""


@dataclass(frozen=True)
class MetadataValue:
    """A value read from a file and where it came from (``value is None`` means missing)."""

    value: Any = None
    origin: str | None = None

    @property
    def missing(self) -> bool:
        """True when the file did not have the value."""
        return self.value is None


MISSING = MetadataValue()


@dataclass
class AcquisitionMetadata:
    """Acquisition settings found in a file; each field is a :class:`MetadataValue`."""

    voxel_size_um: MetadataValue = MISSING  # (z, y, x); any element may be None
    channel_names: MetadataValue = MISSING
    wavelength_ex_nm: MetadataValue = MISSING  # list per channel, elements may be None
    wavelength_em_nm: MetadataValue = MISSING
    na: MetadataValue = MISSING
    immersion_index: MetadataValue = MISSING
    modality: MetadataValue = MISSING
    pinhole_au: MetadataValue = MISSING
    acquisition_date: MetadataValue = MISSING
    bit_depth: MetadataValue = MISSING
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """``{field: {"value", "origin"}}`` for reports; missing values have value None."""
        out = {}
        for name in (
            "voxel_size_um",
            "channel_names",
            "wavelength_ex_nm",
            "wavelength_em_nm",
            "na",
            "immersion_index",
            "modality",
            "pinhole_au",
            "acquisition_date",
            "bit_depth",
        ):
            mv: MetadataValue = getattr(self, name)
            value = list(mv.value) if isinstance(mv.value, tuple) else mv.value
            out[name] = {"value": value, "origin": mv.origin}
        return out


@dataclass
class ImageData:
    """An opened image: lazy (C, Z, Y, X) data, metadata, and the file it came from."""

    data: Any  # dask.array.Array or numpy.ndarray, (C, Z, Y, X)
    metadata: AcquisitionMetadata
    path: Path | None = None
    dims_in_file: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the (C, Z, Y, X) data."""
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Pixel type of the data."""
        dtype: np.dtype[Any] = np.dtype(self.data.dtype)
        return dtype


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks.

    Parameters
    ----------
    path : str or Path
        The file.
    chunk : int, optional
        Bytes read at a time.

    Returns
    -------
    str
        The hexadecimal digest.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _open(path: Path) -> BioImage:
    from bioio import BioImage

    if not path.exists():
        raise ImageReadError(f"{path}: no such file.")
    if path.is_dir() and not path.suffix == ".zarr":
        raise ImageReadError(f"{path}: is a folder, not an image file.")
    bioio_log = logging.getLogger("bioio")
    level = bioio_log.level
    # bioio logs every reader it tried before the one that worked; that is noise to a user
    bioio_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return BioImage(path)
    except Exception as exc:  # bioio raises many types (UnsupportedFileFormatError, OSError...)
        raise ImageReadError(describe_unreadable(path, f"{type(exc).__name__}: {exc}")) from exc
    finally:
        bioio_log.setLevel(level)


def read_image(path: str | Path, scene: int | None = None, timepoint: int = 0) -> ImageData:
    """Open an image lazily as (C, Z, Y, X) with its acquisition metadata.

    Parameters
    ----------
    path
        Any file a bioio reader understands (TIFF and OME-TIFF at least).
    scene
        Scene index for multi-scene files (default: the first).
    timepoint
        Which time point of a time series to take.

    Raises
    ------
    ImageReadError
        When the file does not exist or no reader can open it.
    """
    path = Path(path)
    img = _open(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        truncated = tiff_truncation(path)
        if truncated is not None:
            raise ImageReadError(describe_unreadable(path, truncated))
    try:
        data, meta, order = _lazy_pixels(img, path, scene, timepoint)
    except ImageReadError:
        raise
    except Exception as exc:  # noqa: BLE001 (a header the reader opened but cannot lay out: a damaged file)
        raise ImageReadError(describe_unreadable(path, f"{type(exc).__name__}: {exc}")) from exc
    return ImageData(data=data, metadata=meta, path=path, dims_in_file=order)


def _lazy_pixels(
    img: BioImage, path: Path, scene: int | None, timepoint: int
) -> tuple[Any, AcquisitionMetadata, str]:
    """The (C, Z, Y, X) pixels of one scene and time point, lazily, with the metadata and the file's axis order."""
    if scene is not None:
        img.set_scene(scene)
    dims = img.dims
    if timepoint >= dims.T:
        raise ImageReadError(f"{path}: has {dims.T} time points; time point {timepoint} does not exist.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = img.get_image_dask_data("CZYX", T=timepoint)
    _check_fits_in_memory(path, int(data.nbytes))
    meta = _metadata(img, path)
    if dims.T > 1:
        meta.extra["timepoints"] = dims.T
    return data, meta, str(img.dims.order)


def _check_fits_in_memory(path: Path, nbytes: int) -> None:
    """Refuse, before reading, an image that cannot be held in memory (e.g. a compressed "bomb")."""
    free = available_memory()
    if free is not None and nbytes > free:
        raise ImageReadError(
            f"{path.name} holds {nbytes / 2**30:.3g} GiB of pixels once decompressed, more than the "
            f"{free / 2**30:.3g} GiB of memory available; analyse a crop or fewer channels "
            "(save them from Fiji or napari), or use a machine with more memory."
        )


def read_metadata(path: str | Path) -> AcquisitionMetadata:
    """Acquisition metadata only (the pixels are not read).

    Parameters
    ----------
    path : str or Path
        Any file a bioio reader understands.

    Returns
    -------
    AcquisitionMetadata
        What the file says about the acquisition, each value with its origin.

    Raises
    ------
    ImageReadError
        When the file does not exist or no reader can open it.
    """
    path = Path(path)
    return _metadata(_open(path), path)


def _metadata(img: BioImage, path: Path) -> AcquisitionMetadata:
    meta = AcquisitionMetadata()
    reader = type(img.reader).__module__
    ome = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = img.metadata
        if type(raw).__name__ == "OME":
            ome = raw
    except Exception:  # metadata parsing must never stop reading the pixels
        ome = None
    if ome is not None:
        _from_ome(meta, ome, img.current_scene_index)
    else:
        dims = img.dims
        _from_tiff(meta, path, (int(dims.Z), int(dims.Y), int(dims.X)))
    names = list(img.channel_names) if img.channel_names else None
    if names and meta.channel_names.missing:
        generic = all(n.startswith("Channel:") for n in names)
        meta.channel_names = MetadataValue(names, None if generic else f"{reader}: channel names")
    dtype = np.dtype(img.dtype)
    if meta.bit_depth.missing and dtype.kind in "ui":
        meta.bit_depth = MetadataValue(int(dtype.itemsize * 8), "pixel type")
    return meta


def _from_ome(meta: AcquisitionMetadata, ome: OME, scene: int) -> None:
    image = ome.images[min(scene, len(ome.images) - 1)]
    px = image.pixels
    sizes = []
    for axis in ("z", "y", "x"):
        value = getattr(px, f"physical_size_{axis}", None)
        unit = getattr(px, f"physical_size_{axis}_unit", None)
        sizes.append(_to_um(value, unit))
    if any(s is not None for s in sizes):
        meta.voxel_size_um = MetadataValue(tuple(sizes), "OME Pixels.PhysicalSize{Z,Y,X}")
    channels = px.channels
    if channels:
        names = [c.name or f"channel {i}" for i, c in enumerate(channels)]
        if any(c.name for c in channels):
            meta.channel_names = MetadataValue(names, "OME Channel.Name")
        ex = [_to_nm(c.excitation_wavelength, c.excitation_wavelength_unit) for c in channels]
        em = [_to_nm(c.emission_wavelength, c.emission_wavelength_unit) for c in channels]
        if any(v is not None for v in ex):
            meta.wavelength_ex_nm = MetadataValue(ex, "OME Channel.ExcitationWavelength")
        if any(v is not None for v in em):
            meta.wavelength_em_nm = MetadataValue(em, "OME Channel.EmissionWavelength")
        modes = {
            str(getattr(c.acquisition_mode, "value", c.acquisition_mode))
            for c in channels
            if c.acquisition_mode
        }
        if len(modes) == 1:
            key = modes.pop().lower().replace(" ", "")
            if key in _OME_MODALITY:
                meta.modality = MetadataValue(_OME_MODALITY[key], "OME Channel.AcquisitionMode")
    settings = image.objective_settings
    if settings is not None:
        if settings.refractive_index:
            meta.immersion_index = MetadataValue(
                float(settings.refractive_index), "OME ObjectiveSettings.RefractiveIndex"
            )
        for inst in ome.instruments:
            for obj in inst.objectives:
                if obj.id != settings.id:
                    continue
                if obj.lens_na:
                    meta.na = MetadataValue(float(obj.lens_na), "OME Objective.LensNA")
                if meta.immersion_index.missing and obj.immersion is not None:
                    medium = str(getattr(obj.immersion, "value", obj.immersion)).lower()
                    if IMMERSION_INDEX.get(medium):
                        meta.immersion_index = MetadataValue(
                            IMMERSION_INDEX[medium], f"OME Objective.Immersion={medium} (nominal index)"
                        )
    if image.acquisition_date is not None:
        meta.acquisition_date = MetadataValue(image.acquisition_date.isoformat(), "OME Image.AcquisitionDate")
    if px.significant_bits:
        meta.bit_depth = MetadataValue(int(px.significant_bits), "OME Pixels.SignificantBits")


def _from_tiff(meta: AcquisitionMetadata, path: Path, sizes: tuple[int, int, int]) -> None:
    """What a plain TIFF and its acquisition log record (:mod:`microscope_qc.tiff_metadata`)."""
    if path.suffix.lower() not in (".tif", ".tiff"):
        return
    found = read_tiff_metadata(path, sizes)
    log = read_settings_log(path)
    for name in ("voxel_size_um", "acquisition_date", "wavelength_ex_nm"):
        value = found.get(name) or log.get(name)
        if value is not None:
            setattr(meta, name, MetadataValue(*value))
    for name in ("detection_magnification", "camera_model"):
        if name in log:
            meta.extra[name] = MetadataValue(*log[name])


def _to_um(value: float | None, unit: object) -> float | None:
    if value is None:
        return None
    factor = {"µm": 1.0, "um": 1.0, "nm": 1e-3, "mm": 1e3, "m": 1e6, "Å": 1e-4, "pm": 1e-6, "cm": 1e4}
    name = str(getattr(unit, "value", unit) or "µm")
    return float(value) * factor.get(name, 1.0)


def _to_nm(value: float | None, unit: object) -> float | None:
    if value is None:
        return None
    factor = {"nm": 1.0, "µm": 1e3, "um": 1e3, "m": 1e9, "Å": 0.1, "pm": 1e-3}
    name = str(getattr(unit, "value", unit) or "nm")
    return float(value) * factor.get(name, 1.0)


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


@functools.cache
def _file_mode() -> int:
    """Permissions of an ordinary new file under this process's umask.

    Read once: os.umask can only be read by setting it, which must not race with other threads.
    """
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` (bytes, or text encoded with ``encoding``) to ``path`` all at once.

    The bytes go to a temporary file in the same folder (``.<name>.<random>.part``), are flushed to
    disk, and the temporary file is renamed over ``path`` only then. Readers see the old file or the
    whole new one, never half a file; on any error (disk full, interrupted) the temporary file is
    removed, ``path`` is left as it was, and the error propagates. The folder must exist; deciding
    whether ``path`` may be replaced is the caller's business.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder must exist.
    data : bytes or str
        The content.
    encoding : str, optional
        Encoding of ``data`` when it is text.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        Any error writing, flushing or renaming (``path`` is then left as it was).
    """
    path = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())  # mkstemp creates 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

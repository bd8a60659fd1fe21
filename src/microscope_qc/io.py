"""Reading images and their acquisition metadata; writing OME-TIFF.

TIFF and OME-TIFF files are read directly with tifffile when their layout is one it reads for
certain (:mod:`microscope_qc.tiff_reader`: a lazy array that reads only the pages asked for);
every other file, and any TIFF it does not take, goes through bioio (TIFF and OME-TIFF readers
installed with this package; any other bioio plugin the user installs works too), as a dask
array. Either way the data are (C, Z, Y, X) and read lazily, and the metadata are the same.
Acquisition settings come back as :class:`MetadataValue` records that
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
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from microscope_qc.acquisition import (
    MISSING,
    AcquisitionMetadata,
    MetadataValue,
    from_ome,
)
from microscope_qc.file_check import available_memory, describe_unreadable, tiff_truncation
from microscope_qc.ome_writer import write_ome_tiff
from microscope_qc.tiff_metadata import read_settings_log, read_tiff_metadata

if TYPE_CHECKING:
    from bioio import BioImage
    from ome_types import OME

    from microscope_qc import ome_xml

__all__ = [
    "read_time_series",
    "MetadataValue",
    "AcquisitionMetadata",
    "ImageData",
    "ImageReadError",
    "read_image",
    "read_metadata",
    "scene_count",
    "write_ome_tiff",
    "sha256_file",
    "atomic_write",
]


class ImageReadError(OSError):
    """A file that cannot be opened as an image; the message names the file and the reason."""


@dataclass
class ImageData:
    """An opened image: lazy (C, Z, Y, X) data, metadata, and the file it came from."""

    #: (C, Z, Y, X): a :class:`~microscope_qc.tiff_reader.TiffStack` (TIFF fast path), a dask
    #: array (bioio) or a numpy array; ``numpy.asarray(data[c])`` reads one channel
    data: Any
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
    path = Path(path)
    if path.is_dir():  # an OME-Zarr store: every file's relative path and bytes, in name order
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(file.relative_to(path).as_posix().encode() + b"\0")
            h.update(bytes.fromhex(sha256_file(file, chunk)))
        return h.hexdigest()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


#: the dimensions of one chunk of the dask array bioio's TIFF readers give: a plane, so that an
#: analysis reads a (Z, Y, X) stack a block of planes at a time (bioio's default, Z, Y and X, makes
#: the whole channel one chunk, which every read decodes whole)
PLANE_CHUNK_DIMS = ["Y", "X"]


def _open(path: Path) -> BioImage:
    from bioio import BioImage

    if not path.exists():
        raise ImageReadError(f"{path}: no such file.")
    from microscope_qc.vendor_metadata import is_ome_zarr, missing_plugin

    if path.is_dir() and not is_ome_zarr(path):
        raise ImageReadError(f"{path}: is a folder, not an image file.")
    no_plugin = missing_plugin(path)
    if no_plugin is not None:
        raise ImageReadError(no_plugin)
    bioio_log = logging.getLogger("bioio")
    level = bioio_log.level
    # bioio logs every reader it tried before the one that worked; that is noise to a user
    bioio_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path.is_dir():  # OME-Zarr: a series folder ("0") has no ending for bioio to choose by
                from bioio_ome_zarr import Reader

                return BioImage(path, reader=Reader)
            if path.suffix.lower() in (".tif", ".tiff"):
                try:  # one dask chunk per plane (the readers' default: one per channel, read whole)
                    return BioImage(path, chunk_dims=PLANE_CHUNK_DIMS)
                except TypeError:  # a reader plugin without chunk_dims
                    pass
            return BioImage(path)
    except Exception as exc:  # bioio raises many types (UnsupportedFileFormatError, OSError...)
        if path.is_dir():
            raise ImageReadError(
                f"{path}: not an OME-Zarr image bioio-ome-zarr can read ({type(exc).__name__}: {exc})."
            ) from exc
        raise ImageReadError(describe_unreadable(path, f"{type(exc).__name__}: {exc}")) from exc
    finally:
        bioio_log.setLevel(level)


def read_image(
    path: str | Path,
    scene: int | None = None,
    timepoint: int = 0,
    *,
    reader: Literal["auto", "bioio"] = "auto",
) -> ImageData:
    """Open an image lazily as (C, Z, Y, X) with its acquisition metadata.

    Parameters
    ----------
    path
        Any file a bioio reader understands (TIFF and OME-TIFF at least; CZI, ND2, LIF and
        OME-Zarr folders with the ``[formats]`` extra).
    scene
        Scene index for multi-scene files (default: the first).
    timepoint
        Which time point of a time series to take.
    reader
        ``"auto"``: TIFF and OME-TIFF through tifffile directly when the file's layout allows
        (:mod:`microscope_qc.tiff_reader`), everything else through bioio; ``"bioio"``: always
        bioio. Both give the same pixels and metadata.

    Raises
    ------
    ImageReadError
        When the file does not exist or no reader can open it.
    """
    path = Path(path)
    path, scene = _series(path, scene)
    if reader == "auto" and path.suffix.lower() in (".tif", ".tiff") and path.is_file():
        image = _read_tiff(path, scene, timepoint)
        if image is not None:
            return image
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


def read_time_series(path: str | Path, scene: int | None = None) -> ImageData:
    """Open every time point of an image lazily as (T, C, Z, Y, X), with its acquisition metadata.

    What napari shows for a time series (the analyses read one time point at a time with
    :func:`read_image`). TIFF and OME-TIFF go through the fast path when the file's layout allows,
    everything else through bioio, as in :func:`read_image`.

    Parameters
    ----------
    path
        The image file.
    scene
        Scene index for multi-scene files (default: the first).

    Returns
    -------
    ImageData
        ``data`` is (T, C, Z, Y, X), read only where indexed; ``metadata.extra["timepoints"]``
        holds T when it is more than one.

    Raises
    ------
    ImageReadError
        When the file does not exist or no reader can open it.
    """
    path = Path(path)
    path, scene = _series(path, scene)
    if path.suffix.lower() in (".tif", ".tiff") and path.is_file():
        image = _read_tiff(path, scene, None)
        if image is not None:
            return image
    first = read_image(path, scene, reader="bioio")  # the checks and the metadata, as read_image gives them
    img = _open(path)
    if scene is not None:
        img.set_scene(scene)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = img.get_image_dask_data("TCZYX")
    return ImageData(data=data, metadata=first.metadata, path=path, dims_in_file=first.dims_in_file)


def _series(path: Path, scene: int | None) -> tuple[Path, int | None]:
    """The root of an OME-Zarr in the bioformats2raw layout opens its series ``scene`` (a folder)."""
    from microscope_qc.vendor_metadata import bioformats2raw_series, is_ome_zarr

    if not is_ome_zarr(path):
        return path, scene
    series = bioformats2raw_series(path, scene)
    return (series, None) if series != path else (path, scene)


def _lazy_pixels(
    img: BioImage, path: Path, scene: int | None, timepoint: int
) -> tuple[Any, AcquisitionMetadata, str]:
    """The (C, Z, Y, X) pixels of one scene and time point, lazily, with the metadata and the file's axis order."""
    if scene is not None:
        img.set_scene(scene)
    dims = img.dims
    if timepoint >= dims.T:
        raise ImageReadError(_no_timepoint(path, dims.T, timepoint))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = img.get_image_dask_data("CZYX", T=timepoint)
    _check_fits_in_memory(path, tuple(data.shape), np.dtype(data.dtype).itemsize)
    meta = _metadata(img, path)
    if dims.T > 1:
        meta.extra["timepoints"] = dims.T
    return data, meta, str(img.dims.order)


def _no_timepoint(path: Path, n: int, timepoint: int) -> str:
    return f"{path}: has {n} time points; time point {timepoint} does not exist."


def _read_tiff(path: Path, scene: int | None, timepoint: int | None) -> ImageData | None:
    """The TIFF fast path (:mod:`microscope_qc.tiff_reader`); None when bioio must read the file."""
    from microscope_qc.tiff_reader import TimepointError, open_tiff

    with open(path, "rb") as fh:
        if fh.read(4) not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            return None  # not a TIFF: bioio (and describe_unreadable) say what it is
    try:
        fast = open_tiff(path, scene, timepoint)
    except TimepointError as exc:
        raise ImageReadError(_no_timepoint(path, exc.n_timepoints, timepoint or 0)) from None
    if fast is None:
        return None
    truncated = tiff_truncation(path)
    if truncated is not None:
        raise ImageReadError(describe_unreadable(path, truncated))
    data = fast.data
    _check_fits_in_memory(path, data.shape[-4:], data.dtype.itemsize)
    meta = _metadata_from(
        path, fast.ome, scene or 0, tuple(data.shape[-3:]), fast.channel_names, data.dtype, "tifffile"
    )
    if fast.n_timepoints > 1:
        meta.extra["timepoints"] = fast.n_timepoints
    return ImageData(data=data, metadata=meta, path=path, dims_in_file="TCZYX")


def _check_fits_in_memory(path: Path, shape: tuple[int, ...], itemsize: int) -> None:
    """Refuse, before reading, an image whose analysis cannot fit in memory (e.g. a compressed "bomb").

    The analyses read a stack a block of planes at a time (:mod:`microscope_qc.volume`): what
    must fit is a block, the projection and a few planes' worth of working arrays, not the
    whole stack; a single huge plane is what cannot be analysed.
    """
    from microscope_qc.volume import BLOCK_BYTES

    nbytes = int(np.prod(shape, dtype=np.int64)) * itemsize
    plane = int(np.prod(shape[-2:], dtype=np.int64))
    need = min(nbytes, BLOCK_BYTES + plane * itemsize) + 8 * plane * 4  # float32 working planes
    free = available_memory()
    if free is not None and need > free:
        raise ImageReadError(
            f"{path.name} holds {nbytes / 2**30:.3g} GiB of pixels once decompressed; analysing it needs "
            f"about {need / 2**30:.3g} GiB at a time, more than the {free / 2**30:.3g} GiB of memory "
            "available; analyse a crop (save it from Fiji or napari), or use a machine with more memory."
        )


def scene_count(path: str | Path) -> int:
    """How many scenes (OME images, CZI scenes, ND2 positions, LIF images, OME-Zarr series) a file holds.

    Plain TIFFs count as one (their extra series are thumbnails or masks as often as scenes).

    Parameters
    ----------
    path : str or Path
        The file or OME-Zarr folder.

    Returns
    -------
    int
        The number of scenes (1 for a single image).

    Raises
    ------
    ImageReadError
        When the file does not exist or no reader can open it.
    """
    import tifffile

    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff") and path.is_file():
        try:
            with tifffile.TiffFile(path) as tif:
                return len(tif.series) if tif.is_ome else 1
        except Exception:  # noqa: BLE001 - a damaged file raises anything (TypeError seen); counting is best effort
            pass  # read_image says what is wrong with it
        return 1
    if path.is_dir() and (path / "OME" / "METADATA.ome.xml").is_file():  # bioformats2raw layout
        return max(1, sum(1 for p in path.iterdir() if p.is_dir() and p.name.isdigit()))
    if path.is_dir():
        return 1
    return len(_open(path).scenes)


def read_metadata(path: str | Path, scene: int | None = None) -> AcquisitionMetadata:
    """Acquisition metadata only (the pixels are not read).

    Parameters
    ----------
    path : str or Path
        Any file a bioio reader understands.
    scene : int, optional
        Scene index for multi-scene files (default: the first).

    Returns
    -------
    AcquisitionMetadata
        What the file says about the acquisition, each value with its origin.

    Raises
    ------
    ImageReadError
        When the file does not exist or no reader can open it.
    """
    path, scene = _series(Path(path), scene)
    img = _open(path)
    if scene is not None:
        img.set_scene(scene)
    return _metadata(img, path)


def _metadata(img: BioImage, path: Path) -> AcquisitionMetadata:
    from microscope_qc.vendor_metadata import CONVERTED_OME_READERS, add_vendor_metadata

    reader = type(img.reader).__module__
    plugin = reader.split(".")[0]
    ome, source = None, "OME"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = img.metadata
            if type(raw).__name__ == "OME":
                ome = raw
                if plugin in CONVERTED_OME_READERS:  # bioio-nd2 gives nd2's OME conversion as metadata
                    source = f"OME (converted by {plugin.replace('_', '-')})"
            elif plugin in CONVERTED_OME_READERS:
                # the plugin's conversion of the vendor metadata to OME: one path for every format
                ome = img.ome_metadata
                source = f"OME (converted by {plugin.replace('_', '-')})"
    except Exception:  # metadata parsing must never stop reading the pixels
        ome = None
    dims = img.dims
    names = list(img.channel_names) if img.channel_names else None
    meta = _metadata_from(
        path,
        ome,
        img.current_scene_index,
        (int(dims.Z), int(dims.Y), int(dims.X)),
        names,
        np.dtype(img.dtype),
        reader,
        source,
    )
    if plugin in CONVERTED_OME_READERS:
        if ome is None and meta.voxel_size_um.missing:
            meta.voxel_size_um = _physical_sizes(img, plugin)
        add_vendor_metadata(meta, img, plugin, path)
    return meta


def _physical_sizes(img: BioImage, plugin: str) -> MetadataValue:
    """The reader's physical pixel sizes (µm), for a file whose OME conversion failed."""
    try:
        sizes = img.physical_pixel_sizes
    except Exception:  # noqa: BLE001 (a reader without sizes)
        return MISSING
    zyx = tuple(float(v) if v else None for v in (sizes.Z, sizes.Y, sizes.X))
    if all(v is None for v in zyx):
        return MISSING
    return MetadataValue(zyx, f"{plugin.replace('_', '-')}: physical_pixel_sizes")


def _metadata_from(
    path: Path,
    ome: OME | ome_xml.OME | None,
    scene: int,
    zyx: tuple[int, ...],
    channel_names: list[str] | None,
    dtype: np.dtype[Any],
    reader: str,
    source: str = "OME",
) -> AcquisitionMetadata:
    """The metadata of either reading path, from the OME-XML or else the TIFF tags and log."""
    meta = AcquisitionMetadata()
    if ome is not None:
        _from_ome(meta, ome, scene, source)
    else:
        _from_tiff(meta, path, (int(zyx[0]), int(zyx[1]), int(zyx[2])))
    names = channel_names
    if names and meta.channel_names.missing:
        generic = all(n.startswith("Channel:") for n in names)
        meta.channel_names = MetadataValue(names, None if generic else f"{reader}: channel names")
    if meta.bit_depth.missing and dtype.kind in "ui":
        meta.bit_depth = MetadataValue(int(dtype.itemsize * 8), "pixel type")
    return meta


def _from_ome(meta: AcquisitionMetadata, ome: Any, scene: int, source: str = "OME") -> None:
    """Fill ``meta`` from OME metadata (:func:`microscope_qc.acquisition.from_ome`)."""
    from_ome(meta, ome, scene, source)


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

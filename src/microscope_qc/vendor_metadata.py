"""Vendor formats read through bioio's plugins, and the vendor metadata their OME conversion loses.

The CZI (Zeiss), ND2 (Nikon), LIF (Leica) and OME-Zarr readers are bioio plugins installed with
the ``[formats]`` extra. Their metadata is read from ``BioImage.ome_metadata`` like any OME file
(:func:`microscope_qc.acquisition.from_ome`); what the conversion drops and the QC needs is
read here from the vendor's own metadata, each value naming its vendor metadata path:

* CZI (``bioio-czi``'s CZI-to-OME transform keeps objective, wavelengths, voxel size, date and the
  microscope's serial number, but drops the pinhole, the detector type and gain and the laser
  power): ``Information/Image/Dimensions/Channels/Channel/PinholeSizeAiry`` (the pinhole in
  Airy units as ZEN computed it), ``.../PinholeSize`` (µm), ``.../DetectorSettings/Gain``, the
  referenced ``Information/Instrument/Detectors/Detector/Type``, and the referenced
  ``Information/Instrument/LightSources/LightSource/LightSourceType/Laser/Power``.
* LIF (``bioio-lif`` converts nothing to OME): the image's Leica XML, read through ``liffile``
  (the library ``bioio-lif`` reads with), mapped by :mod:`microscope_qc.lif_metadata`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.acquisition import AcquisitionMetadata, MetadataValue

if TYPE_CHECKING:
    from bioio import BioImage

__all__ = [
    "FORMAT_PLUGINS",
    "CONVERTED_OME_READERS",
    "FORMATS_EXTRA",
    "missing_plugin",
    "add_vendor_metadata",
    "is_ome_zarr",
]

#: how to install every reader plugin at once
FORMATS_EXTRA = 'pip install "napari-microscope-qc[formats]"'

#: file ending -> (format, the bioio plugin's distribution, its module)
FORMAT_PLUGINS: dict[str, tuple[str, str, str]] = {
    ".czi": ("Zeiss CZI", "bioio-czi", "bioio_czi"),
    ".nd2": ("Nikon ND2", "bioio-nd2", "bioio_nd2"),
    ".lif": ("Leica LIF", "bioio-lif", "bioio_lif"),
    ".zarr": ("OME-Zarr", "bioio-ome-zarr", "bioio_ome_zarr"),
}

#: bioio readers whose ``ome_metadata`` is read (their ``metadata`` is the vendor's own)
CONVERTED_OME_READERS = frozenset(module for _, _, module in FORMAT_PLUGINS.values())


def is_ome_zarr(path: Path) -> bool:
    """True for a folder that is a Zarr store (``.zarr`` ending, or Zarr metadata at its top).

    Parameters
    ----------
    path : Path
        A file or folder.

    Returns
    -------
    bool
        Whether to read it as OME-Zarr.
    """
    if not path.is_dir():
        return False
    return path.suffix.lower() == ".zarr" or any(
        (path / name).is_file() for name in ("zarr.json", ".zattrs", ".zgroup")
    )


def missing_plugin(path: Path) -> str | None:
    """The message for a vendor file whose bioio reader plugin is not installed, or None.

    Parameters
    ----------
    path : Path
        The file (or OME-Zarr folder) to read.

    Returns
    -------
    str or None
        What to install, naming the extra and the plugin; None when the plugin is there or the
        file is not one of :data:`FORMAT_PLUGINS`.
    """
    suffix = ".zarr" if is_ome_zarr(path) else path.suffix.lower()
    if suffix not in FORMAT_PLUGINS:
        return None
    fmt, dist, module = FORMAT_PLUGINS[suffix]
    if importlib.util.find_spec(module) is not None:
        return None
    return (
        f"{path.name}: reading {fmt} files needs the bioio reader plugin {dist}, which is not installed. "
        f"Install the optional readers with {FORMATS_EXTRA} (or only this one: pip install {dist}), "
        "or export the image as OME-TIFF."
    )


def ngff_ome_xml(path: Path) -> tuple[Path, int] | None:
    """The OME-XML beside an OME-Zarr image in the bioformats2raw layout, and the image's series.

    ``bioformats2raw`` (and other converters following OME-NGFF's "bioformats2raw.layout") keep the
    vendor file's whole OME-XML in ``<root>/OME/METADATA.ome.xml`` with one image per series
    folder ``<root>/0``, ``<root>/1``, ...

    Parameters
    ----------
    path : Path
        The OME-Zarr image folder (a series folder or the root).

    Returns
    -------
    tuple of (Path, int) or None
        The XML file and the series (its ``Image`` index), or None without one.
    """
    for root, series in ((path, 0), (path.parent, int(path.name) if path.name.isdigit() else 0)):
        xml = root / "OME" / "METADATA.ome.xml"
        if xml.is_file():
            return xml, series
    return None


def bioformats2raw_series(path: Path, scene: int | None) -> Path:
    """The series folder to open for the root of a bioformats2raw layout (else ``path`` itself).

    Parameters
    ----------
    path : Path
        What the user gave.
    scene : int or None
        The series asked for (None: the first).

    Returns
    -------
    Path
        ``path/<scene>`` for a layout root holding that series, else ``path``.
    """
    if (path / "OME" / "METADATA.ome.xml").is_file() and (path / str(scene or 0)).is_dir():
        return path / str(scene or 0)
    return path


def add_vendor_metadata(meta: AcquisitionMetadata, img: BioImage, plugin: str, path: Path) -> None:
    """Add what the vendor metadata records and the OME conversion lost (in place).

    Parameters
    ----------
    meta : AcquisitionMetadata
        The metadata read from ``img.ome_metadata``; filled in place.
    img : bioio.BioImage
        The opened file.
    plugin : str
        The reader's module (``bioio_czi``, ...).
    path : Path
        The file or OME-Zarr folder.
    """
    if plugin == "bioio_ome_zarr":
        _ngff(meta, path)
        return
    if plugin == "bioio_lif":
        _lif(meta, img, path)
        return
    if plugin != "bioio_czi":
        return
    try:
        root = img.metadata
        _czi(meta, root)
    except Exception:  # noqa: BLE001 (vendor metadata must never stop reading the pixels)
        return


def _ngff(meta: AcquisitionMetadata, path: Path) -> None:
    """OME-Zarr: the converter's OME-XML (``OME/METADATA.ome.xml``) fills what NGFF does not hold."""
    from microscope_qc.acquisition import from_ome
    from microscope_qc.ome_xml import OMEParseError, parse_ome

    found = ngff_ome_xml(path)
    if found is None:
        return
    xml, series = found
    try:
        ome = parse_ome(xml.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, OMEParseError):
        return
    extra = AcquisitionMetadata()
    from_ome(extra, ome, series, f"OME-Zarr {xml.parent.name}/{xml.name}")
    for name, value in vars(extra).items():
        if isinstance(value, MetadataValue) and not value.missing and getattr(meta, name).missing:
            setattr(meta, name, value)


def _lif(meta: AcquisitionMetadata, img: BioImage, path: Path) -> None:
    """LIF: the scene's Leica XML (``liffile``'s ``LifImage.xml_element``, the image bioio-lif reads)."""
    from liffile import LifFile

    from microscope_qc.lif_metadata import fill_from_lif_xml

    try:
        with LifFile(path) as lif:
            element = lif.images[img.current_scene_index].xml_element
        fill_from_lif_xml(meta, element, int(img.dims.C))
    except Exception:  # noqa: BLE001 (vendor metadata must never stop reading the pixels)
        return


def _text(element: Any, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return str(found.text.strip())


def _number(element: Any, path: str) -> float | None:
    text = _text(element, path)
    if text is None:
        return None
    try:
        return float(text.split()[0])
    except ValueError:
        return None


def _per_channel(values: list[Any]) -> list[Any] | None:
    return values if any(v is not None for v in values) else None


_ZEN_CHANNELS = "Metadata/Information/Image/Dimensions/Channels/Channel"
_ZEN_INSTRUMENT = "Metadata/Information/Instrument"


def _czi(meta: AcquisitionMetadata, root: Any) -> None:
    """ZEN's channel and instrument settings (``root`` is the CZI's metadata XML)."""
    if root.tag != "ImageDocument":
        inner = root.find(".//ImageDocument")
        root = inner if inner is not None else root
    channels = root.findall(_ZEN_CHANNELS)
    if not channels:
        return
    detectors = {d.get("Id"): d for d in root.findall(f"{_ZEN_INSTRUMENT}/Detectors/Detector")}
    sources = {s.get("Id"): s for s in root.findall(f"{_ZEN_INSTRUMENT}/LightSources/LightSource")}
    zen = "CZI " + _ZEN_CHANNELS.removeprefix("Metadata/")
    airy = [_number(c, "PinholeSizeAiry") for c in channels]
    first = next((i for i, v in enumerate(airy) if v is not None), None)
    if first is not None:
        meta.pinhole_au = MetadataValue(airy[first], f"{zen}/PinholeSizeAiry (channel {first})")
    pinhole = _per_channel([_number(c, "PinholeSize") for c in channels])
    if pinhole and meta.pinhole_um.missing:
        meta.pinhole_um = MetadataValue(pinhole, f"{zen}/PinholeSize")
    gains = _per_channel([_number(c, "DetectorSettings/Gain") for c in channels])
    if gains and meta.detector_gain.missing:
        meta.detector_gain = MetadataValue(gains, f"{zen}/DetectorSettings/Gain")
    refs = [c.find("DetectorSettings/Detector") for c in channels]
    types = _per_channel(
        [
            _text(detectors[r.get("Id")], "Type") if r is not None and r.get("Id") in detectors else None
            for r in refs
        ]
    )
    if types and meta.detector_type.missing:
        meta.detector_type = MetadataValue(
            types, f"CZI {_ZEN_INSTRUMENT.removeprefix('Metadata/')}/Detectors/Detector/Type"
        )
    powers: list[float | None] = []
    attenuation: list[float | None] = []
    for c in channels:
        ref = c.find("LightSourcesSettings/LightSourceSettings/LightSource")
        source = sources.get(ref.get("Id")) if ref is not None else None
        powers.append(_number(source, "LightSourceType/Laser/Power") if source is not None else None)
        attenuation.append(_number(c, "LightSourcesSettings/LightSourceSettings/Attenuation"))
    if _per_channel(powers) and meta.laser_power_mw.missing:
        meta.laser_power_mw = MetadataValue(
            powers,
            f"CZI {_ZEN_INSTRUMENT.removeprefix('Metadata/')}/LightSources/LightSource/LightSourceType/Laser/Power",
        )
    if _per_channel(attenuation) and meta.light_attenuation.missing:
        meta.light_attenuation = MetadataValue(
            attenuation, f"{zen}/LightSourcesSettings/LightSourceSettings/Attenuation"
        )
    name = root.find(f"{_ZEN_INSTRUMENT}/Objectives/Objective")
    if name is not None and name.get("Name") and meta.objective_name.missing:
        meta.objective_name = MetadataValue(
            name.get("Name"), f"CZI {_ZEN_INSTRUMENT.removeprefix('Metadata/')}/Objectives/Objective@Name"
        )

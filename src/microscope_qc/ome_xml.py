"""The few OME-XML values the QC reads, parsed with the standard library.

``ome-types`` builds the whole OME model and takes about a second to import; the TIFF fast path
(:mod:`microscope_qc.tiff_reader`) needs a dozen values. :func:`parse_ome` returns them as light
objects with the attribute names of ``ome_types.OME``, so that :func:`microscope_qc.io._from_ome`
reads both alike and every value keeps the origin it has always been reported with.

Values ``ome-types`` would refuse (a non-positive physical size or wavelength, a value that is
not a number, an unparsable date) make :func:`parse_ome` raise :class:`OMEParseError`; the reader
then falls back to bioio, which does what it has always done with such a file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "OMEParseError",
    "parse_ome",
    "OME",
    "Image",
    "Pixels",
    "Channel",
    "ObjectiveSettings",
    "Instrument",
]


class OMEParseError(ValueError):
    """OME-XML that the fast path does not read (bioio reads the file instead)."""


@dataclass(frozen=True)
class Ref:
    """A channel's ``DetectorSettings`` or ``LightSourceSettings``: the element it refers to and its values."""

    id: str
    gain: float | None = None
    attenuation: float | None = None


@dataclass(frozen=True)
class Channel:
    """An OME ``Channel``: what :func:`microscope_qc.acquisition.from_ome` reads of it."""

    id: str | None
    name: str | None
    excitation_wavelength: float | None
    excitation_wavelength_unit: str | None
    emission_wavelength: float | None
    emission_wavelength_unit: str | None
    acquisition_mode: str | None
    samples_per_pixel: int | None
    pinhole_size: float | None = None
    pinhole_size_unit: str | None = None
    detector_settings: Ref | None = None
    light_source_settings: Ref | None = None


@dataclass(frozen=True)
class Pixels:
    """An OME ``Pixels`` element: physical sizes with their units, channels, significant bits."""

    physical_size_x: float | None
    physical_size_x_unit: str | None
    physical_size_y: float | None
    physical_size_y_unit: str | None
    physical_size_z: float | None
    physical_size_z_unit: str | None
    significant_bits: int | None
    channels: list[Channel] = field(default_factory=list)


@dataclass(frozen=True)
class ObjectiveSettings:
    """An image's ``ObjectiveSettings``: the objective it refers to and the medium's index."""

    id: str
    refractive_index: float | None


@dataclass(frozen=True)
class Image:
    """An OME ``Image``."""

    pixels: Pixels
    objective_settings: ObjectiveSettings | None
    acquisition_date: datetime | None


@dataclass(frozen=True)
class Objective:
    """An ``Instrument/Objective``."""

    id: str
    lens_na: float | None
    immersion: str | None
    model: str | None = None
    nominal_magnification: float | None = None


@dataclass(frozen=True)
class Microscope:
    """An ``Instrument/Microscope``."""

    manufacturer: str | None
    model: str | None
    serial_number: str | None


@dataclass(frozen=True)
class Detector:
    """An ``Instrument/Detector``."""

    id: str
    type: str | None
    gain: float | None


@dataclass(frozen=True)
class Laser:
    """An ``Instrument/Laser``."""

    id: str
    power: float | None
    power_unit: str | None


@dataclass(frozen=True)
class Instrument:
    """An OME ``Instrument``: microscope, objectives, detectors, lasers."""

    objectives: list[Objective]
    microscope: Microscope | None = None
    detectors: list[Detector] = field(default_factory=list)
    lasers: list[Laser] = field(default_factory=list)


@dataclass(frozen=True)
class OME:
    """The parsed document: images and instruments."""

    images: list[Image]
    instruments: list[Instrument]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in element if _local(e.tag) == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _float(element: ET.Element, name: str, positive: bool = False) -> float | None:
    text = element.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise OMEParseError(f"{_local(element.tag)}.{name}={text!r} is not a number") from None
    if positive and not value > 0:
        raise OMEParseError(f"{_local(element.tag)}.{name}={text!r} is not positive")
    return value


def _int(element: ET.Element, name: str) -> int | None:
    text = element.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise OMEParseError(f"{_local(element.tag)}.{name}={text!r} is not a whole number") from None
    if value < 1:
        raise OMEParseError(f"{_local(element.tag)}.{name}={text!r} is not positive")
    return value


def _date(text: str | None) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise OMEParseError(f"AcquisitionDate {text!r} is not an ISO 8601 date") from None


def _ref(e: ET.Element, name: str) -> Ref | None:
    found = _child(e, name)
    if found is None or not found.get("ID"):
        return None
    return Ref(str(found.get("ID")), _float(found, "Gain"), _float(found, "Attenuation"))


def _channel(e: ET.Element) -> Channel:
    return Channel(
        id=e.get("ID"),
        name=e.get("Name"),
        excitation_wavelength=_float(e, "ExcitationWavelength", positive=True),
        excitation_wavelength_unit=e.get("ExcitationWavelengthUnit"),
        emission_wavelength=_float(e, "EmissionWavelength", positive=True),
        emission_wavelength_unit=e.get("EmissionWavelengthUnit"),
        acquisition_mode=e.get("AcquisitionMode"),
        samples_per_pixel=_int(e, "SamplesPerPixel"),
        pinhole_size=_float(e, "PinholeSize", positive=True),
        pinhole_size_unit=e.get("PinholeSizeUnit"),
        detector_settings=_ref(e, "DetectorSettings"),
        light_source_settings=_ref(e, "LightSourceSettings"),
    )


def _image(e: ET.Element) -> Image:
    px = _child(e, "Pixels")
    if px is None:
        raise OMEParseError("an Image has no Pixels")
    pixels = Pixels(
        physical_size_x=_float(px, "PhysicalSizeX", positive=True),
        physical_size_x_unit=px.get("PhysicalSizeXUnit"),
        physical_size_y=_float(px, "PhysicalSizeY", positive=True),
        physical_size_y_unit=px.get("PhysicalSizeYUnit"),
        physical_size_z=_float(px, "PhysicalSizeZ", positive=True),
        physical_size_z_unit=px.get("PhysicalSizeZUnit"),
        significant_bits=_int(px, "SignificantBits"),
        channels=[_channel(c) for c in _children(px, "Channel")],
    )
    settings = _child(e, "ObjectiveSettings")
    objective = None
    if settings is not None:
        objective = ObjectiveSettings(settings.get("ID", ""), _float(settings, "RefractiveIndex"))
    date = _child(e, "AcquisitionDate")
    return Image(pixels, objective, _date(date.text if date is not None else None))


def _instrument(inst: ET.Element) -> Instrument:
    scope = _child(inst, "Microscope")
    return Instrument(
        [
            Objective(
                o.get("ID", ""),
                _float(o, "LensNA"),
                o.get("Immersion"),
                o.get("Model"),
                _float(o, "NominalMagnification"),
            )
            for o in _children(inst, "Objective")
        ],
        Microscope(scope.get("Manufacturer"), scope.get("Model"), scope.get("SerialNumber"))
        if scope is not None
        else None,
        [Detector(d.get("ID", ""), d.get("Type"), _float(d, "Gain")) for d in _children(inst, "Detector")],
        [
            Laser(las.get("ID", ""), _float(las, "Power"), las.get("PowerUnit"))
            for las in _children(inst, "Laser")
        ],
    )


def parse_ome(xml: str) -> OME:
    """Parse the values the QC reads from an OME-XML document.

    Parameters
    ----------
    xml : str
        The OME-XML (e.g. a TIFF's first ImageDescription), any schema version.

    Returns
    -------
    OME
        Images (pixels, channels, objective settings, acquisition date) and instruments
        (objectives), with ``ome_types``' attribute names.

    Raises
    ------
    OMEParseError
        If the document is not OME-XML or holds a value ``ome-types`` would not accept.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise OMEParseError(f"not XML: {exc}") from None
    if _local(root.tag) != "OME":
        raise OMEParseError(f"the root element is {_local(root.tag)}, not OME")
    images = [_image(e) for e in _children(root, "Image")]
    if not images:
        raise OMEParseError("no Image")
    instruments = [_instrument(inst) for inst in _children(root, "Instrument")]
    return OME(images, instruments)

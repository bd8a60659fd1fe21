"""Leica LIF: the acquisition settings LAS X records in each image's XML.

``bioio-lif`` converts nothing to OME: it gives the voxel size and channel names only. LAS X keeps
the settings in the image's XML element (``liffile``'s ``LifImage.xml_element``), under
``Data/Image/Attachment[@Name="HardwareSetting"]`` (SP8, STELLARIS, THUNDER, ...; older SP5 files:
``Attachment[@Name="HardwareSettingList"]/HardwareSetting``). A confocal scan has an
``ATLConfocalSettingDefinition``, a camera acquisition an ``ATLCameraSettingDefinition``; a
sequential scan adds one such setting per sequence under
``LDM_Block_Sequential/LDM_Block_Sequential_List`` (``LDM_Block_Widefield_Sequential`` for a camera).

What is read, each value with its XML path as origin (``LIF XML <setting>@<attribute>``); anything
the XML does not hold stays missing:

* objective: ``NumericalAperture``, ``ObjectiveName``, ``Magnification``, ``RefractionIndex`` (else
  the nominal index of ``Immersion``, else of the immersion the objective's name ends with);
* pinhole: ``Pinhole`` (metres, as LAS X writes it; a value with a unit is converted from it) and
  ``PinholeAiry`` (Airy units, as LAS X computed them);
* per channel (confocal): the active detectors (``DetectorList/Detector[@IsActive="1"]``, in order,
  one image channel each, sequence after sequence) give ``Type`` and ``Gain``; the detection band is
  the ``Spectro/MultiBand`` of the detector's ``Channel`` (``LeftWorld``–``RightWorld``, nm), its
  midpoint the emission wavelength; the excitation is the detector's
  ``DetectionReferenceLine@LaserWavelength`` (STELLARIS), else the only active laser line of its
  sequence, else the longest active line below the band (active: ``AotfList/Aotf/LaserLineSetting``
  with ``IntensityDev`` > 0, the AOTF transmission in %, kept as ``extra["laser_intensity_percent"]``).
  These are assigned only when there are as many active detectors as image channels;
* per channel (camera): ``WideFieldChannelInfo@EmissionWavelength`` / ``@ExcitationWavelength``;
  the camera's name (``WideFieldChannelConfigurator@CameraName``) as ``extra["camera_model"]``;
* modality: ``confocal`` for an ``ATLConfocalSettingDefinition``, ``widefield`` for an
  ``ATLCameraSettingDefinition``;
* microscope: the hardware setting's ``SystemTypeName`` and the stand's ``MicroscopeModel``;
  serial number: ``SystemSerialNumber``; acquisition date: the first ``Image/TimeStampList``
  entry (Windows FILETIME, UTC); significant bits: ``ChannelDescription@Resolution``.

LAS X records the AOTF setting, not the laser power in mW: ``laser_power_mw`` stays missing.
Qt-free and independent of bioio: the mapping works on any ``xml.etree`` element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from microscope_qc.acquisition import (
    IMMERSION_INDEX,
    AcquisitionMetadata,
    MetadataValue,
    fill_pinhole_au,
    to_um,
)

__all__ = ["LIF", "fill_from_lif_xml", "leica_immersion", "filetime_to_iso"]

#: how every origin read from Leica's XML starts
LIF = "LIF XML"

#: Leica's immersion names (``Immersion``, and the last word of ``ObjectiveName``) -> OME medium
_LEICA_IMMERSION = {
    "oil": "oil",
    "water": "water",
    "w": "water",
    "glyc": "glycerol",
    "glycerol": "glycerol",
    "glycerin": "glycerol",
    "dry": "air",
    "air": "air",
    "sil": "silicone",
    "silicone": "silicone",
    "imm": "multi",
}

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d].*)?$")
_SEQUENTIAL = {
    "ATLConfocalSettingDefinition": "LDM_Block_Sequential",
    "ATLCameraSettingDefinition": "LDM_Block_Widefield_Sequential",
}


def leica_immersion(name: str | None) -> str | None:
    """The OME immersion medium (a key of :data:`~microscope_qc.acquisition.IMMERSION_INDEX`) of a Leica name.

    Parameters
    ----------
    name : str or None
        ``OIL``, ``WATER``, ``GLYC``, ``DRY``, ``SIL``, ``IMM`` (any case), or None.

    Returns
    -------
    str or None
        ``"oil"``, ``"water"``, ``"glycerol"``, ``"air"``, ``"silicone"``, ``"multi"``; None when unknown.
    """
    if not name:
        return None
    return _LEICA_IMMERSION.get(name.strip().lower())


def filetime_to_iso(ticks: int) -> str:
    """A Windows FILETIME (100 ns since 1601-01-01 UTC), as LAS X writes time stamps, in ISO 8601.

    Parameters
    ----------
    ticks : int
        The FILETIME.

    Returns
    -------
    str
        The UTC date and time to the second, e.g. ``"2024-03-05T10:11:12+00:00"``.
    """
    moment = datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 10)
    return moment.isoformat(timespec="seconds")


def _number(element: Any, name: str) -> tuple[float, str | None] | None:
    """An attribute's number and its unit (None when the attribute holds none), or None."""
    text = element.get(name) if element is not None else None
    if text is None:
        return None
    match = _NUMBER.match(text)
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "").strip() or None
    return value, unit


def _value(element: Any, name: str) -> float | None:
    found = _number(element, name)
    return found[0] if found is not None else None


def _text(element: Any, name: str) -> str | None:
    text = element.get(name) if element is not None else None
    return text.strip() if text and text.strip() else None


@dataclass
class _Setting:
    """One ATL setting element and its path below the hardware setting."""

    element: Any
    path: str


@dataclass
class _Channel:
    """What the XML says about one image channel (its active detector, band and laser line)."""

    detector_type: str | None = None
    gain: float | None = None
    band: tuple[float, float] | None = None
    excitation: float | None = None
    excitation_rule: str = ""
    intensity: float | None = None
    emission: float | None = None
    pinhole_um: float | None = None


def _hardware(image: Any) -> Any:
    """The hardware setting element (new layout first), or None."""
    for attachment in image.findall("Attachment"):
        if attachment.get("Name") == "HardwareSetting":
            return attachment
    for attachment in image.findall("Attachment"):
        if attachment.get("Name") == "HardwareSettingList" and attachment.find("HardwareSetting") is not None:
            return attachment.find("HardwareSetting")
    return None


def _settings(hw: Any) -> tuple[str, _Setting, list[_Setting]] | None:
    """(tag, main setting, sequential settings) of the confocal or else the camera acquisition."""
    for tag, block in _SEQUENTIAL.items():
        main = hw.find(tag)
        path = tag
        if main is None:
            path = f"{block}/LDM_Block_Sequential_Master/{tag}"
            main = hw.find(path)
        sequence = hw.findall(f"{block}/LDM_Block_Sequential_List/{tag}")
        if main is None and sequence:
            main, path = sequence[0], f"{block}/LDM_Block_Sequential_List/{tag}[1]"
        if main is None:
            continue
        listed = [
            _Setting(s, f"{block}/LDM_Block_Sequential_List/{tag}[{i + 1}]") for i, s in enumerate(sequence)
        ]
        return tag, _Setting(main, path), listed
    return None


def _first(settings: list[_Setting], name: str) -> tuple[Any, str] | None:
    """The first setting holding attribute ``name``, and the origin naming it."""
    for s in settings:
        if _text(s.element, name) is not None:
            return s.element, f"{LIF} {s.path}@{name}"
    return None


def _pinhole_um(element: Any) -> float | None:
    found = _number(element, "Pinhole")
    if found is None:
        return None
    value, unit = found
    unit = (unit or "m").replace("um", "µm")
    if unit not in ("m", "mm", "µm", "nm"):  # not a length: nothing is read
        return None
    return to_um(value, unit)


def _active_lines(setting: Any) -> list[tuple[float, float]]:
    """(wavelength nm, IntensityDev %) of the laser lines the AOTFs let through."""
    lines = []
    for line in setting.findall("AotfList/Aotf/LaserLineSetting"):
        wavelength, intensity = _value(line, "LaserLine"), _value(line, "IntensityDev")
        if wavelength and intensity is not None and intensity > 0:
            lines.append((wavelength, intensity))
    return lines


def _confocal_channels(main: _Setting, sequence: list[_Setting]) -> list[_Channel]:
    """One record per active detector, sequence after sequence (the image's channel order)."""
    channels = []
    for s in sequence or [main]:
        spectro = s.element.find("Spectro")
        if spectro is None:  # STELLARIS keeps the detection bands in the main setting only
            spectro = main.element.find("Spectro")
        bands = {}
        for band in spectro.findall("MultiBand") if spectro is not None else []:
            lo, hi = _value(band, "LeftWorld"), _value(band, "RightWorld")
            if lo is not None and hi is not None and hi > lo:
                bands[band.get("Channel")] = (lo, hi)
        lines = _active_lines(s.element)
        for det in s.element.findall("DetectorList/Detector"):
            if det.get("IsActive") != "1":
                continue
            ch = _Channel(_text(det, "Type"), _value(det, "Gain"), bands.get(det.get("Channel")))
            ch.emission = (ch.band[0] + ch.band[1]) / 2 if ch.band else None
            reference = _value(det.find("DetectionReferenceLine"), "LaserWavelength")
            if reference:
                ch.excitation, ch.excitation_rule = reference, "DetectionReferenceLine@LaserWavelength"
            elif len(lines) == 1:
                ch.excitation, ch.excitation_rule = lines[0][0], "the only active line"
            elif ch.band is not None:
                below = [w for w, _ in lines if w < ch.band[0]]
                if below:
                    ch.excitation = max(below)
                    ch.excitation_rule = "the longest active line below the detection band"
            ch.intensity = next((i for w, i in lines if w == ch.excitation), None)
            ch.pinhole_um = _pinhole_um(s.element)
            if ch.pinhole_um is None:
                ch.pinhole_um = _pinhole_um(main.element)
            channels.append(ch)
    return channels


def _camera_channels(main: _Setting, sequence: list[_Setting]) -> tuple[list[Any], str]:
    """The WideFieldChannelInfo elements, one per channel, and their path."""
    info = "WideFieldChannelConfigurator/WideFieldChannelInfo"
    if sequence:
        found = [s.element.find(info) for s in sequence]
        listed = "LDM_Block_Widefield_Sequential/LDM_Block_Sequential_List/ATLCameraSettingDefinition"
        return [f for f in found if f is not None], f"{listed}/{info}"
    infos = main.element.findall(info)
    if not any(i.get("Active") == "0" for i in infos):
        return infos, f"{main.path}/{info}"
    return [i for i in infos if i.get("Active") != "0"], f'{main.path}/{info}[@Active="1"]'


def fill_from_lif_xml(meta: AcquisitionMetadata, element: Any, n_channels: int | None = None) -> None:
    """Fill ``meta`` from one LIF image's XML (in place; values already there are kept).

    Parameters
    ----------
    meta : AcquisitionMetadata
        Filled in place: only fields still missing are set (and a bit depth taken from the pixel type).
    element : xml.etree.ElementTree.Element
        The image's ``Element`` (``liffile.LifImage.xml_element``), or its ``Data/Image``.
    n_channels : int, optional
        The image's channel count; per-channel values are assigned only when the XML's active
        detectors (camera channels) are as many. None: the XML's ``ChannelDescription`` count.
    """
    image = element if element.tag == "Image" else element.find("Data/Image")
    if image is None:
        return
    described = image.findall("ImageDescription/Channels/ChannelDescription")
    n = n_channels if n_channels is not None else len(described)
    _bits(meta, described)
    _date(meta, image)
    hw = _hardware(image)
    if hw is None:
        return
    settings = _settings(hw)
    if settings is None:
        return
    tag, main, sequence = settings
    _set(
        meta,
        "modality",
        "confocal" if tag == "ATLConfocalSettingDefinition" else "widefield",
        f"{LIF} {main.path} ({'a confocal scan' if tag.startswith('ATLConfocal') else 'a camera acquisition'})",
    )
    every = [main, *sequence]
    _objective(meta, every)
    _microscope(meta, hw, every)
    if tag == "ATLConfocalSettingDefinition":
        _confocal(meta, main, sequence, every, n)
    else:
        _camera(meta, main, sequence, n)
    fill_pinhole_au(meta)


def _set(meta: AcquisitionMetadata, name: str, value: Any, origin: str) -> None:
    if value is not None and getattr(meta, name).missing:
        setattr(meta, name, MetadataValue(value, origin))


def _bits(meta: AcquisitionMetadata, described: list[Any]) -> None:
    bits = [_value(c, "Resolution") for c in described]
    if bits and bits[0] and (meta.bit_depth.missing or meta.bit_depth.origin == "pixel type"):
        meta.bit_depth = MetadataValue(
            int(bits[0]), f"{LIF} ImageDescription/Channels/ChannelDescription@Resolution"
        )


def _date(meta: AcquisitionMetadata, image: Any) -> None:
    stamps = image.find("TimeStampList")
    if stamps is None:
        return
    ticks: int | None = None
    old = stamps.find("TimeStamp")
    try:
        if old is not None:  # LAS AF before 3.1: HighInteger / LowInteger elements
            ticks = (int(old.get("HighInteger")) << 32) + int(old.get("LowInteger"))
        elif stamps.text and stamps.text.split():
            ticks = int(stamps.text.split()[0], 16)
    except (TypeError, ValueError):
        return
    if ticks:
        _set(
            meta, "acquisition_date", filetime_to_iso(ticks), f"{LIF} Image/TimeStampList (first time stamp)"
        )


def _objective(meta: AcquisitionMetadata, every: list[_Setting]) -> None:
    for name, field, cast in (
        ("NumericalAperture", "na", float),
        ("Magnification", "objective_magnification", float),
    ):
        found = _first(every, name)
        value = _value(found[0], name) if found else None
        if found and value:
            _set(meta, field, cast(value), found[1])
    found = _first(every, "ObjectiveName")
    objective = " ".join(str(_text(found[0], "ObjectiveName")).split()) if found else None
    if found:
        _set(meta, "objective_name", objective, found[1])
    found = _first(every, "RefractionIndex")
    index = _value(found[0], "RefractionIndex") if found else None
    if found and index and index >= 1.0:
        _set(meta, "immersion_index", index, found[1])
        return
    medium, origin = None, ""
    found = _first(every, "Immersion")
    if found:
        medium = leica_immersion(_text(found[0], "Immersion"))
        origin = f"{found[1]}={_text(found[0], 'Immersion')}"
    if medium is None and objective:
        medium = leica_immersion(objective.split()[-1])
        origin = f"{LIF} {every[0].path}@ObjectiveName ending {objective.split()[-1]}"
    nominal = IMMERSION_INDEX.get(medium) if medium else None
    if nominal:
        _set(meta, "immersion_index", nominal, f"{origin} (nominal index of {medium})")


def _microscope(meta: AcquisitionMetadata, hw: Any, every: list[_Setting]) -> None:
    system = _text(hw, "SystemTypeName")
    stand = _first(every, "MicroscopeModel")
    stand_name = _text(stand[0], "MicroscopeModel") if stand else None
    parts = []
    if system:
        parts.append((system, "HardwareSetting@SystemTypeName"))
    if stand and stand_name and stand_name != "0":  # "0": no stand recorded
        parts.append((stand_name, stand[1].removeprefix(f"{LIF} ")))
    if parts:
        _set(meta, "microscope", ", ".join(v for v, _ in parts), f"{LIF} " + "; ".join(o for _, o in parts))
    serial = _first(every, "SystemSerialNumber")
    if serial:
        _set(meta, "microscope_serial", _text(serial[0], "SystemSerialNumber"), serial[1])


def _confocal(
    meta: AcquisitionMetadata, main: _Setting, sequence: list[_Setting], every: list[_Setting], n: int
) -> None:
    airy = _first(every, "PinholeAiry")
    if airy:
        value = _value(airy[0], "PinholeAiry")
        if value:
            _set(meta, "pinhole_au", value, airy[1])
    channels = _confocal_channels(main, sequence)
    if not channels or len(channels) != n:
        pinhole = _pinhole_um(main.element)
        if pinhole is not None:  # one pinhole for the whole image, whichever detector is which channel
            _set(meta, "pinhole_um", [pinhole] * n, f"{LIF} {main.path}@Pinhole (m)")
        return
    where = "sequential settings" if sequence else main.path
    detectors = f'{LIF} {where}/DetectorList/Detector[@IsActive="1"]'
    per: dict[str, tuple[list[Any], str]] = {
        "detector_type": ([c.detector_type for c in channels], f"{detectors}@Type"),
        "detector_gain": ([c.gain for c in channels], f"{detectors}@Gain"),
        "wavelength_em_nm": (
            [c.emission for c in channels],
            f"{LIF} {where}/Spectro/MultiBand@LeftWorld, RightWorld (midpoint of the detection band)",
        ),
        "wavelength_ex_nm": (
            [c.excitation for c in channels],
            f"{LIF} {where}/AotfList/Aotf/LaserLineSetting@LaserLine with IntensityDev > 0 "
            f"({'; '.join(sorted({c.excitation_rule for c in channels if c.excitation_rule}))})",
        ),
        "pinhole_um": (
            [c.pinhole_um for c in channels],
            f"{LIF} {where}@Pinhole (m)",
        ),
    }
    for name, (values, origin) in per.items():
        if any(v is not None for v in values):
            _set(meta, name, values, origin)
    if any(c.band for c in channels):
        meta.extra.setdefault(
            "emission_band_nm",
            MetadataValue(
                [c.band for c in channels], f"{LIF} {where}/Spectro/MultiBand@LeftWorld, RightWorld"
            ),
        )
    if any(c.intensity is not None for c in channels):
        meta.extra.setdefault(
            "laser_intensity_percent",
            MetadataValue(
                [c.intensity for c in channels],
                f"{LIF} {where}/AotfList/Aotf/LaserLineSetting@IntensityDev (AOTF transmission, %)",
            ),
        )


def _camera(meta: AcquisitionMetadata, main: _Setting, sequence: list[_Setting], n: int) -> None:
    infos, path = _camera_channels(main, sequence)
    camera = main.element.find("WideFieldChannelConfigurator")
    name = _text(camera, "CameraName") if camera is not None else None
    if name is None and sequence:
        first = sequence[0].element.find("WideFieldChannelConfigurator")
        name = _text(first, "CameraName") if first is not None else None
    if name:
        meta.extra.setdefault(
            "camera_model", MetadataValue(name, f"{LIF} .../WideFieldChannelConfigurator@CameraName")
        )
    if n:
        _set(meta, "detector_type", ["Camera"] * n, f"{LIF} {main.path} (a camera acquisition)")
    if len(infos) != n:
        return
    for attr, field in (
        ("EmissionWavelength", "wavelength_em_nm"),
        ("ExcitationWavelength", "wavelength_ex_nm"),
    ):
        values = [_value(i, attr) or None for i in infos]
        if any(v is not None for v in values):
            _set(meta, field, values, f"{LIF} {path}@{attr}")

"""Acquisition metadata with the origin of every value, and reading it from OME metadata.

:class:`AcquisitionMetadata` is what every reader (:mod:`microscope_qc.io`) returns: each field a
:class:`MetadataValue` naming where in the file it was found, or missing — never guessed.
:func:`from_ome` fills it from OME metadata, whichever reader produced it: ``ome_types.OME``
(bioio's OME-TIFF reader, and ``BioImage.ome_metadata`` of the CZI, ND2, LIF and OME-Zarr
readers) or :class:`microscope_qc.ome_xml.OME` (the TIFF fast path). Vendor values the OME
conversion loses are added by :mod:`microscope_qc.vendor_metadata`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "MetadataValue",
    "MISSING",
    "AcquisitionMetadata",
    "IMMERSION_INDEX",
    "from_ome",
    "pinhole_au_from_um",
    "fill_pinhole_au",
    "to_um",
    "to_nm",
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
    "spim": "light-sheet",
}


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
    """Acquisition settings found in a file; each field is a :class:`MetadataValue`.

    Per-channel fields hold a list with one element per channel (``None`` where that channel
    has no value).
    """

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
    objective_name: MetadataValue = MISSING
    objective_magnification: MetadataValue = MISSING
    pinhole_um: MetadataValue = MISSING  # per channel: physical diameter at the pinhole
    detector_type: MetadataValue = MISSING  # per channel
    detector_gain: MetadataValue = MISSING  # per channel, in the instrument's own gain units
    laser_power_mw: MetadataValue = MISSING  # per channel: the light source's nominal power
    light_attenuation: MetadataValue = MISSING  # per channel: OME LightSourceSettings.Attenuation (0–1)
    microscope: MetadataValue = MISSING
    microscope_serial: MetadataValue = MISSING
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """``{field: {"value", "origin"}}`` for reports; missing values have value None."""
        out = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            mv: MetadataValue = getattr(self, f.name)
            value = list(mv.value) if isinstance(mv.value, tuple) else mv.value
            out[f.name] = {"value": value, "origin": mv.origin}
        return out


def to_um(value: float | None, unit: object) -> float | None:
    """A length in µm from an OME value and its unit (µm when the unit is absent)."""
    if value is None:
        return None
    factor = {"µm": 1.0, "um": 1.0, "nm": 1e-3, "mm": 1e3, "m": 1e6, "Å": 1e-4, "pm": 1e-6, "cm": 1e4}
    name = str(getattr(unit, "value", unit) or "µm")
    return float(value) * factor.get(name, 1.0)


def to_nm(value: float | None, unit: object) -> float | None:
    """A wavelength in nm from an OME value and its unit (nm when the unit is absent)."""
    if value is None:
        return None
    factor = {"nm": 1.0, "µm": 1e3, "um": 1e3, "m": 1e9, "Å": 0.1, "pm": 1e-3}
    name = str(getattr(unit, "value", unit) or "nm")
    return float(value) * factor.get(name, 1.0)


def _to_mw(value: float | None, unit: object) -> float | None:
    if value is None:
        return None
    factor = {"mW": 1.0, "W": 1e3, "µW": 1e-3, "uW": 1e-3, "nW": 1e-6, "kW": 1e6}
    name = str(getattr(unit, "value", unit) or "mW")
    return float(value) * factor.get(name, 1.0)


def pinhole_au_from_um(pinhole_um: float, magnification: float, na: float, wavelength_em_nm: float) -> float:
    """Pinhole diameter in Airy units from its physical diameter.

    One Airy unit is the diameter of the Airy disc, 1.22·λem/NA in the sample (METRICS §1); the
    pinhole sits in an image plane magnified by ``magnification``:
    ``AU = pinhole_um / (magnification · 1.22 · λem / NA)``.

    Parameters
    ----------
    pinhole_um : float
        Physical pinhole diameter (µm), as OME ``Channel.PinholeSize`` records it.
    magnification : float
        Magnification from the sample to the pinhole (the objective's nominal magnification when
        the file records no other; a scan head's own magnification makes the result too large).
    na : float
        Numerical aperture.
    wavelength_em_nm : float
        Emission wavelength (nm).

    Returns
    -------
    float
        The pinhole diameter in Airy units.
    """
    airy_um = 1.22 * wavelength_em_nm * 1e-3 / na
    return pinhole_um / (magnification * airy_um)


def _by_id(items: Any) -> dict[str, Any]:
    return {str(getattr(i, "id", "")): i for i in (items or [])}


def _per_channel(values: list[Any]) -> list[Any] | None:
    return values if any(v is not None for v in values) else None


def from_ome(meta: AcquisitionMetadata, ome: Any, scene: int, source: str = "OME") -> None:
    """Fill ``meta`` from OME metadata of one image (scene).

    Parameters
    ----------
    meta : AcquisitionMetadata
        Filled in place.
    ome : ome_types.OME or microscope_qc.ome_xml.OME
        The document.
    scene : int
        Which image of the document.
    source : str, optional
        How origins start: ``"OME"`` for OME-XML in the file, e.g. ``"OME (converted by bioio-czi)"``
        for OME metadata a reader converted from vendor metadata.
    """
    image = ome.images[min(scene, len(ome.images) - 1)]
    px = image.pixels
    sizes = []
    for axis in ("z", "y", "x"):
        value = getattr(px, f"physical_size_{axis}", None)
        unit = getattr(px, f"physical_size_{axis}_unit", None)
        sizes.append(to_um(value, unit))
    if any(s is not None for s in sizes):
        meta.voxel_size_um = MetadataValue(tuple(sizes), f"{source} Pixels.PhysicalSize{{Z,Y,X}}")
    channels = list(px.channels or [])
    if channels:
        _channels(meta, channels, source)
    instrument = ome.instruments[0] if ome.instruments else None
    if instrument is not None:
        _instrument(meta, instrument, channels, source)
    settings = image.objective_settings
    objective = None
    if settings is not None:
        if settings.refractive_index:
            meta.immersion_index = MetadataValue(
                float(settings.refractive_index), f"{source} ObjectiveSettings.RefractiveIndex"
            )
        for inst in ome.instruments:
            objective = _by_id(inst.objectives).get(str(settings.id), objective)
    if objective is not None:
        _objective(meta, objective, source)
    if image.acquisition_date is not None:
        meta.acquisition_date = MetadataValue(
            image.acquisition_date.isoformat(), f"{source} Image.AcquisitionDate"
        )
    if px.significant_bits:
        meta.bit_depth = MetadataValue(int(px.significant_bits), f"{source} Pixels.SignificantBits")
    fill_pinhole_au(meta)


def _channels(meta: AcquisitionMetadata, channels: list[Any], source: str) -> None:
    names = [c.name or f"channel {i}" for i, c in enumerate(channels)]
    if any(c.name for c in channels):
        meta.channel_names = MetadataValue(names, f"{source} Channel.Name")
    ex = _per_channel([to_nm(c.excitation_wavelength, c.excitation_wavelength_unit) for c in channels])
    em = _per_channel([to_nm(c.emission_wavelength, c.emission_wavelength_unit) for c in channels])
    if ex:
        meta.wavelength_ex_nm = MetadataValue(ex, f"{source} Channel.ExcitationWavelength")
    if em:
        meta.wavelength_em_nm = MetadataValue(em, f"{source} Channel.EmissionWavelength")
    modes = {
        str(getattr(c.acquisition_mode, "value", c.acquisition_mode)) for c in channels if c.acquisition_mode
    }
    if len(modes) == 1:
        key = modes.pop().lower().replace(" ", "")
        if key in _OME_MODALITY:
            meta.modality = MetadataValue(_OME_MODALITY[key], f"{source} Channel.AcquisitionMode")
    pinhole = _per_channel(
        [to_um(getattr(c, "pinhole_size", None), getattr(c, "pinhole_size_unit", None)) for c in channels]
    )
    if pinhole:
        meta.pinhole_um = MetadataValue(pinhole, f"{source} Channel.PinholeSize")


def _instrument(meta: AcquisitionMetadata, inst: Any, channels: list[Any], source: str) -> None:
    microscope = getattr(inst, "microscope", None)
    if microscope is not None:
        name = " ".join(str(v) for v in (microscope.manufacturer, microscope.model) if v)
        if name:
            meta.microscope = MetadataValue(name, f"{source} Microscope.Manufacturer, Model")
        if microscope.serial_number:
            meta.microscope_serial = MetadataValue(
                str(microscope.serial_number), f"{source} Microscope.SerialNumber"
            )
    detectors = _by_id(getattr(inst, "detectors", None))
    lasers = _by_id(getattr(inst, "lasers", None))
    types: list[str | None] = []
    gains: list[float | None] = []
    gain_origin = f"{source} Channel.DetectorSettings.Gain"
    powers: list[float | None] = []
    attenuations: list[float | None] = []
    for c in channels:
        ds = getattr(c, "detector_settings", None)
        det = detectors.get(str(ds.id)) if ds is not None else None
        kind = getattr(det, "type", None) if det is not None else None
        types.append(str(getattr(kind, "value", kind)) if kind else None)
        gain = getattr(ds, "gain", None) if ds is not None else None
        if gain is None and det is not None and det.gain is not None:
            gain, gain_origin = det.gain, f"{source} Detector.Gain"
        gains.append(float(gain) if gain is not None else None)
        ls = getattr(c, "light_source_settings", None)
        laser = lasers.get(str(ls.id)) if ls is not None else None
        powers.append(_to_mw(laser.power, laser.power_unit) if laser is not None else None)
        att = getattr(ls, "attenuation", None) if ls is not None else None
        attenuations.append(float(att) if att is not None else None)
    if _per_channel(types):
        meta.detector_type = MetadataValue(types, f"{source} Detector.Type (via Channel.DetectorSettings)")
    if _per_channel(gains):
        meta.detector_gain = MetadataValue(gains, gain_origin)
    if _per_channel(powers):
        meta.laser_power_mw = MetadataValue(powers, f"{source} Laser.Power (via Channel.LightSourceSettings)")
    if _per_channel(attenuations):
        meta.light_attenuation = MetadataValue(
            attenuations, f"{source} Channel.LightSourceSettings.Attenuation"
        )


def _objective(meta: AcquisitionMetadata, obj: Any, source: str) -> None:
    if obj.lens_na:
        meta.na = MetadataValue(float(obj.lens_na), f"{source} Objective.LensNA")
    if meta.immersion_index.missing and obj.immersion is not None:
        medium = str(getattr(obj.immersion, "value", obj.immersion)).lower()
        if IMMERSION_INDEX.get(medium):
            meta.immersion_index = MetadataValue(
                IMMERSION_INDEX[medium], f"{source} Objective.Immersion={medium} (nominal index)"
            )
    model = getattr(obj, "model", None)
    if model:
        meta.objective_name = MetadataValue(str(model), f"{source} Objective.Model")
    mag = getattr(obj, "nominal_magnification", None)
    if mag:
        meta.objective_magnification = MetadataValue(float(mag), f"{source} Objective.NominalMagnification")


def fill_pinhole_au(meta: AcquisitionMetadata) -> None:
    """Set the pinhole in Airy units from its physical size, when missing and the file gives what the formula needs.

    :func:`pinhole_au_from_um` with the first channel that has both a pinhole and an emission
    wavelength, the objective's magnification and the NA; a pinhole in Airy units already read is kept.

    Parameters
    ----------
    meta : AcquisitionMetadata
        Filled in place.
    """
    if not meta.pinhole_au.missing or meta.pinhole_um.missing:
        return
    if meta.objective_magnification.missing or meta.na.missing or meta.wavelength_em_nm.missing:
        return
    for i, (ph, em) in enumerate(zip(meta.pinhole_um.value, meta.wavelength_em_nm.value, strict=False)):
        if ph is None or em is None:
            continue
        mag = float(meta.objective_magnification.value)
        au = pinhole_au_from_um(float(ph), mag, float(meta.na.value), float(em))
        meta.pinhole_au = MetadataValue(
            round(au, 4),
            f"{meta.pinhole_um.origin} (channel {i}) = {ph:g} µm / ({mag:g}× · 1.22 · {em:g} nm / NA "
            f"{meta.na.value:g}); the objective's magnification only",
        )
        return

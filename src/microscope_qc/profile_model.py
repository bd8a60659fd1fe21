"""The parts of an instrument profile: objectives, light sources, detectors, channels, tolerances.

:mod:`microscope_qc.profiles` reads and writes profiles and turns them into settings and limits;
this module holds what a profile is and checks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, TypeVar, get_args, get_origin, get_type_hints

from microscope_qc.instrument import (
    ChannelSettings,
    MicroscopeSettings,
    Modality,
    Setting,
    SettingsError,
    Source,
)

__all__ = [
    "Objective",
    "LightSource",
    "Detector",
    "ChannelPreset",
    "Tolerance",
    "InstrumentProfile",
    "ProfileError",
]


class ProfileError(ValueError):
    """An instrument profile that cannot be read or is inconsistent; the message says where."""


@dataclass
class Objective:
    """An objective: magnification, NA and immersion."""

    name: str
    magnification: float
    na: float
    immersion: str = "air"  # air, water, oil, glycerol, silicone
    immersion_index: float = 1.0
    correction: str = ""  # e.g. Plan Apo


@dataclass
class LightSource:
    """A light source and its wavelength (nm)."""

    name: str
    wavelength_nm: float
    kind: str = "laser"  # laser, LED, lamp


@dataclass
class Detector:
    """A camera or point detector."""

    name: str
    kind: str = "sCMOS"  # sCMOS, CCD, EMCCD, PMT, HyD, SPAD
    pixel_size_um: float | None = None  # physical pixel size on the chip
    bit_depth: int | None = None


@dataclass
class ChannelPreset:
    """A filter set / channel: wavelengths, and which light source and detector it uses."""

    name: str
    wavelength_ex_nm: float | None = None
    wavelength_em_nm: float | None = None
    filter_set: str = ""
    light_source: str = ""
    detector: str = ""


@dataclass
class Tolerance:
    """A facility limit for one metric: pass if ``min <= value <= max`` (either may be absent)."""

    metric: str
    min: float | None = None
    max: float | None = None


@dataclass
class InstrumentProfile:
    """One microscope as the facility describes it."""

    name: str
    modality: str = "widefield"
    facility: str = ""
    pinhole_au: float | None = None
    objectives: list[Objective] = field(default_factory=list)
    light_sources: list[LightSource] = field(default_factory=list)
    detectors: list[Detector] = field(default_factory=list)
    channels: list[ChannelPreset] = field(default_factory=list)
    tolerances: list[Tolerance] = field(default_factory=list)
    sheet_thickness_um: float | None = None  # light-sheet FWHM thickness, µm (light-sheet instruments)

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check the profile for consistency.

        Raises
        ------
        ProfileError
            If a name is missing or repeated, the modality is unknown, or a value is out of range (NA, refractive
            index, wavelengths, tolerances without a limit); the message says which.
        """
        if not self.name.strip():
            raise ProfileError("The instrument needs a name.")
        try:
            Modality.parse(self.modality)
            MicroscopeSettings(sheet_thickness_um=self.sheet_thickness_um).validate()
        except SettingsError as exc:
            raise ProfileError(f"Instrument {self.name!r}: {exc}") from None
        for kind, items in (
            ("objective", self.objectives),
            ("channel", self.channels),
            ("light source", self.light_sources),
            ("detector", self.detectors),
        ):
            names = [i.name for i in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ProfileError(
                    f"Instrument {self.name!r}: {kind} names must be unique; repeated: {', '.join(dupes)}."
                )
        for o in self.objectives:
            if not (0 < o.na < 2) or o.na >= o.immersion_index:
                raise ProfileError(
                    f"Objective {o.name!r}: NA {o.na} must be positive and below its immersion index {o.immersion_index}."
                )
        for c in self.channels:
            for w in (c.wavelength_ex_nm, c.wavelength_em_nm):
                if w is not None and not 200 <= w <= 2000:
                    raise ProfileError(f"Channel {c.name!r}: wavelengths are in nm (200–2000), got {w}.")
        for t in self.tolerances:
            if t.min is None and t.max is None:
                raise ProfileError(f"Tolerance for {t.metric!r} needs a min or a max.")

    def objective(self, name: str) -> Objective:
        """Return the objective called ``name``.

        Parameters
        ----------
        name : str
            The objective's name.

        Returns
        -------
        Objective
            The objective.

        Raises
        ------
        ProfileError
            If the profile has no objective of that name (the message lists those it has).
        """
        return _find(self.objectives, name, "objective", self.name)

    def channel(self, name: str) -> ChannelPreset:
        """Return the channel preset called ``name``.

        Parameters
        ----------
        name : str
            The preset's name.

        Returns
        -------
        ChannelPreset
            The preset.

        Raises
        ------
        ProfileError
            If the profile has no channel of that name (the message lists those it has).
        """
        return _find(self.channels, name, "channel", self.name)

    def settings_for(
        self,
        objective: str,
        channels: list[str] | str | None = None,
        voxel_size_um: tuple[float, float, float] | None = None,
    ) -> MicroscopeSettings:
        """Build microscope settings from this profile, each recorded with source ``instrument``.

        Parameters
        ----------
        objective : str
            The objective's name.
        channels : str or list of str, optional
            Channel preset names, one per image channel; None: one unnamed channel.
        voxel_size_um : tuple of float, optional
            (z, y, x) voxel size; profiles do not know it.

        Returns
        -------
        MicroscopeSettings
            The settings, with their sources.

        Raises
        ------
        ProfileError
            If the profile has no such objective or channel preset.
        """
        obj = self.objective(objective)
        names = [channels] if isinstance(channels, str) else list(channels or [])
        presets = [self.channel(n) for n in names] or [ChannelPreset("channel 0")]
        origin = f"instrument {self.name!r}, objective {obj.name!r}"
        ms = MicroscopeSettings(
            modality=Modality.parse(self.modality),
            na=obj.na,
            immersion_index=obj.immersion_index,
            pinhole_au=self.pinhole_au,
            sheet_thickness_um=self.sheet_thickness_um,
            voxel_size_um=voxel_size_um or None,
            channels=tuple(ChannelSettings(p.name, p.wavelength_ex_nm, p.wavelength_em_nm) for p in presets),
        )
        sources = {
            "modality": Setting(str(ms.modality), None, Source.INSTRUMENT, origin),
            "na": Setting(obj.na, None, Source.INSTRUMENT, origin),
            "immersion_index": Setting(
                obj.immersion_index, None, Source.INSTRUMENT, f"{origin}, {obj.immersion}"
            ),
        }
        if self.pinhole_au is not None:
            sources["pinhole_au"] = Setting(self.pinhole_au, "AU", Source.INSTRUMENT, origin)
        if self.sheet_thickness_um is not None:
            sources["sheet_thickness_um"] = Setting(self.sheet_thickness_um, "um", Source.INSTRUMENT, origin)
        if names:
            sources["wavelength_ex_nm"] = Setting(
                [p.wavelength_ex_nm for p in presets],
                "nm",
                Source.INSTRUMENT,
                f"instrument {self.name!r} channels",
            )
            sources["wavelength_em_nm"] = Setting(
                [p.wavelength_em_nm for p in presets],
                "nm",
                Source.INSTRUMENT,
                f"instrument {self.name!r} channels",
            )
        ms.sources = sources
        return ms

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return the profile as plain data, as written to YAML or JSON.

        Returns
        -------
        dict
            Every field, the lists as lists of dicts.
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "profile") -> InstrumentProfile:
        """Build a profile from plain data and validate it.

        Parameters
        ----------
        data : dict
            What :meth:`to_dict` returns (as read from YAML or JSON).
        origin : str
            Where the data came from, for the messages.

        Returns
        -------
        InstrumentProfile
            The validated profile.

        Raises
        ------
        ProfileError
            If the data is not a mapping, has unknown or malformed fields, or fails
            :meth:`validate`.
        """
        if not isinstance(data, dict):
            raise ProfileError(f"{origin}: expected a mapping at the top level, got {type(data).__name__}.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProfileError(
                f"{origin}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        kinds = {
            "objectives": Objective,
            "light_sources": LightSource,
            "detectors": Detector,
            "channels": ChannelPreset,
            "tolerances": Tolerance,
        }
        kwargs = dict(data)
        for key, typ in kinds.items():
            items = kwargs.get(key) or []
            if not isinstance(items, list):
                raise ProfileError(f"{origin}: {key} must be a list, got {type(items).__name__}.")
            built = []
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise ProfileError(f"{origin}: {key}[{i}] must be a mapping, got {type(item).__name__}.")
                try:
                    built.append(_checked(typ(**item), f"{origin}: {key}[{i}]"))
                except TypeError as exc:
                    raise ProfileError(f"{origin}: {key}[{i}]: {exc}") from None
            kwargs[key] = built
        try:
            profile = _checked(cls(**kwargs), origin)
        except TypeError as exc:
            raise ProfileError(f"{origin}: {exc}") from None
        profile.validate()
        return profile


def _checked(item: _T, where: str) -> _T:
    """Check that every scalar field of a profile part has its declared type (ints count as floats).

    A YAML value such as ``na: "1.4x"`` or ``max: high`` is named with where it is, instead of
    failing later in a comparison.
    """
    hints = get_type_hints(type(item))
    for f in fields(item):  # type: ignore[arg-type]
        value = getattr(item, f.name)
        if get_origin(hints[f.name]) is list:  # the parts, checked one by one by the caller
            continue
        allowed = set(get_args(hints[f.name])) or {hints[f.name]}
        if value is None and type(None) in allowed:
            continue
        if float in allowed and isinstance(value, int | float) and not isinstance(value, bool):
            setattr(item, f.name, float(value))
        elif int in allowed and isinstance(value, int) and not isinstance(value, bool):
            pass
        elif str in allowed and isinstance(value, str):
            pass
        else:
            kind = "a number" if allowed & {float, int} else "text"
            raise ProfileError(f"{where}: {f.name} must be {kind}, got {value!r}.")
    return item


_T = TypeVar("_T")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_NamedT = TypeVar("_NamedT", bound=_Named)


def _find(items: Sequence[_NamedT], name: str, kind: str, instrument: str) -> _NamedT:
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(repr(i.name) for i in items) or "none"
    raise ProfileError(f"Instrument {instrument!r} has no {kind} {name!r}; it has: {known}.")

"""Instrument profiles, stored as a readable YAML (or JSON) file that users can version.

A profile holds a microscope's objectives, light sources, detectors, channels and the facility's
tolerances.

Choosing an instrument + objective + channel pre-fills a measurement's settings; values found in
the image file still win, and the result records which source each value came from
(``file``, ``instrument``, ``user``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar, get_args, get_origin, get_type_hints

from microscope_qc.instrument import (
    ChannelSettings,
    MicroscopeSettings,
    Modality,
    Setting,
    SettingsError,
    Source,
)
from microscope_qc.io import atomic_write
from microscope_qc.results import Limit, Limits, Result

__all__ = [
    "Objective",
    "LightSource",
    "Detector",
    "ChannelPreset",
    "Tolerance",
    "InstrumentProfile",
    "ProfileError",
    "load_profile",
    "save_profile",
    "merge_settings",
    "apply_tolerances",
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


#: an instrument profile is a few kB; anything far larger is not one
_MAX_PROFILE_BYTES = 1_000_000


def safe_yaml_load(text: str) -> Any:
    """Parse YAML without aliases (``*name``), so that nested aliases cannot expand without bound.

    Parameters
    ----------
    text : str
        The YAML document.

    Returns
    -------
    Any
        The plain data.

    Raises
    ------
    yaml.YAMLError
        If the text is not YAML, or uses an alias.
    """
    import yaml

    class _NoAliases(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed in this file; write the value out", mark
                )
            return super().compose_node(parent, index)

    return yaml.load(text, Loader=_NoAliases)  # noqa: S506 (a SafeLoader that also refuses aliases)


def load_profile(path: str | Path) -> InstrumentProfile:
    """Read a profile from YAML (``.yaml``/``.yml``) or JSON.

    Parameters
    ----------
    path : str or Path
        The profile file; ``.json`` is read as JSON, anything else as YAML.

    Returns
    -------
    InstrumentProfile
        The validated profile.

    Raises
    ------
    ProfileError
        If the file does not exist, cannot be parsed, or is not a valid profile.
    """
    import yaml

    path = Path(path)
    if not path.exists():
        raise ProfileError(f"{path}: no such instrument profile.")
    if path.is_dir():
        raise ProfileError(f"{path} is a folder; give the profile file in it (.yaml or .json).")
    if path.stat().st_size > _MAX_PROFILE_BYTES:
        raise ProfileError(
            f"{path}: {path.stat().st_size / 1e6:.3g} MB is far too large for an instrument profile."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProfileError(
            f"{path} is not a text file; an instrument profile is YAML or JSON text."
        ) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else safe_yaml_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(
            f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}"
        ) from None
    return InstrumentProfile.from_dict(data, str(path))


def save_profile(profile: InstrumentProfile, path: str | Path, overwrite: bool = False) -> Path:
    """Write a profile as YAML or JSON (by suffix).

    The profile is validated first and written atomically; an existing file is never
    overwritten silently.

    Parameters
    ----------
    profile : InstrumentProfile
        The profile to write.
    path : str or Path
        The file; ``.json`` writes JSON, anything else YAML.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ProfileError
        If the profile is not valid.
    FileExistsError
        If the file exists and ``overwrite`` is False.
    """
    import yaml

    profile.validate()
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name or allow overwriting explicitly.")
    data = profile.to_dict()
    text = (
        json.dumps(data, indent=2)
        if path.suffix.lower() == ".json"
        else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, text)


#: the scalar settings an instrument profile fills in where the file lacks them
_MERGED = (
    "modality",
    "na",
    "immersion_index",
    "pinhole_au",
    "voxel_size_um",
    "bead_diameter_um",
    "sheet_thickness_um",
)


def merge_settings(from_file: MicroscopeSettings, from_instrument: MicroscopeSettings) -> MicroscopeSettings:
    """Merge the settings from a file with those from an instrument profile.

    File metadata wins; the instrument fills what the file lacks; each value keeps its source.

    Parameters
    ----------
    from_file : MicroscopeSettings
        What the image file says.
    from_instrument : MicroscopeSettings
        What the instrument profile says.

    Returns
    -------
    MicroscopeSettings
        The merged settings.
    """
    from dataclasses import replace

    out = from_file
    sources = dict(from_file.sources)
    for name in _MERGED:
        if getattr(out, name) is None and getattr(from_instrument, name) is not None:
            out = replace(out, **{name: getattr(from_instrument, name)})
            if name in from_instrument.sources:
                sources[name] = from_instrument.sources[name]
    channels = list(out.channels)
    inst = list(from_instrument.channels)
    if len(inst) == 1 and len(channels) > 1:
        inst = inst * len(channels)
    filled = {"wavelength_ex_nm": False, "wavelength_em_nm": False}
    for i, ch in enumerate(channels):
        if i >= len(inst):
            break
        ex = ch.wavelength_ex_nm if ch.wavelength_ex_nm is not None else inst[i].wavelength_ex_nm
        em = ch.wavelength_em_nm if ch.wavelength_em_nm is not None else inst[i].wavelength_em_nm
        filled["wavelength_ex_nm"] |= ch.wavelength_ex_nm is None and ex is not None
        filled["wavelength_em_nm"] |= ch.wavelength_em_nm is None and em is not None
        channels[i] = replace(ch, wavelength_ex_nm=ex, wavelength_em_nm=em)
    for key, was_filled in filled.items():
        if was_filled and key in from_instrument.sources:
            sources[key] = from_instrument.sources[key]
    return replace(out, channels=tuple(channels), sources=sources)


def limits_of(profile: InstrumentProfile) -> Limits:
    """Return the profile's tolerances as the limits an analysis applies.

    Parameters
    ----------
    profile : InstrumentProfile
        The instrument.

    Returns
    -------
    Limits
        One :class:`~microscope_qc.results.Limit` per tolerance, with the instrument as source.
    """
    return Limits(
        tuple(Limit(t.metric, t.min, t.max) for t in profile.tolerances),
        source=f"instrument {profile.name!r}",
    )


def apply_tolerances(result: Result, profile: InstrumentProfile) -> None:
    """Judge a result against the facility's tolerances.

    One verdict per limit, replacing the default verdict of the same metric and channel, with
    the instrument named as the source.

    Parameters
    ----------
    result : Result
        The result to judge; its verdicts are changed in place.
    profile : InstrumentProfile
        The instrument whose tolerances apply.
    """
    limits_of(profile).apply(result)


#: the scalar settings a user may override (wavelengths are per channel, handled apart)
_OVERRIDABLE = (
    "voxel_size_um",
    "na",
    "immersion_index",
    "modality",
    "pinhole_au",
    "bead_diameter_um",
    "sheet_thickness_um",
)


def resolve_settings(
    from_file: MicroscopeSettings,
    profile: InstrumentProfile | None = None,
    objective: str | None = None,
    channel_presets: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> MicroscopeSettings:
    """The one settings resolution the command line and the widgets share.

    File metadata first; the instrument profile's objective and channel presets fill what the
    file lacks; the user's overrides go on top; each value keeps its source (file, instrument,
    user).

    Parameters
    ----------
    from_file : MicroscopeSettings
        The settings read from the image file.
    profile : InstrumentProfile, optional
        The instrument; None: no instrument values.
    objective : str, optional
        The profile's objective to use (needed with a profile).
    channel_presets : list of str, optional
        The profile's channel presets, one per channel.
    overrides : dict, optional
        Keys voxel_size_um, na, immersion_index, modality, pinhole_au, bead_diameter_um,
        sheet_thickness_um, wavelength_ex_nm, wavelength_em_nm (one value or one per channel);
        ``None`` values are ignored.

    Returns
    -------
    MicroscopeSettings
        The resolved settings, each with its source.

    Raises
    ------
    ProfileError
        If the profile has no such objective or channel preset.
    """
    ms = from_file
    if profile is not None and objective:
        ms = merge_settings(ms, profile.settings_for(objective, channel_presets))
    overrides = overrides or {}
    scalar = {k: overrides.get(k) for k in _OVERRIDABLE}
    if any(v is not None for v in scalar.values()):
        ms = ms.with_values(Source.USER, **scalar)
    ex, em = overrides.get("wavelength_ex_nm"), overrides.get("wavelength_em_nm")
    check_per_channel(ex, len(ms.channels), "wavelength_ex_nm")
    check_per_channel(em, len(ms.channels), "wavelength_em_nm")
    if ex is not None or em is not None:
        ms = ms.with_wavelengths(ex, em, Source.USER)
    return ms


def check_per_channel(values: Sequence[float | None] | None, n_channels: int, name: str) -> None:
    """Refuse a per-channel setting the user gave with a count other than the image's channels.

    One emission wavelength for a two-channel image would otherwise be copied to both channels
    and change their theoretical resolution silently.

    Parameters
    ----------
    values : sequence or None
        What the user gave (None: nothing).
    n_channels : int
        The image's number of channels.
    name : str
        The setting's name (``wavelength_em_nm``), named in the message by its placeholder.

    Raises
    ------
    SettingsError
        If the counts differ.
    """
    if values is None or len(values) == n_channels:
        return
    raise SettingsError(
        f"{{{name}}} needs one value per channel: the image has {n_channels} channels, "
        f"{len(values)} {'was' if len(values) == 1 else 'were'} given."
    )

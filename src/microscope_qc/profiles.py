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
from pathlib import Path
from typing import Any

from microscope_qc.instrument import (
    MicroscopeSettings,
    SettingsError,
    Source,
)
from microscope_qc.io import atomic_write
from microscope_qc.profile_model import (
    ChannelPreset,
    Detector,
    InstrumentProfile,
    LightSource,
    Objective,
    ProfileError,
    Tolerance,
)
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

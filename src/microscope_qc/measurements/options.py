"""Command-line options every measurement shares, and turning them into settings.

Only the command line uses this module (it knows argparse); the analyses and the widgets resolve
settings through :func:`microscope_qc.profiles.resolve_settings`, as :func:`microscope_settings` does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import MicroscopeSettings, Modality, settings_from_metadata
from microscope_qc.setting_spec import UserSetting, check_value, user_settings

if TYPE_CHECKING:
    from microscope_qc.io import AcquisitionMetadata
    from microscope_qc.profiles import InstrumentProfile
    from microscope_qc.results import Limits

__all__ = [
    "DeferredParser",
    "add_common_arguments",
    "add_settings_arguments",
    "settings_values_from_args",
    "add_instrument_arguments",
    "profile_from_args",
    "microscope_settings",
    "overrides_from_args",
    "limits_from_args",
]


class DeferredParser(argparse.ArgumentParser):
    """An argument parser that adds its arguments when it is first used.

    A measurement's options come from its settings class, and importing that may import the
    analysis; each sub-command's options are therefore added only when that sub-command is
    parsed or its help is shown, so ``microscope-qc --help`` and the other commands do not
    pay for every measurement's imports.
    """

    def __init__(
        self, *args: Any, fill: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self._fill = fill

    def fill(self) -> argparse.ArgumentParser:
        """Add the deferred arguments now (once).

        Returns
        -------
        argparse.ArgumentParser
            This parser.
        """
        fill, self._fill = self._fill, None
        if fill is not None:
            fill(self)
        return self

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        """Add the deferred arguments, then parse (:meth:`argparse.ArgumentParser.parse_known_args`)."""
        self.fill()
        return super().parse_known_args(*args, **kwargs)

    def format_help(self) -> str:
        """Add the deferred arguments, then format the help."""
        self.fill()
        return super().format_help()

    def format_usage(self) -> str:
        """Add the deferred arguments, then format the usage line."""
        self.fill()
        return super().format_usage()


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every measurement shares (DESIGN.md results contract).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The measurement's sub-command parser.
    """
    g = parser.add_argument_group("microscope settings (override the file's metadata)")
    g.add_argument("--voxel-size", nargs=3, type=float, metavar=("Z", "Y", "X"), help="voxel size in µm")
    g.add_argument("--na", type=float, metavar="NA", help="objective numerical aperture")
    g.add_argument(
        "--immersion-index",
        type=float,
        metavar="N",
        help="refractive index of the immersion medium (oil 1.518)",
    )
    g.add_argument(
        "--wavelength-em",
        type=float,
        nargs="+",
        metavar="NM",
        help="emission wavelength(s), nm, one per channel",
    )
    g.add_argument(
        "--wavelength-ex",
        type=float,
        nargs="+",
        metavar="NM",
        help="excitation wavelength(s), nm, one per channel",
    )
    g.add_argument("--modality", choices=[m.value for m in Modality], help="imaging modality")
    g.add_argument("--pinhole", type=float, metavar="AU", help="confocal pinhole diameter in Airy units")
    g.add_argument(
        "--sheet-thickness",
        type=float,
        metavar="UM",
        help="light-sheet thickness, the FWHM of the sheet in µm (light-sheet modality: the axial theory)",
    )
    g.add_argument(
        "--channel",
        type=int,
        action="append",
        metavar="C",
        help="analyse only this channel, from 0 (repeatable)",
    )


_METAVARS = {"um": "UM", "px": "PX", "percent": "PERCENT", "counts": "COUNTS", "SD": "SD"}


def _parse_as(item: UserSetting) -> Any:
    """An argparse ``type`` that converts one option's text and checks its range."""
    convert = {"int": int, "float": float}.get(item.kind, str)

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole number' if convert is int else 'a number'}"
            ) from None
        problem = check_value(item, value)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"{item.spec.label} {problem}, not {text}")
        return value

    parse.__name__ = item.kind  # argparse names the type in its own messages
    return parse


def _help(item: UserSetting) -> str:
    """The option's help: the setting's, with its default; "%" escaped (argparse formats help texts)."""
    text = item.spec.help.replace("%", "%%")
    if item.default is None or item.kind == "bool":
        return text
    shown = f"{item.default:g}" if isinstance(item.default, float) else str(item.default)
    return f"{text} (default {shown})"


def add_settings_arguments(
    parser: argparse.ArgumentParser, settings_type: type, title: str, skip: tuple[str, ...] = ()
) -> None:
    """Add one option per user setting of an analysis, generated from its settings type.

    Every option's default is "not given" (the attribute is absent from the namespace), so the
    settings dataclass keeps the one definition of each default.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The measurement's sub-command parser.
    settings_type : type
        The analysis settings dataclass, its user settings declared with
        :func:`microscope_qc.setting_spec.setting`.
    title : str
        The heading of the option group in ``--help``.
    skip : tuple of str
        Settings the command line sets some other way.
    """
    g = parser.add_argument_group(title)
    for item in user_settings(settings_type):
        if item.name in skip:
            continue
        flag = f"--{item.flag}"
        common: dict[str, Any] = {"dest": item.name, "default": argparse.SUPPRESS}
        if item.kind == "bool":
            # a switch that turns on what is off by default, or off what is on ("--no-blur")
            text = f"do not {_help(item)}" if item.default else _help(item)
            g.add_argument(flag, action="store_const", const=not item.default, help=text, **common)
        elif item.kind == "choice":
            g.add_argument(flag, choices=[v for v, _ in item.choices], help=_help(item), **common)
        else:
            metavar = _METAVARS.get(item.spec.unit or "", "N" if item.kind == "int" else "VALUE")
            g.add_argument(flag, type=_parse_as(item), metavar=metavar, help=_help(item), **common)
        if item.spec.off_flag:
            g.add_argument(
                f"--{item.spec.off_flag}",
                action="store_const",
                const=None,
                help=f"no {item.spec.label}",
                **common,
            )


def settings_values_from_args(settings_type: type, args: argparse.Namespace) -> dict[str, Any]:
    """The user settings given on the command line, as keyword arguments of the settings type.

    Parameters
    ----------
    settings_type : type
        The analysis settings dataclass whose options :func:`add_settings_arguments` added.
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    dict
        Only the settings the user gave; the others keep the dataclass defaults.
    """
    return {
        item.name: getattr(args, item.name)
        for item in user_settings(settings_type)
        if hasattr(args, item.name)
    }


def add_instrument_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that tie a run to an instrument profile and the QC history.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The measurement's sub-command parser.
    """
    g = parser.add_argument_group("instrument and QC history")
    g.add_argument(
        "--instrument",
        type=Path,
        metavar="PROFILE",
        help="instrument profile (YAML/JSON): pre-fills settings, sets tolerances",
    )
    g.add_argument("--objective", metavar="NAME", help="objective name in the instrument profile")
    g.add_argument(
        "--channel-preset",
        nargs="+",
        metavar="NAME",
        help="channel name(s) in the instrument profile, one per image channel",
    )
    g.add_argument("--record", action="store_true", help="record the run in the QC history")
    g.add_argument(
        "--history",
        metavar="LOCATION",
        help="history database: a file path or SQLAlchemy URL (default: user data folder)",
    )
    g.add_argument(
        "--instrument-name", metavar="NAME", help="instrument name to record under when no profile is given"
    )


def profile_from_args(args: argparse.Namespace) -> InstrumentProfile | None:
    """Load the instrument profile named on the command line.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (``--instrument``, ``--objective``).

    Returns
    -------
    InstrumentProfile or None
        The profile, or None when ``--instrument`` was not given.

    Raises
    ------
    ProfileError
        If the profile cannot be read, or ``--objective`` is missing.
    """
    from microscope_qc.measurements import load_checked_profile  # the package, loaded by now
    from microscope_qc.profiles import ProfileError

    path = getattr(args, "instrument", None)
    if path is None:
        return None
    profile = load_checked_profile(path)
    if getattr(args, "objective", None) is None:
        raise ProfileError(
            f"--instrument needs --objective (one of: {', '.join(o.name for o in profile.objectives) or 'none defined'})."
        )
    return profile


def microscope_settings(
    metadata: AcquisitionMetadata,
    n_channels: int,
    overrides: dict[str, Any],
    args: argparse.Namespace | None = None,
) -> MicroscopeSettings:
    """Resolve the microscope settings of one image.

    File metadata first, then the instrument profile fills what the file lacks, then user
    overrides on top; each value keeps its source (file, instrument, user).

    Parameters
    ----------
    metadata : AcquisitionMetadata
        What the file says.
    n_channels : int
        The image's number of channels.
    overrides : dict
        Keys voxel_size_um, na, immersion_index, modality, pinhole_au, bead_diameter_um,
        wavelength_ex_nm, wavelength_em_nm (lists); ``None`` values are ignored.
    args : argparse.Namespace, optional
        The parsed options naming the instrument profile, objective and channel presets.

    Returns
    -------
    MicroscopeSettings
        The resolved settings, each with its source.

    Raises
    ------
    ProfileError
        If the named profile cannot be read, or has no such objective or channel.
    """
    from microscope_qc.profiles import resolve_settings

    profile = profile_from_args(args) if args is not None else None
    return resolve_settings(
        settings_from_metadata(metadata, n_channels),
        profile,
        getattr(args, "objective", None) if profile is not None else None,
        getattr(args, "channel_preset", None),
        overrides,
    )


def limits_from_args(args: argparse.Namespace) -> Limits | None:
    """Return the facility limits of the instrument profile named on the command line.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    Limits or None
        The profile's tolerances, or None without ``--instrument``.

    Raises
    ------
    ProfileError
        If the profile cannot be read, or ``--objective`` is missing.
    """
    from microscope_qc.profiles import limits_of

    profile = profile_from_args(args)
    return limits_of(profile) if profile is not None else None


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Collect the settings the user gave on the command line.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command-line options.

    Returns
    -------
    dict
        The overrides :func:`microscope_settings` takes; options not given are None.
    """
    return {
        "voxel_size_um": tuple(args.voxel_size) if args.voxel_size else None,
        "na": args.na,
        "immersion_index": args.immersion_index,
        "modality": args.modality,
        "pinhole_au": args.pinhole,
        "sheet_thickness_um": getattr(args, "sheet_thickness", None),
        "bead_diameter_um": getattr(args, "bead_diameter", None),
        "wavelength_ex_nm": args.wavelength_ex,
        "wavelength_em_nm": args.wavelength_em,
    }

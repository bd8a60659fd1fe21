"""Command-line options every measurement shares, and turning them into settings.

Only the command line uses this module (it knows argparse); the analyses and the widgets resolve
settings through :func:`microscope_qc.profiles.resolve_settings`, as :func:`microscope_settings` does.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.instrument import MicroscopeSettings, settings_from_metadata
from microscope_qc.io import AcquisitionMetadata

if TYPE_CHECKING:
    from microscope_qc.profiles import InstrumentProfile
    from microscope_qc.results import Limits

__all__ = [
    "add_common_arguments",
    "add_instrument_arguments",
    "profile_from_args",
    "microscope_settings",
    "overrides_from_args",
    "limits_from_args",
]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every measurement shares (DESIGN.md results contract).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The measurement's sub-command parser.
    """
    g = parser.add_argument_group("microscope settings (override the file's metadata)")
    g.add_argument("--voxel-size", nargs=3, type=float, metavar=("Z", "Y", "X"), help="voxel size in µm")
    g.add_argument("--na", type=float, help="objective numerical aperture")
    g.add_argument("--immersion-index", type=float, help="refractive index of the immersion medium")
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
    g.add_argument("--modality", choices=["widefield", "confocal", "spinning_disk", "multiphoton"])
    g.add_argument("--pinhole", type=float, metavar="AU", help="confocal pinhole diameter in Airy units")
    g.add_argument("--channel", type=int, action="append", help="analyse only this channel (repeatable)")


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
    g.add_argument("--objective", help="objective name in the instrument profile")
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
    g.add_argument("--instrument-name", help="instrument name to record under when no profile is given")


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
    from microscope_qc.profiles import ProfileError, load_profile

    path = getattr(args, "instrument", None)
    if path is None:
        return None
    profile = load_profile(path)
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
        "bead_diameter_um": getattr(args, "bead_diameter", None),
        "wavelength_ex_nm": args.wavelength_ex,
        "wavelength_em_nm": args.wavelength_em,
    }

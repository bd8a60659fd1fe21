"""The registry of measurements: what the CLI, reports and the history store enumerate.

Each measurement registers one :class:`Measurement` describing its command-line options,
how to turn a file's metadata plus user options into settings, how to run, and which
report figures to draw. Adding a measurement means adding a module here, not editing an
``if`` chain anywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microscope_qc.instrument import MicroscopeSettings, Source, settings_from_metadata
from microscope_qc.io import AcquisitionMetadata, ImageData
from microscope_qc.report import Figure
from microscope_qc.results import ProgressCallback, Result

__all__ = [
    "Measurement",
    "register",
    "get_measurement",
    "MEASUREMENTS",
    "microscope_settings",
    "add_common_arguments",
]


@dataclass(frozen=True)
class Measurement:
    """One QC measurement as the CLI, reports and history see it."""

    name: str
    title: str
    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[list[ImageData], argparse.Namespace, ProgressCallback | None], Result]
    figures: Callable[[Result], Sequence[Figure]]
    table_columns: Sequence[str]  # metric names shown in the CLI summary table
    #: how the input files group into analyses (default: one file each)
    jobs: Callable[[argparse.Namespace], list[list[Path]]] | None = None
    #: extra files written after the standard export (e.g. a flat-field image)
    after_export: Callable[[Result, Path, argparse.Namespace], dict[str, Path]] | None = None
    #: checks (and pre-parses) the measurement's options once, before any file is read; raises
    #: AnalysisError with a one-line message for a bad option (the CLI exits with "bad input")
    check_args: Callable[[argparse.Namespace], None] | None = None


MEASUREMENTS: dict[str, Measurement] = {}


def register(measurement: Measurement) -> Measurement:
    if measurement.name in MEASUREMENTS:
        raise ValueError(f"Measurement {measurement.name!r} is registered twice.")
    MEASUREMENTS[measurement.name] = measurement
    return measurement


def get_measurement(name: str) -> Measurement:
    try:
        return MEASUREMENTS[name]
    except KeyError:
        raise KeyError(f"Unknown measurement {name!r}; known: {', '.join(sorted(MEASUREMENTS))}.") from None


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every measurement shares (DESIGN.md results contract)."""
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
    """Options that tie a run to an instrument profile and the QC history."""
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


def profile_from_args(args: argparse.Namespace):
    """The instrument profile named on the command line, or None."""
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
    """File metadata first, then the instrument profile fills what the file lacks, then user overrides
    on top; each value keeps its source (file, instrument, user).

    ``overrides`` keys: voxel_size_um, na, immersion_index, modality, pinhole_au,
    bead_diameter_um, wavelength_ex_nm, wavelength_em_nm (lists); ``None`` values are ignored.
    """
    ms = settings_from_metadata(metadata, n_channels)
    profile = profile_from_args(args) if args is not None else None
    if profile is not None:
        from microscope_qc.profiles import merge_settings

        ms = merge_settings(ms, profile.settings_for(args.objective, args.channel_preset))
    scalar = {
        k: overrides.get(k)
        for k in ("voxel_size_um", "na", "immersion_index", "modality", "pinhole_au", "bead_diameter_um")
    }
    ms = ms.with_values(Source.USER, **scalar)
    ex, em = overrides.get("wavelength_ex_nm"), overrides.get("wavelength_em_nm")
    if ex is not None or em is not None:
        ms = ms.with_wavelengths(ex, em, Source.USER)
    return ms


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
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


# importing the modules registers them
from microscope_qc.measurements import coregistration as _coregistration  # noqa: E402,F401
from microscope_qc.measurements import field as _field  # noqa: E402,F401
from microscope_qc.measurements import psf as _psf  # noqa: E402,F401

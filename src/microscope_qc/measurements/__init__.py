"""The registry of measurements.

The registry is what the CLI, the ``sample`` command, reports, the history and the widgets
enumerate.

Each measurement is one package or module that defines a :class:`~.entry.Measurement` (plain
data: name, title, analysis function, settings type, inputs, item table, figures, labels,
samples, and how the command line runs it) and one line in :data:`REGISTRY` below. Nothing
registers itself by being imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from microscope_qc.measurements.coregistration import COREGISTRATION
from microscope_qc.measurements.detector import DETECTOR
from microscope_qc.measurements.entry import BatchItem, CommandLine, InputKind, Measurement, Sample
from microscope_qc.measurements.field import FIELD
from microscope_qc.measurements.image_quality import IMAGE_QUALITY
from microscope_qc.measurements.light_source import LIGHT_SOURCE
from microscope_qc.measurements.mirror import MIRROR
from microscope_qc.measurements.options import (
    DeferredParser,
    add_common_arguments,
    add_instrument_arguments,
    microscope_settings,
    overrides_from_args,
    profile_from_args,
)
from microscope_qc.measurements.pattern import PATTERN
from microscope_qc.measurements.psf import PSF
from microscope_qc.measurements.resolution import RESOLUTION
from microscope_qc.measurements.stage import STAGE

if TYPE_CHECKING:
    from microscope_qc.profiles import InstrumentProfile

__all__ = [
    "Measurement",
    "CommandLine",
    "BatchItem",
    "InputKind",
    "Sample",
    "REGISTRY",
    "MEASUREMENTS",
    "get_measurement",
    "all_samples",
    "find_sample",
    "metric_names",
    "load_checked_profile",
    "check_tolerance_metrics",
    "DeferredParser",
    "add_common_arguments",
    "add_instrument_arguments",
    "microscope_settings",
    "overrides_from_args",
    "profile_from_args",
]

#: every measurement, in the order the command line lists them: one line per measurement
REGISTRY: tuple[Measurement[Any], ...] = (
    PSF,
    FIELD,
    COREGISTRATION,
    DETECTOR,
    LIGHT_SOURCE,
    STAGE,
    RESOLUTION,
    MIRROR,
    IMAGE_QUALITY,
    PATTERN,
)

MEASUREMENTS: dict[str, Measurement[Any]] = {m.name: m for m in REGISTRY}


def get_measurement(name: str) -> Measurement[Any]:
    """Return the registered measurement called ``name``.

    Parameters
    ----------
    name : str
        The measurement's name, e.g. ``"psf"``.

    Returns
    -------
    Measurement
        Its registry entry.

    Raises
    ------
    KeyError
        If no measurement has that name (the message lists the known ones).
    """
    try:
        return MEASUREMENTS[name]
    except KeyError:
        raise KeyError(f"Unknown measurement {name!r}; known: {', '.join(sorted(MEASUREMENTS))}.") from None


def all_samples() -> dict[str, tuple[Measurement[Any], Sample[Any]]]:
    """Return every synthetic sample by key, with the measurement it is for.

    Returns
    -------
    dict
        ``{key: (measurement, sample)}`` in registry order.
    """
    return {s.key: (m, s) for m in REGISTRY for s in m.samples}


def metric_names() -> dict[str, list[str]]:
    """Every metric name a tolerance may name, per measurement.

    Returns
    -------
    dict
        ``{measurement name: [metric names]}`` from each entry's label table.
    """
    return {m.name: sorted(m.labels) for m in REGISTRY}


def load_checked_profile(path: str | Path) -> InstrumentProfile:
    """Read an instrument profile and check that its tolerances name real metrics.

    A typo in a tolerance's metric would otherwise leave the default limit in force, silently.

    Parameters
    ----------
    path : str or Path
        The profile file.

    Returns
    -------
    InstrumentProfile
        The validated profile.

    Raises
    ------
    ProfileError
        If the profile cannot be read, is invalid, or a tolerance names an unknown metric (the
        message lists the closest known names).
    """
    from microscope_qc.profiles import load_profile

    profile = load_profile(path)
    check_tolerance_metrics(profile, str(path))
    return profile


def check_tolerance_metrics(profile: InstrumentProfile, where: str) -> None:
    """Check that every tolerance of a profile names a metric some measurement reports.

    Parameters
    ----------
    profile : InstrumentProfile
        The profile.
    where : str
        Where it came from, for the message.

    Raises
    ------
    ProfileError
        Naming the unknown metric and the closest known names.
    """
    import difflib

    from microscope_qc.profiles import ProfileError

    known = sorted({n for names in metric_names().values() for n in names})
    for t in profile.tolerances:
        if t.metric not in known:
            close = difflib.get_close_matches(t.metric, known, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}?" if close else f"known metrics: {', '.join(known)}"
            raise ProfileError(f"{where}: the tolerance names an unknown metric {t.metric!r}; {hint}")


def find_sample(key: str) -> tuple[Measurement[Any], Sample[Any]]:
    """Return a synthetic sample by its key (or an earlier key it is still known by).

    Parameters
    ----------
    key : str
        The key, as napari's File ▸ Open Sample and ``microscope-qc sample`` name it.

    Returns
    -------
    tuple
        ``(measurement, sample)``.

    Raises
    ------
    KeyError
        If no sample has that key (the message lists the known ones).
    """
    for m in REGISTRY:
        for s in m.samples:
            if key == s.key or key in s.aliases:
                return m, s
    raise KeyError(f"Unknown sample {key!r}; known: {', '.join(all_samples())}.")

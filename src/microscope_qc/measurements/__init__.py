"""The registry of measurements.

The registry is what the CLI, the ``sample`` command, reports, the history and the widgets
enumerate.

Each measurement is one package or module that defines a :class:`~.entry.Measurement` (plain
data: name, title, analysis function, settings type, inputs, item table, figures, labels,
samples, and how the command line runs it) and one line in :data:`REGISTRY` below. Nothing
registers itself by being imported.
"""

from __future__ import annotations

from typing import Any

from microscope_qc.measurements.coregistration import COREGISTRATION
from microscope_qc.measurements.entry import CommandLine, InputKind, Measurement, Sample
from microscope_qc.measurements.field import FIELD
from microscope_qc.measurements.options import (
    add_common_arguments,
    add_instrument_arguments,
    microscope_settings,
    overrides_from_args,
    profile_from_args,
)
from microscope_qc.measurements.psf import PSF

__all__ = [
    "Measurement",
    "CommandLine",
    "InputKind",
    "Sample",
    "REGISTRY",
    "MEASUREMENTS",
    "get_measurement",
    "all_samples",
    "find_sample",
    "add_common_arguments",
    "add_instrument_arguments",
    "microscope_settings",
    "overrides_from_args",
    "profile_from_args",
]

#: every measurement, in the order the command line lists them: one line per measurement
REGISTRY: tuple[Measurement[Any], ...] = (PSF, FIELD, COREGISTRATION)

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

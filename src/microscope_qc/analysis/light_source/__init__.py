"""Light-source power and stability (QUAREP-LiMi WG1) from a power-meter log or an image series.

A log (:func:`parse_power_log`: Thorlabs PM100/PM400 Optical Power Monitor exports, SmartLPM and
QUAREP tool-kit column conventions, or any CSV/TSV with a time and a power column) or the
dark-subtracted mean intensity per frame of a uniform sample (:func:`log_from_frames`) is
split per wavelength, then into plateaus (light on at one level), and gives the stability
S, the CV, the drift per hour, the warm-up time, the linearity of power vs set-point, the
Allan deviation and the change from the previous record (docs/light-source.md).

The names below load on first use (:mod:`microscope_qc._lazy`): importing
:class:`LightSourceSettings` reads the settings module only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.light_source.analyze import analyze_light_source
    from microscope_qc.analysis.light_source.powerlog import PowerLog, check_order, parse_power_log
    from microscope_qc.analysis.light_source.result import LightSourceResult
    from microscope_qc.analysis.light_source.series import log_from_frames
    from microscope_qc.analysis.light_source.settings import LightSourceSettings, PowerUnit

__all__ = [
    "LightSourceSettings",
    "PowerUnit",
    "LightSourceResult",
    "analyze_light_source",
    "log_from_frames",
    "PowerLog",
    "parse_power_log",
    "check_order",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LightSourceSettings": "settings",
        "PowerUnit": "settings",
        "LightSourceResult": "result",
        "analyze_light_source": "analyze",
        "log_from_frames": "series",
        "PowerLog": "powerlog",
        "parse_power_log": "powerlog",
        "check_order": "powerlog",
    },
)

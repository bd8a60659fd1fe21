"""Stage and focus: repeatability (QUAREP-LiMi WG6, ISO 230-2) and drift (MetroloJ_QC drift profiler).

One bead per frame is found with the shared detector (:mod:`microscope_qc.detection`) and
localised with the shared fitting engine (:mod:`microscope_qc.fitting`); frames with no bead or
more than one are reported and left out. Repeatability: the SD of the bead position per axis,
approach direction and move distance, and the ISO 230-2 unidirectional and bidirectional
repeatability and reversal value. Drift: positions relative to t0, displacements, velocities,
MSD, MetroloJ_QC's stabilisation time, statistics before and after it, and the focus drift
(docs/stage.md).

The names below load on first use (:mod:`microscope_qc._lazy`): importing :class:`StageSettings`
reads the settings module only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.analysis.stage.analyze import analyze_stage
    from microscope_qc.analysis.stage.drift import analyze_track, msd_table, stabilisation_index
    from microscope_qc.analysis.stage.localise import Localisations, localise_frames
    from microscope_qc.analysis.stage.repeatability import (
        DIAGONALS,
        Iso230,
        group_statistics,
        iso230_2,
        moves_table,
        wg6_moves,
    )
    from microscope_qc.analysis.stage.result import StageResult
    from microscope_qc.analysis.stage.settings import WG6_DISTANCES_UM, StageMode, StageSettings

__all__ = [
    "StageSettings",
    "StageMode",
    "StageResult",
    "analyze_stage",
    "localise_frames",
    "Localisations",
    "wg6_moves",
    "moves_table",
    "iso230_2",
    "Iso230",
    "group_statistics",
    "stabilisation_index",
    "analyze_track",
    "msd_table",
    "DIAGONALS",
    "WG6_DISTANCES_UM",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "StageSettings": "settings",
        "StageMode": "settings",
        "WG6_DISTANCES_UM": "settings",
        "StageResult": "result",
        "analyze_stage": "analyze",
        "localise_frames": "localise",
        "Localisations": "localise",
        **dict.fromkeys(
            ("wg6_moves", "moves_table", "iso230_2", "Iso230", "group_statistics", "DIAGONALS"),
            "repeatability",
        ),
        **dict.fromkeys(("stabilisation_index", "analyze_track", "msd_table"), "drift"),
    },
)

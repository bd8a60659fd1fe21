"""QC history: every run recorded over time, trends, and reports across a period.

The names below load on first use (:mod:`microscope_qc._lazy`): SQLAlchemy, pandas and SciPy are
imported when a history is opened or a trend computed, not when the command line starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from microscope_qc._lazy import lazy_exports

if TYPE_CHECKING:
    from microscope_qc.history.locations import HistoryError, HistoryNotFound, default_history_url
    from microscope_qc.history.schema import SCHEMA_VERSION
    from microscope_qc.history.store import HistoryStore, RunRecord
    from microscope_qc.history.trends import DriftResult, detect_drift

__all__ = [
    "SCHEMA_VERSION",
    "HistoryError",
    "HistoryNotFound",
    "HistoryStore",
    "RunRecord",
    "default_history_url",
    "DriftResult",
    "detect_drift",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SCHEMA_VERSION": "schema",
        "HistoryError": "locations",
        "HistoryNotFound": "locations",
        "default_history_url": "locations",
        "HistoryStore": "store",
        "RunRecord": "store",
        "DriftResult": "trends",
        "detect_drift": "trends",
    },
)

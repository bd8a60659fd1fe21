"""QC history: every run recorded over time, trends, and reports across a period."""

from microscope_qc.history.store import (
    SCHEMA_VERSION,
    HistoryError,
    HistoryNotFound,
    HistoryStore,
    RunRecord,
    default_history_url,
)
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

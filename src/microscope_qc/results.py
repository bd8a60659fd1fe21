"""Result types shared by every measurement: metrics with units and uncertainty, verdicts, tables.

The JSON produced by :meth:`Result.to_dict` is the results contract of ``DESIGN.md``;
scripts, the history store and reports depend on its shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from microscope_qc.errors import QCError
from microscope_qc.instrument import Setting
from microscope_qc.tables import Tables

if TYPE_CHECKING:
    import pandas as pd

# numpy is imported where it is used: the command line imports this module to build its parser

__all__ = [
    "Metric",
    "Verdict",
    "Result",
    "Limit",
    "Limits",
    "AnalysisError",
    "AnalysisCancelled",
    "ProgressCallback",
    "CancelCheck",
    "robust_summary",
    "Comparison",
]

#: How a verdict compares a value with its threshold.
Comparison = Literal["<=", ">="]

#: ``progress(fraction, message)`` with fraction in [0, 1].
ProgressCallback = Callable[[float, str], None]
#: Returns True when the caller wants the analysis to stop.
CancelCheck = Callable[[], bool]


class AnalysisError(QCError):
    """Input an analysis cannot work with; the message says what to do about it (a :class:`QCError`)."""


class AnalysisCancelled(RuntimeError):
    """Raised inside an analysis when its cancel check returned True."""


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: numpy scalars to Python, NaN/inf to None."""
    import numpy as np

    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Metric:
    """A headline number: value, unit, uncertainty (one standard error unless ``uncertainty_kind`` says)."""

    name: str
    value: float
    unit: str | None
    uncertainty: float | None = None
    channel: int | None = None
    description: str = ""
    uncertainty_kind: str = "standard error"

    def to_dict(self) -> dict[str, Any]:
        """The metric as JSON-safe values (NaN and infinities become ``None``).

        Returns
        -------
        dict of str to object
            ``value``, ``unit``, ``uncertainty``, ``uncertainty_kind``, ``channel`` and
            ``description``.
        """
        return {
            k: _clean(v)
            for k, v in {
                "value": self.value,
                "unit": self.unit,
                "uncertainty": self.uncertainty,
                "uncertainty_kind": self.uncertainty_kind,
                "channel": self.channel,
                "description": self.description,
            }.items()
        }


@dataclass(frozen=True)
class Verdict:
    """Pass/fail of one metric against a named threshold and where the threshold came from."""

    metric: str
    passed: bool
    value: float
    threshold: float
    comparison: Comparison
    source: str  # e.g. "default (MetroloJ_QC)" or "user"
    channel: int | None = None

    @classmethod
    def check(
        cls,
        metric: str,
        value: float,
        threshold: float,
        comparison: Comparison,
        source: str,
        channel: int | None = None,
    ) -> Verdict:
        """Judge ``value`` against ``threshold``; a non-finite value always fails.

        Parameters
        ----------
        metric : str
            Name of the metric judged.
        value : float
            The measured value.
        threshold : float
            The limit it is compared with.
        comparison : {"<=", ">="}
            Pass when ``value <= threshold`` or ``value >= threshold``.
        source : str
            Where the threshold came from, e.g. ``"default (MetroloJ_QC)"`` or ``"user"``.
        channel : int or None, optional
            The channel the metric belongs to.

        Returns
        -------
        Verdict
            The verdict, with ``value`` and ``threshold`` as Python floats.

        Raises
        ------
        ValueError
            If ``comparison`` is neither ``"<="`` nor ``">="``.
        """
        if comparison == "<=":
            passed = bool(value <= threshold)
        elif comparison == ">=":
            passed = bool(value >= threshold)
        else:
            raise ValueError(f"comparison must be '<=' or '>=', not {comparison!r}")
        if not math.isfinite(value):
            passed = False
        return cls(metric, passed, float(value), float(threshold), comparison, source, channel)

    @property
    def text(self) -> str:
        """One line for logs and the terminal, e.g. ``PASS fwhm_x [ch 0] = 0.21 (limit <= 0.3, user)``."""
        state = "PASS" if self.passed else "FAIL"
        ch = f" [ch {self.channel}]" if self.channel is not None else ""
        return f"{state} {self.metric}{ch} = {self.value:.3g} (limit {self.comparison} {self.threshold:g}, {self.source})"

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-safe values (a non-finite value becomes ``None``).

        Returns
        -------
        dict of str to object
            ``metric``, ``passed``, ``value``, ``threshold``, ``comparison``, ``source`` and ``channel``.
        """
        return {
            k: _clean(v)
            for k, v in {
                "metric": self.metric,
                "passed": self.passed,
                "value": self.value,
                "threshold": self.threshold,
                "comparison": self.comparison,
                "source": self.source,
                "channel": self.channel,
            }.items()
        }


@dataclass(frozen=True)
class Limit:
    """A facility's limit on one metric: pass if ``min <= value <= max`` (either may be absent)."""

    metric: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Limits:
    """The limits an analysis judges its metrics against, and where they come from.

    They replace the analysis' default verdicts for those metrics; ``source`` names their
    origin (e.g. ``"instrument 'Scope A'"``).
    """

    items: tuple[Limit, ...] = ()
    source: str = "user"

    def apply(self, result: Result) -> None:
        """One verdict per limit and channel, replacing the default verdict of that metric and channel.

        Parameters
        ----------
        result : Result
            The result whose ``verdicts`` are updated in place.
        """
        for lim in self.items:
            for m in [m for m in result.metrics if m.name == lim.metric]:
                result.verdicts = [
                    v for v in result.verdicts if not (v.metric == lim.metric and v.channel == m.channel)
                ]
                if lim.min is not None:
                    result.verdicts.append(
                        Verdict.check(lim.metric, m.value, lim.min, ">=", self.source, m.channel)
                    )
                if lim.max is not None:
                    result.verdicts.append(
                        Verdict.check(lim.metric, m.value, lim.max, "<=", self.source, m.channel)
                    )


@dataclass
class Result:
    """What every ``analyze_<stem>`` returns.

    ``tables`` holds per-item tables (e.g. ``"beads"``), a :class:`~microscope_qc.tables.Tables`
    (entries may be kept as numpy columns until read, so that exporting them needs no pandas);
    ``images`` holds arrays for overlays and reports (field maps, averaged bead), never written
    to JSON.
    """

    measurement: str
    metrics: list[Metric] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    settings: dict[str, Setting] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=Tables)
    images: dict[str, Any] = field(default_factory=dict)

    def metric(self, name: str, channel: int | None = 0) -> Metric:
        """Look a metric up by name (and channel).

        Parameters
        ----------
        name : str
            The metric's name.
        channel : int or None, optional
            The channel; ``None`` matches any channel (the first metric of that name).

        Returns
        -------
        Metric
            The first matching metric.

        Raises
        ------
        KeyError
            If no metric matches.
        """
        for m in self.metrics:
            if m.name == name and (m.channel == channel or channel is None):
                return m
        raise KeyError(f"No metric {name!r} for channel {channel}.")

    @property
    def passed(self) -> bool:
        """True when every verdict passed (and when there are none)."""
        return all(v.passed for v in self.verdicts)

    def metrics_dict(self) -> dict[str, dict[str, Any]]:
        """Metrics keyed by name, with ``@ch<N>`` appended when a measurement has several channels."""
        channels = {m.channel for m in self.metrics if m.channel is not None}
        out: dict[str, dict[str, Any]] = {}
        for m in self.metrics:
            key = m.name if len(channels) <= 1 or m.channel is None else f"{m.name}@ch{m.channel}"
            out[key] = m.to_dict()
        return out

    def to_dict(self) -> dict[str, Any]:
        """The part of ``results.json`` that comes from the analysis (software and input are added on export)."""
        return {
            "measurement": self.measurement,
            "settings": {k: _clean(v.to_dict()) for k, v in self.settings.items()},
            "metrics": self.metrics_dict(),
            "verdicts": [v.to_dict() for v in self.verdicts],
            "passed": self.passed,
            "warnings": list(self.warnings),
        }


def robust_summary(values: Iterable[float]) -> tuple[float, float, float, int]:
    """Median, robust SD (1.4826·MAD), standard error of the median and count of finite values.

    The standard error uses the large-sample 1.2533·SD/sqrt(n) for a median.

    Parameters
    ----------
    values : iterable of float
        The values; NaN and infinities are left out.

    Returns
    -------
    median, robust_sd, se_median : float
        NaN when there are no finite values (the spreads also when there is only one).
    n : int
        The number of finite values.
    """
    import numpy as np

    x = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    med = float(np.median(x))
    sd = float(1.4826 * np.median(np.abs(x - med))) if n > 1 else math.nan
    if n > 1 and sd == 0:
        sd = float(np.std(x, ddof=1))
    se = 1.2533 * sd / math.sqrt(n) if n > 1 else math.nan
    return med, sd, se, n

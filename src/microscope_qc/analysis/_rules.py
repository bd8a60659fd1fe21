"""What the measurements' rule tables share: a :class:`Rule` row and the look-ups its code needs.

Each measurement keeps its rule table in ``analysis/<measurement>/findings.py``: a tuple
``RULES`` of :class:`Rule` (the fault, the metrics it reads, the threshold and why, the wording)
and ``findings(result)``, which applies them. The rows are data so that the docs page listing
every rule (``docs/findings.md``) is generated from them; the thresholds are the measurement's
verdict limits where it has them (a facility's limit then replaces the default, as for the
verdict), else the constant named in the row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from microscope_qc.findings import FAULTS, Evidence, Finding, Severity
from microscope_qc.results import Metric, Result, Verdict

__all__ = ["Rule", "metric_of", "verdict_of", "evidence", "channel_name", "channels_of", "limit_text"]


@dataclass(frozen=True)
class Rule:
    """One row of a measurement's rule table.

    Parameters
    ----------
    fault : str
        The fault code (:data:`microscope_qc.findings.FAULTS`).
    metrics : tuple of str
        The result's metrics the rule reads.
    threshold : str
        When the fault is named (and when a NOTE is given), in words with the numbers.
    why : str
        Where the threshold comes from.
    statement : str
        What was measured, a ``str.format`` template filled by the rule's code (e.g. "illumination
        centre {offset:.0f} % of the half-diagonal from the image centre").
    """

    fault: str
    metrics: tuple[str, ...]
    threshold: str
    why: str
    statement: str

    @property
    def title(self) -> str:
        """The fault's human name."""
        return FAULTS[self.fault].title

    def finding(
        self,
        severity: Severity,
        evidence: tuple[Evidence, ...],
        channel: str | None = None,
        **values: object,
    ) -> Finding:
        """The finding of this rule: its statement filled in, with the remedy when it is a fault.

        Parameters
        ----------
        severity : Severity
            OK (checked, not found), NOTE or FAULT.
        evidence : tuple of Evidence
            The numbers that support it.
        channel : str, optional
            The channel it applies to.
        **values
            The statement's placeholders.

        Returns
        -------
        Finding
            "Off-centre illumination: <statement>: <remedy>." for a fault, "<title> (within
            tolerance): <statement>." for a note, "No <title, lower case>: <statement>." when
            the check found nothing.
        """
        said = self.statement.format(**values)
        if severity is Severity.FAULT:
            text = f"{self.title}: {said}: {FAULTS[self.fault].remedy}."
        elif severity is Severity.NOTE:
            text = f"{self.title} (within tolerance): {said}."
        else:
            text = f"No {self.title[0].lower() + self.title[1:]}: {said}."
        return Finding(self.fault, severity, text, evidence, channel)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def metric_of(result: Result, name: str, channel: int | None) -> Metric | None:
    """The metric of that name and channel, or None when absent or not a finite number.

    Parameters
    ----------
    result : Result
        An analysis result.
    name : str
        The metric's name.
    channel : int or None
        Its channel (None: the metric has no channel).

    Returns
    -------
    Metric or None
        The metric.
    """
    for m in result.metrics:
        if m.name == name and m.channel == channel:
            return m if _finite(m.value) else None
    return None


def verdict_of(result: Result, name: str, channel: int | None) -> Verdict | None:
    """The verdict on that metric and channel (a facility's limit, when it replaced the default).

    Parameters
    ----------
    result : Result
        An analysis result.
    name : str
        The metric judged.
    channel : int or None
        Its channel.

    Returns
    -------
    Verdict or None
        The last verdict on it.
    """
    found = [v for v in result.verdicts if v.metric == name and v.channel == channel]
    return found[-1] if found else None


def limit_text(verdict: Verdict, unit: str = "", source: bool = False) -> str:
    """The verdict's rule in words, e.g. "≥ 50 %" or, with its source, "≥ 50 %, default (MetroloJ_QC)".

    Parameters
    ----------
    verdict : Verdict
        A verdict.
    unit : str
        The unit written after the threshold (after a space).
    source : bool
        Add where the threshold came from.

    Returns
    -------
    str
        Comparison and threshold (and source).
    """
    sign = "≥" if verdict.comparison == ">=" else "≤"
    sep = "" if unit == "" else " "
    text = f"{sign} {verdict.threshold:g}{sep}{unit}"
    return f"{text}, {verdict.source}" if source else text


def evidence(
    metric: Metric, label: str, limit: str = "", scale: float = 1.0, unit: str | None = None
) -> Evidence:
    """A metric as evidence (its value and standard error; None when not estimable).

    Parameters
    ----------
    metric : Metric
        The metric.
    label : str
        What it is, in words.
    limit : str
        The rule it was compared with ("" when it is context only).
    scale : float
        Factor applied to value and uncertainty (e.g. 1/60 for seconds to minutes).
    unit : str, optional
        The unit after scaling (default: the metric's, "" for none).

    Returns
    -------
    Evidence
        The evidence.
    """
    se = metric.uncertainty if _finite(metric.uncertainty) else None
    return Evidence(
        label,
        float(metric.value) * scale,
        None if se is None else float(se) * abs(scale),
        (metric.unit or "") if unit is None else unit,
        limit,
    )


def channels_of(result: Result, name: str) -> list[int | None]:
    """The channels that have a metric of that name, in the result's order.

    Parameters
    ----------
    result : Result
        An analysis result.
    name : str
        A metric name.

    Returns
    -------
    list of int or None
        Channels (None for a metric without a channel).
    """
    out: list[int | None] = []
    for m in result.metrics:
        if m.name == name and m.channel not in out:
            out.append(m.channel)
    return out


def channel_name(result: Result, channel: int | None) -> str | None:
    """The channel's name for a finding: None when the result has one channel only.

    Parameters
    ----------
    result : Result
        An analysis result.
    channel : int or None
        The channel index.

    Returns
    -------
    str or None
        "ch N" (or the channel's name when the result records names), None for a single channel.
    """
    if channel is None:
        return None
    if len({m.channel for m in result.metrics if m.channel is not None}) <= 1:
        return None
    names = getattr(result, "channel_names", None)
    if isinstance(names, list) and 0 <= channel < len(names) and names[channel]:
        return str(names[channel])
    return f"ch {channel}"

"""How a verdict reads: the one wording of a limit and of a pass/fail line, for every front end.

The HTML report (a table row per verdict), the dock widgets (coloured PASS/FAIL lines) and the
history's trend plots ("limit ≤ …") lay verdicts out differently, but the words, the comparison
sign, the number format and the unit come from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microscope_qc.report.labels import display_unit, label
from microscope_qc.results import Verdict

__all__ = ["comparison_sign", "unit_suffix", "limit_text", "verdict_text"]

_SIGNS = {"<=": "≤", ">=": "≥"}


def comparison_sign(comparison: str) -> str:
    """Return a comparison's sign: ``"<="`` → ``"≤"``, ``">="`` → ``"≥"`` (anything else unchanged).

    Parameters
    ----------
    comparison : str
        The comparison as stored in a verdict.

    Returns
    -------
    str
        The sign.
    """
    return _SIGNS.get(comparison, comparison)


def unit_suffix(measurement: str | None, metric: str) -> str:
    """Return the metric's unit as written after a number: ``" µm"``, ``"%"``, ``"°"``, or ``""``.

    Parameters
    ----------
    measurement : str or None
        The measurement whose label table to use (None: any).
    metric : str
        The metric's name.

    Returns
    -------
    str
        The suffix.
    """
    unit = display_unit(label(measurement, metric).unit)
    return f" {unit}" if unit and unit not in ("%", "°") else unit


def _number(value: Any, fmt: str) -> str:
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return "—"


def limit_text(measurement: str | None, metric: str, comparison: str, threshold: float) -> str:
    """Render the limit a metric is judged against: ``"≤ 0.2534 µm"``.

    Parameters
    ----------
    measurement : str or None
        The measurement whose label table to use (None: any).
    metric : str
        The metric's name.
    comparison : str
        ``"<="`` or ``">="``.
    threshold : float
        The limit.

    Returns
    -------
    str
        The limit as text.
    """
    return f"{comparison_sign(comparison)} {_number(threshold, '.4g')}{unit_suffix(measurement, metric)}"


def verdict_text(measurement: str | None, verdict: Verdict | Mapping[str, Any]) -> str:
    """Render one verdict as a sentence with the metric's human label.

    For example ``"PASS: Lateral FWHM x (channel 0) 0.221 µm (limit ≤ 0.2534 µm, theory)"``.

    Plain text: escape it for HTML.

    Parameters
    ----------
    measurement : str or None
        The measurement whose label table to use (None: any).
    verdict : Verdict or mapping
        A :class:`microscope_qc.results.Verdict` or its ``to_dict()`` (results.json).

    Returns
    -------
    str
        The sentence.
    """
    v = verdict.to_dict() if isinstance(verdict, Verdict) else verdict
    metric, channel = v["metric"], v.get("channel")
    chan = "" if channel is None else f" (channel {channel})"
    value = v.get("value")
    value_text = "—" if value is None else f"{_number(value, '.3g')}{unit_suffix(measurement, metric)}"
    return (
        f"{'PASS' if v['passed'] else 'FAIL'}: {label(measurement, metric).text}{chan} {value_text} "
        f"(limit {limit_text(measurement, metric, v['comparison'], v['threshold'])}, {v['source']})"
    )

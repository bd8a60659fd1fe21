"""The light-source rule table: what a power log says about the laser or LED.

One row per fault (:data:`RULES`); :func:`findings` applies them to every light of the log that
holds one steady level (a log stepping through set-points is judged per plateau by the analysis
and has no warm-up or drift to read). QUAREP WG1 publishes no pass limits (they are per
facility), so the thresholds here are stated house defaults; the user's limits on stability
(``min_stability_percent``, a facility's limits) replace the stability threshold, as they give
the verdict.
"""

from __future__ import annotations

import math

from microscope_qc.analysis._rules import (
    Rule,
    channel_name,
    channels_of,
    evidence,
    limit_text,
    metric_of,
    verdict_of,
)
from microscope_qc.findings import FAULTS, Evidence, Finding, Severity
from microscope_qc.results import Result

__all__ = [
    "RULES",
    "WARMUP_FAULT_S",
    "WARMUP_NOTE_S",
    "MIN_STABILITY_PERCENT",
    "MAX_DRIFT_PERCENT_PER_H",
    "findings",
]

#: warm-up time above which it is a fault (s)
WARMUP_FAULT_S = 1800.0
#: warm-up time above which it is noted (s)
WARMUP_NOTE_S = 600.0
#: stability after warm-up, 1 − (Pmax − Pmin)/(Pmax + Pmin), below which the source is unstable (%)
MIN_STABILITY_PERCENT = 98.0
#: significant drift above which the source is unstable (% of the level per hour)
MAX_DRIFT_PERCENT_PER_H = 1.0

_WARMUP = Rule(
    "warm_up",
    ("warmup_time_s",),
    f"fault: warm-up longer than {WARMUP_FAULT_S / 60:g} min; note: longer than {WARMUP_NOTE_S / 60:g} min (warm-up: "
    "the first time after which every reading stays within the warm-up tolerance of the final plateau)",
    "house defaults: the usual advice is to switch lasers on half an hour before imaging, and diode lasers and LEDs "
    "settle within minutes; a source needing longer delays every session",
    "the power settles within {tol:g} % of its final level after {minutes:.3g} min",
)
_UNSTABLE = Rule(
    "unstable_light_source",
    ("stability_after_warmup_percent", "drift_percent_per_h"),
    f"fault: stability after warm-up below {MIN_STABILITY_PERCENT:g} % (peak-to-peak beyond ±{100 - MIN_STABILITY_PERCENT:g} "
    f"%; the user's limit replaces it), or a drift beyond 2 SE and above {MAX_DRIFT_PERCENT_PER_H:g} % per hour, or "
    "no stable plateau: the warm-up ends inside the final window the final level is taken from (the last "
    "final_window_percent of the log, default 10 %), so the power never held its own final level",
    "house defaults: laser and LED datasheets quote about 1–2 % peak-to-peak over hours; a 1 %/h drift changes a "
    "one-hour time-lapse's intensities more than its noise. A source still straying beyond the warm-up tolerance "
    "within the window that defines its final level has no stable plateau in the recording: that is instability "
    "itself, and the stability 'after warm-up' of the few readings left would say nothing",
    "stability after warm-up {stab:.2f} % (limit {limit}); drift {drift} % per hour",
)

#: the light-source rule table
RULES: tuple[Rule, ...] = (_WARMUP, _UNSTABLE)


def _pm(value: float, se: float | None) -> str:
    return f"{value:+.2g}" if se is None or not math.isfinite(se) else f"{value:+.2g} ± {se:.2g}"


def _setting(result: Result, name: str, default: float) -> float:
    value = getattr(result.settings.get(name), "value", None)
    return float(value) if isinstance(value, int | float) else default


def _never_settles(result: Result, c: int | None, ch: str | None) -> Finding | None:
    """The finding when the warm-up ends inside the final window: no stable plateau in the log."""
    warm, duration = metric_of(result, "warmup_time_s", c), metric_of(result, "duration_s", c)
    if warm is None or duration is None or duration.value <= 0:
        return None
    window = _setting(result, "final_window_percent", 10.0)
    plateau_start = duration.value * (1 - window / 100)
    if warm.value <= plateau_start:
        return None
    tol = _tolerance(result)
    ev = (
        evidence(
            warm,
            "warm-up time (last reading beyond the tolerance)",
            f"≤ {plateau_start / 60:.3g} min (start of the final window)",
            scale=1 / 60,
            unit="min",
        ),
        evidence(duration, "recording", scale=1 / 60, unit="min"),
    )
    text = (
        f"{_UNSTABLE.title}: no stable plateau: the power strays beyond ±{tol:g} % of its final level until "
        f"{warm.value / 60:.3g} min of a {duration.value / 60:.3g} min log, inside the last {window:g} % the final "
        f"level is taken from, so it never held a steady level and its stability after warm-up cannot be "
        f"measured: {FAULTS[_UNSTABLE.fault].remedy}."
    )
    return Finding(_UNSTABLE.fault, Severity.FAULT, text, ev, ch)


def _tolerance(result: Result) -> float:
    s = result.settings.get("warmup_tolerance_percent")
    value = getattr(s, "value", None)
    return float(value) if isinstance(value, int | float) else 1.0


def findings(result: Result) -> list[Finding]:
    """What a light-source result says about the source, per light.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.light_source.analyze_light_source`.

    Returns
    -------
    list of Finding
        One finding per rule that could be checked, per light.
    """
    out: list[Finding] = []
    for c in channels_of(result, "stability_after_warmup_percent"):
        ch = channel_name(result, c)
        warm = metric_of(result, "warmup_time_s", c)
        if warm is not None:
            severity = (
                Severity.FAULT
                if warm.value > WARMUP_FAULT_S
                else Severity.NOTE
                if warm.value > WARMUP_NOTE_S
                else Severity.OK
            )
            ev = (evidence(warm, "warm-up time", f"≤ {WARMUP_FAULT_S / 60:g} min", scale=1 / 60, unit="min"),)
            out.append(_WARMUP.finding(severity, ev, ch, tol=_tolerance(result), minutes=warm.value / 60))
        stab = metric_of(result, "stability_after_warmup_percent", c)
        drift = metric_of(result, "drift_percent_per_h", c)
        unsettled = _never_settles(result, c, ch)
        if unsettled is not None:
            out.append(unsettled)
            continue
        if stab is None:
            continue
        v = verdict_of(result, "stability_after_warmup_percent", c)
        if v is not None:
            unstable, lim, lim_src = not v.passed, limit_text(v, "%"), limit_text(v, "%", source=True)
        else:
            unstable = stab.value < MIN_STABILITY_PERCENT
            lim = f"≥ {MIN_STABILITY_PERCENT:g} %"
            lim_src = lim + " (house default)"
        ev2: list[Evidence] = [evidence(stab, "stability after warm-up", lim_src)]
        drifting = False
        if drift is not None:
            se = drift.uncertainty if drift.uncertainty is not None else float("inf")
            drifting = abs(drift.value) > MAX_DRIFT_PERCENT_PER_H and abs(drift.value) > 2 * se
            ev2.append(
                evidence(drift, "drift", f"|drift| ≤ {MAX_DRIFT_PERCENT_PER_H:g} %/h (or within 2 SE)")
            )
        severity = Severity.FAULT if unstable or drifting else Severity.OK
        values = {
            "stab": stab.value,
            "limit": lim,
            "drift": _pm(drift.value, drift.uncertainty) if drift else "n/a",
        }
        out.append(_UNSTABLE.finding(severity, tuple(ev2), ch, **values))
    return out

"""The stage rule table: what repositioning and drift say about the stage and the focus.

One row per fault (:data:`RULES`); :func:`findings` applies those the result's mode measured.
The limits are the analysis's own: the QUAREP WG6 tool-kit's 0.5 µm on the repositioning SD (the
verdict; a facility's limit replaces it) and MetroloJ_QC's stabilisation threshold (the
theoretical lateral resolution unless set) for drift.
"""

from __future__ import annotations

import math

from microscope_qc.analysis._rules import Rule, evidence, limit_text, metric_of, verdict_of
from microscope_qc.findings import Evidence, Finding, Severity
from microscope_qc.results import Result

__all__ = ["RULES", "findings"]

_REPEAT = Rule(
    "stage_repeatability",
    ("sd_max_um",),
    "fault: the largest SD of the bead position (per axis, direction and distance) above its verdict limit "
    "(default 0.5 µm)",
    "QUAREP WG6 tool-kit limit",
    "worst repositioning SD {sd:.3g} µm (limit {limit})",
)
_BACKLASH = Rule(
    "stage_backlash",
    ("iso_reversal_x_um", "iso_reversal_y_um"),
    "fault: the ISO 230-2 reversal value B of an axis larger than the repositioning limit (default 0.5 µm); note: "
    "significant (beyond 2 SE) but within it",
    "a reversal larger than the scatter WG6 allows makes positions depend on the approach direction by more than "
    "that scatter",
    "reversal {b:.3g} µm along {axis} (limit {limit})",
)
_DRIFT = Rule(
    "stage_drift",
    ("stabilisation_time_s", "drift_velocity_um_per_min", "duration_s"),
    "fault: the stage never stabilises (MetroloJ_QC: frame-to-frame displacement below the stabilisation threshold), "
    "or its significant (beyond 2 SE) lateral drift after stabilising moves the bead by more than that threshold over "
    "the recording",
    "MetroloJ_QC stabilisation threshold: the theoretical lateral resolution unless set; a drift beyond it blurs or "
    "misplaces structures in a time-lapse as long as the test",
    "{state}; lateral drift {v:.3g} µm/min, {moved:.3g} µm over {minutes:.3g} min after it (threshold {thr:.3g} µm)",
)

#: the stage rule table
RULES: tuple[Rule, ...] = (_REPEAT, _BACKLASH, _DRIFT)


def _channel(result: Result, name: str) -> int | None:
    return next((m.channel for m in result.metrics if m.name == name), None)


def _repeatability(result: Result) -> list[Finding]:
    c = _channel(result, "sd_max_um")
    sd, v = metric_of(result, "sd_max_um", c), verdict_of(result, "sd_max_um", c)
    if sd is None or v is None:
        return []
    lim, lim_src = limit_text(v, "µm"), limit_text(v, "µm", source=True)
    out = [
        _REPEAT.finding(
            Severity.OK if v.passed else Severity.FAULT,
            (evidence(sd, "worst repositioning SD", lim_src),),
            None,
            sd=sd.value,
            limit=lim,
        )
    ]
    worst: tuple[float, str, Evidence, bool] | None = None
    for axis in "xyz":
        b = metric_of(result, f"iso_reversal_{axis}_um", c)
        if b is None:
            continue
        se = b.uncertainty if b.uncertainty is not None and math.isfinite(b.uncertainty) else math.inf
        ev = evidence(b, f"reversal B ({axis})", lim_src)
        if worst is None or abs(b.value) > worst[0]:
            worst = (abs(b.value), axis, ev, abs(b.value) > 2 * se)
    if worst is not None:
        size, axis, ev, significant = worst
        severity = Severity.FAULT if size > v.threshold else Severity.NOTE if significant else Severity.OK
        out.append(_BACKLASH.finding(severity, (ev,), None, b=size, axis=axis, limit=lim))
    return out


def _drift(result: Result) -> list[Finding]:
    c = _channel(result, "stabilisation_time_s")
    if c is None and not any(m.name == "stabilisation_time_s" for m in result.metrics):
        return []
    thr_setting = result.settings.get("stabilisation_threshold_used_um")
    thr = getattr(thr_setting, "value", None)
    duration = metric_of(result, "duration_s", c)
    vel = metric_of(result, "drift_velocity_um_per_min", c)
    if not isinstance(thr, int | float) or duration is None:
        return []
    stab = metric_of(result, "stabilisation_time_s", c)
    stable = stab is not None
    after_min = (duration.value - (stab.value if stab is not None else 0.0)) / 60
    v = abs(vel.value) if vel is not None else 0.0
    se = vel.uncertainty if vel is not None and vel.uncertainty is not None else math.inf
    significant = math.isfinite(se) and v > 2 * se
    moved = v * after_min
    ev: list[Evidence] = []
    if stab is not None:
        ev.append(evidence(stab, "stabilisation time (MetroloJ_QC)", "stabilises", scale=1 / 60, unit="min"))
    if vel is not None:
        ev.append(evidence(vel, "lateral drift velocity"))
    ev.append(Evidence("lateral drift after stabilising", moved, None, "µm", f"≤ {thr:.3g} µm"))
    severity = Severity.FAULT if not stable or (significant and moved > thr) else Severity.OK
    state = f"stable after {stab.value / 60:.3g} min" if stab is not None else "the stage never stabilised"
    return [
        _DRIFT.finding(
            severity, tuple(ev), None, state=state, v=v, moved=moved, minutes=after_min, thr=float(thr)
        )
    ]


def findings(result: Result) -> list[Finding]:
    """What a stage result says about the stage and the focus.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.stage.analyze_stage` (repeatability or drift).

    Returns
    -------
    list of Finding
        One finding per rule that could be checked.
    """
    return _repeatability(result) + _drift(result)

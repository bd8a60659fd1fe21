"""The field-illumination rule table: what a flat-field result says about the illumination path.

One row per fault (:data:`RULES`); :func:`findings` applies them to every channel. The limits
are the analysis's own verdicts (MetroloJ_QC: U ≥ 50 %, CA ≥ 50 %; no saturated pixel), so a
facility's limits replace them as they replace the verdicts.
"""

from __future__ import annotations

from microscope_qc.analysis._rules import (
    Rule,
    channel_name,
    channels_of,
    evidence,
    limit_text,
    metric_of,
    verdict_of,
)
from microscope_qc.findings import Finding, Severity
from microscope_qc.results import Result

__all__ = ["RULES", "DUST_AREA_PERCENT", "findings"]

#: area share of dust and defects above which dust is a fault (below it, any speck is a note)
DUST_AREA_PERCENT = 1.0

_CENTRE = Rule(
    "off_centre_illumination",
    ("centering_accuracy_percent", "illumination_centre_offset_percent"),
    "fault: centring accuracy below its verdict limit (default CA < 50 %, i.e. the 90–100 % zone's centroid more "
    "than half the half-diagonal off centre); note: the fitted illumination centre further off than half of what "
    "that limit allows (default 25 % of the half-diagonal)",
    "MetroloJ_QC / QUAREP WG3 tolerance CA ≥ 50 %; the note marks half of that distance",
    "illumination centre {offset:.0f} % of the half-diagonal from the image centre (centring accuracy {ca:.0f} %, "
    "limit {limit})",
)
_UNEVEN = Rule(
    "uneven_illumination",
    ("uniformity_percent", "corner_falloff_max_percent"),
    "fault: uniformity U below its verdict limit (default U < 50 %) and the illumination model's darkest corner "
    "below the same share of its peak, with the illumination centred; a low U that the model does not show comes "
    "from dust or defects, and one with off-centre illumination from the misalignment: both are notes",
    "MetroloJ_QC tolerance U ≥ 50 % (also Faklaris et al., J Cell Biol 2022); U is min/max of the blurred image, "
    "so the dust-free model tells a dark corner from a dark speck",
    "uniformity (min/max) {u:.0f} % (limit {limit}); the darkest corner {falloff:.0f} % below the peak",
)
_DUST = Rule(
    "dust",
    ("defect_area_percent", "defect_count"),
    f"fault: dust and defects cover more than {DUST_AREA_PERCENT:g} % of the analysed area; note: any speck found",
    "house rule: a few specks are usual and a flat-field correction removes them while they stay put; specks over "
    "more than 1 % of the field bias intensities in a visible part of every image",
    "{n:.0f} dust speck(s) or defect(s) covering {area:.2g} % of the field",
)
_SATURATION = Rule(
    "saturation",
    ("saturated_percent",),
    "fault: more saturated pixels than its verdict limit (default: none)",
    "a saturated flat has no shape to measure where it is clipped",
    "{sat:.3g} % of the pixels saturated (limit {limit})",
)

#: the field-illumination rule table
RULES: tuple[Rule, ...] = (_CENTRE, _UNEVEN, _DUST, _SATURATION)


def findings(result: Result) -> list[Finding]:
    """What a field-illumination result says about the instrument, per channel.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.field.analyze_field`.

    Returns
    -------
    list of Finding
        One finding per rule that could be checked, per channel.
    """
    out: list[Finding] = []
    for c in channels_of(result, "uniformity_percent"):
        out += _channel(result, c)
    return out


def _channel(result: Result, c: int | None) -> list[Finding]:
    out: list[Finding] = []
    ch = channel_name(result, c)
    ca, ca_v = (
        metric_of(result, "centering_accuracy_percent", c),
        verdict_of(result, "centering_accuracy_percent", c),
    )
    offset = metric_of(result, "illumination_centre_offset_percent", c)
    off_centre = False
    if ca is not None and ca_v is not None:
        lim = limit_text(ca_v, "%")
        ev = [evidence(ca, "centring accuracy (MetroloJ_QC)", limit_text(ca_v, "%", source=True))]
        off = offset.value if offset is not None else 100.0 - ca.value
        if offset is not None:
            ev.append(
                evidence(offset, "fitted illumination centre from the image centre (of the half-diagonal)")
            )
        off_centre = not ca_v.passed
        if off_centre:
            severity = Severity.FAULT
        elif off > (100.0 - ca_v.threshold) / 2:
            severity = Severity.NOTE
        else:
            severity = Severity.OK
        out.append(_CENTRE.finding(severity, tuple(ev), ch, offset=off, ca=ca.value, limit=lim))
    u, u_v = metric_of(result, "uniformity_percent", c), verdict_of(result, "uniformity_percent", c)
    falloff = metric_of(result, "corner_falloff_max_percent", c)
    if u is not None and u_v is not None:
        lim = limit_text(u_v, "%")
        ev = [evidence(u, "uniformity U (MetroloJ_QC)", limit_text(u_v, "%", source=True))]
        model_dark = True
        if falloff is not None:
            ev.append(
                evidence(
                    falloff,
                    "darkest corner of the illumination model below its peak",
                    f"≤ {100 - u_v.threshold:g} %",
                )
            )
            model_dark = falloff.value > 100.0 - u_v.threshold
        values = {
            "u": u.value,
            "limit": lim,
            "falloff": falloff.value if falloff is not None else float("nan"),
        }
        said = _UNEVEN.statement.format(**values)
        if u_v.passed:
            out.append(_UNEVEN.finding(Severity.OK, tuple(ev), ch, **values))
        elif off_centre:
            text = f"{_UNEVEN.title}: {said}, explained by the off-centre illumination: realign first, then measure again."
            out.append(Finding(_UNEVEN.fault, Severity.NOTE, text, tuple(ev), ch))
        elif not model_dark:
            text = f"{_UNEVEN.title}: {said}: the illumination itself is even enough; dust or defects make the minimum."
            out.append(Finding(_UNEVEN.fault, Severity.NOTE, text, tuple(ev), ch))
        else:
            out.append(_UNEVEN.finding(Severity.FAULT, tuple(ev), ch, **values))
    area, n = metric_of(result, "defect_area_percent", c), metric_of(result, "defect_count", c)
    if area is not None and n is not None:
        dust_ev = (
            evidence(area, "area of dust and defects", f"≤ {DUST_AREA_PERCENT:g} %"),
            evidence(n, "dust specks / defects"),
        )
        if area.value > DUST_AREA_PERCENT:
            severity = Severity.FAULT
        elif n.value > 0:
            severity = Severity.NOTE
        else:
            severity = Severity.OK
        out.append(_DUST.finding(severity, dust_ev, ch, n=n.value, area=area.value))
    sat, sat_v = metric_of(result, "saturated_percent", c), verdict_of(result, "saturated_percent", c)
    if sat is not None and sat_v is not None:
        lim = limit_text(sat_v, "%")
        severity = Severity.OK if sat_v.passed else Severity.FAULT
        sat_ev = (evidence(sat, "saturated pixels", limit_text(sat_v, "%", source=True)),)
        out.append(_SATURATION.finding(severity, sat_ev, ch, sat=sat.value, limit=lim))
    return out

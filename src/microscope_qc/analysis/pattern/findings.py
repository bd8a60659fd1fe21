"""The pattern measurement's rule table: what a pattern slide's result says about the instrument.

One function per kind, each returning :class:`~microscope_qc.findings.Finding` objects (OK when a
check finds nothing):

* a field of rings: ``field_distortion`` (the largest distortion against the verdict's limit,
  ``tolerance_distortion_percent``), ``uneven_illumination`` (the spot-intensity uniformity against
  ``tolerance_uniformity_percent``) and, per channel pair, ``chromatic_shift`` (the shift at the field
  centre against the reference channel's median spot FWHM: a fault above 1, the co-registration
  measurement's MetroloJ_QC ratio; a note when it is significant, more than 3 standard errors);
* line groups: ``resolution_loss`` — the spacing at which the line pairs become resolved against
  the theory: two lines imaged with a Gaussian line-spread function of the Airy FWHM 0.5145·λem/NA
  reach the resolution criterion's dip (26.5 %: 1.189 FWHM) at a spacing computed here; a fault when
  the measured spacing exceeds it by more than 20 %. Needs the NA and the emission wavelength;
* a grey-level ladder: ``nonlinear_response`` (the analysis' curvature test and deviation limit) and
  ``saturation`` (saturated or clipped steps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from microscope_qc.analysis.pattern.lines_result import LadderResult, LinePatternResult
from microscope_qc.analysis.pattern.result import PatternResult
from microscope_qc.findings import Evidence, Finding, Severity
from microscope_qc.results import Result

__all__ = ["pattern_findings", "resolved_spacing_over_fwhm", "RESOLUTION_MARGIN"]

#: a measured resolved spacing up to this factor above the theory is not a fault (the slide's steps,
#: the pixel, a slightly broader real line-spread function)
RESOLUTION_MARGIN = 1.2
#: the Airy disc's lateral FWHM in units of λ/NA
AIRY_FWHM = 0.5145


def _value(result: Result, name: str, channel: int | None) -> float | None:
    try:
        v = float(result.metric(name, channel).value)
    except KeyError:
        return None
    return v if math.isfinite(v) else None


def _uncertainty(result: Result, name: str, channel: int | None) -> float | None:
    try:
        u = result.metric(name, channel).uncertainty
    except KeyError:
        return None
    return float(u) if u is not None and math.isfinite(u) else None


def _setting(result: Result, name: str, default: float) -> float:
    s = result.settings.get(name)
    return float(s.value) if s is not None and s.value is not None else default


def resolved_spacing_over_fwhm(dip_percent: float) -> float:
    """The spacing, in FWHM, at which two Gaussian lines show a given dip between them.

    Parameters
    ----------
    dip_percent : float
        The dip 100·(1 − midpoint/peak), 0 < dip < 100.

    Returns
    -------
    float
        Spacing / FWHM (1.189 at Rayleigh's 26.5 %).
    """
    target = dip_percent / 100

    def dip(d: float) -> float:  # σ = 1
        u = np.linspace(-d / 2 - 4, d / 2 + 4, 8001)
        p = np.exp(-((u - d / 2) ** 2) / 2) + np.exp(-((u + d / 2) ** 2) / 2)
        return float(1 - p[len(u) // 2] / p.max())

    lo, hi = 2.0, 12.0  # σ: no dip at 2σ, a full one at 12σ
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if dip(mid) < target else (lo, mid)
    return (lo + hi) / 2 / (2 * math.sqrt(2 * math.log(2)))


def _rings(result: PatternResult) -> list[Finding]:
    out: list[Finding] = []
    max_d = _setting(result, "tolerance_distortion_percent", 1.0)
    min_u = _setting(result, "tolerance_uniformity_percent", 50.0)
    names = result.channel_names
    for c in result.channels:
        name = names[c] if c < len(names) else f"channel {c}"
        d = _value(result, "distortion_max_percent", c)
        if d is not None:
            ev: tuple[Evidence, ...] = (
                Evidence("largest distortion (of the half-diagonal)", d, None, "%", f"> {max_d:g}"),
            )
            if d > max_d:
                text = (
                    f"The field is distorted by up to {d:.2f} % of its half-diagonal (limit {max_d:g} %): measure "
                    "in the centre of the field, or correct the images with registration.json; check the "
                    "objective and the relay optics."
                )
                out.append(Finding("field_distortion", Severity.FAULT, text, ev, name))
            else:
                text = f"The field distortion ({d:.2f} % of the half-diagonal) is within {max_d:g} %."
                out.append(Finding("field_distortion", Severity.OK, text, ev, name))
        u = _value(result, "uniformity_percent", c)
        if u is not None:
            ev = (Evidence("spot-intensity uniformity 100·min/max", u, None, "%", f"< {min_u:g}"),)
            if u < min_u:
                text = (
                    f"The illumination is uneven: the dimmest spots reach {u:.0f} % of the brightest (limit "
                    f"{min_u:g} %); check the illumination path and apply a flat-field correction."
                )
                out.append(Finding("uneven_illumination", Severity.FAULT, text, ev, name))
            else:
                text = f"The illumination is even enough: uniformity {u:.0f} % (limit {min_u:g} %)."
                out.append(Finding("uneven_illumination", Severity.OK, text, ev, name))
    ref = result.reference_channel
    fwhm = _value(result, "fwhm_median_um", ref)
    for c in result.channels:
        if c == ref:
            continue
        sx, sy = _value(result, "registration_shift_x_um", c), _value(result, "registration_shift_y_um", c)
        if sx is None or sy is None:
            continue
        shift = math.hypot(sx, sy)
        ux = _uncertainty(result, "registration_shift_x_um", c)
        uy = _uncertainty(result, "registration_shift_y_um", c)
        se = math.hypot(ux, uy) if ux is not None and uy is not None else None
        ev_list = [Evidence("shift at the field centre", shift, se, "µm")]
        name = names[c] if c < len(names) else f"channel {c}"
        ratio = shift / fwhm if fwhm else None
        if ratio is not None:
            ev_list.append(Evidence("shift / spot FWHM of the reference", ratio, None, "", "> 1"))
        evidence = tuple(ev_list)
        if ratio is not None and fwhm and ratio > 1:
            text = (
                f"{name} is shifted by {1000 * shift:.0f} nm from the reference channel, more than the spot FWHM "
                f"({1000 * fwhm:.0f} nm): check the dichroic and the filter cubes, or register the channels with "
                "registration.json."
            )
            out.append(Finding("chromatic_shift", Severity.FAULT, text, evidence, name))
        elif se is not None and shift > 3 * se:
            text = (
                f"{name} is shifted by {1000 * shift:.1f} ± {1000 * se:.1f} nm from the reference channel: "
                "measurable, within the spot FWHM; registration.json corrects it."
            )
            out.append(Finding("chromatic_shift", Severity.NOTE, text, evidence, name))
        else:
            out.append(
                Finding(
                    "chromatic_shift",
                    Severity.OK,
                    f"{name} is registered to the reference channel.",
                    ev,
                    name,
                )
            )
    return out


def _lines(result: LinePatternResult) -> list[Finding]:
    na = result.settings.get("na")
    em_setting = result.settings.get("wavelength_em_nm")
    dip = _setting(result, "resolved_dip_percent", 26.5)
    out: list[Finding] = []
    channels: list[int | None] = [*sorted({m.channel for m in result.metrics if m.channel is not None})] or [
        None
    ]
    for c in channels:
        measured = _value(result, "resolved_spacing_interpolated_um", c)
        if measured is None:
            measured = _value(result, "smallest_resolved_spacing_um", c)
        if measured is None:
            continue
        em_list = em_setting.value if em_setting is not None else None
        em = em_list[c or 0] if isinstance(em_list, list) and len(em_list) > (c or 0) else None
        label = None if c is None else f"channel {c}"
        if na is None or not na.value or not em:
            text = (
                f"The line pairs are resolved from {1000 * measured:.0f} nm; give the NA and the emission "
                "wavelength to compare with the theory."
            )
            alone = (Evidence("resolved spacing", measured, None, "µm"),)
            out.append(Finding("resolution_loss", Severity.NOTE, text, alone, label))
            continue
        theory = resolved_spacing_over_fwhm(dip) * AIRY_FWHM * float(em) / 1000 / float(na.value)
        ev = (
            Evidence("resolved spacing", measured, None, "µm"),
            Evidence("theory (Airy FWHM lines at the dip criterion)", theory, None, "µm"),
            Evidence("measured / theory", measured / theory, None, "", f"> {RESOLUTION_MARGIN:g}"),
        )
        if measured > RESOLUTION_MARGIN * theory:
            text = (
                f"Line pairs are resolved only from {1000 * measured:.0f} nm, {measured / theory:.2f} × the "
                f"{1000 * theory:.0f} nm theory (NA {float(na.value):g}, {float(em):g} nm): check the focus, the "
                "coverslip and immersion, and the objective's cleanliness."
            )
            out.append(Finding("resolution_loss", Severity.FAULT, text, ev, label))
        else:
            text = (
                f"Line pairs are resolved from {1000 * measured:.0f} nm, {measured / theory:.2f} × the theory "
                f"({1000 * theory:.0f} nm)."
            )
            out.append(Finding("resolution_loss", Severity.OK, text, ev, label))
    return out


def _ladder(result: LadderResult) -> list[Finding]:
    out: list[Finding] = []
    channels: list[int | None] = [*sorted({m.channel for m in result.metrics if m.channel is not None})] or [
        None
    ]
    for c in channels:
        label = None if c is None else f"channel {c}"
        nonlinear = _value(result, "nonlinear", c)
        dev = _value(result, "max_deviation_percent", c)
        p = _value(result, "curvature_p_value", c)
        gamma = _value(result, "response_exponent", c)
        if nonlinear is not None and dev is not None:
            ev_list = [Evidence("largest deviation from the line (of the range)", dev, None, "%")]
            if p is not None:
                ev_list.append(Evidence("curvature test p", p, None, "", "< 0.001"))
            if gamma is not None:
                ev_list.append(
                    Evidence("response exponent γ", gamma, _uncertainty(result, "response_exponent", c))
                )
            if nonlinear:
                text = (
                    f"The response is not linear: the steps deviate by up to {dev:.1f} % of the range"
                    + (f" (exponent γ = {gamma:.2f})" if gamma is not None else "")
                    + "; check the camera's mode, gain and offset, and keep intensities off the top of the range."
                )
                out.append(Finding("nonlinear_response", Severity.FAULT, text, tuple(ev_list), label))
            else:
                text = f"The response is linear within {dev:.1f} % of the range."
                out.append(Finding("nonlinear_response", Severity.OK, text, tuple(ev_list), label))
        n_sat = _value(result, "n_steps_saturated", c)
        if n_sat is not None:
            ev: tuple[Evidence, ...] = (Evidence("saturated or clipped steps", n_sat, None, "", "> 0"),)
            if n_sat > 0:
                text = (
                    f"{n_sat:.0f} step(s) saturated or clipped: lower the exposure, gain or light so that the "
                    "brightest step stays below the full scale."
                )
                out.append(Finding("saturation", Severity.FAULT, text, ev, label))
            else:
                out.append(Finding("saturation", Severity.OK, "No step is saturated.", ev, label))
    return out


def pattern_findings(result: Result) -> Sequence[Finding]:
    """What a pattern slide's result says about the instrument (the rule table above).

    Parameters
    ----------
    result : Result
        A :class:`PatternResult`, :class:`LinePatternResult` or :class:`LadderResult`.

    Returns
    -------
    list of Finding
        The findings (OK for a check that found nothing); empty for another result.
    """
    if isinstance(result, PatternResult):
        return _rings(result)
    if isinstance(result, LinePatternResult):
        return _lines(result)
    if isinstance(result, LadderResult):
        return _ladder(result)
    return []

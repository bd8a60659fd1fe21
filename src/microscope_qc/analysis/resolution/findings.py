"""The resolution rule table: what an image's FRC or decorrelation resolution says about the microscope.

One row per fault (:data:`RULES`); :func:`findings` applies them.

* ``frc_resolution_loss`` — the resolution over Abbe's limit λem / (2 NA)
  (:func:`~microscope_qc.analysis.resolution.theory.abbe_resolution_um`), when the NA and the
  emission wavelength are known. FAULT beyond :data:`RATIO_LIMIT` by more than two standard errors
  (the resolution has none today: it is judged on its value), NOTE beyond it within two, else OK.
  A facility's limit on ``ratio_to_theory`` (a profile's limits) replaces the default.
* ``sampling_limited_resolution`` — the resolution in pixels at most :data:`SAMPLING_LIMIT_PX`,
  or an FRC that never falls to its threshold (still above it at the highest frequencies, so
  there is no resolution to report): the pixel grid, not the optics, limits what the image records.
"""

from __future__ import annotations

import dataclasses
import math

from microscope_qc.analysis._rules import Rule, evidence, limit_text, metric_of, verdict_of
from microscope_qc.findings import Evidence, Finding, Severity
from microscope_qc.results import Result

__all__ = ["RULES", "findings", "RATIO_LIMIT", "SAMPLING_LIMIT_PX", "SIGNIFICANCE", "NYQUIST_BAND"]

#: the largest resolution / Abbe ratio of a good image
RATIO_LIMIT = 2.0
#: a resolution of at most this many pixels is set by the pixel grid (Nyquist: 2 px)
SAMPLING_LIMIT_PX = 2.5
#: standard errors a value must exceed its limit by to be a fault
SIGNIFICANCE = 2.0
#: FRC without a crossing: the share of the frequencies below Nyquist whose FRC must all stay above the
#: threshold for the grid to be the limit (a curve that ends above it only through noise does not)
NYQUIST_BAND = 0.05

_RATIO = Rule(
    "frc_resolution_loss",
    ("ratio_to_theory", "resolution_um", "theory_resolution_um"),
    "fault: the resolution over Abbe's limit λem / (2 NA) above its verdict limit (default 2) by more than 2 SE; "
    "note: above it within 2 SE; needs the NA and the emission wavelength",
    "an FRC cut-off cannot pass the OTF's 2 NA / λ; good images reach 1.1–1.6 × Abbe (the spectral SNR falls "
    "where the OTF is small); beyond 2 × the image has lost half its bandwidth to defocus, aberrations, "
    "a dirty lens or too little signal (the same factor as MetroloJ_QC's axial tolerance)",
    "resolution {res:.3g} µm, {ratio:.2f} × Abbe's {theory:.3g} µm (limit {limit})",
)
_SAMPLING = Rule(
    "sampling_limited_resolution",
    ("resolution_px", "resolution_um"),
    f"fault: the resolution at most {SAMPLING_LIMIT_PX:g} pixels, or (FRC) no resolution because the FRC is still "
    f"above its threshold over the last {100 * NYQUIST_BAND:g} % of frequencies below Nyquist",
    "Nyquist: a pixel grid records periods down to 2 px, and the FRC and decorrelation curves end there; a "
    "resolution within 25 % of it (Pawley's practical 2.3 px per resolution element) is bounded by the grid, "
    "so the optics may resolve finer than the image shows (the analysis warns at the same point)",
    "resolution {px:.2f} px ({res:.3g} µm; the grid's limit is 2 px, fault at ≤ {limit:g} px)",
)

#: the resolution rule table
RULES: tuple[Rule, ...] = (_RATIO, _SAMPLING)


def _ratio(result: Result, c: int | None) -> Finding | None:
    ratio = metric_of(result, "ratio_to_theory", c)
    res, theory = metric_of(result, "resolution_um", c), metric_of(result, "theory_resolution_um", c)
    if ratio is None or res is None or theory is None:
        return None
    v = verdict_of(result, "ratio_to_theory", c)
    if v is not None:
        limit, text, source = float(v.threshold), limit_text(v), limit_text(v, source=True)
    else:
        limit, text = RATIO_LIMIT, f"≤ {RATIO_LIMIT:g}"
        source = f"{text}, default (twice Abbe's limit)"
    se = ratio.uncertainty
    if ratio.value - SIGNIFICANCE * (se or 0.0) > limit:
        severity = Severity.FAULT
    else:
        severity = Severity.NOTE if ratio.value > limit else Severity.OK
    ev: tuple[Evidence, ...] = (
        evidence(ratio, "resolution / Abbe", source),
        evidence(res, "resolution"),
        evidence(theory, "Abbe's limit λem / (2 NA)"),
    )
    return _RATIO.finding(
        severity, ev, None, res=res.value, ratio=ratio.value, theory=theory.value, limit=text
    )


def _frc_above_to_nyquist(result: Result) -> Finding | None:
    """The sampling fault of an FRC that never reaches its threshold (no resolution was reported)."""
    curve = result.tables.get("curve")
    if curve is None or "frc" not in curve.columns:
        return None  # decorrelation: no curve that says so
    setting = result.settings.get("frc_threshold")
    column = "threshold_half_bit" if setting is not None and setting.value == "half-bit" else "threshold_1_7"
    if column not in curve.columns or len(curve) < 2:
        return None
    frc = curve["frc"].to_numpy(dtype=float)
    threshold = curve[column].to_numpy(dtype=float)
    tail = slice(len(frc) - max(1, math.ceil(NYQUIST_BAND * len(frc))), len(frc))
    margin = frc[tail] - threshold[tail]
    if not (margin.size and (margin > 0).all()):
        return None
    at_nyquist = float(frc[-1])
    rule = dataclasses.replace(
        _SAMPLING,
        statement="the FRC is still {frc:.2f} at Nyquist, above its threshold ({limit:.3g}) over the last "
        "{band:g} % of frequencies: the resolution is finer than 2 px and the grid, not the optics, sets it "
        "(unless the two images share their noise)",
    )
    ev = (
        Evidence("FRC at Nyquist", at_nyquist, None, "", f"> threshold {float(threshold[-1]):.3g}"),
        Evidence("frequencies above the threshold at the end of the curve", float(margin.size), None, ""),
    )
    return rule.finding(
        Severity.FAULT, ev, None, frc=at_nyquist, limit=float(threshold[-1]), band=100 * NYQUIST_BAND
    )


def _sampling(result: Result, c: int | None) -> Finding | None:
    px, res = metric_of(result, "resolution_px", c), metric_of(result, "resolution_um", c)
    if px is None or res is None:
        return _frc_above_to_nyquist(result) if res is None else None
    severity = Severity.FAULT if px.value <= SAMPLING_LIMIT_PX else Severity.OK
    ev = (
        evidence(px, "resolution in pixels", f"> {SAMPLING_LIMIT_PX:g} px (Nyquist 2 px)"),
        evidence(res, "resolution"),
    )
    return _SAMPLING.finding(severity, ev, None, px=px.value, res=res.value, limit=SAMPLING_LIMIT_PX)


def findings(result: Result) -> list[Finding]:
    """What a resolution result says about the microscope.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.resolution.analyze_resolution`.

    Returns
    -------
    list of Finding
        The sampling finding (when a resolution was found) and the comparison with Abbe's limit
        (when the NA and the emission wavelength were known).
    """
    c = next((m.channel for m in result.metrics if m.name == "resolution_um"), None)
    return [f for f in (_ratio(result, c), _sampling(result, c)) if f is not None]

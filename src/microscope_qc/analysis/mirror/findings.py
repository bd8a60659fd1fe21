"""The mirror rule table: what the axial response to a mirror says about the confocal.

One row per fault (:data:`RULES`); :func:`findings` applies them. Each rule judges a value against
its limit with its standard error, as the PSF rules do:

* FAULT — the value exceeds the limit by more than two standard errors;
* NOTE — it exceeds the limit, but within two standard errors of it (not a significant fault);
* OK — it is within the limit.

The limits: the measurement's verdict when the user or a facility set one (``--tolerance-ratio``,
``--max-cv``, a profile's limits), else the defaults here — MetroloJ_QC's tolerance of 2 on the
axial measured / theory ratio, and a 10 % CV of the band FWHMs across the field.
"""

from __future__ import annotations

from microscope_qc.analysis._rules import Rule, evidence, limit_text, metric_of, verdict_of
from microscope_qc.findings import Evidence, Finding, Severity
from microscope_qc.results import Metric, Result

__all__ = ["RULES", "findings", "RATIO_LIMIT", "CV_LIMIT_PERCENT", "SIGNIFICANCE", "judge"]

#: MetroloJ_QC's tolerance on the axial measured / theory ratio
RATIO_LIMIT = 2.0
#: the largest CV of the band FWHMs across the field before the unevenness is a fault (percent)
CV_LIMIT_PERCENT = 10.0
#: standard errors a value must exceed its limit by to be a fault
SIGNIFICANCE = 2.0

_RATIO = Rule(
    "axial_resolution_loss",
    ("ratio_to_theory", "fwhm_z_um", "theory_fwhm_z_um"),
    "fault: the axial FWHM of the ROI-averaged profile over the confocal-reflection theory above its verdict "
    "limit (default 2) by more than 2 SE; note: above it within 2 SE; needs the NA, the immersion index and the "
    "wavelength",
    "MetroloJ_QC's tolerance on the axial measured / theory ratio (2.0); a pinhole of about 1 Airy unit and "
    "residual aberrations give 1.1–1.5",
    "axial FWHM {fwhm:.3g} µm, {ratio:.2f} × the {theory:.3g} µm confocal-reflection theory (limit {limit})",
)
_CV = Rule(
    "uneven_axial_resolution",
    ("band_fwhm_cv_percent", "band_fwhm_min_um", "band_fwhm_max_um"),
    "fault: the CV of the column bands' axial FWHMs above its verdict limit (default 10 %)",
    "house default: a flat-field objective scanned across its field keeps the axial FWHM within a few percent "
    "(an 8 % broadening at the edges gives a CV of about 2.5 %); beyond 10 % the axial resolution depends on "
    "where in the field one images",
    "CV of the band FWHMs {cv:.3g} % (from {lo:.3g} to {hi:.3g} µm; limit {limit})",
)

#: the mirror rule table
RULES: tuple[Rule, ...] = (_RATIO, _CV)


def judge(value: float, se: float | None, limit: float) -> Severity:
    """FAULT beyond the limit by more than :data:`SIGNIFICANCE` SE, NOTE beyond it within that, else OK.

    Parameters
    ----------
    value : float
        The measured value.
    se : float or None
        Its standard error (None: not estimable, judged on the value alone).
    limit : float
        The largest acceptable value.

    Returns
    -------
    Severity
        The severity.
    """
    if value - SIGNIFICANCE * (se or 0.0) > limit:
        return Severity.FAULT
    return Severity.NOTE if value > limit else Severity.OK


def _limit(result: Result, name: str, channel: int, default: float, unit: str) -> tuple[float, str, str]:
    """The limit (the verdict's when there is one), in words, and in words with its source."""
    v = verdict_of(result, name, channel)
    if v is not None:
        return float(v.threshold), limit_text(v, unit), limit_text(v, unit, source=True)
    sep = "" if unit == "" else " "
    text = f"≤ {default:g}{sep}{unit}"
    return default, text, f"{text}, default ({'MetroloJ_QC' if name == 'ratio_to_theory' else 'house'})"


def _ratio(result: Result, c: int) -> Finding | None:
    ratio = metric_of(result, "ratio_to_theory", c)
    fwhm = metric_of(result, "fwhm_z_um", c)
    theory = metric_of(result, "theory_fwhm_z_um", c)
    if ratio is None or fwhm is None or theory is None:
        return None
    limit, text, source = _limit(result, "ratio_to_theory", c, RATIO_LIMIT, "")
    ev: tuple[Evidence, ...] = (
        evidence(ratio, "axial FWHM / theory", source),
        evidence(fwhm, "axial FWHM (ROI-averaged profile)"),
        evidence(theory, "theory (confocal reflection, plane mirror)"),
    )
    band = metric_of(result, "band_ratio_to_theory", c)
    if band is not None:
        ev += (evidence(band, "median band FWHM / theory (not affected by a tilt)"),)
    severity = judge(ratio.value, ratio.uncertainty, limit)
    return _RATIO.finding(
        severity, ev, None, fwhm=fwhm.value, ratio=ratio.value, theory=theory.value, limit=text
    )


def _cv(result: Result, c: int) -> Finding | None:
    cv = metric_of(result, "band_fwhm_cv_percent", c)
    lo, hi = metric_of(result, "band_fwhm_min_um", c), metric_of(result, "band_fwhm_max_um", c)
    if cv is None or lo is None or hi is None:
        return None
    limit, text, source = _limit(result, "band_fwhm_cv_percent", c, CV_LIMIT_PERCENT, "%")
    ev = (
        evidence(cv, "CV of the band FWHMs", source, unit="%"),
        evidence(lo, "smallest band FWHM"),
        evidence(hi, "largest band FWHM"),
    )
    severity = judge(cv.value, cv.uncertainty, limit)
    return _CV.finding(severity, ev, None, cv=cv.value, lo=lo.value, hi=hi.value, limit=text)


def findings(result: Result) -> list[Finding]:
    """What a mirror result says about the confocal's axial resolution.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.mirror.analyze_mirror`.

    Returns
    -------
    list of Finding
        The axial-resolution finding (when the theory could be computed) and the field-uniformity
        finding (when more than one band was fitted).
    """
    channels = sorted({m.channel for m in result.metrics if isinstance(m, Metric) and m.channel is not None})
    out: list[Finding] = []
    for c in channels or [0]:
        out.extend(f for f in (_ratio(result, c), _cv(result, c)) if f is not None)
    return out

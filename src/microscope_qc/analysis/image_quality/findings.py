"""The image-quality rule table: what one image says about how it was acquired.

One row per fault (:data:`RULES`); :func:`findings` applies them to every channel. Every rule is
the analysis's own check (its settings' limits: saturated ≤ 0.01 %, zero-clipped ≤ 1 %, range used
≥ 5 %, SNR ≥ 5, pixel ≤ the Nyquist pixel, bleached ≤ 20 %), so a facility's limits replace them as
they replace the verdicts; a finding adds the meaning and the remedy.
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

__all__ = ["RULES", "findings"]


def _rule(fault: str, metric: str, threshold: str, why: str, statement: str) -> Rule:
    return Rule(fault, (metric,), threshold, why, statement)


#: the image-quality rule table (one metric per rule: the rule's verdict)
RULES: tuple[Rule, ...] = (
    _rule(
        "saturation",
        "saturated_percent",
        "fault: more pixels at the detector's maximum than its verdict limit (default 0.01 %)",
        "QUAREP WG10: saturated pixels carry no intensity information; the maximum comes from the bit depth, not "
        "the data",
        "{value:.3g} % of the pixels saturated (limit {limit})",
    ),
    _rule(
        "zero_clipping",
        "zero_clipped_percent",
        "fault: more pixels at zero than its verdict limit (default 1 %)",
        "a background clipped at zero biases background subtraction and the noise estimate",
        "{value:.3g} % of the pixels at zero (limit {limit})",
    ),
    _rule(
        "low_signal",
        "snr",
        "fault: SNR below its verdict limit (default 5)",
        "Rose criterion: below an SNR of about 5 features are not reliably detected",
        "SNR {value:.3g} (limit {limit})",
    ),
    _rule(
        "low_signal",
        "dynamic_range_used_percent",
        "fault: less of the detector's range used than its verdict limit (default 5 %)",
        "a signal in a few grey levels is quantised and near the read noise",
        "{value:.3g} % of the detector's range used (limit {limit})",
    ),
    _rule(
        "undersampling",
        "pixel_over_nyquist",
        "fault: pixel size / Nyquist pixel size above 1 (MetroloJ_QC Nyquist definition); needs the pixel size and "
        "the objective",
        "a pixel larger than the Nyquist pixel loses the resolution the objective gives",
        "the pixel is {value:.2f} × the Nyquist pixel (limit {limit})",
    ),
    _rule(
        "photobleaching",
        "bleached_percent",
        "fault: signal lost over the series above its verdict limit (default 20 %); time series only",
        "a fifth of the signal lost changes intensities across the series beyond most biological effects",
        "{value:.3g} % of the signal bleached over the series (limit {limit})",
    ),
)


_LABELS = {
    "saturated_percent": "saturated pixels",
    "zero_clipped_percent": "zero-clipped pixels",
    "snr": "SNR",
    "dynamic_range_used_percent": "dynamic range used",
    "pixel_over_nyquist": "pixel size / Nyquist pixel size",
    "bleached_percent": "signal bleached",
}


def findings(result: Result) -> list[Finding]:
    """What an image-quality result says about the acquisition, per channel.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.image_quality.analyze_image_quality`.

    Returns
    -------
    list of Finding
        One finding per rule that could be checked, per channel; the two low-signal rules make one
        finding (a fault when either fails).
    """
    out: list[Finding] = []
    for c in channels_of(result, "saturated_percent"):
        ch = channel_name(result, c)
        low: list[Finding] = []
        for rule in RULES:
            name = rule.metrics[0]
            m, v = metric_of(result, name, c), verdict_of(result, name, c)
            if m is None or v is None:
                continue
            lim = limit_text(v, "%" if name.endswith("percent") else "")
            ev = (evidence(m, _LABELS[name], limit_text(v, source=True)),)
            f = rule.finding(Severity.OK if v.passed else Severity.FAULT, ev, ch, value=m.value, limit=lim)
            (low if rule.fault == "low_signal" else out).append(f)
        if low:
            worst = ([f for f in low if f.severity is Severity.FAULT] or low)[0]
            low_ev = tuple(e for f in low for e in f.evidence)
            out.append(Finding(worst.fault, worst.severity, worst.text, low_ev, ch))
    return out

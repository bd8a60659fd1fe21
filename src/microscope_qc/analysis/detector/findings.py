"""The detector rule table: what the noise and the dark frames say about the camera.

One row per fault (:data:`RULES`); :func:`findings` applies those the result's mode measured.
The detector analysis gives no default verdicts (EMVA 1288 specifies how to measure, not what
passes), so the thresholds here are stated house defaults; a facility's limit on the metric
(``--limits`` or an instrument profile) replaces them, as it gives the verdict.
"""

from __future__ import annotations

import math

import numpy as np

from microscope_qc.analysis._rules import Rule, evidence, limit_text, metric_of, verdict_of
from microscope_qc.findings import Evidence, Finding, Severity
from microscope_qc.results import Metric, Result

__all__ = [
    "RULES",
    "READ_NOISE_FAULT_E",
    "READ_NOISE_NOTE_E",
    "TYPICAL_READ_NOISE_E",
    "DATASHEET_RATIO",
    "HOT_PIXEL_FAULT_PERCENT",
    "HOT_PIXEL_SIGMA",
    "findings",
]

#: read noise (rms e⁻) above which each kind of camera is (noted, called noisy) when its
#: datasheet value is not given: what current cameras of that kind achieve, with a margin
TYPICAL_READ_NOISE_E: dict[str, tuple[float, float]] = {
    "scmos": (2.0, 3.0),
    "ccd": (10.0, 15.0),
    "emccd": (0.5, 1.0),
    "unknown": (3.0, 10.0),
}
#: read noise above which a camera is called noisy when neither its datasheet nor its kind is known
READ_NOISE_FAULT_E = TYPICAL_READ_NOISE_E["unknown"][1]
#: read noise above which it is noted then
READ_NOISE_NOTE_E = TYPICAL_READ_NOISE_E["unknown"][0]
#: measured / datasheet read noise above which it is (noted, a fault)
DATASHEET_RATIO: tuple[float, float] = (1.2, 1.5)
#: share of hot pixels above which they are a fault (any is a note)
HOT_PIXEL_FAULT_PERCENT = 0.1
#: a pixel is hot (or cold) when its mean dark level is further than this many temporal dark SDs
#: from the frame's mean (QUAREP WG2 single-scene outlier definition)
HOT_PIXEL_SIGMA = 4.0

#: the read-noise metric of each mode
_NOISE_METRICS = ("dark_noise_e", "read_noise_e", "noise_median_e")

_NOISE = Rule(
    "noisy_camera",
    _NOISE_METRICS,
    f"with the datasheet read noise (a setting): fault above {DATASHEET_RATIO[1]:g} × it, note above "
    f"{DATASHEET_RATIO[0]:g} ×; else by the camera type (a setting): sCMOS fault above "
    f"{TYPICAL_READ_NOISE_E['scmos'][1]:g} e⁻ (note {TYPICAL_READ_NOISE_E['scmos'][0]:g}), CCD above "
    f"{TYPICAL_READ_NOISE_E['ccd'][1]:g} e⁻ (note {TYPICAL_READ_NOISE_E['ccd'][0]:g}), EMCCD (effective, at EM gain) "
    f"above {TYPICAL_READ_NOISE_E['emccd'][1]:g} e⁻ (note {TYPICAL_READ_NOISE_E['emccd'][0]:g}), a PMT not checked; "
    f"type unknown: above {READ_NOISE_FAULT_E:g} e⁻ (note {READ_NOISE_NOTE_E:g}); a facility limit on the metric "
    "replaces all of these",
    "a camera is noisy when it is worse than it should be, so the reference is its own datasheet (measured and "
    "specified values differ by up to ~20 % with the method, median or rms; 1.5 × is out of specification); "
    "without one, what its kind achieves (house defaults: sCMOS 1–2 e⁻, scientific CCDs 3–10 e⁻, EMCCDs < 1 e⁻ "
    "effective at gain; above 10 e⁻ no scientific camera is within specification); a PMT's read noise is "
    "negligible beside its multiplication noise; needs the gain (e⁻), so the dark mode without one is not checked",
    "read noise {noise:.3g} e⁻ rms (limit {limit})",
)
_HOT = Rule(
    "hot_pixels",
    ("hot_pixels_percent",),
    f"fault: more than {HOT_PIXEL_FAULT_PERCENT:g} % of the pixels hot; note: any. Hot: dark mode, saturated in "
    f"more than half the dark frames (MetroloJ_QC); EMVA mode, the mean dark level more than {HOT_PIXEL_SIGMA:g} "
    "temporal dark SDs from the frame mean (QUAREP WG2 outlier rule, on the DSNU map)",
    "house default of one pixel in 1 000: a few defective pixels are usual (cameras ship with defect maps "
    "correcting of the order of 0.01–0.1 % of the pixels); more means the map is out of date or the cooling "
    "failing, and they speckle every dark-subtracted image. A share, not a count, so a small crop with a "
    "handful of hot pixels is noted, not failed",
    "{n:.0f} hot pixel(s), {share:.3g} % of the sensor",
)

#: the detector rule table
RULES: tuple[Rule, ...] = (_NOISE, _HOT)


def _hot_from_maps(result: Result) -> tuple[int, int] | None:
    """EMVA mode: (hot or cold pixels, pixels) by the QUAREP WG2 outlier rule on the DSNU map."""
    dsnu, noise = result.images.get("dsnu_map"), result.images.get("dark_noise_map")
    if dsnu is None or noise is None:
        return None
    d, n = np.asarray(dsnu, float), np.asarray(noise, float)
    sd = math.sqrt(float(np.mean(n**2)))
    if not math.isfinite(sd) or sd <= 0:
        return None
    return int(np.count_nonzero(np.abs(d) > HOT_PIXEL_SIGMA * sd)), int(d.size)


def _setting(result: Result, name: str) -> object:
    """The value of an analysis setting recorded in the result (None when absent)."""
    st = result.settings.get(name)
    return st.value if st is not None else None


def _noise_limits(result: Result) -> tuple[float, float, str] | None:
    """(note, fault, source) read-noise limits in e⁻ from the datasheet or the camera type; None: not checked."""
    datasheet = _setting(result, "datasheet_read_noise_e")
    kind = str(_setting(result, "camera_type") or "unknown")
    if isinstance(datasheet, (int, float)) and datasheet > 0:
        note, fault = (r * float(datasheet) for r in DATASHEET_RATIO)
        return note, fault, f"{DATASHEET_RATIO[1]:g} × the datasheet's {float(datasheet):.3g} e⁻"
    if kind == "pmt":
        return None
    note, fault = TYPICAL_READ_NOISE_E.get(kind, TYPICAL_READ_NOISE_E["unknown"])
    label = {"scmos": "sCMOS", "ccd": "CCD", "emccd": "EMCCD"}.get(kind)
    return note, fault, f"house default for {label + ' cameras' if label else 'an unknown camera type'}"


def _noise(result: Result) -> Finding | None:
    for name in _NOISE_METRICS:
        m = metric_of(result, name, None)
        if m is None:
            continue
        v = verdict_of(result, name, None)
        if v is not None:
            fault, note = not v.passed, False
            lim = limit_text(v, "e⁻")
            lim_src = limit_text(v, "e⁻", source=True)
        else:
            limits = _noise_limits(result)
            if limits is None:
                return None
            note_e, fault_e, source = limits
            fault, note = m.value > fault_e, m.value > note_e
            lim = f"≤ {fault_e:.3g} e⁻"
            lim_src = f"{lim} ({source})"
        severity = Severity.FAULT if fault else Severity.NOTE if note else Severity.OK
        return _NOISE.finding(severity, (evidence(m, "read noise", lim_src),), None, noise=m.value, limit=lim)
    return None


def _hot(result: Result) -> Finding | None:
    m = metric_of(result, "hot_pixels_percent", None)
    count: Metric | None = metric_of(result, "hot_pixels", None)
    if m is not None:
        share, n = m.value, count.value if count is not None else math.nan
        ev = evidence(m, "hot pixels", f"≤ {HOT_PIXEL_FAULT_PERCENT:g} %")
    else:
        found = _hot_from_maps(result)
        if found is None:
            return None
        n, total = found
        share = 100.0 * n / total
        se = 100.0 * math.sqrt(max(n, 1) * (1 - n / total)) / total
        ev = Evidence(
            f"pixels beyond {HOT_PIXEL_SIGMA:g} dark SDs (DSNU map)",
            share,
            se,
            "%",
            f"≤ {HOT_PIXEL_FAULT_PERCENT:g} %",
        )
    v = verdict_of(result, "hot_pixels_percent", None)
    fault = (not v.passed) if v is not None else share > HOT_PIXEL_FAULT_PERCENT
    severity = Severity.FAULT if fault else Severity.NOTE if share > 0 else Severity.OK
    return _HOT.finding(severity, (ev,), None, n=n, share=share)


def findings(result: Result) -> list[Finding]:
    """What a detector result says about the camera.

    Parameters
    ----------
    result : Result
        A result of :func:`~microscope_qc.analysis.detector.analyze_detector` (any mode; the rules
        its mode did not measure are left out).

    Returns
    -------
    list of Finding
        One finding per rule that could be checked.
    """
    return [f for f in (_noise(result), _hot(result)) if f is not None]

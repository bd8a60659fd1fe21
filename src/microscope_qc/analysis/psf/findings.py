"""What a PSF result says about the objective, in words: the one rule table of the PSF measurement.

Each row of :data:`RULES` names a fault (:data:`microscope_qc.findings.FAULTS`), the channel
metric it judges, its threshold with the reason for it, and the words of the finding. A rule
whose metric or threshold is missing (optics unknown, too few beads) gives no finding: it was not
checked. Otherwise it gives one finding per channel:

* FAULT — the value exceeds the threshold by more than two standard errors (a value whose
  uncertainty cannot be estimated: by any amount), so noise alone does not make a fault;
* NOTE — above the threshold but not significantly, or (saturation) present but below the
  fault level;
* OK — at or below the threshold.

A dirty objective is judged from the Strehl ratio (:mod:`.strehl`): the part of it the measured
spherical aberration, astigmatism and coma do not explain (``residual_strehl``) must stay above
Maréchal's 0.8; a rule with ``below`` set is a fault when its value is *below* the threshold by
more than two standard errors. See docs/psf.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from microscope_qc.findings import FAULTS, Evidence, Finding, Severity
from microscope_qc.results import Metric, Result

__all__ = [
    "RULES",
    "Rule",
    "psf_findings",
    "COMA_BOW_PER_WAVE",
    "MARECHAL_STREHL",
    "MARECHAL_WAVES",
    "SIGNIFICANCE",
]

#: a value must exceed its threshold by this many standard errors to be a fault
SIGNIFICANCE = 2.0
#: bow of the PSF centre at ± half an axial FWHM, in theoretical lateral FWHM, per wave RMS of
#: Zernike coma (scalar-pupil simulations, NA 0.85–1.4: 2.84–2.95; tests/analysis/test_psf_diagnosis.py)
COMA_BOW_PER_WAVE = 2.9
#: Maréchal: λ/14 RMS of wavefront error keeps the Strehl ratio at 0.8
MARECHAL_WAVES = 1.0 / 14.0
#: more than this fraction of the candidate beads saturated is a fault of the acquisition
SATURATED_FRACTION = 0.1
#: Maréchal: a Strehl ratio of 0.8 is "diffraction limited"
MARECHAL_STREHL = 0.8

#: the channel's metrics by name
Metrics = Mapping[str, Metric]


@dataclass(frozen=True)
class Rule:
    """One row of the PSF rule table.

    Parameters
    ----------
    fault : str
        The fault code.
    metric : str
        The channel metric judged (its magnitude when ``signed``).
    label : str
        What the metric is, in words (the first piece of evidence).
    limit : callable
        ``limit(metrics) -> threshold`` or None when it cannot be set (the rule is then skipped).
    justification : str
        Why the threshold is what it is (shown as the evidence's limit).
    fault_text : callable
        ``fault_text(metrics) -> str``: the finding's words when the fault is found.
    ok_text : str
        The finding's words when it is not.
    context : tuple of (metric, label)
        Further metrics given as evidence when present.
    note_above : callable or None
        ``note_above(metrics)``: a lower threshold for a NOTE (saturation); None: only the limit.
    below : bool
        The fault is a value *below* the limit (the signed value is judged); default: above
        (its magnitude).
    """

    fault: str
    metric: str
    label: str
    limit: Callable[[Metrics], float | None]
    justification: str
    fault_text: Callable[[Metrics], str]
    ok_text: str
    context: tuple[tuple[str, str], ...] = ()
    note_above: Callable[[Metrics], float | None] | None = None
    below: bool = False


def _value(m: Metrics, name: str) -> float | None:
    metric = m.get(name)
    return metric.value if metric is not None and math.isfinite(metric.value) else None


def _times(name: str, factor: float) -> Callable[[Metrics], float | None]:
    def limit(m: Metrics) -> float | None:
        v = _value(m, name)
        return None if v is None else factor * v

    return limit


def _spherical_text(m: Metrics) -> str:
    w = _value(m, "spherical_waves") or 0.0
    dn, dt = _value(m, "spherical_index_mismatch"), _value(m, "spherical_coverslip_um")
    if dn is not None:
        # psfmodels' Gibson-Lanni model: a sample less dense than the immersion (beads in water under
        # oil) aberrates with the sign of an immersion medium less dense than the design
        which = "denser" if dn > 0 else "less dense"
        cause = (
            f"an immersion-index error of {abs(dn):.3f} over a 150 µm working distance (as if the immersion "
            f"medium were {which} than the objective's design, or the sample {which} than the immersion "
            f"medium{', e.g. beads in water under an oil objective' if dn < 0 else ''})"
        )
    elif dt is not None:
        cause = f"a coverslip {abs(dt):.0f} µm {'thicker' if dt > 0 else 'thinner'} than the correction collar is set for"
    else:
        cause = "a refractive-index mismatch or a wrong coverslip"
    return (
        f"Spherical aberration of {abs(w):.2f} waves RMS (above λ/14), consistent with {cause}; "
        "check the immersion medium or the correction collar"
    )


def _direction(m: Metrics, name: str) -> str:
    v = _value(m, name)
    return f" along {v:.0f}°" if v is not None else ""


RULES: tuple[Rule, ...] = (
    Rule(
        "spherical_aberration",
        "spherical_waves",
        "spherical aberration (signed RMS wavefront)",
        lambda m: _value(m, "spherical_limit_waves"),
        "Maréchal: λ/14 RMS",
        _spherical_text,
        "No significant spherical aberration: the axial profile is as symmetric as the model's.",
        (
            ("axial_asymmetry", "axial asymmetry (above − below focus)"),
            ("spherical_index_mismatch", "equivalent immersion-index error"),
            ("spherical_coverslip_um", "equivalent coverslip-thickness error"),
        ),
    ),
    Rule(
        "astigmatism",
        "astigmatic_separation_um",
        "astigmatic focal separation",
        lambda m: _value(m, "astigmatism_limit_um"),
        "Maréchal: λ/14 RMS astigmatism",
        lambda m: (
            f"Astigmatism: the two line foci are {_value(m, 'astigmatic_separation_um') or 0:.2f} µm apart along z"
            f"{_direction(m, 'astigmatism_axis_deg')} (limit {_value(m, 'astigmatism_limit_um') or 0:.2f} µm, "
            f"λ/14 RMS); {FAULTS['astigmatism'].remedy}"
        ),
        "No significant astigmatism.",
        (("astigmatism_axis_deg", "astigmatism axis"),),
    ),
    Rule(
        "coma",
        "psf_bow_um",
        "sideways bow of the PSF centre at ± half an axial FWHM",
        _times("theoretical_fwhm_xy_physical_um", COMA_BOW_PER_WAVE * MARECHAL_WAVES),
        f"λ/14 RMS coma: {COMA_BOW_PER_WAVE * MARECHAL_WAVES:.2f} × the theoretical lateral FWHM",
        lambda m: (
            f"Coma: the PSF centre bows {1000 * (_value(m, 'psf_bow_um') or 0):.0f} nm sideways away from focus"
            f"{_direction(m, 'coma_axis_deg')} (about "
            f"{(_value(m, 'psf_bow_um') or 0) / (COMA_BOW_PER_WAVE * (_value(m, 'theoretical_fwhm_xy_physical_um') or 1)):.2f}"
            f" waves RMS); {FAULTS['coma'].remedy}"
        ),
        "No significant coma: the PSF centre stays put through focus.",
        (("coma_axis_deg", "coma direction"),),
    ),
    Rule(
        "focal_plane_tilt",
        "focal_tilt_range_um",
        "focus difference across the field from the tilt",
        _times("focus_tolerance_um", 2.0),
        "twice the λ/14 RMS (Maréchal) defocus: no focus keeps the whole field sharp",
        lambda m: (
            f"Tilted focal plane: focus changes by {_value(m, 'focal_tilt_range_um') or 0:.2f} µm across the field "
            f"({_value(m, 'focal_tilt_deg') or 0:.2f}°); {FAULTS['focal_plane_tilt'].remedy}"
        ),
        "The focal plane is level across the field.",
        (("focal_tilt_deg", "focal-plane tilt"),),
    ),
    Rule(
        "field_curvature",
        "field_curvature_um",
        "focal shift at the field corner relative to the centre",
        _times("focus_tolerance_um", 2.0),
        "twice the λ/14 RMS (Maréchal) defocus",
        lambda m: (
            f"Field curvature: the corners focus {abs(_value(m, 'field_curvature_um') or 0):.2f} µm from the centre; "
            f"{FAULTS['field_curvature'].remedy}"
        ),
        "The field is flat within the depth of focus.",
    ),
    Rule(
        "dirty_objective",
        "residual_strehl",
        "Strehl ratio over the Strehl the measured aberrations explain",
        lambda m: MARECHAL_STREHL,
        "Maréchal: Strehl 0.8 from what the aberrations found do not explain",
        lambda m: (
            f"Dirty objective: the Strehl ratio is {_value(m, 'strehl_ratio') or 0:.2f} (the aberrations found "
            f"explain {_value(m, 'aberration_strehl') or 0:.2f}) and {100 * (_value(m, 'halo_fraction') or 0):.0f} % "
            f"of the in-focus light is in a halo ({100 * (_value(m, 'ideal_halo_fraction') or 0):.0f} % for a "
            f"clean objective); {FAULTS['dirty_objective'].remedy}"
        ),
        "No unexplained loss of peak intensity: the lens scatters no significant halo.",
        (
            ("strehl_ratio", "Strehl ratio (peak / energy, relative to the ideal vectorial PSF)"),
            ("aberration_strehl", "Strehl the measured aberrations explain (Maréchal)"),
            ("halo_fraction", "halo fraction (energy beyond 2.5 ideal FWHM)"),
            ("ideal_halo_fraction", "halo fraction of the ideal PSF"),
        ),
        below=True,
    ),
    Rule(
        "undersampling",
        "sampling_ratio_xy",
        "pixel size / Nyquist (lateral)",
        lambda m: 1.0,
        "Nyquist",
        lambda m: (
            f"Under-sampled: the pixel is {_value(m, 'sampling_ratio_xy') or 0:.2f} × the Nyquist size; "
            f"{FAULTS['undersampling'].remedy}"
        ),
        "The pixel size meets Nyquist.",
        (("nyquist_xy_um", "Nyquist pixel size"),),
    ),
    Rule(
        "undersampling",
        "sampling_ratio_z",
        "z step / Nyquist",
        lambda m: 1.0,
        "Nyquist",
        lambda m: (
            f"Under-sampled along z: the step is {_value(m, 'sampling_ratio_z') or 0:.2f} × the Nyquist step; "
            "take smaller z steps"
        ),
        "The z step meets Nyquist.",
        (("nyquist_z_um", "Nyquist z step"),),
    ),
    Rule(
        "saturation",
        "saturated_beads_fraction",
        "fraction of beads with saturated voxels",
        lambda m: SATURATED_FRACTION,
        "more than a tenth of the beads lost to saturation",
        lambda m: (
            f"Saturation: {100 * (_value(m, 'saturated_beads_fraction') or 0):.0f} % of the beads reach the "
            f"detector's maximum and were left out; {FAULTS['saturation'].remedy}"
        ),
        "No bead is saturated.",
        note_above=lambda m: 0.0,
    ),
)


def _judge(rule: Rule, m: Metrics, channel: str | None) -> Finding | None:
    metric = m.get(rule.metric)
    limit = rule.limit(m)
    if metric is None or not math.isfinite(metric.value) or limit is None or not math.isfinite(limit):
        return None
    # a rule judging a value below its limit is judged on the negated value against the negated limit
    sign = -1.0 if rule.below else 1.0
    value = -metric.value if rule.below else abs(metric.value)
    se = (
        float(metric.uncertainty)
        if metric.uncertainty is not None and math.isfinite(metric.uncertainty)
        else None
    )
    note = rule.note_above(m) if rule.note_above is not None else None
    if value - SIGNIFICANCE * (se or 0.0) > sign * limit:
        severity, text = Severity.FAULT, rule.fault_text(m)
    elif value > sign * limit:
        severity = Severity.NOTE
        unit = f" {metric.unit}" if metric.unit else ""
        spread = f" (± {se:.2g}{unit})" if se is not None else ""
        text = (
            f"{rule.label[0].upper()}{rule.label[1:]} {abs(metric.value):.3g}{unit} is "
            f"{'below' if rule.below else 'above'} its limit {abs(limit):.3g}{unit}, but within two standard "
            f"errors of it{spread}: not a significant fault."
        )
    elif note is not None and value > note:
        severity, text = Severity.NOTE, rule.fault_text(m).split(";")[0] + " (below the fault level)."
    else:
        severity, text = Severity.OK, rule.ok_text
    evidence = [
        Evidence(
            rule.label,
            float(metric.value),
            se,
            metric.unit or "",
            f"{'≥' if rule.below else '≤'} {limit:.3g} ({rule.justification})",
        )
    ]
    for name, label in rule.context:
        c = m.get(name)
        if c is not None and math.isfinite(c.value):
            unc = float(c.uncertainty) if c.uncertainty is not None and math.isfinite(c.uncertainty) else None
            evidence.append(Evidence(label, float(c.value), unc, c.unit or ""))
    return Finding(rule.fault, severity, text, tuple(evidence), channel)


def psf_findings(result: Result) -> Sequence[Finding]:
    """The findings of a PSF result: every rule of :data:`RULES`, per channel.

    Parameters
    ----------
    result : Result
        A :class:`~microscope_qc.analysis.psf.PSFResult`.

    Returns
    -------
    list of Finding
        One per rule and channel that could be checked (FAULT, NOTE or OK).
    """
    by_channel: dict[int | None, dict[str, Metric]] = {}
    for metric in result.metrics:
        by_channel.setdefault(metric.channel, {})[metric.name] = metric
    names = {ch.channel: ch.name for ch in getattr(result, "channels", [])}
    out: list[Finding] = []
    for c, m in sorted(by_channel.items(), key=lambda kv: -1 if kv[0] is None else kv[0]):
        label = None if c is None else (names.get(c) or f"channel {c}")
        out.extend(f for rule in RULES if (f := _judge(rule, m, label)) is not None)
    return out

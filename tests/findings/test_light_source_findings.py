"""Light-source findings against synthetic truth: a steady source is not flagged, the documented
log's 19-minute warm-up is a note, and a source with a long warm-up and a 3 %/h drift is named."""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.analysis.light_source import LightSourceSettings, analyze_light_source, parse_power_log
from microscope_qc.analysis.light_source.findings import WARMUP_FAULT_S, findings
from microscope_qc.findings import Severity, faults_found
from microscope_qc.samples.light_source import light_source_log_sample, light_source_pulsed_sample


def _csv(t, p):
    return "Time (s),Power (mW)\n" + "\n".join(f"{a:.3f},{b:.8g}" for a, b in zip(t, p, strict=True)) + "\n"


def _log(warmup_fraction=0.0, tau_s=300.0, drift_per_h=0.0, seed=0):
    """2 h at 5 s: (1 − a·exp(−t/τ))·(1 + drift·t) around 2.5 mW with 0.1 % reading noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 7200.0, 5.0)
    p = 2.5 * (1 - warmup_fraction * np.exp(-t / tau_s)) * (1 + drift_per_h * t / 3600)
    return _csv(t, p * (1 + 1e-3 * rng.standard_normal(t.size)))


def _get(found, code, channel=None):
    return next(f for f in found if f.fault == code and f.channel == channel)


def test_a_steady_source_has_no_fault():
    found = findings(analyze_light_source(parse_power_log(_log())))
    assert faults_found(found) == set() and {f.severity for f in found} == {Severity.OK}


def test_the_documented_log_warm_up_is_a_note():
    found = findings(analyze_light_source(parse_power_log(light_source_log_sample().text)))
    assert faults_found(found) == set()
    f = _get(found, "warm_up")
    # truth: 1140 s (±1 % band of the final plateau)
    assert f.severity is Severity.NOTE and "19 min" in f.text
    assert f.evidence[0].value == pytest.approx(1140 / 60, abs=5 / 60)


def test_a_long_warm_up_and_a_drift_are_named():
    # 20 % below the plateau with τ = 15 min: within 1 % only after τ·ln(20) ≈ 45 min
    found = findings(analyze_light_source(parse_power_log(_log(0.2, 900.0))))
    assert faults_found(found) == {"warm_up"}
    assert _get(found, "warm_up").evidence[0].value == pytest.approx(900 * np.log(20) / 60, rel=0.05)
    assert _get(found, "warm_up").evidence[0].value > WARMUP_FAULT_S / 60
    drifting = findings(analyze_light_source(parse_power_log(_log(drift_per_h=0.03))))
    assert "unstable_light_source" in faults_found(drifting)
    f = _get(drifting, "unstable_light_source")
    # 3 %/h of the starting level is 2.9 %/h of the log's mean level (the drift's reference)
    assert f.evidence[1].value == pytest.approx(3.0 / 1.03, rel=0.03) and "+2.9" in f.text


def test_a_source_that_never_settles_is_unstable():
    # a ±1.5 % ripple (10 min period) never stays within ±1 % of the final level: the last reading
    # beyond it comes minutes before the end, inside the final 10 % the final level is taken from
    t = np.arange(0.0, 7200.0, 5.0)
    found = findings(
        analyze_light_source(parse_power_log(_csv(t, 2.5 * (1 + 0.015 * np.sin(2 * np.pi * t / 600)))))
    )
    assert faults_found(found) == {"warm_up", "unstable_light_source"}
    f = _get(found, "unstable_light_source")
    assert "no stable plateau" in f.text
    assert f.evidence[0].value > 0.9 * 7195 / 60 and f.evidence[1].value == pytest.approx(7195 / 60)


def test_an_insignificant_drift_of_a_short_log_is_not_a_fault():
    # the pulsed sample's second laser: −14 ± 8.5 %/h over 18 min is within 2 SE of no drift
    found = findings(analyze_light_source(parse_power_log(light_source_pulsed_sample().text)))
    assert "unstable_light_source" not in faults_found(found)
    assert {f.channel for f in found} == {"ch 0", "ch 1", "ch 2"}


def test_the_users_stability_limit_replaces_the_default():
    r = analyze_light_source(parse_power_log(_log()), LightSourceSettings(min_stability_percent=99.9))
    f = _get(findings(r), "unstable_light_source")
    assert f.severity is Severity.FAULT and f.evidence[0].limit == "≥ 99.9 %, user"

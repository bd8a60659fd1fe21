"""Stage findings against synthetic truth: the documented repeatability series is not flagged (its
small backlash is a note), a stage with 0.8 µm backlash and a drifting stage are named."""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.analysis.stage import StageSettings, analyze_stage, wg6_moves
from microscope_qc.analysis.stage.findings import findings
from microscope_qc.findings import Severity, faults_found
from microscope_qc.samples import render_bead, stage_drift_sample, stage_repeatability_sample


def _get(found, code):
    return next(f for f in found if f.fault == code)


def _backlash_series(backlash_um, sd_um=0.05, seed=3):
    """The WG6 series as the sample builds it, with a chosen reversal B along x."""
    rng = np.random.default_rng(seed)
    moves = wg6_moves(160)
    vox = (1.0, 0.1, 0.1)
    home = np.array([0.0, 3.2, 3.2])
    frames = np.empty((160, 1, 64, 64), np.uint16)
    for i in range(160):
        ax = -np.sign(moves.iloc[i]["dx_um"])
        pos = home + np.array([0.0, rng.normal(0, sd_um), rng.normal(0, sd_um) + ax * backlash_um / 2])
        frames[i] = render_bead((1, 64, 64), pos, vox, 2.0, 3000.0, 100.0, rng)
    return analyze_stage(list(frames), voxel_size_um=vox, moves=moves)


def test_the_documented_repeatability_series_has_no_fault():
    s = stage_repeatability_sample()
    found = findings(analyze_stage(list(s.data), voxel_size_um=s.voxel_size_um, moves=s.moves))
    assert faults_found(found) == set()
    assert _get(found, "stage_repeatability").severity is Severity.OK
    # truth B = 0.08 µm along x: significant, far within 0.5 µm
    b = _get(found, "stage_backlash")
    assert b.severity is Severity.NOTE and "along x" in b.text
    assert b.evidence[0].value == pytest.approx(0.08, abs=0.03)


def test_a_large_backlash_is_named():
    found = findings(_backlash_series(0.8))
    assert faults_found(found) == {"stage_backlash"}
    assert _get(found, "stage_backlash").evidence[0].value == pytest.approx(0.8, abs=0.05)


def test_a_drifting_stage_is_named_and_a_still_one_is_not():
    def run(sample):
        r = analyze_stage(
            list(sample.data),
            StageSettings(mode="drift", stabilisation_threshold_um=0.25),
            voxel_size_um=sample.voxel_size_um,
            frame_interval_s=sample.frame_interval_s,
        )
        return findings(r)

    # the documented drift sample (settling, then (y, x) = (−0.015, 0.02) µm/min for 30 min) drifts
    assert faults_found(run(stage_drift_sample())) == {"stage_drift"}
    # without the settling the fitted velocity is the truth: 0.025 µm/min × 29.5 min = 0.74 µm > 0.25 µm
    drifting = run(stage_drift_sample(settle_um=0.0, gaps=False))
    assert faults_found(drifting) == {"stage_drift"}
    assert _get(drifting, "stage_drift").evidence[1].value == pytest.approx(np.hypot(-0.015, 0.02), rel=0.05)
    still = run(stage_drift_sample(settle_um=0.0, velocity_um_per_min=(0.0, 0.0, 0.0), gaps=False))
    assert faults_found(still) == set()

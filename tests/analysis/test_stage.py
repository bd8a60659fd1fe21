"""Stage and focus (QUAREP WG6, ISO 230-2, MetroloJ_QC drift): known truth, hand-computed formulas, bad frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from microscope_qc.analysis.stage import (
    StageSettings,
    analyze_stage,
    analyze_track,
    iso230_2,
    moves_table,
    stabilisation_index,
    wg6_moves,
)
from microscope_qc.instrument import SettingsError
from microscope_qc.results import AnalysisError
from microscope_qc.samples import render_bead, stage_drift_sample, stage_repeatability_sample


@pytest.fixture(scope="module")
def repeatability():
    s = stage_repeatability_sample()
    return s, analyze_stage(list(s.data), voxel_size_um=s.voxel_size_um, moves=s.moves)


# ------------------------------------------------------------------------- formulas by hand


def test_iso_230_2_by_hand():
    # approached in +: 1.0, 1.2, 1.1; in −: 0.6, 0.8, 0.7 (µm)
    iso = iso230_2([1.0, 0.6, 1.2, 0.8, 1.1, 0.7], [1, -1, 1, -1, 1, -1])
    assert iso.s_plus == pytest.approx(0.1) and iso.s_minus == pytest.approx(0.1)
    assert iso.repeatability_plus == pytest.approx(0.4) and iso.repeatability_minus == pytest.approx(0.4)
    assert iso.reversal == pytest.approx(0.4)  # 1.1 − 0.7
    assert iso.bidirectional == pytest.approx(max(2 * 0.1 + 2 * 0.1 + 0.4, 0.4, 0.4))  # 0.8
    assert iso.reversal_se == pytest.approx(math.sqrt(0.01 / 3 + 0.01 / 3))
    one_sided = iso230_2([1.0, 1.1, 1.2], [1, 1, 1])
    assert math.isnan(one_sided.reversal) and math.isnan(one_sided.bidirectional)


def test_metroloj_stabilisation_by_hand():
    # steps from each position to the next; the threshold 0.5: the last step ≥ 0.5 is the 2nd (into position 2)
    assert stabilisation_index([1.0, 0.8, 0.1, 0.05, 0.1], 0.5) == 2
    assert stabilisation_index([0.1, 0.2], 0.5) == 0
    assert stabilisation_index([0.1, 0.9], 0.5) is None  # the last displacement is above: never stable
    t = np.arange(6) * 10.0
    x = np.array([0.0, 1.0, 1.8, 1.9, 1.95, 2.05])  # steps 1.0, 0.8, 0.1, 0.05, 0.1
    zyx = np.column_stack([np.zeros(6), np.zeros(6), x])
    track = analyze_track(t, zyx, False, 0.5, 4)
    assert track.stabilisation_frame == 2
    assert track.step[1:] == pytest.approx([1.0, 0.8, 0.1, 0.05, 0.1])
    assert track.velocity[1] == pytest.approx(1.0 / 10 * 60)  # µm/min
    assert track.msd["msd_um2"][0] == pytest.approx(np.mean(np.diff(x) ** 2))


def test_gaps_are_bridged_up_to_the_limit():
    t = np.arange(10.0)
    x = np.arange(10.0) * 0.1
    x[[3, 4]] = np.nan
    x[[6, 7, 8]] = np.nan
    zyx = np.column_stack([np.zeros(10), np.zeros(10), x])
    zyx[np.isnan(x)] = np.nan
    track = analyze_track(t, zyx, False, 1.0, max_gap=2)
    assert track.bridged.tolist() == [False] * 3 + [True, True] + [False] * 5
    assert track.long_gaps == [(6, 3)]
    assert track.step[5] == pytest.approx(0.3)  # across the bridged gap
    assert np.isnan(track.step[9])  # not across the long one


def test_wg6_order_and_move_tables():
    m = wg6_moves(160)
    assert len(m) == 160 and m["distance_um"].tolist()[:80] == [300.0] * 80
    assert m["direction"].tolist()[:4] == ["+x+y", "-x+y", "-x-y", "+x-y"]
    with pytest.raises(AnalysisError, match="QUAREP WG6 protocol gives 160"):
        wg6_moves(150)
    given = moves_table(pd.DataFrame({"direction": ["+x+y", "-x-y"], "distance_um": [300, 300]}), 2)
    assert given["dx_um"].tolist() == pytest.approx([300 / math.sqrt(2), -300 / math.sqrt(2)])
    assert given["cycle"].tolist() == [1, 1]
    with pytest.raises(AnalysisError, match="3 moves for 2 frames"):
        moves_table(pd.DataFrame({"dx_um": [1, 2, 3], "dy_um": [1, 2, 3]}), 2)
    with pytest.raises(AnalysisError, match="is not one of"):
        moves_table(pd.DataFrame({"direction": ["north", "south"], "distance_um": [1, 1]}), 2)
    with pytest.raises(AnalysisError, match="needs dx_um and dy_um"):
        moves_table(pd.DataFrame({"x": [1, 2]}), 2)


# ------------------------------------------------------------------------- repeatability: known truth


def test_repeatability_sd_within_ten_percent_with_twenty_cycles(repeatability):
    s, r = repeatability
    assert r.metric("n_localised").value == 160
    pos = r.positions
    truth = s.positions
    groups = r.tables["groups"]
    for d, moves in s.moves.groupby("distance_um"):
        for direction, m in moves.groupby("direction"):
            for a in "xy":
                true_sd = truth.loc[m.index, f"{a}_um"].std(ddof=1)
                row = groups[(groups.distance_um == d) & (groups.direction == direction) & (groups.axis == a)]
                assert row["sd_um"].item() == pytest.approx(true_sd, rel=0.10)
                assert row["n"].item() == 20
    # the localisation itself: nm-level on these bright beads
    err = pos[["y_um", "x_um"]].to_numpy() - truth[["y_um", "x_um"]].to_numpy()
    assert np.abs(err).max() < 0.01


def test_backlash_is_the_reversal_value(repeatability):
    s, r = repeatability
    for a in "xy":
        b = r.metric(f"iso_reversal_{a}_um")
        assert abs(b.value - s.truth["reversal_um"][a]) < 3 * b.uncertainty
    assert (
        r.metric("iso_repeatability_bidirectional_x_um").value
        > r.metric("iso_repeatability_unidirectional_x_um").value
    )


def test_tolerance_flag(repeatability):
    s, r = repeatability
    assert r.passed and r.verdicts[0].metric == "sd_max_um" and r.verdicts[0].threshold == 0.5
    strict = analyze_stage(
        list(s.data), StageSettings(tolerance_um=0.05), voxel_size_um=s.voxel_size_um, moves=s.moves
    )
    assert not strict.passed and strict.verdicts[0].source == "user"
    assert any("above 0.05 µm" in w for w in strict.warnings)


def test_protocol_order_assumed_without_moves_is_said():
    s = stage_repeatability_sample()
    r = analyze_stage(list(s.data[:, 0]), voxel_size_um=s.voxel_size_um)
    assert any("QUAREP WG6 order was assumed" in w for w in r.warnings)
    assert r.settings["moves"].value == "QUAREP WG6 order assumed"


# ------------------------------------------------------------------------- drift: known truth


def test_drift_velocity_within_five_percent():
    s = stage_drift_sample(settle_um=0.0, gaps=False, n_frames=40)
    r = analyze_stage(
        list(s.data),
        StageSettings(mode="drift", stabilisation_threshold_um=0.1),
        voxel_size_um=s.voxel_size_um,
        frame_interval_s=s.frame_interval_s,
    )
    v = s.truth["velocity_um_per_min"]
    assert r.metric("drift_velocity_um_per_min").value == pytest.approx(math.hypot(v["x"], v["y"]), rel=0.05)
    assert r.metric("drift_velocity_x_um_per_min").value == pytest.approx(v["x"], rel=0.05)
    assert r.metric("focus_drift_rate_um_per_min").value == pytest.approx(v["z"], rel=0.05)
    assert r.metric("focus_drift_um").value == pytest.approx(v["z"] * 39 * 0.5, rel=0.05)
    assert r.metric("stabilisation_time_s").value == 0.0


def test_drift_sample_stabilisation_and_bad_frames():
    s = stage_drift_sample()
    r = analyze_stage(
        list(s.data),
        StageSettings(mode="drift", stabilisation_threshold_um=0.1),
        voxel_size_um=s.voxel_size_um,
        frame_interval_s=s.frame_interval_s,
    )
    stab = r.metric("stabilisation_time_s")
    assert abs(stab.value - s.truth["stabilisation_time_s_noise_free"]) <= s.frame_interval_s
    status = r.positions["status"]
    assert status[20] == status[21] == "no bead" and status[40] == "2 beads"
    assert r.metric("n_localised").value == 57 and r.metric("n_bridged").value == 3
    assert any("frame 40: 2 beads" in w for w in r.warnings)
    track = r.positions.dropna(subset=["x_um"])
    truth = s.positions.loc[track.index]
    assert np.abs(track["x_um"] - truth["x_um"]).max() < 0.01
    assert set(r.tables) == {"positions", "msd"}
    assert {"frame", "t_s", "z_um", "y_um", "x_um"} <= set(r.positions.columns)


# ------------------------------------------------------------------------- bad input


def test_no_bead_or_two_beads_are_reported_and_the_rest_analysed():
    rng = np.random.default_rng(0)
    vox = (1.0, 0.1, 0.1)
    frames = [render_bead((1, 96, 96), [0, 4.8 + 0.01 * i, 4.8], vox, 2.0, 3000, 100, rng) for i in range(6)]
    frames[2] = rng.poisson(np.full((1, 96, 96), 100.0)).astype(np.uint16)
    frames[4] = render_bead((1, 96, 96), [[0, 2.4, 2.4], [0, 7.2, 7.0]], vox, 2.0, 3000, 100, rng)
    frames.append(frames[0].astype(float))
    frames[6][0, 10, 10] = np.nan
    moves = pd.DataFrame({"dx_um": [1, -1] * 3 + [1], "dy_um": [1, -1] * 3 + [1]})
    r = analyze_stage(frames, voxel_size_um=vox, moves=moves)
    assert r.positions["status"].tolist() == ["ok", "ok", "no bead", "ok", "2 beads", "ok", "NaN pixels"]
    assert r.metric("n_localised").value == 4
    assert np.isfinite(r.metric("sd_y_um").value)


def test_bad_series_get_specific_errors():
    vox = (1.0, 0.1, 0.1)
    rng = np.random.default_rng(1)
    blank = [rng.poisson(np.full((32, 32), 100.0)).astype(np.uint16) for _ in range(3)]
    with pytest.raises(AnalysisError, match="the constant 100"):
        analyze_stage([np.full((32, 32), 100, np.uint16)] * 3, voxel_size_um=vox)
    with pytest.raises(AnalysisError, match="Every frame holds NaN"):
        analyze_stage([np.full((32, 32), np.nan)] * 3, voxel_size_um=vox)
    with pytest.raises(AnalysisError, match="exactly one bead"):
        analyze_stage(blank, voxel_size_um=vox, moves=pd.DataFrame({"dx_um": [1, -1, 1], "dy_um": [1, 1, 1]}))
    with pytest.raises(AnalysisError, match="at least 2"):
        analyze_stage(blank[:1], voxel_size_um=vox)
    with pytest.raises(SettingsError, match="Drift needs the time between frames"):
        analyze_stage(blank, StageSettings(mode="drift", stabilisation_threshold_um=0.1), voxel_size_um=vox)
    with pytest.raises(SettingsError, match="stabilisation threshold"):
        analyze_stage(blank, StageSettings(mode="drift"), voxel_size_um=vox, frame_interval_s=1.0)
    with pytest.raises(AnalysisError, match="different shapes"):
        analyze_stage(
            [rng.random((8, 8)), rng.random((9, 9))],
            voxel_size_um=vox,
            moves={"dx_um": [1, 1], "dy_um": [1, 1]},
        )

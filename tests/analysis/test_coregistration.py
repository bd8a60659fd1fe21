"""Chromatic co-registration: known shifts and transforms recovered, the ratio formula, models, bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from microscope_qc.analysis.coregistration import (
    CoregistrationSettings,
    RegistrationModel,
    analyze_coregistration,
    correct_image,
    metroloj_ratio,
)
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.results import AnalysisError
from microscope_qc.samples import (
    BeadSampleSpec,
    ChannelTransform,
    coregistration_sample,
    make_multicolour_beads,
)


def _settings(sample, **kw):
    sp = sample.spec
    ms = (
        MicroscopeSettings()
        .with_values(
            modality="widefield", na=sp.na, immersion_index=sp.immersion_index, voxel_size_um=sp.voxel_size_um
        )
        .with_wavelengths(
            [t.wavelength_ex_nm for t in sample.transforms], [t.wavelength_em_nm for t in sample.transforms]
        )
    )
    return CoregistrationSettings(microscope=ms, **kw)


def _true_shifts(sample, i=0, j=1):
    t = sample.truth
    a = t[t.channel == i].set_index("bead")[["x_um", "y_um", "z_um"]]
    b = t[t.channel == j].set_index("bead")[["x_um", "y_um", "z_um"]]
    return a, b - a


@pytest.fixture(scope="module")
def two_colour():
    s = coregistration_sample()
    return s, analyze_coregistration(s.data, _settings(s))


def test_mean_shift_within_its_uncertainty(two_colour):
    s, r = two_colour
    _, true = _true_shifts(s)
    for axis in "xyz":
        m = r.metric(f"shift_{axis}_um", 1)
        err = m.value - true[f"{axis}_um"].mean()
        print(
            f"shift {axis}: {1000 * m.value:.1f} ± {1000 * m.uncertainty:.1f} nm, error {1000 * err:+.1f} nm"
        )
        assert abs(err) < 3 * m.uncertainty


def test_per_bead_shifts_consistent_with_their_errors(two_colour):
    """The per-bead shift errors scatter as their (Cramér–Rao-level) standard errors say."""
    s, r = two_colour
    ref, true = _true_shifts(s)
    sh = r.tables["shifts"]
    beads = r.beads
    for axis in "xyz":
        # match each measured pair to the true bead by the reference position
        est_ref = sh[["x_um", "y_um"]].to_numpy()
        d = np.hypot(*(est_ref[:, None, :] - ref[["x_um", "y_um"]].to_numpy()[None]).transpose(2, 0, 1))
        k = d.argmin(axis=1)
        err = sh[f"shift_{axis}_um"].to_numpy() - true[f"{axis}_um"].to_numpy()[k]
        z = err / sh[f"shift_{axis}_se_um"].to_numpy()
        rms = float(np.sqrt(np.mean(z**2)))
        print(f"{axis}: RMS(error / SE) = {rms:.2f}")
        assert 0.6 < rms < 1.5
    assert (beads.status == "accepted").sum() == 2 * len(ref)


def test_affine_recovers_magnification_and_rotation(two_colour):
    _, r = two_colour
    pair = r.tables["pairs"].iloc[0]
    assert pair.model == "affine"  # chosen by BIC over translation and poly2
    mag, rot = r.metric("magnification_percent", 1), r.metric("rotation_deg", 1)
    print(
        f"magnification {mag.value:.4f} ± {mag.uncertainty:.4f} % (true 0.1 %), rotation {rot.value:.4f} ± {rot.uncertainty:.4f}° (true 0.05°)"
    )
    assert abs(mag.value - 0.1) < 3 * mag.uncertainty and mag.uncertainty < 0.02
    assert abs(rot.value - 0.05) < 3 * rot.uncertainty and rot.uncertainty < 0.01
    assert pair.magnification_significant and pair.rotation_significant
    assert r.metric("residual_rms_x_um", 1).value < 0.005


def test_model_round_trip_and_correction(two_colour):
    s, r = two_colour
    model = r.models[(0, 1)]
    again = RegistrationModel.from_dict(json.loads(json.dumps(model.to_dict())))
    x, y = np.array([1.0, 20.0]), np.array([3.0, 15.0])
    for axis in "xyz":
        np.testing.assert_allclose(again.displacement(x, y)[axis], model.displacement(x, y)[axis])
    corrected = correct_image(s.data[1], model, s.spec.voxel_size_um)
    r2 = analyze_coregistration(np.stack([s.data[0], corrected]), _settings(s))
    for axis in "xyz":
        print(f"after correction: shift {axis} {1000 * r2.metric(f'shift_{axis}_um', 1).value:+.1f} nm")
        assert abs(r2.metric(f"shift_{axis}_um", 1).value) < 0.01
    assert r2.metric("distance_3d_um", 1).value < r.metric("distance_3d_um", 1).value / 5


def test_2d_images(two_colour):
    s, _ = two_colour
    plane = s.data[:, s.data.shape[1] // 2 - 1]
    r = analyze_coregistration(plane, _settings(s))
    _, true = _true_shifts(s)
    for axis in "xy":
        m = r.metric(f"shift_{axis}_um", 1)
        assert abs(m.value - true[f"{axis}_um"].mean()) < max(3 * m.uncertainty, 0.005)
    assert r.metric("axial_distance_um", 1).value == 0.0


def test_single_bead_mode():
    spec = BeadSampleSpec(
        shape=(60, 200, 200),
        n_beads=1,
        fwhm_xy_um=1.5,
        fwhm_z_um=2.5,
        photons=2e6,
        hot_pixels=0,
        margin_um=5.0,
        z_margin_um=3.0,
    )
    t = (
        ChannelTransform("a", 488, 520),
        ChannelTransform("b", 561, 520, shift_yx_um=(0.05, 0.08), shift_z_um=0.2),
    )
    s = make_multicolour_beads(spec, t)
    r = analyze_coregistration(s.data, _settings(s, single_bead=True))
    assert r.metric("shift_x_um", 1).value == pytest.approx(0.08, abs=0.01)
    assert r.metric("shift_y_um", 1).value == pytest.approx(0.05, abs=0.01)
    assert r.metric("shift_z_um", 1).value == pytest.approx(0.2, abs=0.03)


# ------------------------------------------------------------------ the ratio by hand
def test_metroloj_ratio_hand_computed():
    rx, ry, rz = 0.2, 0.2, 0.6
    # along x: the reference radius is rx
    assert metroloj_ratio(0.1, 0.0, 0.0, rx, ry, rz) == pytest.approx((0.5, 0.2))
    # along z: rz
    assert metroloj_ratio(0.0, 0.0, 0.3, rx, ry, rz) == pytest.approx((0.5, 0.6))
    # 45° in the xz plane: 1/r² = (cos²/rx² + sin²/rz²) → r = rx·rz/sqrt((rz·sinθ)² + (rx·cosθ)²) with θ = 45°
    d = 0.1 * math.sqrt(2)
    r_ref = rx * rz / math.sqrt((rz * math.sqrt(0.5)) ** 2 + (rx * math.sqrt(0.5)) ** 2)
    assert metroloj_ratio(0.1, 0.0, 0.1, rx, ry, rz) == pytest.approx((d / r_ref, r_ref))
    # an anisotropic lateral ellipse along y
    assert metroloj_ratio(0.0, 0.15, 0.0, 0.2, 0.3, 0.6)[1] == pytest.approx(0.3)
    assert metroloj_ratio(0, 0, 0, rx, ry, rz)[0] == 0.0


# ------------------------------------------------------------------ bad inputs
def test_one_channel(two_colour):
    s, _ = two_colour
    with pytest.raises(AnalysisError, match="at least two channels"):
        analyze_coregistration(s.data[:1], _settings(s))


def test_channels_of_different_shape(two_colour):
    s, _ = two_colour
    with pytest.raises(AnalysisError, match="different shapes"):
        analyze_coregistration([s.data[0], s.data[1][:, :200]], _settings(s))


def test_no_beads_matched():
    spec = BeadSampleSpec(shape=(40, 256, 256), n_beads=6, hot_pixels=0, min_separation_um=4.0)
    far = (ChannelTransform("a", 488, 520), ChannelTransform("b", 561, 610, shift_yx_um=(1.5, 1.5)))
    s = make_multicolour_beads(spec, far)
    with pytest.raises(AnalysisError, match="no partner|No bead") as info:
        analyze_coregistration(s.data, _settings(s))
    assert info.value.fields == ["match_gate_um"] and "widen the match gate (µm)" in str(info.value)
    # a wider gate finds them
    r = analyze_coregistration(s.data, _settings(s, match_gate_um=3.0))
    assert r.metric("n_matched", 1).value >= 4


# ------------------------------------------------------------------ user-edited bead positions
def _true_voxels(sample, channel=0):
    dz, dy, dx = sample.spec.voxel_size_um
    t = sample.truth[sample.truth.channel == channel]
    return np.column_stack([t.z_um / dz, t.y_um / dy, t.x_um / dx])


@pytest.mark.parametrize("jitter_px", [0.0, 1.0])
def test_given_positions_agree_with_automatic_detection(two_colour, jitter_px):
    """The true bead positions, exact or moved by up to ±1 voxel per axis, give the automatic shifts."""
    s, auto = two_colour
    pos = _true_voxels(s) + np.random.default_rng(7).uniform(-jitter_px, jitter_px, (len(s.truth) // 2, 3))
    r = analyze_coregistration(s.data, _settings(s), positions=pos)
    assert r.metric("n_matched", 1).value == len(pos)
    assert set(r.beads.origin) == {"user"}
    np.testing.assert_array_equal(r.beads.position_index, np.r_[np.arange(len(pos)), np.arange(len(pos))])
    for axis in "xyz":
        a, u = auto.metric(f"shift_{axis}_um", 1), r.metric(f"shift_{axis}_um", 1)
        print(
            f"jitter {jitter_px} px, shift {axis}: given − automatic {1000 * (u.value - a.value):+.2f} nm "
            f"(SE {1000 * u.uncertainty:.2f} nm)"
        )
        assert abs(u.value - a.value) < u.uncertainty
    assert r.settings["positions"].value == "shared"
    assert r.settings["positions"].source.value == "user"
    assert r.settings["n_positions"].value == [len(pos), len(pos)]
    assert auto.settings["positions"].value == "automatic"
    assert auto.settings["n_positions"].value == [None, None]


def test_a_subset_of_positions_analyses_only_those_beads(two_colour):
    s, _ = two_colour
    pos = _true_voxels(s)[::3]
    r = analyze_coregistration(s.data, _settings(s), positions=pos)
    assert len(r.beads) == 2 * len(pos)
    assert r.metric("n_matched", 1).value == len(pos)
    ref = r.tables["shifts"][["x_um", "y_um"]].to_numpy()
    truth_xy = pos[:, [2, 1]] * np.array(s.spec.voxel_size_um[:0:-1])
    d = np.hypot(*(ref[:, None] - truth_xy[None]).transpose(2, 0, 1)).min(axis=1)
    assert d.max() < 0.05  # every measured bead is one of those given


def test_positions_per_channel(two_colour):
    """Positions for channel 1 only: channel 0 is detected, only the given beads are matched."""
    s, auto = two_colour
    pos = _true_voxels(s, channel=1)[:8]
    r = analyze_coregistration(s.data, _settings(s), positions={1: pos})
    b = r.beads
    assert set(b[b.channel == 0].origin) == {"detected"} and len(b[b.channel == 0]) == 30
    assert set(b[b.channel == 1].origin) == {"user"} and len(b[b.channel == 1]) == 8
    assert r.metric("n_matched", 1).value == 8
    assert (b[b.channel == 0].reason == "unmatched").sum() == 22
    assert r.settings["positions"].value == "per-channel"
    assert r.settings["n_positions"].value == [None, 8]
    for axis in "xy":
        assert abs(r.metric(f"shift_{axis}_um", 1).value - auto.metric(f"shift_{axis}_um", 1).value) < 0.01


def test_positions_outside_the_image_are_rejected_not_raised(two_colour):
    s, _ = two_colour
    good = _true_voxels(s)[:6]
    bad = np.array([[5.0, -10.0, 20.0], [20.0, 30.0, 5000.0], [60.0, 100.0, 100.0], [np.nan, 1.0, 1.0]])
    near_edge = np.array([[19.0, 2.0, 200.0]])  # inside, but its fit box is not
    r = analyze_coregistration(s.data, _settings(s), positions=np.vstack([good, bad, near_edge]))
    b = r.beads[r.beads.channel == 0]
    assert list(b.reason.iloc[6:10]) == ["outside the image"] * 4
    assert "outside the 40×384×384 stack" in b.reason_detail.iloc[6]
    assert b.reason.iloc[10] == "box outside XY edge"
    assert (b.status.iloc[6:] == "rejected").all() and (b.status.iloc[:6] == "accepted").all()
    assert r.metric("n_matched", 1).value == 6
    assert any("4 of 11 given bead positions are outside" in w for w in r.warnings)


def test_positions_on_2d_images(two_colour):
    s, _ = two_colour
    plane = s.data[:, s.data.shape[1] // 2 - 1]
    pos = _true_voxels(s)[:12]
    for given in (pos, pos[:, 1:]):  # (N, 3) with z ignored, or (N, 2)
        r = analyze_coregistration(plane, _settings(s), positions=np.vstack([given, -given[:1]]))
        assert r.metric("n_matched", 1).value == 12
        assert r.beads.reason.value_counts()["outside the image"] == 2
        _, true = _true_shifts(s)
        for axis in "xy":
            m = r.metric(f"shift_{axis}_um", 1)
            assert abs(m.value - true[f"{axis}_um"].mean()) < max(3 * m.uncertainty, 0.005)


def test_bad_positions(two_colour):
    s, _ = two_colour
    with pytest.raises(AnalysisError, match="No bead positions given"):
        analyze_coregistration(s.data, _settings(s), positions=np.empty((0, 3)))
    with pytest.raises(AnalysisError, match="No bead positions given for channel 1"):
        analyze_coregistration(s.data, _settings(s), positions={1: []})
    with pytest.raises(AnalysisError, match="channel 2, which does not exist"):
        analyze_coregistration(s.data, _settings(s), positions={2: [[1, 2, 3]]})
    with pytest.raises(AnalysisError, match=r"\(N, 3\)"):
        analyze_coregistration(s.data, _settings(s), positions=[[1, 2, 3, 4]])
    with pytest.raises(AnalysisError, match="single-bead"):
        analyze_coregistration(s.data, _settings(s, single_bead=True), positions=[[1, 2, 3]])

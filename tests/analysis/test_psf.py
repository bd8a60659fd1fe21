"""PSF analysis: accuracy against known truth, rejection reasons, field dependence, bad inputs, real data."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree
from tests.conftest import microscope_for, shared_file

from microscope_qc.analysis.psf import PSFSettings, analyze_psf, find_beads, render_model
from microscope_qc.instrument import MicroscopeSettings, SettingsError
from microscope_qc.results import AnalysisCancelled, AnalysisError, Limit, Limits
from microscope_qc.samples import BeadSampleSpec, make_bead_stack


def _match(result, truth):
    """Accepted beads joined with their true counterparts (nearest within 2 px)."""
    acc = result.beads[result.beads["status"] == "accepted"].reset_index(drop=True)
    tree = cKDTree(truth[["y_px", "x_px"]].to_numpy())
    dist, idx = tree.query(acc[["y_px", "x_px"]].to_numpy())
    assert np.all(dist < 2)
    return acc, truth.iloc[idx].reset_index(drop=True)


@pytest.fixture(scope="module")
def pooled():
    """Three synthetic stacks (72 beads) analysed with default settings."""
    accs, truths = [], []
    for seed in (10, 11, 12):
        sample = make_bead_stack(BeadSampleSpec(seed=seed))
        r = analyze_psf(sample.data, PSFSettings(microscope=microscope_for(sample)))
        acc, tr = _match(r, sample.truth)
        accs.append(acc)
        truths.append(tr)
    return pd.concat(accs, ignore_index=True), pd.concat(truths, ignore_index=True)


def test_median_fwhm_error_below_2_percent(pooled):
    acc, truth = pooled
    assert len(acc) >= 70
    for ax in "xyz":
        err = np.median(acc[f"fwhm_{ax}_um"]) / truth[f"fwhm_{ax}_um"].iloc[0] - 1
        print(f"median FWHM {ax} error: {100 * err:+.2f} %")
        assert abs(err) < 0.02


def test_per_bead_scatter_within_1p5_cramer_rao(pooled):
    acc, truth = pooled
    for ax in "xyz":
        z = (acc[f"fwhm_{ax}_um"] - truth[f"fwhm_{ax}_um"]) / acc[f"fwhm_{ax}_crb_um"]
        ratio = float(np.sqrt(np.mean(z**2)))
        print(f"FWHM {ax}: RMS error / CRB = {ratio:.2f}")
        assert ratio < 1.5
        # the reported standard error is honest too
        zse = (acc[f"fwhm_{ax}_um"] - truth[f"fwhm_{ax}_um"]) / acc[f"fwhm_{ax}_se_um"]
        assert 0.6 < float(np.sqrt(np.mean(zse**2))) < 1.5


def test_centres_are_sub_pixel(pooled):
    acc, truth = pooled
    for ax in "xyz":
        err = acc[f"{ax}_um"] - truth[f"{ax}_um"]
        assert float(np.sqrt(np.mean(err**2))) < 0.01  # 10 nm on 65 nm pixels


def test_detection_finds_every_bead_and_no_hot_pixel(bead_sample):
    ms = microscope_for(bead_sample)
    pos = find_beads(bead_sample.data, PSFSettings(microscope=ms))
    assert len(pos) == len(bead_sample.truth)
    tree = cKDTree(pos[:, 1:])
    dist, _ = tree.query(bead_sample.truth[["y_px", "x_px"]].to_numpy())
    assert dist.max() <= 1.5
    # the focal plane of each candidate is within one plane of the truth
    _, idx = cKDTree(bead_sample.truth[["y_px", "x_px"]].to_numpy()).query(pos[:, 1:])
    assert np.abs(pos[:, 0] - bead_sample.truth["z_px"].to_numpy()[idx]).max() <= 1.5


def test_detection_robust_to_uneven_background_and_hot_pixels():
    """Background rising 4x across the field, 40 hot pixels: every bead found, no false bead accepted."""
    spec = BeadSampleSpec(
        seed=5, photons=2e5, background_photons=200.0, background_gradient=3.0, hot_pixels=40
    )
    sample = make_bead_stack(spec)
    settings = PSFSettings(microscope=microscope_for(sample))
    pos = find_beads(sample.data, settings)
    dist, _ = cKDTree(pos[:, 1:]).query(sample.truth[["y_px", "x_px"]].to_numpy())
    assert dist.max() <= 1.5
    assert len(pos) <= len(sample.truth) + 2
    r = analyze_psf(sample.data, settings)
    acc, _ = _match(r, sample.truth)  # asserts every accepted bead is a real one
    assert len(acc) >= len(sample.truth) - 1


def test_aberrated_psf_recovered(aberrated_sample):
    s = aberrated_sample
    r = analyze_psf(s.data, PSFSettings(microscope=microscope_for(s)))
    acc, truth = _match(r, s.truth)
    assert len(acc) == len(truth)
    for name in ("fwhm_x_um", "fwhm_y_um", "fwhm_major_um", "fwhm_minor_um"):
        err = np.median(acc[name]) / truth[name].iloc[0] - 1
        assert abs(err) < 0.02, name
    assert np.median(acc["theta_deg"]) == pytest.approx(30.0, abs=1.5)
    tilt = r.metric("focal_tilt_deg")
    true_tilt = math.degrees(math.atan(math.hypot(0.01, 0.02)))
    print(f"tilt {tilt.value:.3f} ± {tilt.uncertainty:.3f}° (true {true_tilt:.3f}°)")
    assert abs(tilt.value - true_tilt) < 3 * tilt.uncertainty
    curv = r.metric("field_curvature_um")
    print(f"curvature {curv.value:.3f} ± {curv.uncertainty:.3f} µm (true 0.600)")
    assert abs(curv.value - 0.6) < 3 * curv.uncertainty
    chan = r.channels[0]
    assert set(chan.maps) >= {"fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "lateral_asymmetry", "z_um"}
    assert np.isfinite(chan.maps["z_um"]).sum() > 100


def test_averaged_bead_and_model(bead_sample):
    r = analyze_psf(bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample)))
    avg = r.channels[0].averaged_bead
    assert avg is not None and r.channels[0].averaged_bead_count == len(bead_sample.truth)
    zc, yc, xc = (n // 2 for n in avg.shape)
    assert avg[zc, yc, xc] == pytest.approx(avg.max(), rel=0.02)  # aligned on the centre
    model = render_model(r, bead_sample.data.shape)
    row = r.beads.iloc[0]
    z, y, x = int(row["z_px"]), int(row["y_px"]), int(row["x_px"])
    assert model[z, y, x] == pytest.approx(float(bead_sample.data[z, y, x]), rel=0.1)


def test_verdicts_name_thresholds(bead_sample):
    r = analyze_psf(
        bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample), tolerance_xy_ratio=1.1)
    )
    v = {v.metric: v for v in r.verdicts}
    assert v["fwhm_x_ratio"].threshold == 1.1 and v["fwhm_x_ratio"].source == "user"
    assert not v["fwhm_x_ratio"].passed  # 0.22 / 0.189 = 1.16 > 1.1
    assert v["fwhm_z_ratio"].threshold == 2.0 and v["fwhm_z_ratio"].source.startswith("default")
    assert v["sampling_ratio_xy"].passed and v["sampling_ratio_z"].passed


def test_metroloj_mode(bead_sample):
    r = analyze_psf(bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample), method="metroloj"))
    acc = r.beads[r.beads["status"] == "accepted"]
    assert len(acc) >= 20
    assert {"r2_x", "r2_y", "r2_z"} <= set(acc.columns)
    # lines through the brightest voxel cut the bead off-centre by up to half a pixel, so are a
    # little narrower and noisier than the 2D fit; within 4 %
    assert np.median(acc["fwhm_x_um"]) == pytest.approx(0.22, rel=0.04)
    assert np.median(acc["fwhm_z_um"]) == pytest.approx(0.65, rel=0.04)
    assert np.allclose(
        acc["lateral_asymmetry"],
        np.minimum(acc.fwhm_x_um, acc.fwhm_y_um) / np.maximum(acc.fwhm_x_um, acc.fwhm_y_um),
    )


@pytest.mark.slow
def test_3d_fit(bead_sample):
    r = analyze_psf(bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample), fit_3d=True))
    acc = r.beads[r.beads["status"] == "accepted"]
    assert np.median(acc["fwhm_x_3d_um"]) == pytest.approx(0.22, rel=0.02)
    assert np.median(acc["fwhm_z_3d_um"]) == pytest.approx(0.65, rel=0.02)
    assert np.all(acc["fwhm_axis1_3d_um"] >= acc["fwhm_axis3_3d_um"])


def test_user_positions(bead_sample):
    truth = bead_sample.truth
    pos = truth[["y_px", "x_px"]].to_numpy()[:5]
    r = analyze_psf(bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample)), positions=pos)
    assert len(r.beads) == 5 and set(r.beads["origin"]) == {"user"}
    assert (r.beads["status"] == "accepted").all()


def _stack_with_problems():
    spec = BeadSampleSpec(
        shape=(40, 300, 300), n_beads=6, seed=3, hot_pixels=0, min_separation_um=4.0, margin_um=2.5
    )
    sample = make_bead_stack(spec)
    data = sample.data.astype(np.uint16)
    t = sample.truth
    # a saturated bead: clip one bead's core
    z, y, x = (int(round(v)) for v in t.iloc[0][["z_px", "y_px", "x_px"]])
    data[z - 1 : z + 2, y - 1 : y + 2, x - 1 : x + 2] = 65535
    # a neighbour pair: copy bead 1 next to itself
    z1, y1, x1 = (int(round(v)) for v in t.iloc[1][["z_px", "y_px", "x_px"]])
    patch = data[:, y1 - 6 : y1 + 7, x1 - 6 : x1 + 7].astype(np.int32) - 100
    data[:, y1 - 6 + 10 : y1 + 7 + 10, x1 - 6 : x1 + 7] = np.clip(
        data[:, y1 - 6 + 10 : y1 + 7 + 10, x1 - 6 : x1 + 7].astype(np.int32) + patch, 0, 65535
    )
    # a bead at the XY edge and a bead near the stack top
    yy, xx = np.mgrid[0:300, 0:300]
    zz = np.arange(40)[:, None, None]
    data = data.astype(np.float64)
    data += (
        300
        * np.exp(-((yy - 2) ** 2 + (xx - 100) ** 2) / (2 * 1.4**2))
        * np.exp(-((zz - 20) ** 2) / (2 * 1.8**2))
    )
    data += (
        300
        * np.exp(-((yy - 150) ** 2 + (xx - 30) ** 2) / (2 * 1.4**2))
        * np.exp(-((zz - 1) ** 2) / (2 * 1.8**2))
    )
    return np.clip(data, 0, 65535).astype(np.uint16), sample


def test_every_candidate_has_status_and_reason():
    data, sample = _stack_with_problems()
    r = analyze_psf(data, PSFSettings(microscope=microscope_for(sample)))
    b = r.beads
    reasons = set(b.loc[b["status"] == "rejected", "reason"])
    print(b[["status", "reason", "reason_detail"]])
    assert {
        "saturated",
        "too close to a neighbour",
        "box outside XY edge",
        "too close to stack top/bottom",
    } <= reasons
    assert (b.loc[b["status"] == "accepted", "reason"] == "").all()
    assert (b["status"] == "accepted").sum() >= 3
    assert (b.loc[b["status"] == "rejected", "reason_detail"] != "").all()


def test_multichannel(bead_sample):
    data = np.stack([bead_sample.data, bead_sample.data])
    ms = microscope_for(bead_sample).with_wavelengths([488, 561], [520, 600])
    r = analyze_psf(data, PSFSettings(microscope=ms))
    assert set(r.beads["channel"]) == {0, 1}
    assert r.metric("theoretical_fwhm_xy_um", 1).value > r.metric("theoretical_fwhm_xy_um", 0).value
    assert r.metric("fwhm_x_um", 0).value == pytest.approx(r.metric("fwhm_x_um", 1).value)


def test_channel_selection_reports_the_files_channel_numbers(bead_sample):
    data = np.stack([np.flip(bead_sample.data, axis=2), bead_sample.data])
    ms = microscope_for(bead_sample).with_wavelengths([488, 561], [520, 600])
    seen = []
    r = analyze_psf(data, PSFSettings(microscope=ms), channels=[1], progress=lambda f, m: seen.append(m))
    alone_ms = microscope_for(bead_sample).with_wavelengths([561], [600])
    alone = analyze_psf(bead_sample.data, PSFSettings(microscope=alone_ms))
    # labelled with the file's channel number everywhere
    assert [ch.channel for ch in r.channels] == [1]
    assert r.channels[0].name == ms.channels[1].name
    assert set(r.beads["channel"]) == {1}
    assert {m.channel for m in r.metrics} == {1} and {v.channel for v in r.verdicts} == {1}
    assert set(r.images) == {"mip@ch1"}
    assert "box_xy_px@ch1" in r.settings and "box_xy_px@ch0" not in r.settings
    assert r.settings["channels"].value == [1]
    assert all(m.startswith("channel 1:") for m in seen[:-1])
    # the same numbers as analysing that channel alone
    assert [(m.name, m.unit) for m in r.metrics] == [(m.name, m.unit) for m in alone.metrics]
    for m, a in zip(r.metrics, alone.metrics, strict=True):
        assert m.value == pytest.approx(a.value, nan_ok=True), m.name
    assert [(v.metric, v.passed, v.threshold, v.source) for v in r.verdicts] == [
        (v.metric, v.passed, v.threshold, v.source) for v in alone.verdicts
    ]
    pd.testing.assert_frame_equal(r.beads.drop(columns="channel"), alone.beads.drop(columns="channel"))
    assert r.warnings == [w.replace("Channel 0", "Channel 1") for w in alone.warnings]
    np.testing.assert_array_equal(
        render_model(r, bead_sample.data.shape, 1), render_model(alone, bead_sample.data.shape, 0)
    )


def test_channel_selection_out_of_range(bead_sample):
    ms = microscope_for(bead_sample)
    data = np.stack([bead_sample.data, bead_sample.data])
    with pytest.raises(AnalysisError, match=r"\[2\] do not exist.*channels 0–1"):
        analyze_psf(data, PSFSettings(microscope=ms), channels=[0, 2])
    with pytest.raises(AnalysisError, match=r"\[-1\] do not exist"):
        analyze_psf(data, PSFSettings(microscope=ms), channels=[-1])
    with pytest.raises(AnalysisError, match=r"\[1\] do not exist.*channel 0"):
        analyze_psf(bead_sample.data, PSFSettings(microscope=ms), channels=[1])
    with pytest.raises(AnalysisError, match="more than once"):
        analyze_psf(data, PSFSettings(microscope=ms), channels=[1, 1])
    with pytest.raises(AnalysisError, match="No channel selected"):
        analyze_psf(data, PSFSettings(microscope=ms), channels=[])


def test_limits_replace_the_default_verdicts(bead_sample):
    source = "instrument 'Scope A'"
    limits = Limits((Limit("fwhm_x_ratio", max=1.25), Limit("n_accepted", min=5)), source=source)
    r = analyze_psf(bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample)), limits=limits)
    by_metric: dict[str, list] = {}
    for v in r.verdicts:
        by_metric.setdefault(v.metric, []).append(v)
    (x,) = by_metric["fwhm_x_ratio"]  # the default verdict (threshold 1.5) is gone
    assert (x.threshold, x.comparison, x.source, x.channel) == (1.25, "<=", source, 0)
    assert x.passed  # 0.22 / 0.189 = 1.16
    (n,) = by_metric["n_accepted"]
    assert (n.threshold, n.comparison, n.source, n.passed) == (5, ">=", source, True)
    # metrics without a limit keep their default verdict
    (z,) = by_metric["fwhm_z_ratio"]
    assert z.threshold == 2.0 and z.source.startswith("default")


def test_settings_sources_default_and_user():
    s = PSFSettings(method="metroloj")
    table = s.analysis_settings()
    assert table["method"].source == "user" and table["tolerance_xy_ratio"].source == "default"
    assert "microscope" not in table


def test_settings_source_of_a_field_with_a_default_factory():
    # The default was compared with ``dataclasses.field`` instead of ``dataclasses.MISSING``, so a
    # field whose default comes from a factory was always reported as given by the user.
    @dataclasses.dataclass
    class Extended(PSFSettings):
        extra: list[int] = dataclasses.field(default_factory=lambda: [1, 2])

    assert Extended().analysis_settings()["extra"].source == "default"
    assert Extended(extra=[3]).analysis_settings()["extra"].source == "user"


def test_progress_and_cancel(bead_sample):
    seen = []
    analyze_psf(
        bead_sample.data,
        PSFSettings(microscope=microscope_for(bead_sample)),
        progress=lambda f, m: seen.append(f),
    )
    assert seen[-1] == 1.0 and all(b >= a for a, b in zip(seen, seen[1:], strict=False))
    with pytest.raises(AnalysisCancelled):
        analyze_psf(
            bead_sample.data, PSFSettings(microscope=microscope_for(bead_sample)), cancel=lambda: True
        )


def test_missing_optics_still_measures_with_warning(bead_sample):
    ms = MicroscopeSettings().with_values(voxel_size_um=bead_sample.spec.voxel_size_um)
    r = analyze_psf(bead_sample.data, PSFSettings(microscope=ms))
    assert r.metric("fwhm_x_um").value == pytest.approx(0.22, rel=0.03)
    assert not r.verdicts
    assert any("no theoretical resolution" in w for w in r.warnings)
    assert r.settings["na"].source == "missing"


# ------------------------------------------------------------------------------------ bad inputs
@pytest.fixture
def ms():
    return (
        MicroscopeSettings()
        .with_values(voxel_size_um=(0.15, 0.065, 0.065), na=1.4, immersion_index=1.518, modality="widefield")
        .with_wavelengths([488], [520])
    )


def test_2d_image_rejected(ms):
    with pytest.raises(AnalysisError, match="z-stack"):
        analyze_psf(np.ones((64, 64)), PSFSettings(microscope=ms))


def test_too_many_dimensions(ms):
    with pytest.raises(AnalysisError, match="time point"):
        analyze_psf(np.ones((2, 2, 10, 64, 64)), PSFSettings(microscope=ms))


def test_empty_image(ms):
    with pytest.raises(AnalysisError, match="empty"):
        analyze_psf(np.zeros((10, 0, 64), dtype=np.uint16), PSFSettings(microscope=ms))


def test_constant_image(ms):
    with pytest.raises(AnalysisError, match="constant"):
        analyze_psf(np.full((10, 64, 64), 7, dtype=np.uint16), PSFSettings(microscope=ms))


def test_nan_image(ms, bead_sample):
    data = bead_sample.data.astype(np.float32)
    data[3, 10, 10] = np.nan
    with pytest.raises(AnalysisError, match="NaN"):
        analyze_psf(data, PSFSettings(microscope=ms))


def test_noise_only_finds_no_beads(ms):
    rng = np.random.default_rng(0)
    with pytest.raises(AnalysisError, match="No beads found"):
        analyze_psf(rng.poisson(100, (20, 128, 128)).astype(np.uint16), PSFSettings(microscope=ms))


def test_all_beads_saturated(ms, bead_sample):
    data = np.minimum(bead_sample.data, 255).astype(np.uint8)  # every bead clipped at the 8-bit maximum
    with pytest.raises(AnalysisError, match="saturated"):
        analyze_psf(data, PSFSettings(microscope=ms))


def test_missing_voxel_size(bead_sample):
    with pytest.raises(SettingsError, match="voxel size"):
        analyze_psf(bead_sample.data, PSFSettings(microscope=MicroscopeSettings(na=1.4)))


# ------------------------------------------------------------------------------------ real data
def _real(path, voxel, **optics):
    from microscope_qc.io import read_image

    img = read_image(path)
    ms = MicroscopeSettings().with_values(voxel_size_um=voxel or img.metadata.voxel_size_um.value, **optics)
    return img, ms


@pytest.mark.slow
def test_real_widefield_na095_consistent_with_theory():
    path = shared_file("psf-beads-widefield-na095/beads_zstack_34z.tif")
    img, ms = _real(path, None, na=0.95, immersion_index=1.0, modality="widefield", bead_diameter_um=0.2)
    ms = ms.with_wavelengths([488], [520])
    assert ms.voxel_size_um == pytest.approx((0.3, 0.108, 0.108))  # read from the ImageJ metadata
    r = analyze_psf(img.data, PSFSettings(microscope=ms))
    n_acc = r.metric("n_accepted").value
    fx, fy = r.metric("fwhm_x_um").value, r.metric("fwhm_y_um").value
    theory = 0.51 * 0.520 / 0.95
    broadened = math.sqrt(theory**2 + (0.527 * 0.2) ** 2)
    print(
        f"NA 0.95 beads: {n_acc} accepted; FWHM x {fx:.3f}, y {fy:.3f} µm; theory {theory:.3f}, with bead {broadened:.3f}"
    )
    assert n_acc >= 20
    # no sharper than diffraction plus bead allows, and within MetroloJ_QC's 1.5× tolerance
    for f in (fx, fy):
        assert broadened < f < 1.5 * theory
    assert all(v.passed for v in r.verdicts if v.metric in ("fwhm_x_ratio", "fwhm_y_ratio", "fwhm_z_ratio"))
    assert r.metric("lateral_asymmetry").value > 0.9


@pytest.mark.parametrize(
    ("relative", "voxel", "optics", "lateral_range"),
    [
        (
            "psf-single-bead-air-na085/psf_wl520nm_z300nm_x130nm_na0.85_n1.0.tif",
            (0.3, 0.13, 0.13),
            {"na": 0.85, "immersion_index": 1.0, "modality": "widefield"},
            (0.31, 0.47),
        ),
        (
            "psf-single-bead-lightsheet/BIL113_zstack_z300nm_current.tif",
            (0.3, 0.0867, 0.0867),
            {},
            (0.2, 0.6),
        ),
    ],
)
def test_real_single_beads_analyse_cleanly(relative, voxel, optics, lateral_range):
    img, ms = _real(shared_file(relative), voxel, **optics)
    # no unit in the TIFF tags; the Amira-style BoundingBox in the description is read with its origin
    # (tests/test_tiff_metadata.py), and the analysis here uses the authors' voxel size instead
    assert "BoundingBox" in img.metadata.voxel_size_um.origin
    if optics:
        ms = ms.with_wavelengths(None, [520])
    r = analyze_psf(img.data, PSFSettings(microscope=ms))
    b = r.beads
    assert (b["status"] == "accepted").sum() == 1, b[["status", "reason", "reason_detail"]]
    acc = b[b["status"] == "accepted"].iloc[0]
    for ax in "xy":
        assert lateral_range[0] < acc[f"fwhm_{ax}_um"] < lateral_range[1]
    assert acc["r2_xy"] > 0.95 and acc["r2_z"] > 0.9
    assert acc["fwhm_z_um"] > 2 * acc["fwhm_x_um"]


def test_aligned_average_moves_beads_onto_the_box_centre():
    """Sub-voxel Fourier shifts of odd-sized boxes (padded to fast FFT lengths), normalised and
    averaged, against Gaussians drawn there and against shifting each box on its own."""
    from microscope_qc.analysis.psf import AlignedAverage
    from microscope_qc.analysis.psf.maps import next_fast_len

    shape = (31, 23, 23)
    grid = np.indices(shape).astype(np.float32)
    centre = np.array([15.0, 11.0, 11.0])
    offsets = np.array([[0.3, -0.4, 0.2], [-0.5, 0.5, -0.1], [0.0, 0.0, 0.0]], np.float32)
    sigma = np.array([3.0, 1.6, 1.6])

    def gauss(c, peak=1.0):
        g = np.exp(-0.5 * sum(((grid[a] - c[a]) / sigma[a]) ** 2 for a in range(3)))
        return (peak * g).astype(np.float32)

    boxes = np.stack([gauss(centre + o, peak) for o, peak in zip(offsets, (2.0, 0.5, 1.0), strict=True)])
    average = AlignedAverage(shape)
    average.add(boxes[:2], -offsets[:2])
    average.add(boxes[2:], -offsets[2:])
    average.add(-boxes[:1], -offsets[:1])  # a negative centre: left out
    assert average.count == 3
    got = average.result()
    assert np.abs(got - gauss(centre)).max() < 5e-3  # of a peak of 1
    assert np.unravel_index(np.argmax(got), shape) == (15, 11, 11)
    # the definition, box by box: shift (zero-padded FFT), crop, divide by the centre value, average
    padded = tuple(next_fast_len(n) for n in shape)
    one_by_one = []
    for box, shift in zip(boxes, -offsets, strict=True):
        spec = np.fft.rfftn(box.astype(np.float64), s=padded)
        for axis, (n, d) in enumerate(zip(padded, shift, strict=True)):
            f = np.fft.rfftfreq(n) if axis == 2 else np.fft.fftfreq(n)
            ramp = np.exp(-2j * np.pi * d * f)
            spec = spec * ramp.reshape([-1 if a == axis else 1 for a in range(3)])
        aligned = np.fft.irfftn(spec, s=padded)[: shape[0], : shape[1], : shape[2]]
        one_by_one.append(aligned / aligned[15, 11, 11])
    np.testing.assert_allclose(got, np.mean(one_by_one, axis=0), atol=1e-5)  # single precision FFTs

"""Line groups and gratings of a pattern slide: synthetic truth, hand-computed definitions, bad inputs.

The synthetic slide (samples/pattern_lines.py) is imaged through a Gaussian PSF of FWHM 0.24 µm
(σ = 0.1019 µm) at 0.04 µm per pixel. Its truth is exact: the profiles are rendered analytically.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from microscope_qc.analysis.pattern.lines import LinePatternSettings, analyze_lines
from microscope_qc.analysis.pattern.lines_geometry import Profile
from microscope_qc.analysis.pattern.lines_profile import (
    Extremum,
    extremum,
    fit_lsf,
    pair_contrast,
    spacing_from_peaks,
)
from microscope_qc.instrument import SettingsError
from microscope_qc.results import AnalysisCancelled, AnalysisError
from microscope_qc.samples.pattern_lines import pattern_ladder_sample, pattern_lines_sample


def _value(result, name):
    return next(m.value for m in result.metrics if m.name == name)


def _matched(result, sample):
    """(truth group, measured row) pairs, matched by their centres (within 20 px)."""
    g = result.groups
    pairs = []
    for t in sample.truth["groups"]:
        d = np.hypot(g["centre_y_px"] - t["centre_yx_px"][0], g["centre_x_px"] - t["centre_yx_px"][1])
        i = int(np.argmin(d.to_numpy()))
        assert d.iloc[i] < 20, f"no group found near the {t['kind']} at {t['centre_yx_px']}"
        pairs.append((t, g.iloc[i]))
    return pairs


def _angle_error(a, b):
    return (a - b + 90.0) % 180.0 - 90.0


@pytest.fixture(scope="module")
def slide():
    s = pattern_lines_sample(seed=0, angle_deg=3.7)
    nominal = sorted({*s.truth["spacings_um"], 0.6})
    return s, analyze_lines(s.image, pixel_size_um=s.pixel_size_um, nominal_spacings_um=nominal)


def test_every_group_found_and_classified(slide):
    s, r = slide
    kinds = {"lines": {"lines", "unresolved"}, "line": {"line"}, "grating": {"grating"}}
    pairs = _matched(r, s)
    assert len(r.groups) == len(s.truth["groups"]) == 14
    for t, row in pairs:
        assert row["kind"] in kinds[t["kind"]]
        if t["kind"] == "lines":
            # a group with a dip in its noise-free profile is seen as its 5 lines, one without as unresolved
            assert (row["kind"] == "lines") == (t["dip"] > 0)
            assert row["nominal_spacing_um"] == t["spacing_um"]
    assert not r.warnings
    json.dumps(r.to_dict())  # JSON-safe


def test_orientation_within_half_a_degree(slide):
    s, r = slide
    for t, row in _matched(r, s):
        assert abs(_angle_error(row["angle_deg"], t["angle_deg"])) < 0.5, t
    assert _value(r, "slide_rotation_deg") == pytest.approx(3.7, abs=0.1)


def test_spacing_within_1_percent(slide):
    s, r = slide
    n = 0
    for t, row in _matched(r, s):
        if t["kind"] in ("lines", "grating") and row["kind"] in ("lines", "grating"):
            assert row["spacing_um"] == pytest.approx(t["spacing_um"], rel=0.01), t
            assert row["spacing_se_um"] < 0.01 * t["spacing_um"]
            n += 1
    assert n == 10  # 6 line groups with a dip (0.25 … 0.50 µm) and 4 gratings
    assert _value(r, "spacing_error_max_percent") < 1.0


def test_line_pair_contrast_matches_the_noise_free_image(slide):
    # truth: the Michelson contrast of the analytically rendered profile (PSF, line width, pixel footprint),
    # per line pair, averaged; tolerance 0.01 in contrast (the parabolic peak estimate is ≤ 0.5 % low)
    s, r = slide
    for t, row in _matched(r, s):
        if t["kind"] == "lines" and row["kind"] == "lines":
            assert row["contrast"] == pytest.approx(t["contrast"], abs=0.01), t
            assert row["dip_percent"] == pytest.approx(100 * t["dip"], abs=1.5)
            assert 0 < row["contrast_se"] < 0.01


def test_grating_contrast_matches_the_gaussian_mtf(slide):
    # A sinusoid 1 + cos(2πu/p) through a Gaussian PSF of σ keeps the modulation of its Fourier component,
    # ∫ exp(−x²/2σ²) cos(2πfx) dx / ∫ exp(−x²/2σ²) dx = exp(−2π²σ²f²), f = 1/p; the pixel (a square of side a)
    # averages it once more: sinc(a f cos ψ) · sinc(a f sin ψ), ψ the wave vector's angle. Michelson contrast
    # of the image = that modulation. Tolerance: 2 % of the contrast.
    s, r = slide
    sigma = 0.24 / (2 * math.sqrt(2 * math.log(2)))
    a = s.pixel_size_um

    def sinc(z):
        return math.sin(math.pi * z) / (math.pi * z) if z else 1.0

    n = 0
    for t, row in _matched(r, s):
        if t["kind"] != "grating":
            continue
        f = 1 / t["spacing_um"]
        psi = math.radians(t["angle_deg"] - 90.0)
        expected = (
            math.exp(-2 * math.pi**2 * sigma**2 * f**2)
            * sinc(a * f * math.cos(psi))
            * sinc(a * f * math.sin(psi))
        )
        assert row["contrast"] == pytest.approx(expected, rel=0.02), t
        assert row["frequency_per_um"] == pytest.approx(f, rel=1e-9)  # the nominal spacing's frequency
        n += 1
    assert n == 4


def test_smallest_resolved_spacing_within_one_step(slide):
    s, r = slide
    truth = s.truth["smallest_resolved_spacing_um"]
    assert truth == pytest.approx(0.30)
    assert abs(_value(r, "smallest_resolved_spacing_um") - truth) <= 0.05 + 1e-9
    assert _value(r, "smallest_resolved_spacing_um") == pytest.approx(truth)
    # the dip's crossing of 26.5 %, between the 0.25 µm (dip 12 %) and 0.30 µm (32.5 %) groups
    assert 0.25 < _value(r, "resolved_spacing_interpolated_um") < 0.30
    assert _value(r, "n_resolved") == 5 + 3  # 0.30 … 0.50 µm groups and the gratings of 0.4 … 0.6 µm


def test_lsf_fwhm_within_5_percent_of_the_psf(slide):
    s, r = slide
    lsf = _value(r, "lsf_fwhm_um")
    assert lsf == pytest.approx(s.truth["lsf_fwhm_um"], rel=0.02)  # the image's LSF (line width, pixel)
    assert lsf == pytest.approx(s.truth["psf_fwhm_um"], rel=0.05)
    se = next(m.uncertainty for m in r.metrics if m.name == "lsf_fwhm_um")
    assert se is not None and 0 < se < 0.005


@pytest.mark.parametrize("angle", [0.0, -20.0, 30.0])
def test_axis_aligned_strongly_rotated_and_partly_out_of_field_slides(angle):
    # rotated, the slide's corners leave the field (at 30° the isolated line is cut): those groups are
    # flagged; the rotation is known modulo 45° (patterns at multiples of 45°)
    s = pattern_lines_sample(seed=4, angle_deg=angle, gratings=False)
    r = analyze_lines(s.image, pixel_size_um=s.pixel_size_um)  # no nominal spacings
    g = r.groups
    for t in s.truth["groups"]:
        d = np.hypot(g["centre_y_px"] - t["centre_yx_px"][0], g["centre_x_px"] - t["centre_yx_px"][1])
        row = g.iloc[int(np.argmin(d.to_numpy()))]
        if row["touches_edge"]:
            continue
        assert abs(_angle_error(row["angle_deg"], t["angle_deg"])) < 0.5
        if t["kind"] == "lines" and t["dip"] > 0:
            assert row["spacing_um"] == pytest.approx(t["spacing_um"], rel=0.01)
            assert row["contrast"] == pytest.approx(t["contrast"], abs=0.01)
    assert abs(_value(r, "smallest_resolved_spacing_um") - 0.30) <= 0.05
    assert _value(r, "slide_rotation_deg") == pytest.approx((angle + 22.5) % 45 - 22.5, abs=0.1)
    assert _value(r, "lsf_fwhm_um") == pytest.approx(s.truth["lsf_fwhm_um"], rel=0.02)
    assert g["touches_edge"].any() == (angle != 0.0)  # at −20° and 30° the slide's corners leave the field
    assert any("touch the image's edge" in w for w in r.warnings) == (angle != 0.0)


def test_the_criterion_is_a_setting_and_verdicts_follow():
    s = pattern_lines_sample(seed=1, gratings=False)
    settings = LinePatternSettings(
        resolved_dip_percent=10.0, max_resolved_spacing_um=0.25, max_lsf_fwhm_um=0.2
    )
    r = analyze_lines(
        s.image, settings, pixel_size_um=s.pixel_size_um, nominal_spacings_um=s.truth["spacings_um"]
    )
    assert _value(r, "smallest_resolved_spacing_um") == pytest.approx(0.25)  # its dip is 12 %
    verdicts = {v.metric: v.passed for v in r.verdicts}
    assert verdicts == {
        "spacing_error_max_percent": True,
        "smallest_resolved_spacing_um": True,
        "lsf_fwhm_um": False,
    }


def test_rayleigh_dip_of_two_airy_discs():
    # two Airy discs at the Rayleigh distance (the first zero, v = 3.8317): midway each is at v = 1.9159,
    # I_mid / I_peak = 2 (2 J₁(v)/v)² = 0.7350 (the peaks stay at 1: each disc is at the other's zero), so the dip is
    # 26.5 % (the default criterion; often quoted as 26.4 %)
    from scipy.special import j1

    v = 3.831706 / 2
    assert 1 - 2 * (2 * j1(v) / v) ** 2 == pytest.approx(
        LinePatternSettings().resolved_dip_percent / 100, abs=5e-4
    )


def test_definitions_by_hand():
    # Michelson per pair: peaks 100 and 80, trough 30 → Imax = 90, C = 60/120 = 0.5, dip = 1 − 30/90
    peaks = [Extremum(0.0, 100.0, 1.0), Extremum(0.3, 80.0, 1.0)]
    c, se, dip = pair_contrast(peaks, [Extremum(0.15, 30.0, 1.0)])
    assert c[0] == pytest.approx(0.5) and dip[0] == pytest.approx(2 / 3)
    # SE by propagation: ∂C/∂Imax = 2·30/120², ∂C/∂Imin = −2·90/120², SE(Imax) = √2/2
    assert se[0] == pytest.approx(math.hypot(2 * 30 / 120**2 * math.sqrt(2) / 2, 2 * 90 / 120**2))
    # spacing: 7 peaks 0.25 µm apart; the two outermost are left out, the slope of the rest is exact
    pos = 1.0 + 0.25 * np.arange(7)
    pos[0] -= 0.01  # an outer line pulled towards its neighbour: no effect
    spacing, spacing_se, _ = spacing_from_peaks([Extremum(float(p), 1.0, 0.0) for p in pos])
    assert spacing == pytest.approx(0.25) and spacing_se == pytest.approx(0.0, abs=1e-12)
    # a parabola's vertex: y = 50 − 2000 (u − 0.013)² sampled every 0.01 µm
    u = np.arange(-0.1, 0.1001, 0.01)
    prof = Profile(u, 50 - 2000 * (u - 0.013) ** 2, np.ones(u.size), np.full(u.size, 10), 0.01)
    e = extremum(prof, int(np.argmax(prof.mean)), 0.05, background=10.0)
    assert e.u_um == pytest.approx(0.013) and e.value == pytest.approx(40.0)


def test_lsf_fit_of_a_gaussian_line():
    # noise-free Gaussian line of σ = 0.1 µm in 0.01 µm bins: FWHM 0.235482 µm
    u = np.arange(-0.6, 0.6, 0.01)
    mean = 20 + 500 * np.exp(-0.5 * (u / 0.1) ** 2)
    prof = Profile(u, mean, np.ones(u.size), np.full(u.size, 10), 0.01)
    fwhm, _, r2 = fit_lsf(prof, int(np.argmax(mean)), 0.25)
    assert fwhm == pytest.approx(2 * math.sqrt(2 * math.log(2)) * 0.1, rel=1e-4) and r2 > 0.9999


def _spots(centres, ring=False, shape=(512, 512), seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    img = np.zeros(shape)
    for cy, cx in centres:
        r = np.hypot(yy - cy, xx - cx)
        img += np.exp(-0.5 * ((r - (6 if ring else 0)) / 2.0) ** 2)
    return rng.poisson(100 + 1500 * img).astype(np.uint16)


def test_no_pattern():
    noise = np.random.default_rng(0).poisson(100, (256, 256)).astype(np.uint16)
    with pytest.raises(AnalysisError, match="No pattern found"):
        analyze_lines(noise, pixel_size_um=0.1)


def test_a_bead_image_is_named():
    beads = _spots(np.random.default_rng(3).uniform(20, 490, (25, 2)))
    with pytest.raises(AnalysisError, match=r"round spots.*like beads.*PSF measurement"):
        analyze_lines(beads, pixel_size_um=0.1)


def test_a_ring_grid_is_named():
    grid = _spots([(30 + 50 * i, 30 + 50 * j) for i in range(9) for j in range(9)], ring=True)
    with pytest.raises(AnalysisError, match=r"regular grid \(pitch ≈ 5 µm\).*rings kind"):
        analyze_lines(grid, pixel_size_um=0.1)


def test_a_ladder_is_named():
    s = pattern_ladder_sample()
    with pytest.raises(AnalysisError, match="uniform patches.*ladder kind"):
        analyze_lines(s.image, pixel_size_um=s.pixel_size_um)


def test_other_bad_inputs(slide):
    s, _ = slide
    with pytest.raises(SettingsError, match="pixel size"):
        analyze_lines(s.image, pixel_size_um=0.0)
    with pytest.raises(AnalysisError, match="one channel and one z plane"):
        analyze_lines(np.stack([s.image, s.image])[:, None].repeat(2, 1), pixel_size_um=0.04)  # (C, Z, Y, X)
    with pytest.raises(AnalysisError, match="no channel 3"):
        analyze_lines(np.stack([s.image, s.image]), pixel_size_um=0.04, channels=[3])
    with pytest.raises(AnalysisError, match="constant"):
        analyze_lines(np.full((64, 64), 7, np.uint16), pixel_size_um=0.04)
    with pytest.raises(AnalysisCancelled):
        analyze_lines(s.image, pixel_size_um=0.04, cancel=lambda: True)
    # a leading axis of length 1 is fine (a (1, 1, Y, X) file)
    r = analyze_lines(s.image[None, None], pixel_size_um=0.04)
    assert len(r.groups) > 0


def test_every_metric_and_column_has_a_label(slide):
    from microscope_qc.report.labels_pattern_lines import PATTERN_LADDER_ENTRIES, PATTERN_LINES_ENTRIES

    _, r = slide
    names = {m.name for m in r.metrics} | {c for t in r.tables.values() for c in t.columns}
    assert names <= set(PATTERN_LINES_ENTRIES), names - set(PATTERN_LINES_ENTRIES)
    from microscope_qc.analysis.pattern.ladder import analyze_ladder

    lr = analyze_ladder(pattern_ladder_sample().image)
    names = {m.name for m in lr.metrics} | set(lr.steps.columns)
    assert names <= set(PATTERN_LADDER_ENTRIES), names - set(PATTERN_LADDER_ENTRIES)


def test_report_figures(slide):
    from microscope_qc.analysis.pattern.ladder import analyze_ladder
    from microscope_qc.report.pattern_lines import pattern_ladder_figures, pattern_lines_figures

    _, r = slide
    figures = pattern_lines_figures(r)
    assert [f.title for f in figures] == [
        "Contrast transfer of the line groups and gratings",
        "Profiles across the groups",
    ]
    assert all(f.svg.startswith("<svg") and "</svg>" in f.svg for f in figures)
    assert "Spatial frequency (µm⁻¹)" in figures[0].svg
    (ladder,) = pattern_ladder_figures(analyze_ladder(pattern_ladder_sample().image))
    assert "Deviation from the line (%)" in ladder.svg


def test_kind_detection_hooks(slide):
    # the pattern measurement's "auto" kind asks these hooks (plane, (y, x) pixel size) -> bool
    from microscope_qc.analysis.pattern.ladder import looks_like_ladder
    from microscope_qc.analysis.pattern.lines import looks_like_lines

    s, _ = slide
    ladder = pattern_ladder_sample()
    beads = _spots(np.random.default_rng(3).uniform(20, 490, (25, 2)))
    noise = np.random.default_rng(0).poisson(100, (256, 256)).astype(np.uint16)
    assert looks_like_lines(s.image, (0.04, 0.04)) and not looks_like_ladder(s.image, (0.04, 0.04))
    assert looks_like_ladder(ladder.image, (0.1, 0.1)) and not looks_like_lines(ladder.image, (0.1, 0.1))
    for other in (beads, noise):
        assert not looks_like_lines(other, 0.1) and not looks_like_ladder(other, 0.1)


def test_a_widefield_like_slide():
    # a broader PSF (FWHM 0.36 µm) at 0.065 µm per pixel: the lines' images spread, so the groups (1.6 µm apart)
    # need a smaller group gap; two groups below the criterion show fewer peaks than lines and are unresolved
    s = pattern_lines_sample(
        seed=7,
        angle_deg=-6.0,
        fwhm_um=0.36,
        pixel_size_um=0.065,
        size=492,
        line_peak=800,
        background=300,
        spacings_um=(0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6),
        grating_periods_um=(0.5, 0.6, 0.7, 0.8),
    )
    r = analyze_lines(s.image, LinePatternSettings(group_gap_um=0.6), pixel_size_um=s.pixel_size_um)
    truth = s.truth["smallest_resolved_spacing_um"]
    assert truth == pytest.approx(0.45)
    assert abs(_value(r, "smallest_resolved_spacing_um") - truth) <= 0.05 + 1e-9
    assert _value(r, "lsf_fwhm_um") == pytest.approx(s.truth["lsf_fwhm_um"], rel=0.03)
    assert _value(r, "slide_rotation_deg") == pytest.approx(-6.0, abs=0.1)
    for t, row in _matched(r, s):
        if t["kind"] == "lines" and t.get("resolved"):
            assert row["resolved"] and row["spacing_um"] == pytest.approx(t["spacing_um"], rel=0.01)
            assert row["contrast"] == pytest.approx(t["contrast"], abs=0.01)
    assert any("fewer peaks than the lines" in w for w in r.warnings)


def test_uneven_background_needs_the_local_background():
    # background 400 ± 120 photons across the field: one level for the image misjudges the troughs of groups on
    # either side; each group's own surroundings give their contrast back
    s = pattern_lines_sample(seed=5, background=400, background_slope=0.6)
    errors = {}
    for mode in ("image", "local"):
        r = analyze_lines(s.image, LinePatternSettings(background=mode), pixel_size_um=s.pixel_size_um)
        errors[mode] = [
            row["contrast"] - t["contrast"]
            for t, row in _matched(r, s)
            if t["kind"] in ("lines", "grating") and row["kind"] in ("lines", "grating")
        ]
        assert len(errors[mode]) == 10
        assert _value(r, "smallest_resolved_spacing_um") == pytest.approx(0.30, abs=0.01)
    assert max(abs(e) for e in errors["local"]) < 0.01
    assert max(abs(e) for e in errors["image"]) > 0.03


def test_channels_are_analysed_one_by_one(slide):
    s, single = slide
    two = np.stack([s.image, s.image[:, ::-1]])  # the second channel mirrored: its lines lean the other way
    r = analyze_lines(
        two, pixel_size_um=s.pixel_size_um, nominal_spacings_um=sorted({*s.truth["spacings_um"], 0.6})
    )
    assert set(r.groups["channel"]) == {0, 1} and set(r.tables["profiles"]["channel"]) == {0, 1}
    for name in ("smallest_resolved_spacing_um", "lsf_fwhm_um"):
        assert r.metric(name, 1).value == pytest.approx(r.metric(name, 0).value, rel=0.01)
        assert r.metric(name, 0).value == pytest.approx(_value(single, name))
    assert r.metric("slide_rotation_deg", 1).value == pytest.approx(-3.7, abs=0.1)
    assert "smallest_resolved_spacing_um@ch1" in r.to_dict()["metrics"]
    one = analyze_lines(two, pixel_size_um=s.pixel_size_um, channels=[1])
    assert set(one.groups["channel"]) == {1} and {m.channel for m in one.metrics} == {1}

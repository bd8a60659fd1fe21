"""Report figures of the detector, light-source and stage measurements (issues 13 and 14).

On small synthetic samples: every figure is well-formed SVG, holds its series with one point
per row of the result's table (``data-count``), and labels its axes with units; the export of a
whole report in a fresh process never imports matplotlib.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

SVG = "{http://www.w3.org/2000/svg}"
SRC = Path(__file__).resolve().parents[2] / "src"


def _root(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def _series(root: ET.Element, css: str) -> list[int]:
    """data-count of every path carrying the CSS class ``css``."""
    return [
        int(p.get("data-count", "0")) for p in root.iter(f"{SVG}path") if css in p.get("class", "").split()
    ]


def _labels(root: ET.Element, kind: str) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == kind]


def _figures(result, draw):
    figs = list(draw(result))
    roots = {f.title: _root(f.svg) for f in figs}
    assert len(roots) == len(figs), "figure titles repeat"
    for f in figs:
        assert f.caption
    return roots


def _has_units(labels: list[str]) -> bool:
    return all("(" in lab and lab.rstrip().endswith(")") for lab in labels)


# ---------------------------------------------------------------------------------------- detector
@pytest.fixture(scope="module")
def emva():
    from microscope_qc.analysis.detector import analyze_detector
    from microscope_qc.samples.cameras import CAMERAS, Camera, emva_series

    s = emva_series(Camera(replace(CAMERAS["ccd"], shape=(32, 32))), levels=12, spatial_frames=4)
    return analyze_detector(
        s.data, exposure_ms=s.exposure_ms, photons=s.photons, dark=[k == "dark" for k in s.kinds]
    )


def test_emva_figures(emva):
    from microscope_qc.report.detector import detector_figures

    roots = _figures(emva, detector_figures)
    assert list(roots) == [
        "Photon-transfer curve",
        "SNR curve",
        "Linearity",
        "DSNU and PRNU maps",
        "DSNU and PRNU row and column profiles",
    ]
    ptc = emva.tables["photon_transfer"]
    n_gain = int(ptc["in_gain_fit"].sum())
    root = roots["Photon-transfer curve"]
    assert _series(root, "ptc-fit") == [n_gain]
    assert sum(_series(root, "markers")) == len(ptc)  # every level once: in the fit or not
    assert _series(root, "span") or root.findall(f".//{SVG}rect")  # the fit range is shaded
    assert "saturation" in "".join(root.itertext())
    assert _labels(root, "xlabel") == ["Signal above dark (DN)"]
    assert _labels(root, "ylabel") == ["Temporal variance (DN²)"]
    # the SNR curve stops at saturation and is log–log (decade ticks)
    sat = emva.metric("saturation_signal_dn", None).value
    root = roots["SNR curve"]
    assert _series(root, "snr") == [int((ptc["signal_dn"] <= sat * (1 + 1e-9)).sum())]
    assert any(t in ("100", "1000", "10⁴") for t in _labels_ticks(root))
    root = roots["Linearity"]
    n_lin = int(ptc["in_linearity_fit"].sum())
    assert _series(root, "linearity") == [n_lin]
    assert _series(root, "le-points") == [n_lin]
    assert _has_units(_labels(root, "xlabel") + _labels(root, "ylabel"))
    maps = roots["DSNU and PRNU maps"]
    assert len(maps.findall(f".//{SVG}image")) >= 2 + 2  # two maps and their colour bars
    prof = roots["DSNU and PRNU row and column profiles"]
    assert len(_series(prof, "rows")) == len(_series(prof, "columns")) == 2


def _labels_ticks(root: ET.Element) -> list[str]:
    return [
        "".join(t.itertext())
        for g in root.iter(f"{SVG}g")
        if g.get("class") in ("xticks", "yticks")
        for t in g
    ]


def test_dark_cv_noisee_and_single_scene_figures():
    from microscope_qc.analysis.detector import DetectorSettings, analyze_detector
    from microscope_qc.report.detector import detector_figures

    rng = np.random.default_rng(0)
    darks = rng.normal(100, 2, (4, 32, 32))
    brights = rng.normal(600, 20, (3, 32, 32))
    dark = analyze_detector(darks, DetectorSettings(mode="dark", conversion_gain_e_per_dn=2.0))
    roots = _figures(dark, detector_figures)
    assert list(roots) == ["Dark noise and offset maps", "Dark-pixel histograms"]
    hist = roots["Dark-pixel histograms"]
    assert _series(hist, "offset-histogram") == _series(hist, "noise-histogram") == [60]
    text = "".join(hist.itertext())
    assert "warm: +20 %" in text and "cold: −20 %" in text and "hot" in text

    cv = analyze_detector(brights, DetectorSettings(mode="cv"))
    (root,) = _figures(cv, detector_figures).values()
    assert _series(root, "cv") == [len(cv.tables["cv"])]
    assert _labels(root, "ylabel") == ["CV (MetroloJ_QC) (%)"]

    noisee = analyze_detector(brights, DetectorSettings(mode="noisee"), darks=darks)
    (root,) = _figures(noisee, detector_figures).values()
    assert _series(root, "snr") == [len(noisee.tables["noisee"])]

    yy, xx = np.mgrid[0:64, 0:64]
    frames = []
    for t in range(8):
        img = np.full((64, 64), 100.0)
        for y, x in ((16, 16), (40, 44), (50, 20)):
            img += 900 * np.exp(-((yy - y) ** 2 + (xx - x - 0.2 * t) ** 2) / (2 * 1.5**2))
        frames.append(rng.poisson(img).astype(np.uint16))
    beads = analyze_detector(
        np.stack(frames), DetectorSettings(mode="noisee", noisee_kind="beads", bit_depth=12)
    )
    (root,) = _figures(beads, detector_figures).values()
    assert _series(root, "snr") == [len(beads.tables["beads"])]
    assert root.findall(f".//{SVG}image"), "the kymograph"

    bright = np.stack(
        [rng.poisson(np.linspace(50, 3000, 64 * 64).reshape(64, 64)) + 100.0 for _ in range(10)]
    )
    single = analyze_detector(
        bright, DetectorSettings(mode="single-scene"), darks=rng.normal(100, 2, (10, 64, 64))
    )
    (root,) = _figures(single, detector_figures).values()
    assert _series(root, "ptc-bins") == [len(single.tables["photon_transfer"])]
    n_ex = int(np.count_nonzero(single.images["excluded_pixels"]))
    assert f"bins ({n_ex} pixels excluded)" in "".join(root.itertext())
    fig = detector_figures(single)[0]
    assert "pixel(s) were excluded" in fig.caption


# ------------------------------------------------------------------------------------ light source
def test_light_source_figures():
    from microscope_qc.analysis.light_source import analyze_light_source, parse_power_log
    from microscope_qc.report.light_source import light_source_figures
    from microscope_qc.samples import (
        light_source_linearity_sample,
        light_source_log_sample,
        light_source_pulsed_sample,
    )

    log = analyze_light_source(parse_power_log(light_source_log_sample().text), previous_power=2.4)
    roots = _figures(log, light_source_figures)
    assert list(roots) == ["Power against time", "Allan deviation"]
    power = roots["Power against time"]
    assert _series(power, "power") == [1]  # one path per light
    assert _series(power, "drift") == [1]
    assert "end of warm-up" in "".join(power.itertext())
    assert _labels(power, "ylabel") == ["Power (mW)"] and _labels(power, "xlabel") == [
        "Time from the first reading (s)"
    ]
    allan = log.tables["allan"]
    assert _series(roots["Allan deviation"], "allan-points") == [len(allan)]
    assert _labels(roots["Allan deviation"], "xlabel") == ["Averaging time τ (s)"]

    pulsed = analyze_light_source(parse_power_log(light_source_pulsed_sample().text))
    roots = _figures(pulsed, light_source_figures)
    power = roots["Power against time"]
    n_lights = pulsed.readings["channel"].nunique()
    assert _series(power, "power") == [1] * n_lights
    assert len(_labels(power, "title")) == n_lights  # a panel per light, named by its wavelength
    assert "405 nm" in _labels(power, "title")

    lin = analyze_light_source(parse_power_log(light_source_linearity_sample().text))
    roots = _figures(lin, light_source_figures)
    assert list(roots) == ["Power against time", "Linearity"]
    root = roots["Linearity"]
    assert _series(root, "plateaus") == [len(lin.plateaus)]
    assert len(_series(root, "residual")) == len(_series(root, "origin-residual")) == 1
    assert "fit through the origin" in "".join(root.itertext())
    assert _labels(root, "xlabel") == ["Set-point (%)", "Set-point (%)"]
    assert _has_units(_labels(root, "ylabel"))


# ------------------------------------------------------------------------------------------ stage
def test_stage_figures():
    from microscope_qc.analysis.stage import StageSettings, analyze_stage
    from microscope_qc.report.stage import stage_figures
    from microscope_qc.samples import stage_drift_sample, stage_repeatability_sample

    rep = stage_repeatability_sample()
    result = analyze_stage(list(rep.data), voxel_size_um=rep.voxel_size_um, moves=rep.moves)
    roots = _figures(result, stage_figures)
    assert list(roots) == ["Repositioning errors", "Repositioning SD per axis"]
    root = roots["Repositioning errors"]
    pos = result.positions
    assert sum(_series(root, "errors")) == int(np.isfinite(pos["error_x_um"]).sum())
    n_dist = pos["distance_um"].nunique()
    assert len(_series(root, "tolerance")) == len(_series(root, "sd-circle")) == n_dist
    assert _labels(root, "xlabel") == ["Repositioning error x (µm)"] * n_dist
    bars = roots["Repositioning SD per axis"]
    groups = result.tables["groups"]
    assert sum(_series(bars, "sd")) == len(groups)
    assert _has_units(_labels(bars, "ylabel"))

    drift = stage_drift_sample(n_frames=30)
    result = analyze_stage(
        list(drift.data),
        StageSettings(mode="drift", stabilisation_threshold_um=0.1),
        voxel_size_um=drift.voxel_size_um,
        frame_interval_s=drift.frame_interval_s,
    )
    (root,) = _figures(result, stage_figures).values()
    pos = result.positions
    localised = int(np.isfinite(pos["rel_x_um"]).sum())
    assert sum(_series(root, "track-points")) == localised
    assert _series(root, "msd-points") == [len(result.tables["msd"])]
    assert "stable from" in "".join(root.itertext())
    assert _labels(root, "xlabel") == [
        "Position x relative to t0 (µm)",
        "Time (s)",
        "Lag (s)",
    ]
    assert _has_units(_labels(root, "ylabel"))


# ------------------------------------------------------------------------------------------ export
@pytest.mark.parametrize(
    ("sample", "command", "name", "options"),
    [
        ("detector-ccd", "detector", "s.ome.tif", []),
        ("light-source-log", "light-source", "s.csv", []),
        (
            "stage-drift",
            "stage",
            "s.ome.tif",
            ["--mode", "drift", "--frame-interval", "30", "--stabilisation-threshold", "0.1"],
        ),
    ],
)
def test_new_reports_need_no_matplotlib(tmp_path, sample, command, name, options):
    """The whole export of each new measurement, in a fresh process, never imports matplotlib."""
    code = textwrap.dedent(
        f"""
        import sys
        from microscope_qc.cli import main
        code = main(["sample", {sample!r}, {str(tmp_path / name)!r}])
        assert code == 0, code
        code = main([{command!r}, {str(tmp_path / name)!r}, "--out", {str(tmp_path / "o")!r}, "--quiet", *{options!r}])
        assert code in (0, 3), code
        print("@", any(m.startswith("matplotlib") for m in sys.modules))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].split() == ["@", "False"]
    pages = list((tmp_path / "o").rglob("report.html"))
    assert pages and all("<svg " in p.read_text() for p in pages)


# ------------------------------------------------------------------------------- report/svg additions
def test_log_ticks_decades_and_short_ranges():
    from microscope_qc.report.svg.ticks import log_ticks

    ticks, labels = log_ticks(-3.0, 6.0, 5)
    assert labels == ["0.01", "1", "100", "10⁴", "10⁶"] and ticks == [-2.0, 0.0, 2.0, 4.0, 6.0]
    ticks, labels = log_ticks(0.5, 3.1, 5)
    assert labels == ["10", "100", "1000"]
    ticks, labels = log_ticks(np.log10(1500), np.log10(25000), 7)  # about a decade: 1, 2, 5 × 10ⁿ
    assert labels == ["2000", "5000", "10⁴", "2×10⁴"]
    np.testing.assert_allclose(ticks, np.log10([2000, 5000, 1e4, 2e4]))


def test_log_axis_places_points_by_their_logarithm_and_skips_non_positive():
    from microscope_qc.report.svg import Plot

    plot = Plot(400, 300)
    ax = plot.axes()
    ax.markers([1, 10, 100, 0], [1, 10, 100, -1], "o", css="pts")
    ax.log()
    ax.set(xlabel="x (s)", ylabel="y (%)")
    frame = plot._frames()[(0, 0)]
    px = frame.px([1, 10, 100])
    assert px[1] - px[0] == pytest.approx(px[2] - px[1])  # equal steps per decade
    root = _root(plot.svg())
    (path,) = [p for p in root.iter(f"{SVG}path") if "pts" in p.get("class", "").split()]
    assert int(path.get("data-count")) == 3  # 0 and −1 are not drawn on log axes
    assert {"1", "10", "100"} <= set(_labels_ticks(root))


def test_bar_chart_stands_on_zero_one_bar_per_value():
    from microscope_qc.report.svg import Plot

    plot = Plot(300, 200)
    ax = plot.axes()
    ax.bars([0, 1, 2], [3.0, 1.0, 2.0], 0.5, css="b")
    assert ax.limits()[1][0] == 0.0
    root = _root(plot.svg())
    (path,) = [p for p in root.iter(f"{SVG}path") if "b" in p.get("class", "").split()]
    assert path.get("data-count") == "3" and path.get("d").count("M") == 3

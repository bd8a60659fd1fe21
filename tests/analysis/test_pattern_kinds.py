"""The pattern measurement's kinds plugged together: detection (``--kind auto``), dispatch, settings, labels, figures.

The synthetic slides of ``samples/pattern.py`` and ``samples/pattern_lines.py`` have exact truth; a
bead image (synthetic, and the real widefield bead stack of the shared data when present), a real flat
field and noise must be refused with the specific "No pattern recognised" error.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from microscope_qc.analysis.pattern import PatternSettings, analyze_pattern, detect_kind
from microscope_qc.analysis.pattern.lines_result import LadderResult, LinePatternResult
from microscope_qc.instrument import MicroscopeSettings, SettingsError, Source
from microscope_qc.report.labels import has_label
from microscope_qc.results import AnalysisError
from microscope_qc.samples import (
    pattern_ladder_sample,
    pattern_lines_sample,
    pattern_rings_sample,
    psf_beads_sample,
)

NOT_A_PATTERN = "No pattern recognised"


def _settings(px: float | None, **kw) -> PatternSettings:
    ms = MicroscopeSettings(voxel_size_um=(1.0, px, px)) if px is not None else MicroscopeSettings()
    return PatternSettings(microscope=ms, **kw)


@pytest.fixture(scope="module")
def lines():
    s = pattern_lines_sample()
    return s, analyze_pattern(s.image, _settings(s.pixel_size_um))


@pytest.fixture(scope="module")
def ladder():
    s = pattern_ladder_sample()
    return s, analyze_pattern(s.image, _settings(s.pixel_size_um))


def test_auto_recognises_each_synthetic_slide():
    rings = pattern_rings_sample()
    assert detect_kind(rings.data[0], rings.pixel_size_um, PatternSettings()) == "rings"
    s = pattern_lines_sample()
    assert detect_kind(s.image, (s.pixel_size_um, s.pixel_size_um), PatternSettings()) == "lines"
    s = pattern_ladder_sample()
    assert detect_kind(s.image, (s.pixel_size_um, s.pixel_size_um), PatternSettings()) == "ladder"


def test_auto_dispatches_lines_and_records_the_kind_and_pixel_size(lines):
    s, r = lines
    assert isinstance(r, LinePatternResult) and r.measurement == "pattern"
    assert r.settings["kind"].value == "lines" and r.settings["kind"].source == Source.DEFAULT
    assert "detected" in (r.settings["kind"].detail or "")
    assert r.settings["pixel_size_um"].value == pytest.approx(s.pixel_size_um)
    # the truth: pairs closer than 0.30 µm are not resolved by the 26.5 % dip criterion
    # (the measured spacing of the 0.30 µm group)
    assert r.metric("smallest_resolved_spacing_um", 0).value == pytest.approx(
        s.truth["smallest_resolved_spacing_um"], abs=0.005
    )
    assert r.metric("lsf_fwhm_um", 0).value == pytest.approx(s.truth["lsf_fwhm_um"], rel=0.05)


def test_auto_dispatches_the_ladder(ladder):
    s, r = ladder
    assert isinstance(r, LadderResult)
    assert r.settings["kind"].value == "ladder"
    assert r.metric("n_steps", 0).value == len(s.truth["levels"])
    assert r.metric("n_steps_saturated", 0).value == len(s.truth["saturated_steps"])
    assert r.metric("response_exponent", 0).value == pytest.approx(s.truth["gamma"], abs=0.02)


def test_the_pattern_settings_carry_each_kinds_settings():
    s = pattern_lines_sample()
    given = _settings(s.pixel_size_um, kind="lines", resolved_dip_percent=10.0)
    assert given.lines_settings().resolved_dip_percent == 10.0
    assert given.ladder_settings().max_deviation_percent == 1.0
    # the field of rings' provenance holds its own fields only
    assert "resolved_dip_percent" not in given.analysis_settings()
    r = analyze_pattern(s.image, given)
    assert r.settings["resolved_dip_percent"].value == 10.0
    assert r.settings["resolved_dip_percent"].source == Source.USER
    assert r.settings["kind"].source == Source.USER
    # a looser criterion (10 %) resolves the 0.25 µm pairs (dip 12 %) that Rayleigh's (26.5 %) does not
    assert r.metric("smallest_resolved_spacing_um", 0).value < s.truth["smallest_resolved_spacing_um"] - 0.01
    # an invalid line setting is refused by the pattern analysis, naming it
    with pytest.raises(SettingsError, match=r"resolved_dip_percent"):
        analyze_pattern(s.image, _settings(s.pixel_size_um, resolved_dip_percent=0.0))


def test_a_ladder_needs_no_pixel_size_but_lines_and_auto_do():
    lad = pattern_ladder_sample()
    r = analyze_pattern(lad.image, _settings(None, kind="ladder", max_deviation_percent=5.0))
    assert isinstance(r, LadderResult) and "pixel_size_um" not in r.settings
    assert r.settings["max_deviation_percent"].value == 5.0
    for kind in ("lines", "auto"):
        with pytest.raises(SettingsError, match="pixel size"):
            analyze_pattern(lad.image, _settings(None, kind=kind))


@pytest.mark.parametrize("what", ["beads", "noise"])
def test_beads_and_noise_are_not_a_pattern(what):
    if what == "beads":
        b = psf_beads_sample()
        data, px = b.data[None], b.metadata["voxel_size_um"][2]  # (1, Z, Y, X): the sharpest plane is read
    else:
        data, px = np.random.default_rng(0).poisson(100, (256, 256)).astype(np.uint16), 0.1
    with pytest.raises(AnalysisError, match=NOT_A_PATTERN):
        analyze_pattern(data, _settings(px))


@pytest.mark.parametrize(
    ("relative", "px"),
    [
        ("psf-beads-widefield-na095/beads_zstack_34z.tif", 0.108),
        ("flatfield-chroma-slide/chroma_yx_uint8.tif", 0.1),
    ],
)
def test_real_beads_and_a_real_flat_field_are_not_a_pattern(relative, px):
    from tests.conftest import shared_file

    data = tifffile.imread(shared_file(relative))
    data = data[None] if data.ndim == 3 else data  # a z-stack as (1, Z, Y, X)
    with pytest.raises(AnalysisError, match=NOT_A_PATTERN):
        analyze_pattern(data, _settings(px))


def test_every_metric_and_column_has_a_pattern_label(lines, ladder):
    for _, r in (lines, ladder):
        names = {m.name for m in r.metrics} | {c for t in r.tables.values() for c in t.columns}
        missing = {n for n in names if not has_label("pattern", n)}
        assert not missing, missing


def test_the_report_draws_each_kinds_figures(lines, ladder):
    from microscope_qc.report.pattern import pattern_figures

    for _, r in (lines, ladder):
        figs = pattern_figures(r)
        assert figs and all("<svg" in f.svg for f in figs)

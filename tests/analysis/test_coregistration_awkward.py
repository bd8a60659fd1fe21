"""Co-registration on awkward data: one large saturated bead, missing settings, one bead, implausible z steps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.conftest import LARGE_BEAD_SHIFTS as SHIFTS
from tests.conftest import large_bead_stack

from microscope_qc.analysis.coregistration import CoregistrationSettings, analyze_coregistration
from microscope_qc.analysis.coregistration.checks import theory_per_channel
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.report import InputInfo, export_result
from microscope_qc.report.coregistration import coregistration_figures
from microscope_qc.results import AnalysisError
from microscope_qc.samples import BeadSampleSpec, coregistration_sample, make_multicolour_beads


def _confocal(voxel=(0.2, 0.08, 0.08), ex=(405, 488, 561), em=(450, 520, 610), bead=4.5):
    return (
        MicroscopeSettings()
        .with_values(
            modality="confocal", na=1.4, immersion_index=1.515, voxel_size_um=voxel, bead_diameter_um=bead
        )
        .with_wavelengths(None if ex is None else list(ex), None if em is None else list(em))
    )


def _check_shifts(r, lateral_nm, axial_nm):
    for channel, truth in ((1, SHIFTS[1]), (2, SHIFTS[2])):
        for axis, true in zip("xyz", truth, strict=True):
            err = 1000 * (r.metric(f"shift_{axis}_um", channel).value - true)
            print(f"channel {channel} shift {axis}: error {err:+.1f} nm")
            assert abs(err) < (axial_nm if axis == "z" else lateral_nm)


# ------------------------------------------------------------------ item 10: every candidate rejected before fitting
@pytest.mark.parametrize("peak", [200.0, 400.0])  # a few saturated voxels / a saturated core
def test_one_large_saturated_bead_falls_back_to_single_bead_mode(peak):
    data = large_bead_stack(peak=peak)
    assert (data == 255).any(axis=(1, 2, 3)).all()  # every channel has saturated voxels
    r = analyze_coregistration(data, CoregistrationSettings(microscope=_confocal()))
    assert any("fell back to single-bead mode" in w for w in r.warnings)
    assert r.settings["single_bead"].value is True and "fallback" in r.settings["single_bead"].detail
    assert (r.beads.status == "accepted").sum() == 3
    _check_shifts(r, lateral_nm=10, axial_nm=20)


def test_given_positions_all_rejected_before_fitting_are_explained():
    """Positions whose fit box leaves the image are all rejected before any fit: an error saying so, no KeyError."""
    s = coregistration_sample()
    edge = np.array([[20.0, 2.0, 200.0], [20.0, 200.0, 381.0]])
    with pytest.raises(AnalysisError, match=r"No accepted bead to match.*box outside XY edge × 2"):
        analyze_coregistration(s.data, _settings_for(s), positions=edge)


def test_no_fallback_onto_a_field_of_many_saturated_beads():
    """All beads of a bead field saturated: single-bead mode would pick one of many, so it is not used."""
    spec = BeadSampleSpec(shape=(40, 256, 256), n_beads=12, hot_pixels=0, photons=4e7)
    s = make_multicolour_beads(spec)
    assert (s.data == np.iinfo(s.data.dtype).max).any()
    with pytest.raises(
        AnalysisError,
        match="single-bead mode .* was tried instead, but channel 0: the largest bright object holds only",
    ):
        analyze_coregistration(s.data, _settings_for(s))


def _settings_for(sample, **kw):
    ms = (
        MicroscopeSettings()
        .with_values(
            modality="widefield",
            na=sample.spec.na,
            immersion_index=sample.spec.immersion_index,
            voxel_size_um=sample.spec.voxel_size_um,
        )
        .with_wavelengths(
            [t.wavelength_ex_nm for t in sample.transforms], [t.wavelength_em_nm for t in sample.transforms]
        )
    )
    return CoregistrationSettings(microscope=ms, **kw)


# ------------------------------------------------------------------ item 11: say exactly what is missing
@pytest.mark.parametrize(
    ("values", "ex", "em", "expected"),
    [
        (
            {"modality": "confocal", "na": 1.4, "immersion_index": 1.515},
            None,
            520,
            "the excitation wavelength is missing",
        ),
        (
            {"modality": "multiphoton", "na": 1.0, "immersion_index": 1.33},
            None,
            520,
            "the excitation wavelength is missing",
        ),
        (
            {"modality": "widefield", "na": 1.4, "immersion_index": 1.515},
            488,
            None,
            "the emission wavelength is missing",
        ),
        ({"na": 1.4, "immersion_index": 1.515}, 488, 520, "the modality is missing"),
        ({"modality": "widefield"}, 488, 520, "the NA and immersion index are missing"),
    ],
)
def test_missing_settings_named_exactly(values, ex, em, expected):
    ms = MicroscopeSettings().with_values(**values).with_wavelengths([ex], [em])
    theory, why = theory_per_channel(ms)
    assert theory == [None] and why[0].startswith(expected)
    everything = ("modality", "NA", "immersion index", "excitation wavelength", "emission wavelength")
    named = {w for w in everything if w in why[0]}
    assert named == {w for w in everything if w in expected}, why[0]


def test_missing_excitation_warning_in_the_result():
    """Confocal with NA, immersion index and emission given: the warning names the excitation wavelength only."""
    s = coregistration_sample()
    plane = s.data[:, s.data.shape[1] // 2 - 1]
    ms = (
        MicroscopeSettings()
        .with_values(modality="confocal", na=1.4, immersion_index=1.518, voxel_size_um=s.spec.voxel_size_um)
        .with_wavelengths(None, [520, 610])
    )
    r = analyze_coregistration(plane, CoregistrationSettings(microscope=ms))
    (warning,) = [w for w in r.warnings if "theoretical resolution" in w]
    print(warning)
    assert "channels 0 and 1: the excitation wavelength is missing" in warning
    assert "emission" not in warning and "NA" not in warning and "immersion" not in warning
    # the gate the warning states is the gate in pairs.csv
    assert "the match gate falls back to 1 µm for 0–1" in warning
    assert r.tables["pairs"].match_gate_um.iloc[0] == 1.0
    gated = analyze_coregistration(plane, CoregistrationSettings(microscope=ms, match_gate_um=0.5))
    assert not any("1 µm" in w for w in gated.warnings) and gated.tables["pairs"].match_gate_um.iloc[0] == 0.5


# ------------------------------------------------------------------ item 12: one bead, no uncertainty
def test_single_bead_uncertainties_are_not_estimable(tmp_path):
    data = large_bead_stack()
    ms = _confocal(ex=None)  # also no theory: the gate warning must not claim a 1 µm gate
    r = analyze_coregistration(data, CoregistrationSettings(microscope=ms, single_bead=True))
    for name in (
        "shift_x_um",
        "shift_y_um",
        "shift_z_um",
        "distance_3d_um",
        "lateral_distance_um",
        "axial_distance_um",
    ):
        m = r.metric(name, 1)
        assert math.isnan(m.uncertainty) and m.uncertainty_kind.startswith("not estimable"), name
        assert m.to_dict()["uncertainty"] is None  # results.json: null, not 0
    pairs = r.tables["pairs"]
    assert pairs.filter(like="_se_um").isna().all().all()
    assert np.isinf(pairs.match_gate_um).all()
    assert any("not estimable" in w and "match_gate_um is inf" in w for w in r.warnings)
    assert not any("1 µm" in w for w in r.warnings)
    page = export_result(r, tmp_path, InputInfo(None, None, data.shape, "uint8"), coregistration_figures)[
        "html"
    ]
    html = page.read_text()
    assert "not estimable" in html and "± 0" not in html
    # no ratio, so no verdict: the report points to the warning that names the missing excitation wavelength
    assert (
        "No verdicts: no metric could be compared with a threshold (the warnings below name what is missing)"
        in html
    )
    assert "the excitation wavelength is missing" in html


def test_2d_axial_uncertainty_is_not_zero():
    s = coregistration_sample()
    r = analyze_coregistration(s.data[:, s.data.shape[1] // 2 - 1], _settings_for(s))
    axial = r.metric("axial_distance_um", 1)
    assert axial.value == 0.0 and math.isnan(axial.uncertainty) and "no z" in axial.uncertainty_kind
    assert math.isfinite(r.metric("distance_3d_um", 1).uncertainty)  # z does not enter a 2D distance


# ------------------------------------------------------------------ item 13: the z step
def test_voxel_size_in_the_report_header(tmp_path):
    data = large_bead_stack()
    r = analyze_coregistration(data, CoregistrationSettings(microscope=_confocal(), single_bead=True))
    html = export_result(r, tmp_path, InputInfo(None, None, data.shape, "uint8"), coregistration_figures)[
        "html"
    ]
    head = html.read_text().split("<h2>")[0]
    assert "Voxel size used (z × y × x): 0.2 × 0.08 × 0.08 µm (source: user" in head


@pytest.mark.parametrize(
    ("dz", "nz", "declared", "says"),
    [
        (0.2, 50, 0.2, None),  # 22 planes: plausible
        (2.5, 10, 2.5, "spans only 2 planes along z"),
        (0.05, 140, 0.05, "spans 90 planes along z"),
        (
            0.2,
            50,
            0.6,
            "the z step is probably wrong",
        ),  # acquired at 0.2 µm, declared 0.6 µm: the bead looks 13 µm tall
    ],
)
def test_implausible_z_step_warns(dz, nz, declared, says):
    data = large_bead_stack(shape=(nz, 96, 96), voxel=(dz, 0.08, 0.08))
    ms = _confocal(voxel=(declared, 0.08, 0.08))
    r = analyze_coregistration(data, CoregistrationSettings(microscope=ms, single_bead=True))
    z_warnings = [w for w in r.warnings if "along z" in w or "z step" in w]
    print(z_warnings)
    if says is None:
        assert z_warnings == []
    else:
        assert len(z_warnings) == 3 and all(says in w for w in z_warnings)


def test_sub_resolution_beads_too_coarse_in_z_warn():
    spec = BeadSampleSpec(shape=(24, 256, 256), voxel_size_um=(0.3, 0.065, 0.065), n_beads=12, hot_pixels=0)
    coarse = make_multicolour_beads(spec)
    r = analyze_coregistration(coarse.data, _settings_for(coarse))
    assert sum("planes along z" in w and "fewer than 3" in w for w in r.warnings) == 2  # 2.2 and 2.5 planes
    fine = coregistration_sample()  # 0.15 µm steps: 4–5 planes
    assert not any(
        "planes along z" in w for w in analyze_coregistration(fine.data, _settings_for(fine)).warnings
    )

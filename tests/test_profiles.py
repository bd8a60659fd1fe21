"""Instrument profiles: round trip, validation, pre-filling with provenance, tolerances."""

from __future__ import annotations

import pytest

from microscope_qc.instrument import MicroscopeSettings, Source
from microscope_qc.profiles import (
    ChannelPreset,
    InstrumentProfile,
    Objective,
    ProfileError,
    Tolerance,
    apply_tolerances,
    load_profile,
    merge_settings,
    save_profile,
)
from microscope_qc.results import Metric, Result, Verdict


def profile() -> InstrumentProfile:
    return InstrumentProfile(
        name="Scope A",
        modality="confocal",
        pinhole_au=1.0,
        objectives=[Objective("63x oil", 63, 1.4, "oil", 1.518, "Plan Apo")],
        channels=[ChannelPreset("GFP", 488, 520), ChannelPreset("RFP", 561, 610)],
        tolerances=[Tolerance("fwhm_x_ratio", max=1.3), Tolerance("uniformity_percent", min=70)],
    )


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip(tmp_path, suffix):
    p = save_profile(profile(), tmp_path / f"scope{suffix}")
    assert load_profile(p) == profile()
    with pytest.raises(FileExistsError):
        save_profile(profile(), p)


def test_validation_errors(tmp_path):
    bad = profile()
    bad.objectives.append(Objective("63x oil", 63, 1.4, "oil", 1.518))
    with pytest.raises(ProfileError, match="unique"):
        bad.validate()
    with pytest.raises(ProfileError, match="below its immersion index"):
        InstrumentProfile("x", objectives=[Objective("a", 60, 1.4, "water", 1.33)]).validate()
    p = tmp_path / "typo.yaml"
    p.write_text("name: x\nobjectivs: []\n")
    with pytest.raises(ProfileError, match="unknown field"):
        load_profile(p)
    p.write_text("name: [unclosed\n")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(p)
    with pytest.raises(ProfileError, match="no objective 'nope'"):
        profile().settings_for("nope")


def test_file_metadata_wins_and_sources_are_kept():
    inst = profile().settings_for("63x oil", ["GFP", "RFP"])
    from_file = (
        MicroscopeSettings()
        .with_values(Source.FILE, na=1.3)
        .with_wavelengths([None, None], [525, None], Source.FILE)
    )
    ms = merge_settings(from_file, inst)
    assert ms.na == 1.3 and ms.source_of("na").source is Source.FILE  # the file wins
    assert ms.immersion_index == 1.518 and ms.source_of("immersion_index").source is Source.INSTRUMENT
    assert ms.modality == "confocal" and ms.pinhole_au == 1.0
    assert [c.wavelength_em_nm for c in ms.channels] == [525, 610]
    assert [c.wavelength_ex_nm for c in ms.channels] == [488, 561]


def test_tolerances_replace_defaults():
    r = Result("psf", metrics=[Metric("fwhm_x_ratio", 1.4, None, None, 0)])
    r.verdicts = [Verdict.check("fwhm_x_ratio", 1.4, 1.5, "<=", "default (MetroloJ_QC)", 0)]
    apply_tolerances(r, profile())
    assert len(r.verdicts) == 1
    v = r.verdicts[0]
    assert not v.passed and v.threshold == 1.3 and v.source == "instrument 'Scope A'"


def light_sheet_profile() -> InstrumentProfile:
    return InstrumentProfile(
        name="LLS",
        modality="light-sheet",
        sheet_thickness_um=0.9,
        objectives=[Objective("25x water", 25, 1.1, "water", 1.33)],
        channels=[ChannelPreset("560", 560, 605)],
    )


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_light_sheet_profile_round_trip(tmp_path, suffix):
    p = save_profile(light_sheet_profile(), tmp_path / f"lls{suffix}")
    loaded = load_profile(p)
    assert loaded == light_sheet_profile() and loaded.sheet_thickness_um == 0.9
    ms = loaded.settings_for("25x water", ["560"])
    assert ms.modality == "light-sheet" and ms.sheet_thickness_um == 0.9
    assert ms.source_of("sheet_thickness_um").source is Source.INSTRUMENT


def test_light_sheet_profile_fills_and_user_overrides_the_thickness():
    from microscope_qc.profiles import resolve_settings

    ms = resolve_settings(MicroscopeSettings(), light_sheet_profile(), "25x water", ["560"])
    assert ms.sheet_thickness_um == 0.9 and ms.source_of("sheet_thickness_um").source is Source.INSTRUMENT
    ms = resolve_settings(
        MicroscopeSettings(), light_sheet_profile(), "25x water", ["560"], {"sheet_thickness_um": 1.2}
    )
    assert ms.sheet_thickness_um == 1.2 and ms.source_of("sheet_thickness_um").source is Source.USER


def test_light_sheet_profile_validation():
    bad = light_sheet_profile()
    bad.sheet_thickness_um = -1.0
    with pytest.raises(ProfileError, match="light-sheet thickness"):
        bad.validate()
    with pytest.raises(ProfileError, match="Unknown modality"):
        InstrumentProfile("x", modality="holographic").validate()

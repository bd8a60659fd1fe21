"""analyze_coregistration's channel selection and limits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from microscope_qc.analysis.coregistration import CoregistrationSettings, analyze_coregistration
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.results import AnalysisError, Limit, Limits
from microscope_qc.samples import coregistration_sample


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


@pytest.fixture(scope="module")
def sample_and_alone():
    s = coregistration_sample()
    return s, analyze_coregistration(s.data, _settings(s))


def test_selected_channels_equal_those_channels_alone(sample_and_alone):
    s, alone = sample_and_alone
    # a three-channel image whose channels 1 and 2 are the sample's channels 0 and 1
    data = np.stack([s.data[1], s.data[0], s.data[1]])
    st = _settings(s, reference_channel=1)  # settings describe the two analysed channels
    limits = Limits((Limit("ratio", max=1e-6),), source="instrument 'Scope A'")
    r = analyze_coregistration(data, st, channels=[2, 1], limits=limits)
    assert r.channels == [1, 2]
    assert {m.channel for m in r.metrics} == {2}
    assert set(r.beads.channel) == {1, 2}
    assert list(r.models) == [(1, 2)] and r.models[(1, 2)].reference_channel == 1
    assert r.tables["pairs"][["channel_ref", "channel_moving"]].values.tolist() == [[1, 2]]
    assert r.settings["channels"].value == [1, 2]
    got = {m.name: m.value for m in r.metrics}
    want = {m.name: m.value for m in alone.metrics}
    assert got.keys() == want.keys()
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    # the limit replaced the default ratio verdict
    (verdict,) = [v for v in r.verdicts if v.metric == "ratio"]
    assert verdict.channel == 2 and not verdict.passed
    assert verdict.source == "instrument 'Scope A'" and verdict.threshold == 1e-6
    (default,) = [v for v in alone.verdicts if v.metric == "ratio"]
    assert default.passed and default.source == "default (MetroloJ_QC)"


def test_settings_of_every_file_channel_are_picked_by_number(sample_and_alone):
    s, alone = sample_and_alone
    data = np.stack([s.data[0], s.data[1], s.data[0]])
    st = _settings(s)
    ms = st.microscope
    # the file's three channels: the third one's emission would change the match gate and the ratio
    wide = replace(
        ms, channels=(ms.channels[0], ms.channels[1], replace(ms.channels[0], wavelength_em_nm=900.0))
    )
    r = analyze_coregistration(data, replace(st, microscope=wide), channels=[0, 1])
    assert r.metric("ratio", 1).value == pytest.approx(alone.metric("ratio", 1).value, rel=1e-9)
    assert r.channel_names[:2] == [c.name for c in ms.channels]


def test_bad_selections(sample_and_alone):
    s, _ = sample_and_alone
    with pytest.raises(AnalysisError, match="only channel 1 is selected"):
        analyze_coregistration(s.data, _settings(s), channels=[1])
    with pytest.raises(AnalysisError, match="Reference channel 0 is not among the analysed channels"):
        analyze_coregistration(np.stack([s.data[0], s.data[1], s.data[1]]), _settings(s), channels=[1, 2])
    with pytest.raises(AnalysisError, match="channel 0, which is not analysed"):
        analyze_coregistration(
            np.stack([s.data[0], s.data[1], s.data[1]]),
            _settings(s, reference_channel=1),
            channels=[1, 2],
            positions={0: [[20, 100, 100]]},
        )

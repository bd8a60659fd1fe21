"""Reusing a channel's step-independent work ('update live'): the numbers are those of a fresh analysis."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from microscope_qc.analysis.field import FieldSettings, StepIndependentCache, analyze_field
from microscope_qc.samples import FlatSampleSpec, make_flat_field


@pytest.fixture(scope="module")
def flat():
    return make_flat_field(FlatSampleSpec(seed=3, shape=(160, 200), dust_specks=2, dark_adu=100.0))


def _same(a, b) -> None:
    """Bit-equal numbers (NaN equal to NaN), verdicts, warnings and maps."""
    assert [(m.name, m.channel) for m in a.metrics] == [(m.name, m.channel) for m in b.metrics]

    def numbers(result):
        return [(m.value, np.nan if m.uncertainty is None else m.uncertainty) for m in result.metrics]

    np.testing.assert_array_equal(numbers(a), numbers(b))
    assert [(v.metric, v.passed) for v in a.verdicts] == [(v.metric, v.passed) for v in b.verdicts]
    assert a.warnings == b.warnings
    for ca, cb in zip(a.channels, b.channels, strict=True):
        np.testing.assert_array_equal(ca.iso_map, cb.iso_map)
        np.testing.assert_array_equal(ca.reference_zone, cb.reference_zone)
        np.testing.assert_array_equal(ca.blurred, cb.blurred)


def test_another_step_reuses_the_work_and_gives_a_fresh_analysis_numbers(flat):
    reuse = StepIndependentCache()
    analyze_field(flat.data, FieldSettings(step_percent=10.0), dark=flat.dark, reuse=reuse)
    assert reuse.hits == 0
    for step in (5.0, 20.0, 10.0):
        s = FieldSettings(step_percent=step)
        again = analyze_field(flat.data, s, dark=flat.dark, reuse=reuse)
        _same(again, analyze_field(flat.data, s, dark=flat.dark))
    assert reuse.hits == 3


def test_the_step_changes_the_zone_but_not_the_model(flat):
    reuse = StepIndependentCache()
    a = analyze_field(flat.data, FieldSettings(step_percent=10.0), dark=flat.dark, reuse=reuse)
    b = analyze_field(flat.data, FieldSettings(step_percent=25.0), dark=flat.dark, reuse=reuse)
    area = {r.channels[0].reference_zone.sum() for r in (a, b)}
    assert len(area) == 2  # the 75–100 % zone is larger than the 90–100 % one
    assert a.channels[0].model is b.channels[0].model  # kept, not recomputed


def test_changed_pixels_dark_mask_or_settings_are_not_reused(flat):
    reuse = StepIndependentCache()
    data = flat.data.copy()
    analyze_field(data, dark=flat.dark, reuse=reuse)
    data[10:20, 10:20] += 500  # the same array, changed in place
    changed = analyze_field(data, dark=flat.dark, reuse=reuse)
    _same(changed, analyze_field(data, dark=flat.dark))
    no_dark = analyze_field(data, reuse=reuse)
    _same(no_dark, analyze_field(data))
    mask = np.ones(data.shape, bool)
    mask[:, :40] = False
    masked = analyze_field(data, mask=mask, reuse=reuse)
    _same(masked, analyze_field(data, mask=mask))
    wider = FieldSettings(sigma_px=3.0)
    _same(analyze_field(data, wider, reuse=reuse), analyze_field(data, wider))
    assert reuse.hits == 0


def test_channels_are_kept_apart(flat):
    other = make_flat_field(FlatSampleSpec(seed=4, shape=(160, 200), centre_yx=(60.0, 90.0)))
    stack = np.stack([flat.data, other.data])
    reuse = StepIndependentCache()
    analyze_field(stack, reuse=reuse)
    s = FieldSettings(step_percent=20.0)
    _same(analyze_field(stack, s, reuse=reuse), analyze_field(stack, s))
    assert reuse.hits == 2


def test_kept_maps_cannot_be_changed_by_a_caller(flat):
    reuse = StepIndependentCache()
    result = analyze_field(flat.data, reuse=reuse)
    with pytest.raises(ValueError, match="read-only"):
        result.channels[0].blurred[0, 0] = 0
    reuse.clear()
    analyze_field(flat.data, dataclasses.replace(FieldSettings(), step_percent=5.0), reuse=reuse)
    assert reuse.hits == 0

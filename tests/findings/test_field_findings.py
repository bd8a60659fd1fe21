"""Field-illumination findings against synthetic truth: the documented sample is not flagged, a
misaligned lamp, a narrow illumination cone and a dusty path are each named, and nothing else."""

from __future__ import annotations

import pytest

from microscope_qc.analysis.field import FieldSettings, analyze_field
from microscope_qc.analysis.field.findings import DUST_AREA_PERCENT, findings
from microscope_qc.findings import Severity, faults_found
from microscope_qc.measurements import get_measurement
from microscope_qc.results import Limit, Limits
from microscope_qc.samples.flats import (
    FlatSampleSpec,
    flat_field_misaligned_sample,
    flat_field_sample,
    make_flat_field,
)


def _found(sample, **kw):
    return findings(analyze_field(sample.data, FieldSettings(), dark=sample.dark, **kw))


def _by_fault(found):
    return {f.fault: f for f in found}


def test_the_documented_flat_has_no_fault_and_every_rule_is_checked():
    found = _found(flat_field_sample())
    assert faults_found(found) == set()
    by = _by_fault(found)
    assert set(by) == {"off_centre_illumination", "uneven_illumination", "dust", "saturation"}
    assert by["off_centre_illumination"].severity is Severity.OK
    # six specks of 30 % depth: a note, not a fault
    assert by["dust"].severity is Severity.NOTE and "6 dust speck" in by["dust"].text


def test_a_misaligned_lamp_is_named_with_its_offset_and_remedy():
    s = flat_field_misaligned_sample()
    found = _found(s)
    assert faults_found(found) == {"off_centre_illumination"}
    f = _by_fault(found)["off_centre_illumination"]
    # truth: centre (y, x) = (90, 430) in a 512² field whose centre is (255.5, 255.5)
    true_offset = 100 * ((255.5 - 90) ** 2 + (430 - 255.5) ** 2) ** 0.5 / (2 * 255.5**2) ** 0.5
    assert f.evidence[1].value == pytest.approx(true_offset, abs=0.5)
    assert f"{true_offset:.0f} % of the half-diagonal" in f.text and "realign the fibre / lamp" in f.text
    assert f.evidence[0].limit.startswith("≥ 50 %")
    # the low uniformity is put down to the misalignment: a note saying to realign first
    uneven = _by_fault(found)["uneven_illumination"]
    assert uneven.severity is Severity.NOTE and "realign first" in uneven.text


def test_a_narrow_centred_illumination_is_uneven_not_off_centre():
    s = make_flat_field(FlatSampleSpec(centre_yx=(255.5, 255.5), sigma_yx=(150.0, 150.0), dust_specks=0))
    assert faults_found(_found(s)) == {"uneven_illumination"}


def test_heavy_dust_is_a_fault_and_its_low_uniformity_is_not_blamed_on_the_illumination():
    s = make_flat_field(FlatSampleSpec(dust_specks=40, dust_depth=0.5))
    found = _found(s)
    assert faults_found(found) == {"dust"}
    dust = _by_fault(found)["dust"]
    assert dust.evidence[0].value > DUST_AREA_PERCENT
    assert _by_fault(found)["uneven_illumination"].severity is not Severity.FAULT


def test_a_facility_limit_replaces_the_default_threshold():
    # the documented flat has CA ≈ 90 %: a facility asking for 95 % calls it off centre
    s = flat_field_sample()
    found = _found(s, limits=Limits((Limit("centering_accuracy_percent", min=95.0),), "instrument 'Scope A'"))
    f = _by_fault(found)["off_centre_illumination"]
    assert f.severity is Severity.FAULT and "instrument 'Scope A'" in f.evidence[0].limit


def test_every_channel_gets_its_own_findings():
    import numpy as np

    good, bad = flat_field_sample(), flat_field_misaligned_sample()
    found = findings(analyze_field(np.stack([good.data, bad.data]), FieldSettings()))
    faults = {(f.channel, f.fault) for f in found if f.severity is Severity.FAULT}
    assert faults == {("ch 1", "off_centre_illumination")}


def test_the_registry_entry_carries_the_rule_table():
    s = flat_field_misaligned_sample()
    r = analyze_field(s.data, FieldSettings())
    entry = get_measurement("field")
    assert entry.findings is not None
    assert faults_found(entry.findings(r)) == {"off_centre_illumination"}

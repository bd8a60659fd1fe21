"""Every analysis setting is in its widget, generated from the same spec as the command line."""

from __future__ import annotations

import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

DOCKS = {
    "psf": "PSF / resolution (beads)",
    "field": "Field illumination / flatness",
    "coregistration": "Chromatic co-registration",
}


@pytest.mark.parametrize("name", list(DOCKS))
def test_every_user_setting_has_a_field_and_reaches_the_analysis(name, make_napari_viewer, ui, qtbot):
    from microscope_qc.measurements import get_measurement
    from microscope_qc.setting_spec import user_settings

    measurement = get_measurement(name)
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, DOCKS[name])
    items = user_settings(measurement.settings_type)
    assert {i.name for i in items} <= set(w.analysis.values()), "a user setting has no form field"
    # the hidden settings are one click away, and a change there reaches the analysis settings
    assert w.analysis.hidden_names and w.analysis.more.native.isHidden()
    w.analysis.more_toggle.click()
    assert not w.analysis.more.native.isHidden()
    hidden = next(i for i in items if i.name == w.analysis.hidden_names[-1])
    value = (not hidden.default) if hidden.kind == "bool" else (hidden.spec.maximum or 7)
    w.analysis[hidden.name].value = value if hidden.kind == "bool" or not hidden.optional else f"{value:g}"
    assert getattr(w.settings(), hidden.name) == value
    for item in items:
        widget = w.analysis[item.name]
        shown = widget.native.text() if item.kind == "bool" else widget.label
        assert shown == item.display_label
        assert widget.tooltip and item.spec.help in widget.tooltip


def test_an_optional_number_field_names_itself_when_it_is_not_a_number(make_napari_viewer, ui):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, DOCKS["psf"])
    w.analysis["box_xy_um"].value = "wide"
    with pytest.raises(
        ValueError, match=r"'lateral fit box \(µm\)' must be a number or empty; 'wide' is not"
    ):
        w.settings()
    w.analysis["box_xy_um"].value = "0,01"  # a decimal comma is read as a point, then the range is checked
    with pytest.raises(ValueError, match=r"'lateral fit box \(µm\)' must be at least 0.05 µm"):
        w.settings()
    w.analysis["box_xy_um"].value = "3,5"
    assert w.settings().box_xy_um == 3.5
    w.analysis["outlier_fence"].value = ""  # empty: off
    assert w.settings().outlier_fence is None
    w.analysis.reset()
    assert w.settings().outlier_fence == 3.0 and w.settings().box_xy_um is None

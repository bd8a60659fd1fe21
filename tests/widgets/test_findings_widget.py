"""The findings under a dock's summary, as users meet them: a faulty sample opened, Measure clicked,
the fault named with its remedy, the evidence on hover, and the same findings in the export."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Field illumination / flatness"


@pytest.fixture
def viewer_with_misaligned_lamp(make_napari_viewer):
    from microscope_qc.samples import napari_flat_field_misaligned

    viewer = make_napari_viewer()
    for data, kwargs, _ in napari_flat_field_misaligned():
        viewer.add_image(data, **kwargs)
    return viewer


def test_a_misaligned_lamp_is_named_under_the_summary_with_its_evidence(
    viewer_with_misaligned_lamp, qtbot, tmp_path, ui
):
    _, w = ui.open_dock(viewer_with_misaligned_lamp, NAME)
    assert w.findings_box.isHidden() and w.findings is None  # nothing measured yet
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.findings is not None and not w.findings_box.isHidden()
    texts = [label.text() for label in w.findings_labels]
    assert "1 fault" in texts[0]
    # the fault first, with its remedy; then the notes and the checks that found nothing
    assert (
        "FAULT" in texts[1]
        and "Off-centre illumination" in texts[1]
        and "realign the fibre / lamp" in texts[1]
    )
    assert w.findings_labels[1].property("fault") == "off_centre_illumination"
    assert "centring accuracy (MetroloJ_QC): 38.66 %" in w.findings_labels[1].toolTip()
    assert "limit ≥ 50 %, default (MetroloJ_QC)" in w.findings_labels[1].toolTip()
    severities = [f.severity.value for f in w.findings]
    assert {f.fault for f in w.findings if f.severity.value == "fault"} == {"off_centre_illumination"}
    assert "ok" in severities  # saturation was checked and not found
    # the export writes the dock's findings
    paths = w.export(tmp_path / "out")
    doc = json.loads(paths["json"].read_text())
    assert [f["fault"] for f in doc["findings"] if f["severity"] == "fault"] == ["off_centre_illumination"]
    assert "Findings — 1 fault" in paths["html"].read_text()
    # a failed run clears them with the result
    w.clear_result()
    assert w.findings is None and w.findings_box.isHidden() and w.findings_labels == []

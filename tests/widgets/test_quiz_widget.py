"""The workshop quiz dock as learners meet it: opened from napari's plugin menu, a new unknown
sample loaded under a neutral name, measured with the tool it names, answered, revealed, scored."""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Workshop quiz"
MISALIGNED = "The lamp is off centre: the bright zone sits in a corner, and the centring accuracy drops."
GOOD = "A well-aligned lamp: the flat field is centred and falls off evenly."


@pytest.fixture
def gallery(monkeypatch):
    """The quiz over two field samples only (their real faults, test-local explanations), so that the test
    knows what it is dealt."""
    from microscope_qc.measurements import all_samples

    known = all_samples()
    m, bad = known["flat-field-misaligned"]
    _, good = known["flat-field"]
    samples = {
        bad.key: (m, dataclasses.replace(bad, explanation=MISALIGNED)),
        good.key: (m, dataclasses.replace(good, explanation=GOOD)),
    }
    monkeypatch.setattr("microscope_qc.quiz.all_samples", lambda: samples)
    return samples


def _tick(qtbot, box) -> None:
    """Click a check box where a learner does: on its box (its middle may be empty space in a wide dock)."""
    from qtpy.QtCore import QPoint, Qt

    assert box.isEnabled(), box.text()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _secrets_in(value) -> list[str]:
    """Keys and texts in layer metadata that would give the answer away."""
    if isinstance(value, dict):
        return [k for k in value if k in {"truth", "faults", "explanation"}] + [
            s for v in value.values() for s in _secrets_in(v)
        ]
    if isinstance(value, str):
        return [value] if any(w in value for w in ("misaligned", "flat-field", "synthetic flat")) else []
    return []


def test_new_sample_answer_reveal_and_score(make_napari_viewer, qtbot, ui, gallery):
    from microscope_qc.quiz import NOTHING_WRONG

    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    assert w.quiz is None and not w.check_button.isEnabled()

    ui.click(qtbot, w.new_button)
    ui.wait_idle(qtbot, w)
    first = w._round
    assert first.key in ("flat-field", "flat-field-misaligned") and first.number == 1
    # the layers are there, under neutral names, with no truth in their metadata
    names = [ly.name for ly in viewer.layers]
    expected = ["Quiz sample 1", "Quiz sample 1 (dark)"] if first.key == "flat-field" else ["Quiz sample 1"]
    assert names == expected == w.layer_names
    for ly in viewer.layers:
        assert not _secrets_in(ly.metadata), ly.metadata
    # the hint names the tool and where napari lists it; its button opens it
    hint = w.hint.text()
    assert (
        "Layers ▸ Measure ▸ Field illumination / flatness (Microscope QC)" in hint and "Quiz sample 1" in hint
    )
    assert [c.code for c in first.choices][-1] == NOTHING_WRONG and set(w.boxes) == {
        c.code for c in first.choices
    }
    assert "Dust in the light path" in [b.text() for b in w.boxes.values()]

    # the learner measures the sample with the tool the hint names: it picks the quiz layers
    ui.click(qtbot, w.tool_button)
    field = next(d for n, d in viewer.window.dock_widgets.items() if n.startswith("Field illumination"))
    assert field.layer_combo.value.name == "Quiz sample 1"
    if first.key == "flat-field":  # the dark image still goes with its flat under the neutral names
        assert field.dark_combo.value.name == "Quiz sample 1 (dark)"
    ui.click(qtbot, field.run_button)
    ui.wait_idle(qtbot, field)
    assert field.result is not None

    # "nothing wrong" and a fault exclude each other
    _tick(qtbot, w.boxes["dust"])
    _tick(qtbot, w.boxes[NOTHING_WRONG])
    assert w.boxes[NOTHING_WRONG].isChecked() and not w.boxes["dust"].isChecked()
    # the right answer
    right = first.truth or (NOTHING_WRONG,)
    for b in w.boxes.values():
        if b.isChecked():
            b.setChecked(False)
    for code in right:
        _tick(qtbot, w.boxes[code])
    ui.click(qtbot, w.check_button)
    assert w.score_label.text() == "Score: 1 of 1 right"  # at once, before the numbers are measured
    ui.wait_idle(qtbot, w)
    text = w.reveal_label.text()
    assert "Correct!" in text and not w.choices_box.isEnabled() and not w.check_button.isEnabled()
    # the truth, its remedy, the explanation and the numbers (with units and limits)
    if first.key == "flat-field":
        assert "nothing wrong: a good instrument" in text and GOOD in text
    else:
        assert "Off-centre illumination" in text and "realign the fibre / lamp" in text and MISALIGNED in text
    # the field's findings: the centring one with its number, unit and limit
    assert "The numbers that give it away" in text and "<b>Off-centre illumination</b>" in text
    assert "<li>centring accuracy (MetroloJ_QC): " in text and "% (limit ≥ 50 %" in text
    assert "How the sample was made" in text and "centre_x_px" in text

    # the next sample: the other one, the earlier quiz layers replaced, a wrong answer scored
    ui.click(qtbot, w.new_button)
    ui.wait_idle(qtbot, w)
    second = w._round
    assert second.number == 2 and second.key != first.key
    assert [ly.name for ly in viewer.layers if ly.name.startswith("Quiz sample")][0] == "Quiz sample 2"
    assert not any(ly.name.startswith("Quiz sample 1") for ly in viewer.layers)
    assert w.reveal_label.text() == "" and w.check_button.isEnabled()
    wrong = "dust" if second.truth else "off_centre_illumination"
    _tick(qtbot, w.boxes[wrong])
    ui.click(qtbot, w.check_button)
    ui.wait_idle(qtbot, w)
    assert w.score_label.text() == "Score: 1 of 2 right"
    text = w.reveal_label.text()
    assert "Not quite." in text
    # dust is in the misaligned flat, three specks within tolerance: the reveal says so
    assert (
        "Present but within tolerance (noted, not a fault): Dust" if second.truth else "Not in this sample"
    ) in text


def test_checking_without_a_diagnosis_says_what_to_do(make_napari_viewer, qtbot, ui, gallery):
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    w.new_sample("flat-field-misaligned")
    ui.wait_idle(qtbot, w)
    ui.click(qtbot, w.check_button)
    assert "Pick a diagnosis" in w.status.text() and w.check_button.isEnabled()
    assert w.score_label.text() == "Score: no answers yet"


def test_an_empty_gallery_is_said_not_crashed(make_napari_viewer, qtbot, ui, monkeypatch):
    monkeypatch.setattr("microscope_qc.quiz.all_samples", lambda: {})
    viewer = make_napari_viewer()
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.new_button)
    assert "no sample with a workshop explanation" in w.status.text() and len(viewer.layers) == 0


def test_the_reveal_shows_findings_with_their_evidence():
    """With a findings rule (the PSF's, once merged), each finding is a heading, its sentence and its numbers."""
    from microscope_qc.findings import Evidence
    from microscope_qc.quiz import EvidenceGroup, Reveal
    from microscope_qc.widgets.quiz import reveal_html

    group = EvidenceGroup(
        "Spherical aberration",
        "fault",
        "Spherical aberration consistent with a 0.02 refractive-index mismatch; check the immersion medium.",
        (Evidence("axial asymmetry", 0.31, 0.04, "", "> 0.15"), Evidence("focus shift", 0.42, 0.05, "um")),
        "spherical_aberration",
    )
    rv = Reveal(
        True,
        frozenset({"spherical_aberration"}),
        ("spherical_aberration",),
        "Oil on a water lens.",
        {},
        (group,),
        "findings",
    )
    text = reveal_html(rv)
    assert "Correct!" in text and "<b>Spherical aberration</b>" in text and "the tool flags it" in text
    assert (
        "0.02 refractive-index mismatch" in text
        and "axial asymmetry: 0.310 ± 0.040 (limit &gt; 0.15)" in text
    )
    assert "focus shift: 0.420 ± 0.050 µm" in text and "states no findings" not in text

"""The workshop quiz model, headless: dealing, choices, answers, score and the reveal's evidence."""

from __future__ import annotations

import dataclasses
import math

import pytest

from microscope_qc.findings import FAULTS, Evidence, Finding, Severity
from microscope_qc.measurements import all_samples
from microscope_qc.quiz import (
    NOTHING_WRONG,
    Quiz,
    evidence_groups,
    format_evidence,
    gallery,
    neutral_layer_data,
    tool_faults,
    truth_parameters,
)

MISALIGNED = "The lamp is off centre: the bright zone sits in a corner."
GOOD = "A well-aligned lamp: the flat is centred and falls off evenly."


def _samples():
    """Two field samples and one PSF sample given test-local faults and explanations."""
    known = all_samples()
    m, s = known["flat-field-misaligned"]
    mg, sg = known["flat-field"]
    mp, sp = known["psf-aberrated"]
    return {
        "flat-field-misaligned": (
            m,
            dataclasses.replace(s, faults=("off_centre_illumination",), explanation=MISALIGNED),
        ),
        "flat-field": (mg, dataclasses.replace(sg, faults=(), explanation=GOOD)),
        "psf-aberrated": (
            mp,
            dataclasses.replace(
                sp, faults=("astigmatism", "focal_plane_tilt", "field_curvature"), explanation="x"
            ),
        ),
    }


def test_the_gallery_holds_only_samples_with_an_explanation(monkeypatch):
    known = all_samples()
    assert list(gallery()) == list(known)  # every registry sample carries its workshop explanation
    m, s = known["flat-field"]
    patched = {**known, s.key: (m, dataclasses.replace(s, explanation=""))}
    monkeypatch.setattr("microscope_qc.quiz.all_samples", lambda: patched)
    assert list(gallery()) == [k for k in known if k != "flat-field"]
    monkeypatch.setattr(
        "microscope_qc.quiz.all_samples",
        lambda: {k: (m, dataclasses.replace(s, explanation="")) for k in known},
    )
    with pytest.raises(ValueError, match="no sample with a workshop explanation"):
        Quiz()


def test_a_seed_fixes_the_order_of_samples_and_choices():
    def play(seed):
        q = Quiz(_samples(), seed=seed)
        return [(r.key, [c.code for c in r.choices]) for r in (q.new_round() for _ in range(6))]

    assert play(3) == play(3)
    assert play(3) != play(4)  # another seed, another order (these two differ)
    keys = [k for k, _ in play(3)]
    assert sorted(keys[:3]) == sorted(_samples()) and sorted(keys[3:]) == sorted(
        _samples()
    )  # each once per deck
    assert all(a != b for a, b in zip(keys, keys[1:], strict=False))  # never twice in a row


def test_the_choices_are_the_tools_faults_and_nothing_wrong():
    q = Quiz(_samples(), seed=0)
    r = q.new_round("psf-aberrated")
    codes = [c.code for c in r.choices]
    assert set(codes) == {*tool_faults(r.measurement), NOTHING_WRONG}
    assert codes[-1] == NOTHING_WRONG and codes[:-1] != tool_faults(r.measurement)  # shuffled
    assert {c.title for c in r.choices} >= {FAULTS["astigmatism"].title, "Nothing wrong"}
    assert set(tool_faults(all_samples()["light-source-log"][0])) == {"unstable_light_source", "warm_up"}
    with pytest.raises(KeyError, match="not a quiz sample"):
        q.new_round("mirror-xz")


def test_answers_are_checked_and_scored():
    q = Quiz(_samples(), seed=0)
    r = q.new_round("flat-field-misaligned")
    with pytest.raises(ValueError, match="Pick a diagnosis"):
        r.answer([])
    with pytest.raises(ValueError, match="cannot go with a fault"):
        r.answer([NOTHING_WRONG, "dust"])
    with pytest.raises(ValueError, match="Not a choice"):
        r.answer(["coma"])
    with pytest.raises(ValueError, match="Answer first"):
        r.reveal()
    assert r.answer(["off_centre_illumination"]) is True
    with pytest.raises(ValueError, match="already answered"):
        r.answer(["dust"])
    assert q.score == (1, 1)
    good = q.new_round("flat-field")
    assert good.answer(["uneven_illumination"]) is False
    assert q.score == (1, 2)
    assert q.new_round("flat-field").answer([NOTHING_WRONG]) is True  # a good instrument: "nothing wrong"
    several = q.new_round("psf-aberrated")
    assert several.answer(["astigmatism"]) is False  # every fault must be named
    assert q.score == (2, 4)
    q.new_round("flat-field")
    assert q.score == (2, 4)  # an unanswered round does not count


def test_the_reveal_names_the_truth_and_the_numbers_that_give_it_away():
    q = Quiz(_samples(), seed=0)
    r = q.new_round("flat-field-misaligned")
    r.answer(["dust"])
    rv = r.reveal()
    assert not rv.correct and rv.truth == ("off_centre_illumination",) and rv.wrong == {"dust"}
    assert rv.missed == {"off_centre_illumination"} and rv.explanation == MISALIGNED
    assert rv.analysis_error is None and rv.evidence_source == "findings"
    # the field's findings on this sample: the true fault first, with the centring accuracy that fails
    first = rv.evidence[0]
    assert first.fault == "off_centre_illumination" and first.status == "fault"
    ca = first.evidence[0]
    assert ca.label == "centring accuracy (MetroloJ_QC)" and ca.value < 50 and ca.limit.startswith("≥ 50 %")
    # the learner's wrong answer is shown with what the tool says about it: three specks, only noted
    dust = next(g for g in rv.evidence if g.fault == "dust")
    assert dust.status == "note" and dust.evidence[1].value == 3
    text = rv.text()
    assert "Off-centre illumination" in text and FAULTS["off_centre_illumination"].remedy in text
    assert "Present but within tolerance (noted, not a fault): Dust in the light path" in text
    assert "Not in this sample" not in text and MISALIGNED in text
    assert "centring accuracy (MetroloJ_QC): 38." in text
    # the truth parameters come from the sample: the illumination centre it was built with
    assert rv.truth_parameters["centre_y_px"] == 90.0 and rv.truth_parameters["centre_x_px"] == 430.0
    assert r.reveal() is rv  # measured once


def test_a_good_sample_reveals_nothing_wrong_with_passing_numbers():
    q = Quiz(_samples(), seed=0)
    r = q.new_round("flat-field")
    assert r.answer([NOTHING_WRONG])
    rv = r.reveal()
    assert rv.correct and rv.truth == () and rv.answer == frozenset()
    assert "nothing wrong, a good instrument" in rv.text()
    # the field's findings: nothing is a fault; the six small specks are only noted
    assert rv.evidence and not any(g.status == "fault" for g in rv.evidence)
    assert {g.fault: g.status for g in rv.evidence}["dust"] == "note"


def test_findings_give_the_evidence_for_the_true_faults_first():
    """With a findings rule, the true faults' findings (with their evidence) come first, then false alarms."""
    m, s = _samples()["flat-field-misaligned"]

    def findings(result):
        ca = result.metric("centering_accuracy_percent")
        return [
            Finding(
                "dust", Severity.OK, "No dust shadow.", (Evidence("darkest speck", 2.0, None, "%", "> 10"),)
            ),
            Finding(
                "off_centre_illumination",
                Severity.FAULT,
                "Illumination centre far off: realign the fibre / lamp.",
                (Evidence("centring accuracy", ca.value, ca.uncertainty, "%", "< 80"),),
            ),
            Finding(
                "uneven_illumination",
                Severity.FAULT,
                "Uneven.",
                (Evidence("uniformity", 9.6, 0.3, "%", "< 50"),),
            ),
        ]

    q = Quiz({"x": (dataclasses.replace(m, findings=findings), s)}, seed=0)
    r = q.new_round("x")
    r.answer(["dust"])
    rv = r.reveal()
    assert rv.evidence_source == "findings"
    assert [g.fault for g in rv.evidence] == ["off_centre_illumination", "uneven_illumination", "dust"]
    first = rv.evidence[0]
    assert first.status == "fault" and first.heading == "Off-centre illumination" and "realign" in first.text
    assert first.evidence[0].label == "centring accuracy" and first.evidence[0].value < 50
    assert "Off-centre illumination [fault]: Illumination centre far off" in rv.text()


def test_evidence_of_a_good_sample_lists_every_finding():
    m, s = _samples()["flat-field"]
    ok = [Finding(c, Severity.OK, "fine", (Evidence("x", 1.0),)) for c in tool_faults(m)]
    source, groups = evidence_groups(dataclasses.replace(m, findings=lambda r: ok), object(), (), ())
    assert source == "findings" and [g.fault for g in groups] == tool_faults(m)
    # a true fault the tool says nothing about is still named
    source, groups = evidence_groups(dataclasses.replace(m, findings=lambda r: []), object(), ("dust",), ())
    assert [(g.fault, g.status) for g in groups] == [("dust", "not measured")]


def test_a_sample_the_command_refuses_still_reveals_its_truth():
    known = all_samples()
    # its command needs the frame interval, which the gallery page gives for "stage-drift" only
    m, s = known["stage-drift"]
    refused = dataclasses.replace(
        s, key="stage-drift-undocumented", faults=("stage_drift",), explanation="Drift."
    )
    q = Quiz({"d": (m, refused)}, seed=0)
    r = q.new_round()
    r.answer(["stage_drift"])
    rv = r.reveal()
    assert rv.correct and rv.analysis_error and rv.evidence == ()
    assert "could not be computed" in rv.text() and "Stage or focus drift" in rv.text()


def test_numbers_are_written_with_their_uncertainty_and_unit():
    assert (
        format_evidence(Evidence("FWHM", 0.2346, 0.0123, "um", "<= 0.3"))
        == "FWHM: 0.235 ± 0.012 µm (limit <= 0.3)"
    )
    assert format_evidence(Evidence("CA", 38.66, None, "percent")) == "CA: 38.7%"
    assert format_evidence(Evidence("ratio", 1.5, 0.0)) == "ratio: 1.5"  # never "± 0"
    assert format_evidence(Evidence("n", 1234.0, 56.0, "counts")) == "n: 1234 ± 56 counts"


def test_truth_parameters_are_simple_values():
    _, s = all_samples()["psf-aberrated"]
    p = truth_parameters(s.make(None))
    assert p["fwhm_major_um (median of 24)"] > p["fwhm_minor_um (median of 24)"]  # astigmatic beads
    assert "seed" not in p and len(p) <= 16


def test_the_quiz_layers_hide_the_truth():
    meta = {"microscope_qc": {"source": "synthetic sample 'synthetic flat (misaligned)'"}, "truth": {"x": 1}}
    pair_meta = {
        "microscope_qc_pair": "image B (synthetic)",
        "detector": {"truth_json": "{}", "kinds": ["dark"]},
    }
    layers = [
        ("data", {"name": "synthetic flat (misaligned)", "metadata": meta, "colormap": "gray"}, "image"),
        ("dark", {"name": "synthetic flat (misaligned) (dark)"}, "image"),
        ("b", {"name": "image B (synthetic)", "metadata": pair_meta}, "image"),
    ]
    out = neutral_layer_data(layers, "Quiz sample 3", secrets=("flat-field-misaligned",))
    assert [t[1]["name"] for t in out] == ["Quiz sample 3", "Quiz sample 3 (dark)", "Quiz sample 3 (3)"]
    assert out[0][1]["metadata"] == {"microscope_qc": {"source": "synthetic sample 'Quiz sample 3'"}}
    assert out[0][1]["colormap"] == "gray" and out[0][0] == "data" and out[0][2] == "image"
    assert out[2][1]["metadata"] == {
        "microscope_qc_pair": "Quiz sample 3 (3)",
        "detector": {"kinds": ["dark"]},
    }
    assert "truth" in layers[0][1]["metadata"]  # the sample's own data are left as they were


@pytest.mark.slow
@pytest.mark.parametrize("key", list(all_samples()))
def test_the_quiz_measures_the_data_napari_shows(key):
    """The dock shows napari's File ▸ Open Sample layers; the reveal measures ``sample.make(None)``: the same data."""
    np = pytest.importorskip("numpy")
    npe2 = pytest.importorskip("npe2")
    pm = npe2.PluginManager.instance()
    if "napari-microscope-qc" not in pm:
        pm.discover()
    contrib = next(
        c for c in pm.get_manifest("napari-microscope-qc").contributions.sample_data if c.key == key
    )
    layers = contrib.open()
    data, kwargs, *_ = layers[0]
    built = all_samples()[key][1].make(None)
    if hasattr(built, "text"):  # a power-meter log: the layer carries its text
        assert kwargs["metadata"]["power_log_text"] == built.text
        return
    pixels = np.asarray(getattr(built, "data", getattr(built, "image", None)))
    if pixels.size != np.asarray(data).size:  # one layer per channel (the pattern slide's two)
        data = np.stack([np.asarray(layer[0]) for layer in layers[: pixels.size // np.asarray(data).size]])
    assert pixels.size == np.asarray(data).size and np.array_equal(pixels.reshape(np.shape(data)), data)


def test_a_bead_stack_is_measured_by_the_psf_command():
    q = Quiz(_samples(), seed=0)
    r = q.new_round("psf-aberrated")
    assert r.answer(["astigmatism", "field_curvature", "focal_plane_tilt"])
    rv = r.reveal()
    assert rv.correct and rv.analysis_error is None
    assert rv.evidence_source == "findings"
    assert {g.fault for g in rv.evidence} >= {"astigmatism", "focal_plane_tilt", "field_curvature"}
    tilt = next(g for g in rv.evidence if g.fault == "focal_plane_tilt")
    degrees = next(e for e in tilt.evidence if e.unit == "deg")
    # the sample's focal plane rises 0.01 (y) and 0.02 (x) µm per µm: atan(√5 / 100) = 1.28°; the
    # angle is right only when the voxel size came from the file's metadata
    expected = math.degrees(math.atan(math.hypot(0.01, 0.02)))
    assert degrees.uncertainty is not None and degrees.uncertainty > 0
    assert abs(degrees.value - expected) < 3 * degrees.uncertainty
    assert (
        rv.truth_parameters["fwhm_major_um (median of 24)"]
        > rv.truth_parameters["fwhm_minor_um (median of 24)"]
    )

"""The pattern-slide widget as users meet it: the sample from File ▸ Open Sample, the dock from the
plugin menu (a viewer proxy), Measure, the overlays, the live correction, export, and an error."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

NAME = "Pattern slide (rings, line pairs)"


@pytest.fixture
def measured(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-microscope-qc", "pattern-rings")
    ch0, ch1 = list(viewer.layers)
    _, w = ui.open_dock(viewer, NAME)
    assert w.layer_combo.value.name == ch0.name
    assert w.second_combo.value.name == ch1.name  # the sample's other channel, picked for the user
    assert w.pixel.value == "0.2"
    w.nominal_pitch.value = "5"
    ui.click(qtbot, w.run_button)
    assert w.task.running
    ui.wait_idle(qtbot, w, timeout=180000)
    assert w.result is not None, w.status.text()
    return viewer, w, ch0, ch1


def _world(layer, x_um, y_um):
    """World (y, x) of positions in the analysed image's µm through the layer's transforms."""
    data = np.column_stack([np.asarray(y_um) / layer.scale[-2], np.asarray(x_um) / layer.scale[-1]])
    return np.array([layer.data_to_world(p) for p in data])


def test_measure_draws_spots_vectors_grid_and_map(measured, qtbot, ui):
    viewer, w, ch0, ch1 = measured
    result = w.result
    truth = ch0.metadata["truth"]
    assert result.metric("magnification_error_percent", 0).value == pytest.approx(
        truth["magnification_error_percent"], abs=0.01
    )
    # spots: one layer per channel, every spot of the table with a position
    spots = result.spots
    for c in (0, 1):
        pts = w.layers.find(f"spots ch{c}")
        n = int(((spots.channel == c) & spots.x_um.notna()).sum())
        assert pts is not None and len(pts.data) == n and n >= 390
        on = np.asarray(pts.features["status"]) == "on grid"
        assert on.sum() == int(((spots.channel == c) & (spots.status == "on grid")).sum())
    # filled by residual class; spots off the grid grey
    from matplotlib.colors import to_rgba

    from microscope_qc.report.pattern import RESIDUAL_CLASSES

    pts = w.layers.find("spots ch0")
    status = np.asarray(pts.features["status"])
    residual = np.asarray(pts.features["residual_um"], float)
    face = np.round(pts.face_color[:, :3], 3)
    for k, (hi, colour, _) in enumerate(RESIDUAL_CLASSES):
        lo = RESIDUAL_CLASSES[k - 1][0] if k else 0.0
        sel = (status == "on grid") & (residual >= lo) & (residual < hi)
        assert (face[sel] == np.round(to_rgba(colour)[:3], 3)).all()
    assert (face[status != "on grid"] == np.round(to_rgba("#9e9e9e")[:3], 3)).all()
    assert (status != "on grid").any() and len(np.unique(face[status == "on grid"], axis=0)) >= 1
    # vectors: the distortion in pixels times the factor the dock and the layer name state
    vec = w.layers.find("vectors ch0")
    factor = w.exaggeration.value
    assert factor > 1 and f"×{factor:g}" in vec.name and f"×{factor:g}" in w.legend.text()
    on0 = spots[(spots.channel == 0) & (spots.status == "on grid")]
    np.testing.assert_allclose(vec.data[:, 1, 1], on0.distortion_x_um / 0.2 * factor, rtol=1e-6)
    np.testing.assert_allclose(vec.data[:, 0, 0], on0.y_um / 0.2, rtol=1e-9)
    assert tuple(vec.scale) == (0.2, 0.2)
    # the ideal grid (reference channel visible) with the missing orientation spot
    grid = w.layers.find("grid ch0")
    assert grid.visible and not w.layers.find("grid ch1").visible
    kinds = list(grid.features["kind"])
    assert kinds.count("ideal") == len(on0) and kinds.count("missing") == 1
    # the map layer sits on the field: its last sample at the map extent's end
    m = w.layers.find("map")
    x0, x1, y0, y1 = result.images["map_extent_um"]
    assert m is not None and not m.visible
    np.testing.assert_allclose(m.data_to_world(np.array(m.data.shape) - 1), (y1, x1), rtol=1e-9)
    # another quantity of the same layer, in place
    uid = m.unique_id
    w.map_choice.value = "fwhm"
    m = w.layers.find("map")
    assert m.unique_id == uid and "FWHM" in m.name and "FWHM" in w.colour_scale.title.text()
    # a new factor redraws the same vector layer
    w.exaggeration.value = 200.0
    vec2 = w.layers.find("vectors ch0")
    assert vec2.unique_id == vec.unique_id and "×200" in vec2.name
    np.testing.assert_allclose(vec2.data[:, 1, 1], on0.distortion_x_um / 0.2 * 200, rtol=1e-6)
    # table, summary and verdicts
    assert w.table.source.rowCount() == len(spots)
    text = w.summary.text()
    assert "rotation" in text and "distortion max" in text and "uniformity" in text and "PASS" in text.upper()
    # a re-run keeps every layer object
    ids = [lyr.unique_id for lyr in viewer.layers]
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w, timeout=180000)
    assert [lyr.unique_id for lyr in viewer.layers] == ids
    assert f"×{w.exaggeration.value:g}" in w.layers.find("vectors ch0").name


def test_live_correction_applied_and_removed(measured):
    viewer, w, ch0, ch1 = measured
    result = w.result
    spots = result.spots[result.spots.status == "on grid"]
    a = spots[spots.channel == 0].set_index(["grid_i", "grid_j"])
    b = spots[spots.channel == 1].set_index(["grid_i", "grid_j"])
    both = a.index.intersection(b.index)
    ref = _world(ch0, a.loc[both, "x_um"], a.loc[both, "y_um"])
    before = np.hypot(*(_world(ch1, b.loc[both, "x_um"], b.loc[both, "y_um"]) - ref).T)
    assert np.sqrt(np.mean(before**2)) > 0.1  # 0.14 µm shift + 0.15 % magnification
    original = np.array(ch1.affine.affine_matrix)
    w.correct_target.value = ch1
    assert w.correct_channel.value == 1  # the layer of channel 1 takes channel 1's model
    w.apply_button.click()
    assert not np.allclose(ch1.affine.affine_matrix, original)
    after = np.hypot(*(_world(ch1, b.loc[both, "x_um"], b.loc[both, "y_um"]) - ref).T)
    assert np.sqrt(np.mean(after**2)) < 0.01, w.status.text()  # the registration's residual: a few nm
    # applying again does not compound
    w.apply_button.click()
    again = np.hypot(*(_world(ch1, b.loc[both, "x_um"], b.loc[both, "y_um"]) - ref).T)
    np.testing.assert_allclose(again, after, atol=1e-9)
    w.remove_button.click()
    np.testing.assert_allclose(ch1.affine.affine_matrix, original)
    assert not w.remove_button.isEnabled()
    # onto the slide: near the field centre (where the barrel distortion, not an affine, is negligible)
    # the reference channel's grid steps become the nominal pitch along x
    w.correct_target.value = ch0
    w.correct_onto.value = "slide"
    w.apply_button.click()
    world = _world(ch0, a.x_um, a.y_um)  # (y, x)
    right = a.index.map(lambda ij: (ij[0] + 1, ij[1]))
    ok = right.isin(a.index) & (np.hypot(a.x_um - 51.1, a.y_um - 51.1) < 15).to_numpy()
    step = _world(ch0, a.loc[right[ok], "x_um"], a.loc[right[ok], "y_um"]) - world[ok]
    np.testing.assert_allclose(np.median(step, axis=0), (0.0, 5.0), atol=0.003)  # 0.2 % and 1.5° removed
    w.remove_button.click()
    assert np.allclose(ch0.affine.affine_matrix, np.eye(3))


def test_export_writes_the_cli_files_and_never_overwrites_silently(measured, tmp_path):
    _, w, _, _ = measured
    out = tmp_path / "out"
    paths = w.export(out)
    assert paths is not None, w.status.text()
    doc = json.loads((out / "results.json").read_text())
    assert doc["measurement"] == "pattern"
    for name in ("spots.csv", "report.html", "registration.json"):
        assert (out / name).exists(), name
    reg = json.loads((out / "registration.json").read_text())
    assert reg["format_version"] == 2 and "0-1" in reg
    asked = []
    w.confirm_overwrite = lambda msg: asked.append(msg) or False
    assert w.export(out) is None
    assert asked and "kept" in w.status.text()


def test_another_image_resets_the_dock(measured):
    viewer, w, ch0, _ = measured
    other = viewer.add_image(np.zeros((64, 64), np.uint16), name="other", scale=(0.1, 0.1))
    assert w.layer_combo.value.name == ch0.name  # a new layer does not change the pick
    w.layer_combo.value = other
    assert w.result is None and not w.export_button.isEnabled() and not w.apply_button.isEnabled()
    assert w.table.source.rowCount() == 0 and w.pixel.value == "0.1"
    spots = w.layers.find("spots ch0")
    assert not spots.visible and spots.name.endswith(f"[for {ch0.name}]")


def test_an_image_without_a_pattern_is_refused_in_the_docks_words(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(1)
    viewer.add_image(rng.poisson(100, (256, 256)).astype(np.uint16), name="noise", scale=(0.2, 0.2))
    _, w = ui.open_dock(viewer, NAME)
    assert w.layer_combo.value.name == "noise" and w.second_combo.value is None
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w)
    assert w.result is None
    text = w.status.text()
    assert "No pattern recognised" in text and "'pattern' field" in text and "--" not in text
    # no pixel size: the dock's field is named
    w.pixel.value = ""
    ui.click(qtbot, w.run_button)
    assert "'pixel size (µm)'" in w.status.text()


def test_line_pairs_page_plots_profiles_and_draws_orientations(make_napari_viewer, qtbot, ui):
    # the sample as File ▸ Open Sample opens it; the dock's pattern field left at 'auto'
    viewer = make_napari_viewer()
    viewer.open_sample("napari-microscope-qc", "pattern-lines")
    _, w = ui.open_dock(viewer, NAME)
    assert w.pixel.value == "0.04"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w, timeout=120000)
    result = w.result
    assert result is not None, w.status.text()
    groups = result.tables["groups"]
    shapes = w.layers.find("lines")
    assert shapes is not None and len(shapes.data) == 2 * len(groups)
    # each group's 'along' segment follows its lines' direction (angle from x towards +y)
    along = np.asarray(shapes.features["direction"]) == "along"
    for seg, angle in zip(np.asarray(shapes.data, dtype=object)[along], groups.angle_deg, strict=True):
        (y0, x0), (y1, x1) = seg
        got = np.degrees(np.arctan2(y1 - y0, x1 - x0)) % 180
        assert abs((got - angle + 90) % 180 - 90) < 1e-3  # napari keeps shapes in float32
    assert w.tabs.tabText(w.tabs.currentIndex()) == "Line pairs"
    assert len(w.profile_plot.curves) == len(groups)
    assert "C 0." in w.profile_plot.curves[0][0]
    plotted = sum(len(c[2]) for c in w.contrast_plot.curves)
    assert plotted == int((groups.spacing_um.notna() & groups.contrast.notna()).sum()) > 5
    assert w.contrast_plot.markers and w.contrast_plot.markers[0][2] == pytest.approx(
        result.metric("smallest_resolved_spacing_um").value
    )
    assert w.table.source.rowCount() == len(groups)


def test_a_ladder_result_fills_the_summary_and_its_table(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-microscope-qc", "pattern-ladder")
    _, w = ui.open_dock(viewer, NAME)
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w, timeout=120000)
    assert w.result is not None, w.status.text()
    assert w.table.source.rowCount() == len(w.result.tables["steps"]) > 5
    assert w.summary.text() and w.export_button.isEnabled()


def test_a_wrong_nominal_pitch_names_the_docks_fields(make_napari_viewer, qtbot, ui):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-microscope-qc", "pattern-rings")
    _, w = ui.open_dock(viewer, NAME)
    w.second_combo.value = None
    w.nominal_pitch.value = "6"
    ui.click(qtbot, w.run_button)
    ui.wait_idle(qtbot, w, timeout=120000)
    text = w.status.text()
    assert w.result is None and "6 µm" in text
    assert "'nominal pitch (µm)' field" in text and "'pixel size (µm)' field" in text and "--" not in text

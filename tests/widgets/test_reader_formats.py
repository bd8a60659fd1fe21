"""Vendor files opened in napari through the plugin's reader: a layer per channel with its emission
colour and scale, lazily, and the PSF dock's microscope form pre-filled from the file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("napari")
pytestmark = pytest.mark.widget

PLUGIN = "napari-microscope-qc"


def _cluster_nd2() -> Path:
    pytest.importorskip("bioio_nd2", reason="the ND2 reader needs the [formats] extra (bioio-nd2)")
    spec = importlib.util.find_spec("pims_nd2")  # located, not imported
    if spec is None or spec.origin is None or not (Path(spec.origin).parent / "cluster.nd2").is_file():
        pytest.skip("pims-nd2 (test extra) is not installed: it ships the real ND2 file cluster.nd2")
    return Path(spec.origin).parent / "cluster.nd2"


def test_a_real_nd2_opens_as_coloured_lazy_channels_and_prefills(make_napari_viewer, ui):
    from microscope_qc.reader import wavelength_colour

    path = _cluster_nd2()
    viewer = make_napari_viewer()
    layers = viewer.open(str(path), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["cluster [5-FAM/pH 9.0]", "cluster [FM 4-64/2% CHAPS]"]
    for layer, nm in zip(layers, (525, 700), strict=True):
        assert layer.data.shape == (3, 10, 31, 38) and not isinstance(layer.data, np.ndarray)
        assert tuple(layer.scale) == pytest.approx((1.0, 0.5, 0.167809, 0.167809), rel=1e-5)
        want = np.array([int(wavelength_colour(nm)[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        np.testing.assert_allclose(layer.colormap.colors[-1][:3], want, atol=1e-6)
    viewer.layers.selection.active = layers[0]
    _, w = ui.open_dock(viewer, "PSF / resolution (beads)")
    assert float(w.na.value) == pytest.approx(0.95)
    detail = w.settings().microscope.source_of("na").detail
    assert detail == "OME (converted by bioio-nd2) Objective.LensNA"


def test_every_scene_of_an_ome_tiff_opens_and_prefills_from_its_own_scene(make_napari_viewer, ui, tmp_path):
    from tests.test_formats import write_scenes

    a = np.arange(2 * 3 * 8 * 9, dtype=np.uint16).reshape(2, 3, 8, 9)
    b = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(1, 4, 5, 6) + 7
    path = write_scenes(
        tmp_path / "two.ome.tif", [(a, 0.1, ["GFP", "RFP"], [510, 610]), (b, 0.2, ["DAPI"], [450])]
    )
    viewer = make_napari_viewer()
    layers = viewer.open(str(path), plugin=PLUGIN)
    assert [layer.name for layer in layers] == ["two [scene 0] [GFP]", "two [scene 0] [RFP]", "two [scene 1]"]
    assert all(not isinstance(layer.data, np.ndarray) for layer in layers)  # lazy
    assert tuple(layers[0].scale) == pytest.approx((0.5, 0.1, 0.1))
    assert tuple(layers[2].scale) == pytest.approx((1.0, 0.2, 0.2))
    np.testing.assert_array_equal(np.asarray(layers[2].data), b[0])
    viewer.layers.selection.active = layers[2]
    _, w = ui.open_dock(viewer, "PSF / resolution (beads)")
    assert float(w.voxel_x.value) == pytest.approx(0.2)  # scene 1's pixel, not scene 0's
    assert w.settings().microscope.source_of("voxel_size_um").detail == "OME Pixels.PhysicalSize{Z,Y,X}"

"""The napari reader (Qt-free): layers of every channel, with scale, and every time point of a series."""

from __future__ import annotations

import numpy as np
import pytest

import microscope_qc.io as io_module
from microscope_qc.io import read_image, read_time_series
from microscope_qc.measurements import find_sample
from microscope_qc.reader import napari_get_reader, read_layers


def _write(key: str, path):
    find_sample(key)[1].write_new(path)
    return path


def test_a_time_series_opens_with_every_time_point_first(tmp_path):
    path = _write("stage-drift", tmp_path / "drift.ome.tif")
    n_t = int(read_image(path).metadata.extra["timepoints"])
    ((data, kwargs, kind),) = read_layers(str(path))
    assert kind == "image" and data.shape[0] == n_t > 1
    assert kwargs["scale"][0] == 1.0 and len(kwargs["scale"]) == data.ndim
    # each time point holds the pixels read_image gives for it (read lazily, only where indexed)
    for t in (0, 7, n_t - 1):
        np.testing.assert_array_equal(np.asarray(data[t]), np.asarray(read_image(path, timepoint=t).data)[0])


def test_a_stack_without_time_points_is_unchanged(tmp_path):
    path = _write("psf-beads", tmp_path / "beads.ome.tif")
    ((data, kwargs, _),) = read_layers(str(path))
    image = read_image(path)
    assert data.shape == image.data.shape[1:]
    assert kwargs["scale"] == tuple(image.metadata.voxel_size_um.value)
    assert napari_get_reader(str(path)) is read_layers


def test_time_series_through_bioio_equals_the_fast_path(tmp_path, monkeypatch):
    path = _write("light-source-series", tmp_path / "series.ome.tif")
    fast = read_time_series(path)
    monkeypatch.setattr(io_module, "_read_tiff", lambda *a: None)  # as for a file the fast path refuses
    slow = read_time_series(path)
    assert fast.data.shape == slow.data.shape
    np.testing.assert_array_equal(np.asarray(fast.data), np.asarray(slow.data))
    assert fast.metadata.extra["timepoints"] == slow.metadata.extra["timepoints"] == fast.data.shape[0]


def test_a_missing_file_is_a_read_error(tmp_path):
    with pytest.raises(io_module.ImageReadError):
        read_time_series(tmp_path / "nope.ome.tif")

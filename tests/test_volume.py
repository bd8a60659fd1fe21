"""microscope_qc.volume: a lazy stack indexed as the analyses index it gives numpy's values, reading only what it must."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr

from microscope_qc.array_views import NewAxis, Stacked, channel, same_pixels, stack_of
from microscope_qc.detection import extract_boxes
from microscope_qc.io import read_image
from microscope_qc.volume import ArrayLike, Volume


@pytest.fixture(scope="module")
def stack():
    rng = np.random.default_rng(1)
    return rng.integers(0, 4000, size=(23, 37, 41), dtype=np.uint16)


def _lazy_kinds(stack, tmp_path):
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    return {
        "tiff": read_image(path).data[0],
        "dask": da.from_array(stack, chunks=(5, 16, 16)),
        "zarr": zarr.array(stack, chunks=(4, 16, 16)),
        "memmap": tifffile.memmap(path),
    }


def test_protocol_covers_every_array_kind(stack, tmp_path):
    for name, data in _lazy_kinds(stack, tmp_path).items():
        assert isinstance(data, ArrayLike), name
    assert isinstance(stack, ArrayLike)


@pytest.mark.parametrize("block_planes", [1, 4, 100])
def test_indexing_equals_numpy(stack, tmp_path, block_planes):
    rng = np.random.default_rng(2)
    zi = rng.integers(0, 23, (6, 3))
    yi = rng.integers(0, 37, (6, 1))
    xi = rng.integers(0, 41, (6, 3))
    keys = [
        5,
        -1,
        (slice(2, 9), slice(3, 20), slice(None)),
        (4, slice(0, 10), 7),
        (slice(None), yi[:, 0], xi[:, 0]),
        (slice(3, 17), yi, xi),
        (zi, yi, xi),
        (zi[:, 0], 3, 9),
        (6, yi[:, 0], xi[:, 0]),
        (zi[:, 0], slice(2, 30), xi[:, 0]),  # advanced indices apart: numpy puts their axis first
    ]
    for name, data in _lazy_kinds(stack, tmp_path).items():
        v = Volume(data, block_bytes=block_planes * 37 * 41 * 2)
        for key in keys:
            np.testing.assert_array_equal(v[key], stack[key], err_msg=f"{name} {key}")
        for axis in (0, 1, 2):  # side projections too, a block at a time
            np.testing.assert_array_equal(v.max(axis=axis), stack.max(axis=axis), err_msg=f"{name} {axis}")
        assert v.min() == stack.min() and v.max() == stack.max()
        with pytest.raises(ValueError, match="axis 3 is out of range"):
            v.max(axis=3)


def test_boxes_equal_numpy_whether_read_or_kept(stack, tmp_path):
    z = np.array([0, 5, 11, 22, 30])
    y = np.array([0, 18, 36, 20, 5])
    x = np.array([3, 20, 40, 1, 5])
    want, valid = extract_boxes(stack, z, y, x, (3, 4, 5), dtype=np.float64)
    data = _lazy_kinds(stack, tmp_path)["tiff"]
    v = Volume(data, block_bytes=3 * 37 * 41 * 2)
    got, got_valid = extract_boxes(v, z, y, x, (3, 4, 5), dtype=np.float64)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_valid, valid)
    assert v.keep_columns(y[:3], x[:3], 7, budget_bytes=10**9)
    read_before = v.planes_read
    got, _ = extract_boxes(v, z[:3], y[:3], x[:3], (3, 4, 5), dtype=np.float64)
    np.testing.assert_array_equal(got, want[:3])
    np.testing.assert_array_equal(v[:, y[:3], x[:3]], stack[:, y[:3], x[:3]])
    np.testing.assert_array_equal(v[z[:3], y[:3], x[:3]], stack[z[:3], y[:3], x[:3]])
    assert v.planes_read == read_before  # all from the kept columns


def test_a_pass_reads_each_plane_once(stack, tmp_path):
    v = Volume(_lazy_kinds(stack, tmp_path)["tiff"], block_bytes=4 * 37 * 41 * 2)
    v.scan()
    v.max(axis=0)
    v.min()
    assert v.planes_read == 23


def test_scan_of_floats_counts_nan_and_inf():
    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    a[1, 0, 0] = np.nan
    a[0, 1, 1] = np.inf
    scan = Volume(da.from_array(a, chunks=1), block_bytes=1).scan()
    assert scan["nan"] == 1 and scan["inf"] == 1 and scan["min"] == 0 and scan["max"] == np.inf
    v = Volume(da.from_array(a, chunks=1), block_bytes=1)
    assert np.isnan(v.min()) and np.isnan(v.max())  # as numpy's
    v = Volume(da.from_array(np.full((2, 2, 2), np.nan), chunks=1))
    assert v.scan()["nan"] == 8 and np.isnan(v.scan()["min"]) and np.isnan(v.max(axis=0)).all()


def test_channels_of_joined_files_and_a_lone_stack_stay_lazy(stack, tmp_path, monkeypatch):
    monkeypatch.setattr("microscope_qc.volume.EAGER_BYTES", 0)  # not read whole however small
    a = tmp_path / "a.tif"
    b = tmp_path / "b.tif"
    tifffile.imwrite(a, np.stack([stack, stack + 1]), photometric="minisblack", metadata={"axes": "CZYX"})
    tifffile.imwrite(b, stack[None] + 2, photometric="minisblack", metadata={"axes": "CZYX"})
    joined = Stacked([read_image(a).data, read_image(b).data])
    assert joined.shape == (3, *stack.shape)
    for c in range(3):
        lazy = channel(joined, c)
        assert type(lazy).__name__ == "TiffStack"
        np.testing.assert_array_equal(np.asarray(lazy), stack + c)
    assert isinstance(stack_of(joined, 2), Volume)
    assert same_pixels(channel(joined, 0), stack) and not same_pixels(channel(joined, 0), channel(joined, 1))
    lone = NewAxis(read_image(b).data[0])
    assert lone.shape == (1, *stack.shape) and channel(lone, 0) is lone.data
    z = zarr.array(np.stack([stack, stack]), chunks=(1, 4, 16, 16))
    assert not isinstance(channel(z, 1), np.ndarray)  # zarr's z[1] would read the channel whole
    np.testing.assert_array_equal(stack_of(z, 1)[3], stack[3])


def test_blocks_follow_the_storage_chunks(stack):
    plane = 37 * 41 * 2
    assert Volume(zarr.array(stack, chunks=(4, 16, 16)), block_bytes=6 * plane).block_planes == 4
    assert Volume(zarr.array(stack, chunks=(4, 16, 16)), block_bytes=9 * plane).block_planes == 8
    assert Volume(da.from_array(stack, chunks=(10, 37, 41)), block_bytes=plane).block_planes == 10
    # one chunk along z (bioio's TIFF reader): computed once, not once per block
    whole = Volume(da.from_array(stack, chunks=(23, 37, 41)), block_bytes=plane)
    assert isinstance(whole.data, np.ndarray)
    np.testing.assert_array_equal(whole.max(axis=0), stack.max(axis=0))


def test_a_small_lazy_stack_is_read_whole_and_a_large_one_stays_lazy(stack, tmp_path, monkeypatch):
    from microscope_qc import volume

    path = tmp_path / "s.tif"
    tifffile.imwrite(path, stack[None], photometric="minisblack", metadata={"axes": "CZYX"})
    lazy = read_image(path).data
    small = stack_of(lazy, 0)
    assert type(small) is np.ndarray
    np.testing.assert_array_equal(small, stack)
    monkeypatch.setattr(volume, "EAGER_BYTES", stack.nbytes - 1)
    assert isinstance(stack_of(lazy, 0), Volume)
    monkeypatch.setattr(volume, "EAGER_BYTES", stack.nbytes)
    assert volume.small_enough_to_read(stack.nbytes)
    monkeypatch.setattr(volume.os, "sysconf", lambda name: 1 if name == "SC_AVPHYS_PAGES" else 4096)
    assert not volume.small_enough_to_read(stack.nbytes)  # not when free memory is short

"""The numpy filters (microscope_qc.filters) give SciPy's numbers (random data), and the field command imports neither SciPy nor pandas."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from microscope_qc.filters import (
    gaussian_filter,
    interpolate_linear,
    label,
    maximum_filter,
    uniform_filter3,
    zoom_linear,
)

SHAPES = [(1, 1), (3, 2), (7, 5), (64, 80), (301, 257)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sigma", [0.6, 2.0, 5.0, 12.0])
def test_gaussian_filter_equals_scipy(shape, sigma):
    rng = np.random.default_rng(sum(shape) + int(10 * sigma))
    image = (rng.random(shape) * 4000).astype(np.float32)
    expected = ndimage.gaussian_filter(image, sigma, mode="nearest", truncate=4.0)
    got = gaussian_filter(image, sigma)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.uint16, np.uint8, np.float64])
def test_gaussian_filter_of_other_dtypes_equals_scipy_on_float32(dtype):
    rng = np.random.default_rng(3)
    image = (rng.random((90, 70)) * 200).astype(dtype)
    expected = ndimage.gaussian_filter(image.astype(np.float32), 2.0, mode="nearest", truncate=4.0)
    np.testing.assert_array_equal(gaussian_filter(image, 2.0), expected)


def test_gaussian_filter_with_other_truncation_and_zero_sigma():
    image = np.random.default_rng(4).random((40, 50)).astype(np.float32)
    expected = ndimage.gaussian_filter(image, 1.5, mode="nearest", truncate=2.5)
    np.testing.assert_array_equal(gaussian_filter(image, 1.5, truncate=2.5), expected)
    np.testing.assert_array_equal(gaussian_filter(image, 0.0), image)


@pytest.mark.parametrize("shape", [(2, 2), (5, 9), (120, 97)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_linear_equals_scipy_map_coordinates(shape, dtype):
    rng = np.random.default_rng(shape[0])
    image = (rng.random(shape) * 1000).astype(dtype)
    n = 2000
    coords = np.vstack([rng.random(n) * (shape[0] - 1), rng.random(n) * (shape[1] - 1)])
    h1, w1 = shape[0] - 1, shape[1] - 1
    corners = np.array([[0, h1, 0, h1, h1 / 2, 0.0], [0, 0, w1, w1, 0.0, w1 / 2]], dtype=float)
    coords = np.hstack([corners, coords, np.round(coords[:, :50])])  # corners, edges, whole pixels
    expected = ndimage.map_coordinates(image, coords, order=1)
    got = interpolate_linear(image, coords)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_interpolate_linear_refuses_points_outside():
    with pytest.raises(ValueError, match="inside"):
        interpolate_linear(np.zeros((4, 4), np.float32), np.array([[0.0, 3.5], [1.0, 1.0]]))


@pytest.mark.parametrize("fraction", [0.0, 0.02, 0.3, 0.5, 0.65, 1.0])
@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (33, 47), (200, 180)])
def test_label_equals_scipy(shape, fraction):
    rng = np.random.default_rng(int(100 * fraction) + shape[1])
    mask = rng.random(shape) < fraction
    expected, n_expected = ndimage.label(mask, output=np.int32)
    got, n = label(mask)
    assert n == n_expected
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)


def test_label_of_snakes_and_rings_equals_scipy():
    # long winding components need many joins between rows; a ring joins two branches late
    mask = np.zeros((60, 60), bool)
    mask[::4, 1:-1] = True
    mask[1::4, -2] = mask[2::4, -2] = True
    mask[3::4, 1] = True
    mask[5:15, 30:40] = True
    mask[8:12, 33:37] = False
    expected, n_expected = ndimage.label(mask, output=np.int32)
    got, n = label(mask)
    assert n == n_expected
    np.testing.assert_array_equal(got, expected)
    blobs = ndimage.gaussian_filter(np.random.default_rng(5).random((300, 300)), 3) > 0.51
    np.testing.assert_array_equal(label(blobs)[0], ndimage.label(blobs, output=np.int32)[0])


def test_field_command_imports_neither_scipy_nor_pandas(tmp_path):
    """The whole ``microscope-qc field`` run (reading, analysis, results.json, CSV, report) needs neither."""
    import tifffile

    from microscope_qc.samples import FlatSampleSpec, make_flat_field

    flat = make_flat_field(FlatSampleSpec(shape=(128, 160), dust_specks=2))
    path = tmp_path / "flat.tif"
    tifffile.imwrite(path, flat.data, photometric="minisblack")
    code = (
        "import sys\n"
        "from microscope_qc.cli import main\n"
        "code = main()\n"
        "print('@loaded', 'scipy' in sys.modules, 'pandas' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    src = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-c", code, "field", str(path), "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode in (0, 3), proc.stderr
    assert "@loaded False False" in proc.stdout
    assert (tmp_path / "out" / "flat" / "profiles.csv").is_file()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [1, 3, 5, 9])
def test_maximum_filter_equals_scipy(shape, size):
    rng = np.random.default_rng(sum(shape) + size)
    image = (rng.random(shape) * 50).astype(np.float32).round()  # ties: plateaus of equal maxima
    expected = ndimage.maximum_filter(image, size=size, mode="nearest")
    got = maximum_filter(image, size)
    assert got.dtype == image.dtype
    np.testing.assert_array_equal(got, expected)


def test_maximum_filter_refuses_even_windows():
    with pytest.raises(ValueError, match="odd"):
        maximum_filter(np.zeros((4, 4), np.float32), 4)


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (5, 7), (32, 40)])
@pytest.mark.parametrize("factor", [(32, 32), (3, 2), (7, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zoom_linear_equals_scipy(shape, factor, dtype):
    rng = np.random.default_rng(shape[0] * 100 + factor[0])
    image = (rng.random(shape) * 1000).astype(dtype)
    out = (shape[0] * factor[0] + (factor[0] % 2), shape[1] * factor[1])  # integer and other ratios
    expected = ndimage.zoom(
        image, (out[0] / shape[0], out[1] / shape[1]), order=1, mode="nearest", grid_mode=True
    )
    assert expected.shape == out
    got = zoom_linear(image, out)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape", [(1, 7), (2, 5), (64, 300)])
def test_uniform_filter3_along_one_axis_equals_scipy_uniform_filter1d(shape):
    rng = np.random.default_rng(shape[0])
    profiles = (rng.random(shape) * 3000).astype(np.float32)
    for axis in (0, 1):
        expected = ndimage.uniform_filter1d(profiles, 3, axis=axis, mode="nearest")
        got = uniform_filter3(profiles, axis)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (3, 5, 7, 9), (20, 13, 11, 11)])
def test_uniform_filter3_of_boxes_equals_scipy_uniform_filter(shape):
    rng = np.random.default_rng(sum(shape))
    boxes = (rng.random(shape) * 60000).astype(np.float32)
    expected = ndimage.uniform_filter(boxes, size=(1, 3, 3, 3), mode="nearest")
    np.testing.assert_array_equal(uniform_filter3(boxes, (1, 2, 3)), expected)

"""TIFFs read through bioio come as one dask chunk per plane, and are read into memory a chunk at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from microscope_qc.array_index import computed
from microscope_qc.array_views import stack_of
from microscope_qc.io import read_image
from microscope_qc.volume import Volume, read


def _stack(tmp_path: Path, shape: tuple[int, ...] = (2, 9, 40, 30)) -> tuple[Path, np.ndarray]:
    """A (C, Z, Y, X) stack written as an ImageJ hyperstack (which orders its axes Z, C, Y, X)."""
    data = np.random.default_rng(0).integers(0, 4000, shape, dtype=np.uint16)
    path = tmp_path / "czyx.tif"
    tifffile.imwrite(path, data.transpose(1, 0, 2, 3), imagej=True, metadata={"axes": "ZCYX"})
    return path, data


def test_bioio_gives_one_chunk_per_plane_and_the_same_pixels(tmp_path):
    path, data = _stack(tmp_path)
    image = read_image(path, reader="bioio")
    assert image.data.chunks[:2] == ((1, 1), (1,) * 9)
    np.testing.assert_array_equal(read(image.data, (slice(None),) * 4), data)
    fast = read_image(path)
    np.testing.assert_array_equal(np.asarray(stack_of(fast.data, 1)), stack_of(image.data, 1))


def test_a_volume_over_plane_chunks_reads_blocks(tmp_path):
    path, data = _stack(tmp_path, (1, 12, 64, 64))
    image = read_image(path, reader="bioio")
    vol = Volume(image.data[0], block_bytes=3 * 64 * 64 * 2)
    assert vol.block_planes == 3 and not isinstance(vol.data, np.ndarray)
    blocks = [block.copy() for _, block in vol.blocks()]
    np.testing.assert_array_equal(np.concatenate(blocks), data[0])
    np.testing.assert_array_equal(vol.max(axis=0), data[0].max(axis=0))


def test_computed_equals_compute_for_any_chunking():
    import dask.array as da

    x = np.arange(7 * 5 * 3, dtype=np.float32).reshape(7, 5, 3)
    for chunks in [(1, 5, 3), (3, 2, 3), (7, 5, 3)]:
        arr = da.from_array(x, chunks=chunks)
        np.testing.assert_array_equal(computed(arr), x)
        np.testing.assert_array_equal(computed(arr[2:5, 1]), x[2:5, 1])


def test_bioio_read_peaks_at_the_stack_not_twice(tmp_path):
    """Reading a bioio TIFF into memory holds the stack and a few planes, traced in a fresh process."""
    path, _ = _stack(tmp_path, (1, 64, 512, 512))  # 32 MiB
    code = (
        "import sys, tracemalloc\n"
        "from microscope_qc.io import read_image\n"
        "from microscope_qc.array_views import stack_of\n"
        "from microscope_qc.volume import read\n"
        "image = read_image(sys.argv[1], reader='bioio')\n"
        "read(image.data, (0, 0))\n"  # the libraries a first read imports are not the read's memory
        "tracemalloc.start()\n"
        "stack = stack_of(image.data, 0)\n"
        "print('@ratio', tracemalloc.get_traced_memory()[1] / stack.nbytes)\n"
    )
    src = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    ratio = float(next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("@ratio")))
    assert ratio <= 1.3, ratio

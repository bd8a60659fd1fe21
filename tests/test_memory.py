"""A stack larger than a set memory limit is analysed within it: the PSF analysis reads it chunk-wise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from microscope_qc.samples import BeadSampleSpec, make_bead_stack

SRC = Path(__file__).resolve().parents[1] / "src"

#: the analysis in a fresh interpreter under tracemalloc (numpy's allocations are traced too)
CHILD = """
import json, sys, tracemalloc
from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.io import read_image
spec = json.loads(sys.argv[2])
ms = (
    MicroscopeSettings()
    .with_values(voxel_size_um=spec["voxel"], na=1.4, immersion_index=1.518, modality="widefield", bead_diameter_um=0.1)
    .with_wavelengths([488], [520])
)
import microscope_qc.volume
microscope_qc.volume.EAGER_BYTES = 0  # the limit is below the stack: nothing may be read whole
tracemalloc.start()
image = read_image(sys.argv[1])
result = analyze_psf(image.data, PSFSettings(microscope=ms))
peak = tracemalloc.get_traced_memory()[1]
accepted = result.beads[result.beads["status"] == "accepted"]
print(json.dumps({
    "peak": peak,
    "reader": type(image.data).__name__,
    "accepted": len(accepted),
    "fwhm": [float(accepted[f"fwhm_{a}_um"].median()) for a in "xyz"],
}))
"""


@pytest.mark.slow
def test_a_stack_larger_than_the_limit_is_analysed_within_it(tmp_path):
    shape = (128, 1024, 1024)  # 256 MiB of uint16
    limit = 96 * 2**20  # 0.375× the stack
    stack = np.empty(shape, np.uint16)
    truth = []
    for k, (ys, xs) in enumerate((slice(a, a + 512), slice(b, b + 512)) for a in (0, 512) for b in (0, 512)):
        tile = make_bead_stack(BeadSampleSpec(shape=(128, 512, 512), n_beads=5, seed=k, hot_pixels=0))
        stack[:, ys, xs] = tile.data
        truth.append(tile.truth)
    path = tmp_path / "large.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    assert stack.nbytes > 2.5 * limit
    del stack
    env = dict(os.environ, PYTHONPATH=str(SRC))
    spec = json.dumps({"voxel": list(BeadSampleSpec().voxel_size_um)})
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), spec], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"peak traced {out['peak'] / 2**20:.0f} MiB for a 256 MiB stack (limit {limit / 2**20:.0f} MiB)")
    assert out["reader"] == "TiffStack"
    assert out["peak"] < limit
    assert out["accepted"] >= 18  # of 20 beads
    spec_ = BeadSampleSpec()
    for got, want in zip(out["fwhm"], (spec_.fwhm_xy_um, spec_.fwhm_xy_um, spec_.fwhm_z_um), strict=True):
        assert got == pytest.approx(want, rel=0.05)

"""Our FRC and decorrelation against NanoPyx's (Henriques lab) on the same synthetic image.

The image: band-limited structure with no content at or above 0.25 cycles/px (resolution 4 px,
``samples.resolution_sample``). Measured when this test was written: FRC 3.86 px here, 3.74 px
NanoPyx (its own smoothing of the curve); decorrelation 3.92 px here, 4.55 px NanoPyx (coarser than
the truth by 14 %; ours is within 2 %). The test holds both to that agreement, and ours to the truth.
Skipped where NanoPyx is not installed (it is in the ``test`` extra).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from microscope_qc.analysis.resolution import ResolutionSettings, analyze_resolution
from microscope_qc.samples import resolution_sample

with warnings.catch_warnings():  # NanoPyx warns on import about missing OpenCL, Numba, CuPy, Dask
    warnings.simplefilter("ignore")
    try:
        from nanopyx.core.analysis.decorr import DecorrAnalysis
        from nanopyx.core.analysis.frc import FIRECalculator
    except Exception as exc:  # noqa: BLE001 - missing, or its OpenCL/Numba stack fails on this machine
        pytest.skip(
            f"nanopyx cannot be imported ({type(exc).__name__}: {exc}); pip install 'napari-microscope-qc[test]'",
            allow_module_level=True,
        )

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample():
    return resolution_sample(size=256, cutoff_cycles_per_px=0.25)


def test_frc_agrees_with_nanopyx(sample):
    ours = analyze_resolution(
        sample.image, ResolutionSettings(local_map=False), pixel_size_um=1.0, pair=sample.pair
    ).metric("resolution_px")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = FIRECalculator(pixel_size=1, units="px").calculate_fire_number(
            sample.image.astype(np.float32), sample.pair.astype(np.float32)
        )
    assert ours.value == pytest.approx(theirs, rel=0.10)
    assert ours.value == pytest.approx(sample.truth["resolution_px"], rel=0.05)


def test_decorrelation_agrees_with_nanopyx(sample):
    ours = analyze_resolution(
        sample.image, ResolutionSettings(method="decorrelation", local_map=False), pixel_size_um=1.0
    ).metric("resolution_px")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = DecorrAnalysis(pixel_size=1, units="px")
        d.run_analysis(sample.image.astype(np.float32))
    assert ours.value == pytest.approx(d.resolution, rel=0.20)
    assert ours.value == pytest.approx(sample.truth["resolution_px"], rel=0.05)

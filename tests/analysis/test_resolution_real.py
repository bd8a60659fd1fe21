"""Decorrelation analysis of real bead images (skipped where the shared real data is absent).

No resolution truth exists for these images, but the optics bound it: an objective transfers no
spatial frequency above 2·NA/λ, so no method can report finer than λ/(2·NA) (the Abbe limit); and
with a bright in-focus bead image the cut-off lies well inside that support, coarser than λ/(2·NA)
by what noise and the OTF's fall towards its edge take (the 200-nm beads of the first image too),
but not by more than twice (λ/NA, about 1.6 times the Rayleigh distance 0.61·λ/NA). Measured when
this test was written: 0.407 µm (NA 0.95, Abbe 0.274 µm) and 0.397 µm (NA 0.85, Abbe 0.306 µm).
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import shared_file

from microscope_qc.analysis.resolution import ResolutionSettings, analyze_resolution

CASES = [
    # file, pixel (µm), emission (nm), NA: from each folder's SOURCE.md
    ("psf-beads-widefield-na095/beads_zstack_34z.tif", 0.108, 520.0, 0.95),
    ("psf-single-bead-air-na085/psf_wl520nm_z300nm_x130nm_na0.85_n1.0.tif", 0.130, 520.0, 0.85),
]


@pytest.mark.parametrize(("relative", "pixel_um", "emission_nm", "na"), CASES)
def test_decorrelation_of_real_beads_lies_within_the_optics_bounds(relative, pixel_um, emission_nm, na):
    import tifffile

    stack = tifffile.imread(shared_file(relative))
    focus = int(np.argmax(stack.reshape(stack.shape[0], -1).max(axis=1)))  # the brightest plane
    r = analyze_resolution(stack[focus], ResolutionSettings(method="decorrelation"), pixel_size_um=pixel_um)
    abbe = emission_nm / 1000 / (2 * na)
    value = r.metric("resolution_um").value
    assert abbe <= value <= 2 * abbe, (value, abbe)
    # the map: every tile holds a bead or its halo; none finer than the optics allow
    m = r.map
    assert m is not None and m.valid.any()
    assert np.nanmin(m.resolution_um) >= abbe

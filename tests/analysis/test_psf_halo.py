"""A single bright bead with a wide defocus halo is one bead; a neighbour is a real second bead.

Before the detector ignored halos, noise on a bright bead's out-of-focus cone and rings became
candidates 2–5 µm from it, and the bead itself was rejected as "too close to a neighbour".
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import shared_file
from tests.widefield_psf import widefield_psf

from microscope_qc.analysis.psf import PSFSettings, analyze_psf, find_beads
from microscope_qc.instrument import MicroscopeSettings

VOXEL = (0.2, 0.1, 0.1)
SHAPE = (31, 160, 160)  # 63×/1.4 oil, ±3 µm


def _settings(**kw) -> PSFSettings:
    ms = (
        MicroscopeSettings()
        .with_values(voxel_size_um=VOXEL, na=1.4, immersion_index=1.515, modality="widefield")
        .with_wavelengths(None, [520])
    )
    return PSFSettings(microscope=ms, **kw)


@pytest.fixture(scope="module")
def bright_psf():
    return widefield_psf(SHAPE, VOXEL, (15.3, 80.2, 79.6))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("box_um", [None, 4.0])
def test_single_bright_bead_with_halo_is_accepted(bright_psf, seed, box_um):
    data = np.random.default_rng(seed).poisson(100 + 40000 * bright_psf).astype(np.uint16)
    r = analyze_psf(data, _settings(box_xy_um=box_um))
    b = r.beads
    assert len(b) == 1, b[["z_px", "y_px", "x_px", "status", "reason"]]
    assert b["status"].iloc[0] == "accepted", b[["reason", "reason_detail"]]
    assert r.metric("n_accepted").value == 1


def test_genuinely_close_beads_are_neighbours():
    """Two beads 1.2 µm apart, one a quarter as bright, both in focus: both rejected as neighbours."""
    psf = widefield_psf(SHAPE, VOXEL, (15, 80, 74)) + 0.25 * widefield_psf(SHAPE, VOXEL, (15, 80, 86))
    data = np.random.default_rng(0).poisson(100 + 20000 * psf).astype(np.uint16)
    b = analyze_psf(data, _settings()).beads
    assert len(b) == 2
    assert (b["reason"] == "too close to a neighbour").all(), b[["x_px", "reason", "reason_detail"]]


def test_a_dim_bead_inside_the_halo_is_a_neighbour(bright_psf):
    """A bead 1/40 as bright, 1.5 µm away and 1 µm deeper, is a real second bead in the halo."""
    dim = widefield_psf(SHAPE, VOXEL, (10.3, 80.2, 94.6))
    data = np.random.default_rng(0).poisson(100 + 40000 * bright_psf + 1000 * dim).astype(np.uint16)
    b = analyze_psf(data, _settings()).beads
    assert len(b) == 2, b[["z_px", "y_px", "x_px"]]
    assert (b["reason"] == "too close to a neighbour").all()


@pytest.mark.parametrize(
    ("relative", "voxel", "optics", "box_um"),
    [
        (
            "psf-single-bead-air-na085/psf_wl520nm_z300nm_x130nm_na0.85_n1.0.tif",
            (0.3, 0.13, 0.13),
            {"na": 0.85, "immersion_index": 1.0, "modality": "widefield"},
            6.0,  # a box wide enough to reach the halo candidate 4.8 µm away the detector used to report
        ),
        ("psf-single-bead-lightsheet/BIL113_zstack_z300nm_current.tif", (0.3, 0.0867, 0.0867), {}, None),
    ],
)
def test_real_single_bead_stacks_have_one_bead(relative, voxel, optics, box_um):
    from microscope_qc.io import read_image

    data = np.asarray(read_image(shared_file(relative)).data)[0]
    ms = MicroscopeSettings().with_values(voxel_size_um=voxel, **optics)
    if optics:
        ms = ms.with_wavelengths(None, [520])
    s = PSFSettings(microscope=ms, box_xy_um=box_um)
    cand = find_beads(data, s)
    bead = cand[0]
    lateral_um = np.hypot(*((cand[1:, 1:] - bead[1:]) * voxel[1]).T)
    assert not np.any(lateral_um < 6.0), cand  # nothing else within 6 µm of the bead: no halo candidates
    b = analyze_psf(data, s).beads
    assert (b["status"] == "accepted").sum() == 1, b[["z_px", "y_px", "x_px", "reason", "reason_detail"]]

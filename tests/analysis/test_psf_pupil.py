"""Pupil phase retrieval (issue 17, optional): known Zernike amplitudes back from simulated stacks, and pyotf."""

from __future__ import annotations

import numpy as np
import pytest
from tests.zernike_psf import zernike_stack

from microscope_qc.analysis.psf.pupil import NOLL_NAMES, retrieve_zernikes

TRUTH = {"astig_vertical": 0.05, "coma_horizontal": 0.04, "spherical": 0.03}
#: the Noll index of each term of tests/zernike_psf.py
NOLL = {"astig_oblique": 5, "astig_vertical": 6, "coma_vertical": 7, "coma_horizontal": 8, "spherical": 11}


def _expected():
    out = np.zeros(11)
    for name, value in TRUTH.items():
        out[NOLL[name] - 1] = value
    return out


@pytest.fixture(scope="module")
def stack():
    return zernike_stack(TRUTH, n_beads=3, photons=200000, background=20, seed=5)


def test_known_zernike_amplitudes_are_recovered(stack):
    """Noll 5–11 within 0.02 waves RMS of the truth (measured: ≈ 0.002), with a standard error from the beads."""
    data, truth = stack
    beads = np.column_stack([truth["z_px"], truth["y_px"], truth["x_px"]])
    r = retrieve_zernikes(data, beads, (0.1, 0.065, 0.065), 1.4, 1.518, 0.52, iterations=40)
    err = r.mean[4:] - _expected()[4:]
    print({NOLL_NAMES[k + 5]: (round(r.mean[k + 4], 4), round(r.se[k + 4], 4)) for k in range(7)})
    assert r.per_bead.shape == (3, 11)
    assert float(np.sqrt(np.mean(err**2))) < 0.02
    assert np.abs(err).max() < 0.02
    assert np.isfinite(r.se[4:]).all() and (r.se[4:] < 0.01).all()
    assert r.aberration_rms_waves == pytest.approx(np.sqrt(0.05**2 + 0.04**2 + 0.03**2), abs=0.01)


def test_agrees_with_pyotf(stack):
    """pyotf's Hanser retrieval of the same bead gives the same astigmatism and coma within 0.01 waves.

    pyotf's phase is in radians on Noll-normalised Zernikes; it takes the box's middle plane as the focus,
    so part of the bead's sub-plane focus offset shows there as defocus and spherical (hence 0.02 for Z11).
    """
    import pyotf.phaseretrieval as pr

    data, truth = stack
    zc, yc, xc = (int(round(truth[k][0])) for k in ("z_px", "y_px", "x_px"))
    box = data[zc - 20 : zc + 21, yc - 32 : yc + 32, xc - 32 : xc + 32].astype(float)
    box -= np.median(box[:, 0, :])
    res = pr.retrieve_phase(
        box,
        dict(wl=520, na=1.4, ni=1.518, res=65, zres=100),
        max_iters=60,
        pupil_tol=0,
        mse_tol=0,
        phase_only=True,
    )
    theirs = res.fit_to_zernikes(11).pcoefs / (2 * np.pi)
    ours = retrieve_zernikes(
        data,
        np.array([[truth["z_px"][0], truth["y_px"][0], truth["x_px"][0]]]),
        (0.1, 0.065, 0.065),
        1.4,
        1.518,
        0.52,
    ).mean
    print("pyotf", np.round(theirs, 4), "ours", np.round(ours, 4))
    for noll in (5, 6, 7, 8):
        assert theirs[noll - 1] == pytest.approx(ours[noll - 1], abs=0.01)
    assert theirs[10] == pytest.approx(ours[10], abs=0.02)


def test_a_box_outside_the_stack_is_an_error():
    with pytest.raises(ValueError, match="fit inside"):
        retrieve_zernikes(
            np.zeros((10, 20, 20)), np.array([[5, 10, 10]]), (0.1, 0.065, 0.065), 1.4, 1.518, 0.52
        )

"""NumPy J0/J1 (analysis.psf.bessel) against scipy.special, and the FFT lengths of the average bead."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import fft, special

from microscope_qc.analysis.psf.bessel import j0_j1
from microscope_qc.analysis.psf.maps import next_fast_len


@pytest.mark.parametrize("x_max", [1e-6, 1.0, 10.0, 60.0, 200.0, 1000.0])
def test_j0_j1_equal_scipy_special(x_max):
    x = np.concatenate(
        [np.linspace(0.0, x_max, 5001), -np.linspace(0.0, x_max, 101), [1e-300, 2.404825557695773]]
    )
    j0, j1 = j0_j1(x)
    np.testing.assert_allclose(j0, special.j0(x), rtol=0, atol=1e-14)
    np.testing.assert_allclose(j1, special.j1(x), rtol=0, atol=1e-14)
    big = np.abs(special.j0(x)) > 1e-3  # away from the zeros also relatively
    np.testing.assert_allclose(j0[big], special.j0(x)[big], rtol=1e-11)


def test_j0_j1_keep_the_shape_and_refuse_infinities():
    x = np.random.default_rng(0).random((7, 120)) * 40
    j0, j1 = j0_j1(x)
    assert j0.shape == j1.shape == x.shape
    assert j0_j1(np.zeros(0))[0].shape == (0,)
    with pytest.raises(ValueError, match="finite"):
        j0_j1(np.array([1.0, np.inf]))


def test_next_fast_len_equals_scipy_for_real_transforms():
    assert [next_fast_len(n) for n in range(1, 2000)] == [
        fft.next_fast_len(n, real=True) for n in range(1, 2000)
    ]

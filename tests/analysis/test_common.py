"""The helpers every analysis shares (analysis/_common.py)."""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.analysis._common import as_czyx, check_cancel, select_channels
from microscope_qc.results import AnalysisCancelled, AnalysisError


def test_check_cancel():
    check_cancel(None, "X")
    check_cancel(lambda: False, "X")
    with pytest.raises(AnalysisCancelled, match="PSF analysis cancelled"):
        check_cancel(lambda: True, "PSF analysis")


def test_as_czyx_zyx_like_psf():
    stack = np.zeros((5, 8, 9))
    czyx, n = as_czyx(stack, "PSF analysis")
    assert czyx.shape == (1, 5, 8, 9) and n == 1
    czyx, n = as_czyx(np.zeros((2, 5, 8, 9)), "PSF analysis")
    assert czyx.shape == (2, 5, 8, 9) and n == 2
    msg = "PSF analysis needs a z-stack through the beads (Z, Y, X), but got a 2D image <shape>."
    with pytest.raises(AnalysisError, match=r"got a 2D image \(8, 9\)"):
        as_czyx(np.zeros((8, 9)), "PSF analysis", plane_message=msg)
    with pytest.raises(AnalysisError, match="PSF analysis takes .* 5 dimensions .* time point"):
        as_czyx(np.zeros((1, 2, 3, 4, 5)), "PSF analysis")


def test_as_czyx_cyx_and_lists():
    czyx, n = as_czyx(np.zeros((3, 8, 9)), "Co-registration", three_d="cyx")
    assert czyx.shape == (3, 1, 8, 9) and n == 3
    czyx, n = as_czyx([np.zeros((8, 9)), np.ones((8, 9))], "Co-registration", three_d="cyx")
    assert czyx.shape == (2, 1, 8, 9) and n == 2 and czyx[1].max() == 1
    with pytest.raises(AnalysisError, match="different shapes"):
        as_czyx([np.zeros((8, 9)), np.zeros((8, 8))], "Co-registration")


def test_select_channels():
    assert select_channels(None, 3) == [0, 1, 2]
    assert select_channels([2, 0, 2], 3) == [2, 0]
    with pytest.raises(AnalysisError, match=r"\[3\] do not exist"):
        select_channels([3], 3)
    with pytest.raises(AnalysisError, match="whole numbers"):
        select_channels([1.5], 3)
    with pytest.raises(AnalysisError, match="No channel"):
        select_channels([], 3)

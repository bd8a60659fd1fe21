"""A value with its uncertainty, as the CLI and the docks print it (report.numbers)."""

from __future__ import annotations

import math

import pytest

from microscope_qc.report.numbers import with_uncertainty


@pytest.mark.parametrize(
    ("value", "uncertainty", "text"),
    [
        (0.26312, 0.00041, "0.26312 ± 0.00041"),  # a tiny SE is shown, never rounded to "± 0.000"
        (0.6675, 0.0025, "0.6675 ± 0.0025"),
        (131.4, 12.3, "131 ± 12"),
        (24.0, None, "24"),  # a count: exact
        (0.5, 0.0, "0.500"),  # an exact value is printed alone
        (0.5, math.nan, "0.500"),  # not estimated: no "± nan", no "± 0"
        (2.5e7, 1.2e5, "2.5e+07 ± 1.2e+05"),
        (math.nan, 0.1, "—"),
    ],
)
def test_uncertainty_has_two_significant_digits_and_the_value_its_place(value, uncertainty, text):
    assert with_uncertainty(value, uncertainty) == text


def test_never_prints_plus_minus_zero():
    for se in (1e-9, 3e-6, 0.00049, 0.004):
        assert "± 0.0" + "0" * 8 not in with_uncertainty(0.263, se)
        assert not with_uncertainty(0.263, se).endswith("± 0")

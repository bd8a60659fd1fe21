"""A Result with known numbers, to record in the QC-history tests."""

from __future__ import annotations

from microscope_qc.instrument import Setting
from microscope_qc.results import Metric, Result, Verdict


def fake_result(value: float, passed: bool = True, measurement: str = "psf", unc: float = 0.005) -> Result:
    r = Result(measurement=measurement)
    r.metrics = [
        Metric("fwhm_x_um", value, "um", unc, 0, "x"),
        Metric("fwhm_y_um", value * 1.02, "um", unc, 0, "y"),
        Metric("fwhm_z_um", value * 3, "um", 3 * unc, 0, "z"),
        Metric("n_accepted", 25, None, None, 0, "n"),
    ]
    r.verdicts = [Verdict("fwhm_x_ratio", passed, value / 0.19, 1.5, "<=", "default (MetroloJ_QC)", 0)]
    r.settings = {"na": Setting(1.4, None, "file", "OME Objective.LensNA")}
    r.warnings = ["a warning"]
    return r

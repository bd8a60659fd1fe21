"""What the resolution dock plots, built from a result in the worker (no Qt): the FRC curve with
its two thresholds, or the decorrelation curves with their peaks, against spatial frequency, the
cut-off frequency marked."""

from __future__ import annotations

from typing import Any

import numpy as np

from microscope_qc.analysis.resolution import ResolutionResult

__all__ = ["resolution_plot"]

_FILTERED = ("#56b6c2", "#4aa3ff", "#c678dd", "#9a9a9a")


def _cutoff_marker(result: ResolutionResult) -> list[tuple[str, str, float]]:
    m = {x.name: x.value for x in result.metrics}
    f = m.get("cutoff_frequency_per_um")
    return [] if f is None or not np.isfinite(f) else [(f"cut-off ({1 / f:.3g} µm)", "#3ccf6e", float(f))]


def resolution_plot(result: ResolutionResult) -> tuple:
    """``(title, curves, x label, y label, options)`` for :meth:`LinePlot.set_curves`."""
    table = result.curve
    f = table["frequency_per_um"].to_numpy(float)
    options: dict[str, Any] = {"markers": _cutoff_marker(result), "data_units": True}
    if result.method == "decorrelation":
        curves: list[tuple[str, str, Any, Any]] = []
        n = int(table["curve"].max()) + 1 if len(table) else 0
        for k in range(n):
            rows = table[table["curve"] == k]
            x, d = rows["frequency_per_um"].to_numpy(float), rows["d"].to_numpy(float)
            if k == 0:
                curves.append(("d(r), unfiltered", "#f5c211", x, d))
            else:  # the high-pass filtered curves: one legend entry for all
                curves.append(
                    ("d(r), high-pass filtered" if k == 1 else "", _FILTERED[k % len(_FILTERED)], x, d)
                )
        peaks = result.tables.get("peaks")
        if peaks is not None and len(peaks):
            ok = peaks["kc"].to_numpy(float) > 0
            curves.append(
                (
                    "peaks",
                    "#ff5555",
                    peaks["frequency_per_um"].to_numpy(float)[ok],
                    peaks["amplitude"].to_numpy(float)[ok],
                )
            )
            options["scatter"] = ("peaks",)
        return "Decorrelation curves (Descloux et al. 2019)", curves, "spatial frequency (1/µm)", "d", options
    curves = []  # the sector curves first: the whole-ring FRC is painted over them
    for column, label, colour in (("frc_x", "FRC along x", "#c678dd"), ("frc_y", "FRC along y", "#e8743d")):
        if column in table.columns:
            curves.append((label, colour, f, table[column].to_numpy(float)))
    if "frc_split" in table.columns:
        curves.append(("FRC of the half-photon images", "#56b6c2", f, table["frc_split"].to_numpy(float)))
    curves.append(("FRC", "#4aa3ff", f, table["frc"].to_numpy(float)))
    curves += [
        ("1/7 threshold", "#9a9a9a", f, table["threshold_1_7"].to_numpy(float)),
        ("half-bit threshold", "#f5c211", f, table["threshold_half_bit"].to_numpy(float)),
    ]
    options["y_range"] = (-0.1, 1.05)
    options["x_range"] = (0.0, float(np.nanmax(f)) if f.size else 1.0)
    return "Fourier ring correlation", curves, "spatial frequency (1/µm)", "FRC", options

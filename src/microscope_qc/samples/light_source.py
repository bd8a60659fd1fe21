"""Synthetic power-meter logs and a uniform-sample image series with known truth (QUAREP WG1).

- ``light_source_log_sample``: a 2 h log in watts, Thorlabs Optical Power Monitor columns: an
  exponential warm-up, then a slow sinusoidal ripple and a linear drift;
- ``light_source_pulsed_sample``: three lasers interleaved and pulsed (on, off, next laser),
  QUAREP tool-kit style columns (semicolon, decimal comma, wavelength, set-point, temperature);
- ``light_source_linearity_sample``: one laser stepped through 12 set-points (1–100 %);
- ``light_source_series_sample``: an image series of a uniform sample whose brightness ripples
  by a known amount, with a camera offset (dark level).

The truth of each is in its ``truth`` dict; values defined on the noise-free model say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "LogSample",
    "ImageSeriesSample",
    "light_source_log_sample",
    "light_source_pulsed_sample",
    "light_source_linearity_sample",
    "light_source_series_sample",
    "napari_light_source_log",
    "napari_light_source_pulsed",
    "napari_light_source_linearity",
    "napari_light_source_series",
]

LayerDataTuple = tuple[npt.NDArray[Any], dict[str, Any], str]


@dataclass
class LogSample:
    """A power-meter log as text, with its truth."""

    text: str
    truth: dict[str, Any]


@dataclass
class ImageSeriesSample:
    """(T, 1, 1, Y, X) frames of a uniform sample, the dark level, the frame interval and the truth."""

    data: npt.NDArray[np.uint16]
    dark_level: float
    frame_interval_s: float
    truth: dict[str, Any]


def _warmup_truth(
    t: npt.NDArray[np.float64], p: npt.NDArray[np.float64], band: float, window: float
) -> float:
    """The warm-up definition applied to the noise-free model readings."""
    plateau = p[t >= t[-1] * (1 - window / 100.0)].mean()
    bad = np.flatnonzero(np.abs(p - plateau) > plateau * band / 100.0)
    return 0.0 if bad.size == 0 else float(t[bad[-1] + 1])


def light_source_log_sample(
    seed: int = 0,
    warmup: float = 0.05,
    tau_s: float = 300.0,
    ripple: float = 0.002,
    drift_per_h: float = 0.005,
    noise: float = 1e-4,
) -> LogSample:
    """A 2 h log at 5 s: 5 % exponential warm-up (τ = 300 s), 0.2 % ripple (600 s), +0.5 %/h drift.

    Parameters
    ----------
    seed : int
        Random seed of the 0.01 % reading noise.
    warmup, tau_s : float
        The warm-up: the power starts ``warmup`` (fraction) low and rises with time constant ``tau_s``.
    ripple : float
        Relative amplitude of a 600 s ripple.
    drift_per_h : float
        Relative drift per hour.
    noise : float
        Relative SD of the reading noise.

    Returns
    -------
    LogSample
        Power in W, Thorlabs Optical Power Monitor column names; truth: warm-up (noise-free model,
        ±1 % band, last 10 %), drift in %/h of the level, the ripple amplitude.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 7200.0, 5.0)
    p0 = 2.5  # mW
    model = (
        p0
        * (1 - warmup * np.exp(-t / tau_s))
        * (1 + ripple * np.sin(2 * np.pi * t / 600.0))
        * (1 + drift_per_h * t / 3600)
    )
    p = model * (1 + noise * rng.standard_normal(t.size))
    start = datetime(2026, 3, 2, 9, 0, 0)
    lines = [
        "Thorlabs Optical Power Monitor, PM100D, S120C",
        "Wavelength: 488 nm",
        "",
        "Samples,Date (MM/dd/yyyy),Time of day (hh:mm:ss) ,Power (W)",
    ]
    for i, (ti, pi) in enumerate(zip(t, p, strict=True)):
        when = start + timedelta(seconds=float(ti))
        lines.append(f"{i + 1},{when:%m/%d/%Y},{when:%H:%M:%S}.000,{pi * 1e-3:.6E}")
    truth = {
        "wavelength_nm": 488.0,
        "sampling_interval_s": 5.0,
        "warmup_time_s": _warmup_truth(t, model, 1.0, 10.0),
        "drift_percent_per_h_of_level": 100 * drift_per_h,
        "ripple_amplitude_percent": 100 * ripple,
        "level_mw": p0,
        "noise_percent": 100 * noise,
    }
    return LogSample("\n".join(lines) + "\n", truth)


def light_source_pulsed_sample(seed: int = 0) -> LogSample:
    """Three lasers (405, 488, 561 nm) interleaved: each on for 20 readings, then 4 off, at 0.5 s.

    Each laser's power ripples by a known amplitude, so its stability is known:
    S = 100·(1 − amplitude).

    Parameters
    ----------
    seed : int
        Random seed of the 0.002 % reading noise.

    Returns
    -------
    LogSample
        QUAREP tool-kit style columns (semicolons, decimal commas); truth per wavelength: level
        (mW), stability (%), and the plateau count.
    """
    rng = np.random.default_rng(seed)
    lasers = {405.0: (1.2, 0.004), 488.0: (3.0, 0.006), 561.0: (0.8, 0.002)}
    rows = [
        "# QUAREP-LiMi WG1 power log (synthetic)",
        "Time [s];Wavelength [nm];Setpoint [%];Power [mW];Temperature [°C]",
    ]
    t = 0.0
    cycles = 30
    for k in range(cycles):
        for wl, (level, amp) in lasers.items():
            for j in range(24):
                on = j < 20
                phase = 2 * np.pi * (k * 24 + j) / (cycles * 24 / 3)
                p = (
                    level * (1 + amp * math.sin(phase)) * (1 + 2e-5 * rng.standard_normal())
                    if on
                    else 1e-4 * rng.random()
                )
                rows.append(f"{t:.1f};{wl:.0f};50;{p:.6f};{24.0 + 0.2 * t / 1000:.2f}".replace(".", ","))
                t += 0.5
    truth = {
        str(int(wl)): {"level_mw": lv, "stability_percent": 100 * (1 - amp), "n_plateaus": cycles}
        for wl, (lv, amp) in lasers.items()
    }
    return LogSample("\n".join(rows) + "\n", {"lasers": truth, "sampling_interval_s": 0.5})


def light_source_linearity_sample(seed: int = 0) -> LogSample:
    """One laser at 12 set-points (1–100 %), 30 readings each at 1 s: power = 0.012 + 0.0487·set-point mW.

    Parameters
    ----------
    seed : int
        Random seed of the 0.05 % reading noise.

    Returns
    -------
    LogSample
        SmartLPM-style columns; truth: slope (mW/%), intercept (mW), the set-points.
    """
    rng = np.random.default_rng(seed)
    setpoints = [1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 85, 100]
    slope, intercept = 0.0487, 0.012
    rows = ["SmartLPM export (synthetic)", "Elapsed time (s),Set point (%),Power (mW)"]
    t = 0
    for sp in setpoints:
        for _ in range(30):
            p = (intercept + slope * sp) * (1 + 5e-4 * rng.standard_normal())
            rows.append(f"{t},{sp},{p:.6f}")
            t += 1
    return LogSample(
        "\n".join(rows) + "\n",
        {"slope_mw_per_percent": slope, "intercept_mw": intercept, "setpoints": setpoints},
    )


def light_source_series_sample(seed: int = 0) -> ImageSeriesSample:
    """60 frames (2 s apart) of a uniform sample, 2000 counts above a 100-count offset, rippling by 1 %.

    Parameters
    ----------
    seed : int
        Random seed of the shot and read noise.

    Returns
    -------
    ImageSeriesSample
        (T, 1, 1, 64, 64) uint16 frames; truth: stability of the dark-subtracted mean (noise-free
        model) and the ripple.
    """
    rng = np.random.default_rng(seed)
    n, interval, dark = 60, 2.0, 100.0
    t = np.arange(n) * interval
    level = 2000.0 * (1 + 0.01 * np.sin(2 * np.pi * t / 40.0))
    yy, xx = np.mgrid[0:64, 0:64]
    shading = 1 - 0.1 * (((yy - 32) ** 2 + (xx - 32) ** 2) / 32**2)
    frames = np.empty((n, 1, 1, 64, 64), np.uint16)
    for i in range(n):
        img = rng.poisson(level[i] * shading) + dark + rng.normal(0, 2, shading.shape)
        frames[i, 0, 0] = np.clip(np.round(img), 0, 65535).astype(np.uint16)
    mean = level * shading.mean()
    s = 100 * (1 - (mean.max() - mean.min()) / (mean.max() + mean.min()))
    truth = {
        "stability_percent": float(s),
        "mean_level_counts": float(mean.mean()),
        "ripple_percent": 1.0,
        "frame_interval_s": interval,
        "dark_level": dark,
    }
    return ImageSeriesSample(frames, dark, interval, truth)


def _trace_layer(sample: LogSample, name: str) -> list[LayerDataTuple]:
    """A log as napari sees it: its power trace as a one-row image, the log's text in the metadata."""
    from microscope_qc.analysis.light_source import parse_power_log

    log = parse_power_log(sample.text, name)
    meta = {"power_log_text": sample.text, "truth": sample.truth}
    return [
        (log.power[None, :].astype(np.float32), {"name": name, "metadata": meta, "colormap": "gray"}, "image")
    ]


def napari_light_source_log() -> list[LayerDataTuple]:
    """The napari sample: a 2 h power log (the trace as a one-row image; the log text in its metadata)."""
    return _trace_layer(light_source_log_sample(), "power log (synthetic)")


def napari_light_source_pulsed() -> list[LayerDataTuple]:
    """The napari sample: three interleaved pulsed lasers (trace image; log text in the metadata)."""
    return _trace_layer(light_source_pulsed_sample(), "pulsed lasers log (synthetic)")


def napari_light_source_linearity() -> list[LayerDataTuple]:
    """The napari sample: a set-point series for the linearity fit (trace image; log text in the metadata)."""
    return _trace_layer(light_source_linearity_sample(), "linearity log (synthetic)")


def napari_light_source_series() -> list[LayerDataTuple]:
    """The napari sample: an image series of a uniform sample, (T, Y, X), with its dark level in the metadata."""
    s = light_source_series_sample()
    meta = {"dark_level": s.dark_level, "frame_interval_s": s.frame_interval_s, "truth": s.truth}
    return [(s.data[:, 0, 0], {"name": "uniform sample series (synthetic)", "metadata": meta}, "image")]

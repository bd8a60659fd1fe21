"""``analyze_light_source``: power and stability of a light source from a power-meter log or an image series."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.light_source.channel import PLATEAU_COLUMNS, analyze_channel
from microscope_qc.analysis.light_source.powerlog import PowerLog, check_order
from microscope_qc.analysis.light_source.result import LightSourceResult
from microscope_qc.analysis.light_source.series import log_from_frames
from microscope_qc.analysis.light_source.settings import LightSourceSettings
from microscope_qc.instrument import Setting, Source
from microscope_qc.results import AnalysisError, CancelCheck, Comparison, Limits, ProgressCallback, Verdict
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_light_source", "log_from_frames"]


def _channels(
    log: PowerLog, keep: npt.NDArray[np.bool_], problems: list[tuple[int, str]]
) -> npt.NDArray[np.int_]:
    """Channel per reading (by wavelength, increasing), −1 where the wavelength is missing."""
    rows = log.rows if log.rows is not None else np.arange(1, log.t_s.size + 1)
    ch = np.zeros(log.t_s.size, dtype=int)
    if log.wavelength_nm is None:
        return ch
    w = np.round(log.wavelength_nm, 1)
    missing = ~np.isfinite(w)
    for i in np.flatnonzero(missing & keep):
        problems.append((int(rows[i]), "no wavelength in a log with a wavelength column"))
    keep &= ~missing
    values = sorted(set(w[~missing].tolist()))
    return np.asarray([values.index(v) if np.isfinite(v) else -1 for v in w], dtype=int)


def analyze_light_source(
    data: PowerLog | Any,
    settings: LightSourceSettings | None = None,
    *,
    frame_interval_s: float | None = None,
    dark: Any = None,
    wavelength_nm: float | None = None,
    previous_power: Mapping[int, float] | float | None = None,
    previous_source: str = "the previous record",
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> LightSourceResult:
    """Stability, CV, drift, warm-up, plateaus, linearity and Allan deviation of a light source.

    Parameters
    ----------
    data : PowerLog or array_like
        A parsed power-meter log (:func:`~microscope_qc.analysis.light_source.parse_power_log`), or
        an image time series (T, ...) of a uniform sample: its dark-subtracted mean per frame is
        analysed as a relative power (counts).
    settings : LightSourceSettings, optional
        The analysis settings (defaults if None).
    frame_interval_s : float, optional
        Time between frames of an image series.
    dark : array_like or float, optional
        Dark frame or level subtracted from each frame of an image series.
    wavelength_nm : float, optional
        The wavelength of a log without a wavelength column (recorded, not used in numbers).
    previous_power : float or mapping of int to float, optional
        The mean power of the previous record (per channel, or for channel 0); gives
        ``power_change_percent``.
    previous_source : str
        Where ``previous_power`` came from (for the metric's description).
    limits : Limits, optional
        Facility limits, replacing the default verdicts.
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    LightSourceResult
        Metrics per channel (wavelength), the readings, plateaus, Allan and problems tables.

    Raises
    ------
    AnalysisError
        Fewer than 3 usable readings, every reading off, bad image-series input.
    """
    settings = settings or LightSourceSettings()
    validate_settings(settings)
    log = data if isinstance(data, PowerLog) else log_from_frames(data, frame_interval_s, dark)
    check_cancel(cancel, "Light-source analysis")
    keep, problems = check_order(log)
    problems = sorted([*log.skipped, *problems])
    ch = _channels(log, keep, problems)
    if keep.sum() < 3:
        raise AnalysisError(
            f"{log.name}: {int(keep.sum())} usable reading(s); the analysis needs at least 3."
        )
    result = LightSourceResult(unit=log.unit)
    result.settings.update(settings.analysis_settings())
    result.settings["input"] = Setting(log.source_format, None, Source.FILE)
    if log.start:
        result.settings["log_start"] = Setting(log.start, None, Source.FILE)
    result.warnings.extend(log.notes)
    if problems:
        shown = "; ".join(f"row {r}: {p}" for r, p in problems[:5])
        more = f" (and {len(problems) - 5} more, in problems.csv)" if len(problems) > 5 else ""
        result.warnings.append(f"{len(problems)} reading(s) left out, the rest analysed: {shown}{more}.")
    n_ch = int(ch[keep].max()) + 1 if keep.any() else 0
    wl_values = (
        sorted(set(np.round(log.wavelength_nm[np.isfinite(log.wavelength_nm)], 1).tolist()))
        if log.wavelength_nm is not None
        else [wavelength_nm if wavelength_nm is not None else log.declared_wavelength_nm]
    )
    frames: list[pd.DataFrame] = []
    plateau_rows: list[dict[str, Any]] = []
    allan_rows: list[dict[str, Any]] = []
    next_plateau = 0
    for c in range(n_ch):
        check_cancel(cancel, "Light-source analysis")
        if progress is not None:
            progress(c / max(n_ch, 1), f"light {c + 1} of {n_ch}")
        sel = np.flatnonzero(keep & (ch == c))
        readings, plateaus, allan, next_plateau = analyze_channel(
            result, log, sel, c, wl_values[c], settings, next_plateau, previous_power, previous_source
        )
        frames.append(readings)
        plateau_rows.extend(plateaus)
        allan_rows.extend(allan)
    result.wavelengths_nm = list(wl_values)
    result.tables["readings"] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    result.tables["plateaus"] = pd.DataFrame(plateau_rows, columns=PLATEAU_COLUMNS)
    result.tables["allan"] = pd.DataFrame(allan_rows, columns=["channel", "tau_s", "adev_percent", "n_terms"])
    result.tables["problems"] = pd.DataFrame(problems, columns=["row", "problem"])
    _verdicts(result, settings)
    if limits is not None:
        limits.apply(result)
    if progress is not None:
        progress(1.0, "done")
    return result


def _verdicts(result: LightSourceResult, s: LightSourceSettings) -> None:
    checks: tuple[tuple[str, float | None, Comparison], ...] = (
        ("cv_percent", s.max_cv_percent, "<="),
        ("stability_after_warmup_percent", s.min_stability_percent, ">="),
    )
    for name, limit, comparison in checks:
        if limit is None:
            continue
        for metric in [x for x in result.metrics if x.name == name]:
            result.verdicts.append(
                Verdict.check(name, metric.value, limit, comparison, "user", metric.channel)
            )

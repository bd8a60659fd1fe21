"""``analyze_resolution``: image resolution without beads, by FRC or decorrelation analysis."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.resolution.decorrelation import DecorrelationCurves, decorrelation_analysis
from microscope_qc.analysis.resolution.fourier import check_image
from microscope_qc.analysis.resolution.frc import (
    ONE_SEVENTH,
    FRCCurve,
    binomial_split,
    frc_curve,
    half_bit_threshold,
    threshold_crossing,
)
from microscope_qc.analysis.resolution.local import ResolutionMap, local_decorrelation, local_frc
from microscope_qc.analysis.resolution.result import ResolutionResult
from microscope_qc.analysis.resolution.settings import ResolutionSettings
from microscope_qc.analysis.resolution.theory import ABBE_LABEL, abbe_resolution_um
from microscope_qc.instrument import Setting, SettingsError, Source
from microscope_qc.results import CancelCheck, Limits, Metric, ProgressCallback
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_resolution", "choose_method"]


def choose_method(settings: ResolutionSettings, has_pair: bool) -> str:
    """The analysis a run performs: ``"frc"``, ``"frc-split"`` or ``"decorrelation"``.

    Parameters
    ----------
    settings : ResolutionSettings
        ``method`` and the conversion gain.
    has_pair : bool
        Whether a second image of the same field was given.

    Returns
    -------
    str
        The method.

    Raises
    ------
    SettingsError
        FRC asked for with neither a second image nor a conversion gain.
    """
    if settings.method == "decorrelation":
        return "decorrelation"
    if has_pair:
        return "frc"
    if settings.conversion_gain_e_per_dn is not None:
        return "frc-split"
    if settings.method == "frc":
        raise SettingsError(
            "FRC needs two independent images of the same field: give {pair}, or {conversion_gain_e_per_dn} "
            "(and the offset) to split this one photon by photon; or use {method} decorrelation."
        )
    return "decorrelation"


def _add(result: ResolutionResult, name: str, value: float, unit: str | None, description: str) -> None:
    result.metrics.append(Metric(name, float(value), unit, None, result.channel, description))


def _frc_table(curve: FRCCurve, pixel_um: float, split: npt.NDArray[np.float64] | None) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "frequency_per_um": curve.frequency / pixel_um,
            "frc": curve.frc,
            "threshold_1_7": np.full(curve.frc.size, ONE_SEVENTH),
            "threshold_half_bit": half_bit_threshold(curve.n_pixels),
            "n_pixels": curve.n_pixels,
        }
    )
    if split is not None:
        table.insert(2, "frc_split", split)
    return table


def _frc(
    result: ResolutionResult, curve: FRCCurve, settings: ResolutionSettings, pixel_um: float
) -> float | None:
    """Add the FRC metrics; return the chosen threshold's crossing (cycles/px) or None."""
    frc = curve.frc
    split = None
    correct = result.method == "frc-split" and settings.split_correction

    def corrected(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 2.0 * c / (1.0 + np.maximum(c, -0.999)) if correct else c

    if correct:
        split = frc
        frc = corrected(frc)
    result.tables["curve"] = _frc_table(FRCCurve(curve.frequency, frc, curve.n_pixels), pixel_um, split)
    if (
        curve.frc_x is not None
        and curve.frc_y is not None
        and curve.n_x is not None
        and curve.n_y is not None
    ):
        table = result.tables["curve"]
        table["frc_x"], table["frc_y"] = corrected(curve.frc_x), corrected(curve.frc_y)
        sectors = {}
        for axis, c, n in (
            ("x", table["frc_x"].to_numpy(), curve.n_x),
            ("y", table["frc_y"].to_numpy(), curve.n_y),
        ):
            t = np.full(c.size, ONE_SEVENTH) if settings.frc_threshold == "1/7" else half_bit_threshold(n)
            f = threshold_crossing(curve.frequency, c, t)
            if f is not None:
                sectors[axis] = pixel_um / f
                _add(
                    result,
                    f"frc_resolution_{axis}_um",
                    sectors[axis],
                    "um",
                    f"FRC resolution along {axis} (ring sectors within 22.5° of the {axis} axis), {settings.frc_threshold}",
                )
        if len(sectors) == 2:
            _add(result, "frc_anisotropy", sectors["x"] / sectors["y"], None, "FRC resolution x / y")
    crossings = {
        "1/7": threshold_crossing(curve.frequency, frc, np.full(frc.size, ONE_SEVENTH)),
        "half-bit": threshold_crossing(curve.frequency, frc, half_bit_threshold(curve.n_pixels)),
    }
    for key, name in (("1/7", "frc_resolution_1_7_um"), ("half-bit", "frc_resolution_half_bit_um")):
        f = crossings[key]
        if f is not None:
            _add(
                result,
                name,
                pixel_um / f,
                "um",
                f"FRC resolution at the {key} threshold (1/crossing frequency)",
            )
    return crossings[settings.frc_threshold]


def _decorrelation(result: ResolutionResult, curves: DecorrelationCurves, pixel_um: float) -> float | None:
    """Add the decorrelation tables and metrics; return k_c/2 (cycles/px) or None."""
    n_curves, n_radii = curves.d.shape
    result.tables["curve"] = pd.DataFrame(
        {
            "curve": np.repeat(np.arange(n_curves), n_radii),
            "g": np.repeat(curves.g, n_radii),
            "radius_normalised": curves.radii.ravel(),
            "frequency_per_um": curves.radii.ravel() / (2 * pixel_um),
            "d": curves.d.ravel(),
        }
    )
    result.tables["peaks"] = pd.DataFrame(
        {
            "curve": np.arange(n_curves),
            "g": curves.g,
            "kc": curves.kc,
            "frequency_per_um": curves.kc / (2 * pixel_um),
            "amplitude": curves.amplitude,
        }
    )
    _add(result, "decorrelation_a0", curves.a0, None, "peak height A₀ of the unfiltered decorrelation curve")
    if curves.kc_max <= 0:
        return None
    _add(result, "decorrelation_kc", curves.kc_max, None, "largest decorrelation peak k_c (Nyquist = 1)")
    return curves.kc_max / 2.0


def _local_map(
    result: ResolutionResult,
    a: Any,
    b: Any,
    settings: ResolutionSettings,
    pixel_um: float,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> None:
    """Map the resolution over tiles of the field by the run's method; add the map, its table and metrics."""

    def map_progress(fraction: float, message: str) -> None:
        if progress:
            progress(0.4 + 0.55 * fraction, message)

    tile, overlap = settings.tile_px, settings.tile_overlap_percent
    if result.method == "decorrelation":
        m: ResolutionMap = local_decorrelation(
            a,
            pixel_um,
            n_radii=settings.n_radii,
            n_filters=settings.n_filters,
            progress=map_progress,
            cancel=cancel,
            tile_px=tile,
            overlap_percent=overlap,
        )
    else:
        m = local_frc(
            a,
            b,
            pixel_um,
            threshold=settings.frc_threshold,
            method=result.method,
            progress=map_progress,
            correct_split=result.method == "frc-split" and settings.split_correction,
            cancel=cancel,
            tile_px=tile,
            overlap_percent=overlap,
        )
    result.map = m
    result.tables["tiles"] = m.table()
    valid = m.resolution_um[m.valid]
    n = m.resolution_um.size
    _add(
        result,
        "map_valid_tiles_percent",
        100.0 * valid.size / n,
        "percent",
        f"tiles of the map with a resolution ({valid.size} of {n}, {m.tile_px} px, "
        f"{settings.tile_overlap_percent:g} % overlap)",
    )
    if valid.size:
        _add(
            result,
            "map_resolution_median_um",
            float(np.median(valid)),
            "um",
            "median resolution of the tiles",
        )
        _add(result, "map_resolution_best_um", float(valid.min()), "um", "finest resolution of a tile")
        _add(result, "map_resolution_worst_um", float(valid.max()), "um", "coarsest resolution of a tile")
    anisotropy = m.anisotropy[np.isfinite(m.anisotropy)]
    if anisotropy.size:
        _add(
            result,
            "map_anisotropy_median",
            float(np.median(anisotropy)),
            None,
            "median over the tiles of resolution along x / along y",
        )
    if valid.size < n:
        reasons = pd.Series(m.reason[~m.valid]).value_counts()
        why = "; ".join(f"{count}: {reason}" for reason, count in reasons.items())
        result.warnings.append(f"{n - valid.size} of {n} map tiles have no resolution ({why}).")


def analyze_resolution(
    image: Any,
    settings: ResolutionSettings | None = None,
    *,
    pixel_size_um: float,
    pair: Any = None,
    na: float | None = None,
    wavelength_em_nm: float | None = None,
    channel: int = 0,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ResolutionResult:
    """Measure the resolution an image reaches, without beads: FRC or decorrelation analysis.

    Parameters
    ----------
    image : array_like
        One (Y, X) image.
    settings : ResolutionSettings, optional
        Method, FRC threshold, gain and offset for the photon split, decorrelation sampling, the
        local map's tiles.
    pixel_size_um : float
        Pixel size (square pixels).
    pair : array_like, optional
        A second, independent image of the same field (two-image FRC).
    na, wavelength_em_nm : float, optional
        The objective's NA and the emission wavelength: with both, Abbe's limit λem / (2 NA)
        (``theory_resolution_um``) and the resolution over it (``ratio_to_theory``).
    channel : int
        The file's channel (recorded on the metrics).
    limits : Limits, optional
        Facility limits (e.g. a largest ``resolution_um``).
    progress, cancel : callable, optional
        Progress report and cancel check.

    Returns
    -------
    ResolutionResult
        ``resolution_um`` (and px, and the cut-off frequency), per-method metrics, the curves; with
        ``local_map``, the map over tiles of the field (``map``, the ``tiles`` table, ``map_*`` metrics).

    Raises
    ------
    AnalysisError
        Tiny, constant or non-finite images; FRC pairs of different or non-square sizes.
    SettingsError
        No pixel size; FRC with neither a second image nor a conversion gain.
    """
    settings = settings or ResolutionSettings()
    validate_settings(settings)
    if not (pixel_size_um and math.isfinite(pixel_size_um) and pixel_size_um > 0):
        raise SettingsError("The pixel size is not known; give {voxel_size_um}.")
    method = choose_method(settings, pair is not None)
    result = ResolutionResult(method=method, channel=channel)
    result.settings.update(settings.analysis_settings())
    result.settings["method_used"] = Setting(
        method, None, Source.DEFAULT if settings.method == "auto" else Source.USER
    )
    if progress:
        progress(0.1, f"resolution: {method}")
    a: Any = None
    b: Any = None
    if method == "decorrelation":
        a = check_image(image)
        cutoff = _decorrelation(
            result,
            decorrelation_analysis(a, n_radii=settings.n_radii, n_filters=settings.n_filters),
            pixel_size_um,
        )
    else:
        if method == "frc":
            a, b = image, pair
        else:
            gain = float(settings.conversion_gain_e_per_dn or 0.0)
            a, b, clipped = binomial_split(
                check_image(image), gain, settings.offset_counts, np.random.default_rng(settings.seed)
            )
            if clipped > 0.01:
                result.warnings.append(
                    f"{100 * clipped:.1f} % of the pixels are below the offset ({settings.offset_counts:g}) and count "
                    "as zero photons: check the offset."
                )
        cutoff = _frc(result, frc_curve(a, b), settings, pixel_size_um)
    check_cancel(cancel, "Resolution analysis")
    if settings.local_map:
        _local_map(result, a, b, settings, pixel_size_um, progress, cancel)
    if cutoff is None:
        what = (
            "the FRC stays above its threshold"
            if method != "decorrelation"
            else "no decorrelation curve peaks"
        )
        result.warnings.append(
            f"No resolution: {what} up to Nyquist (the image may be under-sampled: resolution ≤ 2 pixels) or holds "
            "no structure above the noise."
            if method != "decorrelation"
            else f"No resolution: {what}; the image holds no structure above the noise."
        )
    else:
        _add(
            result,
            "resolution_um",
            pixel_size_um / cutoff,
            "um",
            f"resolution by {method} (1/cut-off frequency)",
        )
        _add(result, "resolution_px", 1.0 / cutoff, "px", "resolution in pixels (2 px: Nyquist)")
        _add(result, "cutoff_frequency_per_um", cutoff / pixel_size_um, "per_um", "cut-off frequency")
        if na and wavelength_em_nm:
            theory = abbe_resolution_um(wavelength_em_nm, na)
            _add(result, "theory_resolution_um", theory, "um", ABBE_LABEL)
            _add(
                result, "ratio_to_theory", pixel_size_um / cutoff / theory, None, "resolution / theory (Abbe)"
            )
        if 1.0 / cutoff < 2.5:
            result.warnings.append(
                f"The resolution is {1.0 / cutoff:.2f} px, near the 2-px Nyquist limit: the image is likely "
                "under-sampled and the true resolution may be finer."
            )
    result.settings["pixel_size_um"] = Setting(float(pixel_size_um), "um", Source.USER)
    if na and wavelength_em_nm:
        result.settings["na"] = Setting(float(na), None, Source.USER)
        result.settings["wavelength_em_nm"] = Setting(float(wavelength_em_nm), "nm", Source.USER)
        result.settings["theory"] = Setting(ABBE_LABEL, None, Source.DEFAULT)
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "resolution: done")
    return result

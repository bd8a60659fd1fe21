"""One channel of the field-illumination analysis: checks, the three families of numbers, verdicts."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from microscope_qc.analysis._common import check_cancel
from microscope_qc.analysis.field.metroloj import _profiles, metroloj_field_metrics, metroloj_report_centres
from microscope_qc.analysis.field.mm import MM_REGIONS, microscope_metrics_field
from microscope_qc.analysis.field.model import fit_illumination_model, illumination_maps
from microscope_qc.analysis.field.plausibility import Plausibility, pixel_noise_sd, plausibility_warnings
from microscope_qc.analysis.field.result import ChannelField, FieldResult, FieldSettings, _src
from microscope_qc.analysis.field.reuse import StepIndependent, StepIndependentCache, content_key
from microscope_qc.filters import gaussian_filter
from microscope_qc.results import AnalysisError, CancelCheck, Metric, Verdict


def _check(cancel: CancelCheck | None) -> None:
    check_cancel(cancel, "Field illumination analysis")


def _median(img: np.ndarray, valid: np.ndarray, most: int = 1 << 20) -> float:
    """Median of the valid pixels; of a regular subsample (every k-th row and column) beyond ``most`` pixels."""
    k = max(1, int(np.ceil(np.sqrt(img.size / most))))
    return float(np.median(img[::k, ::k][valid[::k, ::k]]))


def _step_independent(
    img: np.ndarray,
    mm_input: np.ndarray,
    ok: np.ndarray,
    analysed: np.ndarray | None,
    s: FieldSettings,
    integer: bool,
    cancel: CancelCheck | None,
) -> StepIndependent:
    """The channel's work that the iso-intensity step does not change."""
    # Three independent parts run side by side (NumPy releases the GIL while it computes):
    # the microscope-metrics numbers with their own blur (σ = 5 px); the illumination model's maps; the
    # MetroloJ_QC blur and the noise (this thread).
    with ThreadPoolExecutor(max_workers=2) as pool:
        mm_future = pool.submit(microscope_metrics_field, mm_input, s.mm_sigma_px, s.mm_corner_fraction)
        fit = fit_illumination_model(img, s, ok)
        maps_future = pool.submit(illumination_maps, img, fit, ok, analysed, s.dust_threshold_sigma)
        blurred = gaussian_filter(img, s.sigma_px, truncate=4.0) if s.blur else img.copy()
        _check(cancel)
        noise_sd = pixel_noise_sd(img, ok, integer=integer)
        median_signal = _median(img, ok)
        maps = maps_future.result()
        mm = mm_future.result()
    return StepIndependent(fit, maps, mm, blurred, noise_sd, median_signal)


def _analyze_channel(
    raw: np.ndarray,
    dark: np.ndarray | None,
    c: int,
    name: str,
    s: FieldSettings,
    sat: float,
    result: FieldResult,
    cancel: CancelCheck | None,
    analysed: np.ndarray | None = None,
    first: bool = True,
    reuse: StepIndependentCache | None = None,
) -> ChannelField:
    """Analyse one channel (``c``: the file's channel number) into ``result``.

    ``first`` marks the first channel analysed, which reports the mask's warnings (they hold
    for every channel). With ``reuse``, the step-independent work of an earlier call on the same
    pixels and settings is taken from it (:mod:`~microscope_qc.analysis.field.reuse`).
    """
    lo_v, hi_v = raw.min(), raw.max()
    if lo_v == hi_v:
        raise AnalysisError(
            f"Channel {c} is constant (every pixel = {lo_v}): not an image of a fluorescent slide."
        )
    saturated = raw >= sat
    zero = raw <= (0 if raw.dtype.kind in "ui" else -math.inf)
    n_inside = raw.size if analysed is None else int(np.count_nonzero(analysed))
    if analysed is None:
        sat_pct = 100.0 * (np.count_nonzero(saturated) / raw.size)
        zero_pct = 100.0 * (np.count_nonzero(zero) / raw.size)
    else:  # shares of the analysed area
        sat_pct = 100.0 * np.count_nonzero(saturated & analysed) / n_inside
        zero_pct = 100.0 * np.count_nonzero(zero & analysed) / n_inside
    if sat_pct == 100.0:
        which = "pixel" if analysed is None else "analysed pixel"
        raise AnalysisError(
            f"Every {which} of channel {c} is saturated; reduce exposure or intensity and acquire again."
        )
    img = raw.astype(np.float32)
    if dark is not None:
        img = img - dark.astype(np.float32)
        if img.mean(dtype=np.float64) <= 0:
            raise AnalysisError(
                f"Channel {c}: the dark image is as bright as the flat; check that the files are not swapped."
            )
    if sat_pct > s.max_saturated_percent:
        result.warnings.append(
            f"Channel {c}: {sat_pct:.3g} % of pixels saturated (≥ {sat:g}); uniformity and centre are biased. "
            "Reduce exposure or lamp power."
        )
    if zero_pct > 0:
        result.warnings.append(f"Channel {c}: {zero_pct:.3g} % of pixels clipped at zero (offset too low?).")
    h, w = img.shape
    mm_input = img if dark is not None else raw
    ok = ~(saturated | zero)
    if analysed is not None:
        ok &= analysed
    integer = raw.dtype.kind in "ui"
    if reuse is None:
        kept = _step_independent(img, mm_input, ok, analysed, s, integer, cancel)
    else:
        key = content_key(raw, dark, analysed, sat, s)
        found = reuse.get(c, key)
        if found is None:
            kept = _step_independent(img, mm_input, ok, analysed, s, integer, cancel)
            reuse.put(c, key, kept)
        else:
            kept = found
    fit, maps, mm, blurred = kept.fit, kept.maps, kept.mm, kept.blurred
    noise_sd, median_signal = kept.noise_sd, kept.median_signal
    mj = metroloj_field_metrics(blurred, s.step_percent, analysed)
    mj_report = metroloj_report_centres(blurred, s.step_percent, analysed, integer=integer)
    _check(cancel)
    cy, cx = (float(v) for v in fit.centre)
    offset, offset_se, half_diag = maps.centre_offset_px, maps.centre_offset_se_px, maps.half_diagonal_px
    plausible = Plausibility(
        channel=c,
        shape=(h, w),
        model_r2=fit.r2,
        residual_sd=fit.residual_sd,
        bin_px=fit.bin_px,
        noise_sd=noise_sd,
        centre=(cy, cx),
        centre_offset_percent=100 * offset / half_diag,
        centre_offset_se_percent=100 * offset_se / half_diag,
        fwhm_px=fit.fwhm_px,
        median_signal=median_signal,
        step_percent=s.step_percent,
        dark_subtracted=dark is not None,
    )
    result.warnings += plausibility_warnings(plausible)

    def add(
        metric: str,
        value: float,
        unit: str | None,
        desc: str,
        unc: float | None = None,
        kind: str = "standard error",
    ) -> None:
        result.metrics.append(
            Metric(metric, float(value), unit, None if unc is None else float(unc), c, desc, kind)
        )

    add("uniformity_percent", mj["uniformity_percent"], "percent", "MetroloJ_QC U = 100·min/max (blurred)")
    add(
        "field_uniformity_percent",
        mj["field_uniformity_percent"],
        "percent",
        "MetroloJ_QC FU = 100 − 100·SD(4 corners + 4 edge midpoints)/max",
    )
    add(
        "centering_accuracy_percent",
        mj["centering_accuracy_percent"],
        "percent",
        "MetroloJ_QC CA = 100 − 200·d/sqrt(w² + h²)",
    )
    add(
        "reference_zone_centroid_y_px",
        mj["reference_zone_centroid"][0],
        "px",
        f"centroid of the {100 - s.step_percent:g}–100 % zone",
    )
    add(
        "reference_zone_centroid_x_px",
        mj["reference_zone_centroid"][1],
        "px",
        f"centroid of the {100 - s.step_percent:g}–100 % zone",
    )
    add(
        "reference_zone_area_percent",
        mj["reference_zone_area_percent"],
        "percent",
        "area of the reference zone",
    )
    add("centre_of_intensity_y_px", mj["centre_of_intensity"][0], "px", "intensity-weighted centre (blurred)")
    add("centre_of_intensity_x_px", mj["centre_of_intensity"][1], "px", "intensity-weighted centre (blurred)")
    add("max_position_y_px", mj["max_position"][0], "px", "position of the maximum (blurred)")
    add("max_position_x_px", mj["max_position"][1], "px", "position of the maximum (blurred)")
    whole = " (whole counts, as ImageJ blurs 8/16-bit images)" if raw.dtype.kind in "ui" else ""
    for k, axis in enumerate("yx"):
        add(
            f"metroloj_max_{axis}_px",
            mj_report["max_position"][k],
            "px",
            f"MetroloJ_QC's 'last maximum intensity pixel': the last pixel, row by row, at the maximum of the "
            f"blurred image{whole}; MetroloJ_QC prints the same index",
        )
    for k, axis in enumerate("yx"):
        add(
            f"metroloj_100pct_zone_centroid_{axis}_px",
            mj_report["top_zone_centroid"][k],
            "px",
            f"centroid of MetroloJ_QC's '100 %' reference zone ({mj_report['top_zone_pixels']} pixels at the maximum "
            f"of the blurred image{whole}; the saturated plateau on a saturated image); MetroloJ_QC prints "
            f"{axis} + 0.5 (ImageJ pixel centres)",
        )
    for key, v in mj["relative_intensity"].items():
        add(
            f"relative_intensity_{key}",
            v,
            None,
            "blurred intensity / max at this corner or edge midpoint (MetroloJ_QC)",
        )
    add("cv_percent", maps.cv_percent, "percent", "coefficient of variation of the (dark-subtracted) image")
    add(
        "signal_to_noise",
        plausible.signal_to_noise,
        None,
        "median signal / noise SD of one pixel (from neighbour differences; zero taken as black unless a dark "
        "image was subtracted)",
    )
    add("saturated_percent", sat_pct, "percent", f"analysed pixels at or above {sat:g}")
    add("zero_clipped_percent", zero_pct, "percent", "analysed pixels at zero")
    add(
        "analysed_fraction_percent",
        100.0 * n_inside / raw.size,
        "percent",
        "share of the field analysed (the rest excluded by the mask)",
    )
    # microscope-metrics
    add(
        "mm_center_region_intensity_fraction",
        mm["center_region_intensity_fraction"],
        None,
        "microscope-metrics",
    )
    add("mm_center_region_area_fraction", mm["center_region_area_fraction"], None, "microscope-metrics")
    add("mm_center_of_mass_y_px", mm["center_of_mass"][0], "px", "microscope-metrics centre region centroid")
    add("mm_center_of_mass_x_px", mm["center_of_mass"][1], "px", "microscope-metrics centre region centroid")
    add(
        "mm_center_fitted_y_px",
        mm["center_fitted"][0],
        "px",
        "microscope-metrics Gaussian fit of the max projection",
    )
    add(
        "mm_center_fitted_x_px",
        mm["center_fitted"][1],
        "px",
        "microscope-metrics Gaussian fit of the max projection",
    )
    add("mm_max_intensity_pos_y_px", mm["max_intensity_pos"][0], "px", "microscope-metrics")
    add("mm_max_intensity_pos_x_px", mm["max_intensity_pos"][1], "px", "microscope-metrics")
    add("mm_max_intensity", mm["max_intensity"], "counts", "microscope-metrics (blurred, centre region)")
    for region in MM_REGIONS:
        add(
            f"mm_{region}_intensity_mean",
            mm["region_mean"][region],
            "counts",
            "microscope-metrics region mean",
        )
        add(
            f"mm_{region}_intensity_ratio",
            mm["region_ratio"][region],
            None,
            "microscope-metrics region mean / max",
        )
    # model-based
    add(
        "illumination_centre_y_px",
        cy,
        "px",
        f"centre of the fitted {s.model} illumination model",
        fit.centre_se[0],
    )
    add(
        "illumination_centre_x_px",
        cx,
        "px",
        f"centre of the fitted {s.model} illumination model",
        fit.centre_se[1],
    )
    add(
        "illumination_centre_offset_percent",
        100 * offset / half_diag,
        "percent",
        "distance of the illumination centre from the image centre / half diagonal",
        100 * offset_se / half_diag,
    )
    add(
        "corner_falloff_percent",
        float(np.mean(maps.falloff_percent)),
        "percent",
        "mean over the 4 corners of 1 − model(corner)/model peak",
    )
    add("corner_falloff_max_percent", float(np.max(maps.falloff_percent)), "percent", "worst corner")
    add("model_r2", fit.r2, None, "R² of the illumination model on the binned image")
    if fit.fwhm_px is not None:
        add(
            "illumination_fwhm_y_px",
            fit.fwhm_px[0],
            "px",
            "FWHM of the Gaussian illumination model along y",
        )
        add(
            "illumination_fwhm_x_px",
            fit.fwhm_px[1],
            "px",
            "FWHM of the Gaussian illumination model along x",
        )
    add(
        "defect_count",
        maps.n_defects,
        None,
        f"dust specks / slide defects: residual beyond {s.dust_threshold_sigma:g} robust SD",
    )
    add(
        "defect_area_percent",
        100.0 * maps.defect_pixels / n_inside,
        "percent",
        "area of dust and defects (share of the analysed area)",
    )
    add(
        "residual_cv_percent",
        maps.residual_cv_percent,
        "percent",
        "CV after flat-field correction with the model",
    )
    if s.pixel_size_um:
        add(
            "illumination_centre_offset_um",
            offset * s.pixel_size_um,
            "um",
            "distance of the illumination centre from the image centre",
            offset_se * s.pixel_size_um,
        )
    result.verdicts += [
        Verdict.check(
            "uniformity_percent",
            mj["uniformity_percent"],
            s.tolerance_uniformity_percent,
            ">=",
            _src(s, "tolerance_uniformity_percent", "default (MetroloJ_QC; Faklaris et al. 2022)"),
            c,
        ),
        Verdict.check(
            "centering_accuracy_percent",
            mj["centering_accuracy_percent"],
            s.tolerance_centering_percent,
            ">=",
            _src(s, "tolerance_centering_percent", "default (MetroloJ_QC)"),
            c,
        ),
        Verdict.check(
            "saturated_percent",
            sat_pct,
            s.max_saturated_percent,
            "<=",
            _src(s, "max_saturated_percent", "default (no saturated pixel)"),
            c,
        ),
    ]
    centres = {
        "image centre": ((h - 1) / 2, (w - 1) / 2),
        "reference zone centroid": mj["reference_zone_centroid"],
        "fitted illumination centre": (float(cy), float(cx)),
        "centre of intensity": mj["centre_of_intensity"],
        "maximum": mj["max_position"],
    }
    blurred = blurred.astype(np.float32, copy=False)
    profiles = _profiles(img, blurred, maps.model, analysed)
    if analysed is not None and first:
        if mj["excluded_points"]:
            result.warnings.append(
                "The mask excludes "
                + ", ".join(mj["excluded_points"])
                + ": "
                + ", ".join(f"relative_intensity_{p}" for p in mj["excluded_points"])
                + " and field_uniformity_percent (defined on all 4 corners and 4 edge midpoints) are NaN; "
                "corner_falloff_percent uses the illumination model, extrapolated over excluded corners."
            )
        cut = [n for n, pr in profiles.items() if np.isnan(pr["raw"]).any()]
        if cut:
            result.warnings.append(
                "Profiles "
                + ", ".join(cut)
                + " cross excluded pixels: their raw and blurred values are NaN there."
            )
    return ChannelField(
        channel=c,
        name=name,
        blurred=blurred,
        iso_map=mj["iso_map"],
        reference_zone=mj["reference_zone"],
        model=maps.model,
        residual=maps.residual,
        defects=maps.defects,
        flat_field=maps.flat_field,
        profiles=profiles,
        centres=centres,
        mm_regions=mm["regions"],
        analysed=analysed,
    )

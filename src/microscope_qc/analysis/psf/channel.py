"""The analysis of one channel: candidates, pre-fit checks, fits, post-fit checks, bead table, summaries."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis.psf.aberrations import aberration_limits, flag_beads, spread_subset, through_focus
from microscope_qc.analysis.psf.candidates import (
    REASONS,
    _check,
    _detect,
    _Geometry,
    _geometry,
    _theory,
    _tukey_outliers,
    _validate_stack,
    position_indices,
)
from microscope_qc.analysis.psf.fits import FitBatch, _fit_3d, _fit_quarep
from microscope_qc.analysis.psf.maps import _average_bead, _field_maps, _representative_profiles
from microscope_qc.analysis.psf.metroloj import _fit_metroloj, crop_size_px
from microscope_qc.analysis.psf.misfit import misfit
from microscope_qc.analysis.psf.result import ChannelPSF, PSFResult
from microscope_qc.analysis.psf.settings import PSFSettings
from microscope_qc.analysis.psf.spherical import model_for, spherical_columns, summarise_spherical
from microscope_qc.analysis.psf.strehl import ideal_for, strehl_columns, summarise_strehl
from microscope_qc.analysis.psf.summary import _summarise, misfit_warnings
from microscope_qc.detection import extract_boxes as _boxes
from microscope_qc.detection import refine_z
from microscope_qc.instrument import MicroscopeSettings, Setting, Source, bead_fwhm_um
from microscope_qc.neighbours import nearest_other_within
from microscope_qc.results import AnalysisError, CancelCheck, Metric, ProgressCallback
from microscope_qc.volume import Stack, Volume


def _analyze_channel(
    stack: Stack,
    c: int,
    ms: MicroscopeSettings,
    s: PSFSettings,
    voxel: tuple[float, float, float],
    positions: np.ndarray | None,
    result: PSFResult,
    progress: ProgressCallback,
    cancel: CancelCheck | None,
) -> tuple[pd.DataFrame, ChannelPSF]:
    _validate_stack(stack, c)
    mip = stack.max(axis=0)
    result.images[f"mip@ch{c}"] = mip
    dz, dy, dx = voxel
    nz, h, w = stack.shape
    ch_name = ms.channels[c].name
    theory, theory_phys, missing = _theory(ms, c)
    if theory is None:
        result.warnings.append(
            f"Channel {c}: no theoretical resolution (missing: {', '.join(missing)}); ratios, verdicts and the "
            "Nyquist check are skipped and box sizes use fixed defaults."
        )
    elif not math.isfinite(theory.axial_um):
        result.warnings.append(
            f"Channel {c}: the axial theoretical resolution is not known ({theory.formula}); the axial "
            "ratio, its verdict, the axial Nyquist check and the PSF-tilt verdict are skipped."
        )
    g = _geometry(ms, s, voxel, theory, stack.dtype)
    lat_t, hxy, hz, L, min_sep, z_margin, sat = g.lat_t, g.hxy, g.hz, g.L, g.min_sep, g.z_margin, g.sat
    sigma_xy_px, sigma_z_px, bead_d = g.sigma_xy_px, g.sigma_z_px, g.bead_d
    result.settings[f"box_xy_px@ch{c}"] = Setting(
        L, "px", Source.DEFAULT if s.box_xy_um is None else Source.USER
    )
    result.settings[f"box_z_px@ch{c}"] = Setting(
        2 * hz + 1, "px", Source.DEFAULT if s.box_z_um is None else Source.USER
    )
    result.settings[f"min_separation_um@ch{c}"] = Setting(
        min_sep, "um", Source.DEFAULT if s.min_separation_um is None else Source.USER
    )
    result.settings[f"z_margin_um@ch{c}"] = Setting(
        z_margin, "um", Source.DEFAULT if s.z_margin_um is None else Source.USER
    )
    result.settings[f"saturation_value@ch{c}"] = Setting(
        None if math.isinf(sat) else sat,
        "counts",
        Source.DEFAULT if s.saturation_value is None else Source.USER,
    )

    # 1. candidates ---------------------------------------------------------------------
    progress(0.0, "detecting beads")
    if positions is None:
        det = _detect(stack, g, s, mip, _column_half(g, s, voxel) if isinstance(stack, Volume) else None)
        zs, ys, xs = det["z"], det["y"], det["x"]
        significance = det["significance"]
        origin = np.array(["detected"] * len(xs), dtype=object)
    else:
        pos = np.asarray(positions, dtype=float)
        if pos.ndim != 2 or pos.shape[1] not in (2, 3):
            raise AnalysisError(
                f"Bead positions must be (N, 3) z, y, x or (N, 2) y, x voxel indices; got {pos.shape}."
            )
        given = pos
        zs, ys, xs, outside = position_indices(pos, stack.shape)
        if pos.shape[1] == 2:
            zs = np.where(outside, 0, refine_z(stack, np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)))
        significance = np.full(len(xs), np.nan)
        origin = np.array(["user"] * len(xs), dtype=object)
    n = len(xs)
    if n == 0:
        raise AnalysisError(
            f"No beads found in channel {c}. Check that the stack contains beads in focus, or lower the "
            f"detection threshold (now {s.detection_threshold_sigma} noise SDs), or click beads by hand."
        )
    _check(cancel)

    # 2. pre-fit checks ---------------------------------------------------------------------
    progress(0.1, f"{n} candidates: checking")
    reason = np.array([""] * n, dtype=object)
    detail = np.array([""] * n, dtype=object)

    def reject(mask: np.ndarray, key: str, text: Any) -> None:
        new = mask & (reason == "")
        reason[new] = REASONS[key]
        if callable(text):
            for i in np.flatnonzero(new):
                detail[i] = text(i)
        else:
            detail[new] = text

    if positions is not None:
        reject(
            outside,
            "outside",
            lambda i: (
                f"given position ({', '.join(f'{v:g}' for v in given[i])}) is outside the {nz}×{h}×{w} stack"
            ),
        )
    edge = (ys - hxy < 0) | (ys + hxy >= h) | (xs - hxy < 0) | (xs + hxy >= w)
    reject(edge, "edge", f"the {L}×{L} px fit box does not fit inside the image")
    zmar = (zs * dz < z_margin) | ((nz - 1 - zs) * dz < z_margin)
    reject(zmar, "z_edge", f"focal plane {z_margin:.2f} µm or less from the first/last plane")
    real = np.flatnonzero(reason != REASONS["outside"])  # a position outside the image is no neighbour
    if real.size > 1:
        yx = np.column_stack([ys[real] * dy, xs[real] * dx])
        dist = np.full(n, np.inf)
        dist[real] = nearest_other_within(
            yx, min_sep
        )  # the nearest other candidate, if closer than the limit
        near = dist < min_sep
        reject(near, "neighbour", lambda i: f"nearest bead {dist[i]:.2f} µm away (limit {min_sep:.2f} µm)")
    if isinstance(stack, Volume) and not stack.columns_kept:  # given positions, or too many maxima
        if not stack.keep_columns(ys[real], xs[real], _column_half(g, s, voxel)):
            stack.keep_columns(ys[real], xs[real], _column_half(g, s, voxel, narrow=True))
    # saturation: any voxel of the focal plane ±1 inside the box at or above the saturation value
    local, valid = _boxes(stack, zs, ys, xs, (1, hxy, hxy), dtype=np.float64)
    peak = np.where(valid, local, -np.inf).max(axis=(1, 2, 3))
    n_sat = (np.where(valid, local, -np.inf) >= sat).sum(axis=(1, 2, 3))
    reject(n_sat > 0, "saturated", lambda i: f"{n_sat[i]} voxels at or above {sat:g}")
    if np.all(n_sat > 0):
        raise AnalysisError(
            f"All {n} beads in channel {c} are saturated (values at {sat:g}). Reduce exposure, laser power "
            "or detector gain and acquire again; saturated beads give meaningless widths."
        )
    fit_idx = np.flatnonzero(reason == "")
    _check(cancel)

    cols: dict[str, np.ndarray] = {}

    def col(name: str) -> np.ndarray:
        if name not in cols:
            cols[name] = np.full(n, np.nan)
        return cols[name]

    chan = ChannelPSF(c, ch_name, theory, (2 * hz + 1, L, L))
    batch = FitBatch(stack, fit_idx, zs, ys, xs, hz, hxy, voxel, sigma_xy_px, sigma_z_px)
    if s.method == "metroloj":
        crop = crop_size_px(bead_d, dy)
        whole = s.metroloj_lines == "image" or (s.metroloj_lines == "auto" and fit_idx.size == 1)
        source = Source.DEFAULT if s.metroloj_lines == "auto" else Source.USER
        result.settings[f"metroloj_lines@ch{c}"] = Setting(
            "image" if whole else "crop",
            None,
            source,
            f"x line {w} px, y line {h} px, z line {nz} planes"
            if whole
            else f"{crop} × {crop} px crop around each bead, z line {nz} planes",
        )
        _fit_metroloj(batch, col, reason, detail, progress, crop, whole)
    else:
        _fit_quarep(batch, col, reason, detail, chan, progress, cancel)
        if s.fit_3d:
            _check(cancel)
            progress(0.65, "3D fits")
            _fit_3d(batch, reason, col)

    # 4. post-fit checks ------------------------------------------------------------------
    min_r2_xy = s.min_r2_xy if s.min_r2_xy is not None else (0.95 if s.method == "metroloj" else 0.9)
    min_r2_z = s.min_r2_z if s.min_r2_z is not None else (0.95 if s.method == "metroloj" else 0.8)
    r2_lat = np.fmin(col("r2_x"), col("r2_y")) if s.method == "metroloj" else col("r2_xy")
    fitted = reason == ""
    misfits: dict[str, int] = {}
    for what, r2, limit, structured in (
        ("lateral", r2_lat, min_r2_xy, col("structured_residual_xy")),
        ("axial", col("r2_z"), min_r2_z, col("structured_residual_z")),
    ):
        # R² below the limit, or structured residuals above what the limit tolerates: the residuals say
        # whether the Gaussian misses the profile (structured) or the bead is too dim (noise)
        wrong, _ = misfit(r2, structured, limit)
        bad = fitted & (reason == "") & (~(r2 >= limit) | wrong)
        model = bad & wrong
        misfits[f"{what} profile not Gaussian (structured residuals above {1 - limit:.0%})"] = int(
            model.sum()
        )
        misfits[f"{what} R² below {limit:g}, residuals mostly noise"] = int((bad & ~wrong).sum())

        def why(
            i: int, r2: np.ndarray = r2, st: np.ndarray = structured, what: str = what, limit: float = limit
        ) -> str:
            cause = (
                f"the Gaussian does not describe the {what} profile: structured residuals hold {st[i]:.0%} of "
                f"the signal variance (limit {1 - limit:.0%})"
                if st[i] > 1 - limit
                else f"the residuals are mostly noise (structured part {st[i]:.0%}): too dim a bead"
                if np.isfinite(st[i])
                else ""
            )
            return (
                f"{what} R² {r2[i]:.3f}"
                + (f" < {limit}" if not r2[i] >= limit else "")
                + (f"; {cause}" if cause else "")
            )

        reject(bad, "poor_fit", why)
    if lat_t:
        narrow = np.fmin(col("fwhm_x_um"), col("fwhm_y_um")) < 0.5 * lat_t
        reject(
            narrow,
            "poor_fit",
            lambda i: f"spot narrower than half the diffraction limit ({lat_t:.3f} µm): hot pixel or noise?",
        )
        moved = np.hypot(col("x_um") - xs * dx, col("y_um") - ys * dy)
        limit = max(lat_t, 2 * max(dx, dy))
        reject(moved > limit, "poor_fit", lambda i: f"fitted centre {moved[i]:.2f} µm from the detected peak")
    half_z = col("fwhm_z_um") / 2
    z_out = (col("z_um") - half_z < 0) | (col("z_um") + half_z > (nz - 1) * dz)
    reject(z_out, "z_edge", "fitted focus within FWHM/2 of the first/last plane")
    if s.outlier_fence:
        accepted = reason == ""
        for name in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um"):
            vals = np.where(accepted, col(name), np.nan)
            out = _tukey_outliers(vals, s.outlier_fence)
            reject(
                out, "outlier", lambda i, name=name: f"{name} outside Tukey fences (k = {s.outlier_fence})"
            )
    accepted = reason == ""
    misfit_warnings(result, c, misfits, col, cols, accepted, min_r2_xy)

    # derived per-bead columns
    for ax in ("x", "y", "z"):
        fw = col(f"fwhm_{ax}_um")
        cols[f"fwhm_{ax}_corrected_um"] = (
            np.sqrt(np.clip(fw**2 - bead_fwhm_um(bead_d) ** 2, 0, None)) if bead_d else fw.copy()
        )
        if theory:
            cols[f"fwhm_{ax}_ratio"] = fw / (theory.axial_um if ax == "z" else theory.lateral_um)
    fx, fy = col("fwhm_x_um"), col("fwhm_y_um")
    cols["lateral_asymmetry"] = np.fmin(fx, fy) / np.fmax(fx, fy)
    # aberration signatures through focus, on accepted beads
    acc_idx = np.flatnonzero(accepted)
    tf_idx = acc_idx[spread_subset(col("y_um")[acc_idx], col("x_um")[acc_idx], s.through_focus_beads)]
    if tf_idx.size:
        _check(cancel)
        progress(0.7, f"through-focus fits of {tf_idx.size} beads")
        chan.through_focus = through_focus(stack, tf_idx, col, hz, hxy, voxel)
    limits = aberration_limits(ms, c, theory_phys)
    cols["aberrations"] = flag_beads(col, tf_idx, limits)
    sph_model = model_for(ms, c)
    if (
        sph_model is not None
        and sph_model.judged  # a confocal pinhole of unknown size changes the axial profile: not modelled
        and tf_idx.size
        and theory_phys is not None
        and math.isfinite(theory_phys.axial_um)
    ):
        chan.spherical = spherical_columns(stack, tf_idx, col, hz, voxel, sph_model, theory_phys.axial_um)

    ideal = ideal_for(ms, c, voxel, bead_d)
    if ideal is not None and acc_idx.size:
        for name, values in strehl_columns(stack, acc_idx, col, voxel, ideal).items():
            col(name)[acc_idx] = values

    table = pd.DataFrame(
        {
            "channel": c,
            "status": np.where(accepted, "accepted", "rejected"),
            "reason": reason,
            "reason_detail": detail,
            "origin": origin,
            "z_px": zs,
            "y_px": ys,
            "x_px": xs,
            "peak_value": peak,
            "significance": significance,
        }
    )
    order = [
        "x_um", "y_um", "z_um", "x_se_um", "y_se_um", "z_se_um",
        "fwhm_x_um", "fwhm_x_se_um", "fwhm_y_um", "fwhm_y_se_um", "fwhm_z_um", "fwhm_z_se_um",
        "fwhm_x_corrected_um", "fwhm_y_corrected_um", "fwhm_z_corrected_um",
        "fwhm_x_ratio", "fwhm_y_ratio", "fwhm_z_ratio",
        "fwhm_major_um", "fwhm_minor_um", "theta_deg", "theta_se_deg",
        "lateral_asymmetry", "principal_axis_ratio", "sbr",
        "r2_x", "r2_y", "r2_xy", "r2_z", "structured_residual_xy", "structured_residual_z",
        "fwhm_x_crb_um", "fwhm_y_crb_um", "fwhm_z_crb_um",
        "aberrations", "astigmatic_separation_um", "astigmatic_separation_se_um",
        "astigmatic_separation_xy_um", "astigmatic_separation_xy_se_um",
        "astigmatic_separation_diag_um", "astigmatic_separation_diag_se_um", "astigmatism_axis_deg",
        "ellipticity_below", "ellipticity_above",
        "psf_tilt_um_per_um", "psf_tilt_se_um_per_um", "psf_tilt_x_um_per_um", "psf_tilt_y_um_per_um",
        "psf_bow_um", "psf_bow_se_um", "coma_axis_deg", "through_focus_planes",
        "axial_asymmetry", "axial_asymmetry_se", "spherical_waves", "spherical_waves_se",
        "spherical_index_mismatch", "spherical_index_mismatch_se", "spherical_coverslip_um",
        "spherical_coverslip_um_se", "strehl", "peak_fraction", "halo_fraction",
        "amplitude", "background",
    ]  # fmt: skip
    for name in order + sorted(k for k in cols if k not in order):
        if name in cols:
            table[name] = cols[name]
    table["status"] = table["status"].astype(object)

    # 5. summaries, verdicts, maps, averaged bead ---------------------------------------------
    _summarise(result, table, c, theory, theory_phys, ms, s, voxel, limits)
    summarise_spherical(result, table[accepted], c, sph_model)
    summarise_strehl(result, table[accepted], c, ideal)
    result.metrics.append(
        Metric(
            "saturated_beads_fraction",
            float((n_sat > 0).mean()),
            None,
            None,
            c,
            f"fraction of the {n} candidate beads with a voxel at or above the saturation value near focus",
        )
    )
    _check(cancel)
    progress(0.75, "field maps")
    _field_maps(result, chan, table[accepted], c, voxel, (h, w), s.map_size)
    if s.average_bead and accepted.any() and s.method == "quarep":
        _check(cancel)
        progress(0.9, "averaged bead")
        _average_bead(stack, chan, table, accepted, hz, hxy, voxel)
    _representative_profiles(stack, chan, table, accepted, hz, hxy, voxel)
    return table, chan


def _column_half(
    g: _Geometry, s: PSFSettings, voxel: tuple[float, float, float], narrow: bool = False
) -> int:
    """Half-width of the bead columns kept from a lazy stack (:meth:`Volume.keep_columns`).

    Wide enough for every later read around a bead: the fit boxes (± hxy), the MetroloJ_QC
    crop, the signal-to-background annulus (1.5 µm beyond the bead) unless ``narrow``, and
    fitted centres a few pixels from the detected peak. Reads outside the columns give the same
    values, from passes over the planes.
    """
    _, dy, dx = voxel
    r_sbr = 0 if narrow else int(math.ceil(((g.lat_t or 0.5) + 1.5) / min(dy, dx))) + 2
    crop = crop_size_px(g.bead_d, dy) // 2 + 1 if s.method == "metroloj" else 0
    return max(g.hxy, r_sbr, crop) + 4

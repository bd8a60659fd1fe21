"""The co-registration analysis: localise beads per channel, match them, summarise each pair, fit the models."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from microscope_qc.analysis._common import as_czyx, check_cancel, select_channels
from microscope_qc.analysis.coregistration.checks import (
    SINGLE_BEAD_NOT_ESTIMABLE,
    rejections,
    theory_per_channel,
    theory_warning,
    z_step_warnings,
)
from microscope_qc.analysis.coregistration.localisation import (
    _LOCALISATION_COLUMNS,
    SINGLE_BEAD_MIN_SHARE,
    _localise_2d,
    _localise_3d,
    _localise_single_bead,
    _positions_per_channel,
)
from microscope_qc.analysis.coregistration.matching import (
    _pair_metrics,
    _pair_summary,
    mutual_nearest,
)
from microscope_qc.analysis.coregistration.model import (
    RegistrationModel,
    _design,
    _model_summary,
    fit_registration,
)
from microscope_qc.analysis.coregistration.result import (
    CoregistrationResult,
    CoregistrationSettings,
    Positions,
)
from microscope_qc.analysis.psf import REASONS
from microscope_qc.array_views import channel, same_pixels, stack_of
from microscope_qc.instrument import (
    FWHM_PER_SIGMA,
    Setting,
    SettingsError,
    Source,
)
from microscope_qc.results import AnalysisError, CancelCheck, Limits, ProgressCallback
from microscope_qc.setting_spec import validate_settings

__all__ = ["analyze_coregistration"]


def _check(cancel: CancelCheck | None) -> None:
    check_cancel(cancel, "Co-registration analysis")


_ONE_CHANNEL = (
    "Co-registration needs at least two channels; this image has one. Open the multichannel file, or give "
    "one image per channel."
)


def _numbered(t: pd.DataFrame, c: int, given: bool) -> pd.DataFrame:
    """A channel's localisation table with its position index (−1: detected), channel and bead number."""
    t = t.copy()
    t.insert(len(_LOCALISATION_COLUMNS), "position_index", np.arange(len(t)) if given else -1)
    t.insert(0, "channel", c)
    t.insert(1, "channel_bead", np.arange(len(t)))
    return t


def _single_bead_fallback(
    czyx: Any, selected: list[int], voxel: tuple[float, float, float], why: str
) -> list[pd.DataFrame]:
    """Every channel located in single-bead mode, or an error saying why nothing could be matched."""
    tables, problems = [], []
    for c in selected:
        try:
            t, share = _localise_single_bead(np.asarray(channel(czyx, c)), voxel)
        except AnalysisError as exc:
            problems.append(f"channel {c}: {exc.template.rstrip('.')}")
            continue
        if share < SINGLE_BEAD_MIN_SHARE:
            problems.append(
                f"channel {c}: the largest bright object holds only {100 * share:.0f} % of the bright voxels "
                "(several beads, not one)"
            )
        elif t.status.iloc[0] != "accepted":
            problems.append(f"channel {c}: {t.reason_detail.iloc[0]}")
        tables.append(_numbered(t, c, False))
    if problems:
        raise AnalysisError(
            f"No bead could be matched. No sub-resolution bead was accepted ({why}); single-bead mode (one large "
            f"bead) was tried instead, but {'; '.join(problems)}. Check focus and exposure (saturation), the "
            "detection threshold, or give bead positions."
        )
    return tables


def _identical_channels(czyx: Any, selected: list[int]) -> list[str]:
    """Warn about channels holding the same pixels: their shift of 0 says nothing about the optics."""
    out = []
    for k, i in enumerate(selected):
        for j in selected[k + 1 :]:
            if same_pixels(channel(czyx, i), channel(czyx, j)):
                out.append(
                    f"Channels {i} and {j} hold identical pixels: the shift of 0 between them says nothing about "
                    "co-registration. Was the same channel exported twice, or the image duplicated?"
                )
    return out


def analyze_coregistration(
    data: Any,
    settings: CoregistrationSettings,
    positions: Positions = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    *,
    channels: Sequence[int] | None = None,
    limits: Limits | None = None,
) -> CoregistrationResult:
    """Measure chromatic shifts between channels from multi-colour beads.

    Parameters
    ----------
    data
        (C, Z, Y, X) or (C, Y, X) array, or a list of per-channel (Z, Y, X) / (Y, X) arrays of the same field.
    settings
        Microscope settings (voxel size required; NA, immersion, wavelengths and modality for the
        match gate and MetroloJ_QC's ratio) and analysis options.
    positions
        ``None``: beads are detected in every channel. An (N, 3) array of (z, y, x) voxel indices:
        the same beads for every channel (e.g. edited in a napari Points layer). A dict
        ``{channel: (N_c, 3) array}``: positions per channel; channels left out are detected.
        (N, 2) (y, x) positions are accepted too (the focal plane is then found per bead); for 2D
        data z is ignored. Each channel moves each position to its own bead's peak within one
        theoretical FWHM and fits it with the PSF pipeline; positions outside the image (or too
        near its border) are rejected in the bead table with their reason, not raised.
    progress
        ``progress(fraction, message)`` callback.
    cancel
        Called between steps; returning True raises :class:`AnalysisCancelled`.

    Raises
    ------
    AnalysisError
        One channel only, channels of different shapes, no beads found, no bead matched, empty or
        malformed positions, positions in single-bead mode.
    """
    s = settings
    ms = s.microscope
    if ms.voxel_size_um is None:
        raise SettingsError(
            "The voxel size is not in the file metadata: give {voxel_size_um}; it is never guessed."
        )
    ms.validate()
    validate_settings(s)
    dz_um, dy_um, dx_um = ms.voxel_size_um
    voxel = (float(dz_um), float(dy_um), float(dx_um))
    czyx, n_file = as_czyx(
        data, "Co-registration", three_d="cyx", plane_message=_ONE_CHANNEL.replace("this image", "a 2D image")
    )
    if n_file < 2:
        raise AnalysisError(_ONE_CHANNEL)
    selected = sorted(select_channels(channels, n_file))
    if len(selected) < 2:
        raise AnalysisError(
            f"Co-registration needs at least two channels; only channel {selected[0]} is selected."
        )
    n_ch = len(selected)
    # the microscope settings per analysed channel, in the order of `selected`
    if len(ms.channels) == 1:
        ms = replace(ms, channels=ms.channels * n_ch)
    elif len(ms.channels) == n_file:
        ms = replace(ms, channels=tuple(ms.channels[c] for c in selected))
    elif len(ms.channels) != n_ch:
        raise SettingsError(f"Settings describe {len(ms.channels)} channels but the image has {n_file}.")
    if s.reference_channel not in selected:
        raise AnalysisError(
            f"Reference channel {s.reference_channel} "
            + (
                f"does not exist (0–{n_file - 1})."
                if not 0 <= s.reference_channel < n_file
                else f"is not among the analysed channels {selected}."
            )
        )
    is_3d = czyx.shape[1] > 1
    if is_3d and czyx.shape[1] < 5 and not s.single_bead:
        raise AnalysisError(
            f"A z-stack of {czyx.shape[1]} planes is too thin for axial fits; give ≥ 5 planes or one plane."
        )
    per_channel, mode = _positions_per_channel(positions, selected, n_file, is_3d)
    if s.single_bead and mode != "automatic":
        raise AnalysisError(
            "Bead positions are not used in single-bead mode (the bead is the largest bright object); "
            "leave them out, or switch single-bead mode off."
        )
    result = CoregistrationResult(measurement="coregistration", voxel_size_um=voxel)
    result.warnings.extend(ms.plausibility_warnings())
    result.warnings.extend(_identical_channels(czyx, selected))
    names = dict(zip(selected, (c.name for c in ms.channels), strict=True))
    result.channel_names = [names.get(c, f"channel {c}") for c in range(n_file)]
    result.channels = list(selected)
    result.settings = {**ms.settings_table(), **s.analysis_settings()}
    if channels is not None:
        result.settings["channels"] = Setting(list(selected), None, Source.USER, "channels analysed")
    n_given = [None if p is None else len(p) for p in per_channel]
    result.settings["positions"] = Setting(
        mode,
        None,
        Source.DEFAULT if mode == "automatic" else Source.USER,
        {
            "automatic": "beads detected in every channel",
            "shared": "the same given positions for every channel",
            "per-channel": "given positions per channel; channels without them detected",
        }[mode],
    )
    result.settings["n_positions"] = Setting(
        n_given,
        None,
        Source.DEFAULT if mode == "automatic" else Source.USER,
        "given per channel; null = detected",
    )
    # theoretical resolution of each analysed channel (by position in `selected`), or exactly why there is none
    theory, why_no_theory = theory_per_channel(ms)

    # 1. localise --------------------------------------------------------------------------
    tables: list[pd.DataFrame] = []
    failed: dict[int, str] = {}  # channel -> why the bead pipeline had nothing to offer
    for k, c in enumerate(selected):  # k: position among the analysed channels, c: the image's number
        _check(cancel)
        if progress:
            progress(0.7 * k / n_ch, f"localising beads in channel {c}")
        stack = stack_of(czyx, c)  # a lazy channel stays lazy (microscope_qc.volume)
        if stack.min() == stack.max():
            raise AnalysisError(f"Channel {c} is constant: no beads.")
        theory_c = theory[k]
        if s.single_bead:
            t, share = _localise_single_bead(np.asarray(stack), voxel)
            if share < SINGLE_BEAD_MIN_SHARE:
                result.warnings.append(
                    f"Channel {c}: the largest bright object holds only {100 * share:.0f} % of the bright voxels; "
                    "single-bead mode used it, but the image seems to hold several beads."
                )
        elif is_3d:
            try:
                t = _localise_3d(stack, ms, k, s, per_channel[k], theory_c)
            except AnalysisError as exc:
                if mode != "automatic":
                    raise AnalysisError(f"Channel {c}: {exc.template}") from exc
                # the PSF pipeline saw one channel, its "channel 0"; its first sentence says what went wrong
                failed[c] = exc.template.split(". ")[0].rstrip(".").replace(" in channel 0", "")
                t = pd.DataFrame({name: [] for name in _LOCALISATION_COLUMNS})
        else:
            lat = theory_c.lateral_um if theory_c is not None else 0.3
            sigma = max(0.6, lat / FWHM_PER_SIGMA / max(voxel[1:]))
            t = _localise_2d(stack[0], ms, k, s, sigma, per_channel[k])
        if per_channel[k] is not None:
            n_out = int((t.reason == REASONS["outside"]).sum())
            if n_out:
                result.warnings.append(
                    f"Channel {c}: {n_out} of {len(t)} given bead positions are outside the image (rejected)."
                )
        if len(t) == 0 and mode != "automatic":
            raise AnalysisError(
                f"No beads found in channel {c}; check focus and exposure, or lower the detection threshold."
            )
        tables.append(_numbered(t, c, per_channel[k] is not None))
    single_bead = s.single_bead
    empty = [k for k, t in enumerate(tables) if not (t.status == "accepted").any()]
    if empty and not s.single_bead:
        why = "; ".join(
            f"channel {selected[k]}: {failed.get(selected[k]) or rejections(tables[k])}" for k in empty
        )
        if mode != "automatic":
            raise AnalysisError(
                f"No accepted bead to match ({why}). Check the given positions, focus and exposure."
            )
        tables = _single_bead_fallback(czyx, selected, voxel, why)
        single_bead = True
        result.settings["single_bead"] = Setting(
            True, None, Source.DEFAULT, "automatic fallback: no sub-resolution bead was accepted"
        )
        result.warnings.append(
            f"No sub-resolution bead was accepted ({why}). The analysis fell back to single-bead mode "
            "(MetroloJ_QC co-alignment): in each channel the bead is the largest bright object, centred by its "
            "intensity-weighted centroid. Choose single-bead mode yourself for images of one large bead."
        )
    beads = pd.concat(tables, ignore_index=True)
    beads.insert(0, "bead_id", np.arange(len(beads)))

    # 2. match and summarise each pair -------------------------------------------------------
    pairs_rows: list[dict[str, Any]] = []
    shift_tables: list[pd.DataFrame] = []
    matches: list[pd.DataFrame] = []  # (bead, "i-j:partner") for every matched bead of every pair
    no_ratio: list[tuple[int, int]] = []  # pairs without MetroloJ_QC's ratio (no theoretical resolution)
    gate_fallback: list[tuple[int, int]] = []  # pairs whose match gate fell back to 1 µm
    not_estimable = (
        SINGLE_BEAD_NOT_ESTIMABLE if single_bead else "not estimable: a single plane holds no z information"
    )
    ref = s.reference_channel
    pairs = [(ki, kj) for ki in range(n_ch) for kj in range(ki + 1, n_ch)]
    for n_done, (ki, kj) in enumerate(pairs):
        i, j = selected[ki], selected[kj]
        _check(cancel)
        if progress:
            progress(0.7 + 0.3 * n_done / len(pairs), f"matching channels {i} and {j}")
        em_i, em_j = ms.channels[ki].wavelength_em_nm or 0, ms.channels[kj].wavelength_em_nm or 0
        t_long = theory[ki if em_i >= em_j else kj]
        gate = s.match_gate_um or (2.0 * t_long.lateral_um if t_long else 1.0)
        if single_bead:
            gate = math.inf  # one bead per channel: no gate
        elif s.match_gate_um is None and t_long is None:
            gate_fallback.append((i, j))
        if t_long is None:
            no_ratio.append((i, j))
        a = beads[(beads.channel == i) & (beads.status == "accepted")]
        b = beads[(beads.channel == j) & (beads.status == "accepted")]
        if len(a) == 0 or len(b) == 0:
            lost = i if len(a) == 0 else j
            raise AnalysisError(
                f"No accepted beads in channel {lost} ({rejections(beads[beads.channel == lost])}); nothing to match."
            )
        ai, bi = mutual_nearest(a[["x_um", "y_um"]].to_numpy(), b[["x_um", "y_um"]].to_numpy(), gate)
        n_match = len(ai)
        ids_a, ids_b = a.bead_id.to_numpy()[ai], b.bead_id.to_numpy()[bi]
        matches.append(
            pd.DataFrame(
                {"bead_id": np.r_[ids_a, ids_b], "tag": [f"{i}-{j}:{p}" for p in np.r_[ids_b, ids_a]]}
            )
        )
        if n_match == 0:
            raise AnalysisError(
                f"No bead of channel {i} has a partner in channel {j} within {gate:.2f} µm. Check that the channels show "
                "the same beads, or widen {match_gate_um} if the shift is larger."
            )
        if n_match < min(len(a), len(b)):
            result.warnings.append(
                f"Channels {i}–{j}: {min(len(a), len(b)) - n_match} accepted beads have no partner within {gate:.2f} µm."
            )
        A, B = a.iloc[ai], b.iloc[bi]
        cols_p = ["x_um", "y_um", "z_um"]
        cols_se = ["x_se_um", "y_se_um", "z_se_um"]
        shift = B[cols_p].to_numpy() - A[cols_p].to_numpy()
        shift_se = np.sqrt(B[cols_se].to_numpy(float) ** 2 + A[cols_se].to_numpy(float) ** 2)
        summary = _pair_summary(shift, shift_se, t_long, is_3d or single_bead)
        centre = ((czyx.shape[3] - 1) * voxel[2] / 2, (czyx.shape[2] - 1) * voxel[1] / 2)
        model = None
        resid = {a_: np.full(n_match, np.nan) for a_ in ("x", "y", "z")}
        if not single_bead and n_match >= 2:
            kind, coef, cov, bic, res = fit_registration(
                A[cols_p].to_numpy(), shift, np.maximum(shift_se, 1e-6), s.model, centre, is_3d
            )
            terms = _design(kind, np.zeros(1), np.zeros(1))[1]
            rms = {ax: float(np.sqrt(np.mean(r * r))) for ax, r in res.items()}
            model = RegistrationModel(kind, terms, centre, coef, cov, n_match, bic, rms, i, j, is_3d)
            result.models[(i, j)] = model
            resid.update(res)
        row = {"channel_ref": i, "channel_moving": j, "n_matched": n_match, "match_gate_um": gate, **summary}
        if model is not None:
            row.update(_model_summary(model))
        pairs_rows.append(row)
        shift_tables.append(
            pd.DataFrame(
                {
                    "channel_ref": i,
                    "channel_moving": j,
                    "bead_ref": ids_a,
                    "bead_moving": ids_b,
                    **{f"{ax}_um": A[f"{ax}_um"].to_numpy(float) for ax in "xyz"},
                    **{f"shift_{ax}_um": shift[:, n] for n, ax in enumerate("xyz")},
                    **{f"shift_{ax}_se_um": shift_se[:, n] for n, ax in enumerate("xyz")},
                    "residual_x_um": resid["x"],
                    "residual_y_um": resid["y"],
                    "residual_z_um": resid["z"] if is_3d else np.nan,
                }
            )
        )
        if ref in (i, j):
            _pair_metrics(result, row, j if i == ref else i, s, not_estimable)
    tags = pd.concat(matches).groupby("bead_id")["tag"].agg(" ".join)
    beads["matched_pairs"] = beads["bead_id"].map(tags).fillna("")
    beads["status"] = beads["status"].astype(object)
    unmatched = (beads.status == "accepted") & (beads.matched_pairs == "")
    beads.loc[unmatched, "status"] = "rejected"
    beads.loc[unmatched, "reason"] = "unmatched"
    beads.loc[unmatched, "reason_detail"] = "no partner bead in another channel within the match gate"
    result.tables["beads"] = beads
    result.tables["pairs"] = pd.DataFrame(pairs_rows)
    warning = theory_warning(selected, why_no_theory, no_ratio, gate_fallback)
    if warning:
        result.warnings.append(warning)
    if is_3d:
        result.warnings += z_step_warnings(
            beads, voxel[0], str(ms.source_of("voxel_size_um").source), single_bead, ms.bead_diameter_um
        )
    if single_bead:
        result.warnings.append(
            "Single-bead mode: the standard errors of the shifts, distances and ratio are not estimable (one "
            "centroid per channel has no noise model, one bead shows no scatter). They are NaN in results.json "
            "and pairs.csv, 'not estimable' in the report, 'n/a' in the summary, never 0. No match gate is used "
            "(match_gate_um is inf in pairs.csv). Image several beads, or the same bead repeatedly, to estimate them."
        )
    result.tables["shifts"] = pd.concat(shift_tables, ignore_index=True)
    if limits is not None:
        limits.apply(result)
    if progress:
        progress(1.0, "done")
    return result

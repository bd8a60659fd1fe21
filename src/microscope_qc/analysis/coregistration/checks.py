"""What the co-registration analysis tells the user: missing settings, rejected beads, implausible z steps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from microscope_qc.instrument import (
    ChannelSettings,
    MicroscopeSettings,
    SettingsError,
    TheoreticalResolution,
    metroloj_resolution,
)

__all__ = [
    "MIN_Z_PLANES",
    "MAX_Z_PLANES",
    "SINGLE_BEAD_NOT_ESTIMABLE",
    "theory_per_channel",
    "theory_warning",
    "rejections",
    "z_step_warnings",
]

#: a bead spanning fewer planes than this along z (at half maximum) is too coarsely sampled to place in z
MIN_Z_PLANES = 3.0
#: a bead spanning more planes than this along z suggests a z step far too small (or a wrong voxel size)
MAX_Z_PLANES = 60.0
#: why the uncertainties of single-bead mode are NaN (the metrics' ``uncertainty_kind``)
SINGLE_BEAD_NOT_ESTIMABLE = (
    "not estimable: single-bead mode gives one centroid per channel, without a noise model, and one bead "
    "shows no scatter"
)

#: the wavelength each modality's MetroloJ_QC resolution uses
_WAVELENGTH_USED = {
    "widefield": "emission",
    "spinning_disk": "emission",
    "confocal": "excitation",
    "multiphoton": "excitation",
}


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _missing_for_theory(ms: MicroscopeSettings, ch: ChannelSettings) -> list[str]:
    """Exactly which settings one channel's theoretical resolution lacks (empty: none is missing)."""
    missing = [
        name
        for name, value in (("modality", ms.modality), ("NA", ms.na), ("immersion index", ms.immersion_index))
        if value is None
    ]
    if ms.modality is None:
        if ch.wavelength_ex_nm is None and ch.wavelength_em_nm is None:
            missing.append("a wavelength (excitation or emission, as the modality needs)")
        return missing
    used = _WAVELENGTH_USED.get(str(ms.modality))
    if used == "excitation" and ch.wavelength_ex_nm is None:
        missing.append("excitation wavelength")
    elif used == "emission" and ch.wavelength_em_nm is None:
        missing.append("emission wavelength")
    return missing


def theory_per_channel(
    ms: MicroscopeSettings,
) -> tuple[list[TheoreticalResolution | None], list[str | None]]:
    """MetroloJ_QC's theoretical resolution of every channel of ``ms``, or why there is none.

    Parameters
    ----------
    ms
        The microscope settings, one :class:`ChannelSettings` per analysed channel.

    Returns
    -------
    theory, why_not
        Per channel the resolution (or None) and, when None, the reason naming exactly what is
        missing, e.g. ``"the excitation wavelength is missing (a confocal microscope's resolution uses it)"``.
    """
    theory: list[TheoreticalResolution | None] = []
    why: list[str | None] = []
    for ch in ms.channels:
        missing = _missing_for_theory(ms, ch)
        if missing:
            theory.append(None)
            verb = "is" if len(missing) == 1 else "are"
            note = ""
            if ms.modality is not None and any(m.endswith("wavelength") for m in missing):
                note = f" (a {str(ms.modality).replace('_', ' ')} microscope's resolution uses it)"
            why.append(f"the {_join(missing)} {verb} missing{note}")
            continue
        assert ms.modality is not None and ms.na is not None and ms.immersion_index is not None
        try:
            theory.append(
                metroloj_resolution(
                    ms.modality, ms.na, ms.immersion_index, ch.wavelength_ex_nm, ch.wavelength_em_nm
                )
            )
            why.append(None)
        except SettingsError as exc:  # a modality whose needs are not listed above: its own message
            theory.append(None)
            why.append(str(exc).rstrip("."))
    return theory, why


def theory_warning(
    selected: Sequence[int],
    why_not: Sequence[str | None],
    no_ratio: Sequence[tuple[int, int]],
    gate_fallback: Sequence[tuple[int, int]],
) -> str | None:
    """One warning saying which channels lack a theoretical resolution, exactly why, and what follows.

    Parameters
    ----------
    selected
        The analysed channels (image numbers), in the order of ``why_not``.
    why_not
        Per analysed channel the reason from :func:`theory_per_channel`, or None.
    no_ratio
        The channel pairs whose MetroloJ_QC ratio was not computed.
    gate_fallback
        The channel pairs whose match gate fell back to 1 µm.

    Returns
    -------
    str or None
        The warning, or None when every channel has its theoretical resolution.
    """
    groups: dict[str, list[int]] = {}
    for c, why in zip(selected, why_not, strict=True):
        if why is not None:
            groups.setdefault(why, []).append(c)
    if not groups:
        return None
    parts = [
        f"channel{'s' if len(chs) > 1 else ''} {_join([str(c) for c in chs])}: {why}"
        for why, chs in groups.items()
    ]
    text = "No theoretical resolution for " + "; ".join(parts) + "."
    consequences = []
    if no_ratio:
        consequences.append(
            "MetroloJ_QC's ratio is not computed for " + _join([f"{i}–{j}" for i, j in no_ratio])
        )
    if gate_fallback:
        consequences.append(
            "the match gate falls back to 1 µm for " + _join([f"{i}–{j}" for i, j in gate_fallback])
        )
    if consequences:
        text += " So " + "; ".join(consequences) + " (channel pairs)."
    return text


def rejections(table: pd.DataFrame) -> str:
    """How many candidates a channel had and why each was rejected, e.g. ``"12 candidates: 8 saturated, 4 ..."``.

    Parameters
    ----------
    table
        The channel's localisation table (columns ``status`` and ``reason``).

    Returns
    -------
    str
        The summary.
    """
    n = len(table)
    if n == 0:
        return "no candidate found"
    rejected = table[table.status != "accepted"]
    counts = rejected.reason.replace("", "unknown").value_counts()
    reasons = ", ".join(f"{k} × {v}" for k, v in counts.items())
    word = "candidate" if n == 1 else "candidates"
    return f"{n} {word}, none accepted ({reasons})" if len(rejected) == n else f"{n} {word}"


def z_step_warnings(
    beads: pd.DataFrame,
    dz_um: float,
    source: str,
    single_bead: bool,
    bead_diameter_um: float | None,
) -> list[str]:
    """Warnings when the z step looks implausible for the bead (fewer than 3 or more than 60 planes).

    The span is the bead's extent along z at half maximum in planes: the fitted axial FWHM / z step
    for sub-resolution beads (median over a channel's accepted beads), the planes the bead object
    covers in single-bead mode. In single-bead mode with a known bead diameter of at least 1 µm, the
    apparent height (planes × z step) is also compared with the diameter: outside 0.5–2 × it, the z
    step given for the stack is probably wrong.

    Parameters
    ----------
    beads
        The bead table (columns ``channel``, ``status``, ``fwhm_z_um``).
    dz_um
        The z step used, µm.
    source
        Where the z step came from (file, user, ...), for the message.
    single_bead
        The beads were located in single-bead mode.
    bead_diameter_um
        The bead diameter, when known.

    Returns
    -------
    list of str
        One warning per channel whose bead span is implausible.
    """
    out: list[str] = []
    if "fwhm_z_um" not in beads.columns:
        return out
    ok = beads[(beads.status == "accepted") & np.isfinite(beads.fwhm_z_um.astype(float))]
    for c, rows in ok.groupby("channel", sort=True):
        height = float(np.median(rows.fwhm_z_um.astype(float)))
        planes = height / dz_um
        what = "the bead object" if single_bead else "the beads (median axial FWHM)"
        where = f"{height:.3g} µm at a z step of {dz_um:g} µm, source {source}"
        if planes < MIN_Z_PLANES:
            out.append(
                f"Channel {c}: {what} span{'s' if single_bead else ''} only {planes:.2g} planes along z at half "
                f"maximum ({where}), fewer than {MIN_Z_PLANES:g}: too few to place a bead in z. Check the z "
                "step (co-alignment reports often carry a wrong one) or acquire with a finer step."
            )
        elif planes > MAX_Z_PLANES:
            out.append(
                f"Channel {c}: {what} span{'s' if single_bead else ''} {planes:.3g} planes along z at half "
                f"maximum ({where}), more than {MAX_Z_PLANES:g}: the z step looks too small for this bead. "
                "Check the voxel size (z) and the acquisition."
            )
        if single_bead and bead_diameter_um is not None and bead_diameter_um >= 1.0:
            ratio = height / bead_diameter_um
            if not 0.5 <= ratio <= 2.0:
                out.append(
                    f"Channel {c}: the {bead_diameter_um:g} µm bead appears {height:.3g} µm tall ({ratio:.2g} × its "
                    f"diameter, from {height / dz_um:.3g} planes × the z step of {dz_um:g} µm, {source}): the z "
                    "step is probably wrong; check the voxel size (z)."
                )
    return out

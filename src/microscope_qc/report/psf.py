"""Figures of the PSF report: drawn once per channel, never per bead."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure as MplFigure

from microscope_qc.report import Figure, figure_to_png
from microscope_qc.report.labels import display_unit, heading, label

if TYPE_CHECKING:
    from microscope_qc.analysis.psf.result import ChannelPSF, PSFResult

__all__ = ["psf_figures"]

_STATUS_COLOURS = {"accepted": "#1a9850", "rejected": "#d73027"}


def psf_figures(result: PSFResult) -> list[Figure]:
    """Draw the PSF report's figures.

    Parameters
    ----------
    result : PSFResult
        The analysis result.

    Returns
    -------
    list of Figure
        For every channel: the overview, the profiles with fits, the FWHM distributions, the
        widths and centre through focus, and the field maps (each when there is something to draw).
    """
    figs: list[Figure] = []
    beads = result.beads
    for chan in result.channels:
        c = chan.channel
        tab = beads[beads["channel"] == c]
        acc = tab[tab["status"] == "accepted"]
        suffix = f" — channel {c} ({chan.name})" if len(result.channels) > 1 else ""
        mip = result.images.get(f"mip@ch{c}")
        if mip is not None:
            figs.append(_overview(mip, tab, result.voxel_size_um, suffix))
        if chan.profiles:
            figs.append(_profiles(chan, suffix))
        if len(acc):
            figs.append(_distributions(acc, chan, suffix))
        if chan.through_focus:
            figs.append(_through_focus(chan, suffix))
        if chan.maps:
            figs.append(_maps(chan, acc, suffix))
    return figs


def _through_focus(chan: ChannelPSF, suffix: str) -> Figure:
    """Lateral FWHM along x and y and the centre's path through focus, every through-focus bead."""
    tf = chan.through_focus
    fig = MplFigure(figsize=(10, 3))
    ax_w, ax_c = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    dz, valid = tf["dz_um"], tf["valid"]
    zf = np.linspace(np.nanmin(dz), np.nanmax(dz), 50)
    alpha = 0.8 if dz.shape[0] == 1 else 0.3
    # every bead in one artist per colour and kind: a figure's cost grows with its artists, not its points
    points: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"x": [], "y": [], "cx": [], "cy": []}
    curves: dict[str, list[np.ndarray]] = {"x": [], "y": [], "cx": [], "cy": []}
    for b in range(dz.shape[0]):
        ok = valid[b]
        points["x"].append((dz[b, ok], tf["fwhm_x_um"][b, ok]))
        points["y"].append((dz[b, ok], tf["fwhm_y_um"][b, ok]))
        for key, axis in (("coef_x", "x"), ("coef_y", "y")):
            c = tf[key][b]
            if np.isfinite(c).all():
                var = np.clip(c[0] + c[1] * zf + c[2] * zf**2, 0, None)
                curves[axis].append(np.column_stack([zf, 2.3548 * np.sqrt(var)]))
        if ok.any():
            for axis, key in (("cx", "x_um"), ("cy", "y_um")):
                path = np.column_stack([dz[b, ok], tf[key][b, ok] - np.nanmedian(tf[key][b, ok])])
                curves[axis].append(path)
                points[axis].append((path[:, 0], path[:, 1]))
    for axis, ax, marker, colour in (
        ("x", ax_w, "o", "#d95f02"),
        ("y", ax_w, "s", "#1b9e77"),
        ("cx", ax_c, "o", "#d95f02"),
        ("cy", ax_c, "s", "#1b9e77"),
    ):
        if points[axis]:
            xs = np.concatenate([p[0] for p in points[axis]])
            ys = np.concatenate([p[1] for p in points[axis]])
            ax.scatter(xs, ys, s=9 if axis in "xy" else 4, marker=marker, color=colour, alpha=alpha, lw=0)
        if curves[axis]:
            ax.add_collection(LineCollection(curves[axis], colors=colour, alpha=alpha, lw=0.8))
    ax_w.autoscale_view()
    ax_c.autoscale_view()
    ax_w.plot([], [], "o-", color="#d95f02", label="x")
    ax_w.plot([], [], "s-", color="#1b9e77", label="y")
    ax_w.set_xlabel("z − focus (µm)")
    ax_w.set_ylabel("lateral FWHM (µm)")
    ax_w.legend(fontsize=7)
    ax_c.set_xlabel("z − focus (µm)")
    ax_c.set_ylabel("centre − its median (µm)")
    return Figure(
        "Through focus" + suffix,
        figure_to_png(fig),
        "Left: FWHM along x (orange) and y (green) of 2D fits in every plane within one axial FWHM of focus, "
        "with the fitted parabolas of the variances; astigmatism puts their minima at different z. Right: the "
        "fitted centre along x and y; a slope is a tilted PSF, a bow (same way above and below) is coma.",
    )


def _overview(
    mip: npt.NDArray[Any], tab: pd.DataFrame, voxel: tuple[float, float, float], suffix: str
) -> Figure:
    _, dy, dx = voxel
    h, w = mip.shape
    fig = MplFigure(figsize=(6.5, 6.5 * h / w + 0.3))
    ax = fig.add_subplot()
    lo, hi = np.percentile(mip, [1, 99.8])
    ax.imshow(mip, cmap="gray", vmin=lo, vmax=hi, extent=(-dx / 2, (w - 0.5) * dx, (h - 0.5) * dy, -dy / 2))
    for status, colour in _STATUS_COLOURS.items():
        sel = tab[tab["status"] == status]
        ax.scatter(
            sel["x_px"] * dx,
            sel["y_px"] * dy,
            s=60,
            facecolors="none",
            edgecolors=colour,
            label=f"{status} ({len(sel)})",
        )
    for _, row in tab[tab["status"] == "rejected"].iterrows():
        ax.annotate(
            str(row["reason"]),
            (row["x_px"] * dx, row["y_px"] * dy),
            fontsize=6,
            color="#d73027",
            xytext=(4, 4),
            textcoords="offset points",
        )
    ax.set_xlabel(heading("psf", "x_um"))
    ax.set_ylabel(heading("psf", "y_um"))
    ax.legend(loc="upper right", fontsize=8)
    return Figure(
        "Beads found" + suffix,
        figure_to_png(fig),
        "Maximum-intensity projection with every candidate bead: accepted in green, rejected in red with the reason.",
    )


def _profiles(chan: ChannelPSF, suffix: str) -> Figure:
    p = chan.profiles
    n_cols = 4 if chan.averaged_bead is not None else 3
    fig = MplFigure(figsize=(3.2 * n_cols, 3.0))
    for k, ax_name in enumerate("xyz"):
        ax = fig.add_subplot(1, n_cols, k + 1)
        ax.plot(p[f"{ax_name}_um"], p[f"{ax_name}_data"], "o", ms=3, color="#333", label="data")
        ax.plot(p[f"{ax_name}_fit_um"], p[f"{ax_name}_fit"], "-", color="#d95f02", label="fit")
        fwhm = label("psf", f"fwhm_{ax_name}_um")
        ax.set_title(f"{fwhm.text} {p['fwhm'][ax_name]:.3f} {fwhm.unit_text}", fontsize=9)
        ax.set_xlabel(f"Position {ax_name} ({display_unit('um')})")  # coordinate along the profile
        if k == 0:
            ax.set_ylabel(f"Intensity ({display_unit('counts')})")
            ax.legend(fontsize=7)
    if chan.averaged_bead is not None:
        ax = fig.add_subplot(1, n_cols, 4)
        avg = chan.averaged_bead
        xz = avg[:, avg.shape[1] // 2, :]
        ax.imshow(xz, cmap="magma", aspect="auto", origin="lower")
        ax.set_title(f"averaged bead, xz ({chan.averaged_bead_count} beads)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return Figure(
        "Profiles with fits" + suffix,
        figure_to_png(fig),
        "Data and fitted Gaussians through the bead closest to the median FWHMs: x and y through the fitted centre "
        "of its focal plane, z through its peak column; right, the sub-voxel aligned average of accepted beads (xz).",
    )


def _distributions(acc: pd.DataFrame, chan: ChannelPSF, suffix: str) -> Figure:
    fig = MplFigure(figsize=(10, 2.8))
    theory = chan.theory
    for k, ax_name in enumerate("xyz"):
        ax = fig.add_subplot(1, 3, k + 1)
        vals = acc[f"fwhm_{ax_name}_um"].dropna()
        ax.hist(vals, bins=min(30, max(5, len(vals) // 3)), color="#7570b3", alpha=0.8)
        ax.axvline(vals.median(), color="#111", lw=1.5, label=f"median {vals.median():.3f}")
        t = math.nan if theory is None else theory.axial_um if ax_name == "z" else theory.lateral_um
        if math.isfinite(t):  # a light sheet of unknown thickness has no axial theory
            ax.axvline(t, color="#1b9e77", ls="--", label=f"theory {t:.3f}")
        ax.set_xlabel(heading("psf", f"fwhm_{ax_name}_um"))
        ax.legend(fontsize=7)
    return Figure(
        "FWHM over accepted beads" + suffix,
        figure_to_png(fig),
        "Histograms; dashed: theory (MetroloJ_QC formula).",
    )


def _maps(chan: ChannelPSF, acc: pd.DataFrame, suffix: str) -> Figure:
    names = [
        n for n in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "lateral_asymmetry", "z_um") if n in chan.maps
    ]
    fig = MplFigure(figsize=(3.3 * len(names), 3.2))
    sy, sx = chan.map_scale_um
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), k + 1)
        m = chan.maps[name]
        extent = (0, m.shape[1] * sx, m.shape[0] * sy, 0)
        im = ax.imshow(m, cmap="viridis", extent=extent)
        ax.plot(acc["x_um"], acc["y_um"], "k.", ms=2)
        ax.set_title(label("psf", name).text, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=display_unit(label("psf", name).unit))
    fs = chan.focal_surface
    cap = "Linear interpolation between accepted beads (dots); blank outside their convex hull."
    if fs:
        cap += (
            f" Focal surface fit: slope x {fs['slope_x']:.2e}, slope y {fs['slope_y']:.2e} {display_unit('um/um')}, "
            f"curvature {fs['curvature_per_um']:.2e} µm⁻¹."
        )
    return Figure("Field dependence" + suffix, figure_to_png(fig), cap)

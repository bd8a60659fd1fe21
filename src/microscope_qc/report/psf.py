"""Figures of the PSF report: drawn once per channel, never per bead (a series is one SVG path)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from microscope_qc.report import Figure
from microscope_qc.report.labels import display_unit, heading, label
from microscope_qc.report.svg import Plot
from microscope_qc.report.svg.colours import percentiles

if TYPE_CHECKING:
    from microscope_qc.analysis.psf.result import ChannelPSF, PSFResult

__all__ = ["psf_figures"]

_STATUS_COLOURS = {"accepted": "#1a9850", "rejected": "#d73027"}
_X, _Y = "#d95f02", "#1b9e77"  # along x, along y
#: width of a figure spanning the report's column, in CSS pixels
_WIDE = 1000


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
        if chan.spherical:
            figs.append(_axial_profiles(chan, suffix))
        if chan.maps:
            figs.append(_maps(chan, acc, suffix))
    return figs


def _through_focus(chan: ChannelPSF, suffix: str) -> Figure:
    """Lateral FWHM along x and y and the centre's path through focus, every through-focus bead."""
    tf = chan.through_focus
    plot = Plot(_WIDE, 320, cols=2)
    ax_w, ax_c = plot.axes(0, 0), plot.axes(0, 1)
    dz, valid = tf["dz_um"], tf["valid"]
    zf = np.linspace(np.nanmin(dz), np.nanmax(dz), 50)
    alpha = 0.8 if dz.shape[0] == 1 else 0.35
    # every bead in one path per colour and kind: the figure's size grows with its series, not its beads
    points: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"x": [], "y": [], "cx": [], "cy": []}
    curves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"x": [], "y": [], "cx": [], "cy": []}
    for b in range(dz.shape[0]):
        ok = valid[b]
        points["x"].append((dz[b, ok], tf["fwhm_x_um"][b, ok]))
        points["y"].append((dz[b, ok], tf["fwhm_y_um"][b, ok]))
        for key, axis in (("coef_x", "x"), ("coef_y", "y")):
            c = tf[key][b]
            if np.isfinite(c).all():
                var = np.clip(c[0] + c[1] * zf + c[2] * zf**2, 0, None)
                curves[axis].append((zf, 2.3548 * np.sqrt(var)))
        if ok.any():
            for axis, key in (("cx", "x_um"), ("cy", "y_um")):
                path = (dz[b, ok], tf[key][b, ok] - np.nanmedian(tf[key][b, ok]))
                curves[axis].append(path)
                points[axis].append(path)
    for axis, ax, marker, colour in (
        ("x", ax_w, "o", _X),
        ("y", ax_w, "s", _Y),
        ("cx", ax_c, "o", _X),
        ("cy", ax_c, "s", _Y),
    ):
        name = axis[-1]
        ax.lines(curves[axis], colour, 0.8, alpha=alpha, label=name, marker=marker, css=f"{axis} curves")
        if points[axis]:
            xs = np.concatenate([p[0] for p in points[axis]])
            ys = np.concatenate([p[1] for p in points[axis]])
            size = 4.0 if axis in "xy" else 3.0
            ax.markers(xs, ys, marker, size=size, colour=colour, alpha=alpha, css=f"{axis} points")
    ax_w.set(xlabel="z − focus (µm)", ylabel="Lateral FWHM (µm)")
    ax_c.set(xlabel="z − focus (µm)", ylabel="Centre − its median (µm)")
    ax_w.legend()
    ax_c.legend()
    title = "Through focus" + suffix
    return Figure(
        title,
        plot.svg(title),
        "Left: FWHM along x (orange) and y (green) of 2D fits in every plane within one axial FWHM of focus, "
        "with the fitted parabolas of the variances; astigmatism puts their minima at different z. Right: the "
        "fitted centre along x and y; a slope is a tilted PSF, a bow (same way above and below) is coma.",
    )


def _axial_profiles(chan: ChannelPSF, suffix: str) -> Figure:
    """The axial profile of every through-focus bead with its fitted Gibson–Lanni profile."""
    sp = chan.spherical
    plot = Plot(_WIDE // 2 + 120, 320)
    ax = plot.axes()
    alpha = 0.8 if sp["z_um"].shape[0] == 1 else 0.35
    curves, xs, ys = [], [], []
    for b in range(sp["z_um"].shape[0]):
        ok = np.isfinite(sp["z_um"][b]) & np.isfinite(sp["model"][b])
        if not ok.any():
            continue
        curves.append((sp["z_um"][b, ok], sp["model"][b, ok]))
        good = ok & np.isfinite(sp["data"][b])
        xs.append(sp["z_um"][b, good])
        ys.append(sp["data"][b, good])
    ax.lines(curves, _X, 0.9, alpha=alpha, label="fit", css="fit curves")
    if xs:
        ax.markers(
            np.concatenate(xs), np.concatenate(ys), "o", size=3.0, colour=_Y, alpha=alpha, css="points"
        )
    ax.set(xlabel="z − peak of the fit (µm)", ylabel="Intensity on the axis (peak 1)")
    waves = sp["waves"][np.isfinite(sp["waves"])]
    title = "Axial profiles (spherical aberration)" + suffix
    return Figure(
        title,
        plot.svg(title),
        "The intensity along z through each bead (dots) and the vectorial Gibson–Lanni profile that fits it best "
        f"(lines; median {np.median(waves) if waves.size else float('nan'):+.3f} waves RMS). Spherical aberration "
        "puts rings on one side of focus and a smooth fall on the other; the side tells its sign.",
    )


def _overview(
    mip: npt.NDArray[Any], tab: pd.DataFrame, voxel: tuple[float, float, float], suffix: str
) -> Figure:
    _, dy, dx = voxel
    h, w = mip.shape
    box = 560.0
    plot = Plot(box + 72, box * (h * dy) / (w * dx) + 52)
    ax = plot.axes()
    lo, hi = percentiles(mip, [1, 99.8])
    # the largest of each block when shrunk: a bead of a few pixels stays visible
    extent = (-dx / 2, (w - 0.5) * dx, -dy / 2, (h - 0.5) * dy)
    ax.image(mip, "gray", extent, vmin=float(lo), vmax=float(hi), reduce="max")
    for status, colour in _STATUS_COLOURS.items():
        sel = tab[tab["status"] == status]
        ax.markers(
            sel["x_px"] * dx,
            sel["y_px"] * dy,
            "o",
            size=13.0,
            colour=colour,
            fill="none",
            label=f"{status} ({len(sel)})",
            css=f"beads {status}",
        )
    rejected = tab[tab["status"] == "rejected"]
    ax.texts(
        rejected["x_px"] * dx,
        rejected["y_px"] * dy,
        [str(r) for r in rejected["reason"]],
        colour="#ff4d3a",  # a lighter red: legible on the dark projection
        size=8.5,
        offset=(7.0, 6.0),  # clear of the bead's circle
        css="reasons",
    )
    ax.set(xlabel=heading("psf", "x_um"), ylabel=heading("psf", "y_um"))
    ax.legend("upper right")
    title = "Beads found" + suffix
    return Figure(
        title,
        plot.svg(title),
        "Maximum-intensity projection with every candidate bead: accepted in green, rejected in red with the reason.",
    )


def _profiles(chan: ChannelPSF, suffix: str) -> Figure:
    p = chan.profiles
    n_cols = 4 if chan.averaged_bead is not None else 3
    plot = Plot(_WIDE if n_cols == 4 else _WIDE * 0.8, 300, cols=n_cols)
    for k, ax_name in enumerate("xyz"):
        ax = plot.axes(0, k)
        ax.markers(p[f"{ax_name}_um"], p[f"{ax_name}_data"], "o", size=4.5, colour="#333333", label="data")
        ax.line(p[f"{ax_name}_fit_um"], p[f"{ax_name}_fit"], "#d95f02", 1.5, label="fit")
        fwhm = label("psf", f"fwhm_{ax_name}_um")
        ax.set(
            title=f"{fwhm.text} {p['fwhm'][ax_name]:.3f} {fwhm.unit_text}",
            xlabel=f"Position {ax_name} ({display_unit('um')})",  # coordinate along the profile
        )
        if k == 0:
            ax.set(ylabel=f"Intensity ({display_unit('counts')})")
            ax.legend()
    if chan.averaged_bead is not None:
        ax = plot.axes(0, 3)
        avg = chan.averaged_bead
        xz = avg[:, avg.shape[1] // 2, :]
        # origin at the bottom (z grows upwards), stretched to the panel as the other three
        ax.image(xz, "magma", origin="lower", equal=False)
        ax.hide_ticks()
        ax.set(title=f"Averaged bead, xz ({chan.averaged_bead_count} beads)", xlabel="x →", ylabel="z →")
    title = "Profiles with fits" + suffix
    return Figure(
        title,
        plot.svg(title),
        "Data and fitted Gaussians through the bead closest to the median FWHMs: x and y through the fitted centre "
        "of its focal plane, z through its peak column; right, the sub-voxel aligned average of accepted beads (xz).",
    )


def _distributions(acc: pd.DataFrame, chan: ChannelPSF, suffix: str) -> Figure:
    plot = Plot(_WIDE, 290, cols=3)
    theory = chan.theory
    for k, ax_name in enumerate("xyz"):
        ax = plot.axes(0, k)
        vals = acc[f"fwhm_{ax_name}_um"].dropna()
        ax.histogram(vals, bins=min(30, max(5, len(vals) // 3)), colour="#7570b3", alpha=0.8)
        ax.rule(float(vals.median()), colour="#111111", width=1.5, label=f"median {vals.median():.3f}")
        t = math.nan if theory is None else theory.axial_um if ax_name == "z" else theory.lateral_um
        if math.isfinite(t):  # a light sheet of unknown thickness has no axial theory
            ax.rule(t, colour="#1b9e77", width=1.5, dash="5,3", label=f"theory {t:.3f}")
        ax.set(xlabel=heading("psf", f"fwhm_{ax_name}_um"))
        if k == 0:
            ax.set(ylabel="Beads (count)")
        ax.legend()
    title = "FWHM over accepted beads" + suffix
    return Figure(title, plot.svg(title), "Histograms; dashed: theory (MetroloJ_QC formula).")


def _maps(chan: ChannelPSF, acc: pd.DataFrame, suffix: str) -> Figure:
    names = [
        n for n in ("fwhm_x_um", "fwhm_y_um", "fwhm_z_um", "lateral_asymmetry", "z_um") if n in chan.maps
    ]
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    plot = Plot(_WIDE if cols == 3 else _WIDE * cols / 3, 300 * rows, rows=rows, cols=cols)
    sy, sx = chan.map_scale_um
    for k, name in enumerate(names):
        ax = plot.axes(k // cols, k % cols)
        m = chan.maps[name]
        scale = ax.image(m, "viridis", (0, m.shape[1] * sx, 0, m.shape[0] * sy))
        ax.markers(acc["x_um"], acc["y_um"], ".", size=2.5, colour="#000000", css="beads accepted")
        lab = label("psf", name)
        ax.set(title=lab.text)
        ax.hide_ticks()
        ax.colourbar(scale, lab.unit_text or "no unit")
    fs = chan.focal_surface
    cap = "Linear interpolation between accepted beads (dots); blank outside their convex hull."
    if fs:
        cap += (
            f" Focal surface fit: slope x {fs['slope_x']:.2e}, slope y {fs['slope_y']:.2e} {display_unit('um/um')}, "
            f"curvature {fs['curvature_per_um']:.2e} µm⁻¹."
        )
    title = "Field dependence" + suffix
    return Figure(title, plot.svg(title), cap)

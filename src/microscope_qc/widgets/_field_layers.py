"""What the field-illumination widget draws, built off the GUI thread, and its legend."""

from __future__ import annotations

import html

import numpy as np
from napari.utils.colormaps import Colormap

from microscope_qc.analysis.field import PROFILE_NAMES, FieldResult
from microscope_qc.widgets._layers import LayerSpec
from microscope_qc.widgets._views import _lut

__all__ = ["CENTRE_COLOURS", "field_specs", "legend_html", "iso_colours", "roi_spec", "profile_curves"]

CENTRE_COLOURS = {
    "image centre": "#ffffff",
    "reference zone centroid": "#ffa500",
    "fitted illumination centre": "#00ffff",
    "centre of intensity": "#ff00ff",
    "maximum": "#ffff00",
}
ROI_ROLES = {"include": "roi include", "exclude": "roi exclude"}
ROI_NAMES = {"include": "field: analyse only inside", "exclude": "field: exclude"}
ROI_COLOURS = {"include": "#40e0d0", "exclude": "#ff4040"}
#: the four profiles, the same colours on the canvas and in the plot
PROFILE_COLOURS = ["#4e9fff", "#ff9f1c", "#7bd957", "#f25cbc"]


def _turbo(x: np.ndarray) -> np.ndarray:
    """RGBA (0–1) of turbo at ``x`` in [0, 1], looked up as matplotlib does (index ⌊256·x⌋, at most
    255) in the reports' colour table: no matplotlib import when a dock opens or a result is shown."""
    index = np.minimum((np.asarray(x, float) * 256).astype(int), 255)
    rgba: np.ndarray = _lut("turbo")[index] / 255.0
    return rgba


def iso_colours(step: float) -> list[tuple[float, float, float, float]]:
    """One colour per iso-intensity class (0 %, step, ..., 100 %), dark blue to dark red."""
    n = int(round(100 / step)) + 1
    rgba = _turbo(np.arange(n) / max(n - 1, 1))
    return [(float(r), float(g), float(b), float(a)) for r, g, b, a in rgba]


def _iso_colormap() -> Colormap:
    """One fixed colormap for every step (a new colormap would cost a shader rebuild on each live
    update): −1 (excluded pixels) transparent, then turbo from 0 % to 100 %. Class k·step % is drawn
    at value k·step, so its colour is the legend's ``iso_colours(step)[k]``."""
    turbo = _turbo(np.linspace(0, 1, 64))
    first = 1.0 / 101.0  # value 0 within contrast limits (−1, 100)
    colours = np.vstack([[0.0, 0.0, 0.0, 0.0], turbo])
    controls = np.concatenate([[0.0], first + (1 - first) * np.linspace(0, 1, 64)])
    return Colormap(colors=colours, controls=controls, interpolation="linear", name="iso-intensity classes")


ISO_COLORMAP = _iso_colormap()
ISO_LIMITS = (-1.0, 100.0)


def iso_classes(iso_map: np.ndarray) -> np.ndarray:
    """The class of each pixel in percent (its lower bound), excluded pixels −1, as float32."""
    iso = np.asarray(iso_map)
    valid = (
        (np.isfinite(iso) if iso.dtype.kind == "f" else np.ones(iso.shape, bool)) & (iso >= 0) & (iso <= 100)
    )
    return np.where(valid, iso, -1).astype(np.float32)


def zone_outline(zone: np.ndarray, width: int = 2) -> np.ndarray:
    """The reference zone's boundary, ``width`` pixels wide, as 0/1 float32."""
    from scipy import ndimage

    z = np.asarray(zone, bool)
    return (z & ~ndimage.binary_erosion(z, iterations=width)).astype(np.float32)


OUTLINE_COLORMAP = Colormap(
    colors=[(0, 0, 0, 0), (1, 1, 1, 1)], controls=[0.0, 0.5, 1.0], interpolation="zero", name="outline"
)


def _limits(image: np.ndarray) -> tuple[float, float]:
    finite = image[np.isfinite(image)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def field_specs(result: FieldResult, scale, translate, step: float) -> list[LayerSpec]:
    """Every overlay; images and labels first so that centres and profiles are drawn on top."""
    chan = result.channels[0]
    geo = {"scale": tuple(scale), "translate": tuple(translate)}
    size = max(chan.blurred.shape) / 50
    specs = [
        LayerSpec(
            "iso",
            "image",
            f"field iso-intensity classes ({step:g} % steps)",
            iso_classes(chan.iso_map),
            update=geo,
            style={
                "opacity": 0.55,
                "interpolation2d": "nearest",
                "colormap": ISO_COLORMAP,
                "contrast_limits": ISO_LIMITS,
            },
            meta={"step": step},
        ),
        LayerSpec(
            "zone",
            "image",
            f"field reference zone ({100 - step:g}–100 %), outlined",
            zone_outline(chan.reference_zone, max(1, int(round(max(chan.blurred.shape) / 256)))),
            update={**geo, "colormap": OUTLINE_COLORMAP, "contrast_limits": (0.0, 1.0)},
            style={"interpolation2d": "nearest", "blending": "translucent"},
        ),
    ]
    if chan.model is not None:
        specs.append(
            LayerSpec(
                "model",
                "image",
                "field illumination model",
                chan.model,
                update=geo,
                style={"colormap": "viridis", "visible": False},
                auto={"contrast_limits": _limits(chan.model)},
            )  # fmt: skip
        )
    if chan.residual is not None:
        lim = float(np.nanpercentile(np.abs(chan.residual), 99.5)) or 0.01
        specs.append(
            LayerSpec(
                "residual",
                "image",
                "field residual (image / model − 1)",
                chan.residual,
                update=geo,
                style={"colormap": "PiYG", "visible": False},
                auto={"contrast_limits": (-lim, lim)},
            )  # fmt: skip
        )
    # the profiles as line vectors (start, end − start): napari draws and adds a Vectors layer in about
    # half the time of a Shapes layer of lines (benchmarks/widgets.py), and they are not edited
    ends = np.array([[p["start"], p["end"]] for p in chan.profiles.values()], dtype=float).reshape(-1, 2, 2)
    specs.append(
        LayerSpec(
            "profiles",
            "vectors",
            "field profiles",
            np.stack([ends[:, 0], ends[:, 1] - ends[:, 0]], axis=1),
            update={
                **geo,
                "edge_width": max(chan.blurred.shape) / 300,
                "edge_color": PROFILE_COLOURS[: len(ends)],
            },
            style={"vector_style": "line"},
        )
    )
    names = list(chan.centres)
    pts = np.array([chan.centres[n] for n in names], dtype=float).reshape(-1, 2)
    specs.append(
        LayerSpec(
            "centres",
            "points",
            "field centres (colours: see the widget's legend)",
            pts,
            update={
                **geo,
                "features": {"name": names},
                "face_color": [CENTRE_COLOURS.get(n, "#ffffff") for n in names],
                "size": size,
            },
            style={"border_color": "black", "border_width": 0.1},
        )
    )
    return specs


def profile_curves(result: FieldResult) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """The four MetroloJ_QC profiles of the blurred image as ``(label, colour, x, y)`` for
    :class:`~microscope_qc.widgets._views.LinePlot`: x the position along the profile as a fraction
    of its length, y the intensity as a fraction of the maximum."""
    from microscope_qc.report.labels import label

    chan = result.channels[0]
    peak = float(np.nanmax(chan.blurred)) or 1.0
    curves = []
    for k, (name, p) in enumerate(chan.profiles.items()):
        x = np.asarray(p["distance_px"], float) / max(float(p["distance_px"][-1]), 1.0)
        y = np.asarray(p["blurred"], float) / peak
        curves.append((label("field", name).text, PROFILE_COLOURS[k % len(PROFILE_COLOURS)], x, y))
    return curves


def roi_spec(kind: str, scale, translate) -> LayerSpec:
    """An empty Shapes layer the user draws rectangles or polygons in (``kind`` include/exclude)."""

    def ready(layer) -> None:
        layer.mode = "add_rectangle"

    return LayerSpec(
        ROI_ROLES[kind],
        "shapes",
        ROI_NAMES[kind],
        [],
        update={"scale": tuple(scale), "translate": tuple(translate)},
        style={"edge_color": ROI_COLOURS[kind], "face_color": ROI_COLOURS[kind] + "33", "edge_width": 2},
        after=ready,
    )


def legend_html(step: float, has_model: bool) -> str:
    """What the colours mean: iso classes, centres, regions."""
    swatch = "<span style='white-space:nowrap'><span style='color:{c}'>■</span>&nbsp;{t}</span>"
    classes = []
    for k, c in enumerate(iso_colours(step)):
        lo = k * step
        hi = min(lo + step, 100)
        rgb = "#{:02x}{:02x}{:02x}".format(*(int(255 * v) for v in c[:3]))
        text = "100\u00a0%" if lo >= 100 else f"{lo:g}–{hi:g}\u00a0%"
        classes.append(swatch.format(c=rgb, t=text))
    centres = [swatch.format(c=c, t=html.escape(n)) for n, c in CENTRE_COLOURS.items()]
    from microscope_qc.report.labels import FIELD_PROFILE_LABELS

    profiles = [
        swatch.format(c=c, t=html.escape(FIELD_PROFILE_LABELS.get(n, n)))
        for n, c in zip(PROFILE_NAMES, PROFILE_COLOURS, strict=True)
    ]
    regions = [
        swatch.format(c=ROI_COLOURS["include"], t="analysed region (if drawn)"),
        swatch.format(c=ROI_COLOURS["exclude"], t="excluded region (if drawn)"),
    ]
    extra = (
        "<br><small>Hidden layers: the fitted illumination model and the residual (image / model − 1; "
        "dust and defects stand out); tick their eye in the layer list. Their colour scales are below.</small>"
        if has_model
        else ""
    )
    return (
        "<b>Iso-intensity classes</b> (share of the maximum; drawn at 55 % opacity over the image)<br>"
        + " &nbsp; ".join(classes)
        + "<br><b>Centres</b><br>"
        + "<br>".join(centres)
        + "<br><b>Profiles</b><br>"
        + "<br>".join(profiles)
        + "<br><b>Regions</b><br>"
        + "<br>".join(regions)
        + extra
    )

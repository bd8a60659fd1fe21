"""The report's SVG plotting: ticks, the PNG encoder, colour maps, well-formed documents, one path a series."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

from microscope_qc.report.svg import Plot, colour_table, encode_png, nice_ticks, tick_labels
from microscope_qc.report.svg.colours import BAD, ColourScale
from microscope_qc.report.svg.ticks import padded_range, text_width

SVG = "{http://www.w3.org/2000/svg}"


def decode_png(data: bytes) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """A minimal PNG reader (8-bit, filter type 0, what encode_png writes): pixels, palette, palette alpha."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, palette, alpha = 8, b"", None, None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        if kind == b"IHDR":
            w, h, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            alpha = np.frombuffer(body, np.uint8)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = {0: 1, 2: 3, 3: 1, 6: 4}[colour_type]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * channels)
    assert (raw[:, 0] == 0).all()  # filter type none on every row
    pixels = raw[:, 1:].reshape((h, w) if channels == 1 else (h, w, channels))
    return pixels, palette, alpha


# ---------------------------------------------------------------- ticks
@pytest.mark.parametrize(
    ("lo", "hi", "target", "expected"),
    [
        (0.0, 1.0, 5, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (5.3, 6.9, 3, [5.5, 6.0, 6.5]),
        (-0.83, 0.83, 4, [-0.5, 0.0, 0.5]),
        (0.0, 110.0, 5, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]),
        (1900.0, 3010.0, 5, [2000.0, 2200.0, 2400.0, 2600.0, 2800.0, 3000.0]),
        (1900.0, 3010.0, 3, [2000.0, 2500.0, 3000.0]),
    ],
)
def test_nice_ticks_are_round_steps_inside_the_range(lo, hi, target, expected):
    assert nice_ticks(lo, hi, target) == pytest.approx(expected)


def test_tick_labels_use_as_few_decimals_as_needed_and_a_true_minus():
    assert tick_labels([0.0, 0.2, 0.4]) == ["0.0", "0.2", "0.4"]
    assert tick_labels([2000.0, 2250.0, 2500.0]) == ["2000", "2250", "2500"]
    assert tick_labels([-0.5, 0.0, 0.5]) == ["−0.5", "0.0", "0.5"]
    assert tick_labels([0.2125, 0.215, 0.2175]) == ["0.2125", "0.2150", "0.2175"]
    assert tick_labels([0.0, 2e6, 4e6]) == ["0", "2e+06", "4e+06"]


def test_padded_range_and_degenerate_ranges():
    assert padded_range([0.0, 10.0]) == pytest.approx((-0.5, 10.5))
    lo, hi = padded_range([3.0])
    assert lo < 3.0 < hi
    assert padded_range([np.nan]) == (0.0, 1.0)
    assert nice_ticks(1.0, 1.0) == [1.0]


# ---------------------------------------------------------------- PNG
@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 3), (7, 5, 4)])
def test_png_round_trips(shape):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
    back, palette, alpha = decode_png(encode_png(pixels))
    np.testing.assert_array_equal(back, pixels)
    assert palette is None and alpha is None


def test_palette_png_round_trips_and_matches_pillow():
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 256, size=(9, 13), dtype=np.uint8)
    palette = colour_table("viridis")
    alpha = np.full(256, 255, np.uint8)
    alpha[BAD] = 0
    data = encode_png(idx, palette, alpha)
    back, pal, al = decode_png(data)
    np.testing.assert_array_equal(back, idx)
    np.testing.assert_array_equal(pal, palette)
    np.testing.assert_array_equal(al, alpha)
    pil = pytest.importorskip("PIL.Image")
    import io

    rgba = np.asarray(pil.open(io.BytesIO(data)).convert("RGBA"))
    np.testing.assert_array_equal(rgba[..., :3], palette[idx])
    np.testing.assert_array_equal(rgba[..., 3], alpha[idx])


def test_png_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="shape|\\(H, W\\)"):
        encode_png(np.zeros((2, 2, 2), np.uint8))


# ---------------------------------------------------------------- colours
@pytest.mark.parametrize("name", ["viridis", "magma", "turbo", "RdBu_r", "gray"])
def test_colour_tables_are_matplotlibs(name):
    matplotlib = pytest.importorskip("matplotlib")
    ours = colour_table(name).astype(int)
    theirs = np.round(matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(int)
    assert np.abs(ours - theirs).max() <= 1


def test_colour_scale_indices():
    s = ColourScale("viridis", 0.0, 10.0)
    idx = s.indices(np.array([-5.0, 0.0, 5.0, 10.0, 20.0, np.nan]))
    assert idx.tolist() == [0, 0, 127, 254, 254, BAD]
    classes = ColourScale("turbo", 0, 110, tuple(range(0, 111, 10)))
    assert classes.indices(np.array([0.0, 9.9, 10.0, 100.0, np.nan])).tolist() == [0, 0, 1, 10, BAD]
    with pytest.raises(KeyError, match="jet"):
        colour_table("jet")


# ---------------------------------------------------------------- documents
def _plot_with_everything() -> tuple[Plot, int]:
    rng = np.random.default_rng(3)
    n = 200
    plot = Plot(900, 600, rows=2, cols=2)
    ax = plot.axes(0, 0)
    x = rng.normal(size=n)
    ax.markers(
        x, x * 2 + rng.normal(size=n), "o", colour="#333333", label="beads <n=200> & more", css="beads"
    )
    ax.line(np.linspace(-3, 3, 50), np.linspace(-6, 6, 50), "#d95f02", label="fit")
    ax.errorbars([0.0, 1.0], [0.0, 2.0], [0.3, 0.4])
    ax.span(-1, 1, colour="#1b9e77", label="tolerance")
    ax.set(title="A <title> & more", xlabel="Position x (µm)", ylabel="Intensity (counts)")
    ax.legend()
    hist = plot.axes(0, 1)
    hist.histogram(rng.normal(size=n), bins=20)
    hist.rule(0.0, dash="5,3", label="median")
    hist.set(xlabel="FWHM (µm)", ylabel="Beads (count)")
    hist.legend("upper left")
    im = plot.axes(1, 0)
    values = rng.random((40, 60))
    values[:5] = np.nan
    scale = im.image(values, "viridis", (0, 6, 0, 4))
    im.colourbar(scale, "Value (µm)")
    im.texts([1.0], [1.0], ["a <reason>"])
    arrows = plot.axes(1, 1)
    arrows.arrows(rng.random(10), rng.random(10), rng.random(10) / 10, rng.random(10) / 10)
    arrows.equal, arrows.y_down = True, True
    return plot, n


def test_svg_is_well_formed_with_one_path_per_series():
    plot, n = _plot_with_everything()
    svg = plot.svg("Everything <&>")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title").text == "Everything <&>"
    beads = [p for p in root.iter(f"{SVG}path") if "beads" in p.get("class", "")]
    assert len(beads) == 1 and beads[0].get("data-count") == str(n)
    assert beads[0].get("d").count("M") == n  # one subpath a marker
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for expected in ("A <title> & more", "Position x (µm)", "Intensity (counts)", "Value (µm)", "a <reason>"):
        assert expected in texts
    assert "beads <n=200> & more" in texts and "median" in texts and "tolerance" in texts
    images = [e for e in root.iter(f"{SVG}image")]
    assert len(images) == 2  # the image and its colour bar
    href = images[0].get("{http://www.w3.org/1999/xlink}href")
    import base64

    pixels, palette, alpha = decode_png(base64.b64decode(href.split(",", 1)[1]))
    assert alpha is not None and alpha[pixels[0, 0]] == 0  # NaN rows are transparent
    arrows = [g for g in root.iter(f"{SVG}g") if "arrows" in g.get("class", "")]
    assert arrows[0].get("data-count") == "10"


def test_ids_are_unique_across_figures():
    a, _ = _plot_with_everything()
    b, _ = _plot_with_everything()
    ids = re.findall(r'id="([^"]+)"', a.svg() + b.svg())
    assert ids and len(ids) == len(set(ids))


def test_tick_labels_do_not_overlap_and_stay_inside_the_figure():
    plot = Plot(560, 200, cols=2)
    for c in range(2):
        ax = plot.axes(0, c)
        ax.line([0, 123456.0], [0, 1e5], "#333333")
        ax.set(xlabel="a long x label (µm)", ylabel="a long y label (µm)")
    root = ET.fromstring(plot.svg())
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "xticks":
            xs = [float(t.get("x")) for t in group]
            widths = [text_width(t.text, 10.0) for t in group]
            for k in range(len(xs) - 1):
                assert xs[k + 1] - xs[k] > (widths[k] + widths[k + 1]) / 2
    for t in root.iter(f"{SVG}text"):
        if t.get("transform") is None and t.get("text-anchor") == "middle":
            half = text_width(t.text, float(t.get("font-size") or 10)) / 2
            assert 0 <= float(t.get("x")) - half and float(t.get("x")) + half <= 560


def test_empty_series_and_hidden_axes_still_draw():
    plot = Plot(400, 200, cols=2)
    ax = plot.axes(0, 0)
    ax.lines([], "#d95f02", label="x", marker="o")
    ax.legend()
    plot.axes(0, 1).off("Nothing to show")
    root = ET.fromstring(plot.svg())
    assert "Nothing to show" in ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    with pytest.raises(IndexError):
        plot.axes(1, 0)


def test_polylines_break_at_nan_and_thin_dense_profiles_without_changing_their_extent():
    from microscope_qc.report.svg.marks import polyline_data

    d = polyline_data(
        np.array([0.0, 1.0, np.nan, 3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0, np.nan, 4.0, 5.0])
    )
    assert d == "M0.0,0.0L1.0,1.0M4.0,4.0L5.0,5.0"
    assert polyline_data(np.array([np.nan]), np.array([1.0])) == ""
    rng = np.random.default_rng(4)
    x = np.linspace(0, 200, 3000)
    y = rng.normal(size=x.size) * 20 + 100
    d = polyline_data(x, y)
    pts = np.array([[float(v) for v in p.split(",")] for p in d[1:].split("L")])
    assert len(pts) < 900  # at most four points a pixel column
    assert pts[0] == pytest.approx([0.0, y[0]], abs=0.06) and pts[-1] == pytest.approx(
        [200.0, y[-1]], abs=0.06
    )
    for c in (0, 57, 123, 199):  # each pixel column keeps its lowest and highest point
        inside = (x >= c) & (x < c + 1)
        kept = (pts[:, 0] >= c) & (pts[:, 0] < c + 1)
        assert pts[kept, 1].min() == pytest.approx(y[inside].min(), abs=0.06)
        assert pts[kept, 1].max() == pytest.approx(y[inside].max(), abs=0.06)
    assert np.all(np.diff(pts[:, 0]) >= 0)  # in order along the line


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint8, np.float32])
def test_percentiles_by_counting_equal_numpys(dtype):
    from microscope_qc.report.svg.colours import percentiles

    rng = np.random.default_rng(5)
    lo = -300 if np.dtype(dtype).kind in "if" else 0
    image = rng.integers(lo, 250, size=(37, 41)).astype(dtype)
    q = [0, 1, 37.5, 50, 99.8, 100]
    np.testing.assert_allclose(percentiles(image, q), np.percentile(image, q), rtol=0, atol=1e-9)
    np.testing.assert_allclose(percentiles(image[:1, :1], q), np.percentile(image[:1, :1], q))


def test_a_mark_must_say_how_it_draws_itself():
    from microscope_qc.report.svg.artists import Mark

    with pytest.raises(TypeError, match="abstract"):
        Mark()  # type: ignore[abstract]

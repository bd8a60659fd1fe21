"""Report figures are SVG drawn without matplotlib: well-formed, every series drawn once, labelled."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

SVG = "{http://www.w3.org/2000/svg}"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def psf_result():
    from tests.conftest import microscope_for

    from microscope_qc.analysis.psf import PSFSettings, analyze_psf
    from microscope_qc.samples import psf_beads_sample

    sample = psf_beads_sample()
    return analyze_psf(sample.data, PSFSettings(microscope=microscope_for(sample)))


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _paths(root: ET.Element, css: str) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if css in p.get("class", "").split()]


def test_psf_figures_are_svg_with_one_marker_per_bead(psf_result):
    from microscope_qc.report.psf import psf_figures

    figures = psf_figures(psf_result)
    assert [f.title for f in figures] == [
        "Beads found",
        "Profiles with fits",
        "FWHM over accepted beads",
        "Through focus",
        "Axial profiles (spherical aberration)",
        "Field dependence",
    ]
    roots = {f.title: _parse(f.svg) for f in figures}
    beads = psf_result.beads
    n_acc = int((beads["status"] == "accepted").sum())
    n_rej = len(beads) - n_acc
    overview = roots["Beads found"]
    (accepted,) = [p for p in _paths(overview, "beads") if "accepted" in p.get("class")]
    assert int(accepted.get("data-count")) == n_acc == accepted.get("d").count("M")
    assert f"accepted ({n_acc})" in _texts(overview) and f"rejected ({n_rej})" in _texts(overview)
    assert {"Position x (µm)", "Position y (µm)"} <= set(_texts(overview))
    assert len(list(overview.iter(f"{SVG}image"))) == 1
    # the field maps: each map marks the accepted beads, in one path, and has a labelled colour bar
    maps = roots["Field dependence"]
    dots = _paths(maps, "beads")
    assert len(dots) == len(psf_result.channels[0].maps) - ("theta_deg" in psf_result.channels[0].maps)
    assert all(int(d.get("data-count")) == n_acc for d in dots)
    assert sum(1 for g in maps.iter(f"{SVG}g") if g.get("class") == "colourbar") == len(dots)
    assert "µm" in [t for g in maps.iter(f"{SVG}g") for t in _texts(g) if g.get("class") == "colourbar"]
    profiles = _texts(roots["Profiles with fits"])
    assert "Intensity (counts)" in profiles and "Position z (µm)" in profiles
    assert any(t.startswith("Lateral FWHM x 0.2") for t in profiles)
    hist = _texts(roots["FWHM over accepted beads"])
    assert "Axial FWHM z (µm)" in hist and any(t.startswith("median ") for t in hist)


def test_through_focus_draws_each_series_once_not_per_bead(psf_result):
    from microscope_qc.report.psf import psf_figures

    (through,) = [f for f in psf_figures(psf_result) if f.title == "Through focus"]
    root = _parse(through.svg)
    n_beads = psf_result.channels[0].through_focus["dz_um"].shape[0]
    assert n_beads > 1
    for series in ("x", "y", "cx", "cy"):
        curves = [p for p in _paths(root, "curves") if series in p.get("class").split()]
        assert len(curves) == 1  # one path holding every bead's curve
    fwhm_x = [p for p in _paths(root, "points") if "x" in p.get("class").split()]
    assert len(fwhm_x) == 1 and int(fwhm_x[0].get("data-count")) > n_beads
    assert {"Lateral FWHM (µm)", "z − focus (µm)", "x", "y"} <= set(_texts(root))


def test_field_figures_are_svg_with_outlines_and_labelled_colour_bars():
    from microscope_qc.analysis.field import FieldSettings, analyze_field
    from microscope_qc.report.field import field_figures
    from microscope_qc.samples import flat_field_sample

    result = analyze_field(flat_field_sample().data, FieldSettings())
    figures = field_figures(result)
    roots = [_parse(f.svg) for f in figures]
    iso = roots[0]
    texts = _texts(iso)
    assert "Intensity class (% of max)" in texts and "Model intensity (counts)" in texts
    assert [str(v) for v in range(0, 111, 10)] == [
        t for g in iso.iter(f"{SVG}g") if g.get("class") == "colourbar" for t in _texts(g)
    ][:12]
    assert len(_paths(iso, "outline")) >= 1 and len(_paths(iso, "centre")) == len(result.channels[0].centres)
    for name in result.channels[0].centres:
        assert name in texts
    assert "Intensity (counts)" in _texts(roots[1]) and "Distance along the profile (px)" in _texts(roots[1])
    assert "Image / model − 1 (%)" in _texts(roots[2])


def test_coregistration_figure_draws_one_arrow_per_matched_bead():
    from tests.analysis.test_coregistration import _settings

    from microscope_qc.analysis.coregistration import analyze_coregistration
    from microscope_qc.report.coregistration import coregistration_figures
    from microscope_qc.samples import coregistration_sample

    sample = coregistration_sample()
    result = analyze_coregistration(sample.data, _settings(sample))
    (fig,) = coregistration_figures(result)
    root = _parse(fig.svg)
    n = int(result.tables["pairs"].iloc[0].n_matched)
    counts = [int(g.get("data-count")) for g in root.iter(f"{SVG}g") if "arrows" in g.get("class", "")]
    assert counts == [n, n]
    assert {"Position x (µm)", "Position y (µm)"} <= set(_texts(root))


def test_report_is_self_contained_with_inline_svg(psf_result, tmp_path):
    from microscope_qc.report import InputInfo, export_result
    from microscope_qc.report.psf import psf_figures

    paths = export_result(psf_result, tmp_path, InputInfo(None, None, (1, 2, 3), "uint16"), psf_figures)
    page = paths["html"].read_text()
    svgs = page.count("<svg ")  # the five PSF figures and the axial profiles (spherical aberration)
    assert svgs == 6 and page.count("</svg>") == svgs
    assert (
        "<img" not in page
        and "src='http" not in page
        and 'href="http'
        not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
            'xmlns:xlink="http://www.w3.org/1999/xlink"', ""
        )
    )


def test_export_needs_no_matplotlib(tmp_path):
    """The whole export, in a fresh process as the command line runs it, never imports matplotlib."""
    code = textwrap.dedent(
        f"""
        import sys
        from microscope_qc.cli import main
        code = main(["sample", "psf-beads", {str(tmp_path / "b.ome.tif")!r}])
        assert code == 0, code
        code = main(["psf", {str(tmp_path / "b.ome.tif")!r}, "--out", {str(tmp_path / "o")!r}, "--quiet"])
        assert code in (0, 3), code
        print("@", "matplotlib" in sys.modules, any(m.startswith("matplotlib") for m in sys.modules))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].split() == ["@", "False", "False"]
    assert (tmp_path / "o" / "b" / "report.html").read_text().count("<svg ") == 6


def test_colour_scale_of_a_constant_image_still_draws():
    from microscope_qc.report.svg import Plot

    plot = Plot(300, 300)
    ax = plot.axes()
    scale = ax.image(np.full((8, 8), 3.0), "viridis")
    ax.colourbar(scale, "constant (µm)")
    assert "constant (µm)" in _texts(_parse(plot.svg()))


def test_item_table_cells_formatted_a_column_at_a_time():
    import pandas as pd

    from microscope_qc.report.export import _table_html

    table = pd.DataFrame(
        {
            "fwhm_x_um": [0.123456, np.nan, np.inf],
            "bead_id": [1, 2, 3],
            "reason": ["a<b", None, "ok"],  # pandas stores the missing string as NaN
            "z_um": np.array([1e10, -0.0, 2.5], np.float32),
            "mixed": [0.5, "text", np.nan],
            "flags": pd.Series([True, 1, 1.0], dtype=object),  # equal as keys, not as text
        }
    )
    html = _table_html(table, "psf")
    rows = html.split("</th></tr>", 1)[1]
    assert rows == (
        "<tr><td>0.1235</td><td>1</td><td>a&lt;b</td><td>1e+10</td><td>0.5</td><td>True</td></tr>"
        "<tr><td>—</td><td>2</td><td>—</td><td>-0</td><td>text</td><td>1</td></tr>"
        "<tr><td>—</td><td>3</td><td>ok</td><td>2.5</td><td>—</td><td>1</td></tr></table>"
    )
    assert (
        _table_html(table[[]], "psf") == "<table><tr></tr>" + "<tr></tr>" * 3 + "</table>"
    )  # header, 3 rows

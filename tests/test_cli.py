"""The command line: the results contract, summary table, exit codes, no silent overwrite."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from microscope_qc.cli import main


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "beads.ome.tif"
    assert main(["sample", "psf-beads", str(path)]) == 0
    return path


@pytest.mark.slow
def test_psf_results_contract(sample_file, tmp_path, capsys):
    assert main(["psf", str(sample_file), "--out", str(tmp_path), "--bead-diameter", "0.1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "beads.ome.tif" in out and "fwhm_x_um" in out and "PASS" in out
    folder = tmp_path / "beads"
    doc = json.loads((folder / "results.json").read_text())
    assert doc["measurement"] == "psf"
    assert doc["software"]["name"] == "napari-microscope-qc" and doc["software"]["version"]
    assert set(doc["input"]) >= {"path", "sha256", "shape", "dtype"} and len(doc["input"]["sha256"]) == 64
    assert doc["input"]["shape"] == [1, 48, 320, 320]
    # settings with provenance: the OME metadata supplied NA and voxel size; the user the bead size
    assert doc["settings"]["na"] == {
        "value": 1.4,
        "unit": None,
        "source": "file",
        "detail": "OME Objective.LensNA",
    }
    assert doc["settings"]["bead_diameter_um"]["source"] == "user"
    assert doc["settings"]["method"]["source"] == "default"
    m = doc["metrics"]["fwhm_x_um"]
    assert set(m) >= {"value", "unit", "uncertainty", "channel"} and m["unit"] == "um"
    assert m["value"] == pytest.approx(0.22, rel=0.02)
    v = doc["verdicts"][0]
    assert set(v) >= {"metric", "passed", "threshold", "source"}
    beads = pd.read_csv(folder / "beads.csv")
    assert {"status", "reason", "fwhm_x_um", "fwhm_y_um", "fwhm_z_um"} <= set(beads.columns)
    assert list(beads.columns[:4]) == ["bead_id", "channel", "status", "reason"]
    html = (folder / "report.html").read_text()
    # figures inline as SVG, their images embedded: the page is self-contained
    assert "<svg " in html and "data:image/png;base64," in html and "Profiles with fits" in html


@pytest.mark.slow
def test_never_overwrites_silently(sample_file, tmp_path, capsys):
    assert main(["psf", str(sample_file), "--out", str(tmp_path), "-q"]) == 0
    before = (tmp_path / "beads" / "results.json").read_bytes()
    assert main(["psf", str(sample_file), "--out", str(tmp_path), "-q", "--na", "1.3"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "beads" / "results.json").read_bytes() == before
    assert main(["psf", str(sample_file), "--out", str(tmp_path), "-q", "--na", "1.3", "--overwrite"]) == 0
    assert json.loads((tmp_path / "beads" / "results.json").read_text())["settings"]["na"]["value"] == 1.3


def test_bad_inputs_exit_2_with_message(tmp_path, capsys):
    import numpy as np
    import tifffile

    flat = tmp_path / "flat.tif"
    tifffile.imwrite(flat, np.ones((32, 32), np.uint16))
    missing = tmp_path / "missing.tif"
    code = main(
        [
            "psf",
            str(flat),
            str(missing),
            "--out",
            str(tmp_path / "o"),
            "-q",
            "--voxel-size",
            "0.2",
            "0.1",
            "0.1",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "z-stack" in err and "no such file" in err and "2 of 2" in err


def test_missing_voxel_size_is_asked_for(tmp_path, capsys):
    import numpy as np
    import tifffile

    p = tmp_path / "stack.tif"
    tifffile.imwrite(p, np.random.default_rng(0).poisson(10, (10, 32, 32)).astype(np.uint16))
    assert main(["psf", str(p), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "--voxel-size" in capsys.readouterr().err


@pytest.mark.slow
def test_strict_exit_code_on_failed_verdict(sample_file, tmp_path):
    assert (
        main(["psf", str(sample_file), "--out", str(tmp_path), "-q", "--strict", "--tolerance-xy", "1.05"])
        == 3
    )


def test_channel_option(sample_file, tmp_path, capsys):
    assert main(["psf", str(sample_file), "--out", str(tmp_path), "-q", "--channel", "3"]) == 2
    assert "do not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "microscope_qc.cli", "list"], capture_output=True, text=True, check=True
    )
    assert "psf" in out.stdout


@pytest.mark.slow
def test_field_results_contract(tmp_path, capsys):
    flat = tmp_path / "flat.ome.tif"
    assert main(["sample", "flat", str(flat)]) == 0
    dark = tmp_path / "flat_dark.ome.tif"
    assert dark.exists() and (tmp_path / "flat_truth.json").exists()
    out = tmp_path / "out"
    assert main(["field", str(flat), "--dark", str(dark), "--out", str(out), "--flat-field", "-q"]) == 0
    assert "uniformity_percent" in capsys.readouterr().out
    doc = json.loads((out / "flat" / "results.json").read_text())
    assert doc["measurement"] == "field"
    for name in (
        "uniformity_percent",
        "field_uniformity_percent",
        "centering_accuracy_percent",
        "reference_zone_centroid_x_px",
        "reference_zone_centroid_y_px",
        "illumination_centre_x_px",
        "corner_falloff_percent",
    ):
        assert name in doc["metrics"], name
    assert doc["metrics"]["illumination_centre_x_px"]["uncertainty"] > 0
    assert doc["settings"]["dark_file"]["source"] == "user"
    assert {v["metric"] for v in doc["verdicts"]} == {
        "uniformity_percent",
        "centering_accuracy_percent",
        "saturated_percent",
    }
    import tifffile

    ff = tifffile.imread(out / "flat" / "flat_field.tif")
    assert ff.shape == (512, 512) and abs(float(ff.mean()) - 1) < 1e-4
    profiles = pd.read_csv(out / "flat" / "profiles.csv")
    assert set(profiles["profile"]) == {
        "diagonal_tl_br",
        "diagonal_bl_tr",
        "horizontal_centre",
        "vertical_centre",
    }
    # the flat-field image is never overwritten silently either
    assert main(["field", str(flat), "--dark", str(dark), "--out", str(out), "--flat-field", "-q"]) == 2


@pytest.mark.slow
def test_field_combine_and_zstack_error(tmp_path, capsys):
    a, b = tmp_path / "a.ome.tif", tmp_path / "b.ome.tif"
    main(["sample", "flat-misaligned", str(a), "--seed", "1"])
    main(["sample", "flat-misaligned", str(b), "--seed", "2"])
    assert main(["field", str(a), str(b), "--combine", "median", "--out", str(tmp_path / "o"), "-q"]) == 0
    doc = json.loads((tmp_path / "o" / "a_combined" / "results.json").read_text())
    assert len(doc["input"]["combined_from"]) == 2
    assert not doc["passed"]  # the misaligned lamp fails uniformity and centring
    import numpy as np

    from microscope_qc.io import write_ome_tiff

    stack = tmp_path / "stack.ome.tif"
    write_ome_tiff(stack, np.ones((1, 5, 32, 32), np.uint16))
    assert main(["field", str(stack), "--out", str(tmp_path / "o2"), "-q"]) == 2
    assert "z-stack" in capsys.readouterr().err


def test_field_pixel_size_from_the_file_is_labelled_file(tmp_path, capsys):
    """A pixel size read from the file's metadata is recorded with source "file" and where it was found."""
    import tifffile

    from microscope_qc.samples import flat_field_sample

    path = tmp_path / "flat_px.tif"
    tifffile.imwrite(
        path, flat_field_sample().data, imagej=True, resolution=(1 / 0.65, 1 / 0.65), metadata={"unit": "um"}
    )
    assert main(["field", str(path), "--out", str(tmp_path / "out"), "-q"]) == 0
    doc = json.loads((tmp_path / "out" / "flat_px" / "results.json").read_text())
    record = doc["settings"]["pixel_size_um"]
    assert record["value"] == pytest.approx(0.65)
    assert "illumination_centre_offset_um" in doc["metrics"]
    assert record["source"] == "file"
    assert record["detail"] == doc["input"]["file_metadata"]["voxel_size_um"]["origin"]


@pytest.mark.slow
def test_coregistration_results_contract(tmp_path, capsys):
    path = tmp_path / "tc.ome.tif"
    assert main(["sample", "two-colour-beads", str(path)]) == 0
    out = tmp_path / "out"
    assert main(["coregistration", str(path), "--out", str(out), "-q"]) == 0
    assert "ratio" in capsys.readouterr().out
    folder = out / "tc"
    pairs = pd.read_csv(folder / "pairs.csv")
    for col in (
        "channel_ref",
        "channel_moving",
        "shift_x_um",
        "shift_x_se_um",
        "shift_y_um",
        "shift_z_um",
        "distance_3d_um",
        "ratio",
    ):
        assert col in pairs.columns, col
    beads = pd.read_csv(folder / "beads.csv")
    assert {"status", "reason", "x_um", "x_se_um", "channel"} <= set(beads.columns)
    model = json.loads((folder / "registration.json").read_text())["0-1"]
    assert model["kind"] == "affine" and "convention" in model and len(model["affine_matrix_xy"]) == 2
    doc = json.loads((folder / "results.json").read_text())
    assert doc["metrics"]["shift_z_um"]["value"] == pytest.approx(0.18, abs=0.01)
    assert doc["verdicts"][0]["metric"] == "ratio"


def test_coregistration_one_large_bead(tmp_path, capsys):
    """One large saturated bead: automatic mode falls back to single-bead mode; no uncertainty prints as ± 0."""
    from microscope_qc.io import write_ome_tiff
    from tests.conftest import large_bead_stack

    path = write_ome_tiff(
        tmp_path / "bead.ome.tif",
        large_bead_stack(),
        voxel_size_um=(0.2, 0.08, 0.08),
        wavelength_em_nm=[450, 520, 610],
        na=1.4,
        immersion_index=1.515,
        modality="confocal",
    )
    for extra in ([], ["--single-bead"]):
        out = tmp_path / ("out" + "".join(extra))
        assert main(["coregistration", str(path), "--out", str(out), "-q", *extra]) == 0
        captured = capsys.readouterr()
        assert "± 0.000" not in captured.out and "± n/a" in captured.out
        assert "the excitation wavelength is missing" in captured.err
        assert ("fell back to single-bead mode" in captured.err) is not extra
        doc = json.loads((out / "bead" / "results.json").read_text())
        assert doc["metrics"]["shift_x_um@ch1"]["uncertainty"] is None
        assert doc["metrics"]["shift_x_um@ch1"]["uncertainty_kind"].startswith("not estimable")
        pairs = pd.read_csv(out / "bead" / "pairs.csv")
        assert pairs.shift_x_se_um.isna().all() and math.isinf(pairs.match_gate_um.iloc[0])
        html = (out / "bead" / "report.html").read_text()
        assert "Voxel size used (z × y × x): 0.2 × 0.08 × 0.08 µm (source: file" in html


def test_coregistration_needs_two_channels(sample_file, tmp_path, capsys):
    assert main(["coregistration", str(sample_file), "--out", str(tmp_path), "-q"]) == 2
    assert "at least two channels" in capsys.readouterr().err


@pytest.mark.slow
def test_instrument_record_history_report(sample_file, tmp_path, capsys):
    prof = tmp_path / "scope.yaml"
    assert (
        main(
            [
                "instrument",
                "new",
                str(prof),
                "--name",
                "Scope A",
                "--objective",
                "60x oil:60:1.4:oil:1.518",
                "--channel",
                "GFP:488:520",
                "--tolerance",
                "fwhm_x_ratio::1.1",
            ]
        )
        == 0
    )
    assert (
        main(["instrument", "edit", str(prof), "--set", "facility=Imaging Core", "--channel", "RFP:561:610"])
        == 0
    )
    assert main(["instrument", "show", str(prof)]) == 0
    assert "Imaging Core" in capsys.readouterr().out
    hist = tmp_path / "h.sqlite"
    common = [
        "--instrument",
        str(prof),
        "--objective",
        "60x oil",
        "--channel-preset",
        "GFP",
        "--record",
        "--history",
        str(hist),
        "-q",
    ]
    assert main(["psf", str(sample_file), "--out", str(tmp_path / "o1"), *common]) == 0
    doc = json.loads((tmp_path / "o1" / "beads" / "results.json").read_text())
    v = [v for v in doc["verdicts"] if v["metric"] == "fwhm_x_ratio"][0]
    assert v["threshold"] == 1.1 and not v["passed"] and v["source"] == "instrument 'Scope A'"
    assert main(["history", "--history", str(hist), "list", "--instrument", "Scope A"]) == 0
    out = capsys.readouterr().out
    assert "Scope A" in out and "psf" in out
    assert (
        main(
            [
                "history",
                "--history",
                str(hist),
                "trend",
                "--instrument",
                "Scope A",
                "--metric",
                "fwhm_x_um",
                "--plot",
                str(tmp_path / "t.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "t.png").exists()
    assert (
        main(
            [
                "history",
                "--history",
                str(hist),
                "report",
                "--instrument",
                "Scope A",
                "--from",
                "2000-01-01",
                "--to",
                "2100-01-01",
                "--out",
                str(tmp_path / "rep"),
            ]
        )
        == 0
    )
    assert (tmp_path / "rep" / "qc_period_report.pdf").exists()
    assert main(["history", "--history", str(hist), "list", "--instrument", "Nope"]) == 2
    assert "known instruments" in capsys.readouterr().err
    bad = tmp_path / "bad.sqlite"
    bad.write_text("garbage")
    assert main(["history", "--history", str(bad), "list"]) == 2
    assert (
        main(
            ["psf", str(sample_file), "--out", str(tmp_path / "o2"), "--record", "--history", str(hist), "-q"]
        )
        == 2
    )
    assert "--instrument-name" in capsys.readouterr().err


# ------------------------------------------------------------------ field: --roi / --exclude
def _napari_shapes_csv(path, shapes):
    """Write shapes the way napari's Shapes layer "Save layer" does (here on a 3D layer: axis-0 is z)."""
    rows = ["index,shape-type,vertex-index,axis-0,axis-1,axis-2"]
    for i, (kind, vertices) in enumerate(shapes):
        rows += [f"{i},{kind},{k},0.0,{y},{x}" for k, (y, x) in enumerate(vertices)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def scratched_flat(tmp_path_factory):
    import numpy as np
    import tifffile

    from microscope_qc.samples import FlatSampleSpec, make_flat_field

    folder = tmp_path_factory.mktemp("scratched")
    s = make_flat_field(FlatSampleSpec(dust_specks=0, seed=7))
    yy, xx = np.indices(s.data.shape)
    dirty = s.data.astype(np.float64)
    dirty[(np.abs((yy - 380) - 0.6 * (xx - 330)) < 2.5) & (xx > 330) & (xx < 450)] *= 0.25  # scratch
    dirty[(yy - 120) ** 2 + (xx - 110) ** 2 < 8**2] *= 1.6  # bright speck
    tifffile.imwrite(folder / "clean.tif", s.data)
    tifffile.imwrite(folder / "scratched.tif", np.rint(dirty).astype(s.data.dtype))
    return folder


@pytest.mark.slow
def test_field_exclude_rectangle_and_napari_csv(scratched_flat, tmp_path, capsys):
    csv = _napari_shapes_csv(
        tmp_path / "dust.csv", [("rectangle", [(100, 90), (100, 130), (140, 130), (140, 90)])]
    )
    out = tmp_path / "o"
    args = ["field", str(scratched_flat / "scratched.tif"), "-q", "--out"]
    assert main([*args, str(out / "whole")]) == 0
    assert main([*args, str(out / "masked"), "--exclude", "365,318,468,462", "--exclude", str(csv)]) == 0
    assert main(["field", str(scratched_flat / "clean.tif"), "-q", "--out", str(out / "clean")]) == 0
    capsys.readouterr()

    def doc(name, stem="scratched"):
        return json.loads((out / name / stem / "results.json").read_text())

    whole, masked, clean = doc("whole"), doc("masked"), doc("clean", "clean")

    def u(d):
        return d["metrics"]["uniformity_percent"]["value"]

    print(f"CLI: U whole {u(whole):.3f} %, with --exclude {u(masked):.3f} %, clean flat {u(clean):.3f} %")
    assert u(whole) < u(clean) - 20
    assert u(masked) == pytest.approx(u(clean), abs=0.05)
    roi = masked["settings"]["roi"]
    assert roi["source"] == "user" and roi["value"].startswith("exclude 2 rectangles;")
    assert roi["detail"] == f"--exclude 365,318,468,462; --exclude {csv}"
    # hand count: rows 365..468 × columns 318..462 and rows 100..140 × columns 90..130, corners included
    expected = 100 * (1 - (104 * 145 + 41 * 41) / 512**2)
    assert masked["metrics"]["analysed_fraction_percent"]["value"] == pytest.approx(expected)
    assert masked["metrics"]["analysed_fraction_percent"]["unit"] == "percent"
    assert whole["settings"]["roi"] == {"value": "whole image", "unit": None, "source": "default"}
    assert whole["metrics"]["analysed_fraction_percent"]["value"] == 100
    assert any("microscope-metrics" in w for w in masked["warnings"])
    html = (out / "masked" / "scratched" / "report.html").read_text()
    assert "Analysed area: exclude 2 rectangles" in html and "Analysed area: the whole image" not in html


@pytest.mark.slow
def test_field_roi_rectangle_and_ellipse_csv(scratched_flat, tmp_path, capsys):
    import numpy as np

    from microscope_qc.analysis.field import FieldSettings, analyze_field

    clean = scratched_flat / "clean.tif"
    out = tmp_path / "o"
    assert main(["field", str(clean), "-q", "--out", str(out / "a"), "--roi", "100,150,299,349"]) == 0
    doc = json.loads((out / "a" / "clean" / "results.json").read_text())
    assert doc["metrics"]["analysed_fraction_percent"]["value"] == pytest.approx(100 * 200 * 200 / 512**2)
    # the same numbers as the Python API with the mask made by slicing: rows 100..299, columns 150..349
    import tifffile

    mask = np.zeros((512, 512), bool)
    mask[100:300, 150:350] = True
    ref = analyze_field(tifffile.imread(clean), FieldSettings(), mask=mask)
    assert doc["metrics"]["uniformity_percent"]["value"] == pytest.approx(
        ref.metric("uniformity_percent").value
    )
    assert doc["metrics"]["relative_intensity_top_left"]["value"] is None  # NaN: outside the region
    assert doc["settings"]["roi"]["value"].startswith("include 1 rectangle;")
    # an ellipse saved by napari (the 4 corners of its bounding box) is an ellipse, not its box
    csv = _napari_shapes_csv(tmp_path / "e.csv", [("ellipse", [(56, 56), (56, 456), (456, 456), (456, 56)])])
    assert main(["field", str(clean), "-q", "--out", str(out / "b"), "--roi", str(csv)]) == 0
    frac = json.loads((out / "b" / "clean" / "results.json").read_text())["metrics"][
        "analysed_fraction_percent"
    ]
    assert frac["value"] == pytest.approx(100 * math.pi * 200**2 / 512**2, rel=0.01)
    capsys.readouterr()


@pytest.mark.parametrize(
    ("option", "spec", "says"),
    [
        ("--roi", "1,2,3", "not a rectangle y0,x0,y1,x1"),
        ("--roi", "0,0,a,5", "not a rectangle y0,x0,y1,x1"),
        ("--exclude", "50,50,10,10", "y0 < y1 and x0 < x1"),
        ("--exclude", "missing.csv", "no such CSV file"),
        ("--roi", "CSV:columns", "not a napari Shapes CSV"),
        ("--exclude", "CSV:line", "encloses no area"),
    ],
)
def test_field_bad_region_specs(scratched_flat, tmp_path, capsys, option, spec, says):
    if spec == "CSV:columns":
        spec = str(tmp_path / "bad.csv")
        (tmp_path / "bad.csv").write_text("y,x\n1,2\n3,4\n")
    elif spec == "CSV:line":
        spec = str(_napari_shapes_csv(tmp_path / "line.csv", [("line", [(0, 0), (50, 50)])]))
    out = tmp_path / "o"
    assert main(["field", str(scratched_flat / "clean.tif"), "-q", "--out", str(out), option, spec]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert (
        err[0].startswith(f"error: {option} ")
        and says in err[0]
        and f"e.g. {option} 100,100,400,400" in err[0]
    )
    assert not out.exists()  # refused before any file was read or written


@pytest.mark.slow
def test_coregistration_positions_round_trip(tmp_path, capsys):
    path = tmp_path / "tc.ome.tif"
    assert main(["sample", "two-colour-beads", str(path)]) == 0
    truth = pd.read_csv(tmp_path / "tc_truth.csv")
    dz, dy, dx = 0.15, 0.065, 0.065  # the sample's voxel size
    ref = truth[truth.channel == 0].iloc[:10]
    pos = pd.DataFrame({"z": ref.z_um / dz, "y": ref.y_um / dy, "x": ref.x_um / dx})
    pd.concat([pos, pd.DataFrame({"z": [3.0], "y": [-40.0], "x": [10.0]})]).to_csv(
        tmp_path / "pos.csv", index=False
    )
    out = tmp_path / "out"
    args = ["coregistration", str(path), "--out", str(out), "-q", "--positions", str(tmp_path / "pos.csv")]
    assert main(args) == 0
    folder = out / "tc"
    doc = json.loads((folder / "results.json").read_text())
    assert doc["settings"]["positions"]["value"] == "shared"
    assert doc["settings"]["positions"]["source"] == "user"
    assert doc["settings"]["n_positions"]["value"] == [11, 11]
    assert doc["metrics"]["n_matched"]["value"] == 10
    assert doc["metrics"]["shift_z_um"]["value"] == pytest.approx(0.18, abs=0.02)
    beads = pd.read_csv(folder / "beads.csv", keep_default_na=False)
    assert len(beads) == 22 and set(beads.origin) == {"user"}
    assert list(beads.reason[beads.position_index == 10]) == ["outside the image"] * 2
    assert "outside the image" in capsys.readouterr().err  # the warning

    # a channel column: positions for channel 1 only, channel 0 detected
    pos.assign(channel=1).to_csv(tmp_path / "pos1.csv", index=False)
    args[3:] = [str(tmp_path / "o1"), "-q", "--positions", str(tmp_path / "pos1.csv")]
    assert main(args) == 0
    doc = json.loads((tmp_path / "o1" / "tc" / "results.json").read_text())
    assert doc["settings"]["positions"]["value"] == "per-channel"
    assert doc["settings"]["n_positions"]["value"] == [None, 10]


@pytest.fixture(scope="module")
def two_colour_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("two_colour") / "tc.ome.tif"
    assert main(["sample", "two-colour-beads", str(path)]) == 0
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("a,b\n1,2\n", "needs columns z,y,x"),
        ("z,y,x\n1,2,abc\n", "row 2: x is 'abc', not a number"),
        ("z,y,x,channel\n1,2,3,0.5\n", "not a whole channel number"),
        ("z,y,x,channel\n1,2,3,4\n", "channel 4, which is not analysed"),
        ("z,y,x\n", "has no rows"),
        (None, "does not exist"),
    ],
)
@pytest.mark.slow
def test_coregistration_bad_positions_file(two_colour_file, tmp_path, capsys, content, expected):
    path = two_colour_file
    csv = tmp_path / "pos.csv"
    if content is not None:
        csv.write_text(content)
    capsys.readouterr()
    assert (
        main(["coregistration", str(path), "--out", str(tmp_path / "o"), "-q", "--positions", str(csv)]) == 2
    )
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and expected in err[0], err
    if content is not None and "not analysed" not in expected:
        assert "e.g. a header line 'z,y,x,channel'" in err[0]


@pytest.mark.parametrize(
    ("value", "uncertainty", "text"),
    [
        (0.66667, 0.00012, "0.66667 ± 0.00012"),  # a gain known to 1e-4: not "0.667 ± 0.000"
        (43187.809, 9.017, "43187.8 ± 9.0"),
        (0.2209, 0.0012, "0.2209 ± 0.0012"),
        (0.5, 0.26, "0.50 ± 0.26"),
        (1.5e7, 3e4, "1.5e+07 ± 3e+04"),
        (24.0, 0.0, "24"),
    ],
)
def test_summary_rounds_the_value_to_its_uncertainty(value, uncertainty, text):
    from microscope_qc.report.numbers import with_uncertainty as _with_uncertainty

    assert _with_uncertainty(value, uncertainty) == text

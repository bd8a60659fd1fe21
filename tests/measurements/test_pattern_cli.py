"""``microscope-qc pattern`` and ``microscope-qc correct`` end to end, on the registered sample."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from microscope_qc.cli import main


@pytest.mark.slow
def test_pattern_then_correct(tmp_path, capsys):
    image = tmp_path / "rings.ome.tif"
    assert main(["sample", "pattern-rings", str(image)]) == 0
    truth = json.loads((tmp_path / "rings_truth.json").read_text())
    out = tmp_path / "out"
    assert main(["pattern", str(image), "--out", str(out), "--pitch", "5", "-q"]) == 0
    table = capsys.readouterr().out
    assert "distortion_max_um" in table and "PASS" in table
    folder = out / "rings"
    for name in (
        "results.json",
        "spots.csv",
        "missing.csv",
        "models.csv",
        "pairs.csv",
        "report.html",
        "registration.json",
    ):
        assert (folder / name).exists(), name
    doc = json.loads((folder / "results.json").read_text())
    m = doc["metrics"]
    assert m["magnification_error_percent@ch0"]["value"] == pytest.approx(
        truth["magnification_error_percent"], abs=0.01
    )
    assert m["rotation_deg@ch0"]["value"] == pytest.approx(truth["rotation_deg"], abs=0.01)
    assert m["registration_shift_x_um@ch1"]["value"] == pytest.approx(truth["channel_shift_um"][0], abs=0.002)
    assert doc["settings"]["pixel_size_um"]["source"] == "file"
    reg = json.loads((folder / "registration.json").read_text())
    assert reg["format_version"] == 2 and reg["distortion"]["0"]["kind"] == "radial"
    assert np.asarray(reg["napari_affine_yx"]["1"]["to_reference"]).shape == (3, 3)
    assert "<svg" in (folder / "report.html").read_text()
    # exports are never overwritten silently
    assert main(["pattern", str(image), "--out", str(out), "--pitch", "5", "-q"]) == 2
    assert "already holds" in capsys.readouterr().err
    # the kind is detected; asking for another kind that cannot be analysed says so
    assert main(["pattern", str(image), "--out", str(tmp_path / "k"), "--kind", "lines", "-q"]) == 2
    capsys.readouterr()

    # apply the corrections, and re-measure: the distortion and the channel shift are gone
    corr = tmp_path / "corrected"
    args = ["correct", str(image), "--registration", str(folder / "registration.json"), "--out", str(corr)]
    assert main([*args, "--remeasure", "--pitch", "5"]) == 0
    text = capsys.readouterr().out
    assert "RMS residual" in text and "before → after" in text
    lines = {ln.split(":")[0].strip(): ln for ln in text.splitlines() if "→" in ln and " nm" in ln}
    before, after = (float(x.split()[0]) for x in lines["ch 0 distortion_max_um"].split(":")[1].split("→"))
    assert after < 0.1 * before
    shift_after = float(lines["ch 1 registration_shift_x_um"].split("→")[1].split()[0])
    assert abs(shift_after) < 2.0  # nm
    written = corr / "rings_corrected.ome.tif"
    with tifffile.TiffFile(written) as tf:
        assert tf.series[0].shape[-2:] == (512, 512)
        assert 'PhysicalSizeX="0.2"' in tf.ome_metadata
    # never overwritten silently, and not the input
    assert main(args) == 2
    assert "exists" in capsys.readouterr().err
    assert main([*args[:-1], str(tmp_path)]) == 0  # another name in the input's folder: the input stays
    assert (tmp_path / "rings_corrected.ome.tif").exists() and image.exists()


def test_correct_refuses_a_bad_registration_file(tmp_path, capsys):
    bad = tmp_path / "registration.json"
    bad.write_text('{"format_version": 2}')
    assert main(["correct", str(tmp_path / "x.tif"), "--registration", str(bad), "--out", str(tmp_path)]) == 2
    assert "no registration or distortion model" in capsys.readouterr().err


@pytest.mark.slow
def test_pattern_two_cameras_as_separate_files(tmp_path, capsys):
    from microscope_qc.io import write_ome_tiff
    from microscope_qc.samples import pattern_rings_sample

    s = pattern_rings_sample(shape=(320, 320))
    files = []
    for c in (0, 1):
        f = tmp_path / f"camera{c}.ome.tif"
        write_ome_tiff(f, s.data[c][None, None], voxel_size_um=(1.0, 0.2, 0.2), channel_names=[f"camera {c}"])
        files.append(str(f))
    out = tmp_path / "out"
    assert main(["pattern", *files, "--separate-channels", "--pitch", "5", "--out", str(out), "-q"]) == 0
    doc = json.loads((out / "camera0_combined" / "results.json").read_text())
    m = doc["metrics"]
    assert m["registration_shift_x_um@ch1"]["value"] == pytest.approx(0.12, abs=0.002)
    assert m["registration_shift_y_um@ch1"]["value"] == pytest.approx(-0.08, abs=0.002)


@pytest.mark.slow
def test_pattern_lines_and_ladder_given_and_detected(tmp_path, capsys):
    lines, ladder = tmp_path / "lines.ome.tif", tmp_path / "ladder.ome.tif"
    assert main(["sample", "pattern-lines", str(lines)]) == 0
    assert main(["sample", "pattern-ladder", str(ladder)]) == 0
    lines_truth = json.loads((tmp_path / "lines_truth.json").read_text())
    ladder_truth = json.loads((tmp_path / "ladder_truth.json").read_text())

    # given kinds, with a line option and a ladder option (one channel: metrics without "@ch")
    out = tmp_path / "given"
    spacings = "0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.6"  # the line groups' and the gratings'
    args = ["--resolved-dip", "26.5", "--nominal-spacings", spacings, "-q"]
    assert main(["pattern", str(lines), "--kind", "lines", "--out", str(out), *args]) == 0
    assert (
        main(["pattern", str(ladder), "--kind", "ladder", "--out", str(out), "--max-deviation", "5", "-q"])
        == 0
    )
    table = capsys.readouterr().out
    assert "smallest_resolved_spacing_um" in table and "linearity_r2" in table
    for name in ("results.json", "groups.csv", "profiles.csv", "report.html"):
        assert (out / "lines" / name).exists(), name
    for name in ("results.json", "steps.csv", "report.html"):
        assert (out / "ladder" / name).exists(), name
    doc = json.loads((out / "lines" / "results.json").read_text())
    assert doc["measurement"] == "pattern"
    assert doc["settings"]["kind"]["value"] == "lines" and doc["settings"]["kind"]["source"] == "user"
    assert doc["settings"]["pixel_size_um"] == {
        "value": pytest.approx(0.04),
        "unit": "um",
        "source": "file",
        "detail": "OME Pixels.PhysicalSize{Z,Y,X}: y and x (the file has no z size)",
    }
    m = doc["metrics"]
    assert m["smallest_resolved_spacing_um"]["value"] == pytest.approx(
        lines_truth["smallest_resolved_spacing_um"], abs=0.005
    )
    assert m["lsf_fwhm_um"]["value"] == pytest.approx(lines_truth["lsf_fwhm_um"], rel=0.05)
    assert m["spacing_error_max_percent"]["value"] < 1.0  # nominal spacings matched
    assert doc["settings"]["nominal_spacings_um"]["value"][0] == 0.1
    assert "<svg" in (out / "lines" / "report.html").read_text()
    lad = json.loads((out / "ladder" / "results.json").read_text())
    assert lad["metrics"]["n_steps"]["value"] == len(ladder_truth["levels"])
    assert lad["metrics"]["response_exponent"]["value"] == pytest.approx(ladder_truth["gamma"], abs=0.02)
    assert lad["settings"]["max_deviation_percent"] == {"value": 5.0, "unit": "percent", "source": "user"}
    assert "<svg" in (out / "ladder" / "report.html").read_text()
    # never overwritten silently
    assert main(["pattern", str(ladder), "--kind", "ladder", "--out", str(out), "-q"]) == 2
    assert "already holds" in capsys.readouterr().err

    # auto: each recognised, in one batch
    auto = tmp_path / "auto"
    assert main(["pattern", str(lines), str(ladder), "--out", str(auto), "-q"]) == 0
    capsys.readouterr()
    for stem, kind in (("lines", "lines"), ("ladder", "ladder")):
        doc = json.loads((auto / stem / "results.json").read_text())
        assert doc["settings"]["kind"]["value"] == kind and doc["settings"]["kind"]["source"] == "default"
    assert (auto / "lines" / "groups.csv").exists() and (auto / "ladder" / "steps.csv").exists()


def test_pattern_auto_refuses_beads_with_a_specific_error(tmp_path, capsys):
    beads = tmp_path / "beads.ome.tif"
    assert main(["sample", "psf-beads", str(beads)]) == 0
    capsys.readouterr()
    assert main(["pattern", str(beads), "--out", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "No pattern recognised" in err and "--kind" in err
    assert not (tmp_path / "out" / "beads" / "results.json").exists()

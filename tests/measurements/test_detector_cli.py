"""``microscope-qc detector``: samples with their frame table, folders, ImageJ ROI sets, bad tables."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from microscope_qc.cli import main


def _metrics(out):
    return json.loads((out / "results.json").read_text())["metrics"]


def test_the_sample_with_its_frame_table_beside_it(tmp_path, capsys):
    path = tmp_path / "ccd.ome.tif"
    assert main(["sample", "detector-ccd", str(path)]) == 0
    assert main(["detector", str(path), "--out", str(tmp_path / "out"), "-q"]) == 0
    truth = json.loads((tmp_path / "ccd_truth.json").read_text())
    m = _metrics(tmp_path / "out" / "ccd")
    assert m["conversion_gain_e_per_dn"]["value"] == pytest.approx(
        truth["conversion_gain_e_per_dn"], rel=0.02
    )
    doc = json.loads((tmp_path / "out" / "ccd" / "results.json").read_text())
    assert doc["settings"]["frame_table"]["value"].endswith("ccd_frames.csv")
    assert (tmp_path / "out" / "ccd" / "photon_transfer.csv").exists()
    assert (tmp_path / "out" / "ccd" / "report.html").exists()


def test_a_folder_of_single_frames_is_one_series(tmp_path):
    from microscope_qc.samples.cameras import detector_sample

    s = detector_sample("ccd", shape=(32, 32))
    folder = tmp_path / "series"
    folder.mkdir()
    for i, frame in enumerate(s.data):
        tifffile.imwrite(folder / f"frame_{i:03d}.tif", frame)
    rows = [
        "exposure_ms,photons,kind",
        *(f"{t},{p},{k}" for t, p, k in zip(s.exposure_ms, s.photons, s.kinds, strict=True)),
    ]
    (folder / "frames.csv").write_text("\n".join(rows) + "\n")
    assert main(["detector", str(folder), "--out", str(tmp_path / "out"), "-q"]) == 0
    m = _metrics(tmp_path / "out" / "frame_000_combined")  # the CLI names a combined job after its first file
    assert m["system_gain_dn_per_e"]["value"] == pytest.approx(s.truth["system_gain_dn_per_e"], rel=0.05)


def test_a_yaml_frame_table_with_frame_counts(tmp_path):
    from microscope_qc.samples.cameras import detector_sample

    s = detector_sample("ccd", shape=(32, 32))
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, s.data)
    rows, i = [], 0
    while i < len(s.kinds):
        j = i
        while j < len(s.kinds) and (s.kinds[j], s.exposure_ms[j], s.photons[j]) == (
            s.kinds[i],
            s.exposure_ms[i],
            s.photons[i],
        ):
            j += 1
        rows.append(
            f"- {{exposure_ms: {s.exposure_ms[i]}, photons: {s.photons[i]}, kind: {s.kinds[i]}, frames: {j - i}}}"
        )
        i = j
    table = tmp_path / "ladder.yaml"
    table.write_text("\n".join(rows) + "\n")
    assert (
        main(["detector", str(path), "--frame-table", str(table), "--out", str(tmp_path / "out"), "-q"]) == 0
    )
    assert _metrics(tmp_path / "out" / "stack")["quantum_efficiency_percent"]["value"] == pytest.approx(
        80, rel=0.05
    )


def test_a_frame_table_that_does_not_fit_says_so(tmp_path, capsys):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.random.default_rng(0).integers(90, 110, (6, 16, 16)).astype(np.uint16))
    table = tmp_path / "t.csv"
    table.write_text("exposure_ms,kind\n1,dark\n2,bright\n3,bright\n4,bright\n")
    assert (
        main(["detector", str(path), "--frame-table", str(table), "--out", str(tmp_path / "out"), "-q"]) == 2
    )
    assert "has 4 rows for 6 frames" in capsys.readouterr().err
    table.write_text("exposure_ms,kind\n1,dark\n2,light\n3,bright\n")
    assert (
        main(["detector", str(path), "--frame-table", str(table), "--out", str(tmp_path / "out"), "-q"]) == 2
    )
    assert "kind is 'light'; use bright or dark" in capsys.readouterr().err
    assert main(["detector", str(path), "--out", str(tmp_path / "out"), "-q"]) == 2
    assert "--frame-table TABLE" in capsys.readouterr().err  # emva without a table: the option is named


def test_an_imagej_roi_set_is_read_and_applied_exactly(tmp_path):
    import roifile

    rng = np.random.default_rng(5)
    image = rng.normal(1000, 30, (2, 40, 50)).astype(np.uint16)
    path = tmp_path / "pmt.tif"
    tifffile.imwrite(path, image)
    rect = roifile.ImagejRoi(roitype=roifile.ROI_TYPE.RECT, left=5, top=3, right=17, bottom=10, name="centre")
    poly = roifile.ImagejRoi.frompoints([[20, 20], [30, 20], [30, 30], [20, 30]], name="square")
    poly.roitype = roifile.ROI_TYPE.POLYGON
    roiset = tmp_path / "RoiSet.zip"
    roifile.roiwrite(roiset, [rect, poly])
    out = tmp_path / "out"
    assert (
        main(
            [
                "detector",
                str(path),
                "--mode",
                "cv",
                "--roi",
                str(roiset),
                "--roi",
                "0,0,1,2",
                "--out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    import pandas as pd

    t = pd.read_csv(out / "pmt" / "cv.csv")
    assert t.loc[t["frame"] == 0, "roi"].tolist() == ["centre", "square", "rectangle 0,0,1,2"]
    assert t.loc[t["frame"] == 0, "pixels"].tolist() == [12 * 7, 10 * 10, 2 * 3]
    sel = image[0, 3:10, 5:17].astype(float)
    row = t[(t["frame"] == 0) & (t["roi"] == "centre")].iloc[0]
    assert row["mean_dn"] == pytest.approx(sel.mean()) and row["sd_dn"] == pytest.approx(sel.std(ddof=1))


def test_dark_mode_from_the_command_line(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "darks.tif"
    tifffile.imwrite(path, rng.normal(100, 2, (8, 32, 32)).round().astype(np.uint16))
    assert (
        main(["detector", str(path), "--mode", "dark", "--gain", "2", "--out", str(tmp_path / "out"), "-q"])
        == 0
    )
    m = _metrics(tmp_path / "out" / "darks")
    assert m["noise_rms_dn"]["value"] == pytest.approx(2.0, rel=0.05)
    assert m["noise_rms_e"]["value"] == pytest.approx(4.0, rel=0.05)

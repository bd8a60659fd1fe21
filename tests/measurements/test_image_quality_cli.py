"""``microscope-qc image-quality`` end to end, on the registered sample."""

from __future__ import annotations

import json

import pytest

from microscope_qc.cli import main


@pytest.mark.slow
def test_image_quality_sample(tmp_path):
    image = tmp_path / "iq.ome.tif"
    assert main(["sample", "image-quality", str(image)]) == 0
    truth = json.loads((tmp_path / "iq_truth.json").read_text())
    out = tmp_path / "out"
    main(["image-quality", str(image), "--out", str(out), "-q"])
    m = json.loads((out / "iq" / "results.json").read_text())["metrics"]
    assert m["saturated_percent"]["value"] == pytest.approx(truth["saturated_percent"], abs=1e-12)
    assert m["noise_sd_counts"]["value"] == pytest.approx(truth["noise_sd_counts"], rel=0.10)
    assert (out / "iq" / "checks.csv").exists() and "<svg" in (out / "iq" / "report.html").read_text()


def _write_images(folder):
    import numpy as np
    import tifffile

    folder.mkdir()
    rng = np.random.default_rng(1)
    good = rng.normal(1000, 20, (96, 96))
    good[30:60, 30:60] += 3000
    tifffile.imwrite(folder / "b_good.tif", good.astype(np.uint16))
    tifffile.imwrite(folder / "c_dim.tif", rng.normal(100, 10, (96, 96)).astype(np.uint16))
    saturated = good.copy()
    saturated[:20] = 65535
    tifffile.imwrite(folder / "a_saturated.tif", saturated.astype(np.uint16))
    (folder / "d_broken.tif").write_bytes(b"not a tiff")


@pytest.mark.slow
def test_a_folder_is_a_batch_with_the_worst_ranked_and_failures_listed(tmp_path, capsys):
    import pandas as pd

    _write_images(tmp_path / "in")
    out = tmp_path / "out"
    assert main(["image-quality", str(tmp_path / "in"), "--out", str(out), "-q"]) == 2  # one file failed
    printed = capsys.readouterr().out
    images = pd.read_csv(out / "image_quality_batch.csv")
    assert sorted(images["file"]) == ["a_saturated.tif", "b_good.tif", "c_dim.tif"]
    worst = pd.read_csv(out / "image_quality_worst.csv")
    # the saturated image (saturation weighs 3) is worse than the dim one (SNR weighs 2); the good one passed
    assert list(worst["file"]) == ["a_saturated.tif", "c_dim.tif"] and list(worst["rank"]) == [1, 2]
    assert worst["quality_rating"].is_monotonic_increasing
    assert worst["failed_checks"][0].startswith("saturation ") and "SNR" in worst["failed_checks"][1]
    failed = pd.read_csv(out / "image_quality_failed.csv")
    assert list(failed["file"]) == ["d_broken.tif"] and "cannot be read" in failed["error"][0]
    page = (out / "image_quality_batch.html").read_text()
    assert "Worst images" in page and "d_broken.tif" in page and "a_saturated.tif" in page
    assert "1. a_saturated.tif" in printed and "d_broken.tif" in printed
    # never overwritten silently: refused before any file is read
    assert main(["image-quality", str(tmp_path / "in"), "--out", str(out), "-q"]) == 2
    assert "already holds the batch summary" in capsys.readouterr().err


@pytest.mark.slow
def test_signal_and_background_rois_and_a_time_series(tmp_path):
    import numpy as np
    import tifffile

    rng = np.random.default_rng(2)
    img = rng.normal(200, 4, (64, 64))
    img[20:40, 20:40] += 400
    tifffile.imwrite(tmp_path / "cells.tif", img.astype(np.float32))
    out = tmp_path / "out"
    args = ["image-quality", str(tmp_path / "cells.tif"), "--out", str(out), "-q"]
    assert main([*args, "--signal-roi", "22,22,37,37", "--background-roi", "0,0,9,63"]) == 0
    doc = json.loads((out / "cells" / "results.json").read_text())
    bg = img[0:10, :]
    expected = (img[22:38, 22:38].mean() - bg.mean()) / bg.std()
    assert doc["metrics"]["snr"]["value"] == pytest.approx(expected, rel=1e-5)
    assert doc["settings"]["snr_regions"]["detail"] == "regions"
    assert main([*args, "--signal-roi", "1,2,3"]) == 2  # a bad SPEC names its option
    # a time series: bleaching from every frame
    t = np.arange(25)[:, None, None]
    series = 100 + 800 * np.exp(-0.04 * t) * (img > 400) + rng.normal(0, 3, (25, 64, 64))
    tifffile.imwrite(tmp_path / "ts.ome.tif", series.astype(np.uint16), ome=True, metadata={"axes": "TYX"})
    assert (
        main(
            ["image-quality", str(tmp_path / "ts.ome.tif"), "--out", str(out), "-q", "--frame-interval", "2"]
        )
        == 0
    )
    m = json.loads((out / "ts" / "results.json").read_text())["metrics"]
    assert m["bleaching_rate_per_frame"]["value"] == pytest.approx(0.04, rel=0.02)
    assert m["bleaching_half_life_s"]["value"] == pytest.approx(2 * np.log(2) / 0.04, rel=0.02)
    assert (out / "ts" / "bleaching.csv").exists()
    assert (
        "<figcaption>Mean of the signal region minus the background region per frame"
        in (out / "ts" / "report.html").read_text()
    )


@pytest.mark.slow
def test_gain_and_offset_from_the_last_detector_run(tmp_path):
    image = tmp_path / "iq.ome.tif"
    assert main(["sample", "image-quality", str(image)]) == 0
    ccd = tmp_path / "ccd.ome.tif"
    assert main(["sample", "detector-ccd", str(ccd)]) == 0
    history = ["--history", str(tmp_path / "h.db"), "--instrument-name", "scope"]
    assert main(["detector", str(ccd), "--out", str(tmp_path / "d"), "-q", "--record", *history]) == 0
    detector = json.loads(next((tmp_path / "d").iterdir()).joinpath("results.json").read_text())["metrics"]
    out = tmp_path / "out"
    assert main(["image-quality", str(image), "--out", str(out), "-q", "--gain-from-history", *history]) == 0
    doc = json.loads((out / "iq" / "results.json").read_text())
    gain = doc["settings"]["conversion_gain_e_per_dn"]
    assert gain["value"] == pytest.approx(detector["conversion_gain_e_per_dn"]["value"])
    assert gain["source"] == "instrument" and "detector run" in gain["detail"]
    assert doc["settings"]["offset_dn"]["value"] == pytest.approx(detector["offset_dn"]["value"])
    assert "signal_mean_e" in doc["metrics"] and "noise_over_shot_noise" in doc["metrics"]
    # --gain given wins over the history
    out2 = tmp_path / "out2"
    assert (
        main(
            [
                "image-quality",
                str(image),
                "--out",
                str(out2),
                "-q",
                "--gain-from-history",
                "--gain",
                "2",
                *history,
            ]
        )
        == 0
    )
    assert (
        json.loads((out2 / "iq" / "results.json").read_text())["settings"]["conversion_gain_e_per_dn"][
            "value"
        ]
        == 2
    )


def test_reading_the_gain_from_a_history_that_does_not_exist_creates_none(tmp_path):
    image = tmp_path / "iq.ome.tif"
    assert main(["sample", "image-quality", str(image)]) == 0
    missing = tmp_path / "none.sqlite"
    args = ["--gain-from-history", "--history", str(missing), "--instrument-name", "scope"]
    assert main(["image-quality", str(image), "--out", str(tmp_path / "o"), "-q", *args]) == 0
    assert not missing.exists()
    doc = json.loads((tmp_path / "o" / "iq" / "results.json").read_text())
    assert "signal_mean_e" not in doc["metrics"]  # no gain known: nothing converted to electrons

"""``microscope-qc light-source`` and ``microscope-qc stage`` end to end, on the registered samples."""

from __future__ import annotations

import json

import pytest

from microscope_qc.cli import main


def _metrics(folder):
    return json.loads((folder / "results.json").read_text())["metrics"]


@pytest.mark.slow
def test_light_source_logs_and_a_bad_one(tmp_path, capsys):
    for key in ("light-source-log", "light-source-pulsed"):
        assert main(["sample", key, str(tmp_path / f"{key}.csv")]) == 0
    (tmp_path / "empty.csv").write_text("Time (s),Power (mW)\n")
    files = [str(tmp_path / n) for n in ("light-source-log.csv", "empty.csv", "light-source-pulsed.csv")]
    code = main(["light-source", *files, "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "empty.csv" in err and "the log is empty" in err and "1 of 3 analyses" in err
    truth = json.loads((tmp_path / "light-source-log_truth.json").read_text())
    m = _metrics(tmp_path / "out" / "light-source-log")
    assert abs(m["warmup_time_s"]["value"] - truth["warmup_time_s"]) <= truth["sampling_interval_s"]
    assert m["mean_power_mw"]["unit"] == "mW"
    pulsed = _metrics(tmp_path / "out" / "light-source-pulsed")
    assert pulsed["stability_percent@ch1"]["value"] == pytest.approx(99.4, abs=0.1)
    assert (tmp_path / "out" / "light-source-pulsed" / "readings.csv").exists()


@pytest.mark.slow
def test_light_source_image_series_and_history_comparison(tmp_path, capsys):
    series = tmp_path / "series.ome.tif"
    assert main(["sample", "light-source-series", str(series)]) == 0
    assert main(["light-source", str(series), "--out", str(tmp_path / "a"), "-q", "--dark-level", "100"]) == 2
    assert "--frame-interval" in capsys.readouterr().err
    code = main(["light-source", str(series), "--out", str(tmp_path / "b"), "-q", "--dark-level", "100",
                 "--frame-interval", "2"])  # fmt: skip
    assert code == 0
    truth = json.loads((tmp_path / "series_truth.json").read_text())
    assert _metrics(tmp_path / "b" / "series")["stability_percent"]["value"] == pytest.approx(
        truth["stability_percent"], abs=0.1
    )
    log = tmp_path / "log.csv"
    assert main(["sample", "light-source-log", str(log)]) == 0
    history = str(tmp_path / "qc.sqlite")
    common = ["-q", "--history", history, "--instrument-name", "Scope A"]
    assert main(["light-source", str(log), "--out", str(tmp_path / "c"), "--record", *common]) == 0
    assert main(["light-source", str(log), "--out", str(tmp_path / "d"), "--compare-history", *common]) == 0
    assert _metrics(tmp_path / "d" / "log")["power_change_percent"]["value"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.slow
def test_stage_repeatability_and_drift(tmp_path, capsys):
    rep = tmp_path / "rep.ome.tif"
    drift = tmp_path / "drift.ome.tif"
    assert main(["sample", "stage-repeatability", str(rep)]) == 0
    assert main(["sample", "stage-drift", str(drift)]) == 0
    code = main(
        ["stage", str(rep), "--moves", str(tmp_path / "rep_moves.csv"), "--out", str(tmp_path / "o"), "-q"]
    )
    assert code == 0
    m = _metrics(tmp_path / "o" / "rep")
    assert m["sd_max_um"]["value"] < 0.5 and m["n_localised"]["value"] == 160
    code = main(["stage", str(drift), "--mode", "drift", "--frame-interval", "30", "--stabilisation-threshold", "0.1",
                 "--out", str(tmp_path / "o"), "-q"])  # fmt: skip
    assert code == 0
    assert "frame 40: 2 beads" in capsys.readouterr().err
    m = _metrics(tmp_path / "o" / "drift")
    assert m["stabilisation_time_s"]["value"] == pytest.approx(120.0, abs=30.0)
    # moves are for repeatability only, said before any image is read
    code = main(["stage", str(drift), "--mode", "drift", "--moves", str(tmp_path / "rep_moves.csv"),
                 "--out", str(tmp_path / "x"), "-q"])  # fmt: skip
    assert code == 2 and "--moves is for --mode repeatability" in capsys.readouterr().err


def test_an_empty_moves_file_is_named_before_any_image(tmp_path, capsys):
    moves = tmp_path / "moves.csv"
    moves.write_text("")
    code = main(
        ["stage", str(tmp_path / "not-read.ome.tif"), "--moves", str(moves), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"--moves {moves}: cannot read it as CSV" in err and "Traceback" not in err

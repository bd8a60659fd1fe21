"""``microscope-qc run``: a folder of mixed QC files analysed, recorded, summarised; re-runs skip; parallel runs agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from microscope_qc.cli import main
from microscope_qc.history import HistoryStore
from microscope_qc.io import sha256_file

ANALYSED = {"psf_1.ome.tif", "psf_2.ome.tif", "flat_1.ome.tif", "flat_2.ome.tif", "coreg_1.ome.tif"}


def _run(folder: Path, name: str, *extra: str) -> tuple[int, dict]:
    config = folder.parent / "qc.yaml"
    code = main(["run", str(folder), "--config", str(config), "--run-name", name, "-q", *extra])
    summary = json.loads((folder.parent / "runs" / name / "summary.json").read_text())
    return code, summary


def _by_name(summary: dict) -> dict[str, dict]:
    return {Path(f["path"]).name: f for f in summary["files"]}


def _values(summary: dict) -> dict[str, list]:
    """Each analysed file's status and summary metrics (what must not depend on how the run was spread)."""
    return {
        name: [f["status"], [(m["name"], m["channel"], m["value"], m["uncertainty"]) for m in f["metrics"]]]
        for name, f in _by_name(summary).items()
    }


def test_a_run_analyses_records_and_summarises_and_a_rerun_skips(qc_folder, capsys):
    code, summary = _run(qc_folder, "first")
    err = capsys.readouterr().err
    assert code == 2  # the damaged file could not be analysed; every other file was
    files = _by_name(summary)
    assert set(files) == ANALYSED | {"psf_damaged.ome.tif"}
    for name in ANALYSED:
        f = files[name]
        assert f["status"] == "passed", f
        assert f["error"] is None and f["run_uuid"] and f["sha256"] == sha256_file(Path(f["path"]))
        out = qc_folder.parent / "runs" / "first" / f["out_dir"]
        assert (out / "results.json").exists() and (out / "report.html").exists()
        assert json.loads((out / "results.json").read_text())["measurement"] == f["measurement"]
        assert f["report"] == f"{f['out_dir']}/report.html" and f["metrics"]
    assert (
        files["psf_1.ome.tif"]["measurement"] == "psf" and files["flat_2.ome.tif"]["measurement"] == "field"
    )
    assert files["coreg_1.ome.tif"]["instrument"] == "Scope B"
    damaged = files["psf_damaged.ome.tif"]
    assert damaged["status"] == "error" and damaged["rule"] == "PSF" and damaged["run_uuid"] is None
    assert "psf_damaged.ome.tif" in err and damaged["error"] in err
    assert "this is a bug" not in damaged["error"]
    assert summary["counts"] == {
        "files": 6, "analysed": 5, "passed": 5, "failed": 0, "errors": 1, "skipped": 0,
        "unmatched": 6,  # notes.txt and the five truth files
    }  # fmt: skip
    assert summary["instruments"]["Scope A"] == {
        "status": "fail",
        "passed": 4,
        "failed": 0,
        "errors": 1,
        "skipped": 0,
    }
    assert summary["instruments"]["Scope B"]["status"] == "pass"
    assert summary["schema"] == "napari-microscope-qc/qc-run/1" and summary["executor"] == "this process"
    html = (qc_folder.parent / "runs" / "first" / "summary.html").read_text()
    assert "psf_damaged.ome.tif" in html and "Scope B" in html and "coreg_1/report.html" in html

    runs = HistoryStore(qc_folder.parent / "history.sqlite", create=False).runs()
    assert len(runs) == 5
    assert set(runs["uuid"]) == {files[n]["run_uuid"] for n in ANALYSED}
    assert set(runs["input_sha256"]) == {files[n]["sha256"] for n in ANALYSED}
    assert set(runs["instrument"]) == {"Scope A", "Scope B"}

    # nightly: the same folder again — everything recorded is skipped; the damaged file is tried again
    code, again = _run(qc_folder, "second")
    files2 = _by_name(again)
    assert code == 2 and again["counts"]["skipped"] == 5 and again["counts"]["analysed"] == 0
    assert all(
        files2[n]["status"] == "skipped" and files2[n]["run_uuid"] == files[n]["run_uuid"] for n in ANALYSED
    )
    assert files2["psf_damaged.ome.tif"]["status"] == "error"
    assert len(HistoryStore(qc_folder.parent / "history.sqlite", create=False).runs()) == 5
    assert again["instruments"]["Scope B"]["status"] == "nothing new"
    assert not [p for p in (qc_folder.parent / "runs" / "second").iterdir() if p.is_dir()]

    # the run folder is never overwritten silently
    capsys.readouterr()
    assert (
        main(["run", str(qc_folder), "--config", str(qc_folder.parent / "qc.yaml"), "--run-name", "first"])
        == 2
    )
    assert "already holds files" in capsys.readouterr().err


def test_two_workers_give_the_same_results_as_one(qc_folder):
    (qc_folder / "psf_damaged.ome.tif").unlink()
    code1, one = _run(qc_folder, "one")
    code2, two = _run(
        qc_folder, "two", "--workers", "2", "--rerun", "--history", str(qc_folder.parent / "h2.sqlite")
    )
    assert code1 == code2 == 0
    assert _values(one) == _values(two) and set(_values(one)) == ANALYSED
    assert two["executor"] == "2 local processes"
    assert len(HistoryStore(qc_folder.parent / "h2.sqlite", create=False).runs()) == 5


def test_a_local_dask_cluster_gives_the_same_results(qc_folder):
    distributed = pytest.importorskip("distributed")
    (qc_folder / "psf_damaged.ome.tif").unlink()
    _, one = _run(qc_folder, "one")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        code, dask_run = _run(
            qc_folder, "dask", "--scheduler", cluster.scheduler_address, "--rerun",
            "--history", str(qc_folder.parent / "h3.sqlite"),
        )  # fmt: skip
    assert code == 0 and _values(dask_run) == _values(one)
    assert dask_run["executor"] == f"dask cluster {cluster.scheduler_address}"
    assert len(HistoryStore(qc_folder.parent / "h3.sqlite", create=False).runs()) == 5


def test_missing_optional_packages_name_their_extra(qc_folder, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    monkeypatch.setitem(__import__("sys").modules, "watchfiles", None)
    config = str(qc_folder.parent / "qc.yaml")
    assert main(["run", str(qc_folder), "--config", config, "--scheduler", "tcp://localhost:8786"]) == 2
    assert 'pip install "napari-microscope-qc[cluster]"' in capsys.readouterr().err
    assert main(["run", str(qc_folder), "--config", config, "--watch"]) == 2
    assert 'pip install "napari-microscope-qc[watch]"' in capsys.readouterr().err
    assert not (qc_folder.parent / "runs").exists()  # nothing was started


def test_command_mistakes(qc_folder, tmp_path, capsys):
    config = str(qc_folder.parent / "qc.yaml")
    assert main(["run", str(tmp_path / "nope"), "--config", config]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n- {match: {glob: a}, measurement: psf}\n")
    assert main(["run", str(qc_folder), "--config", str(bad)]) == 2
    assert f"{bad}, line 2" in capsys.readouterr().err
    assert (
        main(["run", str(qc_folder), "--config", config, "--workers", "2", "--scheduler", "tcp://x:1"]) == 2
    )
    assert "not both" in capsys.readouterr().err


def test_a_profile_tolerance_fails_its_files_and_strict_exits_3(qc_folder, capsys):
    from microscope_qc.profiles import InstrumentProfile, Objective, Tolerance, save_profile

    for p in qc_folder.rglob("*.ome.tif"):
        if not p.name.startswith("flat_"):
            p.unlink()
    profile = InstrumentProfile(
        name="Scope C",
        objectives=[Objective("10x", 10, 0.3)],
        tolerances=[Tolerance("uniformity_percent", min=99.0)],
    )
    save_profile(profile, qc_folder.parent / "scope-c.yaml")
    (qc_folder.parent / "qc.yaml").write_text(
        "out: runs\nhistory: history.sqlite\nrules:\n"
        "- {match: {glob: 'flat_*.ome.tif'}, measurement: field, instrument: scope-c.yaml, objective: 10x}\n"
    )
    code, summary = _run(qc_folder, "strict", "--strict")
    assert code == 3
    files = _by_name(summary)
    assert {f["status"] for f in files.values()} == {"failed"} and len(files) == 2
    failed = files["flat_1.ome.tif"]["failed_verdicts"]
    assert [v["metric"] for v in failed] == ["uniformity_percent"] and failed[0]["threshold"] == 99.0
    assert "Scope C" in failed[0]["source"]
    assert summary["instruments"] == {
        "Scope C": {"status": "fail", "passed": 0, "failed": 2, "errors": 0, "skipped": 0}
    }
    runs = HistoryStore(qc_folder.parent / "history.sqlite", create=False).runs()
    assert list(runs["passed"]) == [False, False] and set(runs["objective"]) == {"10x"}

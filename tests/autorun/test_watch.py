"""``microscope-qc run --watch``: a file that appears and grows is analysed once, after it is stable."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from tests.autorun.qc_files import CONFIG, write_field

from microscope_qc.cli import main
from microscope_qc.history import HistoryStore

pytest.importorskip("watchfiles")


def test_a_growing_file_is_analysed_once_when_stable(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "qc.yaml").write_text(CONFIG)
    source = write_field(tmp_path / "flat_9.ome.tif", 9)  # written elsewhere, copied in below in parts
    content = source.read_bytes()
    codes: list[int] = []
    argv = ["run", str(data), "--config", str(tmp_path / "qc.yaml"), "--watch", "--stable-seconds", "2.0",
            "--watch-timeout", "15", "-q"]  # fmt: skip
    watcher = threading.Thread(target=lambda: codes.append(main(argv)))
    watcher.start()
    time.sleep(1.0)  # whether or not the watch has started yet, the file is seen (events or the first look)
    target = data / "flat_9.ome.tif"
    with open(target, "wb") as fh:  # an acquisition being written: three parts, 0.4 s apart
        for k in range(3):
            fh.write(content[k * len(content) // 3 : (k + 1) * len(content) // 3])
            fh.flush()
            time.sleep(0.4)
    time.sleep(4.0)
    target.touch()  # a later event on the unchanged file: its checksum is in the history, no new run
    watcher.join(timeout=60)
    assert not watcher.is_alive() and codes == [0]
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 1  # one run, for the new file; the touch found its checksum in the history
    summaries = [json.loads((r / "summary.json").read_text()) for r in runs]
    analysed = [f for s in summaries for f in s["files"] if f["status"] != "skipped"]
    assert [Path(f["path"]).name for f in analysed] == ["flat_9.ome.tif"]
    assert analysed[0]["status"] == "passed" and analysed[0]["sha256"]
    history = HistoryStore(tmp_path / "history.sqlite", create=False).runs()
    assert list(history["input_sha256"]) == [analysed[0]["sha256"]]

"""``microscope-qc run``: every scene of a multi-scene file, OME-Zarr stores as one image, earlier outputs left alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import tifffile
from tests.autorun.qc_files import CONFIG, write_psf

from microscope_qc.autorun.runner import find_files
from microscope_qc.cli import main


def _two_scenes(src: Path, path: Path) -> Path:
    """An OME-TIFF holding the stack of ``src`` and the same stack at half brightness, as two images."""
    with tifffile.TiffFile(src) as tif:
        xml = tif.ome_metadata
        stack = tif.asarray()
    image = xml[xml.index("<Image ") : xml.index("</Image>") + len("</Image>")]
    n = stack.shape[0]
    second = image.replace('ID="Image:0"', 'ID="Image:1"').replace('ID="Pixels:0"', 'ID="Pixels:1"')
    second = second.replace('ID="Channel:0:0"', 'ID="Channel:1:0"')
    second = re.sub(r"<TiffData[^>]*/>", f'<TiffData IFD="{n}" PlaneCount="{n}"/>', second)
    planes = np.concatenate([stack, stack // 2]).reshape(-1, *stack.shape[-2:])
    tifffile.imwrite(path, planes, photometric="minisblack", metadata=None)
    tifffile.tiffcomment(path, xml.replace("</Image>", "</Image>" + second, 1).encode())
    return path


def test_every_scene_is_analysed_and_earlier_outputs_are_not_inputs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    one = write_psf(tmp_path / "one.ome.tif", 1)
    _two_scenes(one, data / "psf_two.ome.tif")
    (tmp_path / "qc.yaml").write_text(CONFIG)
    config = str(tmp_path / "qc.yaml")
    assert main(["run", str(data), "--config", config, "--run-name", "a", "-q"]) == 0
    summary = json.loads((tmp_path / "runs" / "a" / "summary.json").read_text())
    assert [(Path(f["path"]).name, f["scene"], f["status"]) for f in summary["files"]] == [
        ("psf_two.ome.tif", 0, "passed"),
        ("psf_two.ome.tif", 1, "passed"),
    ]
    assert {f["out_dir"] for f in summary["files"]} == {"psf_two_scene0", "psf_two_scene1"}
    # an export copied next to the data (results.json, report, CSVs, a map TIFF) is not a new input
    exported = tmp_path / "runs" / "a" / "psf_two_scene0"
    copy = data / "old_export"
    copy.mkdir()
    for f in exported.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    (copy / "psf_copy.ome.tif").write_bytes((data / "psf_two.ome.tif").read_bytes())
    found = [p for _, p in find_files([data])]
    assert found == [data / "psf_two.ome.tif"]


def test_an_ome_zarr_store_is_one_image_not_a_folder(tmp_path):
    store = tmp_path / "beads.ome.zarr"
    (store / "0" / "c" / "0").mkdir(parents=True)
    (store / "zarr.json").write_text("{}")
    (store / "0" / "c" / "0" / "0").write_bytes(b"\0")
    (tmp_path / "flat.tif").write_bytes(b"")
    assert [p.name for _, p in find_files([tmp_path])] == ["beads.ome.zarr", "flat.tif"]

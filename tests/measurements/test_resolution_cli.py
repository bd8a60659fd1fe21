"""``microscope-qc resolution`` end to end, on the registered sample."""

from __future__ import annotations

import json

import pytest

from microscope_qc.cli import main


def _metrics(folder):
    return json.loads((folder / "results.json").read_text())["metrics"]


@pytest.mark.slow
def test_resolution_pair_split_and_decorrelation(tmp_path, capsys):
    image = tmp_path / "res.ome.tif"
    assert main(["sample", "resolution-pair", str(image)]) == 0
    pair = tmp_path / "res_pair.ome.tif"
    truth = json.loads((tmp_path / "res_truth.json").read_text())["resolution_um"]
    assert main(["resolution", str(image), "--pair", str(pair), "--out", str(tmp_path / "frc"), "-q"]) == 0
    frc = _metrics(tmp_path / "frc" / "res")
    assert frc["resolution_um"]["value"] == pytest.approx(truth, rel=0.10)
    assert frc["resolution_um"]["unit"] == "um"
    html = (tmp_path / "frc" / "res" / "report.html").read_text()
    assert "<svg" in html and "Fourier ring correlation" in html
    assert (tmp_path / "frc" / "res" / "curve.csv").exists()

    out = tmp_path / "split"
    assert main(["resolution", str(image), "--gain", "0.5", "--offset", "100", "--out", str(out), "-q"]) == 0
    assert _metrics(out / "res")["resolution_um"]["value"] == pytest.approx(truth, rel=0.10)

    out = tmp_path / "decorr"
    assert main(["resolution", str(image), "--method", "decorrelation", "--out", str(out), "-q"]) == 0
    assert _metrics(out / "res")["resolution_um"]["value"] == pytest.approx(truth, rel=0.10)
    assert "Decorrelation analysis" in (out / "res" / "report.html").read_text()

    capsys.readouterr()
    assert main(["resolution", str(image), "--method", "frc", "--out", str(tmp_path / "bad"), "-q"]) == 2
    assert "--pair FILE2" in capsys.readouterr().err


def test_resolution_map_files(tmp_path, capsys):
    """The local map: tiles.csv, the map as OME-TIFF with the tile spacing as pixel size, the SVG
    figure (also in the report); --tile and --tile-overlap set the grid; --no-map leaves it out;
    nothing is overwritten without --overwrite."""
    import numpy as np
    import pandas as pd
    import tifffile

    from microscope_qc.io import read_image

    image = tmp_path / "res.ome.tif"
    assert main(["sample", "resolution-pair", str(image)]) == 0
    out = tmp_path / "map"
    args = ["resolution", str(image), "--method", "decorrelation", "--tile", "128", "--tile-overlap", "50"]
    assert main([*args, "--out", str(out), "-q"]) == 0
    folder = out / "res"
    tiles = pd.read_csv(folder / "tiles.csv")
    # 512 px, 128-px tiles 64 px apart: 7 × 7, the pair's resolution (0.2 µm) everywhere
    assert len(tiles) == 49 and tiles["valid"].all()
    np.testing.assert_allclose(tiles["tile_resolution_um"], 0.2, rtol=0.10)
    assert tiles["centre_x_um"].iloc[0] == pytest.approx(63.5 * 0.05)
    metrics = _metrics(folder)
    assert metrics["map_resolution_median_um"]["value"] == pytest.approx(tiles["tile_resolution_um"].median())
    with tifffile.TiffFile(folder / "resolution_map.ome.tif") as tf:
        data = tf.asarray()
    assert data.shape == (2, 7, 7)
    np.testing.assert_allclose(data[0].ravel(), tiles["tile_resolution_um"], rtol=1e-6)
    np.testing.assert_allclose(data[1].ravel(), tiles["tile_anisotropy"], rtol=1e-6)
    read = read_image(folder / "resolution_map.ome.tif")
    assert read.metadata.voxel_size_um.value[1:] == pytest.approx((64 * 0.05, 64 * 0.05))
    svg = (folder / "resolution_map.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "Resolution per tile" in svg
    assert "Local resolution" in (folder / "report.html").read_text()
    # never overwritten silently; --overwrite replaces, --no-map removes the earlier map files
    capsys.readouterr()
    assert main([*args, "--out", str(out), "-q"]) != 0
    refusal = capsys.readouterr().err  # names every file it would replace, the map's too
    assert all(
        n in refusal for n in ("results.json", "tiles.csv", "resolution_map.ome.tif", "resolution_map.svg")
    )
    assert main([*args, "--no-map", "--out", str(out), "-q", "--overwrite"]) == 0
    assert not (folder / "resolution_map.ome.tif").exists() and not (folder / "tiles.csv").exists()
    assert "map_resolution_median_um" not in _metrics(folder)


def test_a_pair_with_different_pixel_sizes_is_refused(tmp_path, capsys):
    image = tmp_path / "res.ome.tif"
    assert main(["sample", "resolution-pair", str(image)]) == 0
    other = tmp_path / "iq.ome.tif"
    assert main(["sample", "image-quality", str(other)]) == 0  # another field at another pixel size
    capsys.readouterr()
    assert main(["resolution", str(image), "--pair", str(other), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "different pixel sizes" in err and "iq.ome.tif" in err


def test_failed_scenes_count_in_the_total(tmp_path, capsys):
    """Files without the scene asked for are counted among the analyses that could not be done."""
    image = tmp_path / "res.ome.tif"
    assert main(["sample", "resolution-pair", str(image)]) == 0
    capsys.readouterr()
    out = tmp_path / "o"
    assert (
        main(["resolution", str(image), "--scene", "5", "--method", "decorrelation", "--out", str(out)]) == 2
    )
    assert "1 of 1 analyses could not be done" in capsys.readouterr().err

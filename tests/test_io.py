"""Reading images lazily in (C, Z, Y, X) with metadata provenance; OME-TIFF round trip."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from microscope_qc.instrument import Modality, Source, settings_from_metadata
from microscope_qc.io import ImageReadError, read_image, read_metadata, write_ome_tiff
from microscope_qc.tiff_reader import TiffStack
from tests.conftest import shared_file


def test_ome_tiff_round_trip(tmp_path):
    data = np.arange(2 * 3 * 8 * 10, dtype=np.uint16).reshape(2, 3, 8, 10)
    path = write_ome_tiff(
        tmp_path / "x.ome.tif",
        data,
        voxel_size_um=(0.2, 0.1, 0.1),
        channel_names=["GFP", "mCherry"],
        wavelength_ex_nm=[488, 561],
        wavelength_em_nm=[520, 610],
        na=1.4,
        immersion="oil",
        immersion_index=1.518,
        modality="confocal",
    )
    img = read_image(path)
    assert img.shape == (2, 3, 8, 10)
    assert isinstance(img.data, TiffStack)  # lazy: the TIFF fast path reads pages when indexed
    np.testing.assert_array_equal(np.asarray(img.data), data)
    md = img.metadata
    assert md.voxel_size_um.value == pytest.approx((0.2, 0.1, 0.1))
    assert "PhysicalSize" in md.voxel_size_um.origin
    assert md.channel_names.value == ["GFP", "mCherry"]
    assert md.wavelength_em_nm.value == [520, 610]
    assert md.na.value == 1.4 and "LensNA" in md.na.origin
    assert md.immersion_index.value == 1.518
    assert md.modality.value == "confocal"
    ms = settings_from_metadata(md, 2)
    assert ms.modality is Modality.CONFOCAL
    assert ms.source_of("na").source is Source.FILE
    assert ms.channels[1].wavelength_ex_nm == 561
    assert ms.source_of("na").detail == "OME Objective.LensNA"


def test_write_never_overwrites(tmp_path):
    p = tmp_path / "a.ome.tif"
    write_ome_tiff(p, np.zeros((1, 1, 4, 4), np.uint8))
    with pytest.raises(FileExistsError):
        write_ome_tiff(p, np.ones((1, 1, 4, 4), np.uint8))
    assert np.asarray(read_image(p).data).max() == 0


def test_plain_tiff_without_unit_reports_missing_pixel_size(tmp_path):
    p = tmp_path / "plain.tif"
    tifffile.imwrite(p, np.zeros((5, 16, 16), np.uint16))
    md = read_metadata(p)
    assert md.voxel_size_um.missing  # bioio says 1 µm; that is a placeholder, not a measurement
    assert md.na.missing and md.wavelength_em_nm.missing
    assert md.bit_depth.value == 16


def test_imagej_tiff_pixel_size(tmp_path):
    p = tmp_path / "ij.tif"
    tifffile.imwrite(
        p,
        np.zeros((5, 16, 16), np.uint8),
        imagej=True,
        resolution=(1 / 0.108, 1 / 0.108),
        metadata={"spacing": 0.3, "unit": "um"},
    )
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((0.3, 0.108, 0.108))
    assert "ImageJ" in md.voxel_size_um.origin


def test_2d_and_missing_files(tmp_path):
    p = tmp_path / "flat.tif"
    tifffile.imwrite(p, np.ones((16, 16), np.uint8))
    assert read_image(p).shape == (1, 1, 16, 16)
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(ImageReadError, match="cannot be read"):
        read_image(bad)


def test_real_imagej_stack_metadata():
    md = read_metadata(shared_file("psf-beads-widefield-na095/beads_zstack_34z.tif"))
    assert md.voxel_size_um.value == pytest.approx((0.3, 0.108, 0.108))
    assert md.na.missing and md.modality.missing


def test_atomic_write_writes_bytes_and_text_with_ordinary_permissions(tmp_path):
    from microscope_qc.io import atomic_write

    assert atomic_write(tmp_path / "a.bin", b"\x00\x01") == tmp_path / "a.bin"
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    atomic_write(tmp_path / "a.txt", "µm ≤ 1")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "µm ≤ 1"
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "a.txt"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_atomic_write_failure_leaves_no_temporary_and_no_half_file(tmp_path, monkeypatch, failing):
    """Fails after the bytes reached the temporary file (fsync: disk full) or at the rename."""
    from microscope_qc import io as qc_io

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    new, old = tmp_path / "new.json", tmp_path / "old.json"
    old.write_text("the user's file")
    monkeypatch.setattr(qc_io.os, failing, boom)
    for target in (new, old):
        with pytest.raises(OSError, match="No space"):
            qc_io.atomic_write(target, "x" * 100_000)
    monkeypatch.undo()
    assert not new.exists()
    assert old.read_text() == "the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]  # no .part left behind


def test_every_writer_goes_through_atomic_write():
    """One atomic-write routine: nothing else in the package makes temporary files or renames them."""
    pkg = Path(__file__).resolve().parents[1] / "src" / "microscope_qc"
    offenders = [
        str(p.relative_to(pkg))
        for p in pkg.rglob("*.py")
        if p.name != "io.py" and any(s in p.read_text() for s in ("mkstemp", "os.replace(", "os.rename("))
    ]
    assert not offenders, offenders


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_write_ome_tiff_float_pixels_round_trip(tmp_path, dtype):
    # OME names float pixels "float"/"double"; passing numpy's name ("float32") used to fail validation
    data = np.linspace(0, 1, 2 * 3 * 4 * 5, dtype=dtype).reshape(2, 3, 4, 5)
    path = write_ome_tiff(tmp_path / f"{dtype}.ome.tif", data, voxel_size_um=(0.5, 0.1, 0.1))
    img = read_image(path)
    assert img.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(img.data), data)


def test_write_ome_tiff_refuses_pixel_types_ome_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_ome_tiff(tmp_path / "x.ome.tif", np.zeros((1, 1, 2, 2), np.int64))

"""Fixtures of the automatic-run tests: a folder of small synthetic QC files (tests/autorun/qc_files.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.autorun.qc_files import CONFIG, write_coregistration, write_field, write_psf


@pytest.fixture(scope="session")
def qc_files(tmp_path_factory) -> Path:
    """A folder of QC files: 2 PSF, 2 field, 1 co-registration (one in a sub-folder), and their truth files."""
    folder = tmp_path_factory.mktemp("qc_files")
    write_psf(folder / "psf_1.ome.tif", 1)
    write_psf(folder / "psf_2.ome.tif", 2)
    write_field(folder / "flat_1.ome.tif", 3)
    (folder / "day2").mkdir()
    write_field(folder / "day2" / "flat_2.ome.tif", 4)
    write_coregistration(folder / "coreg_1.ome.tif", 5)
    (folder / "notes.txt").write_text("not a QC file")
    return folder


@pytest.fixture
def qc_folder(qc_files: Path, tmp_path: Path) -> Path:
    """A copy of the QC files with a damaged PSF file, and the configuration beside it (``qc.yaml``)."""
    folder = tmp_path / "data"
    shutil.copytree(qc_files, folder)
    good = (folder / "psf_1.ome.tif").read_bytes()
    (folder / "psf_damaged.ome.tif").write_bytes(good[: len(good) // 3])
    (tmp_path / "qc.yaml").write_text(CONFIG)
    return folder

"""Shared fixtures. Real data lives in ../shared/data beside the repository and is never copied into it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("MICROSCOPE_QC_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def shared_file(relative: str) -> Path:
    """Path of a real test image, or skip the test saying where it was looked for."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(
            f"real test data {relative} not found under {SHARED_DATA} (set MICROSCOPE_QC_SHARED_DATA to the "
            "folder holding the shared QC images)"
        )
    return path


@pytest.fixture(scope="session")
def bead_sample():
    from microscope_qc.samples import psf_beads_sample

    return psf_beads_sample()


@pytest.fixture(scope="session")
def aberrated_sample():
    from microscope_qc.samples import psf_aberrated_sample

    return psf_aberrated_sample()


def microscope_for(sample):
    from microscope_qc.instrument import MicroscopeSettings

    md = sample.metadata
    return (
        MicroscopeSettings()
        .with_values(
            modality=md["modality"],
            na=md["na"],
            immersion_index=md["immersion_index"],
            voxel_size_um=md["voxel_size_um"],
            bead_diameter_um=md["bead_diameter_um"],
        )
        .with_wavelengths(md["wavelength_ex_nm"], md["wavelength_em_nm"])
    )

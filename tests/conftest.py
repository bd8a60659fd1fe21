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


#: true shifts (x, y, z) of channels 1 and 2 of :func:`large_bead_stack` from channel 0, µm
LARGE_BEAD_SHIFTS = ((0.0, 0.0, 0.0), (0.05, 0.03, 0.15), (-0.04, 0.06, -0.20))


def large_bead_stack(shape=(50, 160, 160), voxel=(0.2, 0.08, 0.08), diameter=4.5, peak=200.0, seed=0):
    """One filled 4.5 µm bead in three 8-bit channels, blurred by a confocal-like PSF, Poisson noise, a few saturated voxels."""
    import numpy as np
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    zz, yy, xx = (a * v for a, v in zip(np.indices(shape).astype(float), voxel, strict=True))
    centre = [(n - 1) * v / 2 for n, v in zip(shape, voxel, strict=True)]
    channels = []
    for dx, dy, dz in LARGE_BEAD_SHIFTS:
        r2 = (zz - centre[0] - dz) ** 2 + (yy - centre[1] - dy) ** 2 + (xx - centre[2] - dx) ** 2
        img = ndimage.gaussian_filter(
            (r2 <= (diameter / 2) ** 2).astype(float), (0.3 / voxel[0], 0.1 / voxel[1], 0.1 / voxel[2])
        )
        img = rng.poisson(img / img.max() * peak + 5).astype(float)
        channels.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(channels)

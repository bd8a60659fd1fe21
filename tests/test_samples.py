"""Synthetic samples: deterministic, truth consistent with the pixels, bundled file up to date."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microscope_qc.io import read_image
from microscope_qc.samples import (
    BeadSampleSpec,
    make_bead_stack,
    napari_psf_aberrated,
    napari_psf_beads,
    psf_beads_sample,
)

BUNDLED = Path(__file__).resolve().parents[1] / "sample_data" / "synthetic_beads.ome.tif"


def test_deterministic():
    a, b = make_bead_stack(BeadSampleSpec(seed=3)), make_bead_stack(BeadSampleSpec(seed=3))
    np.testing.assert_array_equal(a.data, b.data)


def test_truth_marks_bright_voxels(bead_sample):
    t = bead_sample.truth
    for _, row in t.iterrows():
        z, y, x = (int(round(row[k])) for k in ("z_px", "y_px", "x_px"))
        assert bead_sample.data[z, y, x] > 250  # background ≈ 110 ADU


def test_separation_is_respected():
    s = make_bead_stack(BeadSampleSpec(seed=4, n_beads=10, min_separation_um=4.0))
    xy = s.truth[["x_um", "y_um"]].to_numpy()
    d = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    assert d[np.triu_indices(len(xy), 1)].min() >= 4.0


def test_impossible_spec_explains():
    with pytest.raises(ValueError, match="larger image or fewer beads"):
        make_bead_stack(BeadSampleSpec(shape=(30, 64, 64), n_beads=50))


def test_napari_sample_layer_data():
    for fn in (napari_psf_beads, napari_psf_aberrated):
        [(data, kwargs, kind)] = fn()
        assert kind == "image" and data.ndim == 3
        assert kwargs["scale"] == (0.15, 0.065, 0.065)
        assert kwargs["metadata"]["microscope_qc"]["settings"]["na"] == 1.4


def test_bundled_sample_matches_generator():
    img = read_image(BUNDLED)
    np.testing.assert_array_equal(np.asarray(img.data)[0], psf_beads_sample().data)
    assert img.metadata.na.value == 1.4
    assert img.metadata.wavelength_em_nm.value == [520.0]
    assert img.metadata.modality.value == "widefield"


def test_flat_samples():
    from microscope_qc.samples import flat_field_misaligned_sample, flat_field_sample, napari_flat_field

    s = flat_field_sample()
    assert s.dark is not None and s.data.dtype == np.uint16
    assert s.truth["centre_x_px"] == 230.0 and 25 < s.truth["corner_falloff_percent"] < 40
    assert len(s.dust) == 6
    m = flat_field_misaligned_sample()
    assert m.truth["corner_falloff_percent"] > 50
    layers = napari_flat_field()
    assert [lyr[1]["name"] for lyr in layers] == ["synthetic flat", "synthetic flat (dark)"]

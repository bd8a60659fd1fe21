"""The field report copes with channels whose optional arrays are missing (ChannelField allows None)."""

from __future__ import annotations

import numpy as np
import pytest

from microscope_qc.analysis.field import FieldResult
from microscope_qc.analysis.field.result import ChannelField
from microscope_qc.report.field import field_figures, write_flat_field


def _channel(**optional: object) -> ChannelField:
    img = np.linspace(0.0, 1.0, 64 * 64, dtype=np.float32).reshape(64, 64)
    iso = (np.floor(img * 10) * 10).astype(np.int16)
    return ChannelField(
        channel=0, name="flat", blurred=img, iso_map=iso, reference_zone=iso >= 90, **optional
    )


def test_field_figures_without_an_illumination_model():
    # ChannelField.model is optional; the map figure used to call _thumb(None) and crash
    result = FieldResult(measurement="field", channels=[_channel()])
    titles = [f.title for f in field_figures(result)]
    assert titles[0].startswith("Iso-intensity map")
    assert not any(t.startswith("Residual") for t in titles)


def test_write_flat_field_refuses_a_result_without_flat_fields(tmp_path):
    # used to fail inside numpy (np.stack of None) with a TypeError naming no flat field
    result = FieldResult(measurement="field", channels=[_channel()])
    with pytest.raises(ValueError, match="no flat-field image"):
        write_flat_field(result, tmp_path / "flat.tif")
    assert not (tmp_path / "flat.tif").exists()
    with pytest.raises(ValueError, match="no flat-field image"):
        write_flat_field(FieldResult(measurement="field"), tmp_path / "flat.tif")


def test_write_flat_field_writes_every_channel(tmp_path):
    import tifffile

    flat = np.ones((64, 64), dtype=np.float32)
    result = FieldResult(measurement="field", channels=[_channel(flat_field=flat)])
    path = write_flat_field(result, tmp_path / "flat.tif")
    assert tifffile.imread(path).shape == (64, 64)

"""The analyses on lazy arrays (TIFF fast path, dask, zarr, memory maps) give exactly the numbers of the array in memory."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import tifffile
import zarr
from tests.conftest import microscope_for, shared_file

from microscope_qc.analysis.coregistration import CoregistrationSettings, analyze_coregistration
from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.array_views import Stacked
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.io import read_image
from microscope_qc.samples import coregistration_sample
from microscope_qc.tiff_reader import TiffStack


@pytest.fixture(autouse=True)
def never_read_whole(monkeypatch):
    """The lazy paths are under test: no stack is small enough to be read whole."""
    monkeypatch.setattr("microscope_qc.volume.EAGER_BYTES", 0)


def assert_same_result(lazy, eager):
    """Every metric, verdict, table and image of two results is identical."""
    np.testing.assert_equal(  # NaN equals NaN here
        [(m.name, m.channel, m.value, m.uncertainty) for m in lazy.metrics],
        [(m.name, m.channel, m.value, m.uncertainty) for m in eager.metrics],
    )
    assert [(v.metric, v.passed) for v in lazy.verdicts] == [(v.metric, v.passed) for v in eager.verdicts]
    assert lazy.warnings == eager.warnings
    assert lazy.tables.keys() == eager.tables.keys()
    for name in eager.tables:
        pd.testing.assert_frame_equal(lazy.tables[name], eager.tables[name])
    assert lazy.images.keys() == eager.images.keys()
    for name in eager.images:
        np.testing.assert_array_equal(lazy.images[name], eager.images[name])


def _lazy_forms(data, tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, data, photometric="minisblack")
    tiff = read_image(path).data[0]
    assert isinstance(tiff, TiffStack)
    return {
        "tiff": tiff,
        "dask": da.from_array(data, chunks=(7, 100, 100)),
        "zarr": zarr.array(data, chunks=(5, 64, 64)),
        "memmap": tifffile.memmap(path),
    }


@pytest.mark.parametrize(
    "options",
    [{"fit_3d": True}, {"method": "metroloj"}, {"average_bead": False, "through_focus_beads": 0}],
    ids=["quarep-3d", "metroloj", "quarep-lean"],
)
def test_psf_lazy_equals_in_memory(bead_sample, tmp_path, options):
    settings = PSFSettings(microscope=microscope_for(bead_sample), **options)
    eager = analyze_psf(bead_sample.data, settings)
    for name, data in _lazy_forms(bead_sample.data, tmp_path).items():
        assert_same_result(analyze_psf(data, settings), eager), name


def test_psf_lazy_with_given_positions_and_two_channels(bead_sample, tmp_path):
    two = np.stack([bead_sample.data, bead_sample.data[:, ::-1]])
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, two, photometric="minisblack", metadata={"axes": "CZYX"})
    ms = microscope_for(bead_sample)
    settings = PSFSettings(microscope=ms)
    lazy = read_image(path).data
    assert_same_result(
        analyze_psf(lazy, settings, channels=[1, 0]), analyze_psf(two, settings, channels=[1, 0])
    )
    pos = bead_sample.truth[["y_px", "x_px"]].to_numpy()[:6]
    assert_same_result(analyze_psf(lazy, settings, positions=pos), analyze_psf(two, settings, positions=pos))


@pytest.mark.parametrize(
    ("relative", "voxel", "optics"),
    [
        (
            "psf-beads-widefield-na095/beads_zstack_34z.tif",
            None,
            {"na": 0.95, "immersion_index": 1.0, "modality": "widefield", "bead_diameter_um": 0.2},
        ),
        (
            "psf-single-bead-air-na085/psf_wl520nm_z300nm_x130nm_na0.85_n1.0.tif",
            (0.3, 0.13, 0.13),
            {"na": 0.85, "immersion_index": 1.0, "modality": "widefield"},
        ),
        ("psf-single-bead-lightsheet/BIL113_zstack_z300nm_current.tif", (0.3, 0.0867, 0.0867), {}),
    ],
)
@pytest.mark.parametrize("method", ["quarep", "metroloj"])
def test_real_data_lazy_equals_in_memory(relative, voxel, optics, method):
    img = read_image(shared_file(relative))
    assert isinstance(img.data, TiffStack)
    eager_img = read_image(shared_file(relative), reader="bioio")
    assert img.metadata.as_dict() == eager_img.metadata.as_dict()  # the same metadata, with its origins
    ms = MicroscopeSettings().with_values(voxel_size_um=voxel or img.metadata.voxel_size_um.value, **optics)
    if optics:
        ms = ms.with_wavelengths([488], [520])
    settings = PSFSettings(microscope=ms, method=method)
    assert_same_result(analyze_psf(img.data, settings), analyze_psf(np.asarray(eager_img.data), settings))


def _coreg_settings(sample):
    sp = sample.spec
    ms = (
        MicroscopeSettings()
        .with_values(
            modality="widefield", na=sp.na, immersion_index=sp.immersion_index, voxel_size_um=sp.voxel_size_um
        )
        .with_wavelengths(
            [t.wavelength_ex_nm for t in sample.transforms], [t.wavelength_em_nm for t in sample.transforms]
        )
    )
    return CoregistrationSettings(microscope=ms)


def test_coregistration_lazy_and_from_two_files_equals_in_memory(tmp_path):
    s = coregistration_sample()
    settings = _coreg_settings(s)
    eager = analyze_coregistration(s.data, settings)
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, s.data, photometric="minisblack", metadata={"axes": "CZYX"})
    assert_same_result(analyze_coregistration(read_image(path).data, settings), eager)
    files = []
    for c in range(s.data.shape[0]):
        files.append(tmp_path / f"c{c}.tif")
        tifffile.imwrite(files[-1], s.data[c : c + 1], photometric="minisblack", metadata={"axes": "CZYX"})
    joined = Stacked([read_image(f).data for f in files])
    assert_same_result(analyze_coregistration(joined, settings), eager)


def test_a_scene_of_a_multi_scene_ome_tiff_is_read_lazily_and_analysed_alike(bead_sample, tmp_path):
    path = tmp_path / "scenes.ome.tif"
    other = bead_sample.data[:, ::-1].copy()
    with tifffile.TiffWriter(path, ome=True) as tw:
        tw.write(other, photometric="minisblack", metadata={"axes": "ZYX", "PhysicalSizeX": 0.065})
        tw.write(bead_sample.data, photometric="minisblack", metadata={"axes": "ZYX", "PhysicalSizeX": 0.065})
    img = read_image(path, scene=1)
    assert isinstance(img.data, TiffStack) and img.shape == (1, *bead_sample.data.shape)
    ref = read_image(path, scene=1, reader="bioio")
    assert img.metadata.as_dict() == ref.metadata.as_dict()
    settings = PSFSettings(microscope=microscope_for(bead_sample))
    assert_same_result(analyze_psf(img.data, settings), analyze_psf(bead_sample.data, settings))


def test_find_beads_on_a_lazy_stack(bead_sample, tmp_path):
    from microscope_qc.analysis.psf import find_beads

    settings = PSFSettings(microscope=microscope_for(bead_sample))
    want = find_beads(bead_sample.data, settings)
    for name, data in _lazy_forms(bead_sample.data, tmp_path).items():
        np.testing.assert_array_equal(find_beads(data, settings), want, err_msg=name)

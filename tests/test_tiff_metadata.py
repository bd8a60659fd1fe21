"""Pixel sizes and acquisition details of plain TIFFs, per writer, each with the metadata path it came from.

Every writer style is a small TIFF written here the way that writer lays its metadata out; the
expected numbers are computed by hand from what was written.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from microscope_qc.instrument import settings_from_metadata
from microscope_qc.io import read_metadata
from microscope_qc.tiff_metadata import bounding_box_voxel_um, length_unit_um, read_settings_log
from tests.conftest import shared_file

STACK = np.zeros((5, 16, 24), np.uint16)


@pytest.mark.parametrize(
    ("unit", "factor"), [("um", 1.0), ("micron", 1.0), ("\\u00B5m", 1.0), ("nm", 1e-3), ("mm", 1e3)]
)
def test_imagej_hyperstack_units(tmp_path, unit, factor):
    p = tmp_path / "ij.tif"
    size = 0.108 / factor  # the same 108 nm pixel and 300 nm step, in the file's unit
    tifffile.imwrite(
        p,
        STACK,
        imagej=True,
        resolution=(1 / size, 1 / size),
        metadata={"spacing": 0.3 / factor, "unit": unit},
    )
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((0.3, 0.108, 0.108))
    assert "ImageJ unit=" in md.voxel_size_um.origin and "ImageJ spacing" in md.voxel_size_um.origin


def test_imagej_zunit_differs(tmp_path):
    p = tmp_path / "ij.tif"
    tifffile.imwrite(
        p, STACK, imagej=True, resolution=(10.0, 10.0), metadata={"spacing": 250, "unit": "um", "zunit": "nm"}
    )
    assert read_metadata(p).voxel_size_um.value == pytest.approx((0.25, 0.1, 0.1))


def test_imagej_without_unit_has_no_pixel_size(tmp_path):
    p = tmp_path / "ij.tif"
    tifffile.imwrite(p, STACK, imagej=True, resolution=(1.0, 1.0), metadata={"spacing": 1.0})
    assert read_metadata(p).voxel_size_um.missing  # ImageJ's "pixel" calibration is no length


@pytest.mark.parametrize(
    ("unit", "per_unit", "expected"),
    [
        ("CENTIMETER", 1e4 / 0.125, 0.125),  # pixels per cm
        ("INCH", 25400 / 0.2, 0.2),  # pixels per inch
        ("MILLIMETER", 1e3 / 0.5, 0.5),
        ("MICROMETER", 1 / 0.065, 0.065),
    ],
)
def test_resolution_tags_with_a_unit(tmp_path, unit, per_unit, expected):
    p = tmp_path / "res.tif"
    tifffile.imwrite(p, STACK, resolution=(per_unit, per_unit), resolutionunit=unit)
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((None, expected, expected))
    assert md.voxel_size_um.origin.startswith("TIFF XResolution/YResolution (pixels per ")


@pytest.mark.parametrize(("res", "unit"), [(72.0, "INCH"), (1.0, "NONE")])
def test_screen_dpi_and_unitless_resolution_are_no_pixel_size(tmp_path, res, unit):
    p = tmp_path / "res.tif"
    tifffile.imwrite(p, STACK, resolution=(res, res), resolutionunit=unit)
    assert read_metadata(p).voxel_size_um.missing  # 72 dpi = 353 µm: a screen, not a microscope


def _micromanager(path, image_md, imagej=None):
    tifffile.imwrite(
        path,
        STACK,
        imagej=imagej is not None,
        resolution=(1 / 0.3, 1 / 0.3) if imagej else None,
        metadata=imagej,
        extratags=[(51123, "s", 0, json.dumps(image_md), True)],
    )


def test_micromanager_image_metadata(tmp_path):
    p = tmp_path / "mm.ome-less.tif"
    summary = {
        "PixelSize_um": 0.0645,
        "PixelAspect": 1,
        "z-step_um": -0.2,
        "StartTime": "2021-03-04 10:11:12.345 +0100",
    }
    _micromanager(p, {"PixelSizeUm": 0.0645, "Camera": "Prime", "Summary": summary})
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((0.2, 0.0645, 0.0645))  # the step's sign is the direction
    assert "Micro-Manager image metadata PixelSizeUm" in md.voxel_size_um.origin
    assert "Micro-Manager summary z-step_um" in md.voxel_size_um.origin
    assert md.acquisition_date.value == "2021-03-04T10:11:12.345000+01:00"
    assert md.acquisition_date.origin == "Micro-Manager summary StartTime"


def test_micromanager_wins_over_its_imagej_description(tmp_path):
    """Micro-Manager's own record first, then the ImageJ calibration it also writes."""
    p = tmp_path / "mm.tif"
    _micromanager(p, {"PixelSizeUm": 0.1}, imagej={"spacing": 0.5, "unit": "um"})
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((0.5, 0.1, 0.1))
    assert md.voxel_size_um.origin.startswith(
        "Micro-Manager image metadata PixelSizeUm (y, x); ImageJ spacing"
    )


def test_metaseries_description(tmp_path):
    p = tmp_path / "metamorph.tif"
    xml = (
        "<MetaData><PlaneInfo>"
        '<prop id="spatial-calibration-x" type="float" value="0.1613"/>'
        '<prop id="spatial-calibration-y" type="float" value="0.1613"/>'
        '<prop id="spatial-calibration-units" type="string" value="um"/>'
        '<prop id="acquisition-time-local" type="time" value="20190512 14:03:22.125"/>'
        "</PlaneInfo></MetaData>"
    )
    tifffile.imwrite(p, STACK[0], description=xml, software="MetaSeries", metadata=None)
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((None, 0.1613, 0.1613))
    assert md.voxel_size_um.origin == "MetaSeries spatial-calibration-x/-y (y, x)"
    assert md.acquisition_date.value == "2019-05-12T14:03:22.125000"


def test_tifffile_json_description(tmp_path):
    p = tmp_path / "shaped.tif"
    meta = {"axes": "ZYX", "PhysicalSizeX": 65, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 65}
    meta |= {"PhysicalSizeYUnit": "nm", "PhysicalSizeZ": 0.2}  # Z without unit: µm
    tifffile.imwrite(p, STACK, metadata=meta)
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((0.2, 0.065, 0.065))
    assert "tifffile description PhysicalSizeX/Y" in md.voxel_size_um.origin


def test_tifffile_ome_xml_is_read_as_ome(tmp_path):
    p = tmp_path / "t.ome.tif"
    meta = {"axes": "ZYX", "PhysicalSizeX": 110, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 110}
    meta |= {"PhysicalSizeYUnit": "nm", "PhysicalSizeZ": 0.4, "PhysicalSizeZUnit": "µm"}
    tifffile.imwrite(p, STACK, ome=True, metadata=meta)
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((0.4, 0.11, 0.11))
    assert md.voxel_size_um.origin == "OME Pixels.PhysicalSize{Z,Y,X}"


def test_bounding_box_description(tmp_path):
    """Amira's convention: the box spans the first to the last voxel centre, so a voxel is extent / (N − 1)."""
    p = tmp_path / "bb.tif"
    # 24 columns over 2.3 µm, 16 rows over 1.5 µm, 5 planes over 1.2 µm: 0.1, 0.1, 0.3 µm
    tifffile.imwrite(p, STACK, description="BoundingBox 10 12.3 -1.5 0 0 1.2", metadata=None)
    md = read_metadata(p)
    assert md.voxel_size_um.value == pytest.approx((0.3, 0.1, 0.1))
    assert md.voxel_size_um.origin.startswith("ImageDescription BoundingBox")
    assert bounding_box_voxel_um("BoundingBox 0 2.3 0 1.5 0 0", (1, 16, 24)) == pytest.approx(
        (None, 0.1, 0.1)
    )
    assert bounding_box_voxel_um("no box here", (5, 16, 24)) is None


def test_units():
    assert length_unit_um("\\u00B5m") == length_unit_um("\u03bcm") == length_unit_um("Micron") == 1.0
    assert length_unit_um("pixel") is None and length_unit_um(None) is None


_SETTINGS = """***** ***** ***** General ***** ***** *****\r
Date :\t8/24/2016 10:19:40 AM\r
Acq Mode :\tZ stack\r
\r
***** ***** ***** Waveform ***** ***** *****\r
Excitation Filter, Laser, Power (%), Exp(ms) (0) :\tN/A\t488\t10\t20\r
Excitation Filter, Laser, Power (%), Exp(ms) (1) :\tN/A\t560\t20\t40\r
\r
***** ***** *****   Camera  ***** ***** *****\r
Model :\tC11440-22C\r
\r
[Detection optics]\r
Magnification = 62.5\r
Magnification at Tiling Slit = 1.5\r
"""


def test_lattice_light_sheet_settings_log(tmp_path):
    (tmp_path / "cell1_Settings.txt").write_text(_SETTINGS)
    p = tmp_path / "cell1_ch1_stack0000_560nm_0000000msec_0001.tif"
    tifffile.imwrite(p, STACK, description="BoundingBox 0 2.3 0 1.5 0 1.2", metadata=None)
    md = read_metadata(p)
    assert md.wavelength_ex_nm.value == [560.0]  # channel 1, from the file name
    assert md.wavelength_ex_nm.origin.startswith("cell1_Settings.txt: Excitation Filter")
    assert md.acquisition_date.value == "2016-08-24T10:19:40"
    assert md.extra["detection_magnification"].value == 62.5
    assert md.extra["camera_model"].value == "C11440-22C"
    ms = settings_from_metadata(md, 1)
    assert ms.channels[0].wavelength_ex_nm == 560.0
    # without a channel in the name and with two lasers, the channel is unknown: no wavelength
    q = tmp_path / "cell1_other.tif"
    assert "wavelength_ex_nm" not in read_settings_log(q)
    assert read_settings_log(tmp_path / "unrelated.tif") == {}


def test_real_lattice_light_sheet_stack():
    """The bounding box gives 6.5 µm camera pixels over the logged magnification 74.41745, to 1e-6."""
    md = read_metadata(shared_file("psf-single-bead-lightsheet/BIL113_zstack_z300nm_current.tif"))
    z, y, x = md.voxel_size_um.value
    assert z == pytest.approx(6.0 / 20) and y == x == pytest.approx(11.092828 / 127)
    mag = md.extra["detection_magnification"].value
    assert x == pytest.approx(6.5 / mag, rel=1e-6)  # ORCA-Flash4.0 (C11440-22C): 6.5 µm pixels
    assert md.wavelength_ex_nm.value == [560.0]
    assert md.acquisition_date.value == "2016-08-24T10:19:40"


def test_real_single_bead_bounding_box_is_read_as_written():
    """Its BoundingBox says 54 nm pixels where the authors give 130 nm: read, and its origin named."""
    md = read_metadata(shared_file("psf-single-bead-air-na085/psf_wl520nm_z300nm_x130nm_na0.85_n1.0.tif"))
    assert md.voxel_size_um.value == pytest.approx((7.2 / 24, 13.8125 / 255, 13.8125 / 255))
    assert "BoundingBox" in md.voxel_size_um.origin

"""Vendor formats and their metadata: ND2, CZI, OME-Zarr, the missing-plugin message, what OME metadata pre-fills.

The ND2 is real: ``cluster.nd2`` (a Nikon A1 confocal stack) ships inside the ``pims-nd2`` package
(test extra). The CZI files are written by Zeiss's own libCZI (``pylibCZIrw``, installed with
``bioio-czi``) with metadata in ZEN's schema; the OME-Zarr files by ``bioio-ome-zarr``'s writer.
No small real CZI or LIF ships inside a PyPI package (the sdists of bioio-czi, bioio-lif, readlif,
aicspylibczi, pylibCZIrw, czifile and the napari CZI readers were checked).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile

import microscope_qc.vendor_metadata as vendor
from microscope_qc.acquisition import pinhole_au_from_um
from microscope_qc.cli import main
from microscope_qc.instrument.settings import settings_from_metadata
from microscope_qc.io import ImageReadError, read_image, read_metadata, sha256_file, write_ome_tiff
from microscope_qc.measurements import find_sample
from microscope_qc.reader import napari_get_reader, read_layers, wavelength_colour


def _sample(key: str, path: Path) -> Path:
    find_sample(key)[1].write_new(path)
    return path


# ---------------------------------------------------------------- pinhole, hand-computed


def test_pinhole_in_airy_units_by_the_documented_formula():
    # NA 1.22 at 500 nm: 1 AU = 1.22 · 0.5 / 1.22 = 0.5 µm in the sample, 50 µm behind a 100× objective
    assert pinhole_au_from_um(50.0, 100.0, 1.22, 500.0) == pytest.approx(1.0)
    assert pinhole_au_from_um(25.0, 100.0, 1.22, 500.0) == pytest.approx(0.5)
    # 63×/1.4 oil at 509 nm: 1 AU = 27.94 µm at the pinhole
    assert pinhole_au_from_um(27.944, 63.0, 1.4, 509.0) == pytest.approx(1.0, rel=1e-4)


# ---------------------------------------------------------------- OME-TIFF with an instrument

_OME = """<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
 <Instrument ID="Instrument:0">
  <Microscope Manufacturer="Nikon" Model="A1R" SerialNumber="SN-4711"/>
  <Laser ID="LightSource:0" Wavelength="488" Power="20" PowerUnit="mW"/>
  <Laser ID="LightSource:1" Wavelength="561" Power="0.015" PowerUnit="W"/>
  <Detector ID="Detector:0" Type="PMT" Gain="80"/>
  <Detector ID="Detector:1" Type="PMT"/>
  <Objective ID="Objective:0" Model="Plan Apo VC 60x/1.4 Oil" Immersion="Oil" LensNA="1.4" NominalMagnification="60"/>
 </Instrument>
 <Image ID="Image:0">
  <AcquisitionDate>2025-01-02T03:04:05</AcquisitionDate>
  <InstrumentRef ID="Instrument:0"/>
  <ObjectiveSettings ID="Objective:0" RefractiveIndex="1.515"/>
  <Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="16" SizeY="12" SizeZ="3" SizeC="2" SizeT="1"
          PhysicalSizeX="0.1" PhysicalSizeY="0.1" PhysicalSizeZ="250" PhysicalSizeZUnit="nm" SignificantBits="12">
   <Channel ID="Channel:0" Name="GFP" SamplesPerPixel="1" AcquisitionMode="LaserScanningConfocalMicroscopy"
            ExcitationWavelength="488" EmissionWavelength="525" PinholeSize="40.2">
    <LightSourceSettings ID="LightSource:0" Attenuation="0.9"/>
    <DetectorSettings ID="Detector:0" Gain="120"/>
   </Channel>
   <Channel ID="Channel:1" Name="mCherry" SamplesPerPixel="1" AcquisitionMode="LaserScanningConfocalMicroscopy"
            ExcitationWavelength="561" EmissionWavelength="610" PinholeSize="40.2">
    <LightSourceSettings ID="LightSource:1"/>
    <DetectorSettings ID="Detector:1"/>
   </Channel>
   <TiffData/>
  </Pixels>
 </Image>
</OME>"""


@pytest.fixture
def instrument_tiff(tmp_path):
    path = tmp_path / "confocal.ome.tif"
    data = np.arange(2 * 3 * 12 * 16, dtype=np.uint16).reshape(2, 3, 12, 16)
    tifffile.imwrite(path, data, description=_OME.encode(), metadata=None, photometric="minisblack")
    return path


@pytest.mark.parametrize("reader", ["auto", "bioio"])
def test_ome_tiff_prefills_every_recorded_setting_with_its_ome_path(instrument_tiff, reader):
    meta = read_image(instrument_tiff, reader=reader).metadata
    d = meta.as_dict()
    assert d["voxel_size_um"]["value"] == pytest.approx([0.25, 0.1, 0.1])
    assert d["na"] == {"value": 1.4, "origin": "OME Objective.LensNA"}
    assert d["immersion_index"] == {"value": 1.515, "origin": "OME ObjectiveSettings.RefractiveIndex"}
    assert d["objective_name"] == {"value": "Plan Apo VC 60x/1.4 Oil", "origin": "OME Objective.Model"}
    assert d["objective_magnification"]["value"] == 60.0
    assert d["modality"]["value"] == "confocal"
    assert d["wavelength_ex_nm"]["value"] == [488.0, 561.0]
    assert d["wavelength_em_nm"]["value"] == [525.0, 610.0]
    assert d["pinhole_um"] == {"value": [40.2, 40.2], "origin": "OME Channel.PinholeSize"}
    # no Airy units in the file: converted from channel 0's µm with the objective's magnification
    assert d["pinhole_au"]["value"] == pytest.approx(40.2 / (60 * 1.22 * 0.525 / 1.4), abs=1e-4)
    assert "OME Channel.PinholeSize (channel 0)" in d["pinhole_au"]["origin"]
    assert d["detector_type"]["value"] == ["PMT", "PMT"]
    assert d["detector_gain"] == {"value": [120.0, None], "origin": "OME Channel.DetectorSettings.Gain"}
    assert d["laser_power_mw"]["value"] == pytest.approx([20.0, 15.0])  # 0.015 W
    assert d["light_attenuation"]["value"] == [0.9, None]
    assert d["microscope"]["value"] == "Nikon A1R"
    assert d["microscope_serial"] == {"value": "SN-4711", "origin": "OME Microscope.SerialNumber"}
    assert d["acquisition_date"]["value"].startswith("2025-01-02T03:04:05")
    ms = settings_from_metadata(meta, 2)
    assert ms.pinhole_au == pytest.approx(d["pinhole_au"]["value"])
    assert ms.sources["pinhole_au"].detail == d["pinhole_au"]["origin"]


def test_fast_path_and_bioio_agree_on_the_instrument(instrument_tiff):
    assert (
        read_image(instrument_tiff).metadata.as_dict()
        == read_image(instrument_tiff, reader="bioio").metadata.as_dict()
    )


# ---------------------------------------------------------------- the missing plugin


@pytest.mark.parametrize(
    ("suffix", "plugin"), [(".czi", "bioio-czi"), (".nd2", "bioio-nd2"), (".lif", "bioio-lif")]
)
def test_a_missing_plugin_names_the_extra_and_the_plugin(tmp_path, monkeypatch, suffix, plugin):
    path = tmp_path / f"image{suffix}"
    path.write_bytes(b"\0" * 64)
    monkeypatch.setattr(vendor.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImageReadError) as err:
        read_image(path)
    assert 'pip install "napari-microscope-qc[formats]"' in str(err.value)
    assert plugin in str(err.value) and path.name in str(err.value)
    with pytest.raises(ImageReadError, match=plugin):  # napari shows the message too
        read_layers(str(path))


def test_a_missing_ome_zarr_plugin_is_named_too(tmp_path, monkeypatch):
    store = tmp_path / "image.ome.zarr"
    store.mkdir()
    (store / "zarr.json").write_text("{}")
    monkeypatch.setattr(vendor.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImageReadError, match=r"bioio-ome-zarr.*\[formats\]"):
        read_image(store)


# ---------------------------------------------------------------- CZI (written by Zeiss's libCZI)

_ZEN = """<?xml version="1.0"?>
<ImageDocument><Metadata><Information>
 <Image>
  <SizeX>40</SizeX><SizeY>32</SizeY><SizeZ>3</SizeZ><SizeC>2</SizeC><SizeT>1</SizeT>
  <PixelType>Gray16</PixelType><ComponentBitCount>12</ComponentBitCount>
  <AcquisitionDateAndTime>2024-03-05T10:20:30.0000000Z</AcquisitionDateAndTime>
  <ObjectiveSettings><ObjectiveRef Id="Objective:1"/><Medium>Oil</Medium><RefractiveIndex>1.518</RefractiveIndex></ObjectiveSettings>
  <Dimensions><Channels>
   <Channel Id="Channel:0" Name="EGFP">
    <ExcitationWavelength>488</ExcitationWavelength><EmissionWavelength>509</EmissionWavelength>
    <AcquisitionMode>LaserScanningConfocalMicroscopy</AcquisitionMode>
    <PinholeSize>45.5</PinholeSize><PinholeSizeAiry>1.0</PinholeSizeAiry>
    <DetectorSettings><Detector Id="Detector:1"/><Gain>650</Gain></DetectorSettings>
    <LightSourcesSettings><LightSourceSettings><LightSource Id="LightSource:1"/><Attenuation>0.98</Attenuation></LightSourceSettings></LightSourcesSettings>
   </Channel>
   <Channel Id="Channel:1" Name="mCherry">
    <ExcitationWavelength>561</ExcitationWavelength><EmissionWavelength>610</EmissionWavelength>
    <AcquisitionMode>LaserScanningConfocalMicroscopy</AcquisitionMode>
    <PinholeSize>54.2</PinholeSize><PinholeSizeAiry>1.0</PinholeSizeAiry>
    <DetectorSettings><Detector Id="Detector:2"/><Gain>720</Gain></DetectorSettings>
    <LightSourcesSettings><LightSourceSettings><LightSource Id="LightSource:2"/><Attenuation>0.95</Attenuation></LightSourceSettings></LightSourcesSettings>
   </Channel>
  </Channels></Dimensions>
 </Image>
 <Instrument>
  <Microscopes><Microscope Id="Microscope:1" Name="LSM 980"><Manufacturer><Model>LSM 980</Model><SerialNumber>2801000123</SerialNumber></Manufacturer></Microscope></Microscopes>
  <LightSources>
   <LightSource Id="LightSource:1"><LightSourceType><Laser><Wavelength>488</Wavelength><Power>13</Power></Laser></LightSourceType></LightSource>
   <LightSource Id="LightSource:2"><LightSourceType><Laser><Wavelength>561</Wavelength><Power>10</Power></Laser></LightSourceType></LightSource>
  </LightSources>
  <Detectors>
   <Detector Id="Detector:1" Name="GaAsP-PMT1"><Type>PMT</Type></Detector>
   <Detector Id="Detector:2" Name="GaAsP-PMT2"><Type>PMT</Type></Detector>
  </Detectors>
  <Objectives><Objective Id="Objective:1" Name="Plan-Apochromat 63x/1.40 Oil DIC M27"><Manufacturer><Model>Plan-Apochromat 63x/1.40 Oil DIC M27</Model></Manufacturer><Immersion>Oil</Immersion><LensNA>1.4</LensNA><NominalMagnification>63</NominalMagnification></Objective></Objectives>
 </Instrument>
</Information>
<Scaling><Items><Distance Id="X"><Value>1e-07</Value></Distance><Distance Id="Y"><Value>1e-07</Value></Distance><Distance Id="Z"><Value>3e-07</Value></Distance></Items></Scaling>
</Metadata></ImageDocument>"""


@pytest.fixture
def czi_file(tmp_path):
    pytest.importorskip("bioio_czi", reason="the CZI reader needs the [formats] extra (bioio-czi)")
    pyczi = pytest.importorskip(
        "pylibCZIrw.czi", reason="pylibCZIrw (installed with bioio-czi) writes the CZI"
    )
    path = tmp_path / "confocal.czi"
    data = np.random.default_rng(0).integers(0, 4000, (2, 3, 32, 40), dtype=np.uint16)
    with pyczi.create_czi(str(path), exist_ok=True) as w:
        for c in range(2):
            for z in range(3):
                w.write(data[c, z][..., None], plane={"C": c, "Z": z, "T": 0})
        w.write_metadata(
            document_name="qc",
            channel_names={0: "EGFP", 1: "mCherry"},
            scale_x=1e-7,
            scale_y=1e-7,
            scale_z=3e-7,
        )
    with pyczi.edit_czi(str(path)) as editor, editor.edit_session() as builder:
        builder.set_xml(_ZEN)  # ZEN's instrument and channel settings
    return path, data


def test_czi_pixels_and_metadata_through_ome_and_zen(czi_file):
    path, data = czi_file
    image = read_image(path)
    assert image.shape == (2, 3, 32, 40) and not isinstance(image.data, np.ndarray)  # lazy
    np.testing.assert_array_equal(np.asarray(image.data), data)
    d = image.metadata.as_dict()
    ome = "OME (converted by bioio-czi)"
    assert d["voxel_size_um"] == {
        "value": pytest.approx([0.3, 0.1, 0.1]),
        "origin": f"{ome} Pixels.PhysicalSize{{Z,Y,X}}",
    }
    assert d["channel_names"]["value"] == ["EGFP", "mCherry"]
    assert d["wavelength_em_nm"] == {"value": [509.0, 610.0], "origin": f"{ome} Channel.EmissionWavelength"}
    assert d["na"] == {"value": 1.4, "origin": f"{ome} Objective.LensNA"}
    assert d["immersion_index"]["value"] == 1.518
    assert d["modality"]["value"] == "confocal"
    assert d["objective_name"]["value"] == "Plan-Apochromat 63x/1.40 Oil DIC M27"
    assert d["microscope_serial"] == {"value": "2801000123", "origin": f"{ome} Microscope.SerialNumber"}
    assert d["acquisition_date"]["value"].startswith("2024-03-05T10:20:30")
    # what the OME conversion drops, from ZEN's own metadata: the vendor's Airy units win over the formula
    assert d["pinhole_au"]["value"] == 1.0 and "PinholeSizeAiry" in d["pinhole_au"]["origin"]
    assert d["pinhole_um"]["value"] == [45.5, 54.2]
    assert d["detector_type"]["value"] == ["PMT", "PMT"]
    assert d["detector_gain"]["value"] == [650.0, 720.0]
    assert d["detector_gain"]["origin"].startswith("CZI Information/Image/Dimensions/Channels/Channel")
    assert d["laser_power_mw"]["value"] == [13.0, 10.0]


def test_napari_opens_a_czi_as_coloured_channels_with_scale(czi_file):
    path, _ = czi_file
    assert napari_get_reader(str(path)) is read_layers
    ((data, kwargs, kind),) = read_layers(str(path))
    assert kind == "image" and kwargs["channel_axis"] == 0 and not isinstance(data, np.ndarray)
    assert kwargs["scale"] == pytest.approx((0.3, 0.1, 0.1))
    assert kwargs["colormap"] == [wavelength_colour(509), wavelength_colour(610)]
    assert kwargs["name"] == ["confocal [EGFP]", "confocal [mCherry]"]


# ---------------------------------------------------------------- OME-Zarr (bioio-ome-zarr's writer)


def _write_zarr(image, store: Path, with_ome_xml: Path | None = None) -> Path:
    """``image`` as OME-Zarr; with the OME-TIFF's XML as OME/METADATA.ome.xml in the bioformats2raw layout."""
    writers = pytest.importorskip("bioio_ome_zarr.writers", reason="OME-Zarr needs the [formats] extra")
    data = np.asarray(image.data)
    names = image.metadata.channel_names.value
    target = store / "0" if with_ome_xml else store
    if with_ome_xml:
        import zarr

        zarr.open_group(str(store), mode="w", zarr_format=3).attrs["bioformats2raw.layout"] = 3
        (store / "OME").mkdir()
        (store / "OME" / "METADATA.ome.xml").write_text(tifffile.TiffFile(with_ome_xml).ome_metadata)
    writer = writers.OMEZarrWriter(
        str(target),
        level_shapes=data.shape,
        dtype=data.dtype,
        channels=[writers.Channel(label=n, color="FFFFFF") for n in names],
        axes_names=["c", "z", "y", "x"],
        axes_types=["channel", "space", "space", "space"],
        axes_units=[None, "micrometer", "micrometer", "micrometer"],
        physical_pixel_size=[1.0, *image.metadata.voxel_size_um.value],
        chunk_shape=(1, 8, *data.shape[2:]),
    )
    writer.write_full_volume(data)
    return store


def test_ome_zarr_round_trip_pixels_sizes_and_names(tmp_path):
    tiff = _sample("psf-beads", tmp_path / "beads.ome.tif")
    ref = read_image(tiff)
    store = _write_zarr(ref, tmp_path / "beads.ome.zarr")
    image = read_image(store)
    assert image.shape == ref.shape and not isinstance(image.data, np.ndarray)
    np.testing.assert_array_equal(np.asarray(image.data), np.asarray(ref.data))
    d = image.metadata.as_dict()
    assert d["voxel_size_um"]["value"] == pytest.approx(list(ref.metadata.voxel_size_um.value))
    assert d["voxel_size_um"]["origin"] == "OME (converted by bioio-ome-zarr) Pixels.PhysicalSize{Z,Y,X}"
    assert d["channel_names"]["value"] == ref.metadata.channel_names.value
    assert d["wavelength_em_nm"]["value"] is None  # OME-NGFF has no wavelengths; never guessed
    assert napari_get_reader(str(store)) is read_layers


def test_ome_zarr_with_ome_xml_gives_what_the_ome_tiff_gives(tmp_path):
    tiff = _sample("psf-beads", tmp_path / "beads.ome.tif")
    ref = read_image(tiff)
    store = _write_zarr(ref, tmp_path / "beads.ome.zarr", with_ome_xml=tiff)
    for opened in (store, store / "0"):  # the layout's root opens its first series
        image = read_image(opened)
        np.testing.assert_array_equal(np.asarray(image.data), np.asarray(ref.data))
        got, want = image.metadata.as_dict(), ref.metadata.as_dict()
        for name in ("wavelength_ex_nm", "wavelength_em_nm", "na", "immersion_index", "modality"):
            assert got[name]["value"] == want[name]["value"], name
        assert got["wavelength_em_nm"]["origin"] == "OME-Zarr OME/METADATA.ome.xml Channel.EmissionWavelength"
        assert read_metadata(opened).as_dict() == got  # what the widgets' microscope form reads


def test_the_cli_gives_the_same_numbers_from_ome_zarr_and_ome_tiff(tmp_path, capsys):
    tiff = _sample("psf-beads", tmp_path / "in" / "beads.ome.tif")
    store = _write_zarr(read_image(tiff), tmp_path / "in" / "zarr.ome.zarr", with_ome_xml=tiff)
    out = tmp_path / "out"
    assert main(["psf", str(tiff), str(store), "--out", str(out), "-q", "--bead-diameter", "0.1"]) == 0
    docs = [json.loads(p.read_text()) for p in sorted(out.glob("*/results.json"))]
    assert len(docs) == 2
    a, b = (doc["metrics"] for doc in docs)
    assert a == b
    assert docs[0]["settings"]["na"]["value"] == docs[1]["settings"]["na"]["value"]


def test_a_zarr_folder_has_a_stable_checksum(tmp_path):
    store = tmp_path / "s.zarr"
    (store / "0").mkdir(parents=True)
    (store / "zarr.json").write_text("{}")
    (store / "0" / "c").write_bytes(b"abc")
    first = sha256_file(store)
    assert first == sha256_file(store)
    (store / "0" / "c").write_bytes(b"abd")
    assert sha256_file(store) != first


# ---------------------------------------------------------------- the napari reader and plain TIFF


def test_plain_tiff_is_claimed_only_with_a_pixel_size(tmp_path):
    data = np.zeros((3, 8, 8), np.uint16)
    calibrated = tmp_path / "calibrated.tif"
    tifffile.imwrite(
        calibrated,
        data,
        imagej=True,
        resolution=(10.0, 10.0),
        metadata={"spacing": 0.5, "unit": "um", "axes": "ZYX"},
    )
    bare = tmp_path / "bare.tif"
    tifffile.imwrite(bare, data, metadata=None, photometric="minisblack")
    assert napari_get_reader(str(calibrated)) is read_layers
    assert napari_get_reader(str(bare)) is None
    ((_, kwargs, _),) = read_layers(str(calibrated))
    assert kwargs["scale"] == pytest.approx((0.5, 0.1, 0.1))


def test_channels_are_coloured_by_their_emission(tmp_path):
    path = tmp_path / "two.ome.tif"
    write_ome_tiff(
        path,
        np.zeros((2, 2, 8, 8), np.uint16),
        voxel_size_um=(0.2, 0.1, 0.1),
        channel_names=["a", "b"],
        wavelength_em_nm=[450.0, None],
    )
    ((_, kwargs, _),) = read_layers(str(path))
    assert kwargs["colormap"] == [wavelength_colour(450.0), "magenta"]  # no wavelength: the default order


def test_wavelength_colours():
    assert wavelength_colour(510) == "#00ff00"
    assert wavelength_colour(645) == "#ff0000"
    assert wavelength_colour(440) == "#0000ff"
    assert wavelength_colour(300) == wavelength_colour(380)  # UV stays visible as violet


# ---------------------------------------------------------------- scenes


@pytest.fixture
def two_scene_tiff(tmp_path):
    """An OME-TIFF with two images (scenes): the psf-beads sample and the same stack dimmed by half."""
    src = _sample("psf-beads", tmp_path / "one.ome.tif")
    with tifffile.TiffFile(src) as tif:
        xml = tif.ome_metadata
        stack = tif.asarray()
    image = xml[xml.index("<Image ") : xml.index("</Image>") + len("</Image>")]
    n = stack.shape[0]
    second = image.replace('ID="Image:0"', 'ID="Image:1"').replace('ID="Pixels:0"', 'ID="Pixels:1"')
    second = second.replace('ID="Channel:0:0"', 'ID="Channel:1:0"')
    second = re.sub(r"<TiffData[^>]*/>", f'<TiffData IFD="{n}" PlaneCount="{n}"/>', second)
    path = tmp_path / "two.ome.tif"
    planes = np.concatenate([stack, stack // 2]).reshape(-1, *stack.shape[-2:])
    tifffile.imwrite(path, planes, photometric="minisblack", metadata=None)
    doc = xml.replace("</Image>", "</Image>" + second, 1)
    tifffile.tiffcomment(path, doc.encode())
    return path, stack


def test_every_scene_is_analysed_or_the_one_chosen(two_scene_tiff, tmp_path, capsys):
    from microscope_qc.io import scene_count

    path, stack = two_scene_tiff
    assert scene_count(path) == 2
    np.testing.assert_array_equal(np.asarray(read_image(path, scene=1).data)[0], stack // 2)
    out = tmp_path / "all"
    assert main(["psf", str(path), "--out", str(out), "-q", "--bead-diameter", "0.1"]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["two_scene0", "two_scene1"]
    one = tmp_path / "one"
    assert main(["psf", str(path), "--out", str(one), "-q", "--scene", "1", "--bead-diameter", "0.1"]) == 0
    assert [p.name for p in one.iterdir() if p.is_dir()] == ["two_scene1"]
    assert json.loads((one / "two_scene1" / "results.json").read_text())["input"]["scene"] == 1
    assert "two.ome.tif [scene 1]" in capsys.readouterr().out  # the summary table names the scene
    assert main(["psf", str(path), "--out", str(one), "-q", "--scene", "2"]) == 2
    assert "has 2 scene(s); --scene 2 does not exist" in capsys.readouterr().err


# ---------------------------------------------------------------- a real ND2 (Nikon A1 confocal)


@pytest.fixture
def nd2_file():
    """``cluster.nd2`` from the ``pims-nd2`` package (test extra): 2 channels, 10 planes, 3 time points."""
    import importlib.util

    pytest.importorskip("bioio_nd2", reason="the ND2 reader needs the [formats] extra (bioio-nd2)")
    spec = importlib.util.find_spec("pims_nd2")  # located, not imported (it would load PIMS)
    if spec is None or spec.origin is None or not (Path(spec.origin).parent / "cluster.nd2").is_file():
        pytest.skip("pims-nd2 (test extra) is not installed: it ships the real ND2 file cluster.nd2")
    return Path(spec.origin).parent / "cluster.nd2"


def test_a_real_nd2_prefills_from_nd2s_ome(nd2_file):
    nd2 = pytest.importorskip("nd2")
    image = read_image(nd2_file)
    assert image.shape == (2, 10, 31, 38) and image.metadata.extra["timepoints"] == 3
    with nd2.ND2File(nd2_file) as f:  # the vendor reader's own pixels, time point 0: (Z, C, Y, X)
        np.testing.assert_array_equal(np.asarray(image.data), f.asarray()[0].transpose(1, 0, 2, 3))
    d = image.metadata.as_dict()
    ome = "OME (converted by bioio-nd2)"
    assert d["voxel_size_um"]["value"] == pytest.approx([0.5, 0.167809, 0.167809], rel=1e-5)
    assert d["voxel_size_um"]["origin"] == f"{ome} Pixels.PhysicalSize{{Z,Y,X}}"
    assert d["channel_names"]["value"] == ["5-FAM/pH 9.0", "FM 4-64/2% CHAPS"]
    assert d["wavelength_ex_nm"]["value"] == [488.0, 561.0]
    assert d["wavelength_em_nm"]["value"] == [525.0, 700.0]
    assert d["na"] == {"value": 0.95, "origin": f"{ome} Objective.LensNA"}
    assert d["immersion_index"]["value"] == 1.0
    assert d["modality"]["value"] == "confocal"
    assert d["objective_name"]["value"] == "Plan Apo λ 60x"
    assert d["pinhole_um"]["value"] == pytest.approx([38.314176, 38.314176])
    # 38.31 µm behind a 60×/0.95 objective at 525 nm: 38.31 / (60 · 1.22 · 0.525 / 0.95) = 0.947 AU
    assert d["pinhole_au"]["value"] == pytest.approx(38.314176 / (60 * 1.22 * 0.525 / 0.95), abs=1e-4)
    assert d["acquisition_date"]["value"].startswith("2014-06-18T13:55:23")
    assert d["bit_depth"]["value"] == 12
    ((data, kwargs, _),) = read_layers(str(nd2_file))
    assert data.shape == (3, 2, 10, 31, 38) and kwargs["channel_axis"] == 1  # the time series whole
    assert kwargs["colormap"] == [wavelength_colour(525), wavelength_colour(700)]


def write_scenes(path: Path, images: list[tuple[np.ndarray, float, list[str], list[float]]]) -> Path:
    """An OME-TIFF with one OME image per (C, Z, Y, X) array: tifffile's ``TiffWriter(ome=True)``, written once each."""
    with tifffile.TiffWriter(path, ome=True) as tif:
        for data, pixel, names, emission in images:
            tif.write(
                data,
                metadata={
                    "axes": "CZYX",
                    "PhysicalSizeX": pixel,
                    "PhysicalSizeY": pixel,
                    "PhysicalSizeZ": 5 * pixel,
                    "Channel": {"Name": names, "EmissionWavelength": emission},
                },
            )
    return path


def test_napari_opens_every_scene_as_lazy_coloured_channels(tmp_path):
    a = np.arange(2 * 3 * 8 * 9, dtype=np.uint16).reshape(2, 3, 8, 9)
    b = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(1, 4, 5, 6) + 7
    path = write_scenes(
        tmp_path / "two.ome.tif", [(a, 0.1, ["GFP", "RFP"], [510, 610]), (b, 0.2, ["DAPI"], [450])]
    )
    layers = read_layers(str(path))
    assert [kw["name"] for _, kw, _ in layers] == [
        ["two [scene 0] [GFP]", "two [scene 0] [RFP]"],
        "two [scene 1]",
    ]
    (first, kw0, _), (second, kw1, _) = layers
    assert not isinstance(first, np.ndarray) and not isinstance(second, np.ndarray)  # lazy
    np.testing.assert_array_equal(np.asarray(first), a)
    np.testing.assert_array_equal(np.asarray(second), b[0])
    assert kw0["scale"] == pytest.approx((0.5, 0.1, 0.1)) and kw1["scale"] == pytest.approx((1.0, 0.2, 0.2))
    assert kw0["colormap"] == [wavelength_colour(510), wavelength_colour(610)]
    assert kw1["colormap"] == wavelength_colour(450)
    assert (kw0["metadata"]["scene"], kw1["metadata"]["scene"]) == (0, 1)
    assert kw1["metadata"]["acquisition"]["channel_names"]["value"] == ["DAPI"]
    assert read_metadata(path, 1).voxel_size_um.value == pytest.approx((1.0, 0.2, 0.2))
    # a file with one scene keeps its plain names and no scene key
    one = write_scenes(tmp_path / "one.ome.tif", [(a, 0.1, ["GFP", "RFP"], [510, 610])])
    [(_, kw, _)] = read_layers(str(one))
    assert kw["name"] == ["one [GFP]", "one [RFP]"] and "scene" not in kw["metadata"]


def test_a_file_with_many_scenes_opens_the_first_and_says_how_to_pick_another(tmp_path):
    from microscope_qc.reader import MAX_SCENES

    n = MAX_SCENES + 1
    stacks = [np.full((1, 2, 5, 6), k, dtype=np.uint8) for k in range(n)]
    path = write_scenes(tmp_path / "plate.ome.tif", [(s, 0.1, ["GFP"], [510]) for s in stacks])
    with pytest.warns(
        UserWarning, match=rf"plate.ome.tif holds {n} scenes; napari opened scene 0 only"
    ) as caught:
        layers = read_layers(str(path))
    assert f"--scene S (S from 0 to {n - 1})" in str(caught[0].message)
    [(data, kw, _)] = layers
    assert kw["name"] == "plate [scene 0]" and kw["metadata"]["scene"] == 0
    np.testing.assert_array_equal(np.asarray(data), stacks[0][0])

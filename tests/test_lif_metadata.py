"""Leica LIF: what LAS X's XML pre-fills, each value with its XML path (microscope_qc.lif_metadata).

No real LIF file is available offline (none ships inside a PyPI package). The XML fragments below are
hand-written, modelled on the LAS X schema: element and attribute names as LAS X writes them in LIF
files (``Attachment Name="HardwareSetting"`` with ``SystemTypeName`` and ``DataSourceTypeName``,
``ATLConfocalSettingDefinition`` with ``ObjectiveName``, ``NumericalAperture``, ``Magnification``,
``Immersion``, ``RefractionIndex``, ``Pinhole`` in metres, ``PinholeAiry``, ``SystemSerialNumber``,
``MicroscopeModel``; ``DetectorList/Detector`` with ``Name``, ``Type``, ``Gain``, ``Channel``,
``IsActive``; ``Spectro/MultiBand`` with ``Channel``, ``LeftWorld``, ``RightWorld``;
``AotfList/Aotf/LaserLineSetting`` with ``LaserLine`` and ``IntensityDev``; the SP5 layout's
``HardwareSettingList`` and ``LDM_Block_Sequential``; ``ATLCameraSettingDefinition`` with
``WideFieldChannelConfigurator@CameraName`` and ``WideFieldChannelInfo@EmissionWavelength``;
``TimeStampList`` as hexadecimal FILETIMEs), not copied from a real file. Neither ``liffile`` nor
``readlif`` writes LIF files, so the end-to-end tests write the container themselves
(``tests/lif_file.py``) and read it back through ``read_image`` (bioio-lif, liffile).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from microscope_qc.acquisition import AcquisitionMetadata, pinhole_au_from_um
from microscope_qc.lif_metadata import filetime_to_iso, fill_from_lif_xml, leica_immersion

# 2024-03-05T10:11:12 UTC as a FILETIME: (1709633472 s + 11644473600 s) · 10^7 = 0x1DA6EE57330E000
_STAMP = "1DA6EE57330E000"

CONFOCAL = f"""<Element Name="Series001"><Data><Image>
 <ImageDescription><Channels>
  <ChannelDescription DataType="0" ChannelTag="0" Resolution="12" LUTName="Green" BytesInc="0"/>
  <ChannelDescription DataType="0" ChannelTag="0" Resolution="12" LUTName="Red" BytesInc="2048"/>
 </Channels></ImageDescription>
 <TimeStampList NumberOfTimeStamps="2">{_STAMP} 1DA6EE5733A8A00 </TimeStampList>
 <Attachment Name="HardwareSetting" Software="LAS X [ BETA ] 3.5.7.23225" SystemTypeName="TCS SP8"
   DataSourceTypeName="Confocal">
  <ATLConfocalSettingDefinition Version="0" ObjectiveName="HC PL APO    63x/1.40 OIL" ObjectiveNumber="11506350"
    NumericalAperture="1.40" Magnification="63" Immersion="OIL" RefractionIndex="1.518" Pinhole="9.53e-05"
    PinholeAiry="1.0000" EmissionWavelengthForPinholeAiryCalculation="580" Zoom="3" ScanSpeed="400"
    SystemSerialNumber="8100000123" MicroscopeModel="DMI6000" IsInverseMicroscopeModel="1">
   <AotfList>
    <Aotf LightSourceType="1">
     <LaserLineSetting LineIndex="0" Qualifier="10" LaserLine="405" IntensityDev="0" IntensityLowDev="0"/>
     <LaserLineSetting LineIndex="1" Qualifier="10" LaserLine="488" IntensityDev="5.5" IntensityLowDev="0"/>
     <LaserLineSetting LineIndex="2" Qualifier="10" LaserLine="561" IntensityDev="2" IntensityLowDev="0"/>
    </Aotf>
   </AotfList>
   <DetectorList>
    <Detector Name="PMT 1" Type="PMT" Gain="650" Offset="-0.5" Channel="1" IsActive="1" ChannelName="PMT 1"/>
    <Detector Name="HyD 2" Type="HyD" Gain="100" Offset="0" Channel="2" IsActive="1" ChannelName="HyD 2"/>
    <Detector Name="PMT Trans" Type="PMT" Gain="300" Channel="3" IsActive="0" ChannelName="Transmission Channel"/>
   </DetectorList>
   <Spectro>
    <MultiBand Channel="1" LeftWorld="500" RightWorld="550" DyeName="Alexa 488"/>
    <MultiBand Channel="2" LeftWorld="570" RightWorld="650" DyeName="Alexa 568"/>
    <MultiBand Channel="3" LeftWorld="660" RightWorld="750" DyeName=""/>
   </Spectro>
  </ATLConfocalSettingDefinition>
 </Attachment>
</Image></Data></Element>"""

WIDEFIELD = """<Element Name="Position 1"><Data><Image>
 <ImageDescription><Channels>
  <ChannelDescription DataType="0" ChannelTag="0" Resolution="16" LUTName="Green" BytesInc="0"/>
  <ChannelDescription DataType="0" ChannelTag="0" Resolution="16" LUTName="Red" BytesInc="8192"/>
 </Channels></ImageDescription>
 <Attachment Name="HardwareSetting" Software="LAS X 3.7.4" SystemTypeName="THUNDER Imager Live Cell"
   DataSourceTypeName="Camera">
  <ATLCameraSettingDefinition Version="3" ObjectiveName="HC PL APO   40x/0.95  DRY" NumericalAperture="0.95"
    Magnification="40" Immersion="DRY" MicroscopeModel="DMi8" SystemSerialNumber="8200001234">
   <WideFieldChannelConfigurator CameraName="Leica K8">
    <WideFieldChannelInfo UserDefName="GFP" FluoCubeName="GFP" ContrastingMethodName="FLUO" Channel="0"
      EmissionWavelength="525" ExposureTime="50" LUT="Green"/>
    <WideFieldChannelInfo UserDefName="TXR" FluoCubeName="TXR" ContrastingMethodName="FLUO" Channel="1"
      EmissionWavelength="630" ExposureTime="120" LUT="Red"/>
   </WideFieldChannelConfigurator>
  </ATLCameraSettingDefinition>
 </Attachment>
</Image></Data></Element>"""

# SP5 layout: HardwareSettingList, a sequential scan of two sequences, no PinholeAiry, no Immersion or
# RefractionIndex (the objective's name ends with the immersion), LAS AF time stamps as two integers
SEQUENTIAL = """<Element Name="Series003"><Data><Image>
 <ImageDescription><Channels>
  <ChannelDescription Resolution="8" LUTName="Green"/><ChannelDescription Resolution="8" LUTName="Red"/>
 </Channels></ImageDescription>
 <TimeStampList NumberOfTimeStamps="1"><TimeStamp HighInteger="31092453" LowInteger="1932582912"/></TimeStampList>
 <Attachment Name="HardwareSettingList">
  <HardwareSetting>
   <LDM_Block_Sequential>
    <LDM_Block_Sequential_Master>
     <ATLConfocalSettingDefinition ObjectiveName="HCX PL APO CS 63.0x1.40 OIL" NumericalAperture="1.4"
       Magnification="63" Pinhole="1.0e-04" SystemSerialNumber="5100000777"/>
    </LDM_Block_Sequential_Master>
    <LDM_Block_Sequential_List>
     <ATLConfocalSettingDefinition Pinhole="1.0e-04">
      <AotfList><Aotf><LaserLineSetting LaserLine="488" IntensityDev="12"/>
       <LaserLineSetting LaserLine="633" IntensityDev="0"/></Aotf></AotfList>
      <DetectorList><Detector Type="PMT" Gain="700" Channel="1" IsActive="1"/>
       <Detector Type="PMT" Gain="700" Channel="2" IsActive="0"/></DetectorList>
      <Spectro><MultiBand Channel="1" LeftWorld="500" RightWorld="550"/></Spectro>
     </ATLConfocalSettingDefinition>
     <ATLConfocalSettingDefinition Pinhole="1.0e-04">
      <AotfList><Aotf><LaserLineSetting LaserLine="488" IntensityDev="0"/>
       <LaserLineSetting LaserLine="633" IntensityDev="30"/></Aotf></AotfList>
      <DetectorList><Detector Type="PMT" Gain="700" Channel="1" IsActive="0"/>
       <Detector Type="PMT" Gain="810" Channel="2" IsActive="1"/></DetectorList>
      <Spectro><MultiBand Channel="2" LeftWorld="650" RightWorld="750"/></Spectro>
     </ATLConfocalSettingDefinition>
    </LDM_Block_Sequential_List>
   </LDM_Block_Sequential>
  </HardwareSetting>
 </Attachment>
</Image></Data></Element>"""

# Only an NA: nothing else may appear
SPARSE = """<Element Name="Series004"><Data><Image>
 <ImageDescription><Channels><ChannelDescription Resolution="8"/><ChannelDescription Resolution="8"/></Channels>
 </ImageDescription>
 <Attachment Name="HardwareSetting"><ATLConfocalSettingDefinition NumericalAperture="0.75">
  <DetectorList><Detector Name="HyD 1" IsActive="1" Channel="1"/><Detector Name="HyD 2" IsActive="1" Channel="2"/>
  </DetectorList></ATLConfocalSettingDefinition></Attachment>
</Image></Data></Element>"""


def _meta(xml: str, n: int | None = None) -> AcquisitionMetadata:
    meta = AcquisitionMetadata()
    fill_from_lif_xml(meta, ET.fromstring(xml), n)
    return meta


def test_a_confocal_with_two_channels_and_two_active_laser_lines():
    m = _meta(CONFOCAL)
    at = "LIF XML ATLConfocalSettingDefinition"
    assert (m.na.value, m.na.origin) == (1.4, f"{at}@NumericalAperture")
    assert (m.objective_magnification.value, m.objective_magnification.origin) == (
        63.0,
        f"{at}@Magnification",
    )
    assert m.objective_name.value == "HC PL APO 63x/1.40 OIL"  # LAS X pads the name with spaces
    assert (m.immersion_index.value, m.immersion_index.origin) == (1.518, f"{at}@RefractionIndex")
    assert (m.modality.value, m.modality.origin) == ("confocal", f"{at} (a confocal scan)")
    # the pinhole: Leica records metres (9.53e-05 m = 95.3 µm) and the Airy units LAS X computed
    assert m.pinhole_um.value == pytest.approx([95.3, 95.3])
    assert m.pinhole_um.origin == f"{at}@Pinhole (m)"
    assert (m.pinhole_au.value, m.pinhole_au.origin) == (1.0, f"{at}@PinholeAiry")
    # per channel: the two active detectors, in order; the inactive transmission PMT is no channel
    assert m.detector_type.value == ["PMT", "HyD"]
    assert m.detector_gain.value == [650.0, 100.0]
    assert m.detector_gain.origin == f'{at}/DetectorList/Detector[@IsActive="1"]@Gain'
    assert m.wavelength_em_nm.value == [525.0, 610.0]  # midpoints of 500–550 and 570–650 nm
    assert "MultiBand@LeftWorld, RightWorld (midpoint" in m.wavelength_em_nm.origin
    assert m.extra["emission_band_nm"].value == [(500.0, 550.0), (570.0, 650.0)]
    # 405 nm is off (IntensityDev 0); 488 is the longest line below 500 nm, 561 below 570 nm
    assert m.wavelength_ex_nm.value == [488.0, 561.0]
    assert "IntensityDev > 0 (the longest active line below the detection band)" in m.wavelength_ex_nm.origin
    assert m.extra["laser_intensity_percent"].value == [5.5, 2.0]
    assert m.laser_power_mw.missing  # LAS X records the AOTF setting, not the power
    assert m.microscope.value == "TCS SP8, DMI6000"
    assert (
        m.microscope.origin
        == "LIF XML HardwareSetting@SystemTypeName; ATLConfocalSettingDefinition@MicroscopeModel"
    )
    assert (m.microscope_serial.value, m.microscope_serial.origin) == (
        "8100000123",
        f"{at}@SystemSerialNumber",
    )
    assert m.acquisition_date.value == "2024-03-05T10:11:12+00:00"
    assert m.acquisition_date.origin == "LIF XML Image/TimeStampList (first time stamp)"
    assert m.bit_depth.value == 12


def test_a_widefield_camera_acquisition():
    m = _meta(WIDEFIELD)
    at = "LIF XML ATLCameraSettingDefinition"
    assert (m.modality.value, m.modality.origin) == ("widefield", f"{at} (a camera acquisition)")
    assert m.na.value == 0.95 and m.objective_magnification.value == 40.0
    assert m.objective_name.value == "HC PL APO 40x/0.95 DRY"
    # no RefractionIndex: the nominal index of the named immersion (DRY: air)
    assert m.immersion_index.value == 1.0
    assert m.immersion_index.origin == f"{at}@Immersion=DRY (nominal index of air)"
    assert m.wavelength_em_nm.value == [525.0, 630.0]
    assert (
        m.wavelength_em_nm.origin
        == f"{at}/WideFieldChannelConfigurator/WideFieldChannelInfo@EmissionWavelength"
    )
    assert m.wavelength_ex_nm.missing  # the XML gives no excitation: none is invented
    assert m.detector_type.value == ["Camera", "Camera"]
    assert m.extra["camera_model"].value == "Leica K8"
    assert m.microscope.value == "THUNDER Imager Live Cell, DMi8"
    assert m.microscope_serial.value == "8200001234"
    for missing in ("pinhole_um", "pinhole_au", "detector_gain", "laser_power_mw", "acquisition_date"):
        assert getattr(m, missing).missing, missing


def test_sp5_sequential_scan_and_the_airy_units_by_the_documented_formula():
    m = _meta(SEQUENTIAL)
    seq = "LIF XML sequential settings"
    # one channel per sequence, each with its only active line
    assert m.wavelength_ex_nm.value == [488.0, 633.0]
    assert "(the only active line)" in m.wavelength_ex_nm.origin
    assert m.wavelength_em_nm.value == [525.0, 700.0]
    assert m.detector_gain.value == [700.0, 810.0]
    assert m.detector_gain.origin == f'{seq}/DetectorList/Detector[@IsActive="1"]@Gain'
    assert m.pinhole_um.value == pytest.approx([100.0, 100.0])  # 1.0e-04 m
    master = "LDM_Block_Sequential/LDM_Block_Sequential_Master/ATLConfocalSettingDefinition"
    assert m.na.origin == f"LIF XML {master}@NumericalAperture"
    assert m.microscope_serial.value == "5100000777"
    # the immersion is named only at the end of the objective's name
    assert m.immersion_index.value == 1.518
    assert m.immersion_index.origin == f"LIF XML {master}@ObjectiveName ending OIL (nominal index of oil)"
    # no PinholeAiry: AU = 100 µm / (63 · 1.22 · 0.525 µm / 1.4) = 100 / 28.8225 = 3.4695 (first channel)
    assert m.pinhole_au.value == pytest.approx(3.4695, abs=1e-4)
    assert m.pinhole_au.value == pytest.approx(pinhole_au_from_um(100.0, 63.0, 1.4, 525.0), abs=1e-4)
    assert "the objective's magnification only" in m.pinhole_au.origin
    assert m.acquisition_date.value == "2024-03-05T10:11:12+00:00"  # LAS AF's High/LowInteger form
    assert m.microscope.missing  # the SP5 layout has no SystemTypeName attribute


def test_missing_attributes_stay_missing():
    m = _meta(SPARSE)
    assert m.na.value == 0.75
    assert m.modality.value == "confocal"
    for name in (
        "immersion_index",
        "objective_name",
        "objective_magnification",
        "pinhole_um",
        "pinhole_au",
        "wavelength_ex_nm",
        "wavelength_em_nm",
        "detector_type",
        "detector_gain",
        "laser_power_mw",
        "microscope",
        "microscope_serial",
        "acquisition_date",
    ):
        assert getattr(m, name).missing, name
    assert "laser_intensity_percent" not in m.extra and "emission_band_nm" not in m.extra


def test_no_hardware_setting_gives_nothing_but_the_bit_depth():
    m = _meta('<Element Name="x"><Data><Image><ImageDescription/></Image></Data></Element>')
    assert all(v["value"] is None for v in m.as_dict().values())


def test_per_channel_values_need_as_many_active_detectors_as_channels():
    m = _meta(CONFOCAL, n=3)  # 2 active detectors for 3 channels: which is which is unknown
    for name in ("detector_type", "detector_gain", "wavelength_em_nm", "wavelength_ex_nm"):
        assert getattr(m, name).missing, name
    assert m.pinhole_um.value == pytest.approx([95.3] * 3)  # one pinhole for the image
    assert m.na.value == 1.4


def test_values_already_read_are_kept():
    from microscope_qc.acquisition import MetadataValue

    meta = AcquisitionMetadata(na=MetadataValue(1.3, "user"))
    fill_from_lif_xml(meta, ET.fromstring(CONFOCAL))
    assert meta.na == MetadataValue(1.3, "user")


def test_units_and_names():
    # FILETIME epoch offset: 116444736000000000 · 100 ns after 1601-01-01 is the Unix epoch
    assert filetime_to_iso(116444736000000000) == "1970-01-01T00:00:00+00:00"
    assert filetime_to_iso(int(_STAMP, 16)) == datetime(2024, 3, 5, 10, 11, 12, tzinfo=UTC).isoformat()
    assert [leica_immersion(n) for n in ("OIL", "W", "GLYC", "DRY", "SIL", "IMM", "honey", None)] == [
        "oil",
        "water",
        "glycerol",
        "air",
        "silicone",
        "multi",
        None,
        None,
    ]
    # a pinhole written with a unit (as LAS X's exported Properties.xml does) is converted from it
    xml = CONFOCAL.replace('Pinhole="9.53e-05"', 'Pinhole="154.4 µm"')
    assert _meta(xml).pinhole_um.value == pytest.approx([154.4, 154.4])
    assert _meta(CONFOCAL.replace('Pinhole="9.53e-05"', 'Pinhole="1 AU"')).pinhole_um.missing  # no length


def test_stellaris_detectors_name_their_reference_line():
    """STELLARIS writes each detector's excitation line (DetectionReferenceLine) with a white-light laser."""
    xml = CONFOCAL.replace(
        'ChannelName="PMT 1"/>',
        'ChannelName="PMT 1"><DetectionReferenceLine LaserName="WLL" LaserWavelength="499"/></Detector>',
    ).replace(
        'ChannelName="HyD 2"/>',
        'ChannelName="HyD 2"><DetectionReferenceLine LaserName="WLL" LaserWavelength="553"/></Detector>',
    )
    xml = xml.replace('LaserLine="488" IntensityDev="5.5"', 'LaserLine="499" IntensityDev="5.5"')
    xml = xml.replace('LaserLine="561" IntensityDev="2"', 'LaserLine="553" IntensityDev="2"')
    m = _meta(xml)
    assert m.wavelength_ex_nm.value == [499.0, 553.0]
    assert "(DetectionReferenceLine@LaserWavelength)" in m.wavelength_ex_nm.origin
    assert m.extra["laser_intensity_percent"].value == [5.5, 2.0]


# ---------------------------------------------------------------- through read_image (bioio-lif, liffile)


def _image_xml(xml: str) -> str:
    """The Attachment and TimeStampList of a fragment, to go inside a written image's Data/Image."""
    image = ET.fromstring(xml).find("Data/Image")
    assert image is not None
    return "".join(
        ET.tostring(child, encoding="unicode") for child in image if child.tag != "ImageDescription"
    )


@pytest.fixture
def lif_file(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    pytest.importorskip("bioio_lif", reason="reading LIF needs the [formats] extra (bioio-lif)")
    from tests.lif_file import write_lif

    rng = np.random.default_rng(3)
    confocal = rng.integers(0, 4096, (2, 3, 8, 9), dtype=np.uint16)
    camera = rng.integers(0, 4096, (2, 1, 6, 5), dtype=np.uint16)
    path = write_lif(
        tmp_path / "leica.lif",
        [
            ("Series001", confocal, (0.3, 0.0902, 0.0902), _image_xml(CONFOCAL)),
            ("Position 1", camera, (1.0, 0.1625, 0.1625), _image_xml(WIDEFIELD)),
        ],
    )
    return path, confocal, camera


def test_a_written_lif_reads_back_with_its_pixels_and_settings(lif_file):
    from microscope_qc.instrument.settings import settings_from_metadata
    from microscope_qc.io import read_image, scene_count

    path, confocal, camera = lif_file
    assert scene_count(path) == 2
    image = read_image(path)
    np.testing.assert_array_equal(np.asarray(image.data), confocal)
    m = image.metadata
    assert m.voxel_size_um.value == pytest.approx((0.3, 0.0902, 0.0902))
    assert (m.na.value, m.na.origin) == (1.4, "LIF XML ATLConfocalSettingDefinition@NumericalAperture")
    assert m.wavelength_ex_nm.value == [488.0, 561.0] and m.wavelength_em_nm.value == [525.0, 610.0]
    assert m.pinhole_au.value == 1.0 and m.modality.value == "confocal"
    assert m.acquisition_date.value == "2024-03-05T10:11:12+00:00"
    settings = settings_from_metadata(m, 2)
    assert settings.na == 1.4 and settings.immersion_index == 1.518 and settings.pinhole_au == 1.0
    second = read_image(path, scene=1)
    np.testing.assert_array_equal(np.asarray(second.data), camera)
    assert second.metadata.modality.value == "widefield"
    assert second.metadata.wavelength_em_nm.value == [525.0, 630.0]
    assert second.metadata.na.value == 0.95


def test_napari_opens_both_scenes_of_a_lif_with_their_own_settings(lif_file):
    from microscope_qc.reader import read_layers, wavelength_colour

    path, confocal, camera = lif_file
    layers = read_layers(str(path))
    names = [kw["name"] for _, kw, _ in layers]
    assert names == [
        ["leica [scene 0] [Green]", "leica [scene 0] [Red]"],
        # bioio-lif names camera channels LUT--ContrastingMethodName--FluoCubeName
        ["leica [scene 1] [Green--FLUO--GFP]", "leica [scene 1] [Red--FLUO--TXR]"],
    ]
    (first, kw0, _), (second, kw1, _) = layers
    np.testing.assert_array_equal(np.asarray(first), confocal)
    np.testing.assert_array_equal(np.asarray(second), camera[:, 0])  # one plane: shown 2D
    assert kw0["colormap"] == [wavelength_colour(525), wavelength_colour(610)]
    assert kw1["colormap"] == [wavelength_colour(525), wavelength_colour(630)]
    assert kw1["scale"] == pytest.approx((0.1625, 0.1625))
    assert kw1["metadata"]["acquisition"]["modality"] == {
        "value": "widefield",
        "origin": "LIF XML ATLCameraSettingDefinition (a camera acquisition)",
    }

"""The TIFF fast path reads what bioio reads: the same pixels and the same metadata with the same origins.

Every layout a microscope writes that the fast path takes (OME-TIFF, ImageJ hyperstacks, plain
stacks, several series) is compared with ``read_image(..., reader="bioio")``, the path every
file took before; layouts it does not take (RGB, OME-XML that ome-types refuses) go to bioio.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from microscope_qc.io import ImageReadError, read_image, write_ome_tiff
from microscope_qc.tiff_reader import TiffStack, page_indices
from tests.conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "synthetic_beads.ome.tif"
RNG = np.random.default_rng(12)


def _stack(shape, dtype=np.uint16):
    if np.dtype(dtype).kind == "f":
        return RNG.random(shape).astype(dtype)
    return RNG.integers(0, 4000, shape).astype(dtype)


def _ome(tmp, name="ome.ome.tif", shape=(2, 3, 8, 10), **kw):
    kw = {
        "voxel_size_um": (0.2, 0.1, 0.1),
        "channel_names": ["GFP", "mCherry"][: shape[0]],
        "wavelength_ex_nm": [488, 561][: shape[0]],
        "wavelength_em_nm": [520, 610][: shape[0]],
        "na": 1.4,
        "immersion": "oil",
        "immersion_index": 1.518,
        "modality": "confocal",
    } | kw
    return write_ome_tiff(tmp / name, _stack(shape), **kw)


def _ome_xml(tmp, name, pixels_attrs, channels, extra=""):
    """An OME-TIFF whose XML is written by hand (units, dates, names as other software writes them)."""
    c = len(channels)
    data = _stack((c, 4, 6, 7))
    chans = "".join(
        f'<Channel ID="Channel:0:{i}" SamplesPerPixel="1" {attrs}/>' for i, attrs in enumerate(channels)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" Creator="test">'
        f"{extra}"
        '<Image ID="Image:0" Name="x">'
        + ("<AcquisitionDate>2023-05-06T07:08:09Z</AcquisitionDate>" if "date" in name else "")
        + ('<ObjectiveSettings ID="Objective:0:0"/>' if "objective" in name else "")
        + f'<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="7" SizeY="6" SizeZ="4" '
        f'SizeC="{c}" SizeT="1" {pixels_attrs}>{chans}<TiffData PlaneCount="{4 * c}"/></Pixels></Image></OME>'
    )
    path = tmp / name
    tifffile.imwrite(path, data, description=xml, photometric="minisblack", metadata=None)
    return path


def _files(tmp: Path) -> dict[str, Path]:
    """Every layout the fast path takes, as microscopes and Fiji write it."""
    files = {
        "ome 2 channels": _ome(tmp),
        "ome 1 channel": _ome(tmp, "one.ome.tif", (1, 5, 8, 10)),
        "ome 2D": _ome(tmp, "flat.ome.tif", (1, 1, 12, 9), voxel_size_um=None, na=None, immersion=None),
        "ome named .tif": _ome(tmp, "named.tif"),
        "ome units, date, immersion only": _ome_xml(
            tmp,
            "units_date_objective.ome.tif",
            'PhysicalSizeX="65" PhysicalSizeXUnit="nm" PhysicalSizeY="0.065" PhysicalSizeZ="0.0003" '
            'PhysicalSizeZUnit="mm" SignificantBits="12"',
            [
                'Name="a" EmissionWavelength="0.52" EmissionWavelengthUnit="&#181;m" AcquisitionMode="WideField"'
            ],
            extra='<Instrument ID="Instrument:0"><Objective ID="Objective:0:0" LensNA="1.2" Immersion="Water"/>'
            "</Instrument>",
        ),
        "ome unnamed channels": _ome_xml(tmp, "unnamed.ome.tif", 'PhysicalSizeX="0.1"', ["", ""]),
    }
    ij = tmp / "hyperstack.tif"
    tifffile.imwrite(
        ij,
        _stack((2, 3, 4, 16, 12)),
        imagej=True,
        resolution=(1 / 0.11, 1 / 0.11),
        metadata={"axes": "TZCYX", "spacing": 0.3, "unit": "um"},
    )
    files["imagej TZCYX"] = ij
    ij3 = tmp / "ij_stack.tif"
    tifffile.imwrite(
        ij3, _stack((7, 10, 11), np.uint8), imagej=True, resolution=(10, 10), metadata={"unit": "um"}
    )
    files["imagej ZYX 8-bit"] = ij3
    for name, shape, kw in (
        ("plain ZYX", (6, 9, 8), {"metadata": None}),
        ("plain CZYX", (3, 4, 9, 8), {"metadata": None}),
        ("plain YX", (9, 8), {"metadata": None}),
        ("tifffile shaped ZYX", (5, 9, 8), {}),
        ("zlib, tiled", (4, 32, 48), {"metadata": None, "compression": "zlib", "tile": (16, 16)}),
        ("bigtiff float32", (3, 9, 8), {"metadata": None, "bigtiff": True}),
        ("big-endian", (4, 9, 8), {"metadata": None, "byteorder": ">"}),
        (
            "resolution in cm",
            (4, 9, 8),
            {"metadata": None, "resolution": (1e4, 1e4), "resolutionunit": "CENTIMETER"},
        ),
    ):
        path = tmp / (name.replace(" ", "_").replace(",", "") + ".tif")
        dtype = np.float32 if "float" in name else np.uint16
        tifffile.imwrite(path, _stack(shape, dtype), photometric="minisblack", **kw)
        files[name] = path
    two = tmp / "two_series.tif"
    with tifffile.TiffWriter(two) as tw:
        tw.write(_stack((3, 8, 9)), photometric="minisblack", metadata={"axes": "ZYX"})
        tw.write(_stack((5, 6, 7)), photometric="minisblack", metadata={"axes": "ZYX"})
    files["two series"] = two
    return files


def _same(fast, slow):
    assert fast.shape == slow.shape
    assert fast.dtype == slow.dtype
    assert fast.dims_in_file == slow.dims_in_file
    assert fast.metadata.as_dict() == slow.metadata.as_dict()
    assert fast.metadata.extra == slow.metadata.extra
    np.testing.assert_array_equal(np.asarray(fast.data), np.asarray(slow.data))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return _files(tmp_path_factory.mktemp("layouts"))


def test_every_layout_reads_as_bioio_reads_it(files):
    for name, path in files.items():
        fast = read_image(path)
        assert isinstance(fast.data, TiffStack), f"{name}: not read by the fast path"
        _same(fast, read_image(path, reader="bioio"))


def test_every_scene_and_time_point_reads_as_bioio_reads_it(files):
    for scene in (0, 1):
        fast = read_image(files["two series"], scene=scene)
        assert isinstance(fast.data, TiffStack)
        _same(fast, read_image(files["two series"], scene=scene, reader="bioio"))
    assert read_image(files["two series"], scene=1).shape == (1, 5, 6, 7)
    for t in (0, 1):
        _same(
            read_image(files["imagej TZCYX"], timepoint=t),
            read_image(files["imagej TZCYX"], timepoint=t, reader="bioio"),
        )
    with pytest.raises(ImageReadError, match="has 2 time points; time point 2 does not exist"):
        read_image(files["imagej TZCYX"], timepoint=2)


def test_the_bundled_sample_and_the_real_images_read_as_bioio_reads_them():
    real = sorted(SHARED_DATA.glob("*/*.tif")) if SHARED_DATA.is_dir() else []
    for path in [SAMPLE, *real]:
        fast = read_image(path)
        assert isinstance(fast.data, TiffStack), path.name
        _same(fast, read_image(path, reader="bioio"))
    if not real:
        pytest.skip(f"real test data not found under {SHARED_DATA}; only the bundled sample was compared")


def test_layouts_the_fast_path_does_not_take_go_to_bioio(tmp_path):
    rgb = tmp_path / "rgb.tif"
    tifffile.imwrite(rgb, _stack((8, 9, 3), np.uint8), photometric="rgb")
    invalid = _ome_xml(tmp_path, "zero_size.ome.tif", 'PhysicalSizeX="0"', ['Name="a"'])
    for path in (rgb, invalid):
        image = read_image(path)
        assert not isinstance(image.data, TiffStack)
        _same(image, read_image(path, reader="bioio"))


def test_a_view_reads_only_the_pages_it_selects_and_indexes_like_numpy(files):
    image = read_image(files["imagej TZCYX"], timepoint=1)  # file order T, Z, C: pages are not C-major
    data, whole = image.data, np.asarray(image.data)
    assert whole.shape == (4, 3, 16, 12)
    keys = [
        1,
        -1,
        (2, 1),
        (slice(None), 2),
        (slice(1, None, 2), slice(None, None, -1)),
        (Ellipsis, 3),
        (0, Ellipsis, slice(2, 9), slice(None, None, 3)),
        (1, 2, 5),
        (1, 2, 5, 6),
        (slice(None), 0, slice(4, 12)),
        np.array([2, 0]),  # fancy: read, then indexed
    ]
    for key in keys:
        np.testing.assert_array_equal(np.asarray(data[key]), whole[key], err_msg=repr(key))
    view = data[2][1:3][:, 4:10][..., ::2]  # views of views
    np.testing.assert_array_equal(np.asarray(view), whole[2][1:3][:, 4:10][..., ::2])
    # channel 2 of time point 1: pages t·(Z·C) + z·C + c of the file's T, Z, C order
    assert page_indices(data[2]) == [1 * 12 + z * 4 + 2 for z in range(3)]
    with pytest.raises(IndexError):
        data[4]
    with pytest.raises(IndexError):
        data[0, 0, 0, 0, 0]


def test_pages_are_read_when_indexed_not_when_opened(files, monkeypatch):
    from microscope_qc import tiff_reader

    read: list[int] = []
    real = tiff_reader._Pages.read

    def counting(self, pages, out):
        read.extend(int(p) for p in pages)
        real(self, pages, out)

    monkeypatch.setattr(tiff_reader._Pages, "read", counting)
    image = read_image(files["two series"], scene=1)
    assert read == []
    np.asarray(image.data[0, 3])
    assert read == [3]


def test_a_damaged_page_fails_when_read_as_a_damaged_file(tmp_path):
    from microscope_qc.file_check import is_damaged_data_error

    path = tmp_path / "corrupt.tif"
    tifffile.imwrite(path, _stack((3, 32, 32)), photometric="minisblack", compression="zlib", metadata=None)
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[1].dataoffsets[0]
    raw = bytearray(path.read_bytes())
    raw[offset + 2 : offset + 40] = b"\xff" * 38
    path.write_bytes(bytes(raw))
    image = read_image(path)
    np.asarray(image.data[0, 0])  # an intact page reads
    with pytest.raises(Exception) as info:
        np.asarray(image.data[0, 1])
    assert is_damaged_data_error(info.value)


MEMORY_SCRIPT = """
import gc, sys
import numpy as np
import tifffile
from microscope_qc.analysis.psf import PSFSettings, analyze_psf
from microscope_qc.instrument import MicroscopeSettings
from microscope_qc.io import read_image
from microscope_qc.samples import BeadSampleSpec, make_bead_stack, psf_beads_sample
import microscope_qc.volume

if sys.argv[3] == "lazy":
    microscope_qc.volume.EAGER_BYTES = 0  # never read whole

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

spec = BeadSampleSpec(shape=(128, 768, 768), n_beads=40, seed=1, z_margin_um=2.5)
tifffile.imwrite(sys.argv[1], make_bead_stack(spec).data, photometric="minisblack")
md = psf_beads_sample().metadata
ms = (
    MicroscopeSettings()
    .with_values(modality="widefield", na=spec.na, immersion_index=spec.immersion_index,
                 voxel_size_um=spec.voxel_size_um)
    .with_wavelengths(md["wavelength_ex_nm"], md["wavelength_em_nm"])
)
small = psf_beads_sample()
analyze_psf(small.data, PSFSettings(microscope=ms))  # once: imports, BLAS and FFT buffers
del small
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # restart the peak (VmHWM) from here
before = status("VmRSS:")
image = read_image(sys.argv[1], reader=sys.argv[2])
result = analyze_psf(image.data, PSFSettings(microscope=ms))
accepted = int((result.beads["status"] == "accepted").sum())
print((status("VmHWM:") - before) / image.data.nbytes, accepted)
"""


@pytest.mark.slow
@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to measure peak memory"
)
@pytest.mark.parametrize(("policy", "most"), [("lazy", 0.7), ("default", 1.3)])
def test_analysing_a_stack_holds_it_once(tmp_path, policy, most):
    """Peak memory of reading and analysing a 144 MiB stack, over the stack's size, in a fresh process.

    The bioio path held the channel twice (its dask chunk and the numpy copy) and the averaged bead
    held every bead's box twice (3.4× measured on this stack). Read lazily, the analysis takes a
    block of planes at a time and keeps only the bead columns (microscope_qc.volume): 0.1×
    measured. By default a stack this small is read whole once, which is faster (one read instead
    of passes): 1.23× measured, within the 1.3× the stack may cost.
    """
    path = tmp_path / "beads.tif"
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(path), "auto", policy],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{REPO / 'src'}:{REPO}", "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=600,
    )
    ratio, accepted = out.stdout.split()
    assert int(accepted) >= 36
    assert float(ratio) <= most, f"peak memory {float(ratio):.2f}× the stack"


def test_uncompressed_pages_are_read_as_bytes_and_agree_with_tifffile(files):
    """Contiguous uncompressed pages are read straight from the file, in runs, byte order kept."""
    for name in ("plain CZYX", "big-endian", "bigtiff float32", "imagej ZYX 8-bit", "zlib, tiled"):
        data = read_image(files[name]).data
        contiguous = data._pages.offset is not None
        assert contiguous == (name != "zlib, tiled"), name
        with tifffile.TiffFile(files[name]) as tif:
            want = tif.series[0].asarray()
        whole = np.asarray(data)
        np.testing.assert_array_equal(whole.ravel(), want.ravel(), err_msg=name)
        np.testing.assert_array_equal(np.asarray(data[..., 1:3, :]), whole[..., 1:3, :], err_msg=name)
        np.testing.assert_array_equal(np.asarray(data[:, ::-1]), whole[:, ::-1], err_msg=name)
        crop = data[..., 2:7, 1:5][..., 1:4, ::-2]  # only rows 3 to 5 of each page are read
        np.testing.assert_array_equal(np.asarray(crop), whole[..., 2:7, 1:5][..., 1:4, ::-2], err_msg=name)
        assert crop._rows == (3, 6)
